"""How the operator commands look on a terminal: the imports table, a transfer progress bar and
the doctor's ✓/✗ lines (rich). Nothing here decides anything.

Keys, notes, problems and guest facts come from data: they are `Text` (`shown`), never rich
markup, so `[/]` in a key prints as it is and `[link=…]` makes no hyperlink."""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)
from rich.table import Table
from rich.text import Text

from imagedrop.model.status import StatusRecord
from imagedrop.notify.text import plain
from .doctor_checks import Check
from .imports import ImportRow

STATE_STYLE = {"succeeded": "green", "rejected": "red", "failed": "red", "cancelled": "yellow",
               "waiting": "dim", "importing": "cyan", "checking": "cyan", "repairing": "cyan",
               "finishing": "cyan"}


def shown(value: object, style: str = "") -> Text:
    """A value from data as one line of terminal text: no markup read, no escape sequence kept."""
    return Text(plain(value), style=style)


def imports_table(rows: list[ImportRow]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for column in ("key", "state", "progress", "image id", "age", "problem"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(shown(row.key), shown(row.state, STATE_STYLE.get(row.state, "")), shown(row.progress),
                      shown(row.image_id), shown(row.age), shown(row.problem))
    return table


def transfer_progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=False)


def progress_callback(progress: Progress, key: str, size: int) -> Callable[[int, int | None], None]:
    task = progress.add_task(key, total=size)

    def update(consumed: int, total: int | None) -> None:
        progress.update(task, completed=consumed, total=total or size)
    return update


def record_line(record: StatusRecord, key: str = "") -> Text:
    """`key: state progress  note`, the line `watch` prints at each change."""
    note = record.history[-1].note if record.history else ""
    progress = f" {record.progress}" if record.progress and record.progress not in note else ""
    head = [shown(key), ": "] if key else []
    return Text.assemble(*head, shown(record.state, STATE_STYLE.get(record.state, "")),
                         shown(f"{progress}  {note}"))


def final_line(record: StatusRecord) -> Text:
    if record.state == "succeeded":
        repaired = ""
        if record.repair is not None and record.repair.repaired_image_id:
            repaired = (f" (repaired: {', '.join(record.repair.items)}; it replaced "
                        f"{record.repair.original_image_id})")
        return Text.assemble(("succeeded", "green"), shown(f": image {record.image_id} in {record.region}{repaired}"))
    problems = "; ".join(p.line() for p in record.problems) or (record.history[-1].note if record.history else "")
    return Text.assemble(shown(record.state, "red"), ": ", shown(problems))


def check_line(check: Check) -> Text:
    if check.ok:
        return Text.assemble(("✓", "green"), " ", shown(f"{check.name}: {check.detail}"))
    return Text.assemble(("✗", "red"), " ", shown(f"{check.name}: {check.detail}"), "\n    ", ("fix:", "bold"),
                         " ", shown(check.fix))


def json_record(record: StatusRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")
