"""`CloudEnv`: what a service backend or wire layer may ask of the cloud it runs in.

Services depend on this protocol, never on `cloud.FakeCloud`, which implements it: the account
and its regions, the emulated clock, the event pump for later deliveries, the credentials the
wire layers accept, and OSS's objects for services that read them (ECS imports).
"""

from __future__ import annotations

from typing import Any, Protocol

from .clock import Clock
from .credentials import CredentialStore
from .pump import EventPump


class StoredObject(Protocol):
    @property
    def size(self) -> int: ...

    @property
    def storage_class(self) -> str: ...


class ObjectStore(Protocol):
    """The reads of OSS another service makes; each raises OSS's `ServiceError` when refused."""

    def bucket_region(self, bucket: str) -> str: ...

    def get_object(self, bucket: str, key: str) -> StoredObject: ...

    def read_object(self, bucket: str, key: str) -> StoredObject: ...

    def open_source(self, bucket: str, key: str) -> Any:
        """Random-access reads over the object's bytes (an `imagedrop_disk.ByteSource`)."""


class CloudEnv(Protocol):
    region: str                 # the home region
    regions: tuple[str, ...]    # every region the account may use, home first
    account_id: str
    clock: Clock
    pump: EventPump
    credentials: CredentialStore

    @property
    def object_store(self) -> ObjectStore | None:
        """OSS, when this cloud runs it."""
