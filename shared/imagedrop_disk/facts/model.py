"""The guest's facts and the image-check risks they predict, as `inspect --json` shows them.

Unknown is None, never a guess: a fact is set only from something read in the image.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Risk = Literal["High", "Medium", "Low"]


class OtherRoot(BaseModel):
    """A root file system besides the one the facts were read from."""

    volume: str = Field(description="where it is, e.g. 'partition 2'")
    os_type: Literal["linux", "windows"] | None = None
    distro: str | None = None
    name: str | None = None
    platform: str | None = None


class GuestFacts(BaseModel):
    os_type: Literal["linux", "windows"] | None = None
    distro: str | None = Field(None, description="os-release ID; `windows` for Windows")
    version: str | None = Field(None, description="os-release VERSION_ID; Windows 10.0.<build>")
    name: str | None = Field(None, description="os-release PRETTY_NAME; Windows ProductName")
    architecture: Literal["x86_64", "arm64", "i386"] | None = Field(
        None, description="what the programs (/bin/sh) are built for")
    kernel_architecture: Literal["x86_64", "arm64", "i386"] | None = Field(
        None, description="what the newest kernel's image is built for")
    platform: str | None = Field(None, description="the ECS ImportImage Platform value")
    kernel: str | None = Field(None, description="newest installed kernel, rescue excluded")
    root_fs: str | None = None
    virtio: bool | None = Field(None, description="the virtio disk driver is built into the "
                                                  "kernel or loadable from the initramfs, and "
                                                  "the network driver is there")
    virtio_source: str | None = Field(None, description="what decided `virtio`")
    nvme: bool | None = Field(None, description="the NVMe driver (Linux: nvme for that kernel)")
    cloud_init: bool | None = None
    fstab_root: Literal["uuid", "label", "device", "lvm", "partuuid"] | None = None
    fstab_devices: list[str] | None = Field(
        None, description="fstab entries that name a disk by a kernel device name that changes "
                          "on ECS (/dev/sd*, /dev/hd*, /dev/xvd*), as 'SPEC on MOUNTPOINT'; "
                          "null when fstab was not read")
    grub_root: Literal["uuid", "label", "device", "lvm", "partuuid"] | None = Field(
        None, description="how root= on the boot loader's kernel command line names /")
    selinux: Literal["enforcing", "permissive", "disabled"] | None = None
    dhcp: bool | None = None
    mac_pinned: bool | None = None
    serial_console: bool | None = None
    growpart: bool | None = Field(None, description="growpart is installed (grows / at boot)")
    rtc_local: bool | None = Field(None, description="the hardware clock keeps local time "
                                                     "(/etc/adjtime LOCAL); null when unsaid")
    other_roots: list[OtherRoot] = Field(
        default_factory=list, description="other systems on the disk; the facts are not theirs")
    notes: list[str] = Field(default_factory=list,
                             description="why a fact is null: what could not be read, and where")


class Finding(BaseModel):
    item: str = Field(description="the image-check item as ECS names it, e.g. GUESTOS.Virtio")
    risk: Risk
    fact: str = Field(description="what was read in the image that predicts the risk")
    fix: str = Field(description="what to change in the image, or in the manifest")
