"""Btrfs on one device, read-only: chunk map, root tree, subvolumes (the default one, by name or
id, and crossing into one along a path), inodes, directories, symlinks and file extents (inline,
regular, prealloc, holes; zlib, lzo, zstd). RAID0/10/5/6 chunks are refused (FsCorrupt)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

from ..errors import FsCorrupt
from .api import MAX_DIR_ENTRIES, MAX_SYMLINK, Node, NodeKind, Volume, entry_name
from .btrfs_data import INLINE, FileExtent, decompress, dir_items, parse_extent
from .btrfs_tree import (SUPER_OFFSET, Key, Trees, bootstrap_chunks, parse_superblock,
                         read_chunk_tree)
from ..work import work_of
from .crc32c import btrfs_name_hash
from .limits import MAX_READ

INODE_ITEM, INODE_REF, DIR_ITEM, DIR_INDEX, EXTENT_DATA = 1, 12, 84, 96, 108
ROOT_ITEM, ROOT_BACKREF, ROOT_REF = 132, 144, 156
ROOT_TREE, FS_TREE, ROOT_TREE_DIR = 1, 5, 6
U64 = 2**64 - 1
KINDS: dict[int, NodeKind] = {0o100000: "file", 0o040000: "dir", 0o120000: "symlink"}
MAX_SUBVOL_DEPTH = 40          # path components when opening a subvolume by path
MAX_SUBVOLUMES = 256           # subvolumes one listing returns (snapshots can be many)
SYSTEM_CANDIDATES = 16         # subvolumes open_system looks into for etc/


@dataclass(frozen=True)
class Root:
    tree: int
    bytenr: int
    level: int
    dirid: int


def open_fs(volume: Volume, subvol: str | None = None,
            subvolid: int | None = None) -> BtrfsFileSystem | None:
    """The file system with its default subvolume as root, or the one fstab's `subvol=` (a path
    from the top level) or `subvolid=` names."""
    if volume.size < SUPER_OFFSET + 4096:
        return None
    sb = parse_superblock(volume.read(SUPER_OFFSET, 4096))
    if sb is None:
        return None
    trees = Trees(volume, sb, bootstrap_chunks(sb))
    read_chunk_tree(trees)
    fs = BtrfsFileSystem(trees, FS_TREE)
    if subvolid is not None:
        return fs.subvolume(subvolid)
    if subvol is not None:
        return fs.subvolume_at(subvol)
    return fs.subvolume(fs.default_subvolume())


def open_system(volume: Volume) -> BtrfsFileSystem | None:
    """The subvolume that holds an installed system, for a caller that has no fstab yet: the
    default subvolume when its top has `etc`, else the first subvolume (parents first, so `@`
    before its snapshots) that has it, else the default. Ubuntu keeps `/` in `@` and leaves the
    default at the top level; Fedora uses `root`; openSUSE sets the default to a snapshot."""
    fs = open_fs(volume)
    if fs is None or _has_etc(fs):
        return fs
    for tree, _path in fs.subvolumes(limit=SYSTEM_CANDIDATES):
        candidate = fs.subvolume(tree)
        if _has_etc(candidate):
            return candidate
    return fs


def _has_etc(fs: BtrfsFileSystem) -> bool:
    found = fs.lookup(fs.root(), "etc")
    return found is not None and found.kind == "dir"


class BtrfsFileSystem:
    kind = "btrfs"
    case_sensitive = True

    def __init__(self, trees: Trees, tree: int, roots: dict[int, Root] | None = None):
        self.trees, self.sb = trees, trees.sb
        self.work = work_of(trees.volume)
        self.uuid: str | None = trees.sb.uuid
        self.label: str | None = trees.sb.label
        self.tree = tree
        self._roots = roots if roots is not None else {}
        self._decoded: dict[int, bytes] = {}   # disk_bytenr → decoded prefix

    # --- trees and subvolumes -------------------------------------------------------------
    def _root(self, tree: int) -> Root:
        if tree not in self._roots:
            if len(self._roots) > 256:
                self._roots.clear()
            found = None
            for key, body in self.trees.items(self.sb.root, self.sb.root_level,
                                              (tree, ROOT_ITEM, 0), (tree, ROOT_ITEM, U64)):
                found = body
            if found is None or len(found) < 239:
                raise FsCorrupt(f"btrfs: no root item for tree {tree}")
            dirid, bytenr = struct.unpack_from("<QQ", found, 168)
            self._roots[tree] = Root(tree, bytenr, found[238], dirid)
        return self._roots[tree]

    def _items(self, tree: int, lo: Key, hi: Key,
               with_previous: bool = False) -> Iterator[tuple[Key, bytes]]:
        root = self._root(tree)
        return self.trees.items(root.bytenr, root.level, lo, hi, with_previous)

    def default_subvolume(self) -> int:
        """The tree id `btrfs subvolume set-default` chose (5, the top level, when unset)."""
        for _key, body in self.trees.items(self.sb.root, self.sb.root_level,
                                           (ROOT_TREE_DIR, DIR_ITEM, btrfs_name_hash(b"default")),
                                           (ROOT_TREE_DIR, DIR_ITEM,
                                            btrfs_name_hash(b"default"))):
            for name, location, _ftype in dir_items(body, "btrfs root tree directory"):
                if name == b"default":
                    return location[0]
        return FS_TREE

    def subvolume(self, tree: int) -> BtrfsFileSystem:
        """The same file system with subvolume `tree` (an id) as its root."""
        if tree != FS_TREE and not 256 <= tree < 2**48:
            raise FsCorrupt(f"btrfs: {tree} is not a subvolume id")
        self._root(tree)
        return BtrfsFileSystem(self.trees, tree, self._roots)

    def subvolume_at(self, path: str) -> BtrfsFileSystem:
        """The subvolume at `path` from the top level (fstab `subvol=`, e.g. `@` or
        `@/.snapshots/1/snapshot`)."""
        top = self.subvolume(FS_TREE)
        node = top.root()
        parts = [p for p in path.split("/") if p and p != "."]
        if len(parts) > MAX_SUBVOL_DEPTH:
            raise FsCorrupt(f"btrfs: subvolume path {path!r} is too deep")
        for part in parts:
            found = top.lookup(node, part)
            if found is None or found.kind != "dir":
                raise FsCorrupt(f"btrfs: no subvolume directory {path!r} (missing {part!r})")
            node = found
        tree, ino = node.ref  # type: ignore[misc]
        if ino != self._root(tree).dirid:
            raise FsCorrupt(f"btrfs: {path!r} is a directory, not a subvolume")
        return BtrfsFileSystem(self.trees, tree, self._roots)

    def subvolumes(self, limit: int = MAX_SUBVOLUMES) -> list[tuple[int, str]]:
        """(tree id, path from the top level) of up to `limit` subvolumes, parents first: what
        a caller tries when the default subvolume does not hold the system (Ubuntu's `@`)."""
        out: list[tuple[int, str]] = []
        paths = {FS_TREE: ""}
        queue = [FS_TREE]
        while queue and len(out) < limit:
            parent = queue.pop(0)
            for key, body in self.trees.items(self.sb.root, self.sb.root_level,
                                              (parent, ROOT_REF, 0), (parent, ROOT_REF, U64)):
                child = key[2]
                if len(body) < 18 or child in paths or len(out) >= limit:
                    continue
                dirid, _seq, name_len = struct.unpack_from("<QQH", body, 0)
                name = body[18:18 + name_len].decode("utf-8", "surrogateescape")
                where = self._dir_path(parent, dirid)
                paths[child] = "/".join(p for p in (paths[parent], where, name) if p)
                out.append((child, paths[child]))
                queue.append(child)
        return out

    def _dir_path(self, tree: int, ino: int) -> str:
        """The path of directory `ino` from its tree's root directory (INODE_REF upwards)."""
        parts: list[str] = []
        top = self._root(tree).dirid
        for _ in range(MAX_SUBVOL_DEPTH):
            if ino == top:
                return "/".join(reversed(parts))
            ref = next(iter(self._items(tree, (ino, INODE_REF, 0), (ino, INODE_REF, U64))), None)
            if ref is None or len(ref[1]) < 10:
                break
            name_len = struct.unpack_from("<H", ref[1], 8)[0]
            parts.append(ref[1][10:10 + name_len].decode("utf-8", "surrogateescape"))
            ino = ref[0][2]
        raise FsCorrupt(f"btrfs tree {tree}: directory {ino} does not lead to the tree's root")

    # --- inodes -------------------------------------------------------------------------------
    def _node(self, tree: int, ino: int) -> Node:
        body = None
        for _key, body in self._items(tree, (ino, INODE_ITEM, 0), (ino, INODE_ITEM, 0)):
            break
        if body is None or len(body) < 160:
            raise FsCorrupt(f"btrfs tree {tree}: no inode item for {ino}")
        size = struct.unpack_from("<Q", body, 16)[0]
        mode = struct.unpack_from("<I", body, 52)[0]
        return Node(ref=(tree, ino), kind=KINDS.get(mode & 0o170000, "other"), size=size)

    def root(self) -> Node:
        return self._node(self.tree, self._root(self.tree).dirid)

    def lookup(self, directory: Node, name: str) -> Node | None:
        tree, dirino = _ref(directory)
        wanted = entry_name(directory, name)
        if wanted is None:
            return None
        if name == ".":
            return directory
        if name == "..":
            return self._parent(tree, dirino)
        key = (dirino, DIR_ITEM, btrfs_name_hash(wanted))
        for _key, body in self._items(tree, key, key):
            for entry, location, _ftype in dir_items(body, f"btrfs directory {dirino}"):
                self.work.charge("entries")
                if entry == wanted:
                    return self._follow(tree, location)
        return None

    def _follow(self, tree: int, location: Key) -> Node:
        objectid, ltype, _offset = location
        if ltype == INODE_ITEM:
            return self._node(tree, objectid)
        if ltype == ROOT_ITEM:          # a subvolume: its tree's root directory
            return self._node(objectid, self._root(objectid).dirid)
        raise FsCorrupt(f"btrfs tree {tree}: directory entry points at key type {ltype}")

    def _parent(self, tree: int, ino: int) -> Node | None:
        if ino == self._root(tree).dirid:
            if tree == FS_TREE:
                return self._node(tree, ino)
            for key, body in self.trees.items(self.sb.root, self.sb.root_level,
                                              (tree, ROOT_BACKREF, 0), (tree, ROOT_BACKREF, U64)):
                if len(body) >= 8:
                    return self._node(key[2], struct.unpack_from("<Q", body, 0)[0])
            return None
        for key, _body in self._items(tree, (ino, INODE_REF, 0), (ino, INODE_REF, U64)):
            return self._node(tree, key[2])
        return None

    def entries(self, directory: Node, limit: int = MAX_DIR_ENTRIES) -> list[str]:
        tree, dirino = _ref(directory)
        names: list[str] = []
        if limit <= 0 or directory.kind != "dir":
            return names
        for _key, body in self._items(tree, (dirino, DIR_INDEX, 0), (dirino, DIR_INDEX, U64)):
            for entry, _location, _ftype in dir_items(body, f"btrfs directory {dirino}"):
                self.work.charge("entries")
                names.append(entry.decode("utf-8", "surrogateescape"))
            if len(names) >= limit:
                break
        return names[:limit]

    # --- file content -----------------------------------------------------------------------
    def readlink(self, node: Node) -> str:
        if node.kind != "symlink" or not 0 < node.size <= MAX_SYMLINK:
            raise FsCorrupt(f"btrfs inode {node.ref}: not a symlink of at most {MAX_SYMLINK} "
                            "bytes")
        return self._read(node, 0, node.size, node.size).decode("utf-8", "surrogateescape")

    def read(self, node: Node, offset: int, length: int) -> bytes:
        if node.kind != "file":
            raise FsCorrupt(f"btrfs inode {node.ref}: a {node.kind}, not a file")
        return self._read(node, offset, length, node.size)

    def _read(self, node: Node, offset: int, length: int, size: int) -> bytes:
        tree, ino = _ref(node)
        length = max(0, min(length, size - offset, MAX_READ))
        if length == 0 or offset < 0:
            return b""
        out = bytearray(length)
        end, after = offset + length, -1
        for key, body in self._items(tree, (ino, EXTENT_DATA, offset),
                                     (ino, EXTENT_DATA, end - 1), with_previous=True):
            if key[:2] != (ino, EXTENT_DATA):
                continue
            where = f"btrfs inode {ino} extent at {key[2]}"
            if key[2] < after:
                raise FsCorrupt(f"{where}: overlaps the previous extent")
            ext = parse_extent(key[2], body, where)
            after = key[2] + ext.length
            lo, hi = max(offset, key[2]), min(end, after)
            if hi > lo and not ext.is_zeros:
                data = self._extent_bytes(ext, lo - key[2], hi - lo, where)
                out[lo - offset:lo - offset + len(data)] = data
        return bytes(out)

    def _extent_bytes(self, ext: FileExtent, start: int, count: int, where: str) -> bytes:
        """`count` bytes from `start` within the extent's file range."""
        if ext.kind == INLINE:
            data = ext.inline if not ext.compression else self._decoded_inline(ext, where)
            return data[start:start + count]
        if not ext.compression:
            logical = ext.disk_bytenr + ext.offset + start
            return self.trees.volume.read(self.trees.chunks.physical(logical, count), count)
        want = ext.offset + start + count           # decode only this prefix of the extent
        data = self._decoded.get(ext.disk_bytenr, b"")
        if len(data) < want:
            raw_at = self.trees.chunks.physical(ext.disk_bytenr, ext.disk_num_bytes)
            raw = self.trees.volume.read(raw_at, ext.disk_num_bytes)
            data = decompress(ext.compression, raw, want, self.sb.sectorsize, where)
            self.work.charge("decoded", len(data))
            if len(self._decoded) >= 8:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[ext.disk_bytenr] = data
        return data[ext.offset + start:ext.offset + start + count]

    def _decoded_inline(self, ext: FileExtent, where: str) -> bytes:
        data = decompress(ext.compression, ext.inline, ext.ram_bytes, self.sb.sectorsize, where)
        self.work.charge("decoded", len(data))
        return data


def _ref(node: Node) -> tuple[int, int]:
    ref = node.ref
    if not (isinstance(ref, tuple) and len(ref) == 2):
        raise FsCorrupt(f"btrfs: {ref!r} is not a btrfs node")
    return ref[0], ref[1]
