"""`imagedrop` command line. Each module registers its commands on `app`."""

from __future__ import annotations

import importlib

from .app import app

_COMMAND_MODULES = ("manifest_cmds", "disk_cmds", "local_cmds", "ops_cmds", "routes_cmds")

for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a module not written yet must not break the others
        if exc.name != f"{__name__}.{_name}":
            raise


def main() -> None:
    app()
