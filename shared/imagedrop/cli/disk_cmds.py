"""`imagedrop inspect PATH|oss://bucket/key [--json]`."""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console
from rich.table import Table

from ..disk import ByteSource, FileSource, Inspection, inspect
from ..errors import ImagedropError
from .app import app

JSON_FIELDS = ("format", "virtual_size", "file_size", "partition_table", "boot_mode", "os_type",
               "importable", "problems", "bytes_read", "reads", "details")


class _Unopenable(Exception):
    """The image cannot be opened; the message is one line for a person."""


@app.command("inspect")
def inspect_cmd(
    path: str = typer.Argument(..., metavar="PATH", help="Disk image file, or oss://bucket/key."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Tell a disk image's format, size, partition table, boot mode and OS family, and whether
    ECS can import it, from a few small reads. Exit 0 when understood (importable or not), 2 when
    not."""
    try:
        result = inspect(_open(path))
    except (_Unopenable, ImagedropError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.model_dump(include=set(JSON_FIELDS)), sort_keys=False))
    else:
        Console().print(_table(path, result))


def _open(path: str) -> ByteSource:
    if path.startswith("oss://"):
        return _open_oss(path)
    if not os.path.exists(path):
        raise _Unopenable("no such file: check the path")
    if not os.path.isfile(path):
        raise _Unopenable("not a regular file: give the path of a disk image file")
    try:
        return FileSource(path)
    except OSError as exc:
        raise _Unopenable(f"cannot open the image ({exc.strerror or exc})") from None


def _open_oss(url: str) -> ByteSource:
    bucket, _, key = url[len("oss://"):].partition("/")
    if not bucket or not key:
        raise _Unopenable("an OSS source is oss://BUCKET/KEY")
    from ..cloud.oss_source import open_oss_source

    try:
        return open_oss_source(url)
    except ImagedropError:
        raise
    except Exception as exc:  # the adapter's SDK errors: report, never a traceback
        raise _Unopenable(f"cannot open the OSS object ({type(exc).__name__}: {exc})") from None


def _table(path: str, r: Inspection) -> Table:
    table = Table(title=path, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    verdict = "[green]yes[/green]" if r.importable else "[red]no[/red]"
    rows = [("format", r.format), ("virtual size", _size(r.virtual_size)),
            ("file size", _size(r.file_size)), ("partition table", r.partition_table),
            ("boot mode", r.boot_mode or "unknown"), ("os type", r.os_type or "unknown"),
            ("importable", verdict), ("cost", f"{r.reads} reads, {r.bytes_read} bytes")]
    for name, value in rows:
        table.add_row(name, value)
    for problem in r.problems:
        table.add_row("[red]problem[/red]", problem)
    for note in r.details.get("notes", []) or []:
        table.add_row("note", str(note))
    return table


def _size(n: int) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"
