"""The adapters the flows work through, as small protocols.

`cloud/` holds the implementations over the real SDKs; tests hand the flows in-memory fakes of the
same shape (tests/flows/fakes.py), so every branch of ingest and poll runs without HTTP. A method
raises `RetryableCloudError` or `PermanentCloudError` (errors.py) for what the cloud answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Protocol

if TYPE_CHECKING:
    from imagedrop_disk.source import ByteSource

    from .cloud.oss_store import ObjectInfo
    from .track import ImageView, TaskView


class Bucket(Protocol):
    """One OSS bucket: the objects the producers drop, and the pipeline's own state."""

    def head(self, key: str) -> "ObjectInfo | None": ...

    def read(self, key: str, offset: int, length: int) -> bytes: ...

    def get_small(self, key: str, limit: int = ...) -> bytes | None: ...

    def get_json(self, key: str) -> Any | None: ...

    def put(self, key: str, data: bytes | str, content_type: str = ...) -> None: ...

    def put_if_absent(self, key: str, data: bytes | str) -> bool:
        """True when this call created the object; False when it existed already."""
        ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str) -> Iterator["ObjectInfo"]: ...

    def region(self) -> str: ...

    def source(self, key: str, size: int) -> "ByteSource": ...


class Images(Protocol):
    """The ECS image and task calls of the pipeline."""

    def import_image(self, params: dict[str, Any]) -> tuple[str, str]: ...

    def describe_task(self, task_id: str) -> "TaskView": ...

    def describe_image_raw(self, image_id: str, region: str | None = None) -> dict[str, Any] | None: ...

    def describe_image(self, image_id: str, region: str | None = None) -> "ImageView | None": ...

    def modify_image(self, image_id: str, attributes: dict[str, str]) -> None: ...

    def copy_image(self, image_id: str, destination: str, *, name: str, token: str,
                   tags: list[dict[str, str]] | None = None) -> str: ...

    def share_image(self, image_id: str, accounts: list[str], region: str | None = None) -> None: ...

    def cancel_task(self, task_id: str) -> None: ...


class Messages(Protocol):
    """MNS: the poller's queue and the notification topic."""

    def send(self, queue: str, body: str, delay_seconds: int = 0) -> str: ...

    def publish(self, topic: str, body: str, tag: str = "") -> str: ...
