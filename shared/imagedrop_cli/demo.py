"""The README's first command: the whole pipeline, end to end, on the local emulator."""

from __future__ import annotations

import json
import signal
import threading
import time
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from imagedrop.cloud.oss_errors import translate_oss_error
from imagedrop.errors import PermanentCloudError
from imagedrop.model.status import StatusRecord, status_key
from imagedrop_emulator.local.runtime import WATCH_PREFIX

from .local import LocalStack

SAMPLE_DISK = "web.qcow2"


def sample_files() -> tuple[Path, Path]:
    folder = resources.files("imagedrop_cli") / "samples"
    return Path(str(folder / SAMPLE_DISK)), Path(str(folder / f"{SAMPLE_DISK}.json"))


def run_demo(*, speed: float | None = None, faults: str | None = None, timeout: float = 180.0,
             concurrency: int = 4, twins: float = 0.0, seed: int = 0) -> int:
    import oss2
    from mns.account import Account

    import os

    os.environ.setdefault("IMAGEDROP_LOG_LEVEL", "WARNING")  # the progress bar tells the story
    console = Console(stderr=True, soft_wrap=True)  # piped or logged: one line per line, not cut at 80
    if not console.is_terminal:
        console.width = 160
    out = Console()
    disk, manifest = sample_files()
    stop = _stop_on_signals()
    with LocalStack(speed=speed, faults=faults, concurrency=concurrency, twins=twins, seed=seed) as stack:
        info = stack.info
        assert info
        console.print(f"[bold]imagedrop local[/] OSS {info.oss}  ECS {info.ecs}  MNS {info.mns}  "
                      f"(clock x{stack.cloud.clock.speed:g}{', faults ' + faults if faults else ''})")
        auth = oss2.Auth(info.access_key_id, info.access_key_secret)
        bucket = oss2.Bucket(auth, info.oss, info.bucket)
        key = f"{WATCH_PREFIX}{SAMPLE_DISK}"
        _retrying(lambda: bucket.put_object_from_file(key, str(disk)))
        console.print(f"uploaded [cyan]oss://{info.bucket}/{key}[/] ({disk.stat().st_size} bytes)")
        _retrying(lambda: bucket.put_object_from_file(key + ".json", str(manifest)))
        console.print(f"uploaded [cyan]oss://{info.bucket}/{key}.json[/] (the manifest)")

        record = _follow(bucket, status_key("imagedrop/", key + ".json"), timeout, console, stop)
        if stop.is_set():
            console.print("interrupted: the emulator and both functions are stopped")
            return 128 + getattr(stop, "signum", signal.SIGINT)
        inbox = Account(info.mns, info.access_key_id, info.access_key_secret).get_queue(
            "imagedrop-events-inbox")
        inbox.set_encoding(False)  # topic deliveries in SIMPLIFIED format carry the raw body
        events = _drain(inbox)
    if record is None:
        console.print("[red]no terminal state before the timeout[/]")
        return 1
    out.print_json(record.model_dump_json())
    events.sort(key=lambda e: str(e.get("time", "")))  # redelivered ones arrive late, not out of time
    console.print(f"[bold]{len(events)} notifications[/]")
    for event in events:
        console.print(f"  {event.get('type')}: {event.get('data', {}).get('note', '')}")
    ok = record.state == "succeeded"
    console.print(("[green]succeeded[/]: image " + str(record.image_id)) if ok
                  else f"[red]{record.state}[/]: " + "; ".join(p.line() for p in record.problems))
    return 0 if ok else 1


def _retrying(call, tries: int = 8):  # type: ignore[no-untyped-def]
    """The demo's own uploads ride out injected faults the way `imagedrop push` does."""
    import oss2

    for attempt in range(tries):
        try:
            return call()
        except (oss2.exceptions.RequestError, oss2.exceptions.ServerError) as exc:
            if isinstance(translate_oss_error(exc, "demo upload"), PermanentCloudError):
                raise
            time.sleep(0.1 * (attempt + 1))
    return call()


def _stop_on_signals() -> threading.Event:
    """Ctrl-C or SIGTERM ends the demo between two reads, so the emulator stops cleanly."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        stop.signum = signum  # type: ignore[attr-defined]
        stop.set()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handle)
    return stop


def _follow(bucket, key: str, timeout: float, console: Console,  # type: ignore[no-untyped-def]
            stop: threading.Event | None = None) -> StatusRecord | None:
    import oss2

    deadline = time.monotonic() + timeout
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[note]}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("waiting", total=100, note="")
        stop = stop or threading.Event()
        while time.monotonic() < deadline and not stop.is_set():
            try:
                record = StatusRecord.model_validate_json(bucket.get_object(key).read())
            except (oss2.exceptions.NoSuchKey, oss2.exceptions.RequestError, oss2.exceptions.ServerError):
                stop.wait(0.2)
                continue
            pct = int((record.progress or "0").rstrip("%") or 0) if (record.progress or "").endswith("%") else 0
            done = 100 if record.terminal or record.state == "finishing" else pct
            progress.update(task, description=f"{record.state:<10}", completed=done,
                            note=record.history[-1].note[:70] if record.history else "")
            if record.terminal:
                return record
            stop.wait(0.2)
    return None


def _drain(queue) -> list[dict]:  # type: ignore[no-untyped-def]
    from mns.mns_exception import MNSExceptionBase, MNSServerException

    events, failures = [], 0
    while True:
        try:
            message = queue.receive_message(1)
        except MNSExceptionBase as exc:
            if isinstance(exc, MNSServerException) and exc.type == "MessageNotExist":
                return events
            failures += 1  # an injected fault: a lost answer hides the message until it is visible again
            if failures > 20:
                return events
            time.sleep(0.1)
            continue
        body = message.message_body
        try:
            events.append(json.loads(body))
        except ValueError:
            events.append({"type": "unreadable", "data": {"note": str(body)[:80]}})
        try:
            queue.delete_message(message.receipt_handle)
        except MNSExceptionBase:
            pass
