"""`imagedrop local serve | up | demo`: the emulator, the pipeline on it, and a guided run."""

from __future__ import annotations

import importlib.util
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .app import local_app

if TYPE_CHECKING:
    from .local import LocalStack
    from .local import StackInfo

SPEED_HELP = "Emulated seconds per real second (imports, delays and timeouts run this much faster)."
FAULTS_HELP = ("Fault knobs, comma-separated, e.g. `ecs:ImportImage:throttle*2` (the next two calls), "
               "`oss:GetObject:503@0.1` (one call in ten), `mns:*:latency=20ms`, `ecs:ImportImage:lost-reset@0.3` "
               "(carried out, then the answer lost); also IMAGEDROP_FAULTS.")

CONCURRENCY_HELP = "Function instances running at once, as Function Compute runs many (default 4)."
TWINS_HELP = ("Share of events also delivered to a second instance at the same moment, as the "
              "platform's at-least-once delivery does (0 to 1; --seed picks which).")


def _stack(**kwargs: object) -> "LocalStack":
    """A LocalStack, or one line saying which option is wrong (a bad fault spec, a negative speed)."""
    if importlib.util.find_spec("responses") is None:
        typer.echo("imagedrop local: the local emulator is the `emulator` extra (responses is not "
                   "installed): pip install 'imagedrop[cli,emulator]'", err=True)
        raise typer.Exit(2)
    from .local import LocalStack

    speed = kwargs.get("speed")
    if isinstance(speed, float) and not 0 <= speed < float("inf"):  # also nan
        typer.echo(f"imagedrop local: --speed {speed:g}: must be 0 or more (0 stops the emulated clock)", err=True)
        raise typer.Exit(2)
    concurrency = kwargs.get("concurrency")
    if isinstance(concurrency, int) and concurrency < 1:
        typer.echo(f"imagedrop local: --concurrency {concurrency}: must be 1 or more", err=True)
        raise typer.Exit(2)
    twins = kwargs.get("twins")
    if isinstance(twins, float) and not 0 <= twins <= 1:  # also nan
        typer.echo(f"imagedrop local: --twins {twins:g}: must be between 0 and 1", err=True)
        raise typer.Exit(2)
    from .local import StackSettingError

    try:
        return LocalStack(**kwargs)
    except StackSettingError as exc:  # IMAGEDROP_LOCAL_SPEED, which --speed defaults to
        typer.echo(f"imagedrop local: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # the fault spec parser says what form it expects
        typer.echo(f"imagedrop local: --faults (or IMAGEDROP_FAULTS): {exc}", err=True)
        raise typer.Exit(2) from None


def _start(stack: "LocalStack") -> "StackInfo":
    """Start `stack`, or one line naming the setting the functions would refuse, and exit 2."""
    from imagedrop.errors import ConfigError

    try:
        return stack.start()
    except ConfigError as exc:
        typer.echo(f"imagedrop local: {exc} (the functions read these from the environment)",
                   err=True)
        raise typer.Exit(2) from None


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
    stack = _stack(speed=speed, faults=faults, with_functions=False)
    info = stack.start()
    print(json.dumps(info.as_json()), flush=True)
    print("emulated OSS, ECS and MNS are up (no functions: `imagedrop local up` runs them too); "
          "IMAGEDROP_LOCAL='<the JSON line above>' points imagedrop commands here; Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        _wait_for_signal()
    finally:
        stack.stop()


@local_app.command("up")
def up(speed: Optional[float] = typer.Option(None, help=SPEED_HELP + " Default 60."),
       faults: Optional[str] = typer.Option(None, help=FAULTS_HELP),
       concurrency: int = typer.Option(4, help=CONCURRENCY_HELP),
       twins: float = typer.Option(0.05, help=TWINS_HELP),
       seed: int = typer.Option(0, help="Seed of the twin deliveries.")) -> None:
    """The emulator plus both functions on its events (objects under incoming/ in the bucket)."""
    stack = _stack(speed=speed, faults=faults, concurrency=concurrency, twins=twins, seed=seed)
    info = _start(stack)
    line = json.dumps(info.as_json())
    print(line, flush=True)
    # `imagedrop push/status/… --local` in this folder find the stack here.
    stack_file = (Path(".imagedrop-local") / "stack.json").absolute()
    stack_file.parent.mkdir(exist_ok=True)
    stack_file.write_text(line + "\n")
    print(f"drop a disk and its manifest under oss://{info.bucket}/incoming/, e.g. "
          f"`imagedrop push DISK --manifest DISK.json --local --wait` from this folder "
          f"(elsewhere: IMAGEDROP_LOCAL={stack_file}); Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        _wait_for_signal()
    finally:
        stack.stop()
        _forget(stack_file, line)


def _forget(stack_file: Path, line: str) -> None:
    """Remove the stack file on the way out, unless another `local up` has written its own since."""
    try:
        if stack_file.read_text().strip() == line:
            stack_file.unlink()
    except OSError:
        pass


@local_app.command("demo")
def demo(speed: Optional[float] = typer.Option(None, help=SPEED_HELP + " Default 60."),
         faults: Optional[str] = typer.Option(None, help=FAULTS_HELP),
         timeout: float = typer.Option(180.0, help="Give up after this many real seconds."),
         concurrency: int = typer.Option(4, help=CONCURRENCY_HELP),
         twins: float = typer.Option(0.05, help=TWINS_HELP),
         seed: int = typer.Option(0, help="Seed of the twin deliveries."),
         as_json: bool = typer.Option(False, "--json", help="Print the status record (JSON) "
                                      "instead of the summary.")) -> None:
    """Start everything, drop the bundled sample image and manifest, follow the import to its end,
    then sum it up: state, image, what was filled from the disk, found, fixed, repaired, notified."""
    from imagedrop.errors import ConfigError

    # the options, checked before anything starts
    _stack(speed=speed, faults=faults, with_functions=False, concurrency=concurrency, twins=twins)
    from .demo import run_demo

    try:
        code = run_demo(speed=speed, faults=faults, timeout=timeout, concurrency=concurrency,
                        twins=twins, seed=seed, as_json=as_json)
    except ConfigError as exc:
        typer.echo(f"imagedrop local: {exc} (the functions read these from the environment)",
                   err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)
