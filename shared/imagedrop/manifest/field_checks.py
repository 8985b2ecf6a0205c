"""Checks of single manifest fields that need the closed sets in `choices`, and the rules
between fields. Pure functions over raw JSON values; they raise `RuleBroken`."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Optional

from . import choices as c
from . import rules as r


def check_disk_format(value: Any) -> str:
    text = r.check_text(value, "a disk format")
    folded = text.lower()
    if folded in c.DISK_FORMATS:
        return folded
    if folded in c.CONVERT_FIRST:
        raise r.RuleBroken(f"{r.shown(text)} cannot be imported; convert it first: "
                           f"{c.CONVERT_FIRST[folded]}, then set format to qcow2")
    if folded == "iso":
        raise r.RuleBroken("'iso' is an installer, not a disk; install it onto a disk first "
                           "(in a VM), then import that disk as qcow2, vhd, raw or vmdk")
    return r.check_choice(folded, c.DISK_FORMATS, aliases=c.DISK_FORMAT_ALIASES,
                          fix="or remove format to let imagedrop detect it")


def check_repair(value: Any) -> Any:
    """"off", "auto", or a non-empty list of distinct Image Builder repair items."""
    if isinstance(value, str):
        return r.check_choice(value, c.REPAIR_MODES,
                              fix="or list the items to repair, e.g. [\"fstab\", \"cloudinit\"]")
    if not isinstance(value, list):
        raise r.RuleBroken(f"expected \"off\", \"auto\" or a list of repair items, got "
                           f"{r.json_type_name(value)}; write e.g. \"auto\" or [\"fstab\"]")
    if not value:
        raise r.RuleBroken("an empty list repairs nothing; write \"off\", \"auto\" or name the "
                           "items")
    each_once(value, lambda item: r.check_choice(item, c.REPAIR_ITEMS), fix="list each item once")
    return value


def check_schema_version(value: Any) -> int:
    number = r.whole_number(value)  # 1.0 too: JSON Schema's `const: 1` accepts it
    if number not in c.SCHEMA_VERSIONS:
        raise r.RuleBroken(f"{r.json_type_name(value)} is not a manifest version this imagedrop "
                           "reads (1); write 1, or upgrade imagedrop")
    return int(number)


def check_platform(value: Any) -> str:
    if isinstance(value, str) and value not in c.PLATFORMS:
        hint = _platform_hint(value)
        if hint:
            raise r.RuleBroken(f"{r.shown(value)} is not an ECS platform name; did you mean "
                               f"{hint}? (the version number belongs in image_name or "
                               "description)")
    return r.check_choice(value, c.PLATFORMS, fix="use 'Others Linux' for another Linux")


def _platform_hint(value: str) -> Optional[str]:
    """The platform meant by a name people write: exact in another case or spelling, then the
    longest platform or alias the value starts with ("Ubuntu 22.04", "RHEL 9"), then any Windows
    that names no listed Windows Server ("Windows 10", "Windows Server 2025": Other Windows),
    then the closest spelling."""
    folded = " ".join(value.lower().split())
    if folded in c.PLATFORM_ALIASES:
        return c.PLATFORM_ALIASES[folded]
    squashed = {re.sub(r"[\s_\-]", "", p.lower()): p for p in c.PLATFORMS}
    if re.sub(r"[\s_\-]", "", folded) in squashed:
        return squashed[re.sub(r"[\s_\-]", "", folded)]
    names = {p.lower(): p for p in c.PLATFORMS} | dict(c.PLATFORM_ALIASES)
    starts = [name for name in names if folded.startswith(name)]
    if starts:
        return names[max(starts, key=len)]
    if "windows" in folded:
        return "Other Windows"
    return r.suggest(value, c.PLATFORMS)


def check_account_id(value: Any) -> str:
    number = r.whole_number(value)
    # A float above 2**53 may already have lost digits of the id; such an id must be quoted.
    if number is not None and number >= 0 and (isinstance(value, int) or number <= 2**53):
        value = str(number)
    if not isinstance(value, str):
        raise r.RuleBroken(f"expected an account id (digits), got {r.json_type_name(value)}; "
                           "write it in quotes, e.g. '1234567890123456'")
    return r.check_pattern(value, r.ACCOUNT_ID_PATTERN, what="an account id (up to 20 digits)",
                           example="1234567890123456")


def unique_list(value: Any, check: Callable[[Any], Any], *, limit: int, what: str,
                example: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise r.RuleBroken(f"expected a list of {what}, got {r.json_type_name(value)}; write "
                           f"a list, e.g. {example}")
    if len(value) > limit:
        raise r.RuleBroken(f"{len(value)} {what}; at most {limit}")
    return each_once(value, check, fix="list it once")


def each_once(value: list[Any], check: Callable[[Any], Any], *, fix: str) -> list[Any]:
    """Each item checked, and none listed twice; every broken item named by its index."""
    items: list[tuple[str, str]] = []
    result: list[Any] = []
    for index, raw in enumerate(value):
        try:
            item = check(raw)
        except r.RuleBroken as broken:
            items.append((f"[{index}]", broken.message))
            continue
        if item in result:
            items.append((f"[{index}]", f"{r.shown(item)} is listed twice; {fix}"))
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
        platform_os = platform_os_type(platform)
        if platform_os != os_type:
            problems.append(("platform", f"{platform!r} is a {platform_os.capitalize()} platform "
                             f"but "
                             f"os_type is {os_type!r}; make them agree"))
    license_known = "license_type" in values  # a broken license_type is neither given nor absent
    implied_os = os_type or (platform_os_type(platform) if platform else None)
    why = (f"os_type is {os_type}" if os_type else
           f"platform {platform!r} is a {str(implied_os).capitalize()} platform")
    if implied_os == "windows" and license_known and not values["license_type"]:
        problems.append(("license_type", f"required when {why}; set it to Auto, "
                         "Aliyun (licence billed by Alibaba Cloud) or BYOL (your own licence)"))
    if implied_os == "linux" and license_known and values["license_type"]:
        problems.append(("license_type", f"applies only to windows images; remove it ({why})"))
    if values.get("architecture") == "arm64" and values.get("boot_mode") == "BIOS":
        problems.append(("boot_mode", "arm64 images boot with UEFI only; set boot_mode to UEFI "
                         "or remove it"))
    repair = values.get("repair")
    if os_type and isinstance(repair, list):
        allowed = c.WINDOWS_REPAIR_ITEMS if os_type == "windows" else c.LINUX_REPAIR_ITEMS
        for index, item in enumerate(repair):
            if item not in allowed:
                problems.append((f"repair[{index}]", f"{r.shown(item)} is not a {os_type} repair "
                                 f"item; use {', '.join(allowed)}"))
    region = values.get("region")
    for index, target in enumerate(values.get("copy_to_regions") or []):
        if region and target == region:
            problems.append((f"copy_to_regions[{index}]", f"{r.shown(target)} is the import region "
                             "itself; remove it"))
    return problems


def platform_os_type(platform: str) -> str:
    """The os_type a platform belongs to."""
    return "windows" if platform in c.WINDOWS_PLATFORMS else "linux"
