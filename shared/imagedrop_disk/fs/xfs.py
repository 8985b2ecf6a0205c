"""XFS v4 and v5, read-only: superblock, inodes by number arithmetic (no inode b-tree walk),
data forks in local, extents and b-tree format, every directory form, symlinks, files."""

from __future__ import annotations

import struct
import uuid as uuidlib
from dataclasses import dataclass
from typing import Iterator

from ..errors import BudgetExceeded, FsCorrupt
from ..work import work_of
from .api import MAX_DIR_BLOCKS, MAX_DIR_ENTRIES, MAX_SYMLINK, Node, NodeKind, Volume, entry_name
from .crc32c import crc32c
from .limits import MAX_READ
from .xfs_dir import LEAF_OFFSET, data_block_entries, shortform
from .xfs_map import BmbtWalker, Extent, extent_list

LOCAL, EXTENTS, BTREE = 1, 2, 3
KINDS: dict[int, NodeKind] = {0o100000: "file", 0o040000: "dir", 0o120000: "symlink"}
SYMLINK_MAXLEN = 1024
REALTIME_FLAG = 0x1          # di_flags: data extents address the realtime device
NREXT64_FLAG = 1 << 4        # di_flags2: the data extent count is the u64 at 24


@dataclass(frozen=True)
class Superblock:
    blocksize: int
    dblocks: int
    rootino: int
    agblocks: int
    agcount: int
    inodesize: int
    agblklog: int
    inopblog: int
    dirblksize: int
    v5: bool
    ftype: bool
    nrext64: bool
    ascii_ci: bool             # names compare ASCII-case-insensitively (mkfs -n version=ci)
    uuid: str
    label: str | None


@dataclass(frozen=True)
class Inode:
    ino: int
    mode: int
    fmt: int
    size: int
    nextents: int
    fork: bytes
    realtime: bool = False

    @property
    def kind(self) -> NodeKind:
        return KINDS.get(self.mode & 0o170000, "other")


def _log2_up(n: int) -> int:
    return max(n - 1, 0).bit_length()


def parse_superblock(sb: bytes) -> Superblock | None:
    if len(sb) < 264 or sb[:4] != b"XFSB":
        return None
    blocksize, dblocks = struct.unpack_from(">IQ", sb, 4)
    rootino = struct.unpack_from(">Q", sb, 56)[0]
    agblocks, agcount = struct.unpack_from(">II", sb, 84)
    versionnum, _sectsize, inodesize, inopblock = struct.unpack_from(">HHHH", sb, 100)
    blocklog, inopblog, agblklog = sb[120], sb[123], sb[124]
    dirblklog = sb[192]
    features2, incompat = struct.unpack_from(">I", sb, 200)[0], struct.unpack_from(">I", sb, 216)[0]
    version = versionnum & 0xF
    if version == 5 and struct.unpack_from("<I", sb, 224)[0] != crc32c(
            sb[:224] + bytes(4) + sb[228:]):
        raise FsCorrupt("xfs superblock: checksum mismatch (sb_crc over the first sector)")
    problems = []
    if version not in (4, 5):
        problems.append(f"version {version} (4 or 5 expected)")
    if version == 4 and not versionnum & 0x2000:
        problems.append("version 1 directories (not supported)")
    if not 9 <= blocklog <= 16 or blocksize != 1 << blocklog:
        problems.append(f"block size {blocksize}")
    if inodesize not in (256, 512, 1024, 2048) or inodesize > blocksize \
            or inopblock != blocksize // inodesize or 1 << inopblog != inopblock:
        problems.append(f"inode size {inodesize} ({inopblock} per block)")
    if agblocks == 0 or agcount == 0 or agblklog != _log2_up(agblocks) or agblklog > 31:
        problems.append(f"allocation groups of {agblocks} blocks (log {agblklog}), {agcount}")
    if blocklog + dirblklog > 16:
        problems.append(f"directory block log {dirblklog}")
    if problems:
        raise FsCorrupt("xfs superblock: " + "; ".join(problems))
    v5 = version == 5
    label = sb[108:120].split(b"\0", 1)[0].decode("utf-8", "replace") or None
    return Superblock(blocksize=blocksize, dblocks=dblocks, rootino=rootino, agblocks=agblocks,
                      agcount=agcount, inodesize=inodesize, agblklog=agblklog,
                      inopblog=inopblog, dirblksize=blocksize << dirblklog, v5=v5,
                      ftype=bool(incompat & 1) if v5 else bool(features2 & 0x200),
                      nrext64=v5 and bool(incompat & 0x20),
                      ascii_ci=bool(versionnum & 0x4000),
                      uuid=str(uuidlib.UUID(bytes=sb[32:48])), label=label)


def open_fs(volume: Volume) -> XfsFileSystem | None:
    head = volume.read(0, 512)
    if head[:4] != b"XFSB" or len(head) < 512:
        return None
    sectsize = struct.unpack_from(">H", head, 102)[0]
    if sectsize not in (512, 1024, 2048, 4096, 8192, 16384, 32768):
        raise FsCorrupt(f"xfs superblock: sector size {sectsize}")
    if sectsize > 512:          # v5's checksum covers the whole first sector
        head = volume.read(0, sectsize)
    sb = parse_superblock(head)
    return None if sb is None else XfsFileSystem(volume, sb)


class XfsFileSystem:
    kind = "xfs"
    case_sensitive = True

    def __init__(self, volume: Volume, sb: Superblock):
        self.volume, self.sb = volume, sb
        self.work = work_of(volume)
        self.uuid: str | None = sb.uuid           # sb_uuid: what fstab names (not sb_meta_uuid)
        self.label: str | None = sb.label
        self.case_sensitive = not sb.ascii_ci

    # --- addresses ------------------------------------------------------------------------
    def _fsblock_offset(self, fsblock: int, count: int, where: str) -> int:
        sb = self.sb
        agno, agbno = fsblock >> sb.agblklog, fsblock & ((1 << sb.agblklog) - 1)
        offset = (agno * sb.agblocks + agbno) * sb.blocksize
        if agno >= sb.agcount or agbno + count > sb.agblocks \
                or offset + count * sb.blocksize > self.volume.size:
            raise FsCorrupt(f"{where}: block {fsblock} (+{count}) lies past the end of the "
                            "file system or volume")
        return offset

    def _read_fsblock(self, fsblock: int, where: str) -> bytes:
        return self.volume.read(self._fsblock_offset(fsblock, 1, where), self.sb.blocksize)

    def inode_offset(self, ino: int) -> int:
        """Where inode `ino` starts: AG, block and index come from its number alone."""
        sb = self.sb
        agno = ino >> (sb.agblklog + sb.inopblog)
        agbno = (ino >> sb.inopblog) & ((1 << sb.agblklog) - 1)
        index = ino & ((1 << sb.inopblog) - 1)
        if agno >= sb.agcount or agbno >= sb.agblocks:
            raise FsCorrupt(f"xfs inode {ino}: number points past the last allocation group")
        return (agno * sb.agblocks + agbno) * sb.blocksize + index * sb.inodesize

    def inode(self, ino: int) -> Inode:
        sb, where = self.sb, f"xfs inode {ino}"
        offset = self.inode_offset(ino)
        raw = self.volume.read(offset, sb.inodesize)
        if len(raw) < sb.inodesize or raw[:2] != b"IN":
            raise FsCorrupt(f"{where}: no inode magic at byte {offset}")
        mode, version, fmt = struct.unpack_from(">HBB", raw, 2)
        if version not in (1, 2, 3) or (version == 3) != sb.v5:
            raise FsCorrupt(f"{where}: inode version {version} on a v{4 + sb.v5} file system")
        if version == 3 and struct.unpack_from(">Q", raw, 152)[0] != ino:
            raise FsCorrupt(f"{where}: the inode records another number")
        size = struct.unpack_from(">Q", raw, 56)[0]
        nextents = struct.unpack_from(">I", raw, 76)[0]
        if sb.nrext64 and struct.unpack_from(">Q", raw, 120)[0] & NREXT64_FLAG:
            nextents = struct.unpack_from(">Q", raw, 24)[0]
        core = 176 if version == 3 else 100
        forkoff = raw[82]
        fork_end = core + forkoff * 8 if forkoff else sb.inodesize
        if fork_end > sb.inodesize or size >= 1 << 63:
            raise FsCorrupt(f"{where}: attribute fork offset {forkoff} or size {size}")
        realtime = bool(struct.unpack_from(">H", raw, 90)[0] & REALTIME_FLAG)
        return Inode(ino, mode, fmt, size, nextents, raw[core:fork_end], realtime)

    def _node(self, ino: int) -> Node:
        inode = self.inode(ino)
        return Node(ref=ino, kind=inode.kind, size=inode.size)

    # --- data fork maps ------------------------------------------------------------------
    def _extents(self, inode: Inode, first: int, end: int) -> Iterator[Extent]:
        where = f"xfs inode {inode.ino}"
        if inode.fmt == EXTENTS:
            for ext in extent_list(inode.fork, inode.nextents, where):
                if ext.end > first and ext.start < end:
                    yield ext
        elif inode.fmt == BTREE:
            walker = BmbtWalker(inode.fork, lambda b: self._read_fsblock(b, where),
                                self.sb.blocksize, self.sb.v5, inode.ino, where)
            yield from walker.extents(first, end)
        else:
            raise FsCorrupt(f"{where}: data fork format {inode.fmt} holds no extents")

    def _read_mapped(self, inode: Inode, offset: int, length: int) -> bytes:
        """Bytes [offset, offset+length) of the fork's mapped space; holes and unwritten
        extents read as zeros."""
        bs = self.sb.blocksize
        out = bytearray(length)
        for ext in self._extents(inode, offset // bs, -(-(offset + length) // bs)):
            lo = max(offset, ext.start * bs)
            hi = min(offset + length, ext.end * bs)
            if hi <= lo or ext.unwritten:
                continue
            base = self._fsblock_offset(ext.fsblock, ext.count, f"xfs inode {inode.ino}")
            data = self.volume.read(base + lo - ext.start * bs, hi - lo)
            out[lo - offset:lo - offset + len(data)] = data
        return bytes(out)

    # --- FileSystem -----------------------------------------------------------------------
    def root(self) -> Node:
        node = self._node(self.sb.rootino)
        if node.kind != "dir":
            raise FsCorrupt(f"xfs root inode {self.sb.rootino} is not a directory")
        return node

    def read(self, node: Node, offset: int, length: int) -> bytes:
        inode = self.inode(int(node.ref))  # type: ignore[call-overload]
        if inode.kind != "file":
            raise FsCorrupt(f"xfs inode {inode.ino} is a {inode.kind}, not a file")
        if inode.realtime:
            raise FsCorrupt(f"xfs inode {inode.ino}: a realtime file (its data is on the "
                            "realtime device, which this reader does not read)")
        length = max(0, min(length, inode.size - offset, MAX_READ))
        if length == 0 or offset < 0:
            return b""
        if inode.fmt == LOCAL:
            return inode.fork[offset:offset + length]
        return self._read_mapped(inode, offset, length)

    def readlink(self, node: Node) -> str:
        inode = self.inode(int(node.ref))  # type: ignore[call-overload]
        where = f"xfs symlink {inode.ino}"
        if inode.kind != "symlink":
            raise FsCorrupt(f"{where}: a {inode.kind}, not a symlink")
        if not 0 < inode.size <= min(SYMLINK_MAXLEN, MAX_SYMLINK):
            raise FsCorrupt(f"{where}: target length {inode.size}")
        if inode.fmt == LOCAL:
            if inode.size > len(inode.fork):
                raise FsCorrupt(f"{where}: inline target longer than its fork")
            target = inode.fork[:inode.size]
        else:
            target = self._remote_symlink(inode, where)
        return target.decode("utf-8", "surrogateescape")

    def _remote_symlink(self, inode: Inode, where: str) -> bytes:
        bs, hdr = self.sb.blocksize, 56 if self.sb.v5 else 0
        blocks = -(-inode.size // (bs - hdr))
        raw = self._read_mapped(inode, 0, blocks * bs)
        parts = []
        for i in range(blocks):
            block = raw[i * bs:(i + 1) * bs]
            if not hdr:
                parts.append(block)
                continue
            offset, nbytes = struct.unpack_from(">II", block, 4)
            if block[:4] != b"XSLM" or offset != i * (bs - hdr) or nbytes > bs - hdr:
                raise FsCorrupt(f"{where}: remote block {i} has no valid XSLM header")
            parts.append(block[hdr:hdr + nbytes])
        return b"".join(parts)[:inode.size]

    def entries(self, directory: Node, limit: int = MAX_DIR_ENTRIES) -> list[str]:
        names: list[str] = []
        if directory.kind != "dir":
            return names
        for name, _ino in self._dir_entries(directory, cut=True):
            self.work.charge("entries")
            if len(names) >= limit:
                break
            if name not in (".", ".."):
                names.append(name)
        return names

    def lookup(self, directory: Node, name: str) -> Node | None:
        if entry_name(directory, name) is None:
            return None
        if name == ".":
            return directory
        for entry, ino in self._dir_entries(directory, cut=False):
            self.work.charge("entries")
            if entry == name:
                return self._node(ino)
        return None

    def _dir_entries(self, directory: Node, cut: bool) -> Iterator[tuple[str, int]]:
        inode = self.inode(int(directory.ref))  # type: ignore[call-overload]
        where = f"xfs directory {inode.ino}"
        if inode.kind != "dir":
            raise FsCorrupt(f"{where}: a {inode.kind}, not a directory")
        if inode.fmt == LOCAL:
            parent, entries = shortform(inode.fork, inode.size, self.sb.ftype, where)
            yield "..", parent
            yield from entries
            return
        dbs, bs = self.sb.dirblksize, self.sb.blocksize
        visited = 0
        for ext in self._extents(inode, 0, LEAF_OFFSET // bs):
            first = max(ext.start * bs, 0) // dbs * dbs
            for offset in range(first, min(ext.end * bs, LEAF_OFFSET), dbs):
                if offset < ext.start * bs:
                    continue        # this directory block began in the previous extent
                visited += 1
                if visited > MAX_DIR_BLOCKS:
                    if cut:
                        return
                    raise BudgetExceeded(f"{where}: more than {MAX_DIR_BLOCKS} directory blocks")
                block = self._read_mapped(inode, offset, dbs)
                self.work.charge("entries")   # the block costs even when it holds no entry
                yield from data_block_entries(block, self.sb.ftype, inode.ino,
                                              f"{where} @{offset}")
