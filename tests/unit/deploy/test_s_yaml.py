"""s.yaml: each function's props are valid fc3 props, and its settings are ones imagedrop reads."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is a dev dependency: pip install -e '.[dev]'")
jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency: pip install -e '.[dev]'")

from imagedrop import config  # noqa: E402  (after the skips: a missing dev dependency skips, not errors)

ROOT = Path(__file__).resolve().parents[3]
S_YAML = ROOT / "s.yaml"
# The fc3 component's props schema is kept beside the repository, not in it.
SCHEMA = ROOT.parent / "shared" / "reference" / "fc3-props.schema.json"
FUNCTIONS = ("imagedrop-ingest", "imagedrop-poller")
RUNTIME_VARIABLES = {"PYTHONPATH"}  # read by the Python runtime, not by imagedrop's settings

_MAGIC = re.compile(r"\$\{\s*(vars\.(\w+)|env\((\w+)\))\s*\}")


def resolve(value: Any, variables: dict[str, Any], environ: dict[str, str]) -> Any:
    """Serverless Devs' `${vars.x}` and `${env(X)}`, enough to see what the component receives."""
    if isinstance(value, dict):
        return {k: resolve(v, variables, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, variables, environ) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        var, env = match.group(2), match.group(3)
        if var is not None:
            if var not in variables:
                raise KeyError(f"s.yaml refers to ${{vars.{var}}}, which `vars` does not define")
            return str(variables[var])
        return environ.get(env, "")

    return _MAGIC.sub(one, value)


def settings_variable_names() -> set[str]:
    """Every environment variable imagedrop.config.load_settings reads."""
    return {name for names in config.env_var_names().values() for name in names}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(S_YAML.read_text())


@pytest.fixture(scope="module")
def props(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    environ = {"IMAGEDROP_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"s3cret" * 5).decode(), "IMAGEDROP_WEBHOOK_URLS": "https://hooks.example.com/a"}
    return {name: resolve(spec["resources"][name]["props"], spec["vars"], environ) for name in FUNCTIONS}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not SCHEMA.is_file():
        pytest.skip(f"the fc3 props schema is not at {SCHEMA} (it lives beside the repository)")
    return json.loads(SCHEMA.read_text())


def test_the_file_is_an_edition_3_project_of_two_fc3_functions(spec: dict[str, Any]) -> None:
    assert spec["edition"] == "3.0.0"
    assert set(spec["resources"]) == set(FUNCTIONS)
    assert {r["component"] for r in spec["resources"].values()} == {"fc3"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_props_validate_against_the_fc3_schema(function: str, props: dict[str, dict[str, Any]],
                                               schema: dict[str, Any]) -> None:
    jsonschema.validate(props[function], schema)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_props_use_only_keys_the_schema_knows(function: str, props: dict[str, dict[str, Any]],
                                              schema: dict[str, Any]) -> None:
    # The schema allows unknown keys, so a misspelt key (memorysize) would pass silently.
    unknown = set(props[function]) - set(schema["properties"])
    assert not unknown, f"{function}: props not in the fc3 schema: {sorted(unknown)}"


def test_a_misspelt_prop_value_is_caught(props: dict[str, dict[str, Any]], schema: dict[str, Any]) -> None:
    broken = dict(props["imagedrop-ingest"], memorySize=500)  # not a multiple of 64
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_environment_variable_is_a_setting_imagedrop_reads(function: str,
                                                                 props: dict[str, dict[str, Any]]) -> None:
    named = set(props[function]["environmentVariables"]) - RUNTIME_VARIABLES
    unknown = named - settings_variable_names()
    assert not unknown, f"{function}: variables imagedrop.config does not read: {sorted(unknown)}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_variable_takes_a_name_the_platform_reserves(function: str,
                                                        props: dict[str, dict[str, Any]]) -> None:
    env = props[function]["environmentVariables"]
    assert not [n for n in env if n.startswith("FC_")], "FC_* is set by the platform itself"
    assert not {"accessKeyID", "accessKeySecret", "securityToken", "topic"} & set(env)
    assert len(json.dumps(env)) <= 4096, "all variables together must fit in 4 KB"


def test_the_settings_in_s_yaml_load_into_a_valid_model(props: dict[str, dict[str, Any]]) -> None:
    env = dict(props["imagedrop-ingest"]["environmentVariables"], FC_REGION="cn-hangzhou",
               FC_ACCOUNT_ID="1234567890123456")
    settings = config.load_settings(env)
    assert settings.queue == "imagedrop-track"
    assert settings.webhook_urls == ["https://hooks.example.com/a"]


def test_secrets_come_from_the_deployer_environment_not_the_file(spec: dict[str, Any]) -> None:
    raw = spec["resources"]["imagedrop-ingest"]["props"]["environmentVariables"]
    for name in ("IMAGEDROP_WEBHOOK_SECRET", "IMAGEDROP_DINGTALK_SECRET"):
        assert raw[name] == f"${{env({name})}}"


def test_both_functions_get_the_same_settings(props: dict[str, dict[str, Any]]) -> None:
    ingest, poller = (props[f]["environmentVariables"] for f in FUNCTIONS)
    assert ingest == poller


def test_the_trigger_watches_a_prefix_the_pipeline_never_writes(props: dict[str, dict[str, Any]]) -> None:
    env = props["imagedrop-ingest"]["environmentVariables"]
    watch, state = env["IMAGEDROP_WATCH_PREFIX"], env["IMAGEDROP_STATE_PREFIX"]
    assert not watch.startswith(state) and not state.startswith(watch)
    (trigger,) = [t for t in props["imagedrop-ingest"]["triggers"] if t["triggerType"] == "oss"]
    assert trigger["triggerConfig"]["filter"]["key"]["prefix"] == watch


def test_oss_trigger_fires_on_finished_objects_only(props: dict[str, dict[str, Any]]) -> None:
    (trigger,) = props["imagedrop-ingest"]["triggers"]
    events = set(trigger["triggerConfig"]["events"])
    assert events == {"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject",
                      "oss:ObjectCreated:CompleteMultipartUpload", "oss:ObjectCreated:CopyObject"}
    assert "oss:ObjectCreated:AppendObject" not in events and "oss:ObjectCreated:*" not in events
    assert trigger["invocationRole"].endswith(":role/aliyunosseventnotificationrole")


def test_poller_trigger_reads_the_track_queue_as_cloudevents(spec: dict[str, Any],
                                                             props: dict[str, dict[str, Any]]) -> None:
    (trigger,) = props["imagedrop-poller"]["triggers"]
    cfg = trigger["triggerConfig"]
    assert trigger["triggerType"] == "eventbridge"
    source = cfg["eventSourceConfig"]["eventSourceParameters"]["sourceMNSParameters"]
    assert source == {"QueueName": spec["vars"]["queue"], "IsBase64Decode": True}
    assert cfg["eventSinkConfig"]["deliveryOption"]["eventSchema"] == "CloudEvents"
    assert cfg["runOptions"]["batchWindow"]["CountBasedWindow"] == 1
    assert cfg["runOptions"]["retryStrategy"]["PushRetryStrategy"] == "BACKOFF_RETRY"
    assert cfg["runOptions"]["deadLetterQueue"]["Arn"].endswith("/queues/imagedrop-track-dlq")


def test_code_is_built_per_function_for_the_python310_runtime(spec: dict[str, Any],
                                                              props: dict[str, dict[str, Any]]) -> None:
    for function, short in zip(FUNCTIONS, ("ingest", "poller")):
        p = props[function]
        assert (p["runtime"], p["handler"], p["code"]) == ("python3.10", "index.handler", f"./build/{short}")
        assert p["environmentVariables"]["PYTHONPATH"] == "/code/python"
        (step,) = spec["resources"][function]["actions"]["pre-deploy"]
        assert step["run"] == f"bash deploy/build.sh {short}"
        assert (ROOT / "deploy" / "build.sh").is_file()
    assert (props["imagedrop-ingest"]["timeout"], props["imagedrop-poller"]["timeout"]) == (120, 300)


def test_resolver_reports_an_undefined_var() -> None:
    with pytest.raises(KeyError, match="vars.nope"):
        resolve({"a": "x-${vars.nope}"}, {}, {})
