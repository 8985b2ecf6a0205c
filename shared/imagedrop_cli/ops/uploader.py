"""Resumable, parallel uploads with oss2: the checkpoint lets an interrupted push continue where it
stopped (only the missing parts are sent again), and CRC64 is checked on every part and object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from imagedrop.cloud.oss_errors import translate_oss_error
from imagedrop.errors import PermanentCloudError

from .exit_codes import CLOUD_ERROR, OpsError

MIN_PART_SIZE = 100 * 1024          # OSS refuses smaller parts (except the last)
DEFAULT_PART_SIZE = 16 * 1024 * 1024
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class UploadSettings:
    part_size: int = DEFAULT_PART_SIZE
    threads: int = 4
    checkpoint_dir: Path = Path(".imagedrop-push")
    retries: int = 2                  # whole-file attempts after the first; each resumes


def check_settings(settings: UploadSettings) -> list[str]:
    problems = []
    if settings.part_size < MIN_PART_SIZE:
        problems.append(f"--part-size {settings.part_size}: OSS parts are at least {MIN_PART_SIZE} bytes "
                        "(100 KiB); use a larger part size")
    if not 1 <= settings.threads <= 64:
        problems.append(f"--threads {settings.threads}: use 1 to 64 parallel part uploads")
    return problems


def upload_file(bucket: Any, key: str, path: Path, settings: UploadSettings,
                progress: Progress | None = None) -> str:
    """Upload `path` to `key`, resuming from the checkpoint when one exists; returns the ETag."""
    import oss2

    store = oss2.ResumableStore(root=str(settings.checkpoint_dir.resolve()), dir="checkpoints")
    last_error: Exception | None = None
    for _ in range(settings.retries + 1):
        try:
            result = oss2.resumable_upload(
                bucket, key, str(path), store=store, multipart_threshold=settings.part_size,
                part_size=settings.part_size, num_threads=settings.threads, progress_callback=progress)
            return (result.etag or "").strip('"')
        except oss2.exceptions.InconsistentError as exc:  # CRC64 mismatch: never keep a corrupt object
            raise OpsError(f"{path}: CRC64 of the uploaded data does not match ({exc.request_id}); "
                           "run the push again", CLOUD_ERROR) from None
        except oss2.exceptions.ServerError as exc:
            if _permanent(exc, key):
                raise OpsError(f"oss://{bucket.bucket_name}/{key}: {exc.code}: {exc.message}; "
                               "check the bucket name and that your credentials may write to it",
                               CLOUD_ERROR) from None
            last_error = exc
        except (oss2.exceptions.RequestError, OSError) as exc:
            last_error = exc
    raise OpsError(f"{path}: upload to oss://{bucket.bucket_name}/{key} interrupted "
                   f"({_short(last_error)}); run the same command again to resume from the checkpoint "
                   f"in {settings.checkpoint_dir}", CLOUD_ERROR)


def put_small(bucket: Any, key: str, data: bytes, *, content_type: str = "application/json",
              attempts: int = 3) -> str:
    import oss2

    last_error: Exception | None = None
    for _ in range(attempts):
        try:
            return (bucket.put_object(key, data, headers={"Content-Type": content_type}).etag or "").strip('"')
        except oss2.exceptions.ServerError as exc:
            if _permanent(exc, key):
                raise OpsError(f"oss://{bucket.bucket_name}/{key}: {exc.code}: {exc.message}",
                               CLOUD_ERROR) from None
            last_error = exc
        except oss2.exceptions.RequestError as exc:
            last_error = exc
    raise OpsError(f"oss://{bucket.bucket_name}/{key}: could not write ({_short(last_error)}); "
                   "check the endpoint and try again", CLOUD_ERROR)


def _permanent(exc: Exception, key: str) -> bool:
    """OSS refused for good (retrying cannot help), as the pipeline's translation judges it."""
    return isinstance(translate_oss_error(exc, key), PermanentCloudError)


def _short(exc: Exception | None) -> str:
    if exc is None:
        return "unknown error"
    from .net_errors import network_reason

    reason = network_reason(exc)
    if reason:
        return reason
    text = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {str(text).splitlines()[0][:160]}"
