"""`imagedrop inspect PATH|oss://bucket/key [--json]`."""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from imagedrop_disk import ByteSource, FileSource, Inspection, inspect
from imagedrop_disk.errors import DiskError

from imagedrop.errors import ImagedropError
from .app import app

JSON_FIELDS = ("format", "virtual_size", "file_size", "partition_table", "boot_mode", "os_type",
               "importable", "problems", "bytes_read", "reads", "details", "guest", "findings")


class _Unopenable(Exception):
    """The image cannot be opened; the message is one line for a person."""


@app.command("inspect")
def inspect_cmd(
    path: str = typer.Argument(..., metavar="PATH", help="Disk image file, or oss://bucket/key."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    local: bool = typer.Option(False, "--local", help="For oss://: the `imagedrop local up` stack "
                               "(IMAGEDROP_LOCAL or .imagedrop-local/stack.json)."),
) -> None:
    """Tell a disk image's format, size, partition table, boot mode and OS family, and whether
    ECS can import it, from a few small reads. Exit 0 when understood (importable or not), 2 when
    not."""
    try:
        result = inspect(_open(path, local))
    except (_Unopenable, ImagedropError, DiskError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.model_dump(include=set(JSON_FIELDS)), sort_keys=False))
    else:
        Console().print(_table(path, result))


def _open(path: str, local: bool = False) -> ByteSource:
    if path.startswith("oss://"):
        return _open_oss(path, local)
    if not os.path.exists(path):
        raise _Unopenable("no such file: check the path")
    if not os.path.isfile(path):
        raise _Unopenable("not a regular file: give the path of a disk image file")
    try:
        return FileSource(path)
    except OSError as exc:
        raise _Unopenable(f"cannot open the image ({exc.strerror or exc})") from None


def _open_oss(url: str, local: bool = False) -> ByteSource:
    bucket, _, key = url[len("oss://"):].partition("/")
    if not bucket or not key:
        raise _Unopenable("an OSS source is oss://BUCKET/KEY")
    import oss2

    from .ops.connection import ConnectionOptions, resolve
    from .ops.oss_source import open_oss_source
    from .ops.exit_codes import OpsError
    from .ops.net_errors import short_reason

    if not oss2.is_valid_bucket_name(bucket):
        raise _Unopenable(f"bucket {bucket!r}: not an OSS bucket name (3-63 lowercase letters, digits and '-', "
                          "starting with a letter or digit); check the name")
    try:
        if local:  # a stopped `local up` is named as such, not as an unreachable endpoint
            resolve(ConnectionOptions(local=True)).check_local_stack()
        try:
            return open_oss_source(url, local=local)
        except (ImagedropError, DiskError) as exc:
            if str(exc).startswith("no object"):
                raise _Unopenable(_why_absent(bucket, str(exc), local)) from None
            raise
    except OpsError as exc:
        raise _Unopenable(exc.message) from None
    except (_Unopenable, ImagedropError, DiskError):
        raise
    except Exception as exc:  # the adapter's SDK errors: report, never a traceback
        raise _Unopenable(f"cannot open the OSS object ({short_reason(exc)})") from None


def _why_absent(bucket: str, no_object: str, local: bool) -> str:
    """A missing object, or a missing bucket: they need different fixes."""
    import oss2

    from .ops.connection import ConnectionOptions, resolve

    try:
        conn = resolve(ConnectionOptions(bucket=bucket, local=local))
        conn.oss_bucket().get_bucket_info()
    except oss2.exceptions.NoSuchBucket:
        local = " (the local stack's bucket is imagedrop-local)" if conn.local else ""
        return f"no bucket {bucket!r} at {conn.oss_endpoint}: check the bucket name{local}"
    except Exception:  # no verdict on the bucket; the object is what was asked for
        pass
    return no_object


def _table(path: str, r: Inspection) -> Table:
    from .ops.render import shown

    # every value read from the disk (guest names, fstab lines, notes) is text, never markup
    table = Table(title=shown(path), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    verdict = Text("yes", style="green") if r.importable else Text("no", style="red")
    rows: list[tuple[str, str | Text]] = [("format", r.format), ("virtual size", _size(r.virtual_size)),
            ("file size", _size(r.file_size)), ("partition table", r.partition_table),
            ("boot mode", r.boot_mode or "unknown"), ("os type", r.os_type or "unknown"),
            ("importable", verdict), ("cost", f"{r.reads} reads, {r.bytes_read} bytes")]
    rows += _guest_rows(r)
    for name, value in rows:
        table.add_row(name, value if isinstance(value, Text) else shown(value))
    for f in r.findings:
        colour = "red" if f.risk == "High" else "yellow"
        table.add_row(shown(f.item, colour), shown(f"{f.risk}: {f.fact}. Fix: {f.fix}"))
    for problem in r.problems:
        table.add_row(Text("problem", style="red"), shown(problem))
    for note in r.details.get("notes", []) or []:
        table.add_row("note", shown(note))
    return table


def _guest_rows(r: Inspection) -> list[tuple[str, str]]:
    g = r.guest
    if g is None:
        return [("guest", "unknown (no file system read)")]

    def say(value: object) -> str:
        if value is None:
            return "unknown"
        return ("yes" if value else "no") if isinstance(value, bool) else str(value)

    what = ", ".join(str(v) for v in (g.architecture, g.root_fs, g.kernel and f"kernel {g.kernel}")
                     if v)
    config = (f"virtio {say(g.virtio)}, cloud-init {say(g.cloud_init)}, "
              f"fstab / by {say(g.fstab_root)}, SELinux {say(g.selinux)}, DHCP {say(g.dhcp)}, "
              f"MAC pinned {say(g.mac_pinned)}, serial console {say(g.serial_console)}")
    return [("guest", f"{g.name or g.distro or 'unknown'}" + (f" ({what})" if what else "")),
            ("platform", say(g.platform)), ("guest config", config)]


def _size(n: int) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"
