"""What the operator commands print from data is text: a key or a guest name holding `[/]`
neither breaks `status`, `watch` or `inspect` (rich's MarkupError) nor styles anything, `[link=…]`
makes no hyperlink, and no escape sequence reaches the terminal."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from imagedrop.model.status import Event, Problem, StatusRecord
from imagedrop_cli.disk_cmds import _table
from imagedrop_cli.ops.doctor_checks import Check
from imagedrop_cli.ops.imports import ImportRow
from imagedrop_cli.ops.render import check_line, final_line, imports_table, record_line
from imagedrop_disk.facts.model import Finding, GuestFacts
from imagedrop_disk.model import Inspection

KEY = "incoming/[/]team[link=https://evil.example/sso]click[/link]\x1b]8;;https://evil.example\x1b\\x.json"
NOTE = "[bold red]approved[/]\n#### forged \x1b[2J\x1b[5mred"


def printed(renderable: RenderableType) -> str:
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="truecolor", width=400).print(renderable)
    return buffer.getvalue()


def assert_text(output: str) -> None:
    assert "\x1b]8;" not in output                  # no OSC-8 hyperlink
    assert "\x1b[2J" not in output and "\x1b[5m" not in output   # no escape sequence from data
    assert "[/]" in output and "[link=https://evil.example/sso]" in output


def record(state: str = "failed") -> StatusRecord:
    return StatusRecord(id="i", state=state, bucket="b", manifest=KEY, region="cn-hangzhou", image_id="m-[/]",
                        problems=[Problem(where="[/]", rule=NOTE, fix="[link=https://evil.example/sso]x")],
                        history=[Event(at="2026-11-03T02:20:00Z", state=state, note=NOTE)])


def test_status_table_shows_keys_and_problems_as_text() -> None:
    row = ImportRow(key=KEY, state="failed", progress="[/]", image_id="m-1", age="1m", problem=NOTE + KEY)
    assert_text(printed(imports_table([row])))


def test_watch_lines_show_notes_as_text() -> None:
    for line in (record_line(record(), KEY), final_line(record()), final_line(record("succeeded"))):
        output = printed(line)
        assert "\x1b]8;" not in output and "\x1b[5m" not in output
    assert_text(printed(record_line(record(), KEY)) + printed(final_line(record())))
    assert "[bold red]approved[/] #### forged red" in printed(record_line(record(), KEY))


def test_doctor_lines_show_cloud_messages_as_text() -> None:
    assert_text(printed(check_line(Check(name="bucket", ok=False, detail=KEY, fix=NOTE))))


def test_inspect_table_shows_guest_facts_as_text() -> None:
    guest = GuestFacts(os_type="linux", name="Evil [/] [link=https://evil.example/sso]OS[/link]",
                       kernel="\x1b[5m6.1", fstab_devices=[KEY], notes=[NOTE])
    result = Inspection(format="raw", virtual_size=1, file_size=1, importable=True, guest=guest,
                        findings=[Finding(item="GUESTOS.[/]", risk="High", fact=KEY, fix=NOTE)],
                        problems=[NOTE], details={"notes": [KEY]})
    output = printed(_table(KEY, result))
    assert_text(output)
    assert "Evil [/] [link=https://evil.example/sso]OS[/link]" in output
