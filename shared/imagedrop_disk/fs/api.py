"""What every file-system reader offers the guest inspection.

A reader module (`ext4`, `xfs`, `btrfs`, `ntfs`) exposes `open_fs(volume) -> FileSystem | None`:
None when the volume does not carry that file system's magic, a `FileSystem` when it does, and
`FsCorrupt` when the magic matches but a structure it needs is impossible. Readers never read a
whole file, directory or table into memory: every walk is bounded by the limits below, and every
byte goes through `Volume.read`, which the inspection backs with a block cache and a read budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

NodeKind = Literal["file", "dir", "symlink", "other"]

MAX_NAME = 255                 # bytes in one directory entry's name
MAX_DIR_ENTRIES = 4096         # entries a listing returns at most (the rest is cut, not an error)
MAX_DIR_BLOCKS = 256           # directory blocks one lookup or listing visits at most
MAX_EXTENTS = 4096             # extents or runs one file's map may have before it is corrupt
MAX_TREE_DEPTH = 8             # b-tree levels before a tree is corrupt (loops end here too)
MAX_SYMLINK = 4096             # bytes of a symlink target


class Volume(Protocol):
    """The bytes of one partition or logical volume, from its first byte."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset`; fewer only at the end of the volume."""
        ...


@dataclass(frozen=True)
class Node:
    """One inode (or MFT record, or btrfs (tree, objectid)) as the reader addresses it."""

    ref: object                 # the reader's own address; opaque to everyone else
    kind: NodeKind
    size: int                   # bytes of content (for a symlink: its target's length)


def entry_name(directory: Node, name: str) -> bytes | None:
    """`name` as a directory entry stores it; None when no entry of `directory` can bear it
    (empty, over MAX_NAME bytes, holding "/", or `directory` is not a directory)."""
    wanted = name.encode("utf-8", "surrogateescape")
    if not wanted or len(wanted) > MAX_NAME or "/" in name or directory.kind != "dir":
        return None
    return wanted


class FileSystem(Protocol):
    kind: str                   # "ext2", "ext3", "ext4", "xfs", "btrfs", "ntfs"
    uuid: str | None            # as fstab's UUID= names it (lowercase, dashed; NTFS: 16 hex)
    label: str | None
    case_sensitive: bool        # False for NTFS

    def root(self) -> Node: ...

    def lookup(self, directory: Node, name: str) -> Node | None:
        """The entry `name` of `directory`, or None. Raises FsCorrupt, BudgetExceeded."""
        ...

    def entries(self, directory: Node, limit: int = MAX_DIR_ENTRIES) -> list[str]:
        """Up to `limit` names in `directory` (no "." or ".."), in on-disk order."""
        ...

    def read(self, node: Node, offset: int, length: int) -> bytes:
        """Up to `length` bytes of the file's content at `offset`; holes read as zeros."""
        ...

    def readlink(self, node: Node) -> str:
        """A symlink's target, as stored (relative or absolute)."""
        ...


class GuestFiles(Protocol):
    """The guest's files as its running system would see them: the root file system with /boot
    (and the like) mounted where fstab puts them, symlinks followed inside the image (absolute
    targets from the guest's root, at most 40 hops).

    It never raises for what the image holds: a missing file, a corrupt structure or a spent
    budget reads as None, and `notes` says which path could not be read and why.
    """

    notes: list[str]

    def read_text(self, path: str, limit: int = 64 * 1024) -> str | None:
        """The first `limit` bytes of a file, decoded as UTF-8 with replacement; None if absent."""
        ...

    def read_bytes(self, path: str, offset: int, length: int) -> bytes | None: ...

    def listdir(self, path: str, limit: int = MAX_DIR_ENTRIES) -> list[str] | None:
        """Names in a directory (symlinks followed), None if it is absent or not a directory."""
        ...

    def kind(self, path: str) -> NodeKind | None:
        """What `path` is after following symlinks; None if absent."""
        ...
