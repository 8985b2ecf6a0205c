"""The guest's files as its system sees them: one root file system, others mounted on it, and
symlinks followed inside the image. Nothing the image holds makes it raise: a path that cannot
be read is None, and `notes` says which and why."""

from __future__ import annotations

import struct
from collections import deque

from ..errors import BudgetExceeded, CorruptImage, FsCorrupt, GuestUnreadable, Unresolved
from ..work import Work
from .api import MAX_DIR_ENTRIES, FileSystem, Node, NodeKind

MAX_HOPS = 40              # symlinks followed while resolving one path
MAX_COMPONENTS = 256       # path components (after expanding symlinks) one resolution walks
MAX_NOTES = 64
MAX_READ = 4 * 1024 * 1024
# What a corrupt structure may raise in a reader besides FsCorrupt: it still means "unreadable".
UNREADABLE = (FsCorrupt, BudgetExceeded, CorruptImage, GuestUnreadable, struct.error,
              ValueError, IndexError, KeyError, OverflowError, RecursionError)


class MountedFiles:
    """GuestFiles over `root` with `mounts` ({"/boot": fs, …}) mounted on it."""

    def __init__(self, root: FileSystem, mounts: dict[str, FileSystem] | None = None,
                 notes: list[str] | None = None, work: Work | None = None):
        self.root_fs = root
        self.work = work or Work()
        self.mounts = {tuple(_parts(p)): fs for p, fs in (mounts or {}).items()}
        self.notes: list[str] = notes if notes is not None else []

    # -- GuestFiles --------------------------------------------------------------------------
    def read_text(self, path: str, limit: int = 64 * 1024) -> str | None:
        data = self.read_bytes(path, 0, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_bytes(self, path: str, offset: int, length: int) -> bytes | None:
        found = self._find(path, follow=True)
        if found is None:
            return None
        fs, node = found
        if node.kind != "file":
            return None
        length = max(0, min(length, MAX_READ, node.size - offset))
        if length == 0 or offset < 0:
            return b""
        try:
            return fs.read(node, offset, length)
        except UNREADABLE as exc:
            self._note(f"{path}: cannot be read ({why_unreadable(exc)})")
            return None

    def listdir(self, path: str, limit: int = MAX_DIR_ENTRIES) -> list[str] | None:
        found = self._find(path, follow=True)
        if found is None or found[1].kind != "dir":
            return None
        fs, node = found
        try:
            return fs.entries(node, limit)
        except UNREADABLE as exc:
            self._note(f"{path}: the directory cannot be listed ({why_unreadable(exc)})")
            return None

    def kind(self, path: str) -> NodeKind | None:
        found = self._find(path, follow=True)
        return None if found is None else found[1].kind

    # -- extras ------------------------------------------------------------------------------
    def lkind(self, path: str) -> NodeKind | None:
        """What `path` itself is, its last component not followed if it is a symlink."""
        found = self._find(path, follow=False)
        return None if found is None else found[1].kind

    def readlink(self, path: str) -> str | None:
        found = self._find(path, follow=False)
        if found is None or found[1].kind != "symlink":
            return None
        try:
            return found[0].readlink(found[1])
        except UNREADABLE as exc:
            self._note(f"{path}: the symlink cannot be read ({why_unreadable(exc)})")
            return None

    # -- resolution --------------------------------------------------------------------------
    def _find(self, path: str, follow: bool) -> tuple[FileSystem, Node] | None:
        try:
            return self._resolve(path, follow)
        except Unresolved as exc:
            self._note(f"{path}: {exc}")
        except UNREADABLE as exc:
            self._note(f"{path}: cannot be read ({why_unreadable(exc)})")
        return None

    def _resolve(self, path: str, follow: bool) -> tuple[FileSystem, Node] | None:
        stack: list[tuple[FileSystem, Node]] = [(self.root_fs, self.root_fs.root())]
        names: list[str] = []
        pending = deque(_parts(path))
        hops = walked = 0
        while pending:
            name = pending.popleft()
            self.work.charge("lookups")
            walked += 1
            if walked > MAX_COMPONENTS:
                raise Unresolved(f"more than {MAX_COMPONENTS} path components after following "
                                 f"symlinks")
            if name == "..":
                if len(stack) > 1:
                    stack.pop()
                    names.pop()
                continue
            fs, node = stack[-1]
            if node.kind != "dir":
                return None
            mounted = self.mounts.get((*names, name))
            if mounted is not None:
                child: tuple[FileSystem, Node] = (mounted, mounted.root())
            else:
                found = _lookup(fs, node, name)
                if found is None:
                    return None
                child = (fs, found)
            if child[1].kind == "symlink" and (pending or follow):
                self.work.charge("hops")
                hops += 1
                if hops > MAX_HOPS:
                    raise Unresolved(f"more than {MAX_HOPS} symlinks to follow: a symlink loop")
                target = child[0].readlink(child[1])
                if not target:
                    raise Unresolved(f"the symlink /{'/'.join((*names, name))} is empty")
                if target.startswith("/"):
                    del stack[1:]
                    names.clear()
                pending.extendleft(reversed(_parts(target)))
                continue
            stack.append(child)
            names.append(name)
        return stack[-1]

    def _note(self, note: str) -> None:
        if len(self.notes) < MAX_NOTES and note not in self.notes:
            self.notes.append(note)


def _lookup(fs: FileSystem, directory: Node, name: str) -> Node | None:
    found = fs.lookup(directory, name)
    if found is not None or fs.case_sensitive:
        return found
    folded = name.casefold()
    for entry in fs.entries(directory):
        if entry.casefold() == folded and entry != name:
            return fs.lookup(directory, entry)
    return None


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def why_unreadable(exc: BaseException) -> str:
    if isinstance(exc, (FsCorrupt, BudgetExceeded, CorruptImage, GuestUnreadable, Unresolved)):
        return str(exc)
    return f"unexpected structure: {type(exc).__name__}: {exc}"
