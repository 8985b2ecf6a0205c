"""Whether the initramfs can load a driver at boot, decided from what is cheap and sure: the
generator's own configuration (initramfs-tools MODULES= and its modules list, dracut's hostonly
and add_drivers), and only when that cannot tell, the start of the initramfs itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..fs.api import GuestFiles
from ..work import Work
from .cpio_toc import INITRD_PREFIX, TocAnswer, find_in_initrd
from .text import lines, shell_value

TOOLS_CONF = "/etc/initramfs-tools/initramfs.conf"
TOOLS_CONF_D = "/etc/initramfs-tools/conf.d"
TOOLS_MODULES = "/etc/initramfs-tools/modules"
DRACUT_CONF = "/etc/dracut.conf"
DRACUT_CONF_D = "/etc/dracut.conf.d"
DRACUT_DIST_D = "/usr/lib/dracut/dracut.conf.d"
CONF_LIMIT = 16 * 1024
MAX_CONF_FILES = 16
INITRDS = ("/boot/initrd.img-{v}", "/boot/initramfs-{v}.img", "/boot/initrd-{v}")


@dataclass(frozen=True)
class InInitramfs:
    """The answer for one driver: loadable at boot (True), not (False) or unknown (None), and
    what said so."""

    loadable: bool | None
    because: str


def generator_answer(files: GuestFiles, driver: str) -> tuple[bool, InInitramfs | None]:
    """Whether an initramfs generator is configured, and what its configuration says about
    `driver` as a module (None when it does not decide: MODULES=dep, hostonly)."""
    conf = _tools_conf(files)
    if conf is None:
        dracut = _dracut_conf(files)
        return dracut is not None, _dracut_answer(dracut, driver) if dracut else None
    return True, _tools_answer(files, conf, driver)


def _tools_answer(files: GuestFiles, conf: tuple[str, str], driver: str) -> InInitramfs | None:
    mode, where = conf
    if mode in ("most", "netboot"):
        return InInitramfs(True, f"initramfs-tools builds with MODULES={mode} ({where}), "
                                 f"which takes every storage driver")
    if _listed(files, driver):
        return InInitramfs(True, f"{TOOLS_MODULES} lists {driver}")
    if mode == "list":
        return InInitramfs(False, f"initramfs-tools builds with MODULES=list ({where}) and "
                                  f"{TOOLS_MODULES} does not list {driver}")
    return None  # dep: the drivers of the machine that built it


def _dracut_answer(dracut: tuple[bool | None, set[str], str], driver: str) -> InInitramfs | None:
    hostonly, drivers, where = dracut
    if driver in drivers:
        return InInitramfs(True, f"dracut adds {driver} ({where})")
    if hostonly is False:
        return InInitramfs(True, f"dracut builds with hostonly=no ({where}), which takes "
                                 f"every storage driver")
    return None  # hostonly: the drivers of the machine that built it


def from_initrd(files: GuestFiles, kernel: str, driver: str, directory: str,
                budget: int) -> InInitramfs | None:
    """The initramfs's own table of contents, read from its start up to `budget` bytes."""
    in_boot = set(files.listdir("/boot") or ())
    for pattern in INITRDS:
        path = pattern.format(v=kernel)
        if path.removeprefix("/boot/") not in in_boot:
            continue
        answer: TocAnswer = find_in_initrd(
            lambda offset, length: files.read_bytes(path, offset, length), driver,
            directory, min(budget, INITRD_PREFIX), _charger(files))
        if answer.found is None:
            return InInitramfs(None, f"{path}: {answer.why}")
        return InInitramfs(answer.found, f"{path} {'holds' if answer.found else 'lacks'} "
                                         f"{driver} ({answer.why})")
    return None


def _charger(files: GuestFiles) -> Callable[[int], None]:
    """Decompressed bytes count on the inspection's work meter, when the files carry one."""
    work = getattr(files, "work", None)
    if isinstance(work, Work):
        return lambda n: work.charge("decoded", n)
    return lambda n: None


def _tools_conf(files: GuestFiles) -> tuple[str, str] | None:
    text = files.read_text(TOOLS_CONF, CONF_LIMIT)
    if text is None:
        return None
    mode, where = "most", TOOLS_CONF  # initramfs-tools' own default
    found = _last_assignment(text, "MODULES")
    if found:
        mode = found
    names = sorted(n for n in files.listdir(TOOLS_CONF_D) or [] if not n.startswith("."))
    for name in names[:MAX_CONF_FILES]:
        value = _last_assignment(files.read_text(f"{TOOLS_CONF_D}/{name}", CONF_LIMIT) or "",
                                 "MODULES")
        if value:
            mode, where = value, f"{TOOLS_CONF_D}/{name}"
    return mode.lower(), where


def _listed(files: GuestFiles, driver: str) -> bool:
    wanted = {driver, driver.replace("_", "-")}
    for line in lines(files.read_text(TOOLS_MODULES, CONF_LIMIT)):
        if not line.startswith("#") and line.split()[0] in wanted:
            return True
    return False


def _dracut_conf(files: GuestFiles) -> tuple[bool | None, set[str], str] | None:
    # dracut reads its own and the distribution's files together in name order, a file in
    # /etc replacing the one of the same name in /usr/lib; then /etc/dracut.conf goes first.
    named: dict[str, str] = {}
    for directory in (DRACUT_DIST_D, DRACUT_CONF_D):
        for name in sorted(files.listdir(directory) or [])[:MAX_CONF_FILES]:
            if name.endswith(".conf"):
                named[name] = f"{directory}/{name}"
    paths = [DRACUT_CONF] + [named[n] for n in sorted(named)]
    texts = [(p, files.read_text(p, CONF_LIMIT)) for p in paths]
    if all(text is None for _, text in texts):
        return None
    hostonly: bool | None = None
    drivers: set[str] = set()
    where = DRACUT_CONF
    for path, text in texts:
        for key in ("add_drivers", "force_drivers", "hostonly"):
            for value in _assignments(text or "", key):
                if key == "hostonly":
                    hostonly, where = value.lower() in ("yes", "1", "true"), path
                else:
                    drivers |= {d.replace("-", "_") for d in value.split()}
                    where = path
    return hostonly, drivers, where


_ASSIGN = re.compile(r"^\s*(\w+)\s*\+?=\s*(.*)$")


def _assignments(text: str, key: str) -> list[str]:
    out = []
    for line in lines(text):
        found = _ASSIGN.match(line)
        if found and found.group(1) == key:
            out.append(shell_value(found.group(2).split("#", 1)[0].strip()))
    return out


def _last_assignment(text: str, key: str) -> str | None:
    found = _assignments(text, key)
    return found[-1].strip() if found and found[-1].strip() else None
