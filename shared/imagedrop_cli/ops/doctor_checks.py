"""`imagedrop doctor` verdicts: facts a read-only probe found → ✓ or ✗ with how to fix it. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

IMPORT_ROLE = "AliyunECSImageImportDefaultRole"
ROLE_FIX = (f"create the RAM role {IMPORT_ROLE} trusted by ecs.aliyuncs.com and attach "
            "AliyunECSImageImportRolePolicy (RAM console → Roles, or the one-click authorization "
            "on the ECS import page)")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


def passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def prefixes_check(watch: str, state: str) -> Check:
    name = "watch and state prefixes are separate"
    if state.startswith(watch) or watch.startswith(state):
        return failed(name, f"the state prefix {state!r} and the watch prefix {watch!r} overlap: every "
                      "status write would trigger the ingest function again",
                      "set IMAGEDROP_STATE_PREFIX (default imagedrop/) and IMAGEDROP_WATCH_PREFIX (default "
                      "incoming/) to folders that do not contain each other, in s.yaml and the OSS trigger")
    return passed(name, f"watching {watch}, writing under {state}")


def bucket_region_check(bucket: str, bucket_region: str, function_region: str) -> Check:
    name = "bucket region = functions' region"
    if bucket_region != function_region:
        return failed(name, f"bucket {bucket} is in {bucket_region} but the functions run in {function_region}; "
                      "ECS imports only from a bucket in its own region",
                      f"deploy imagedrop to {bucket_region} (s.yaml region) or use a bucket in {function_region}")
    return passed(name, f"bucket {bucket} and the functions are in {function_region}")


def role_check(code: str | None, message: str = "") -> Check:
    """From an ImportImage DryRun=true answer (no RAM SDK needed)."""
    name = f"import role {IMPORT_ROLE}"
    if code in ("DryRunOperation", "DRYRUN.SUCCESS"):
        return passed(name, "ImportImage dry run passed: ECS may read the bucket")
    if code == "NoSetRoletoECSServiceAcount":
        return failed(name, f"ECS answered {code}: the role is missing or lacks its policy", ROLE_FIX)
    if code in ("Forbidden.RAM", "Forbidden", "NoPermission"):
        return failed(name, f"ECS answered {code}: these credentials may not call ImportImage ({message[:120]})",
                      "grant ecs:ImportImage and ram:PassRole on the import role to the deployer")
    # Any other answer came after ECS accepted the role (a placeholder object, a parameter): not a role problem.
    return passed(name, f"the role check passed (the dry run then stopped at {code or 'no error'})")


def function_check(function: str, info: dict[str, Any], built_for: str) -> Check:
    """The deployed function runs the Python its package was built for."""
    name = f"function {function}"
    runtime, state = info.get("runtime"), info.get("state") or "state unknown"
    if runtime != built_for:
        return failed(name, f"runs {runtime or 'an unknown runtime'}, but deploy/build.sh builds its "
                      f"package for {built_for}: a dependency needed on one Python can be missing "
                      "on another", f"set `runtime: {built_for}` for {function} in s.yaml and run "
                      "`s deploy` again")
    return passed(name, f"{runtime}, the runtime its package is built for, FC 3.0 ({state})")


def trigger_check(function: str, triggers: list[dict[str, Any]], *, want_type: str, watch_prefix: str = "") -> Check:
    name = f"trigger of {function}"
    kinds = {"oss": ("oss",), "mns": ("eventbridge", "mns_topic", "mns")}[want_type]
    found = [t for t in triggers if str(t.get("triggerType", "")).lower() in kinds]
    if not found:
        what = "an OSS trigger on ObjectCreated" if want_type == "oss" else "an EventBridge MNS queue trigger"
        return failed(name, f"{function} has no {what} (found: "
                      f"{', '.join(str(t.get('triggerType')) for t in triggers) or 'none'})",
                      "run `s deploy` from the repository root: s.yaml declares the trigger")
    if want_type == "oss" and watch_prefix:
        prefix = _oss_prefix(found[0].get("triggerConfig"))
        if prefix is not None and prefix != watch_prefix:
            return failed(name, f"the OSS trigger watches {prefix!r} but IMAGEDROP_WATCH_PREFIX is {watch_prefix!r}",
                          "make the trigger's filter.key.prefix and IMAGEDROP_WATCH_PREFIX the same, then s deploy")
    return passed(name, f"{found[0].get('triggerName')} ({found[0].get('triggerType')})")


def _oss_prefix(config: Any) -> str | None:
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return None
    if not isinstance(config, dict):
        return None
    key = (config.get("filter") or {}).get("key") or {}
    prefix = key.get("prefix")
    return prefix if isinstance(prefix, str) else None
