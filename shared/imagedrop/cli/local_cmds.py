"""`imagedrop local serve | up | demo`: the emulator, the pipeline on it, and a guided run."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from .app import local_app

SPEED_HELP = "Emulated seconds per real second (imports, delays and timeouts run this much faster)."
FAULTS_HELP = ("Fault knobs, e.g. 'ecs:ImportImage:throttle*2,oss:GetObject:503@0.1,mns:*:latency=20ms' "
               "(also IMAGEDROP_FAULTS).")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


@local_app.command("serve")
def serve(speed: float = typer.Option(1.0, help=SPEED_HELP),
          faults: Optional[str] = typer.Option(None, help=FAULTS_HELP)) -> None:
    """Run the emulated OSS, ECS and MNS on loopback (no functions). First line: endpoints as JSON."""
    from ..local import LocalStack

    stack = LocalStack(speed=speed, faults=faults, with_functions=False)
    info = stack.start()
    print(json.dumps(info.as_json()), flush=True)
    try:
        _wait_for_signal()
    finally:
        stack.stop()


@local_app.command("up")
def up(speed: Optional[float] = typer.Option(None, help=SPEED_HELP + " Default 60."),
       faults: Optional[str] = typer.Option(None, help=FAULTS_HELP)) -> None:
    """The emulator plus both functions on its events (objects under incoming/ in the bucket)."""
    from ..local import LocalStack

    stack = LocalStack(speed=speed, faults=faults)
    info = stack.start()
    print(json.dumps(info.as_json()), flush=True)
    # `imagedrop push/status/… --local` in this folder find the stack here.
    stack_file = Path(".imagedrop-local") / "stack.json"
    stack_file.parent.mkdir(exist_ok=True)
    stack_file.write_text(json.dumps(info.as_json()) + "\n")
    print(f"drop a disk and its manifest under oss://{info.bucket}/incoming/ "
          f"(e.g. imagedrop push … with IMAGEDROP_OSS_ENDPOINT={info.oss}); Ctrl-C stops", file=sys.stderr)
    try:
        _wait_for_signal()
    finally:
        stack.stop()


@local_app.command("demo")
def demo(speed: Optional[float] = typer.Option(None, help=SPEED_HELP + " Default 60."),
         faults: Optional[str] = typer.Option(None, help=FAULTS_HELP),
         timeout: float = typer.Option(180.0, help="Give up after this many real seconds.")) -> None:
    """Start everything, drop the bundled sample image and manifest, follow the import to its end."""
    from ..local.demo import run_demo

    raise typer.Exit(run_demo(speed=speed, faults=faults, timeout=timeout))
