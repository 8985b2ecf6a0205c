"""`imagedrop validate` and `imagedrop schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from imagedrop.manifest import (MAX_MANIFEST_BYTES, check_manifest, parse_manifest,
                                render_schema_json)
from .app import app


@app.command("validate")
def validate(
    file: str = typer.Argument(..., metavar="FILE",
                               help="Manifest JSON file to check ('-' reads standard input)."),
    key: Optional[str] = typer.Option(None, "--key", metavar="KEY",
                                      help="The OSS key the manifest will have, e.g. "
                                           "incoming/web.qcow2.json: also check the names of "
                                           "it and its disks."),
) -> None:
    """Check a sidecar manifest: exit 0 when valid (saying on stdout which fields will be read
    from the disk, if any), one line per problem on stderr and exit 1 when not."""
    raw = _read_at_most(file, MAX_MANIFEST_BYTES + 1)
    if raw is None:
        raise typer.Exit(1)
    manifest, found = check_manifest(raw)
    problems = [str(p) for p in found] or _key_problems(raw, key, file)
    for problem in problems:
        typer.echo(problem, err=True)
    if manifest is None or problems:
        raise typer.Exit(1)
    for line in from_disk_lines(manifest.from_disk):
        typer.echo(line)


FROM_DISK = {
    "os_type": "the platform's OS, else the system disk's files (a Windows registry, a Linux "
               "/etc)",
    "platform": "the system disk's /etc/os-release ID (Windows: the registry's ProductName)",
    "architecture": "the ELF header of the system disk's /bin/sh (Windows: the registry)",
    "boot_mode": "the system disk's partitions (an EFI system partition, BIOS boot code)",
}


def from_disk_lines(fields: list[str]) -> list[str]:
    """What the ingest will read from the disk, one line per field; nothing when the manifest
    leaves out only boot_mode (read from the partitions as it always was)."""
    if not set(fields) - {"boot_mode"}:
        return []
    return [f"{name}: not given; will be read from {FROM_DISK[name]} when the disk is imported "
            f"(a disk that does not tell is refused: then write {name} here)" for name in fields]


@app.command("schema")
def schema() -> None:
    """Print the manifest's JSON Schema (the copy editors use is schema/manifest.schema.json)."""
    typer.echo(render_schema_json(), nl=False)


def _key_problems(raw: bytes, key: str | None, file: str) -> list[str]:
    """The pipeline's rules on object names. Without --key the file's own name stands for the
    manifest's: only the data disks are checked against it (a file may be named anything
    locally)."""
    own = key or ("manifest.json" if file == "-" else Path(file).name)
    found = parse_manifest(raw).name_problems(own)
    if key is None:
        found = [(where, text) for where, text in found if where.startswith("data_disks[")]
    return [f"{where}: {text}" for where, text in found]


def _read_at_most(file: str, limit: int) -> bytes | None:
    """The file's first `limit` bytes (enough to tell it is too big), or None after saying why."""
    if file == "-":
        return sys.stdin.buffer.read(limit)
    try:
        with open(file, "rb") as handle:
            return handle.read(limit)
    except FileNotFoundError:
        reason = "no such file; check the path"
    except IsADirectoryError:
        reason = "is a folder, not a manifest file; give the .json file"
    except PermissionError:
        reason = "cannot be read (permission denied); check its permissions"
    except OSError as error:
        reason = f"cannot be read ({error.strerror or error}); check the path"
    typer.echo(f"{file}: {reason}", err=True)
    return None
