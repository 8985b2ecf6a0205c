"""The final line of `imagedrop watch`/`push` names a repair and the image it replaced."""

from __future__ import annotations

from rich.text import Text

from imagedrop.model.status import RepairRecord, StatusRecord
from imagedrop_cli.ops.render import final_line


def _record(**fields: object) -> StatusRecord:
    return StatusRecord(id="idp-1", state="succeeded", bucket="b", manifest="k.json",
                        region="cn-hangzhou", image_id="m-new", **fields)  # type: ignore[arg-type]


def test_a_repaired_import_says_what_replaced_what() -> None:
    repair = RepairRecord(items=["fstab", "cloudinit"], original_image_id="m-old",
                          repaired_image_id="m-new", status="SUCCESS")
    assert final_line(_record(repair=repair)) == Text.from_markup(
        "[green]succeeded[/]: image m-new in cn-hangzhou (repaired: fstab, cloudinit; it replaced "
        "m-old)")


def test_an_import_without_repair_reads_as_before() -> None:
    assert final_line(_record()) == Text.from_markup("[green]succeeded[/]: image m-new in cn-hangzhou")
