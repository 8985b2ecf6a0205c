"""The simulated cloud: the flow tests' in-memory fakes, with what the simulation needs beside
them: image names that ECS keeps unique, images deleted, tasks that finish on the clock, and
Image Builder (templates, builds that end on the clock and make an image).

Only the calls the flows make are here; the wire protocols are the emulator's business."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

from imagedrop.decide.repair_track import CANCELLABLE, ExecutionView
from imagedrop.errors import PermanentCloudError

from tests.flows.fakes import FakeEcs, FakeImage

RUNNING_PHASES = ("PREPARING", "REPAIRING", "BUILDING", "RELEASING")


@dataclass
class Build:
    pipeline_id: str
    base_image_id: str
    name_prefix: str
    ends_at: float
    outcome: str = "SUCCESS"        # how it ends: SUCCESS or FAILED
    status: str = "PREPARING"
    image_id: str | None = None


class SimEcs(FakeEcs):
    """ECS as the simulation needs it. `task_ends` and `build_seconds` say when work is done."""

    def __init__(self, clock: Callable[[], float], *, task_seconds: float = 120.0,
                 build_seconds: float = 600.0, build_outcome: str = "SUCCESS") -> None:
        super().__init__()
        self.clock = clock
        self.task_seconds = task_seconds
        self.build_seconds = build_seconds
        self.build_outcome = build_outcome
        self.names: dict[str, str] = {}            # image id → ImageName
        self.task_started: dict[str, float] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.builds: dict[str, Build] = {}
        self.made_by: dict[str, str] = {}          # image id → the ClientToken or template it came of
        self._sim_ids = itertools.count(1)

    # ---- images and tasks

    def import_image(self, params: dict[str, Any]) -> tuple[str, str]:
        image_id, task_id = super().import_image(params)
        if image_id not in self.names and image_id in self.images:
            self.names[image_id] = str(params.get("ImageName") or "")
            self.task_started[task_id] = self.clock()
            self.made_by[image_id] = str(params.get("ClientToken") or "")
        return image_id, task_id

    def add_foreign_image(self, name: str) -> str:
        """An image somebody else made (not this import's)."""
        image_id = f"m-foreign{next(self._sim_ids):03d}"
        self.images[image_id] = FakeImage({"ImageName": name}, status="Available")
        self.names[image_id] = name
        return image_id

    def describe_task(self, task_id: str):  # type: ignore[no-untyped-def]
        task = self.tasks.get(task_id)
        if (task is not None and task.status == "Processing"
                and self.clock() >= self.task_started.get(task_id, 0.0) + self.task_seconds):
            self.finish(task_id)
        return super().describe_task(task_id)

    def describe_image_raw(self, image_id: str, region: str | None = None) -> dict[str, Any] | None:
        raw = super().describe_image_raw(image_id, region)
        if raw is not None:
            raw["ImageName"] = self.names.get(image_id, "")
        return raw

    def modify_image(self, image_id: str, attributes: dict[str, str]) -> None:
        def go() -> None:
            if image_id not in self.images:
                raise PermanentCloudError("ecs", "InvalidImageId.NotFound", f"{image_id} not found")
            name = attributes.get("ImageName")
            if name is not None and name != self.names.get(image_id):
                holder = next((i for i, n in self.names.items() if n == name and i in self.images),
                              None)
                if holder is not None:
                    raise PermanentCloudError("ecs", "InvalidImageName.Duplicated",
                                              f"the image name {name} is already used")
                self.names[image_id] = name
            self.images[image_id].attributes.update(attributes)
        self._call("ModifyImageAttribute", go)

    def delete_image(self, image_id: str) -> None:
        def go() -> None:
            if self.images.pop(image_id, None) is None:
                raise PermanentCloudError("ecs", "InvalidImageId.NotFound", f"{image_id} not found")
            self.names.pop(image_id, None)
        self._call("DeleteImage", go)

    # ---- Image Builder

    def create_image_pipeline(self, base_image_id: str, *, items: list[str], name_prefix: str,
                              token: str, description: str | None = None,
                              tags: list[tuple[str, str]] | None = None,
                              instance_type: str | None = None,
                              vswitch_id: str | None = None) -> str:
        def go() -> str:
            for pipeline_id, pipeline in self.pipelines.items():
                if pipeline["token"] == token:
                    return pipeline_id
            pipeline_id = f"ip-sim{next(self._sim_ids):03d}"
            self.pipelines[pipeline_id] = {"token": token, "base": base_image_id,
                                           "prefix": name_prefix, "execution": None}
            return pipeline_id
        return self._call("CreateImagePipeline", go)  # type: ignore[no-any-return]

    def start_image_pipeline_execution(self, pipeline_id: str, *, token: str) -> str:
        def go() -> str:
            pipeline = self.pipelines.get(pipeline_id)
            if pipeline is None:
                raise PermanentCloudError("ecs", "InvalidImagePipelineId.NotFound", pipeline_id)
            if pipeline["execution"] is None:
                execution_id = f"exec-sim{next(self._sim_ids):03d}"
                self.builds[execution_id] = Build(pipeline_id, pipeline["base"], pipeline["prefix"],
                                                  self.clock() + self.build_seconds,
                                                  outcome=self.build_outcome)
                pipeline["execution"] = execution_id
            return str(pipeline["execution"])
        return self._call("StartImagePipelineExecution", go)  # type: ignore[no-any-return]

    def _advance(self, build: Build, execution_id: str) -> None:
        if build.status not in CANCELLABLE and build.status not in RUNNING_PHASES:
            return
        if self.clock() < build.ends_at:
            share = 1 - (build.ends_at - self.clock()) / self.build_seconds
            build.status = RUNNING_PHASES[min(3, int(share * 4))]
            return
        build.status = build.outcome
        if build.outcome == "SUCCESS":
            image_id = f"m-built{next(self._sim_ids):03d}"
            self.images[image_id] = FakeImage({"ImageName": ""}, status="Available")
            self.names[image_id] = f"{build.name_prefix}_{execution_id}"
            self.made_by[image_id] = build.pipeline_id
            build.image_id = image_id

    def describe_image_pipeline_execution(self, pipeline_id: str,
                                          execution_id: str) -> ExecutionView | None:
        def go() -> ExecutionView | None:
            build = self.builds.get(execution_id)
            if build is None or pipeline_id not in self.pipelines:
                return None
            self._advance(build, execution_id)
            return ExecutionView(execution_id=execution_id, pipeline_id=pipeline_id,
                                 status=build.status, image_id=build.image_id,
                                 error_code="BuildFailed" if build.status == "FAILED" else None,
                                 created="2026-12-01T10:00:00Z", modified="2026-12-01T10:10:00Z")
        return self._call("DescribeImagePipelineExecutions", go)  # type: ignore[no-any-return]

    def cancel_image_pipeline_execution(self, execution_id: str) -> None:
        def go() -> None:
            build = self.builds.get(execution_id)
            if build is None:
                raise PermanentCloudError("ecs", "InvalidExecutionId.NotFound", execution_id)
            self._advance(build, execution_id)
            if build.status not in CANCELLABLE:
                raise PermanentCloudError("ecs", "IncorrectStatus",
                                          f"the build is {build.status}")
            build.status = "CANCELLED"
        self._call("CancelImagePipelineExecution", go)

    def delete_image_pipeline(self, pipeline_id: str) -> None:
        def go() -> None:
            if self.pipelines.pop(pipeline_id, None) is None:
                raise PermanentCloudError("ecs", "InvalidImagePipelineId.NotFound", pipeline_id)
        self._call("DeleteImagePipeline", go)

    def cancel_task(self, task_id: str) -> None:
        def go() -> None:
            task = self.tasks[task_id]
            if task.status == "Processing":
                task.status = "Cancelled"
                self.images.pop(task.image_id, None)   # a cancelled import makes no image
                self.names.pop(task.image_id, None)
        self._call("CancelTask", go)
