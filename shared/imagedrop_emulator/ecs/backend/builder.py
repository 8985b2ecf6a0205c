"""ECS Image Builder, emulated: templates, builds on the clock, the repaired image, and its errors.

A mixin of `EcsBackend` (it owns `images`, `lock`, `tokens`, `roles`, `settle()`). The rules real
ECS applies are modelled from what ECS publishes. Where that is silent or unverified, the
emulator picks one answer and the pipeline must work with either; each such point is listed here:

1. Windows: the repair items exist, and so does `ImagePipeline.NotSupportWindowsInstance` (403).
   Here CreateImagePipeline on a Windows base image answers that error unless
   `builder_supports_windows` is set (then Windows builds run like Linux ones).
2. The check-item → RepairItem mapping is inferred from the names (`REPAIRS_CHECK_ITEM`).
   `Standard`/`All` use the SDK's package lists (ECS's own lists differ).
3. With `AdvancedOptions.ImageNameSuffix=disable` the result is named by the bare prefix
   (`builder_suffix_disable_keeps_suffix` makes it keep `_{ExecutionId}` anyway); without a
   prefix it is named `{base image name}_{ExecutionId}`.
4. `ErrorCode`/`ErrorInfo` are filled only on FAILED and TEST_FAILED and are "" otherwise;
   `ImageId` is filled from BUILDING on (as in ECS's example answers), though the image is only
   Available once BUILDING ends. A cancelled or failed build removes its image.
5. Whether the result is image-checked is unverified: by default it carries a finished check
   whose items are the base image's minus the repaired risks; `builder_checks_output = False`
   gives it no `DetectionOptions` at all.
6. Durations are undocumented: `phase_seconds` (per phase) sets them.
7. DescribeImagePipelineExecutions by an `ExecutionId` that is gone (its template was deleted)
   answers an empty set; by an unknown `ImagePipelineId` it answers `InvalidImagePipeline.NotFound`.
8. Cancelling in a state that cannot be cancelled answers `InvalidStatus.ImagePipelineExecution`
   (403); ECS also lists `InvalidStatus.CancelFailed` (400) without saying when.
9. `RepairMode=Customized` without any `RepairItem.N` answers `MissingParameter.RepairItem`;
   an item the OS has no such repair for answers `InvalidParameter.RepairItem` (both modelled).
10. `BaseImageType=OSS` (import, then repair) is not modelled: it answers
    `InvalidParameter.BaseImageType` naming that.
"""

from __future__ import annotations

import threading
from typing import Mapping

from ...core import ServiceError
from .. import errors
from ...env import CloudEnv
from . import params as p
from .builder_progress import BuildProgress
from .builder_rules import check_repair, parse_pipeline
from .common import client_token, in_region, remember, replayed
from .models import AVAILABLE, FakeImage, new_id
from .pipelines import (BUILDING, CANCELLABLE, CANCELLING, DEFAULT_PHASE_SECONDS, DISTRIBUTING,
                        PREPARING, RELEASING, REPAIRING, TESTING, FakeExecution, FakePipeline,
                        ScriptedFailure)


SERVICE_ROLE = "AliyunServiceRoleForECSImageBuilder"
class ImageBuilderOperations(BuildProgress):
    env: CloudEnv
    lock: threading.RLock
    images: dict[str, FakeImage]
    tokens: dict[tuple[str, str, str], dict[str, str]]
    roles: set[str]

    def settle(self) -> float: ...

    def check_region(self, region: str, name: str = "RegionId") -> None: ...

    def check_name_free(self, region: str, name: str, field: str = "ImageName") -> None: ...

    def detection_items_for(self, image: FakeImage) -> list[dict[str, str]]: ...

    def image(self, region: str, image_id: str) -> FakeImage: ...

    def init_builder(self) -> None:
        self.pipelines: dict[str, FakePipeline] = {}
        self.executions: dict[str, FakeExecution] = {}
        self.phase_seconds = dict(DEFAULT_PHASE_SECONDS)
        self.builder_may_create_role = True      # the caller holds ram:CreateServiceLinkedRole
        self.builder_supports_windows = False
        self.builder_suffix_disable_keeps_suffix = False
        self.builder_checks_output = True
        self.next_build_failures: list[ScriptedFailure] = []
        self.next_build_hangs = 0

    # ------------------------------------------------------------------ scenario knobs

    def fail_next_build(self, code: str = "InstanceStartFailed",
                        info: str = "The intermediate instance could not be started.",
                        phase: str = REPAIRING) -> None:
        """The next build stops at the end of `phase`: TEST_FAILED in TESTING, else FAILED."""
        self.next_build_failures.append(ScriptedFailure(phase, code, info))

    def hang_next_build(self) -> None:
        """The next build stays in REPAIRING forever (deadline tests)."""
        self.next_build_hangs += 1

    # ------------------------------------------------------------------ CreateImagePipeline

    def create_pipeline(self, params: Mapping[str, str]) -> str:
        region = p.required(params, "RegionId")
        self.check_region(region)
        token = client_token(params)
        with self.lock:
            if (done := replayed(self.tokens, region, "CreateImagePipeline", token)) is not None:
                return done["ImagePipelineId"]
            now = self.settle()
            base = self._base_image(region, params)
            pipeline = parse_pipeline(params, region, now, base)
            if base.os_type == "windows" and not self.builder_supports_windows:
                raise ServiceError(403, "ImagePipeline.NotSupportWindowsInstance",
                                   f"Image Builder does not support Windows: {base.image_id} is a "
                                   "Windows image.")
            check_repair(pipeline, base.os_type)
            if SERVICE_ROLE not in self.roles:
                if not self.builder_may_create_role:
                    raise ServiceError(403, "InvalidOperation.NoPermissionCreateServiceLinkedRole",
                                       f"You are not authorized to create the service-linked role "
                                       f"{SERVICE_ROLE}: the caller needs "
                                       "ram:CreateServiceLinkedRole.")
                self.roles.add(SERVICE_ROLE)
            self.pipelines[pipeline.pipeline_id] = pipeline
            remember(self.tokens, region, "CreateImagePipeline", token,
                     {"ImagePipelineId": pipeline.pipeline_id})
            return pipeline.pipeline_id

    def _base_image(self, region: str, params: Mapping[str, str]) -> FakeImage:
        kind = p.required(params, "BaseImageType")
        if kind not in ("IMAGE", "IMAGE_FAMILY", "OSS"):
            raise errors.invalid("BaseImageType", f"{kind!r} is not IMAGE, IMAGE_FAMILY or OSS",
                            "InvalidParameter.BaseImageType")
        if kind == "OSS":
            raise errors.invalid("BaseImageType", "OSS sources are not modelled by this emulator",
                            "InvalidParameter.BaseImageType")
        base = p.required(params, "BaseImage")
        if kind == "IMAGE":
            return self.image(region, base)
        family = sorted((i for i in self.images.values() if i.region == region
                         and i.family == base and i.status == AVAILABLE),
                        key=lambda i: i.created_at)
        if not family:
            raise ServiceError(404, "InvalidImageFamily.NotFound",
                               f"The image family {base!r} has no available image in {region}.")
        return family[-1]

    # ------------------------------------------------------------------ executions

    def pipeline(self, region: str, pipeline_id: str) -> FakePipeline:
        return in_region(self.pipelines, pipeline_id, region, errors.pipeline_not_found)

    def start_execution(self, params: Mapping[str, str]) -> str:
        region = p.required(params, "RegionId")
        token = client_token(params)
        with self.lock:
            now = self.settle()
            pipeline = self.pipeline(region, p.required(params, "ImagePipelineId"))
            if (done := replayed(self.tokens, region, "StartImagePipelineExecution",
                                 token)) is not None:
                return done["ExecutionId"]
            if any(e.pipeline_id == pipeline.pipeline_id and not e.final
                   for e in self.executions.values()):
                raise errors.pipeline_running(pipeline.pipeline_id)
            phases = [PREPARING, REPAIRING, BUILDING]
            phases += [TESTING] if pipeline.test_content else []
            phases += [DISTRIBUTING] if pipeline.to_regions or pipeline.add_accounts else []
            phases += [RELEASING]
            ex = FakeExecution(new_id("exec", region), pipeline.pipeline_id,
                               region, now, phases, dict(self.phase_seconds),
                               phase_started_at=now, modified_at=now, tags=p.tags(params),
                               instance_started_at=now)
            if self.next_build_failures:
                ex.failure = self.next_build_failures.pop(0)
            if self.next_build_hangs:
                self.next_build_hangs -= 1
                ex.hung = True
            self.executions[ex.execution_id] = ex
            remember(self.tokens, region, "StartImagePipelineExecution", token,
                     {"ExecutionId": ex.execution_id})
            return ex.execution_id

    def find_executions(self, params: Mapping[str, str]) -> list[FakeExecution]:
        region = p.required(params, "RegionId")
        self.check_region(region)
        pipeline_id, execution_id = params.get("ImagePipelineId", ""), params.get("ExecutionId", "")
        if not pipeline_id and not execution_id:
            raise errors.missing("ImagePipelineId")
        from .pipelines import ALL_STATUSES
        statuses = p.comma_list(params, "Status")
        for status in statuses:
            if status not in ALL_STATUSES:
                raise errors.invalid("Status", f"{status!r} is not one of {', '.join(ALL_STATUSES)}",
                                "InvalidParameter.Status")
        wanted_tags = [(e.get("Key", ""), e.get("Value")) for e in p.indexed(params,
                                                                             "Tag").values()]
        with self.lock:
            self.settle()
            if pipeline_id:
                self.pipeline(region, pipeline_id)
            found = [e for e in self.executions.values() if e.region == region
                     and (not pipeline_id or e.pipeline_id == pipeline_id)
                     and (not execution_id or e.execution_id == execution_id)
                     and (not statuses or e.status in statuses)
                     and all(any(k == tk and v in (None, "", tv) for tk, tv in e.tags)
                             for k, v in wanted_tags)]
            return sorted(found, key=lambda e: e.created_at, reverse=True)

    def cancel_execution(self, params: Mapping[str, str]) -> None:
        region = p.required(params, "RegionId")
        execution_id = p.required(params, "ExecutionId")
        with self.lock:
            now = self.settle()
            ex = in_region(self.executions, execution_id, region, errors.execution_not_found)
            if ex.status not in CANCELLABLE:
                raise ServiceError(403, "InvalidStatus.ImagePipelineExecution",
                                   f"The build task {execution_id} is {ex.status}: only a task "
                                   "that "
                                   "is PREPARING, REPAIRING or BUILDING can be cancelled.")
            ex.status, ex.phase_started_at, ex.modified_at, ex.hung = CANCELLING, now, now, False

    def delete_pipeline(self, params: Mapping[str, str]) -> None:
        region = p.required(params, "RegionId")
        with self.lock:
            self.settle()
            pipeline = self.pipeline(region, p.required(params, "ImagePipelineId"))
            mine = [e for e in self.executions.values() if e.pipeline_id == pipeline.pipeline_id]
            if any(not e.final for e in mine):
                raise errors.pipeline_running(pipeline.pipeline_id)
            for ex in mine:
                del self.executions[ex.execution_id]
            del self.pipelines[pipeline.pipeline_id]

    def find_pipelines(self, params: Mapping[str, str]) -> list[FakePipeline]:
        region = p.required(params, "RegionId")
        self.check_region(region)
        ids = list(p.indexed_values(params, "ImagePipelineId").values())
        if len(ids) > 20:
            raise ServiceError(400, "InvalidImagePipelineIdSize.ExceededMaxNumber",
                               "At most 20 ImagePipelineId.N may be given.")
        name = params.get("Name", "")
        with self.lock:
            found = [x for x in self.pipelines.values() if x.region == region
                     and (not ids or x.pipeline_id in ids) and (not name or x.name == name)
                     and (not params.get("ResourceGroupId")
                          or x.resource_group_id == params["ResourceGroupId"])]
            return sorted(found, key=lambda x: x.created_at, reverse=True)
