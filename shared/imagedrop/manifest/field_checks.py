"""Checks of single manifest fields that need the closed sets in `choices`, and the rules
between fields. Pure functions over raw JSON values; they raise `RuleBroken`."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from . import choices as c
from . import rules as r


def check_disk_format(value: Any) -> str:
    text = r.check_text(value, "a disk format")
    folded = text.lower()
    if folded in c.DISK_FORMATS:
        return folded
    if folded in c.CONVERT_FIRST:
        raise r.RuleBroken(f"{text!r} cannot be imported; convert it first: "
                           f"{c.CONVERT_FIRST[folded]}, then set format to qcow2")
    if folded == "iso":
        raise r.RuleBroken("'iso' is an installer, not a disk; install it onto a disk first "
                           "(in a VM), then import that disk as qcow2, vhd, raw or vmdk")
    return r.check_choice(folded, c.DISK_FORMATS, aliases=c.DISK_FORMAT_ALIASES,
                          fix="or remove format to let imagedrop detect it")


def check_schema_version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in c.SCHEMA_VERSIONS:
        raise r.RuleBroken(f"{r.json_type_name(value)} is not a manifest version this imagedrop "
                           "reads (1); write 1, or upgrade imagedrop")
    return int(value)


def check_platform(value: Any) -> str:
    if isinstance(value, str) and value not in c.PLATFORMS:
        hint = r.suggest(value, c.PLATFORMS, c.PLATFORM_ALIASES) or _platform_prefix(value)
        if hint:
            raise r.RuleBroken(f"{value!r} is not an ECS platform name; did you mean {hint}? "
                               "(the version number belongs in image_name or description)")
    return r.check_choice(value, c.PLATFORMS, fix="use 'Others Linux' for another Linux")


def _platform_prefix(value: str) -> Optional[str]:
    folded = value.lower()
    matches = [p for p in c.PLATFORMS if folded.startswith(p.lower())]
    return max(matches, key=len) if matches else None


def check_account_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str):
        raise r.RuleBroken(f"expected an account id (digits), got {r.json_type_name(value)}")
    return r.check_pattern(value, r.ACCOUNT_ID_PATTERN, what="an account id (up to 20 digits)",
                           example="1234567890123456")


def unique_list(value: Any, check: Callable[[Any], Any], *, limit: int, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise r.RuleBroken(f"expected a list of {what}, got {r.json_type_name(value)}")
    if len(value) > limit:
        raise r.RuleBroken(f"{len(value)} {what}; at most {limit}")
    items: list[tuple[str, str]] = []
    result: list[Any] = []
    for index, raw in enumerate(value):
        try:
            item = check(raw)
        except r.RuleBroken as broken:
            items.append((f"[{index}]", broken.message))
            continue
        if item in result:
            items.append((f"[{index}]", f"{item!r} is listed twice; list it once"))
        result.append(item)
    if items:
        raise r.RuleBroken("", items)
    return result


def cross_field_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules between fields. `values` holds only the fields that are individually valid (a
    field left out of the manifest is there as None); a field missing from `values` is unknown."""
    problems: list[tuple[str, str]] = []
    os_type, platform = values.get("os_type"), values.get("platform")
    if os_type and platform:
        platform_os = "windows" if platform in c.WINDOWS_PLATFORMS else "linux"
        if platform_os != os_type:
            problems.append(("platform", f"{platform!r} is a {platform_os.capitalize()} platform "
                             f"but "
                             f"os_type is {os_type!r}; make them agree"))
    license_known = "license_type" in values  # a broken license_type is neither given nor absent
    if os_type == "windows" and license_known and not values["license_type"]:
        problems.append(("license_type", "required when os_type is windows; set it to Auto, "
                         "Aliyun (licence billed by Alibaba Cloud) or BYOL (your own licence)"))
    if os_type == "linux" and license_known and values["license_type"]:
        problems.append(("license_type", "applies only to windows images; remove it "
                         "(os_type is linux)"))
    if values.get("architecture") == "arm64" and values.get("boot_mode") == "BIOS":
        problems.append(("boot_mode", "arm64 images boot with UEFI only; set boot_mode to UEFI "
                         "or remove it"))
    region = values.get("region")
    for index, target in enumerate(values.get("copy_to_regions") or []):
        if region and target == region:
            problems.append((f"copy_to_regions[{index}]", f"{target!r} is the import region "
                             "itself; remove it"))
    return problems
