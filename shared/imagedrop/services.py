"""The adapters one invocation works with, built lazily from settings and credentials.

A handler builds `Services` once per container (credentials from an FC role are refreshed by the
platform; the cache key includes them). Nothing here imports an SDK until it is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .cloud.credentials import Credentials
from .config import Settings

if TYPE_CHECKING:
    from imagedrop_disk.model import Inspection
    from imagedrop_disk.source import ByteSource

    from .notify import Notifier, Routes
    from .ports import Bucket, Images, Messages


def _inspect(source: "ByteSource") -> "Inspection":
    from imagedrop_disk import inspect

    return inspect(source)


@dataclass
class Services:
    settings: Settings
    credentials: Credentials
    clock: Callable[[], float] = time.time
    inspect: Callable[["ByteSource"], "Inspection"] = _inspect
    _stores: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def wired(cls, settings: Settings, *, buckets: dict[str, "Bucket"], ecs: "Images",
              mns: "Messages", clock: Callable[[], float] = time.time,
              inspect: Callable[["ByteSource"], "Inspection"] = _inspect) -> "Services":
        """Services over adapters given ready-made (in-memory fakes in the flow tests)."""
        services = cls(settings, Credentials("", ""), clock=clock, inspect=inspect,
                       _stores=dict(buckets))
        services.__dict__.update(ecs=ecs, mns=mns)  # what the cached properties would build
        return services

    def store(self, bucket: str) -> "Bucket":
        if bucket not in self._stores:
            from .cloud.oss_store import ObjectStore, default_oss_endpoint

            endpoint = self.settings.oss_endpoint or default_oss_endpoint(self.settings.region)
            self._stores[bucket] = ObjectStore(bucket, endpoint=endpoint, credentials=self.credentials,
                                               attempts=self.settings.api_attempts)
        return self._stores[bucket]

    @cached_property
    def ecs(self) -> "Images":
        from .cloud.ecs_api import EcsApi

        return EcsApi(self.settings.region, credentials=self.credentials,
                      endpoint=self.settings.ecs_endpoint, attempts=self.settings.api_attempts)

    @cached_property
    def mns(self) -> "Messages":
        from .cloud.mns_queue import Mns

        return Mns(self.settings.mns_endpoint, credentials=self.credentials,
                   attempts=self.settings.api_attempts)

    @cached_property
    def notifier(self) -> "Notifier":
        from .notify import Notifier

        topic = self.settings.topic
        publish = (lambda body, tag: self.mns.publish(topic, body, tag)) if topic else None
        return Notifier(self.settings, publish, routes=self.routes)

    def routes(self, bucket: str) -> "Routes":
        """The routes file of `bucket`, read again at most once per invocation."""
        from .notify import RoutesSource

        sources: dict[str, RoutesSource] = self.__dict__.setdefault("_routes", {})
        if bucket not in sources:
            sources[bucket] = RoutesSource(self.store(bucket), self.settings.state_prefix)
        return sources[bucket].current()

    def new_invocation(self) -> None:
        for source in self.__dict__.get("_routes", {}).values():
            source.new_invocation()


_CACHE: dict[tuple[Any, ...], Services] = {}


def services_for(context: Any, env: Mapping[str, str]) -> Services:
    """The container's `Services` for this invocation's credentials, region and settings; `env` is
    the function's environment (`config.function_environment`), which the settings are read from."""
    from .cloud.credentials import credentials_from
    from .config import load_settings, read_env

    creds = credentials_from(context, env)
    region = getattr(context, "region", None)
    account = getattr(context, "account_id", None)
    # FC contexts have no clock; the local runtime passes its emulated one so that the functions
    # and the emulated cloud agree on the time.
    clock = getattr(context, "clock", None) or time.time
    key = (creds, region, account, tuple(sorted(read_env(env).items())), clock)
    services = _CACHE.get(key)
    if services is None:  # held here, not looked up again: a twin instance may clear the cache
        services = Services(load_settings(env, region=region, account_id=account), creds, clock=clock)
        _CACHE.clear()  # expired STS credentials are of no further use
        _CACHE[key] = services
    services.new_invocation()
    return services
