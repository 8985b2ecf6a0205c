"""Rules on the object keys a manifest implies: its own key, its system disk's key and its data
disks' keys (pure: no I/O). The pipeline and `imagedrop validate` apply the same ones.

Each problem is (where, `rule; fix`): where is a manifest field, or the object's key.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.state_keys import OSS_MAX_KEY_BYTES, StateKeys
from .rules import shown

# What ImportImage takes as a disk object's name (UnsupportedSuffix.OSSObject otherwise); matched
# without regard to case.
DISK_SUFFIXES = (".qcow2", ".vhd", ".raw", ".img", ".vmdk")
DEFAULT_STATE_PREFIX = "imagedrop/"
_SUFFIX_FOR_FORMAT = {"qcow2": ".qcow2", "vhd": ".vhd", "raw": ".raw", "vmdk": ".vmdk"}
KeyProblem = tuple[str, str]


@dataclass(frozen=True)
class NamedDisk:
    field: str          # `data_disks[0].object`
    object: str         # as the manifest writes it
    key: str            # resolved against the manifest's folder
    format: str | None  # as the manifest says, if it does


def manifest_name_problem(manifest_key: str) -> KeyProblem | None:
    """Why `manifest_key` is not `<disk key>.json`, or None."""
    name = manifest_key.rpartition("/")[2]
    if manifest_key.endswith(".json") and name != ".json":
        return None
    return (manifest_key, "names no disk image (a manifest is named '<disk key>.json'); rename "
                          "it after its disk, e.g. 'web.qcow2.json' beside 'web.qcow2'")


def record_key_problem(manifest_key: str, state_prefix: str = DEFAULT_STATE_PREFIX
                       ) -> KeyProblem | None:
    """Why imagedrop could not keep a status record at `<state prefix>status/<manifest key>` (OSS
    keys are at most 1023 bytes), or None."""
    record_prefix = StateKeys(state_prefix).status("")
    size = len(manifest_key.encode("utf-8"))
    room = OSS_MAX_KEY_BYTES - len(record_prefix.encode("utf-8"))
    if size <= room:
        return None
    return (shown(manifest_key), f"the manifest's key is {size} bytes long, too long for its "
            f"status record at '{record_prefix}<manifest key>' since OSS keys are at most "
            f"{OSS_MAX_KEY_BYTES} bytes; shorten the key (folders and file name) to at most "
            f"{room} bytes and upload the disk and the manifest again")


def _renamed(key: str, fmt: str | None) -> str:
    stem = key.rpartition("/")[2]
    base = stem.rpartition(".")[0] if "." in stem.lstrip(".") else stem
    return base + _SUFFIX_FOR_FORMAT.get(fmt or "", ".raw")


def system_suffix_problem(system_key: str, fmt: str | None) -> KeyProblem | None:
    if system_key.lower().endswith(DISK_SUFFIXES):
        return None
    new = _renamed(system_key, fmt)
    return (system_key, f"does not end in {', '.join(DISK_SUFFIXES)} and ECS refuses any other "
            f"disk object name (UnsupportedSuffix.OSSObject); rename the disk to {shown(new)} and "
            f"its manifest to {shown(new + '.json')} (the suffix of its format), then upload them")


def data_disk_problems(manifest_key: str, system_key: str, disks: list[NamedDisk],
                       state_prefix: str = DEFAULT_STATE_PREFIX) -> list[KeyProblem]:
    """A data disk is neither the system disk nor the manifest, has a name ECS takes, and a key
    short enough for the marker that links it to this manifest while it is awaited."""
    problems: list[KeyProblem] = []
    room = OSS_MAX_KEY_BYTES - len(StateKeys(state_prefix).waiting("").encode("utf-8"))
    for disk in disks:
        size = len(disk.key.encode("utf-8"))
        if size > room:
            problems.append((disk.field, f"resolves to a key of {size} bytes; imagedrop takes "
                             f"data disk keys of at most {room} bytes (its marker "
                             f"'{state_prefix}waiting/<key>' must fit OSS's {OSS_MAX_KEY_BYTES}); "
                             "shorten the folder or the name"))
        elif disk.key in (system_key, manifest_key):
            what = "the system disk" if disk.key == system_key else "this manifest"
            problems.append((disk.field, f"{shown(disk.object)} is {what} ({disk.key}); list "
                                         "only the data disks' own objects"))
        elif not disk.key.lower().endswith(DISK_SUFFIXES):
            problems.append((disk.field, f"{shown(disk.object)} does not end in "
                             f"{', '.join(DISK_SUFFIXES)} and ECS refuses any other disk object "
                             "name (UnsupportedSuffix.OSSObject); rename the object to "
                             f"{shown(_renamed(disk.object, disk.format))} and list that name"))
    return problems
