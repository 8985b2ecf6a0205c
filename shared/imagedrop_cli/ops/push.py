"""`imagedrop push` after its preflight: upload data disks, then the system disk, then the manifest
last (it completes the pair and starts the import), and say which import id to follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from imagedrop.ports import object_version
from imagedrop.decide.plan import import_id
from .push_preflight import PushPlan
from .uploader import Progress, UploadSettings, put_small, upload_file


@dataclass(frozen=True)
class Pushed:
    manifest_key: str
    objects: dict[str, str]        # key -> ETag, in upload order
    import_id: str                 # the id the ingest function will give this import
    rejected_id: str               # the id it gives a manifest it rejects before looking at the disks


def push(bucket: Any, plan: PushPlan, settings: UploadSettings,
         progress_for: Callable[[str, int], Progress | None] = lambda key, size: None) -> Pushed:
    objects: dict[str, str] = {}
    for upload in plan.uploads:
        size = upload.path.stat().st_size
        objects[upload.key] = upload_file(bucket, upload.key, upload.path, settings,
                                          progress_for(upload.key, size))
    manifest_etag = put_small(bucket, plan.manifest_key, plan.manifest_bytes)
    objects[plan.manifest_key] = manifest_etag
    # The ingest function names the import after this upload of the manifest, as HEAD shows it.
    version = object_version(manifest_etag, int(bucket.head_object(plan.manifest_key).last_modified or 0))
    disks = [(u.key, objects[u.key]) for u in plan.uploads]
    return Pushed(plan.manifest_key, objects,
                  import_id(bucket.bucket_name, plan.manifest_key, version, disks),
                  import_id(bucket.bucket_name, plan.manifest_key, version, []))
