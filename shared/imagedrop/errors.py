"""The error tree of imagedrop.

ImagedropError
├── ManifestError          a sidecar manifest that breaks a rule (carries every problem)
├── ImageSourceError       an image's bytes cannot be reached (one clear line); also an
│                          imagedrop_disk DiskError
├── ConfigError            a deployment setting that is missing or malformed
├── TransitionRefused      a status move the state machine does not allow (a bug, not input)
├── CloudError             an Alibaba Cloud API answered with an error code
│   ├── RetryableCloudError    throttling, 5xx, network: safe to retry (all calls are idempotent)
│   ├── PermanentCloudError    4xx with a code the user has to act on
│   └── imagedrop_cli.ops.fc_invoke.FcError    Function Compute, as the operator commands call it
└── imagedrop_cli.ops.exit_codes.OpsError    one line for the user and the command's exit code

A poison MNS message is not an error: `events.read_mns_event` returns it beside the good ones.
"""

from __future__ import annotations

from imagedrop_disk.errors import DiskError


class ImagedropError(Exception):
    """Root of every error imagedrop raises on purpose."""


class ManifestError(ImagedropError):
    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) or "invalid manifest")


class ImageSourceError(ImagedropError, DiskError):
    """An image's bytes cannot be reached (no such object, an archived one, a malformed
    oss:// address); the message is one line for a person.

    Also an `imagedrop_disk.DiskError`: where a disk is read, catching that one class catches both
    the library's refusals and this one."""


class ConfigError(ImagedropError):
    pass


class TransitionRefused(ImagedropError):
    """A status record asked to move where `status.ALLOWED` does not let it."""


class ImportEnded(ImagedropError):
    """A step found, right before a side effect, that the import's end is claimed: it stops."""

    def __init__(self, import_id: str, end: str):
        super().__init__(f"import {import_id} has ended ({end})")
        self.import_id, self.end = import_id, end


class CloudError(ImagedropError):
    def __init__(self, service: str, code: str, message: str, *, status: int | None = None,
                 request_id: str | None = None):
        self.service = service
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        super().__init__(f"{service} {code}: {message}")


class RetryableCloudError(CloudError):
    pass


class PermanentCloudError(CloudError):
    pass
