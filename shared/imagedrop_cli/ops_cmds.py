"""`imagedrop push | status | watch | cancel | replay | doctor`: producers and operators.

Every command takes the connection flags (`--local`, `--endpoint`, `--bucket`, `--region`), prints
one clear line on error and exits with the codes of `imagedrop_cli.ops.exit_codes`:
0 ok/succeeded · 1 failed/cancelled or a doctor check failed · 2 bad input or rejected ·
3 cloud unreachable or an interrupted upload · 4 timed out waiting · 130 stopped waiting (Ctrl-C).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console

from imagedrop.model.state_keys import CANCEL_SUFFIX

from .ops import exit_codes as codes
from .ops.connection import Connection, ConnectionOptions, resolve
from .ops.exit_codes import OpsError
from .app import app

LOCAL_HELP = "Use the `imagedrop local up` stack (IMAGEDROP_LOCAL or .imagedrop-local/stack.json)."
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _guard(command: str, body: Callable[[], int]) -> None:
    """Run a command body; an OpsError becomes one line on stderr and its exit code."""
    try:
        code = body()
    except OpsError as exc:
        err.print(f"imagedrop {command}: {exc.message}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except ValueError as exc:  # option values refused by a pure check
        err.print(f"imagedrop {command}: {exc}", markup=False)
        raise typer.Exit(codes.BAD_INPUT) from None
    raise typer.Exit(code)


def _connect(local: bool, endpoint: Optional[str], bucket: Optional[str], region: Optional[str],
             account_id: Optional[str] = None) -> Connection:
    conn = resolve(ConnectionOptions(local=local, endpoint=endpoint, bucket=bucket, region=region,
                                     account_id=account_id))
    conn.check_local_stack()  # a stopped `local up` is named as such, not as an unreachable endpoint
    return conn


def _as_options(problems: list[str], options: dict[str, Any]) -> list[str]:
    """Without --manifest the manifest is the options: name a missing field by its flag."""
    worded = []
    for line in problems:
        field = line.removeprefix("manifest: ").split(":", 1)[0]
        if field in options and "required but missing" in line:
            line = (f"--{field.replace('_', '-')}: required (or give the whole manifest with --manifest FILE; "
                    "`imagedrop schema` describes it)")
        worded.append(line)
    return worded


def _bucket_in(key: str) -> Optional[str]:
    """`oss://BUCKET/KEY` names its bucket; a plain key leaves it to --bucket or the environment."""
    return key.removeprefix("oss://").partition("/")[0] or None if key.startswith("oss://") else None


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


Local = typer.Option(False, "--local", help=LOCAL_HELP)
Endpoint = typer.Option(None, "--endpoint", envvar="IMAGEDROP_OSS_ENDPOINT", help="OSS endpoint URL.")
Bucket = typer.Option(None, "--bucket", envvar="IMAGEDROP_BUCKET", help="The imagedrop bucket.")
Region = typer.Option(None, "--region", envvar="IMAGEDROP_REGION", help="Region of the bucket and functions.")
AsJson = typer.Option(False, "--json", help="Machine-readable output on stdout.")


@app.command("push")
def push_cmd(
    disk: Path = typer.Argument(..., help="The system disk image (qcow2, vhd, vmdk or raw)."),
    data_disk: list[Path] = typer.Option([], "--data-disk", help="A data disk image; repeat for more."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="The sidecar manifest JSON file."),
    image_name: Optional[str] = typer.Option(None, "--image-name", help="Name of the new image (without --manifest)."),
    os_type: Optional[str] = typer.Option(None, "--os-type", help="linux or windows."),
    platform: Optional[str] = typer.Option(None, "--platform", help="e.g. Ubuntu, CentOS, Others Linux."),
    architecture: Optional[str] = typer.Option(None, "--architecture", help="x86_64, i386 or arm64."),
    boot_mode: Optional[str] = typer.Option(None, "--boot-mode", help="BIOS or UEFI (default: detected)."),
    description: Optional[str] = typer.Option(None, "--description", help="Image description, 2-256 characters."),
    image_family: Optional[str] = typer.Option(None, "--image-family", help="Image family to put the image in."),
    prefix: str = typer.Option("incoming/", "--prefix", help="Folder the trigger watches."),
    wait: bool = typer.Option(False, "--wait", help="Follow the import; exit 0 only when it succeeded."),
    timeout: float = typer.Option(6 * 3600, "--timeout", help="Seconds --wait waits at most."),
    interval: float = typer.Option(5.0, "--interval", help="Seconds between status reads."),
    part_size: int = typer.Option(16 * 1024 * 1024, "--part-size", help="Multipart part size in bytes."),
    threads: int = typer.Option(4, "--threads", help="Parts uploaded in parallel."),
    checkpoint_dir: Path = typer.Option(Path(".imagedrop-push"), "--checkpoint-dir",
                                        help="Where resumable-upload checkpoints live."),
    retries: int = typer.Option(2, "--retries", help="Resumed attempts after an interrupted upload."),
    local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
    region: Optional[str] = Region, as_json: bool = AsJson,
) -> None:
    """Check a disk and its manifest locally, upload both (manifest last), optionally wait."""
    from .ops.push import push
    from .ops.push_preflight import (filled_lines, inspect_local, local_problems, manifest_from_options,
                                      object_prefix, preflight)
    from .ops.render import progress_callback, transfer_progress
    from .ops.uploader import UploadSettings, check_settings

    def body() -> int:
        settings = UploadSettings(part_size, threads, checkpoint_dir, max(0, retries))
        problems = check_settings(settings)
        option_values = {"image_name": image_name, "os_type": os_type, "platform": platform,
                         "architecture": architecture, "boot_mode": boot_mode,
                         "description": description, "image_family": image_family}
        if manifest is not None:
            given = [f"--{k.replace('_', '-')}" for k, v in option_values.items() if v]
            if given:
                problems.append(f"{', '.join(given)}: give the manifest either as --manifest or as options, not both")
            try:
                manifest_bytes = manifest.read_bytes()
            except OSError as exc:
                raise OpsError(f"--manifest {manifest}: cannot read it ({exc.strerror})") from None
        else:
            manifest_bytes = manifest_from_options(option_values, data_disk)
        inspections = inspect_local([disk, *data_disk])
        # The files' own problems first: they need no cloud, no credentials and no running stack.
        problems += local_problems(data_disks=data_disk, manifest_bytes=manifest_bytes, inspections=inspections)
        if not problems:
            conn = _connect(local, endpoint, bucket, region)
            plan = preflight(disk=disk, data_disks=data_disk, manifest_bytes=manifest_bytes,
                             prefix=object_prefix(prefix), bucket=conn.bucket, region=conn.region,
                             inspections=inspections)
            problems += plan.problems
            if not problems:
                problems += _busy(conn, plan.manifest_key)
        if manifest is None:
            problems = _as_options(problems, option_values)
        if problems:
            if as_json:
                _emit_json({"ok": False, "problems": problems})
            for line in problems:
                err.print(f"imagedrop push: {line}", markup=False)
            err.print("nothing was uploaded", style="dim")
            return codes.BAD_INPUT
        if not as_json:
            for line in filled_lines(plan):
                err.print(f"read from the disk: {line}", markup=False)
        oss_bucket = conn.oss_bucket(pool_size=threads)
        with transfer_progress(err) as bar:
            if as_json:
                bar.disable = True
            try:
                pushed = push(oss_bucket, plan, settings,
                              lambda key, size: None if as_json else progress_callback(bar, key, size))
            except KeyboardInterrupt:
                raise OpsError(f"interrupted (Ctrl-C) before the manifest {plan.manifest_key} was uploaded, so "
                               "nothing is imported; run the same command again to resume from the checkpoint "
                               f"in {checkpoint_dir}", codes.INTERRUPTED) from None
        if not as_json:
            err.print(f"uploaded {len(pushed.objects)} objects to oss://{conn.bucket}/; "
                      f"the manifest {pushed.manifest_key} went last (import {pushed.import_id})", markup=False)
        if not wait:
            if as_json:
                _emit_json({"ok": True, "manifest": pushed.manifest_key, "objects": pushed.objects,
                            "import_id": pushed.import_id})
            return codes.OK
        wanted = {pushed.import_id, pushed.rejected_id}
        disks = {key: etag for key, etag in pushed.objects.items() if key != pushed.manifest_key}

        def ours(record: Any) -> bool:
            # The same bytes as an import that succeeded are left alone by the pipeline: that
            # record, unchanged, is the answer (it does not get this push's import id).
            return record.id in wanted or (
                record.state == "succeeded" and record.manifest_etag == pushed.objects[pushed.manifest_key]
                and {d.key: d.etag for d in record.disks} == disks)

        def explain(record: Any) -> Optional[str]:
            return None if record.id in wanted else (
                f"these bytes were imported before, as image {record.image_id}; the pipeline left that record "
                "as it is (change image_name in the manifest to import them again)")
        return _follow_import(conn, pushed.manifest_key, timeout, interval, as_json, accept=ours, explain=explain)

    _guard("push", body)


def _busy(conn: Connection, manifest_key: str) -> list[str]:
    """An import of this manifest still running would refuse the upload: say so before uploading."""
    from .ops.imports import read_record

    record = read_record(conn.oss_bucket(), conn.state_prefix, manifest_key)
    if record is None or record.terminal or record.state == "waiting":
        return []
    return [f"{manifest_key}: import {record.id} of this manifest is still {record.state}; wait for it "
            f"(imagedrop watch {manifest_key}) or cancel it (imagedrop cancel {manifest_key}), then push again"]


def _follow_import(conn: Connection, manifest_key: str, timeout: float, interval: float, as_json: bool,
                   accept: Callable[[Any], bool] = lambda record: True,
                   explain: Callable[[Any], Optional[str]] = lambda record: None) -> int:
    from .ops.imports import follow, read_record
    from .ops.render import final_line, json_record, record_line

    bucket = conn.oss_bucket()

    def read() -> Any:
        record = read_record(bucket, conn.state_prefix, manifest_key)
        return record if record is not None and accept(record) else None

    def changed(record: Any) -> None:
        if not as_json:
            err.print(record_line(record, manifest_key))

    try:
        record = follow(read, changed, timeout=timeout, interval=interval)
    except KeyboardInterrupt:
        raise OpsError(f"{manifest_key}: stopped waiting (Ctrl-C); the import goes on in the cloud: "
                       f"`imagedrop watch {manifest_key}` follows it, `imagedrop cancel {manifest_key}` stops it",
                       codes.INTERRUPTED) from None
    if record is None:
        raise OpsError(f"{manifest_key}: no terminal state after {timeout:g}s; `imagedrop watch "
                       f"{manifest_key}` follows it further", codes.TIMED_OUT)
    if as_json:
        _emit_json(json_record(record))
    else:
        note = explain(record)
        if note:
            err.print(f"{manifest_key}: {note}", markup=False)
        out.print(final_line(record))
    return codes.exit_code_for_state(record.state)


@app.command("status")
def status_cmd(prefix: str = typer.Argument("", help="Only manifests whose key starts with this."),
               local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
               region: Optional[str] = Region, as_json: bool = AsJson) -> None:
    """A table of imports: key, state, progress, image id, age, problem."""
    from .ops.imports import list_records, row_for
    from .ops.render import imports_table

    def body() -> int:
        conn = _connect(local, endpoint, bucket, region)
        records = sorted(list_records(conn.oss_bucket(), conn.state_prefix, prefix),
                         key=lambda r: r.updated_at or r.created_at, reverse=True)
        rows = [row_for(r, time.time()) for r in records]
        if as_json:
            _emit_json([row.as_json() for row in rows])
        elif rows:  # piped or captured: one line per import rather than wrapped cells
            Console(highlight=False, width=None if sys.stdout.isatty() else 400).print(imports_table(rows))
        else:
            err.print(f"no imports under {conn.state_prefix}status/{prefix}", markup=False)
        return codes.OK

    _guard("status", body)


@app.command("watch")
def watch_cmd(key: str = typer.Argument(..., help="The manifest key (or its disk's key)."),
              timeout: float = typer.Option(6 * 3600, "--timeout", help="Seconds to wait at most."),
              interval: float = typer.Option(2.0, "--interval", help="Seconds between status reads."),
              local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
              region: Optional[str] = Region, as_json: bool = AsJson) -> None:
    """Follow one import until it ends; exit code like `push --wait`."""
    from .ops.imports import manifest_key_of, read_record

    def body() -> int:
        conn = _connect(local, endpoint, bucket or _bucket_in(key), region)
        manifest_key = manifest_key_of(key)
        if read_record(conn.oss_bucket(), conn.state_prefix, manifest_key) is None:
            raise OpsError(f"{manifest_key}: no import has this manifest key; `imagedrop status` lists them")
        return _follow_import(conn, manifest_key, timeout, interval, as_json)

    _guard("watch", body)


@app.command("cancel")
def cancel_cmd(key: str = typer.Argument(..., help="The manifest key (or its disk's key)."),
               local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
               region: Optional[str] = Region, as_json: bool = AsJson) -> None:
    """Ask the pipeline to cancel an import (uploads the `<manifest>.cancel` marker)."""
    from .ops.imports import manifest_key_of, read_record
    from .ops.uploader import put_small

    def body() -> int:
        conn = _connect(local, endpoint, bucket or _bucket_in(key), region)
        manifest_key = manifest_key_of(key)
        oss_bucket = conn.oss_bucket()
        record = read_record(oss_bucket, conn.state_prefix, manifest_key)
        if record is None:
            raise OpsError(f"{manifest_key}: no import has this manifest key; `imagedrop status` lists them")
        if record.terminal:
            raise OpsError(f"{manifest_key}: the import already ended {record.state}; nothing to cancel")
        marker = manifest_key + CANCEL_SUFFIX
        put_small(oss_bucket, marker, json.dumps({"requested_by": "imagedrop cancel"}).encode())
        if as_json:
            _emit_json({"manifest": manifest_key, "marker": marker, "was": record.state, "task_id": record.task_id})
        else:
            out.print(f"cancel requested for {manifest_key} (it was {record.state}"
                      f"{', task ' + record.task_id if record.task_id else ''}); `imagedrop watch {manifest_key}` "
                      "shows it end cancelled", markup=False)
        return codes.OK

    _guard("cancel", body)


@app.command("replay")
def replay_cmd(prefix: str = typer.Argument(..., help="Objects under this prefix (inside the watched one)."),
               function: str = typer.Option("imagedrop-ingest", "--function", help="The ingest function."),
               account_id: Optional[str] = typer.Option(None, "--account-id", envvar="IMAGEDROP_ACCOUNT_ID",
                                                        help="Alibaba Cloud account id (for the FC endpoint)."),
               dry_run: bool = typer.Option(False, "--dry-run", help="List what would be replayed; invoke nothing."),
               local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
               region: Optional[str] = Region, as_json: bool = AsJson) -> None:
    """Feed manifests (and their disks) to the ingest function again, asynchronously through FC."""
    from rich.text import Text

    from .ops.render import shown
    from .ops.replay import replay

    def body() -> int:
        conn = _connect(local, endpoint, bucket, region, account_id)

        def show(item: Any) -> None:
            if not as_json:
                state = shown(item.error, "red") if item.error else ("would invoke" if dry_run else
                                                                      f"invoked ({item.request_id})")
                out.print(Text.assemble(f"{item.role:<8} ", shown(item.key), "  ", state))

        done = replay(conn, prefix, function=function, dry_run=dry_run, on_item=show)
        if as_json:
            _emit_json([d.as_json() for d in done])
        elif not done:
            err.print(f"no manifests under oss://{conn.bucket}/{prefix}", markup=False)
        failed = [d for d in done if d.error]
        return codes.CLOUD_ERROR if failed else codes.OK

    _guard("replay", body)


@app.command("doctor")
def doctor_cmd(account_id: Optional[str] = typer.Option(None, "--account-id", envvar="IMAGEDROP_ACCOUNT_ID",
                                                      help="Alibaba Cloud account id (for the MNS and FC endpoints)."),
               queue: Optional[str] = typer.Option(None, "--queue", envvar="IMAGEDROP_QUEUE",
                                                   help="MNS queue the poller reads (s.yaml: imagedrop-track)."),
               topic: Optional[str] = typer.Option(None, "--topic", envvar="IMAGEDROP_TOPIC",
                                                   help="MNS topic notifications go to."),
               ingest: str = typer.Option("imagedrop-ingest", "--ingest-function", help="Name of the ingest function."),
               poller: str = typer.Option("imagedrop-poller", "--poller-function", help="Name of the poller function."),
               local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
               region: Optional[str] = Region, as_json: bool = AsJson) -> None:
    """Check a deployment with read-only calls; say what is missing and how to fix it."""
    from imagedrop.config import read_env

    from .ops.doctor_probes import Deployment, run_doctor
    from .ops.render import check_line

    def body() -> int:
        conn = _connect(local, endpoint, bucket, region, account_id)
        deployment = Deployment(ingest, poller, queue or conn.queue, topic or conn.topic,
                                repair=read_env().get("repair", "off"))
        checks = run_doctor(conn, deployment, on_check=lambda c: None if as_json else out.print(check_line(c)))
        bad = [c for c in checks if not c.ok]
        if as_json:
            _emit_json({"ok": not bad, "checks": [c.as_json() for c in checks]})
        else:
            out.print(f"{len(checks) - len(bad)} of {len(checks)} checks passed")
        return codes.CHECK_FAILED if bad else codes.OK

    _guard("doctor", body)
