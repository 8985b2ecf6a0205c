"""The typer application every command module registers on."""

from __future__ import annotations

from importlib import metadata
from typing import Any, Optional

import typer

app = typer.Typer(
    name="imagedrop",
    help="Import disk images into Alibaba Cloud ECS by dropping them into OSS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
local_app = typer.Typer(help="The local emulator of OSS, ECS and MNS, and the pipeline on it.",
                        no_args_is_help=True)
app.add_typer(local_app, name="local")


def version() -> str:
    try:
        return metadata.version("imagedrop")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"imagedrop {version()}")
        raise typer.Exit()


@app.callback()
def _root(show_version: Optional[bool] = typer.Option(
        None, "--version", callback=_print_version, is_eager=True,
        help="Print imagedrop's version and exit.")) -> None:
    """Import disk images into Alibaba Cloud ECS by dropping them into OSS."""


def _no_type(ctx: Any) -> None:
    return None


def _plain_flags(command: Any) -> None:
    """A flag takes no value: help shows `--json`, not `--json <bool>`."""
    for param in command.params:
        if getattr(param, "is_flag", False):
            param.display_type_rich = _no_type
    made_help = command.get_help_option

    def help_option(ctx: Any) -> Any:  # the -h/--help flag is made as help is shown
        option = made_help(ctx)
        if option is not None:
            option.display_type_rich = _no_type
        return option
    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _plain_flags(sub)


def command() -> Any:
    """The click command `imagedrop` runs, with typer's shell completion options."""
    built = typer.main.get_command(app)
    _plain_flags(built)
    return built


def run() -> None:
    command()(prog_name="imagedrop")
