"""Text that came from data stays text in every channel: no forged line, no markup, no escape
sequence, whatever a key, a guest file or a cloud message holds."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from imagedrop.model.status import Event, Problem, StatusRecord
from imagedrop.notify import cloudevent
from imagedrop.notify.channels.dingtalk import dingtalk_message
from imagedrop.notify.channels.lark import lark_message
from imagedrop.notify.channels.slack import slack_message
from imagedrop.notify.channels.teams import teams_message
from imagedrop.notify.text import headline, plain

FORGED = ("/srv/data\n#### imagedrop: incoming/other.json is succeeded\n"
          "- note: approved, sign in at https://evil.example/sso")
ESCAPES = "\x1b[31mred\x1b[0m \x1b[2J\x9b1m"
OSC8 = "\x1b]8;;https://evil.example/sso\x1b\\click here\x1b]8;;\x1b\\"
MARKUP = "[/] [link=https://evil.example]x[/link] <!channel> <https://evil.example|ok> [a](https://evil.example) **b** `c`"
HOSTILE = (FORGED, ESCAPES, OSC8, MARKUP, "bidi\u202eexe.txt zero\u200bwidth\u2028line")


def hostile_event() -> dict[str, Any]:
    record = StatusRecord(
        id="id-1", state="failed", bucket="b", manifest="incoming/team-a/" + MARKUP + ".json",
        region="cn-hangzhou", problems=[Problem(where="fstab", rule=text, fix=text) for text in HOSTILE],
        advice=list(HOSTILE), history=[Event(at="2026-11-03T02:20:00Z", state="failed", note=FORGED)])
    return cloudevent(record, source="s", now=0)


def test_plain_leaves_one_line_without_controls_or_escape_sequences() -> None:
    for text in HOSTILE:
        line = plain(text)
        assert not any(c in line for c in "\n\r\x1b\x9b\x07\u202e\u200b\u2028"), repr(line)
    assert plain(OSC8) == "click here"
    assert plain(ESCAPES) == "red "
    assert plain(FORGED).startswith("/srv/data #### imagedrop")


def _dingtalk(event: dict[str, Any]) -> list[str]:
    return dingtalk_message(event)["markdown"]["text"].split("\n")


def _slack(event: dict[str, Any]) -> list[str]:
    message = slack_message(event)
    (block,) = message["blocks"]
    assert block["text"]["type"] == "plain_text"   # Slack shows it as it is
    assert "\n" not in message["text"] and "<" not in message["text"]
    return block["text"]["text"].split("\n")


def _lark(event: dict[str, Any]) -> list[str]:
    post = lark_message(event)["content"]["post"]["en_us"]
    assert all(len(line) == 1 and line[0]["tag"] == "text" for line in post["content"])
    return [post["title"], *(line[0]["text"] for line in post["content"])]


def _teams(event: dict[str, Any]) -> list[str]:
    card = teams_message(event)["attachments"][0]["content"]
    assert {block["type"] for block in card["body"]} == {"RichTextBlock"}   # no TextBlock markdown
    runs = [inline for block in card["body"] for inline in block["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}
    return [run["text"] for run in runs]


@pytest.mark.parametrize("lines_of", [_dingtalk, _slack, _lark, _teams])
def test_no_channel_shows_a_forged_line_markup_or_an_escape(lines_of: Callable[[dict[str, Any]], list[str]]) -> None:
    event = hostile_event()
    title, expected = headline(event)
    lines = [line for line in lines_of(event) if line]
    # exactly the title and one line per value: nothing from data started a line of its own
    assert len(lines) == 1 + len(expected)
    starts = [line.lstrip("-• ") for line in lines[1:]]
    assert not [s for s in starts if s.startswith(("####", "＃", "imagedrop:", "note: approved"))]
    assert sum("is succeeded" in line for line in lines) == 3   # inside the note, problem, advice lines
    text = json.dumps(lines, ensure_ascii=False)
    for bad in ("\\u001b", "\\u009b", "\\u202e", "\\u2028"):
        assert bad not in text


def test_dingtalk_markdown_gets_no_link_image_emphasis_or_html_from_data() -> None:
    text = dingtalk_message(hostile_event())["markdown"]["text"]
    body = text.split("\n", 1)[1]       # the title's own `####` is ours
    for markup in ("](", "[", "<", "**", "`", "#"):
        assert markup not in body, markup


def test_slack_fallback_text_is_escaped() -> None:
    assert "&lt;!channel&gt;" in slack_message(hostile_event())["text"]


def test_slack_block_is_cut_to_its_limit_without_a_broken_entity() -> None:
    record = StatusRecord(id="i", state="failed", bucket="b", manifest="k.json", region="r",
                          advice=["&" * 1200] * 5)
    text = slack_message(cloudevent(record, source="s", now=0))["blocks"][0]["text"]["text"]
    assert len(text) <= 3000 and text.endswith("&amp;")
