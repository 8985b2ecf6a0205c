"""Before `imagedrop push` uploads a byte: the manifest, the object keys, and every disk checked
locally with the same rules the ingest function applies (refuse before uploading gigabytes).

`manifest_from_options` and `preflight` are pure; `inspect_local` reads the files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from imagedrop_disk.model import Inspection
from imagedrop_disk.errors import DiskError
from imagedrop.manifest import Manifest, check_manifest
from imagedrop.decide.plan import DiskFacts, Rejection, plan_import, wanted_disks

MANIFEST_OPTION_FIELDS = ("image_name", "os_type", "platform", "architecture", "boot_mode",
                          "description", "image_family", "license_type")


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    role: str  # "system" | "data"


@dataclass
class PushPlan:
    manifest_key: str
    manifest_bytes: bytes
    uploads: list[Upload]                       # data disks first, then the system disk
    problems: list[str] = field(default_factory=list)
    filled: dict[str, dict[str, str | None]] = field(default_factory=dict)  # read from the disk

    @property
    def ok(self) -> bool:
        return not self.problems


def manifest_from_options(values: dict[str, Any], data_disks: list[Path]) -> bytes:
    """A manifest built from command-line options (the data disks listed by file name)."""
    doc: dict[str, Any] = {k: v for k, v in values.items() if v not in (None, "", [], {})}
    if data_disks:
        doc["data_disks"] = [{"object": p.name} for p in data_disks]
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def object_prefix(prefix: str) -> str:
    prefix = prefix.strip()
    if prefix.startswith("/") or ".." in PurePosixPath(prefix).parts:
        raise ValueError(f"--prefix {prefix!r}: an object key prefix must not start with '/' or contain '..'")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _match_data_disks(manifest: Manifest, files: list[Path]) -> tuple[dict[str, Path], list[str]]:
    """Manifest data disk `object` → the local file of the same name, and what does not match."""
    by_name = {p.name: p for p in files}
    matched: dict[str, Path] = {}
    problems = []
    for index, disk in enumerate(manifest.data_disks):
        name = PurePosixPath(disk.object).name
        if name in by_name:
            matched[disk.object] = by_name.pop(name)
        else:
            problems.append(f"data_disks[{index}].object: {disk.object!r} has no local file; pass it with "
                            f"--data-disk PATH/{name}")
    problems += [f"--data-disk {p}: not listed in the manifest's data_disks; add "
                 f'{{"object": "{p.name}"}} or drop the option' for p in by_name.values()]
    return matched, problems


def local_problems(*, data_disks: list[Path], manifest_bytes: bytes,
                   inspections: dict[Path, Inspection | str]) -> list[str]:
    """What is wrong with the files themselves, before knowing where they go (no cloud, no
    credentials needed): the manifest, data disks it does not list, disks that cannot be read."""
    manifest, manifest_problems = check_manifest(manifest_bytes)
    problems = [f"manifest: {p}" for p in manifest_problems]
    if manifest is not None:
        problems += _match_data_disks(manifest, data_disks)[1]
    return problems + [f"{path}: {seen}" for path, seen in inspections.items() if isinstance(seen, str)]


def preflight(*, disk: Path, data_disks: list[Path], manifest_bytes: bytes, prefix: str, bucket: str,
              region: str, inspections: dict[Path, Inspection | str]) -> PushPlan:
    """Every problem with this push, each naming the field or file, the rule and what to do."""
    manifest_key = f"{prefix}{disk.name}.json"
    plan = PushPlan(manifest_key, manifest_bytes, [])
    manifest, manifest_problems = check_manifest(manifest_bytes)
    if manifest is None:  # still say what is wrong with the files, so one run shows everything
        plan.problems = [f"manifest: {p}" for p in manifest_problems]
        plan.problems += [f"{path}: {seen}" for path, seen in inspections.items() if isinstance(seen, str)]
        return plan
    # What the ingest refuses by name alone; the system disk is named by its local file.
    system_key = manifest_key[: -len(".json")]
    named = [f"{disk if where == system_key else where}: {text}"
             for where, text in manifest.name_problems(manifest_key)]
    if manifest.key_problems(manifest_key):  # a data disk that is the system disk or manifest
        plan.problems = named
        return plan
    plan = _checked(plan, manifest, disk, data_disks, prefix, bucket, region, inspections)
    plan.problems = named + plan.problems
    return plan


def _checked(plan: PushPlan, manifest: Manifest, disk: Path, data_disks: list[Path], prefix: str,
             bucket: str, region: str, inspections: dict[Path, Inspection | str]) -> PushPlan:
    manifest_key = plan.manifest_key
    matched, plan.problems = _match_data_disks(manifest, data_disks)
    if plan.problems:
        return plan
    facts = []
    for wanted in wanted_disks(manifest, manifest_key):
        key, role = wanted.key, wanted.role
        path = disk if role == "system" else matched[key[len(prefix):]] if key.startswith(prefix) else None
        if path is None:  # a data disk key outside the pushed folder cannot come from this push
            plan.problems.append(f"{wanted.field}: {key} is outside {prefix or 'the bucket root'}; "
                                 "list data disks relative to the manifest's folder")
            continue
        plan.uploads.append(Upload(path, key, role))
        seen = inspections.get(path)
        facts.append(DiskFacts(key=key, role=role, size=_size(path), etag="local",
                               inspection=seen if isinstance(seen, Inspection) else None,
                               inspect_error=seen if isinstance(seen, str) else None,
                               wanted_format=wanted.format, wanted_gib=wanted.size_gib,
                               field=wanted.field))
    if plan.problems:
        return plan
    outcome = plan_import(manifest, manifest_key=manifest_key, bucket=bucket, bucket_region=region,
                          function_region=region, disks=facts, import_role="-", client_token="-")
    if isinstance(outcome, Rejection):
        plan.problems = [_local_words(p.line(), plan.uploads) for p in outcome.problems]
    else:
        plan.filled = {name: how for name, how in outcome.filled.items()
                       if name != "boot_mode" or manifest.from_disk != ["boot_mode"]}
    plan.uploads.sort(key=lambda u: u.role != "data")  # data disks first; the manifest goes last
    return plan


def filled_lines(plan: PushPlan) -> list[str]:
    """What the disk told for the fields the manifest left out (the ingest reads the same)."""
    return [f"{name}: {how['value'] or 'not sent'} ({how['from']})" for name, how in plan.filled.items()]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _local_words(line: str, uploads: list[Upload]) -> str:
    """Problems name OSS objects; before the upload the user knows them as local files."""
    for upload in uploads:
        line = line.replace(f"oss object {upload.key}", str(upload.path))
    return line


def inspect_local(paths: list[Path]) -> dict[Path, Inspection | str]:
    """Each file's inspection, or why it could not be read."""
    from imagedrop_disk import inspect_path

    found: dict[Path, Inspection | str] = {}
    for path in paths:
        if not path.is_file():
            found[path] = f"no such file ({os.fspath(path)}); check the path"
            continue
        try:
            found[path] = inspect_path(path)
        except DiskError as exc:
            found[path] = str(exc)
    return found
