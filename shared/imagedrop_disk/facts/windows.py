"""A Windows guest's facts, from its registry hives (read cell by cell) and its driver files.

SOFTWARE: Microsoft\\Windows NT\\CurrentVersion (ProductName, CurrentBuild, version numbers,
InstallationType). SYSTEM: the current control set's Session Manager\\Environment
(PROCESSOR_ARCHITECTURE) and Services (viostor, netkvm, cloudbase-init). Each fact is set only from
what was read; when a hive or key cannot be read the fact stays None and a note says why.
"""

from __future__ import annotations

import re

from ..errors import HiveCorrupt
from ..fs.api import GuestFiles
from .registry_hive import Hive, Key
from .model import GuestFacts

CONFIG = "/Windows/System32/config"
CURRENT_VERSION = r"Microsoft\Windows NT\CurrentVersion"
ARCHITECTURES = {"AMD64": "x86_64", "ARM64": "arm64", "X86": "i386"}
VIRTIO_DRIVERS = ("viostor", "netkvm")
CLOUDBASE_SERVICE = "cloudbase-init"
CLOUDBASE_DIR = "/Program Files/Cloudbase Solutions/Cloudbase-Init"
SERVER_BUILDS = {
    "2022": {20348}, "2019": {17763}, "2016": {14393}, "2012": {9200, 9600},
    "2008": {6001, 6002, 6003, 7600, 7601}, "2003": {3790},
}
WINDOWS_11_BUILD = 22000
DISABLED = 4


def windows_facts(files: GuestFiles) -> GuestFacts:
    notes: list[str] = []
    facts = GuestFacts(os_type="windows", distro="windows", root_fs="ntfs")
    software = _open_hive(files, "SOFTWARE", notes)
    if software is not None:
        _release(software, facts, notes)
    system = _open_hive(files, "SYSTEM", notes)
    control_set = _control_set(system, notes) if system is not None else None
    if system is not None and control_set is not None:
        facts.architecture = _architecture(system, control_set, notes)
        facts.virtio = _virtio(files, system, control_set, notes)
    facts.cloud_init = _cloudbase(files, system, control_set, notes)
    notes.append("kernel, fstab, SELinux, network configuration and serial console are Linux "
                 "facts: null on Windows")
    facts.notes = notes
    return facts


def _open_hive(files: GuestFiles, name: str, notes: list[str]) -> Hive | None:
    path = f"{CONFIG}/{name}"
    if files.kind(path) != "file":
        notes.append(f"{path} is missing: the facts it holds are unknown")
        return None
    try:
        hive = Hive(lambda offset, length: files.read_bytes(path, offset, length))
    except HiveCorrupt as exc:
        notes.append(f"{path} could not be read: {exc}")
        return None
    if hive.dirty:
        notes.append(f"{path} was not cleanly closed: changes only in its .LOG files are not seen")
    return hive


def _read(hive: Hive, key: Key | str, value: str, notes: list[str]) -> object:
    try:
        found = hive.key(key) if isinstance(key, str) else key
        item = hive.value(found, value) if found is not None else None
    except HiveCorrupt as exc:
        notes.append(f"registry value {value} could not be read: {exc}")
        return None
    return item.as_python() if item is not None else None


def _release(hive: Hive, facts: GuestFacts, notes: list[str]) -> None:
    try:
        key = hive.key(CURRENT_VERSION)
    except HiveCorrupt as exc:
        notes.append(f"SOFTWARE\\{CURRENT_VERSION} could not be read: {exc}")
        return
    if key is None:
        notes.append(f"SOFTWARE\\{CURRENT_VERSION} is missing: version and name unknown")
        return
    product = _text(_read(hive, key, "ProductName", notes))
    build_text = _text(_read(hive, key, "CurrentBuild", notes)) or \
        _text(_read(hive, key, "CurrentBuildNumber", notes))
    build = int(build_text) if build_text and build_text.isdigit() else None
    install = _text(_read(hive, key, "InstallationType", notes))
    facts.name = product
    if product is None:
        notes.append("SOFTWARE has no ProductName: name and platform unknown")
    if build is None:
        notes.append(f"SOFTWARE has no numeric CurrentBuild ({build_text!r}): version unknown")
    else:
        facts.version = _version(hive, key, build, notes)
    if product and build and build >= WINDOWS_11_BUILD and install == "Client" \
            and "Windows 10" in product:
        notes.append(f"ProductName says {product!r}, but build {build} with InstallationType "
                     f"Client is Windows 11 (Windows 11 keeps the Windows 10 ProductName)")
    facts.platform = _platform(product, build, install, notes)


def _version(hive: Hive, key: Key, build: int, notes: list[str]) -> str | None:
    major = _read(hive, key, "CurrentMajorVersionNumber", notes)
    minor = _read(hive, key, "CurrentMinorVersionNumber", notes)
    if isinstance(major, int):
        if not isinstance(minor, int) and major != 10:
            notes.append(f"CurrentMajorVersionNumber {major} without a minor number: version "
                         f"unknown")
            return None
        return f"{major}.{minor if isinstance(minor, int) else 0}.{build}"
    legacy = _text(_read(hive, key, "CurrentVersion", notes))  # "6.3" before Windows 10
    if legacy and re.fullmatch(r"\d+\.\d+", legacy):
        return f"{legacy}.{build}"
    notes.append("SOFTWARE has neither CurrentMajorVersionNumber nor CurrentVersion: version "
                 "unknown")
    return None


def _platform(product: str | None, build: int | None, install: str | None,
              notes: list[str]) -> str | None:
    if product is None:
        return None
    server = re.search(r"Windows Server (\d{4})", product)
    if server is None:
        if "Server" in product or (install or "").startswith("Server"):
            notes.append(f"ProductName {product!r} names no Windows Server release ECS lists")
        return "Other Windows"
    year = server.group(1)
    if year not in SERVER_BUILDS:
        return "Other Windows"  # e.g. Server 2025: ECS has no Platform value for it
    if build is not None and build not in SERVER_BUILDS[year]:
        notes.append(f"ProductName says Windows Server {year} but build {build} is not one of "
                     f"its builds ({sorted(SERVER_BUILDS[year])}): platform unknown")
        return None
    return f"Windows Server {year}"


def _control_set(hive: Hive, notes: list[str]) -> Key | None:
    current = _read(hive, "Select", "Current", notes)
    if not isinstance(current, int) or not 0 < current < 1000:
        notes.append("SYSTEM\\Select\\Current is missing: reading ControlSet001")
        current = 1
    name = f"ControlSet{current:03d}"
    try:
        key = hive.key(name)
    except HiveCorrupt as exc:
        notes.append(f"SYSTEM\\{name} could not be read: {exc}")
        return None
    if key is None:
        notes.append(f"SYSTEM\\{name} is missing: architecture, drivers and services unknown")
    return key


def _architecture(hive: Hive, control_set: Key, notes: list[str]) -> str | None:
    env = _subkey(hive, control_set, r"Control\Session Manager\Environment", notes)
    raw = _text(_read(hive, env, "PROCESSOR_ARCHITECTURE", notes)) if env else None
    arch = ARCHITECTURES.get((raw or "").upper())
    if arch is None:
        notes.append(f"PROCESSOR_ARCHITECTURE is {raw!r}: architecture unknown")
    return arch


def _virtio(files: GuestFiles, hive: Hive, control_set: Key, notes: list[str]) -> bool | None:
    missing: list[str] = []
    try:
        services = hive.key("Services", start=control_set)
        if services is None:
            notes.append("SYSTEM has no Services key: virtio drivers unknown")
            return None
        for driver in VIRTIO_DRIVERS:
            key = hive.subkey(services, driver)
            if key is None:
                missing.append(f"service key {driver}")
                continue
            start, image = hive.value(key, "Start"), hive.value(key, "ImagePath")
            if start is not None and start.as_python() == DISABLED:
                missing.append(f"{driver} (its service is disabled, Start = 4)")
                continue
            path = _driver_path(_text(image.as_python()) if image else None, driver)
            if files.kind(path) != "file":
                missing.append(path)
    except HiveCorrupt as exc:
        notes.append(f"SYSTEM\\Services could not be read: {exc}; virtio drivers unknown")
        return None
    if missing:
        notes.append("virtio drivers incomplete: missing " + ", ".join(missing))
        return False
    return True


def _driver_path(image_path: str | None, driver: str) -> str:
    """The driver file's guest path from a service's ImagePath (relative to the Windows folder)."""
    if not image_path:
        return f"/Windows/System32/drivers/{driver}.sys"
    path = image_path.replace("\\", "/")
    path = re.sub(r"^(/\?\?/)?[A-Za-z]:/", "/", path)
    path = re.sub(r"^/?(SystemRoot|%SystemRoot%)/", "/Windows/", path, flags=re.IGNORECASE)
    return path if path.startswith("/") else f"/Windows/{path}"


def _cloudbase(files: GuestFiles, hive: Hive | None, control_set: Key | None,
               notes: list[str]) -> bool | None:
    if files.kind(CLOUDBASE_DIR) == "dir":
        return True
    if hive is None or control_set is None:
        notes.append("Cloudbase-Init: its folder is absent and its service is unknown")
        return None
    services = _subkey(hive, control_set, "Services", notes)
    if services is None:
        return None
    if _subkey(hive, services, CLOUDBASE_SERVICE, notes) is not None:
        return True
    notes.append(f"Cloudbase-Init is not installed: no {CLOUDBASE_DIR} and no "
                 f"{CLOUDBASE_SERVICE} service")
    return False


def _subkey(hive: Hive, key: Key, path: str, notes: list[str]) -> Key | None:
    try:
        return hive.key(path, start=key)
    except HiveCorrupt as exc:
        notes.append(f"registry key {path} could not be read: {exc}")
        return None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
