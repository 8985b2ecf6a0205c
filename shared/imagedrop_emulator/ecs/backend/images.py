"""Operations on existing images: describe filters, modify, copy, share, delete.

A mixin of `EcsBackend` (it owns `images`, `tasks`, `lock`, `settle()`); kept apart so each module
stays small. Error codes are the ones ECS publishes; the few modelled here are marked.
"""

from __future__ import annotations

import threading
from typing import Any, Mapping

from ...core import ServiceError
from .. import errors
from ...env import CloudEnv
from . import params as p
from . import rules
from .common import client_token, in_region, remember, replayed
from .models import AVAILABLE, CREATING, FakeImage, FakeImportTask, new_id

ALL_STATUSES = ("Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated")
BOOT_MODES = ("BIOS", "UEFI", "UEFI-Preferred")
MAX_SHARE_ENTRIES = 10


class ImageOperations:
    env: CloudEnv
    lock: threading.RLock
    images: dict[str, FakeImage]
    tasks: dict[str, FakeImportTask]
    tokens: dict[tuple[str, str, str], dict[str, str]]
    copy_base_seconds: float
    copy_bytes_per_second: float

    def settle(self) -> float: ...

    def check_region(self, region: str, name: str = "RegionId") -> None: ...

    # ------------------------------------------------------------------ lookups

    def check_name_free(self, region: str, name: str, field: str = "ImageName") -> None:
        if any(i.region == region and i.name == name for i in self.images.values()):
            raise ServiceError(400, "InvalidImageName.Duplicated",
                               f"The destination image is exist: an image named {name!r} already exists "
                               f"in {region}. Choose another {field} or delete the old image.")

    def image(self, region: str, image_id: str) -> FakeImage:
        with self.lock:
            self.settle()
            return in_region(self.images, image_id, region, errors.image_not_found)

    def _is_importing(self, image: FakeImage) -> bool:
        task = self.tasks.get(image.task_id)
        return image.status == CREATING and task is not None and task.status == "Processing"

    def select_images(self, params: Mapping[str, str]) -> list[FakeImage]:
        """DescribeImages filters; without `Status` only Available images are visible."""
        region = p.required(params, "RegionId")
        self.check_region(region)
        statuses = p.comma_list(params, "Status") or ["Available"]
        if "ALL" in statuses:
            statuses = list(ALL_STATUSES)
        ids = p.comma_list(params, "ImageId")
        owner = params.get("ImageOwnerAlias", "")
        wanted_tags = [(e.get("Key", ""), e.get("Value")) for e in p.indexed(params, "Tag").values()]
        created_from, created_to = _creation_window(params)
        if p.boolean(params, "DryRun"):
            raise errors.dry_run_passed()
        # Every image here is a private custom image that no instance uses (there are no instances).
        if p.boolean(params, "IsPublic") or params.get("Usage") == "instance":
            return []
        with self.lock:
            self.settle()
            found = []
            for image in self.images.values():
                if (image.region != region or image.status not in statuses
                        or (ids and image.image_id not in ids)
                        or (owner and owner != "self")
                        or params.get("ImageName", "") not in image.name
                        or (params.get("ImageFamily") and image.family != params["ImageFamily"])
                        or (params.get("OSType") and image.os_type != params["OSType"])
                        or (params.get("Architecture") and image.architecture != params["Architecture"])
                        or (created_from is not None and image.created_at < created_from)
                        or (created_to is not None and image.created_at > created_to)):
                    continue
                if any(k not in image.tags or (v not in (None, "") and image.tags[k] != v)
                       for k, v in wanted_tags):
                    continue
                found.append(image)
            return sorted(found, key=lambda i: i.created_at, reverse=True)

    # ------------------------------------------------------------------ ModifyImageAttribute

    def modify_image_attribute(self, params: Mapping[str, str]) -> None:
        region = p.required(params, "RegionId")
        image = self.image(region, p.required(params, "ImageId"))
        with self.lock:
            if self._is_importing(image):
                raise errors.image_importing(image.image_id)
            changes: dict[str, Any] = {}
            if params.get("ImageName"):
                rules.check_name(params["ImageName"])
                if params["ImageName"] != image.name:
                    self.check_name_free(region, params["ImageName"])
                changes["name"] = params["ImageName"]
            if params.get("Description"):
                rules.check_description(params["Description"])
                changes["description"] = params["Description"]
            if params.get("ImageFamily"):
                rules.check_name(params["ImageFamily"], "InvalidImageFamily.Malformed", "ImageFamily")
                changes["family"] = params["ImageFamily"]
            if params.get("BootMode"):
                rules.check_choice(params["BootMode"], BOOT_MODES, "InvalidBootMode.Malformed", "BootMode")
                if image.architecture == "arm64" and params["BootMode"] != "UEFI":
                    raise ServiceError(400, "InvalidBootMode.NotSupport",
                                       "The specified BootMode is not supported: arm64 images boot in UEFI only.")
                changes["boot_mode"] = params["BootMode"]
            if params.get("LicenseType"):
                if params["LicenseType"] != "BYOL":
                    raise ServiceError(400, "InvalidLicenseType.NotSupported",
                                       f"The specified LicenseType {params['LicenseType']!r} is not supported "
                                       "here: ModifyImageAttribute only accepts BYOL.")
                changes["license_type"] = "BYOL"
            nvme = params.get("Features.NvmeSupport")
            if nvme:
                rules.check_choice(nvme, ("supported", "unsupported"),
                                   "InvalidParameter.FeaturesNvmeSupport", "Features.NvmeSupport")
                changes["nvme_support"] = nvme
            imds = params.get("Features.ImdsSupport")
            if imds:
                if imds not in ("v1", "v2"):
                    raise ServiceError(400, "InvalidParameter.FeaturesImdsSupport",
                                       f"The specified Features.ImdsSupport {imds!r} is not valid: use v1 or v2.")
                if image.imds_support == "v2" and imds == "v1":
                    raise ServiceError(400, "InvalidParameter.FeaturesImdsSupport",
                                       "Features.ImdsSupport cannot go back from v2 to v1.")
                changes["imds_support"] = imds
            if params.get("Status"):
                rules.check_choice(params["Status"], ("Deprecated", "Available"),
                                   "InvalidStatus.ValueNotSupported", "Status")
                changes["status"] = params["Status"]
            if p.boolean(params, "DryRun"):
                raise errors.dry_run_passed()
            for attr, value in changes.items():
                setattr(image, attr, value)

    # ------------------------------------------------------------------ CopyImage

    def copy_image(self, params: Mapping[str, str]) -> str:
        region = p.required(params, "RegionId")
        source = self.image(region, p.required(params, "ImageId"))
        destination = p.required(params, "DestinationRegionId")
        self.check_region(destination, "DestinationRegionId")
        token = client_token(params)
        with self.lock:
            if (done := replayed(self.tokens, region, "CopyImage", token)) is not None:
                return done["ImageId"]
            if source.status != AVAILABLE:
                raise ServiceError(403, "IncorrectImageStatus",
                                   f"The image {source.image_id} is {source.status}; only an Available "
                                   "image can be copied.")
            name = params.get("DestinationImageName") or source.name
            rules.check_name(name, what="DestinationImageName")
            self.check_name_free(destination, name, "DestinationImageName")
            description = params.get("DestinationDescription", source.description)
            if description:
                rules.check_description(description)
            tags = p.tags(params)
            encrypted = p.boolean(params, "Encrypted") or any(d.encrypted for d in source.disks)
            if p.boolean(params, "DryRun"):
                raise errors.dry_run_passed()
            now = self.settle()
            disks = [d.copied(encrypted) for d in source.disks]
            total = sum(d.file_size or d.size_gib for d in source.disks)
            target = FakeImage(new_id("m", destination), destination, name, now, disks,
                               description=description, architecture=source.architecture,
                               os_type=source.os_type, platform=source.platform,
                               boot_mode=source.boot_mode, license_type=source.license_type,
                               family=source.family, nvme_support=source.nvme_support,
                               imds_support=source.imds_support, tags=dict(tags),
                               copy_started_at=now,
                               ready_at=now + self.copy_base_seconds + total / self.copy_bytes_per_second,
                               source_image_id=source.image_id)
            self.images[target.image_id] = target
            remember(self.tokens, region, "CopyImage", token, {"ImageId": target.image_id})
            return target.image_id

    # ------------------------------------------------------------------ sharing and deletion

    def modify_share(self, params: Mapping[str, str]) -> None:
        region = p.required(params, "RegionId")
        image = self.image(region, p.required(params, "ImageId"))
        add = [v for n, v in p.indexed_values(params, "AddAccount").items() if n <= MAX_SHARE_ENTRIES]
        remove = [v for n, v in p.indexed_values(params, "RemoveAccount").items() if n <= MAX_SHARE_ENTRIES]
        for account in (*add, *remove):
            if not account.isdigit():
                raise ServiceError(400, "InvalidAccount.NotFound",
                                   f"The specified account does not exist: {account!r} is not an Alibaba "
                                   "Cloud account ID (digits only).")
        with self.lock:
            if image.status != AVAILABLE:
                raise ServiceError(403, "IncorrectImageStatus",
                                   f"The image {image.image_id} is {image.status}; only an Available "
                                   "image can be shared.")
            for account in add:
                if account not in image.shared_with:
                    image.shared_with.append(account)
            image.shared_with = [a for a in image.shared_with if a not in remove]

    def delete_image(self, params: Mapping[str, str]) -> None:
        region = p.required(params, "RegionId")
        image = self.image(region, p.required(params, "ImageId"))
        with self.lock:
            if self._is_importing(image):
                raise errors.image_importing(image.image_id)
            if image.copying:
                raise ServiceError(403, "OperationDenied.ImageCopying",
                                   f"The Image is coping: wait until {image.image_id} is Available.")
            if image.shared_with:
                raise ServiceError(403, "ImageUseShared",
                                   "The specified image has been shared to others: remove every account "
                                   "with ModifyImageSharePermission first.")
            if p.boolean(params, "DryRun"):
                raise errors.dry_run_passed()
            del self.images[image.image_id]


def _creation_window(params: Mapping[str, str]) -> tuple[float | None, float | None]:
    """`Filter.N.Key` CreationStartTime / CreationEndTime with `Filter.N.Value` (`yyyy-MM-ddTHH:mmZ`)."""
    window: dict[str, float | None] = {"CreationStartTime": None, "CreationEndTime": None}
    for n, entry in p.indexed(params, "Filter").items():
        key = entry.get("Key", "")
        if key in window and entry.get("Value"):
            window[key] = p.utc_time(params, f"Filter.{n}.Value", "InvalidParameter", entry["Value"])
    return window["CreationStartTime"], window["CreationEndTime"]

