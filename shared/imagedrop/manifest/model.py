"""The sidecar manifest model: what a producer asks for when it drops a disk image into OSS.

Every field runs a rule from `rules` before pydantic sees it, so messages are ours; rules that
involve two fields live in `cross_field_problems` (also used when some fields are broken, so a
person sees every problem at once). The model is pure: no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ManifestError
from . import choices as c
from . import field_checks as checks
from . import key_rules as k
from . import rules as r
from .schema_bits import (ACCOUNTS_SCHEMA, DATA_DISKS_SCHEMA, DESCRIPTION_SCHEMA, FORMAT_SCHEMA,
                          IMAGE_FAMILY_SCHEMA, IMAGE_NAME_SCHEMA, OBJECT_KEY_SCHEMA, REGION_SCHEMA,
                          REGIONS_SCHEMA, REPAIR_SCHEMA, TAGS_SCHEMA, add_cross_field_schema,
                          allow_null_for_optional)

DiskFormat = Literal["qcow2", "vhd", "raw", "vmdk"]
# Fields a manifest may leave out for the ingest to read from the system disk.
DISK_FIELDS: tuple[str, ...] = ("os_type", "platform", "architecture", "boot_mode")
Platform = Literal[c.PLATFORMS]  # type: ignore[valid-type]


class DataDisk(BaseModel):
    """One data disk imported with the system disk."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DataDisk",
                              json_schema_extra=allow_null_for_optional)

    object: str = Field(description="OSS key of the disk image, relative to the manifest's folder "
                        "(same bucket; no leading '/', no '..', no 'oss://').",
                        json_schema_extra=OBJECT_KEY_SCHEMA)
    size_gib: Optional[int] = Field(None, description="Disk size in GiB, 1–2048, at least the "
                                    "image's size. Default: from the image.",
                                    json_schema_extra={"minimum": 1, "maximum": 2048})
    format: Optional[DiskFormat] = Field(None, description="qcow2, vhd, raw or vmdk (any case). "
                                         "Default: detected.", json_schema_extra=FORMAT_SCHEMA)

    @field_validator("object", mode="before")
    @classmethod
    def _object(cls, value: Any) -> str:
        problem = r.object_key_problem(value)
        if problem:
            raise r.RuleBroken(problem)
        return value

    @field_validator("size_gib", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Optional[int]:
        if value is None:
            return None
        return r.check_gib(value, absent_fix="or remove size_gib to size the disk from its image")

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Optional[str]:
        return None if value is None else checks.check_disk_format(value)


def _optional(check: Callable[[Any], Any], default: Any = None) -> Any:
    """A before-validator that lets JSON null mean "not given" (the default) and runs `check`
    otherwise."""
    def run(cls: type, value: Any) -> Any:
        return default if value is None else check(value)
    return classmethod(run)


class Manifest(BaseModel):
    """Sidecar manifest of a disk image: the object `K.json` next to disk `K`."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="imagedrop manifest",
                              json_schema_extra=add_cross_field_schema)

    json_schema_ref: Optional[str] = Field(None, alias="$schema", description="Optional URL or "
                                           "path of this schema, for editors. Ignored.")
    schema_version: Optional[Literal[1]] = Field(None, description="Version of the manifest "
                                                 "format. Absent means 1; a later imagedrop may "
                                                 "define 2 and will refuse what it cannot read.")
    image_name: str = Field(description="Name of the new ECS image: 2–128 characters; first an "
                            "ASCII letter or a CJK ideograph, then letters, CJK ideographs, "
                            "digits, "
                            "'.', '_', ':', '-'; not starting with 'aliyun', 'acs:', 'http://', "
                            "'https://'.", json_schema_extra=IMAGE_NAME_SCHEMA)
    os_type: Optional[Literal["linux", "windows"]] = Field(
        None, description="linux or windows; must match platform. Default: read from the disk "
        "(the platform's OS, else the guest's files, else its partitions).")
    platform: Optional[Platform] = Field(
        None, description="OS version as ECS names it (exact spelling). Not in the list: "
        "'Others Linux' or 'Customized Linux'. Default: read from the disk (os-release ID, "
        "Windows ProductName); refused when the disk does not tell.")
    architecture: Optional[Literal["x86_64", "i386", "arm64"]] = Field(
        None, description="x86_64, i386 or arm64. Default: read from the disk (the ELF header "
        "of /bin/sh, the Windows registry); refused when the disk does not tell.")
    license_type: Optional[Literal["Auto", "Aliyun", "BYOL"]] = Field(
        None, description="Windows licence: Auto, Aliyun (billed by Alibaba Cloud) or BYOL. "
        "Required for windows, refused for linux.")
    boot_mode: Optional[Literal["BIOS", "UEFI"]] = Field(
        None, description="BIOS or UEFI. Default: detected from the image's partitions (arm64: "
        "UEFI). arm64 cannot boot BIOS.")
    format: Optional[DiskFormat] = Field(None, description="System disk format: qcow2, vhd, raw "
                                         "or vmdk (any case). Default: detected.",
                                         json_schema_extra=FORMAT_SCHEMA)
    system_disk_gib: Optional[int] = Field(None, description="System disk size in GiB, 1–2048. "
                                           "Default: the image's virtual size or file size, "
                                           "whichever is larger, rounded up.",
                                           json_schema_extra={"minimum": 1, "maximum": 2048})
    data_disks: list[DataDisk] = Field(default_factory=list, description="Up to 16 data disks, "
                                       "by key relative to the manifest's folder.",
                                       json_schema_extra=DATA_DISKS_SCHEMA)
    preflight: Literal["report", "strict"] = Field(
        "report", description="What a High image-check risk read in the disk before the import "
        "does: report (record and announce it, import anyway) or strict (refuse the import, "
        "naming the risk and its fix).")
    image_check: bool = Field(True, description="Run the ECS image check after the import "
                              "(skipped for platforms the check does not support).")
    description: Optional[str] = Field(None, description="2–256 characters, not starting with "
                                       "http:// or https://.", json_schema_extra=DESCRIPTION_SCHEMA)
    tags: dict[str, str] = Field(default_factory=dict, description="Up to 20 tags as an object "
                                 "{\"key\": \"value\"}: key 1–128, value 0–128 characters; "
                                 "a key must not start with 'aliyun' or 'acs:', a value not with "
                                 "'acs:'; neither may contain http:// or https://.",
                                 json_schema_extra=TAGS_SCHEMA)
    resource_group_id: Optional[str] = Field(None, description="Resource group of the image, "
                                             "e.g. rg-acfmzw2jz2z****.",
                                             json_schema_extra={
                                                 "pattern": r.RESOURCE_GROUP_PATTERN})
    image_family: Optional[str] = Field(None, description="Image family to put the image in: "
                                        "the image_name rules (2–128 characters; first an ASCII "
                                        "letter or a CJK ideograph, then letters, CJK "
                                        "ideographs, digits, '.', '_', ':', '-'; not 'aliyun…' or "
                                        "'acs:…').",
                                        json_schema_extra=IMAGE_FAMILY_SCHEMA)
    nvme_support: Literal["auto", "supported", "unsupported"] = Field(
        "auto", description="NVMe driver in the image: auto (let the image check decide), "
        "supported or unsupported.")
    imds_support: Optional[Literal["v1", "v2"]] = Field(
        None, description="Instance metadata access: v1 or v2 (v2 only: tokens required). "
        "Default: ECS's (v1). v2 cannot be changed back to v1.")
    copy_to_regions: list[str] = Field(default_factory=list, description="Regions to copy the "
                                       "finished image to, e.g. [\"ap-northeast-1\"]. "
                                       "No duplicates.",
                                       json_schema_extra=REGIONS_SCHEMA)
    share_with_accounts: list[str] = Field(default_factory=list, description="Alibaba Cloud "
                                           "account ids (digits) to share the image with. Numbers "
                                           "are accepted.", json_schema_extra=ACCOUNTS_SCHEMA)
    delete_source_on_success: bool = Field(False, description="Delete the disk objects and this "
                                           "manifest from OSS after a successful import.")
    repair: Optional[Union[Literal["off", "auto"], list[str]]] = Field(
        None, description="Repair inside the guest after the image check, with ECS Image Builder "
        "(a temporary pay-as-you-go instance builds a repaired image that takes image_name): off, "
        "auto (every item the check finds at risk that can be repaired) or a list of items "
        f"(linux: {', '.join(c.LINUX_REPAIR_ITEMS)}; "
        f"windows: {', '.join(c.WINDOWS_REPAIR_ITEMS)}). "
        "Default: the deployment's IMAGEDROP_REPAIR (off unless set), which may forbid it.",
        json_schema_extra=REPAIR_SCHEMA)
    keep_unrepaired: bool = Field(False, description="Keep the unrepaired image after a "
                                  "successful repair (renamed '<image_name>-unrepaired-…'); by "
                                  "default it is deleted.")
    region: Optional[str] = Field(None, description="Region to import into, e.g. cn-hangzhou; "
                                  "must be the bucket's region. Default: the bucket's region.",
                                  json_schema_extra=REGION_SCHEMA)

    _schema_version = field_validator("schema_version", mode="before")(_optional(
        checks.check_schema_version))
    _schema_ref = field_validator("json_schema_ref", mode="before")(_optional(r.check_text))
    _image_name = field_validator("image_name", mode="before")(classmethod(
        lambda cls, v: r.check_ecs_name(v, kind="image name", example="web-2026.11",
                                        strict_chars=True)))
    _os_type = field_validator("os_type", mode="before")(_optional(
        lambda v: r.check_choice(v, c.OS_TYPES)))
    _platform = field_validator("platform", mode="before")(_optional(checks.check_platform))
    _architecture = field_validator("architecture", mode="before")(_optional(
        lambda v: r.check_choice(v, c.ARCHITECTURES, aliases=c.ARCHITECTURE_ALIASES)))
    _preflight = field_validator("preflight", mode="before")(_optional(
        lambda v: r.check_choice(v, c.PREFLIGHT_MODES), default="report"))
    _license = field_validator("license_type", mode="before")(_optional(
        lambda v: r.check_choice(v, c.LICENSE_TYPES)))
    _boot_mode = field_validator("boot_mode", mode="before")(_optional(
        lambda v: r.check_choice(v, c.BOOT_MODES, aliases=c.BOOT_MODE_ALIASES)))
    _format = field_validator("format", mode="before")(_optional(checks.check_disk_format))
    _system_disk = field_validator("system_disk_gib", mode="before")(_optional(
        lambda v: r.check_gib(v, absent_fix="or remove system_disk_gib to size it from the image")))
    _image_check = field_validator("image_check", mode="before")(_optional(
        r.check_bool, default=True))
    _delete_source = field_validator("delete_source_on_success", mode="before")(_optional(
        r.check_bool, default=False))
    _description = field_validator("description", mode="before")(_optional(r.check_description))
    _resource_group = field_validator("resource_group_id", mode="before")(_optional(
        lambda v: r.check_pattern(v, r.RESOURCE_GROUP_PATTERN, what="a resource group id",
                                  example="rg-acfmzw2jz2z")))
    _image_family = field_validator("image_family", mode="before")(_optional(
        lambda v: r.check_ecs_name(v, kind="image family", example="web", strict_chars=True)))
    _nvme = field_validator("nvme_support", mode="before")(_optional(
        lambda v: r.check_choice(v, c.NVME_SUPPORT), default="auto"))
    _imds = field_validator("imds_support", mode="before")(_optional(
        lambda v: r.check_choice(v, c.IMDS_SUPPORT)))
    _region = field_validator("region", mode="before")(_optional(r.check_region))
    _repair = field_validator("repair", mode="before")(_optional(checks.check_repair))
    _keep_unrepaired = field_validator("keep_unrepaired", mode="before")(_optional(
        r.check_bool, default=False))
    @field_validator("data_disks", mode="before")
    @classmethod
    def _data_disks(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise r.RuleBroken("expected a list of {\"object\": …}, got "
                               f"{r.json_type_name(value)}; write a list, e.g. "
                               "[{\"object\": \"data.raw\"}]")
        if len(value) > c.MAX_DATA_DISKS:
            raise r.RuleBroken(f"{len(value)} data disks; ECS imports at most {c.MAX_DATA_DISKS} "
                               "with one system disk: split the image or drop some disks")
        return value

    @field_validator("data_disks", mode="after")
    @classmethod
    def _distinct_disks(cls, disks: list[DataDisk]) -> list[DataDisk]:
        seen: set[str] = set()
        for index, disk in enumerate(disks):
            if disk.object in seen:
                raise r.RuleBroken("", [(f"[{index}].object", f"{r.shown(disk.object)} is "
                                         "listed twice; list each data disk once")])
            seen.add(disk.object)
        return disks

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise r.RuleBroken("expected an object {\"key\": \"value\"}, got "
                               f"{r.json_type_name(value)}; write e.g. {{\"team\": \"web\"}}")
        if len(value) > c.MAX_TAGS:
            raise r.RuleBroken(f"{len(value)} tags; an image takes at most {c.MAX_TAGS}: drop "
                               f"{len(value) - c.MAX_TAGS}")
        items = [(tag_path(key), problem) for key, val in value.items()
                 for problem in r.tag_problems(key, val)]
        if items:
            raise r.RuleBroken("", items)
        return value

    @field_validator("copy_to_regions", mode="before")
    @classmethod
    def _copy_regions(cls, value: Any) -> Any:
        return checks.unique_list(value, r.check_region, limit=c.MAX_COPY_REGIONS,
                                  what="region ids", example='["ap-northeast-1"]')

    @field_validator("share_with_accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        return checks.unique_list(value, checks.check_account_id, limit=c.MAX_SHARE_ACCOUNTS,
                                  what="account ids", example='["1234567890123456"]')

    @model_validator(mode="after")
    def _cross_fields(self) -> "Manifest":
        items = checks.cross_field_problems(self.model_dump())
        if items:
            raise r.RuleBroken("", items)
        return self

    # ---- what the pipeline reads -------------------------------------------------------------

    def disk_keys(self, manifest_key: str) -> list[str]:
        """Keys of the system disk (the manifest key minus `.json`), then of each data disk
        (resolved against the manifest's folder). Raises ManifestError when a data disk names
        the system disk or the manifest itself."""
        problems = self.key_problems(manifest_key)
        if problems:
            raise ManifestError(problems)
        return [system_disk_key(manifest_key)] + self._data_disk_keys(manifest_key)

    def key_problems(self, manifest_key: str) -> list[str]:
        """Rules that need the manifest's own key: a data disk is neither the system disk nor
        the manifest."""
        system = system_disk_key(manifest_key)
        problems = []
        for index, key in enumerate(self._data_disk_keys(manifest_key)):
            if key in (system, manifest_key):
                what = "the system disk" if key == system else "this manifest"
                problems.append(f"data_disks[{index}].object: {self.data_disks[index].object!r} is "
                                f"{what} ({key}); list only the data disks' own objects")
        return problems

    def name_problems(self, manifest_key: str,
                      state_prefix: str = k.DEFAULT_STATE_PREFIX) -> list[k.KeyProblem]:
        """Every rule on the names of the manifest and its disks, as (where, `rule; fix`): the
        manifest is `<disk>.json`, short enough for its status record, its disks have names ECS
        takes, and a data disk is neither the system disk nor the manifest. Never raises."""
        named = k.manifest_name_problem(manifest_key)
        if named:
            return [named]
        system = system_disk_key(manifest_key)
        problems = [p for p in (k.record_key_problem(manifest_key, state_prefix),
                                k.system_suffix_problem(system, self.format)) if p]
        disks = [k.NamedDisk(f"data_disks[{i}].object", d.object, key, d.format)
                 for i, (d, key) in enumerate(zip(self.data_disks,
                                                  self._data_disk_keys(manifest_key)))]
        return problems + k.data_disk_problems(manifest_key, system, disks, state_prefix)

    def _data_disk_keys(self, manifest_key: str) -> list[str]:
        folder = manifest_key.rpartition("/")[0]
        return [f"{folder}/{d.object}" if folder else d.object for d in self.data_disks]

    @property
    def effective_boot_mode(self) -> Optional[str]:
        """The boot mode to send, or None to let the image's own boot mode decide."""
        if self.boot_mode:
            return self.boot_mode
        return "UEFI" if self.architecture == "arm64" else None

    @property
    def from_disk(self) -> list[str]:
        """The fields left out that the ingest reads from the disk (boot_mode only when neither
        it nor arm64 decides the boot mode)."""
        wanted = [name for name in DISK_FIELDS[:3] if getattr(self, name) is None]
        if self.effective_boot_mode is None:
            wanted.append("boot_mode")
        return wanted

    @property
    def wants_image_check(self) -> bool:
        return self.image_check and self.platform not in c.IMAGE_CHECK_UNSUPPORTED

    @property
    def nvme_feature(self) -> Optional[str]:
        """`Features.NvmeSupport` to send, or None when the image check should decide."""
        return None if self.nvme_support == "auto" else self.nvme_support

    @property
    def tag_pairs(self) -> list[tuple[str, str]]:
        """Tags in manifest order, for `Tag.N.Key` / `Tag.N.Value`."""
        return list(self.tags.items())

    def to_json_dict(self) -> dict[str, Any]:
        """The manifest as JSON keys, without fields left at their default."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def system_disk_key(manifest_key: str) -> str:
    """`incoming/web.qcow2.json` → `incoming/web.qcow2`."""
    if not manifest_key.endswith(".json") or manifest_key.rpartition("/")[2] == ".json":
        raise ValueError(f"{manifest_key!r} is not a manifest key: a manifest is named "
                         "'<disk key>.json'")
    return manifest_key[: -len(".json")]


def tag_path(key: str) -> str:
    """Where a key sits in a problem's path: `.team`, or `["a\\u0020b"]` when it is not a plain
    word. The quoted form holds no whitespace and no control character, so a problem line stays
    one line and its field ends at the first ': ' (readers split lines there, and take a field
    with a space in it for a whole-file problem)."""
    if re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        return f".{key}"
    quoted = json.dumps(key, ensure_ascii=not key.isprintable())
    return "[" + re.sub(r"\s", lambda m: f"\\u{ord(m.group()):04x}", quoted) + "]"
