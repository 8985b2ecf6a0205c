"""Steps the ECS operations here (import, images, Image Builder) all take the same way: the
ClientToken replay, the DryRun answer, and finding a resource by id in one region."""

from __future__ import annotations

from typing import Callable, Mapping, Protocol, TypeVar

from ...core import ServiceError
from . import rules

Tokens = dict[tuple[str, str, str], dict[str, str]]


class Regional(Protocol):
    region: str


R = TypeVar("R", bound=Regional)


def client_token(params: Mapping[str, str]) -> str:
    token = params.get("ClientToken", "")
    rules.check_client_token(token)
    return token


def replayed(tokens: Tokens, region: str, action: str, token: str) -> dict[str, str] | None:
    """The answer the first call with this ClientToken got: a retry makes nothing new."""
    if token and (region, action, token) in tokens:
        return dict(tokens[(region, action, token)])
    return None


def remember(tokens: Tokens, region: str, action: str, token: str,
             answer: Mapping[str, str]) -> None:
    if token:
        tokens[(region, action, token)] = dict(answer)


def in_region(table: Mapping[str, R], key: str, region: str,
              not_found: Callable[[str], ServiceError]) -> R:
    found = table.get(key)
    if found is None or found.region != region:
        raise not_found(key)
    return found
