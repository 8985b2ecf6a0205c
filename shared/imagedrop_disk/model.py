"""What an inspection tells: the object `imagedrop inspect --json` prints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .facts.model import Finding, GuestFacts

DiskFormat = Literal["qcow2", "vmdk", "vhd", "raw", "vhdx", "vdi", "iso"]
PartitionTable = Literal["gpt", "mbr", "none"]
BootMode = Literal["UEFI", "BIOS", "UEFI-Preferred"]
OsType = Literal["linux", "windows"]

IMPORTABLE_FORMATS = ("qcow2", "vmdk", "vhd", "raw")
MAX_VIRTUAL_SIZE = 2048 * 1024**3


class Inspection(BaseModel):
    format: DiskFormat
    virtual_size: int = Field(description="bytes the guest sees")
    file_size: int = Field(description="bytes of the image file (the OSS object)")
    partition_table: PartitionTable = "none"
    boot_mode: BootMode | None = None
    os_type: OsType | None = None
    importable: bool
    problems: list[str] = Field(default_factory=list)
    bytes_read: int = 0
    reads: int = 0
    details: dict[str, object] = Field(default_factory=dict,
                                       description="container facts: version, cluster size, subformat…")
    guest: GuestFacts | None = Field(None, description="what the guest's own files say; null "
                                                       "when no file system could be read")
    findings: list[Finding] = Field(default_factory=list,
                                    description="the image-check risks the guest facts predict")
