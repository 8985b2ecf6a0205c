"""The README's generated sections say what the code says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from imagedrop.docs import SECTIONS, refresh, sample_event
from imagedrop.decide.error_advice import ERROR_ADVICE

README = Path(__file__).parents[3] / "README.md"


def test_generated_sections_are_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert refresh(text) == text, "run: python -m imagedrop.docs --write README.md"


def test_every_generated_section_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for name in SECTIONS:
        assert f"<!-- BEGIN {name} -->" in text and f"<!-- END {name} -->" in text


def test_every_known_error_code_is_in_the_troubleshooting_table() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- BEGIN troubleshooting -->")[1].split("<!-- END troubleshooting -->")[0]
    for code in ERROR_ADVICE:
        assert f"`{code}`" in table


def test_the_sample_cloudevent_is_a_cloudevent_of_a_terminal_state() -> None:
    event = sample_event()
    assert event["specversion"] == "1.0"
    assert event["type"] == "imagedrop.import.succeeded"
    assert event["subject"] == event["data"]["manifest"]  # type: ignore[index]
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- BEGIN sample-cloudevent -->\n```json\n(.*?)```", text, re.S)
    assert block and json.loads(block.group(1)) == event
