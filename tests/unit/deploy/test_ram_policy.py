"""deploy/ram-policy.json grants every API the cloud adapters call, and nothing beyond a fixed list."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import pytest

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "deploy" / "ram-policy.json"
IMPORT_ROLE_TRUST = ROOT / "deploy" / "import-role-trust.json"
FUNCTION_ROLE_TRUST = ROOT / "deploy" / "function-role-trust.json"
CLOUD = ROOT / "shared" / "imagedrop" / "cloud"

# The most the functions' role may ever hold. Growing this list is a deliberate, reviewed change.
ALLOWED = {
    "oss:GetObject", "oss:PutObject", "oss:DeleteObject", "oss:GetBucketLocation",
    "ecs:ImportImage", "ecs:DescribeTaskAttribute", "ecs:DescribeImages", "ecs:ModifyImageAttribute",
    "ecs:CopyImage", "ecs:ModifyImageSharePermission", "ecs:CancelTask",
    # the repair (Image Builder), and deleting the unrepaired original it replaces
    "ecs:CreateImagePipeline", "ecs:StartImagePipelineExecution",
    "ecs:DescribeImagePipelineExecutions", "ecs:CancelImagePipelineExecution",
    "ecs:DeleteImagePipeline", "ecs:DeleteImage",
    "mns:SendMessage", "mns:PublishMessage",
    "ram:PassRole", "ram:CreateServiceLinkedRole",
}

# oss2 methods → the RAM action that authorises them (HEAD and GetObjectMeta need oss:GetObject).
OSS2_METHODS = {
    "get_object": ["oss:GetObject"], "get_object_to_file": ["oss:GetObject"],
    "head_object": ["oss:GetObject"], "get_object_meta": ["oss:GetObject"],
    "object_exists": ["oss:GetObject"],
    "put_object": ["oss:PutObject"], "put_object_from_file": ["oss:PutObject"],
    "resumable_upload": ["oss:PutObject"], "init_multipart_upload": ["oss:PutObject"],
    "upload_part": ["oss:PutObject"], "complete_multipart_upload": ["oss:PutObject"],
    "copy_object": ["oss:GetObject", "oss:PutObject"],
    "delete_object": ["oss:DeleteObject"], "batch_delete_objects": ["oss:DeleteObject"],
    "list_objects": ["oss:ListObjects"], "list_objects_v2": ["oss:ListObjects"],
    "ObjectIterator": ["oss:ListObjects"], "ObjectIteratorV2": ["oss:ListObjects"],
    "get_bucket_info": ["oss:GetBucketInfo"], "get_bucket_location": ["oss:GetBucketLocation"],
}
# mns (aliyun-mns-sdk) Queue/Topic methods → RAM actions.
MNS_METHODS = {
    "send_message": "mns:SendMessage", "batch_send_message": "mns:BatchSendMessage",
    "publish_message": "mns:PublishMessage", "receive_message": "mns:ReceiveMessage",
    "batch_receive_message": "mns:BatchReceiveMessage", "delete_message": "mns:DeleteMessage",
    "change_message_visibility": "mns:ChangeMessageVisibility", "peek_message": "mns:PeekMessage",
}
# Request classes of tea-openapi itself, not ECS operations.
_NOT_ECS = {"OpenApi", "Runtime"}

_IMPORTS = {
    "ecs": re.compile(r"^\s*(from|import)\s+alibabacloud_ecs20140526\b", re.M),
    "oss": re.compile(r"^\s*(from|import)\s+oss2\b", re.M),
    "mns": re.compile(r"^\s*(from\s+mns(\.\w+)*\s+import|import\s+mns\b)", re.M),
}
_ECS_REQUEST = re.compile(r"\b([A-Z][A-Za-z0-9]+)Request\b")
_ECS_METHOD = re.compile(r"\b([a-z][a-z0-9_]*?)(?:_with_options)(?:_async)?\b")


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def ram_actions_in(source: str) -> set[str]:
    """RAM actions a module's SDK calls need, judged by which SDK it imports and what it calls."""
    found: set[str] = set()
    if _IMPORTS["ecs"].search(source):
        names = {m for m in _ECS_REQUEST.findall(source) if m not in _NOT_ECS}
        names |= {_pascal(m) for m in _ECS_METHOD.findall(source)}
        found |= {f"ecs:{name}" for name in names}
    if _IMPORTS["oss"].search(source):
        for method, actions in OSS2_METHODS.items():
            if re.search(rf"\b{method}\b", source):
                found.update(actions)
    if _IMPORTS["mns"].search(source):
        for method, action in MNS_METHODS.items():
            if re.search(rf"\.{method}\b", source):
                found.add(action)
    return found


def actions_of(policy: dict[str, Any]) -> set[str]:
    return {a for s in policy["Statement"] for a in _as_list(s["Action"])}


def _as_list(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def resources_for(policy: dict[str, Any], action: str) -> set[str]:
    return {r for s in policy["Statement"] if action in _as_list(s["Action"]) for r in _as_list(s["Resource"])}


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return json.loads(POLICY.read_text())


# --- the scanner itself, on sources shaped like the adapters ------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("from alibabacloud_ecs20140526 import models\nmodels.ImportImageRequest(**p)\n", {"ecs:ImportImage"}),
    ("    from alibabacloud_ecs20140526.client import Client\n"
     "client.describe_task_attribute_with_options(req, rt)\n", {"ecs:DescribeTaskAttribute"}),
    ("from alibabacloud_ecs20140526 import models\nx = open_api_models.OpenApiRequest()\n", set()),
    ("import oss2\nbucket.head_object(k)\nfor o in oss2.ObjectIterator(bucket):\n    pass\n",
     {"oss:GetObject", "oss:ListObjects"}),
    ("import oss2\nloc = self._bucket.get_bucket_location\n", {"oss:GetBucketLocation"}),
    ("from mns.account import Account\nqueue.send_message(msg)\ntopic.publish_message(m)\n",
     {"mns:SendMessage", "mns:PublishMessage"}),
    ("def send_message(self):\n    pass\n", set()),  # no SDK imported: nothing is called
])
def test_scanner_maps_sdk_calls_to_ram_actions(source: str, expected: set[str]) -> None:
    assert ram_actions_in(source) == expected


# --- the policy ---------------------------------------------------------------------------------

def test_policy_is_a_version_1_document_of_allow_statements(policy: dict[str, Any]) -> None:
    assert policy["Version"] == "1"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert _as_list(statement["Action"]) and _as_list(statement["Resource"])


def test_policy_names_nothing_beyond_the_allowlist(policy: dict[str, Any]) -> None:
    actions = actions_of(policy)
    assert not [a for a in actions if "*" in a], "no wildcard actions"
    assert actions <= ALLOWED, f"not on the allowlist: {sorted(actions - ALLOWED)}"


def test_policy_grants_every_action_the_cloud_adapters_call(policy: dict[str, Any]) -> None:
    called: dict[str, set[str]] = {}
    for path in sorted(CLOUD.rglob("*.py")):
        for action in ram_actions_in(path.read_text()):
            called.setdefault(action, set()).add(path.name)
    service_calls = {a for a in called if a.split(":")[0] in {"ecs", "mns"}}
    if not service_calls:
        pytest.skip(f"no ECS or MNS SDK calls found under {CLOUD.relative_to(ROOT)} yet")
    missing = {a: sorted(files) for a, files in called.items() if a not in actions_of(policy)}
    assert not missing, f"called by the code but not granted: {missing}"


# Granted though no SDK call names it: ImportImage's RoleName makes ECS act as the import role;
# the first CreateImagePipeline creates Image Builder's service-linked role as the caller.
IMPLIED = {"ram:PassRole", "ram:CreateServiceLinkedRole"}


def test_policy_grants_nothing_the_cloud_adapters_never_call(policy: dict[str, Any]) -> None:
    called = set().union(*(ram_actions_in(p.read_text()) for p in sorted(CLOUD.rglob("*.py"))))
    unused = actions_of(policy) - called - IMPLIED
    assert not unused, f"granted but never called by the functions: {sorted(unused)}"


def test_writes_stay_under_the_state_prefix(policy: dict[str, Any]) -> None:
    assert resources_for(policy, "oss:PutObject") == {"acs:oss:*:*:imagedrop-images/imagedrop/*"}
    # Deleting under incoming/ is for delete_source_on_success, which a manifest must ask for.
    assert resources_for(policy, "oss:DeleteObject") == {"acs:oss:*:*:imagedrop-images/imagedrop/*",
                                                         "acs:oss:*:*:imagedrop-images/incoming/*"}


def test_policy_names_the_resources_s_yaml_deploys(policy: dict[str, Any]) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is a dev dependency")
    spec = yaml.safe_load((ROOT / "s.yaml").read_text())
    v = spec["vars"]
    env = spec["resources"]["imagedrop-ingest"]["props"]["environmentVariables"]
    assert {r.split(":")[-1].split("/")[0] for r in resources_for(policy, "oss:GetObject")} == {v["bucket"]}
    assert resources_for(policy, "mns:SendMessage") == {f"acs:mns:*:*:/queues/{v['queue']}/messages",
                                                        f"acs:mns:*:*:/queues/{v['deadLetterQueue']}/messages"}
    assert resources_for(policy, "mns:PublishMessage") == {f"acs:mns:*:*:/topics/{v['topic']}/messages"}
    state = env["IMAGEDROP_STATE_PREFIX"]
    assert resources_for(policy, "oss:PutObject") == {f"acs:oss:*:*:{v['bucket']}/{state}*"}
    role = env["IMAGEDROP_IMPORT_ROLE"].lower()  # RAM role ARNs are lower case
    assert resources_for(policy, "ram:PassRole") == {f"acs:ram:*:*:role/{role}"}


@pytest.mark.parametrize(("path", "service"), [(IMPORT_ROLE_TRUST, "ecs.aliyuncs.com"),
                                               (FUNCTION_ROLE_TRUST, "fc.aliyuncs.com")])
def test_trust_policies_let_only_their_service_assume_the_role(path: Path, service: str) -> None:
    doc = json.loads(path.read_text())
    assert doc["Version"] == "1"
    (statement,) = doc["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    assert statement["Principal"] == {"Service": [service]}


def test_the_service_linked_role_may_be_created_only_for_image_builder(policy: dict[str,
                                                                                    Any]) -> None:
    (statement,) = [s for s in policy["Statement"]
                    if "ram:CreateServiceLinkedRole" in _as_list(s["Action"])]
    assert _as_list(statement["Action"]) == ["ram:CreateServiceLinkedRole"]
    assert statement["Condition"] == {
        "StringEquals": {"ram:ServiceName": "imagebuilder.ecs.aliyuncs.com"}}


def test_image_builder_actions_are_granted_on_templates_only(policy: dict[str, Any]) -> None:
    for action in ("ecs:CreateImagePipeline", "ecs:StartImagePipelineExecution",
                   "ecs:DescribeImagePipelineExecutions", "ecs:CancelImagePipelineExecution",
                   "ecs:DeleteImagePipeline"):
        assert resources_for(policy, action) == {"acs:ecs:*:*:imagepipeline/*",
                                                 "acs:ecs:*:*:imagepipelineexecution/*"}
