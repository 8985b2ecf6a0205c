"""`imagedrop local demo` ends with a summary a person reads; `--json` prints the status record."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from cli_process import clean_env, cli


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli("local", "demo", "--twins", "0", *args), capture_output=True,
                          text=True, timeout=240, cwd=tmp_path, env=clean_env())


def test_the_demo_ends_with_a_short_summary_and_one_line_per_event(tmp_path: Path) -> None:
    done = _demo(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"succeeded: image m-\w+ in cn-hangzhou", lines[0])
    labels = [line[:24].strip() for line in lines[1:] if line[:24].strip()]
    assert labels[:5] == ["filled from the disk", "found", "fixed", "repaired", "notified"]
    assert "  filled from the disk  boot_mode = UEFI-Preferred (disk: boots both ways" in done.stdout
    assert "  repaired              nothing" in lines
    notified = next(line for line in lines if line.startswith("  notified"))
    assert notified.endswith("4 events on the topic")
    heading = next(n for n, line in enumerate(lines) if line.startswith("events"))
    assert heading == 1 + len([line for line in lines[1:heading] if line.startswith("  ")])
    events = lines[heading + 1:]
    assert [line.split()[1] for line in events] == ["importing", "checking", "finishing", "succeeded"]
    assert all(re.match(r"  \d\d:\d\d:\d\d  \w+ +\S", line) for line in events)
    assert len(lines) < 20


def test_the_demo_prints_the_record_under_json(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(done.stdout)
    assert record["state"] == "succeeded" and record["image_id"].startswith("m-")
    assert record["filled"]["boot_mode"]["value"] == "UEFI-Preferred"
