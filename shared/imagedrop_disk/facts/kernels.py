"""Installed kernels, the newest of them, and which drivers it can load."""

from __future__ import annotations

import re

from ..fs.api import GuestFiles
from .text import lines

MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")
MODULES_DIRS = ("/lib/modules", "/usr/lib/modules")
KERNEL_IMAGE_PREFIXES = ("vmlinuz-", "Image-", "vmlinux-", "kernel-")
BUILTIN_LIMIT = 256 * 1024
ORDER_LIMIT = 1024 * 1024
DEP_CHUNK = 64 * 1024
DEP_LIMIT = 1024 * 1024      # a modules.dep longer than this is not scanned to its end

# Where the kernel tree keeps each driver, relative to /lib/modules/<version>/.
DRIVER_PATHS = {
    "virtio_blk": "kernel/drivers/block/virtio_blk",
    "virtio_net": "kernel/drivers/net/virtio_net",
    "nvme": "kernel/drivers/nvme/host/nvme",
}


def version_key(version: str) -> list[tuple[int, int | str]]:
    """rpmvercmp-like ordering: digit runs compare as numbers and rank above letter runs, so
    5.14.0-362.el9 sorts after 5.14.0-70.el9 and 6.1.0-18 after 6.1.0-9."""
    key: list[tuple[int, int | str]] = []
    for part in re.findall(r"[0-9]+|[A-Za-z]+", version[:256]):
        key.append((1, int(part[:18])) if part.isdigit() else (0, part))
    return key


def is_rescue(version: str) -> bool:
    return "rescue" in version.lower()


def installed_kernels(files: GuestFiles) -> list[str]:
    """Versions of the installed kernels, newest first, rescue kernels left out.

    A version counts when a kernel image carries it (/boot/vmlinuz-<v>, /boot/Image-<v>,
    /lib/modules/<v>/vmlinuz); when no image is found at all (e.g. /boot on a partition that
    could not be read), a modules directory with modules.dep or modules.builtin counts."""
    module_dirs: set[str] = set()
    for base in MODULES_DIRS:
        module_dirs.update(n for n in files.listdir(base) or [] if _looks_like_version(n))
    with_image: set[str] = set()
    for name in files.listdir("/boot") or []:
        for prefix in KERNEL_IMAGE_PREFIXES:
            version = name[len(prefix):]
            if name.startswith(prefix) and _looks_like_version(version):
                with_image.add(version)
    for version in module_dirs:
        if modules_file(files, version, "vmlinuz") is not None:
            with_image.add(version)
    chosen = with_image or {v for v in module_dirs if modules_file(files, v, "modules.dep")
                            or modules_file(files, v, "modules.builtin")}
    return sorted((v for v in chosen if not is_rescue(v)), key=version_key, reverse=True)


def _looks_like_version(name: str) -> bool:
    return bool(name) and name[0].isdigit() and len(name) <= 128 and "/" not in name


def modules_file(files: GuestFiles, version: str, name: str) -> str | None:
    """The path of /lib/modules/<version>/<name> if it is a file, else None."""
    for base in MODULES_DIRS:
        path = f"{base}/{version}/{name}"
        if files.kind(path) == "file":
            return path
    return None


def drivers_available(files: GuestFiles, version: str,
                      names: tuple[str, ...]) -> dict[str, bool | None]:
    """For each driver: True if built in or a module file exists for `version`, False if the
    kernel's own lists say it is not there, None if nothing could tell."""
    result: dict[str, bool | None] = {n: None for n in names}
    builtin_path = modules_file(files, version, "modules.builtin")
    builtin = builtin_modules(files, version) or set()
    built = builtin | _modules_order(files, version)
    missing = []
    for name in names:
        if name in built or _module_file_exists(files, version, name):
            result[name] = True
        else:
            missing.append(name)
    if not missing:
        return result
    dep_path = modules_file(files, version, "modules.dep")
    if dep_path is None:
        if builtin_path is not None:
            for name in missing:
                result[name] = False if _kernel_tree_exists(files, version) else None
        return result
    listed, complete = _scan_modules_dep(files, dep_path, set(missing))
    for name in missing:
        result[name] = True if name in listed else (False if complete else None)
    return result


def _modules_order(files: GuestFiles, version: str) -> set[str]:
    """The modules the kernel package built (modules.order): one contiguous file instead of a
    directory lookup per driver. Modules added later (DKMS, updates/) are not in it."""
    path = modules_file(files, version, "modules.order")
    if path is None:
        return set()
    text = files.read_text(path, ORDER_LIMIT) or ""  # a bounded file: every line counts
    return _module_names(text.splitlines())


def builtin_modules(files: GuestFiles, version: str) -> set[str] | None:
    """The drivers modules.builtin says `version` has built in; None when it is absent."""
    path = modules_file(files, version, "modules.builtin")
    if path is None:
        return None
    return _module_names(lines(files.read_text(path, BUILTIN_LIMIT)))


def _module_file_exists(files: GuestFiles, version: str, name: str) -> bool:
    """A module file of `name`, any suffix: one listing of its directory, not a probe per
    suffix."""
    relative = DRIVER_PATHS.get(name)
    if relative is None:
        return False
    directory, module = relative.rsplit("/", 1)
    wanted = {module + suffix for suffix in MODULE_SUFFIXES}
    for base in MODULES_DIRS:
        if wanted & set(files.listdir(f"{base}/{version}/{directory}") or ()):
            return True
    return False


def _kernel_tree_exists(files: GuestFiles, version: str) -> bool:
    return any(files.kind(f"{base}/{version}/kernel") == "dir" for base in MODULES_DIRS)


def _module_names(entries) -> set[str]:
    """Module names from modules.builtin / modules.dep paths (kernel/…/virtio_blk.ko: …)."""
    names: set[str] = set()
    for entry in entries:
        path = entry.split(":", 1)[0].strip()
        base = path.rsplit("/", 1)[-1]
        for suffix in MODULE_SUFFIXES:
            if base.endswith(suffix):
                names.add(base[: -len(suffix)].replace("-", "_"))
                break
    return names


def _scan_modules_dep(files: GuestFiles, path: str, wanted: set[str]) -> tuple[set[str], bool]:
    """Which of `wanted` modules.dep lists, reading it in chunks and stopping when all are
    found. `complete` is False when the file could not be read to its end within DEP_LIMIT."""
    found: set[str] = set()
    carry = b""
    offset = 0
    while offset < DEP_LIMIT:
        chunk = files.read_bytes(path, offset, DEP_CHUNK)
        if chunk is None:
            return found, False
        data = carry + chunk
        cut = data.rfind(b"\n") + 1 if len(chunk) == DEP_CHUNK else len(data)
        text = data[:cut].decode("utf-8", "replace")
        found |= _module_names(text.splitlines()) & wanted
        if found == wanted or len(chunk) < DEP_CHUNK:
            return found, len(chunk) < DEP_CHUNK or found == wanted
        carry = data[cut:][-4096:]
        offset += len(chunk)
    return found, False


ELF_MACHINES = {3: "i386", 62: "x86_64", 183: "arm64"}
ARCH_PROBES = ("/bin/sh", "/usr/bin/bash", "/bin/bash", "/usr/bin/sh", "/sbin/init")


def elf_architecture(header: bytes | None) -> str | None:
    """The ECS Architecture value from an ELF header's e_machine, or None."""
    if not header or len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    order = {1: "little", 2: "big"}.get(header[5])
    if order is None:
        return None
    return ELF_MACHINES.get(int.from_bytes(header[18:20], order))


def read_architecture(files: GuestFiles, kernel: str | None) -> str | None:
    """From the first executable that is an ELF file; else an uncompressed module of `kernel`."""
    for path in ARCH_PROBES:
        header = files.read_bytes(path, 0, 64)
        if header and header[:4] == b"\x7fELF":
            return elf_architecture(header)
    if kernel:
        for name in DRIVER_PATHS.values():
            for base in MODULES_DIRS:
                arch = elf_architecture(files.read_bytes(f"{base}/{kernel}/{name}.ko", 0, 64))
                if arch:
                    return arch
    return None
