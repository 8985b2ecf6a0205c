"""Builds moving on the emulated clock: each phase ends when its time is up, BUILDING makes the
result image (named, checked and repaired as `builder` describes), and an end releases the
intermediate instance. A mixin of `EcsBackend` through `ImageBuilderOperations`.
"""

from __future__ import annotations

import threading

from .builder_rules import ALL, STANDARD, repaired_items
from .models import CREATING, FakeImage, new_id
from .pipelines import (BUILDING, CANCELLED, CANCELLING, FAILED, REPAIRING, SUCCESS, TEST_FAILED,
                        TESTING, FakeExecution, FakePipeline)


class BuildProgress:
    images: dict[str, FakeImage]
    lock: threading.RLock
    pipelines: dict[str, FakePipeline]
    executions: dict[str, FakeExecution]
    builder_suffix_disable_keeps_suffix: bool
    builder_checks_output: bool

    def detection_items_for(self, image: FakeImage) -> list[dict[str, str]]: ...

    def settle_builds(self, now: float) -> None:
        for execution in self.executions.values():
            while not execution.final and self._advance(execution, now):
                pass

    def _advance(self, ex: FakeExecution, now: float) -> bool:
        """Move `ex` one step if its phase's time is up; False when nothing moved."""
        if ex.hung and ex.status == REPAIRING:
            return False
        ends = ex.phase_started_at + ex.phase_seconds.get(ex.status, 60.0)
        if now < ends:
            return False
        if ex.status == CANCELLING:
            self._end(ex, CANCELLED, ends, drop_image=True)
            return True
        if ex.failure is not None and ex.failure.phase == ex.status:
            ex.error_code, ex.error_info = ex.failure.code, ex.failure.info
            tested = ex.status == TESTING
            self._end(ex, TEST_FAILED if tested else FAILED, ends, drop_image=not tested)
            return True
        if ex.status == BUILDING:
            image = self.images.get(ex.image_id)
            if image is not None:
                image.make_available(ends)
        following = ex.phases[ex.phases.index(ex.status) + 1:] if ex.status in ex.phases else []
        if not following:
            self._end(ex, SUCCESS, ends, drop_image=False)
            return True
        ex.status, ex.phase_started_at, ex.modified_at = following[0], ends, ends
        if ex.status == BUILDING:
            self._start_image(ex, ends)
        return True

    def _end(self, ex: FakeExecution, status: str, at: float, *, drop_image: bool) -> None:
        ex.status, ex.modified_at, ex.instance_released_at = status, at, at
        if drop_image and ex.image_id:
            self.images.pop(ex.image_id, None)

    def _start_image(self, ex: FakeExecution, at: float) -> None:
        pipeline = self.pipelines[ex.pipeline_id]
        base = self.images.get(pipeline.base_image)
        if base is None:
            ex.error_code = "InvalidImageId.NotFound"
            ex.error_info = f"The base image {pipeline.base_image} was deleted during the build."
            self._end(ex, FAILED, at, drop_image=False)
            return
        prefix = pipeline.image_name or base.name
        name = prefix if not pipeline.name_suffix and not self.builder_suffix_disable_keeps_suffix \
            else f"{prefix}_{ex.execution_id}"
        if any(i.region == ex.region and i.name == name for i in self.images.values()):
            ex.error_code = "InvalidImageName.Duplicated"
            ex.error_info = f"The image name {name!r} is already used in {ex.region}."
            self._end(ex, FAILED, at, drop_image=False)
            return
        image = FakeImage(new_id("m", ex.region), ex.region, name, at,
                          [d.copied(d.encrypted) for d in base.disks], description=pipeline.image_description,
                          architecture=base.architecture, os_type=base.os_type,
                          platform=base.platform, boot_mode=base.boot_mode,
                          license_type=base.license_type, family=pipeline.image_family,
                          nvme_support=pipeline.nvme_support or base.nvme_support,
                          imds_support=base.imds_support, tags=dict(pipeline.image_tags),
                          status=CREATING, resource_group_id=base.resource_group_id)
        if self.builder_checks_output:
            image.detection = True
            image.detection_items = repaired_items(self.detection_items_for(base),
                                              self._effective_items(pipeline, base.os_type))
        self.images[image.image_id] = image
        ex.image_id = image.image_id

    def _effective_items(self, pipeline: FakePipeline, os_type: str) -> list[str]:
        if pipeline.repair_mode == "Standard":
            return list(STANDARD[os_type])
        if pipeline.repair_mode == "All":
            return list(ALL[os_type])
        return list(pipeline.repair_items)

