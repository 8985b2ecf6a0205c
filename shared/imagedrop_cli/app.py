"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="imagedrop",
    help="Import disk images into Alibaba Cloud ECS by dropping them into OSS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
local_app = typer.Typer(help="The local emulator of OSS, ECS and MNS, and the pipeline on it.",
                        no_args_is_help=True)
app.add_typer(local_app, name="local")
