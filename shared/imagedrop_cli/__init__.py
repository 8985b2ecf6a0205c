"""`imagedrop` command line. Each module registers its commands on `app`.

The command line is the `cli` extra; without it, `imagedrop` says which extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

_COMMAND_MODULES = ("manifest_cmds", "disk_cmds", "local_cmds", "ops_cmds", "routes_cmds")
# Imported by the command modules; they come with `pip install 'imagedrop[cli]'`.
CLI_EXTRA_MODULES = ("typer", "rich", "alibabacloud_fc20230330")


def missing_cli_modules() -> list[str]:
    return [name for name in CLI_EXTRA_MODULES if importlib.util.find_spec(name) is None]


def _load_app() -> Any:
    from .app import app

    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a module not written yet must not break the others
            if exc.name != f"{__name__}.{name}":
                raise
    return app


if not missing_cli_modules():
    app = _load_app()  # the typer application, with every command registered


def main() -> None:
    missing = missing_cli_modules()
    if missing:
        print(f"imagedrop: the command line needs the `cli` extra ({', '.join(missing)} not "
              "installed): pip install 'imagedrop[cli]' (or the same with your wheel or git URL)",
              file=sys.stderr)
        raise SystemExit(2)
    from .app import run

    run()
