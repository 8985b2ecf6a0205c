"""The adapters the flows work through, as small protocols.

`cloud/` holds the implementations over the real SDKs; tests hand the flows in-memory fakes of the
same shape (tests/flows/fakes.py), so every branch of ingest and poll runs without HTTP. A method
raises `RetryableCloudError` or `PermanentCloudError` (errors.py) for what the cloud answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from imagedrop_disk.source import ByteSource

    from .decide.repair_track import ExecutionView
    from .decide.ecs_answers import ImageView, TaskView


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str = ""
    storage_class: str = ""
    last_modified: int = 0  # epoch seconds; 0 when unknown
    restore: str = ""       # x-oss-restore of an archived object: where its restore stands

    @property
    def version(self) -> str:
        return object_version(self.etag, self.last_modified)


def object_version(etag: str, last_modified: int) -> str:
    """One upload of an object: the same bytes uploaded again are another version, a redelivered
    event of the same upload is not."""
    return f"{etag}@{last_modified}" if last_modified else etag


class Bucket(Protocol):
    """One OSS bucket: the objects the producers drop, and the pipeline's own state."""

    def head(self, key: str) -> ObjectInfo | None: ...

    def read(self, key: str, offset: int, length: int) -> bytes: ...

    def get_small(self, key: str, limit: int = ...) -> bytes | None: ...

    def get_json(self, key: str) -> Any | None: ...

    def put(self, key: str, data: bytes | str, content_type: str = ...) -> None: ...

    def put_if_absent(self, key: str, data: bytes | str) -> bool:
        """True when this call created the object; False when it existed already."""
        ...

    def delete(self, key: str) -> None: ...

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

    def delete_image(self, image_id: str) -> None: ...

    # The repair (ECS Image Builder)
    def create_image_pipeline(self, base_image_id: str, *, items: list[str], name_prefix: str,
                              token: str, description: str | None = None,
                              tags: list[tuple[str, str]] | None = None,
                              instance_type: str | None = None,
                              vswitch_id: str | None = None) -> str: ...

    def start_image_pipeline_execution(self, pipeline_id: str, *, token: str) -> str: ...

    def describe_image_pipeline_execution(self, pipeline_id: str,
                                          execution_id: str) -> "ExecutionView | None":
        """None when the build is gone (its template deleted)."""

    def cancel_image_pipeline_execution(self, execution_id: str) -> None: ...

    def delete_image_pipeline(self, pipeline_id: str) -> None: ...


class Messages(Protocol):
    """MNS: the poller's queue and the notification topic."""

    def send(self, queue: str, body: str, delay_seconds: int = 0) -> str: ...

    def publish(self, topic: str, body: str, tag: str = "") -> str: ...
