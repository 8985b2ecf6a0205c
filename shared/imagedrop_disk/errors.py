"""Every error the disk library raises, in one tree; the library stands alone, so its errors do too.

DiskError                  raised as itself: the image is refused (one line for a person)
├── CorruptImage           a container's tables point somewhere impossible (qcow2, vmdk, vhd)
├── GuestUnreadable        the guest's clusters need a codec that is not installed
├── BudgetExceeded         reading the guest further would pass the inspection's read budget
│   └── WorkExceeded       the inspection (or a fact's share of it) did all the work it may do
├── FsCorrupt              a file system's own structures point somewhere impossible
│   ├── MissingCodec       a Btrfs extent needs a codec that is not installed
│   └── NtfsUnsupported    sound NTFS content this reader does not decode (compressed, encrypted)
├── Unresolved             a guest path cannot be followed (a symlink loop, too many components)
├── HiveCorrupt            a Windows registry hive's cells point somewhere impossible
├── LzoError               an LZO stream is malformed or decodes past its limit (also a ValueError)
├── InitrdUndecided        an initramfs's table of contents was read without an answer
├── ZstdMissing            the optional `zstandard` module is not installed
└── ZstdCorrupt            a zstd frame does not decode, or asks for too large a window

Only `DiskError` itself leaves `inspect`: the readers' subclasses are caught inside the library
and become a refusal (a corrupt container) or a note (an unreadable file, path or hive).
"""

from __future__ import annotations


class DiskError(Exception):
    """The bytes are not a disk image we understand; the message is one line for a person."""


class CorruptImage(DiskError):
    """The container's header was understood but its tables point somewhere impossible."""


class GuestUnreadable(DiskError):
    """The guest's bytes cannot be decoded here (e.g. zstd without the optional module)."""


class BudgetExceeded(DiskError):
    """Reading further would pass the inspection's read budget (reads or bytes)."""


class WorkExceeded(BudgetExceeded):
    """The inspection (or the share of it a fact was given) did all the work it may do: lookups,
    symlink hops, directory entries scanned or bytes decompressed."""


class FsCorrupt(DiskError):
    """The file system's own structures point somewhere impossible; the message says where."""


class MissingCodec(FsCorrupt):
    """The extent is compressed with a codec this installation lacks (zstd without the extra).
    A subclass of FsCorrupt so that callers treat it the same way: that file reads as unknown."""


class NtfsUnsupported(FsCorrupt):
    """The structure is sound but its content needs what this reader does not do (not corrupt)."""


class Unresolved(DiskError):
    """A path cannot be followed; the message says why (it becomes a note)."""


class HiveCorrupt(DiskError):
    """The hive's structures point somewhere impossible; the message names the cell and rule."""


class LzoError(DiskError, ValueError):
    """The stream is malformed, truncated, or decodes to more than the limit. Also a ValueError:
    the readers count a ValueError from hostile bytes as "unreadable"."""


class InitrdUndecided(DiskError):
    """Reading an initramfs's table of contents stopped before an answer; the message says why
    (its budget, a codec, a broken archive)."""


class ZstdMissing(DiskError):
    """The optional `zstandard` module is not installed."""


class ZstdCorrupt(DiskError):
    """The frame does not decode (or asks for more memory than any disk needs)."""
