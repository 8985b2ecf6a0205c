"""Plain state of the fake ECS: images, their disks, and the tasks that create them.

Status moves with the emulated clock: `FakeImportTask.refresh(now)` and
`FakeImage.refresh(now)` settle what a describe call at `now` sees (moto's ManagedState idea).
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagedrop_disk import Inspection

GIB = 1024**3
# The two letters real IDs carry for a region (m-bp…, m-uf…); unknown regions use their initials.
REGION_SHORT = {"cn-hangzhou": "bp", "cn-shanghai": "uf", "cn-beijing": "2z", "cn-shenzhen": "wz",
                "cn-qingdao": "m5", "cn-zhangjiakou": "8v", "cn-hongkong": "j6",
                "ap-northeast-1": "6w", "ap-southeast-1": "t4", "ap-southeast-5": "k1",
                "eu-central-1": "gw", "eu-west-1": "d7", "us-west-1": "rj", "us-east-1": "0x"}

# Task statuses. `Cancelled` is what a cancelled task shows here; the real value is undocumented.
PROCESSING, FINISHED, FAILED, CANCELLED = "Processing", "Finished", "Failed", "Cancelled"
# Image statuses.
CREATING, AVAILABLE, CREATE_FAILED = "Creating", "Available", "CreateFailed"


def new_id(prefix: str, region: str) -> str:
    short = REGION_SHORT.get(region) or "".join(p[0] for p in region.split("-"))[:2]
    alphabet = string.ascii_lowercase + string.digits
    return f"{prefix}-{short}{''.join(secrets.choice(alphabet) for _ in range(18))}"


def minute_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(epoch))


def second_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def percent(done: float) -> str:
    return f"{int(max(0.0, min(done, 1.0)) * 100)}%"


@dataclass
class FakeDisk:
    index: int                    # 1 = system disk, 2.. = data disks
    size_gib: int
    format: str                   # RAW | VHD | QCOW2 | VMDK ("" until known)
    bucket: str = ""
    object: str = ""
    file_size: int = 0
    inspection: "Inspection | None" = None
    snapshot_id: str = ""
    encrypted: bool = False       # CopyImage Encrypted=true encrypts the copy's snapshots

    @property
    def device(self) -> str:
        return "/dev/xvd" + "abcdefghijklmnopq"[self.index - 1]

    def copied(self, encrypted: bool) -> "FakeDisk":
        """This disk in a new image: same bytes, no snapshot until that image is Available."""
        return replace(self, snapshot_id="", encrypted=encrypted)


@dataclass
class FakeImage:
    image_id: str
    region: str
    name: str
    created_at: float
    disks: list[FakeDisk]
    description: str = ""
    architecture: str = "x86_64"
    os_type: str = "linux"
    platform: str = "Others Linux"
    boot_mode: str = "BIOS"
    license_type: str = "Auto"
    family: str = ""
    status: str = CREATING
    nvme_support: str = "unsupported"
    imds_support: str = "v1"
    tags: dict[str, str] = field(default_factory=dict)
    shared_with: list[str] = field(default_factory=list)
    detection: bool = False          # DetectionStrategy=Standard was asked
    detection_seconds: float = 0.0
    detection_items: list[dict[str, Any]] | None = None   # fixed when the check finishes
    available_at: float | None = None
    ready_at: float | None = None    # copies: when the copy completes
    copy_started_at: float | None = None
    source_image_id: str = ""
    task_id: str = ""
    resource_group_id: str = ""

    @property
    def size_gib(self) -> int:
        return self.disks[0].size_gib if self.disks else 0

    @property
    def copying(self) -> bool:
        return self.ready_at is not None and self.status == CREATING

    def progress(self, now: float) -> float:
        if self.status == AVAILABLE:
            return 1.0
        if self.ready_at is not None and self.copy_started_at is not None:
            span = max(self.ready_at - self.copy_started_at, 1e-9)
            return (now - self.copy_started_at) / span
        return 0.0

    def refresh(self, now: float) -> None:
        """Copies become Available on their own; imports follow their task."""
        if self.copying and self.ready_at is not None and now >= self.ready_at:
            self.make_available(self.ready_at)

    def make_available(self, at: float) -> None:
        self.status = AVAILABLE
        self.available_at = at
        for disk in self.disks:
            disk.snapshot_id = disk.snapshot_id or new_id("s", self.region)

    def detection_status(self, now: float) -> str:
        if self.available_at is None or now < self.available_at + self.detection_seconds:
            return "Processing"
        return "Finished"


@dataclass
class FakeImportTask:
    task_id: str
    region: str
    image_id: str
    created_at: float
    duration: float                  # seconds from start to Finished
    fail_at: float | None = None     # when set, the task fails at this time …
    error_code: str = ""             # … with this code and message
    error_msg: str = ""
    stuck_at: float | None = None    # when set, progress stops here forever (fraction 0..1)
    status: str = PROCESSING
    finished_at: float | None = None
    objects: list[str] = field(default_factory=list)
    action: str = "ImportImage"

    @property
    def ends_at(self) -> float:
        return self.created_at + self.duration

    def done_fraction(self, now: float) -> float:
        if self.status == FINISHED:
            return 1.0
        fraction = (now - self.created_at) / max(self.duration, 1e-9)
        if self.stuck_at is not None:
            fraction = min(fraction, self.stuck_at)
        if self.finished_at is not None:  # Failed/Cancelled: frozen where it stopped
            fraction = (self.finished_at - self.created_at) / max(self.duration, 1e-9)
        return max(0.0, min(fraction, 0.99))

    def remaining_seconds(self, now: float) -> int:
        if self.status != PROCESSING:
            return 0
        return max(0, int(self.ends_at - now))

    def refresh(self, now: float) -> str | None:
        """Move to Finished or Failed when their time has come; returns the new status if it moved."""
        if self.status != PROCESSING or self.stuck_at is not None:
            return None
        if self.fail_at is not None and now >= self.fail_at:
            self.status, self.finished_at = FAILED, self.fail_at
            return FAILED
        if self.fail_at is None and now >= self.ends_at:
            self.status, self.finished_at = FINISHED, self.ends_at
            return FINISHED
        return None

    @property
    def support_cancel(self) -> bool:
        return self.status == PROCESSING
