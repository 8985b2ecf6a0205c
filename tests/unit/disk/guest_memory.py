"""A GuestFiles over an in-memory tree, for unit tests of the facts: the same contract as the
readers' (symlinks followed inside the tree, at most 40 hops; never raises; `notes`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "guests"))

from trees import DIR, TREES, Link, Tree  # noqa: E402

from imagedrop_disk.fs.api import NodeKind  # noqa: E402

MAX_HOPS = 40

__all__ = ["MemoryGuestFiles", "TREES", "guest"]


class MemoryGuestFiles:
    def __init__(self, tree: Tree, unreadable: tuple[str, ...] = ()):
        self.notes: list[str] = []
        self.unreadable = unreadable      # paths whose reads fail as a corrupt one would
        self.reads: list[str] = []
        self._root: dict = {}
        for path, content in sorted(tree.items()):
            self._insert(path, content)

    def _insert(self, path: str, content: object) -> None:
        parts = [p for p in path.split("/") if p]
        parent = self._dir_for(parts[:-1])
        if content is DIR:
            parent.setdefault(parts[-1], {})
        else:
            parent[parts[-1]] = content.encode() if isinstance(content, str) else content

    def _dir_for(self, parts: list[str]) -> dict:
        node = self._walk("/" + "/".join(parts), create=True)
        assert isinstance(node, dict), f"/{'/'.join(parts)}: not a directory"
        return node

    def _resolve(self, path: str) -> object | None:
        return self._walk(path, create=False)

    def _walk(self, path: str, create: bool, hops: int = 0) -> object | None:
        """The node at `path`, symlinks followed (creating directories on the way if asked)."""
        parts = [p for p in path.split("/") if p and p != "."]
        node: object = self._root
        walked: list[str] = []
        while parts:
            part = parts.pop(0)
            if part == "..":
                walked = walked[:-1]
                node = self._walk("/" + "/".join(walked), create, hops)
                continue
            if not isinstance(node, dict):
                return None
            if part not in node:
                if not create:
                    return None
                node[part] = {}
            child = node[part]
            if isinstance(child, Link):
                hops += 1
                if hops > MAX_HOPS:
                    self.notes.append(f"{path}: more than {MAX_HOPS} symbolic links")
                    return None
                if child.target.startswith("/"):
                    walked = []
                parts = [p for p in child.target.split("/") if p and p != "."] + parts
                node = self._walk("/" + "/".join(walked), create, hops)
                continue
            node = child
            walked.append(part)
        return node

    def _fails(self, path: str) -> bool:
        if any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.unreadable):
            self.notes.append(f"{path}: unreadable (corrupt structure)")
            return True
        return False

    def read_text(self, path: str, limit: int = 64 * 1024) -> str | None:
        data = self.read_bytes(path, 0, limit)
        return None if data is None else data.decode("utf-8", "replace")

    def read_bytes(self, path: str, offset: int, length: int) -> bytes | None:
        self.reads.append(path)
        if self._fails(path):
            return None
        node = self._resolve(path)
        if not isinstance(node, bytes):
            return None
        return node[offset:offset + length]

    def listdir(self, path: str, limit: int = 4096) -> list[str] | None:
        if self._fails(path):
            return None
        node = self._resolve(path)
        return list(node)[:limit] if isinstance(node, dict) else None

    def kind(self, path: str) -> NodeKind | None:
        if self._fails(path):
            return None
        node = self._resolve(path)
        if node is None:
            return None
        return "dir" if isinstance(node, dict) else "file"


def guest(name: str, **changes: object) -> tuple[MemoryGuestFiles, dict]:
    """The named tree (with paths added, replaced or, given None, removed) and its facts."""
    tree, expected = TREES[name]()
    for path, content in changes.items():
        if content is None:
            tree.pop(path, None)
        else:
            tree[path] = content
    return MemoryGuestFiles(tree), expected
