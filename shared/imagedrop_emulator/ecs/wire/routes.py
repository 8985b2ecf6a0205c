"""Which ECS action a request names, and the checks made before any action runs: the action in
`x-acs-action` (or `Action=` for classic clients) and the API version."""

from __future__ import annotations

from typing import Iterable

from ...core import ServiceError, WireRequest

VERSION = "2014-05-26"


def action_of(req: WireRequest) -> str:
    action = req.header("x-acs-action") or req.param_dict().get("Action", "")
    if not action:
        raise ServiceError(400, "MissingParameter",
                           'An input parameter "Action" that is mandatory for processing the request '
                           "is not supplied: send it in the x-acs-action header.")
    return action


def check_version(version: str) -> None:
    if version != VERSION:
        raise ServiceError(400, "InvalidVersion",
                           f"Specified parameter Version is not valid: {version!r}; ECS is {VERSION}.")


def unknown_action(action: str, known: Iterable[str]) -> ServiceError:
    return ServiceError(404, "InvalidAction.NotFound",
                        f"Specified api is not found, please check your url and method: {action!r} "
                        f"is not an ECS action this emulator answers ({', '.join(sorted(known))}).")
