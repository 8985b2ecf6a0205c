"""Root file systems besides the one the facts are read from: what each holds, in few reads,
so that whoever fills a manifest from the facts knows the disk holds more than one system."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING

from .model import OtherRoot
from .platform import platform_for_linux
from .release import read_release

if TYPE_CHECKING:
    from ..guest_files import OpenedGuest

ROOT_SHARE = 0.25      # of the work left, what reading one other root's release may spend


def other_roots(opened: OpenedGuest) -> tuple[list[OtherRoot], list[str]]:
    """The other roots, and a note saying which root the facts are from and why."""
    found: list[OtherRoot] = []
    for volume, files, os_type in opened.other_roots:
        release = None
        if os_type == "linux":
            work = getattr(files, "work", None)
            with work.share(ROOT_SHARE) if work is not None else nullcontext():
                release = read_release(files)
        found.append(OtherRoot(
            volume=volume, os_type=os_type,  # type: ignore[arg-type]
            distro=release.distro if release else None, name=release.name if release else None,
            platform=platform_for_linux(release.distro, release.name, release.variant_id)
            if release else None))
    if not found:
        return [], []
    held = "; ".join(f"{o.volume} holds {o.name or o.distro or o.os_type}" for o in found)
    return found, [f"more than one volume holds a system: the facts are those of "
                   f"{opened.root_volume or 'the largest'} (the largest); {held}"]
