"""Routes: which team's channels hear of which imports, from the bucket's `routes.json`.

An import belongs to the route whose `prefix` is the longest that its manifest key starts with
(at most one). The route's channels get its imports' events in its `states`; its name becomes the
MNS message tag of those events. Only operators write the file: it holds URLs and secrets
(docs/trust-model.md).
"""

from __future__ import annotations

import json
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..model.status import State
from .channels import PLUGINS, HttpChannel, Target
from .channels.dingtalk import DingTalkTarget
from .channels.lark import LarkTarget
from .channels.slack import SlackTarget
from .channels.teams import TeamsTarget
from .channels.webhook import WebhookTarget

ROUTES_FILE = "routes.json"
ALL_STATES: tuple[str, ...] = get_args(State)


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,16}$",
                      description="1-16 letters, digits, - or _: the MNS message tag of its events")
    prefix: str = Field(min_length=1, description="the folder (key prefix) whose manifests it routes")
    states: list[State] = Field(default_factory=lambda: list(ALL_STATES),
                                description="the states its channels hear of (default: all)")
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    dingtalk: DingTalkTarget | None = None
    slack: SlackTarget | None = None
    lark: LarkTarget | None = None
    teams: TeamsTarget | None = None

    @field_validator("name")
    @classmethod
    def _not_a_state(cls, value: str) -> str:
        if value in ALL_STATES:
            raise ValueError(f"{value!r} is a state's name, which untagged subscribers filter on; "
                             "name the route after its team")
        return value

    def wants(self, state: str) -> bool:
        return state in self.states

    def channels(self) -> list[HttpChannel]:
        out: list[HttpChannel] = []
        for plugin in PLUGINS:
            value = getattr(self, plugin.key)
            targets: list[Target] = value if isinstance(value, list) else [value] if value else []
            out += [plugin.channel(target) for target in targets]
        return out


class Routes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: list[Route] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> "Routes":
        for field in ("name", "prefix"):
            seen: set[str] = set()
            for route in self.routes:
                value = getattr(route, field)
                if value in seen:
                    raise ValueError(f"two routes have the {field} {value!r}; each route needs its own")
                seen.add(value)
        return self

    def route_for(self, key: str) -> Route | None:
        """The route with the longest prefix `key` starts with, or None."""
        matches = [route for route in self.routes if key.startswith(route.prefix)]
        return max(matches, key=lambda route: len(route.prefix), default=None)


class RoutesError(ValueError):
    """A routes file that cannot be used: the message names each field, the rule and the fix."""


def parse_routes(raw: bytes | str | dict[str, Any], where: str = ROUTES_FILE) -> Routes:
    try:
        data = raw if isinstance(raw, dict) else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RoutesError(f"{where}: not JSON ({exc}); expected {{\"routes\": [...]}}") from None
    try:
        return Routes.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            place = ".".join(str(p) for p in err["loc"]) or "routes file"
            what = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                what = "is not a field of a route (check its spelling)"
            elif err["type"] == "string_pattern_mismatch" and err["loc"][-1] == "name":
                what = "must be 1-16 letters, digits, - or _ (it becomes the MNS message tag); rename it"
            lines.append(f"{place}: {what}")
        raise RoutesError(f"{where}: " + "; ".join(lines)) from None
