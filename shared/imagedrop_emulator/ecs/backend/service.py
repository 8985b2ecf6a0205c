"""`EcsBackend`: custom images and import tasks of one account, in every region of the cloud.

Plain state plus the errors real ECS answers; no HTTP. Time comes from `env.clock`, and every
call first settles what the clock says has happened (tasks finish or fail, copies complete).
Scenario knobs let tests and `local up` shape imports: speed, failures, hung tasks, check items.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...core import ServiceError
from .. import errors
from ...env import CloudEnv
from . import rules
from .builder import ImageBuilderOperations
from .common import client_token, in_region, remember, replayed
from .detection import detection_items
from .images import ImageOperations
from .importer import plan_import
from .models import (AVAILABLE, CANCELLED, CREATE_FAILED, FAILED, FINISHED, PROCESSING, FakeImage,
                     FakeImportTask, new_id)

MIB = 1024 * 1024
DEFAULT_ROLE = "AliyunECSImageImportDefaultRole"


@dataclass
class Scenario:
    detection: list[dict[str, Any]] | None = None      # items merged over the default check items
    detection_by_image: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # by the system disk's object, "bucket/key": set before the import, when no image id is known
    detection_by_object: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_failures: list[tuple[str, str]] = field(default_factory=list)
    next_hangs: list[float] = field(default_factory=list)   # fraction where the task stops moving
    hang_all: bool = False


class EcsBackend(ImageOperations, ImageBuilderOperations):
    def __init__(self, env: CloudEnv):
        self.env = env
        self.lock = threading.RLock()
        self.images: dict[str, FakeImage] = {}
        self.tasks: dict[str, FakeImportTask] = {}
        self.tokens: dict[tuple[str, str, str], dict[str, str]] = {}
        self.scenario = Scenario()
        self.import_base_seconds = 60.0
        self.import_bytes_per_second = 50.0 * MIB
        self.copy_base_seconds = 60.0
        self.copy_bytes_per_second = 100.0 * MIB
        self.detection_seconds = 120.0
        self.import_role_exists = True
        self.roles: set[str] = {DEFAULT_ROLE}
        self.denied_actions: set[str] = set()   # the caller's RAM policy lacks these: Forbidden.RAM
        self.init_builder()

    # ------------------------------------------------------------------ scenario knobs

    def fail_next_import(self, code: str = "ImportImageFailed",
                         message: str = "Importing image is failed, Please contact the administrator.") -> None:
        """The next import task fails with this ErrorCode/ErrorMsg (after `import_base_seconds`)."""
        self.scenario.next_failures.append((code, message))

    def hang_next_import(self, at: float = 0.37) -> None:
        """The next import task stops at this fraction and never finishes (deadline tests)."""
        self.scenario.next_hangs.append(at)

    def add_image(self, name: str, region: str = "") -> FakeImage:
        """An Available image made outside any import (somebody else's), under `name`; ECS's
        name rule holds: a name taken in the region raises InvalidImageName.Duplicated."""
        with self.lock:
            region = region or self.env.region
            now = self.settle()
            self.check_name_free(region, name)
            image = FakeImage(new_id("m", region), region, name, now, [])
            image.make_available(now)
            self.images[image.image_id] = image
            return image

    def detection_items_for(self, image: FakeImage) -> list[dict[str, str]]:
        override = self.scenario.detection_by_image.get(image.image_id)
        if override is None and image.disks:
            system = image.disks[0]
            override = self.scenario.detection_by_object.get(f"{system.bucket}/{system.object}")
        return detection_items(image, override if override is not None else self.scenario.detection)

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        return self.env.clock.now()

    def settle(self) -> float:
        """Apply everything the clock says has happened; returns `now`."""
        now = self.now()
        for task in self.tasks.values():
            moved = task.refresh(now)
            image = self.images.get(task.image_id)
            if image is None or moved is None:
                continue
            if moved == FINISHED:
                image.make_available(task.finished_at or now)
            elif moved == FAILED:
                image.status = CREATE_FAILED
        for image in self.images.values():
            image.refresh(now)
            if (image.detection and image.detection_items is None and image.status == AVAILABLE
                    and image.detection_status(now) == "Finished"):
                image.detection_items = self.detection_items_for(image)
        self.settle_builds(now)
        return now

    # ------------------------------------------------------------------ checks

    def check_region(self, region: str, name: str = "RegionId") -> None:
        if region not in self.env.regions:
            raise ServiceError(400, "InvalidRegionId.NotFound",
                               f"The specified {name} does not exist: {region!r} is not one of "
                               f"{', '.join(self.env.regions)}.")

    def _check_role(self, role_name: str) -> None:
        wanted = role_name or DEFAULT_ROLE
        if not self.import_role_exists or wanted not in self.roles:
            raise ServiceError(403, "NoSetRoletoECSServiceAcount",
                               "ECS service account Have no right to access your OSS.please attach a role "
                               f"of access your oss to ECS service account. Create the RAM role {wanted!r} "
                               "trusted by ecs.aliyuncs.com with AliyunECSImageImportRolePolicy.")

    # ------------------------------------------------------------------ ImportImage

    def import_image(self, params: Mapping[str, str]) -> dict[str, str]:
        with self.lock:
            region = params.get("RegionId", "")
            if not region:
                raise ServiceError(400, "MissingParameter", 'An input parameter "RegionId" that is '
                                   "mandatory for processing the request is not supplied.")
            self.check_region(region)
            token = client_token(params)
            if (done := replayed(self.tokens, region, "ImportImage", token)) is not None:
                return done   # same answer, no new image
            req = rules.parse_import(params)
            self._check_role(req.role_name)
            now = self.settle()
            plan = plan_import(self.env.object_store, req)
            name = req.name or f"import-{new_id('m', region)[2:]}"
            self.check_name_free(region, name)
            if req.dry_run:
                raise errors.dry_run_passed()
            image = FakeImage(new_id("m", region), region, name, now, plan.disks,
                              description=req.description, architecture=req.architecture,
                              os_type=req.os_type, platform=req.platform, boot_mode=req.boot_mode,
                              license_type=req.license_type, nvme_support=req.nvme_support,
                              imds_support=req.imds_support, tags=dict(req.tags),
                              detection=req.detection, detection_seconds=self.detection_seconds,
                              resource_group_id=req.resource_group_id)
            duration = self.import_base_seconds + plan.total_bytes / self.import_bytes_per_second
            task = FakeImportTask(new_id("t", region), region, image.image_id, now, duration,
                                  objects=[d.object for d in plan.disks])
            failure = plan.failure or (self.scenario.next_failures.pop(0)
                                       if self.scenario.next_failures else None)
            if failure:
                task.error_code, task.error_msg = failure
                task.fail_at = now + min(duration, self.import_base_seconds)
            if self.scenario.next_hangs:
                task.stuck_at = self.scenario.next_hangs.pop(0)
            elif self.scenario.hang_all:
                task.stuck_at = 0.37
            image.task_id = task.task_id
            self.images[image.image_id] = image
            self.tasks[task.task_id] = task
            answer = {"ImageId": image.image_id, "TaskId": task.task_id, "RegionId": region}
            remember(self.tokens, region, "ImportImage", token, answer)
            return dict(answer)

    # ------------------------------------------------------------------ tasks

    def task(self, region: str, task_id: str) -> FakeImportTask:
        with self.lock:
            self.settle()
            return in_region(self.tasks, task_id, region, errors.task_not_found)

    def find_tasks(self, region: str, task_ids: list[str], action: str, status: str,
                   resource_ids: list[str]) -> list[FakeImportTask]:
        with self.lock:
            self.settle()
            found = [t for t in self.tasks.values() if t.region == region
                     and (not task_ids or t.task_id in task_ids)
                     and (not action or t.action == action)
                     and (not status or t.status == status)
                     and (not resource_ids or t.image_id in resource_ids)]
            return sorted(found, key=lambda t: t.created_at, reverse=True)

    def cancel_task(self, region: str, task_id: str) -> None:
        with self.lock:
            task = self.task(region, task_id)
            if task.status != PROCESSING:
                raise ServiceError(403, "InvalidTaskId.IncorrectTaskStatus",
                                   f"The specified task status is invalid: task {task_id} is "
                                   f"{task.status}; only a Processing task can be cancelled.")
            task.status, task.finished_at = CANCELLED, self.now()
            self.images.pop(task.image_id, None)   # a cancelled import leaves no image behind
