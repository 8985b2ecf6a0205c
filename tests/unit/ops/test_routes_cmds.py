"""`imagedrop routes check`: a good file summarised without its secrets, a wrong one refused in
one line naming the field and the fix, exit 2."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from typer.testing import CliRunner

from imagedrop_cli import app

runner = CliRunner()
SECRET = "whsec_" + base64.b64encode(b"team-a-key-of-enough-bytes-0123").decode()


def write(tmp_path: Path, routes: list[dict[str, object]]) -> str:
    path = tmp_path / "routes.json"
    path.write_text(json.dumps({"routes": routes}))
    return str(path)


def test_a_good_file_is_summarised_without_its_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, [{"name": "team-a", "prefix": "incoming/team-a/", "states": ["succeeded"],
                             "webhooks": [{"url": "https://a.example/h?token=tok-aaaa", "secret": SECRET}],
                             "slack": {"url": "https://hooks.example/services/tok-slack"}}])
    done = runner.invoke(app, ["routes", "check", path])
    assert done.exit_code == 0, done.output
    assert "team-a: incoming/team-a/* → webhook, slack (succeeded)" in done.output
    assert "tok-aaaa" not in done.output and "tok-slack" not in done.output and SECRET not in done.output


def test_a_wrong_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, [{"name": "team-a", "prefix": "incoming/team-a/",
                             "webhook": [{"url": "https://a.example/h?token=tok-aaaa"}]}])
    done = runner.invoke(app, ["routes", "check", path])
    assert done.exit_code == 2
    assert "routes.0.webhook: is not a field of a route (check its spelling)" in done.output
    assert "tok-aaaa" not in done.output


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "routes.json"
    path.write_text("{routes: [")
    done = runner.invoke(app, ["routes", "check", str(path)])
    assert done.exit_code == 2 and "not JSON" in done.output
