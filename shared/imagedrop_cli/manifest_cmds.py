"""`imagedrop validate` and `imagedrop schema`."""

from __future__ import annotations

import sys

import typer

from imagedrop.manifest import MAX_MANIFEST_BYTES, manifest_problems, render_schema_json
from .app import app


@app.command("validate")
def validate(
    file: str = typer.Argument(..., metavar="FILE",
                               help="Manifest JSON file to check ('-' reads standard input)."),
) -> None:
    """Check a sidecar manifest: silent with exit 0 when valid, one line per problem on stderr
    and exit 1 when not."""
    raw = _read_at_most(file, MAX_MANIFEST_BYTES + 1)
    if raw is None:
        raise typer.Exit(1)
    problems = manifest_problems(raw)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)


@app.command("schema")
def schema() -> None:
    """Print the manifest's JSON Schema (the copy editors use is schema/manifest.schema.json)."""
    typer.echo(render_schema_json(), nl=False)


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
