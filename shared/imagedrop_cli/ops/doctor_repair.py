"""`imagedrop doctor`, when the deployment repairs images: may the functions' credentials drive
ECS Image Builder?

Each action is called on a template or build that does not exist (`ip-imagedrop-doctor-probe`),
so nothing is created, started, cancelled or deleted: an answer of NotFound means RAM let the
call through, `Forbidden.RAM` means the policy lacks the action. That RAM is judged before the
template is looked up is how ECS answers other resource-level actions; it is not documented for
these. CreateImagePipeline has no form that creates nothing (and its first call creates the
service-linked role), so it and ram:CreateServiceLinkedRole are named as not probed.
"""

from __future__ import annotations

from typing import Any, Callable

from .connection import Connection
from .doctor_checks import Check, failed, passed

PROBE_PIPELINE = "ip-imagedrop-doctor-probe"
PROBE_EXECUTION = "exec-imagedrop-doctor-probe"
DENIED = ("Forbidden.RAM", "Forbidden", "NoPermission", "Forbidden.NoPermission")
POLICY_FIX = ("add the Image Builder actions of deploy/ram-policy.json (ecs:CreateImagePipeline, "
              "StartImagePipelineExecution, DescribeImagePipelineExecutions, "
              "CancelImagePipelineExecution, DeleteImagePipeline, and ram:CreateServiceLinkedRole "
              "for imagebuilder.ecs.aliyuncs.com) to the functions' role, or set IMAGEDROP_REPAIR "
              "to off")


def builder_check(action: str, code: str | None, message: str = "") -> Check:
    """The verdict on one probe's answer (pure)."""
    name = f"repair: ecs:{action} allowed"
    if code in DENIED:
        return failed(name, f"ECS answered {code}: {message[:120]}", POLICY_FIX)
    if code is None or code.endswith(".NotFound") or code.startswith("Invalid"):
        return passed(name, f"RAM let the call through (ECS answered {code or 'OK'} for a "
                      "template that does not exist)")
    return failed(name, f"not checked: ECS answered {code}: {message[:120]}",
                  "run doctor again; if it persists, check the action in the RAM console")


def _probes(models: Any) -> list[tuple[str, Any]]:
    return [
        ("DescribeImagePipelineExecutions", models.DescribeImagePipelineExecutionsRequest(
            image_pipeline_id=PROBE_PIPELINE)),
        ("StartImagePipelineExecution", models.StartImagePipelineExecutionRequest(
            image_pipeline_id=PROBE_PIPELINE)),
        ("CancelImagePipelineExecution", models.CancelImagePipelineExecutionRequest(
            execution_id=PROBE_EXECUTION)),
        ("DeleteImagePipeline",
         models.DeleteImagePipelineRequest(image_pipeline_id=PROBE_PIPELINE)),
    ]


def probe_image_builder(conn: Connection, client_of: Callable[[Connection], Any],
                        error_of: Callable[[Exception], tuple[str, str]]) -> list[Check]:
    from alibabacloud_ecs20140526 import models
    from alibabacloud_tea_util.models import RuntimeOptions

    client = client_of(conn)
    checks = []
    for action, request in _probes(models):
        request.region_id = conn.region
        method = getattr(client, "".join("_" + c.lower() if c.isupper() else c
                                         for c in action).lstrip("_") + "_with_options")
        try:
            method(request, RuntimeOptions())
        except Exception as exc:
            checks.append(builder_check(action, *error_of(exc)))
        else:
            checks.append(builder_check(action, None))
    checks.append(passed("repair: ecs:CreateImagePipeline, ram:CreateServiceLinkedRole",
                         "not probed (no call of them creates nothing); deploy/ram-policy.json "
                         "grants them"))
    return checks
