"""The CreateImagePipeline request rules (pure): the template it describes, or the error ECS
answers.

Limits are the ones ECS publishes; codes it publishes none for are modelled (see `builder`).
"""

from __future__ import annotations

import re
from typing import Mapping

from imagedrop_disk.facts.check_items import ITEMS, item_key, repairs

from .. import errors
from . import params as p
from . import rules
from .models import FakeImage, new_id
from .pipelines import FakePipeline

LINUX_REPAIR_ITEMS = ("fstab", "grub", "dhcp", "selinux", "growpart", "cloudinit", "aegis", "nvme",
                      "virtio", "standardizedtimezone")
WINDOWS_REPAIR_ITEMS = ("bcd", "hotfix", "disk", "update", "server", "bootmgr", "vminit",
                        "osloader", "virtio", "standardizedtimezone")
STANDARD = {"linux": ("cloudinit", "dhcp", "virtio", "growpart", "grub", "fstab", "nvme"),
            "windows": ("virtio", "update", "hotfix", "server", "bcd", "disk", "bootmgr",
                        "osloader", "vminit")}
ALL = {"linux": (*STANDARD["linux"], "selinux", "aegis"), "windows": STANDARD["windows"]}
_IMAGE_PREFIX = re.compile(r"^[^\W\d_][\w.:\-]{1,63}$")


def check_repair(pipeline: FakePipeline, os_type: str) -> None:
    allowed = WINDOWS_REPAIR_ITEMS if os_type == "windows" else LINUX_REPAIR_ITEMS
    if pipeline.repair_mode == "Customized" and not pipeline.repair_items:
        raise errors.missing("RepairItem.1")
    for item in pipeline.repair_items:
        if item not in allowed:
            raise errors.invalid("RepairItem", f"{item!r} is not a {os_type} repair item "
                            f"({', '.join(allowed)})", "InvalidParameter.RepairItem")


def _text(params: Mapping[str, str], name: str, low: int, high: int, code: str) -> str:
    value = params.get(name, "")
    if value and (not low <= len(value) <= high or value.lower().startswith(("http://",
                                                                             "https://"))):
        raise errors.invalid(name, f"{low}-{high} characters, not starting with http(s)://", code)
    return value


def parse_pipeline(params: Mapping[str, str], region: str, now: float,
                    base: FakeImage) -> FakePipeline:
    pipeline_id = new_id("ip", region)
    name = params.get("Name", "") or pipeline_id
    if not 2 <= len(name) <= 128 or not name[0].isalpha():
        raise errors.invalid("Name", "2-128 characters starting with a letter", "InvalidName.Malformed")
    image_name = params.get("ImageOptions.ImageName") or params.get("ImageName", "")
    if image_name and (not _IMAGE_PREFIX.match(image_name)
                       or image_name.lower().startswith(("http://", "https://"))):
        raise errors.invalid("ImageOptions.ImageName", "2-64 characters starting with a letter, made "
                        "of letters, digits, ':', '_', '.' and '-'", "InvalidImageName.Malformed")
    family = params.get("ImageOptions.ImageFamily") or params.get("ImageFamily", "")
    if family:
        rules.check_name(family, "InvalidImageFamily.Malformed", "ImageFamily")
    mode = params.get("RepairMode", "")
    if mode and mode not in ("Standard", "All", "Customized"):
        raise errors.invalid("RepairMode", f"{mode!r} is not Standard, All or Customized",
                        "InvalidParameter.RepairMode")
    disk_size = p.integer(params, "SystemDiskSize", 40)
    assert disk_size is not None
    if not 20 <= disk_size <= 500:
        raise errors.invalid("SystemDiskSize", "20-500 GiB", "InvalidParameter.SystemDiskSize")
    suffix = params.get("AdvancedOptions.ImageNameSuffix", "")
    if suffix and suffix != "disable":
        raise errors.invalid("AdvancedOptions.ImageNameSuffix", "the only value is disable")
    image_tags = [(e.get("Key", ""), e.get("Value", ""))
                  for e in p.indexed({k.removeprefix("ImageOptions."): v for k, v in params.items()
                                      if k.startswith("ImageOptions.ImageTags.")},
                                     "ImageTags").values()]
    return FakePipeline(
        pipeline_id, region, now, params["BaseImageType"], base.image_id, name,
        description=_text(params, "Description", 2, 256, "InvalidDescription.Malformed"),
        image_name=image_name, image_family=family,
        image_description=_text(params, "ImageOptions.Description", 2, 256,
                                "InvalidDescription.Malformed"),
        image_tags=image_tags,
        nvme_support=params.get("ImageOptions.ImageFeatures.NvmeSupport", "")
        if params.get("ImageOptions.ImageFeatures.NvmeSupport") != "auto" else "",
        repair_mode=mode, repair_items=list(p.indexed_values(params, "RepairItem").values()),
        instance_type=params.get("InstanceType", ""), vswitch_id=params.get("VSwitchId", ""),
        system_disk_size=disk_size,
        internet_max_bandwidth_out=p.integer(params, "InternetMaxBandwidthOut", 0) or 0,
        delete_instance_on_failure=p.boolean(params, "DeleteInstanceOnFailure", True),
        build_content=params.get("BuildContent", ""), test_content=params.get("TestContent", ""),
        to_regions=list(p.indexed_values(params, "ToRegionId").values()),
        add_accounts=list(p.indexed_values(params, "AddAccount").values()),
        name_suffix=suffix != "disable",
        retain_cloud_assistant=p.boolean(params, "AdvancedOptions.RetainCloudAssistant"),
        resource_group_id=params.get("ResourceGroupId", ""), tags=p.tags(params))


# Check item (lower-cased, without GUESTOS.) → the RepairItem that repairs it, and the Value a
# repaired item has: from the catalogue of check items.
REPAIRS_CHECK_ITEM = {**repairs("windows"), **repairs("linux")}
HEALTHY_VALUE = {item.key: item.fine for item in ITEMS}


def repaired_items(items: list[dict[str, str]], repair_items: list[str]) -> list[dict[str, str]]:
    """The check items of the result: each risk a chosen RepairItem repairs becomes healthy."""
    out = []
    for item in items:
        key = item_key(item.get("Name", ""))
        if item.get("RiskLevel") and REPAIRS_CHECK_ITEM.get(key) in repair_items:
            item = {"Name": item["Name"], "Value": HEALTHY_VALUE.get(key, "Normal")}
        out.append(dict(item))
    return out
