"""The demo's closing summary: a few lines a person reads, and each notification on one line."""

from __future__ import annotations

from imagedrop.model.status import CheckItem, RepairRecord, StatusRecord
from imagedrop_cli.ops.render import event_line, summary_lines
from imagedrop_disk.facts.model import Finding


def _record(**fields: object) -> StatusRecord:
    return StatusRecord(id="idp-1", state="succeeded", bucket="b", manifest="k.json",
                        region="cn-hangzhou", image_id="m-new", **fields)  # type: ignore[arg-type]


def test_the_summary_names_what_was_filled_found_fixed_repaired_and_notified() -> None:
    record = _record(
        filled={"boot_mode": {"value": "UEFI", "from": "disk: an EFI system partition"}},
        check=[CheckItem(item="GUESTOS.Fstab", predicted="High", actual="High", value="uuid"),
               CheckItem(item="GUESTOS.Platform", predicted=None, actual="none", value="Ubuntu")],
        findings=[Finding(item="GUESTOS.Virtio", risk="High", fact="no virtio_blk", fix="install it")],
        fixes=["BootMode set to UEFI"],
        repair=RepairRecord(items=["fstab"], original_image_id="m-old", repaired_image_id="m-new",
                            status="SUCCESS"))
    lines = summary_lines(record, notified=5)
    assert lines[0].plain.startswith("succeeded: image m-new in cn-hangzhou")
    assert lines[0].spans[0].style == "green" and lines[0].spans[0].end == len("succeeded")
    assert [line.plain for line in lines[1:]] == [
        "  filled from the disk  boot_mode = UEFI (disk: an EFI system partition)",
        "  found                 GUESTOS.Fstab High (uuid)",
        "                        GUESTOS.Virtio (predicted from the disk)",
        "  fixed                 BootMode set to UEFI",
        "  repaired              fstab (success: image m-new)",
        "  notified              5 events on the topic",
    ]


def test_an_import_with_nothing_to_say_says_nothing_once_per_line() -> None:
    lines = summary_lines(_record(), notified=1)
    assert [line.plain for line in lines[1:]] == [f"  {label:<22}nothing" for label in
                         ("filled from the disk", "found", "fixed", "repaired")] + [
        "  notified              1 event on the topic"]


def test_an_event_is_one_line_of_time_state_and_note() -> None:
    event = {"type": "imagedrop.import.checking", "time": "2026-12-03T22:44:22.123Z",
             "data": {"note": "image m-1 is Available; image check Processing"}}
    assert event_line(event) == "  22:44:22  checking    image m-1 is Available; image check Processing"
    assert event_line({"type": "unreadable", "data": "x"}) == "            unreadable  "


def test_markup_and_escapes_from_data_stay_text() -> None:
    record = _record(filled={"platform": {"value": "[link=https://evil.example]x[/link]",
                                          "from": "disk: \x1b[31mred\x1b[0m"}})
    lines = summary_lines(record, notified=1)
    assert "[link=https://evil.example]x[/link]" in lines[1].plain and not lines[1].spans
    assert "\x1b" not in lines[1].plain
    event = {"time": "2026-12-03T22:44:22Z", "type": "imagedrop.import.failed",
             "data": {"note": "bad\x1b]8;;https://evil.example\x1b\\link"}}
    assert "\x1b" not in event_line(event)
