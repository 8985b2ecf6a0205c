"""LVM2 physical volumes expanded into their linear logical volumes, as volumes to open."""

from __future__ import annotations

from .lvm import logical_volumes, mapper_path
from .volumes import SliceVolume


def expand_lvm(volume: SliceVolume, notes: list[str]) -> list[SliceVolume] | None:
    """None if `volume` is not an LVM2 PV; else one volume per linear LV on it, named "vg/lv",
    matching fstab's /dev/mapper/<vg>-<lv> and /dev/<vg>/<lv>. Why an LV is left out: `notes`.
    Raises FsCorrupt when the PV's label or metadata is impossible."""
    lv_notes: list[str] = []
    lvs = logical_volumes(volume, lv_notes)
    notes += [f"{volume.name}: {n}" for n in lv_notes]
    if lvs is None:
        return None
    out = []
    for name, lv in lvs:
        vg, lv_name = name.split("/", 1)
        devices = f"{mapper_path(vg, lv_name)} /dev/{vg}/{lv_name}"
        out.append(SliceVolume(lv.read, 0, lv.size, name, "lvm",
                               {"vg": vg, "lv": lv_name, "devices": devices}, volume.work))
    if not out:
        notes.append(f"{volume.name}: an LVM2 PV holding no logical volume read here")
    return out
