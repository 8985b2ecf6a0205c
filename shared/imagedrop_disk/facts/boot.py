"""The kernel command line the guest boots with: the default GRUB entry, BLS entries with the
grubenv `kernelopts`, else /etc/default/grub."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..fs.api import GuestFiles
from .kernels import is_rescue, version_key
from .text import key_values, lines, shell_value, split_words

GRUB_CFGS = ("/boot/grub2/grub.cfg", "/boot/grub/grub.cfg")
GRUBENVS = ("/boot/grub2/grubenv", "/boot/grub/grubenv")
BLS_DIR = "/boot/loader/entries"
CFG_LIMIT = 256 * 1024
SMALL_LIMIT = 16 * 1024
MAX_BLS_ENTRIES = 64

_LINUX_CMD = re.compile(r"^(linux|linuxefi|linux16)\s+(\S+)\s*(.*)$")


@dataclass(frozen=True)
class Cmdline:
    args: list[str]
    source: str          # which file the arguments came from

    def value(self, key: str) -> str | None:
        """The last `key=value` (the kernel honours the last one)."""
        found = None
        for arg in self.args:
            if arg.startswith(key + "="):
                found = arg[len(key) + 1:]
        return found

    def values(self, key: str) -> list[str]:
        return [a[len(key) + 1:] for a in self.args if a.startswith(key + "=")]


def kernel_cmdline(files: GuestFiles) -> Cmdline | None:
    env = _grubenv(files)
    grub = _grub_cfg(files)
    grub_vars = _grub_set_vars(grub[1]) if grub else {}
    args = _default_linux_line(grub[1], env) if grub else None
    if grub and args is not None and "$" not in args:
        return Cmdline(split_words(args), grub[0])
    bls = _bls_options(files, env, grub_vars)
    if bls is not None:
        return bls
    if grub and args is not None:
        return Cmdline(split_words(_expand(args, env, grub_vars)), grub[0])
    return _default_grub(files)


def _grub_cfg(files: GuestFiles) -> tuple[str, str] | None:
    candidates = list(GRUB_CFGS)
    for vendor in (files.listdir("/boot/efi/EFI") or [])[:16]:
        candidates.append(f"/boot/efi/EFI/{vendor}/grub.cfg")
    for path in candidates:
        text = files.read_text(path, CFG_LIMIT)
        if text and ("menuentry" in text or "blscfg" in text):
            return path, text
    return None


def _grubenv(files: GuestFiles) -> dict[str, str]:
    for path in GRUBENVS:
        text = files.read_text(path, 4096)
        if text and text.startswith("# GRUB Environment Block"):
            env = {}
            for line in lines(text):
                if "=" in line and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    env[key] = value
            return env
    return {}


def _grubenv_unread(files: GuestFiles, env: dict[str, str]) -> bool:
    """A grubenv is listed in its directory but none could be read."""
    if env:
        return False
    for path in GRUBENVS:
        directory, name = path.rsplit("/", 1)
        if name in (files.listdir(directory) or ()):
            return True
    return False


def _grub_set_vars(text: str) -> dict[str, str]:
    found = {}
    for line in lines(text):
        match = re.match(r"^set\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        value = shell_value(match.group(2)) if match else ""
        # `set default="${next_entry}"` is a one-time boot; the next `set default` is the rule
        if match and "next_entry" not in value:
            found.setdefault(match.group(1), value)
    return found


def _default_linux_line(text: str, env: dict[str, str]) -> str | None:
    """The kernel arguments of the default menu entry's linux line (GRUB counts top-level
    entries and submenus from 0; `saved` means grubenv's saved_entry)."""
    entries = _menu_entries(text)
    if not entries:
        return None
    default = _grub_set_vars(text).get("default", "0")
    if default in ("${saved_entry}", "saved") or "saved_entry" in default:
        default = env.get("saved_entry", "0")
    first = default.split(">", 1)[0]
    chosen = None
    if first.isdigit() and int(first) < len(entries):
        chosen = entries[int(first)]
    else:
        chosen = next((e for e in entries if first in (e[0], e[1])), entries[0])
    return chosen[2]


def _menu_entries(text: str) -> list[tuple[str, str, str | None]]:
    """(title, id, args of its first linux line) for each top-level menuentry or submenu."""
    entries: list[tuple[str, str, str | None]] = []
    depth = 0
    for line in lines(text):
        opener = re.match(r"^(menuentry|submenu)\s+(['\"])(.*?)\2(.*)\{$", line)
        if opener:
            if depth == 0:
                ident = re.search(r"\$menuentry_id_option\s+'([^']*)'", opener.group(4))
                entries.append((opener.group(3), ident.group(1) if ident else "", None))
            depth += 1
            continue
        if line == "}" and depth:
            depth -= 1
            continue
        match = _LINUX_CMD.match(line)
        if match and depth and entries and entries[-1][2] is None:
            title, ident, _ = entries[-1]
            entries[-1] = (title, ident, match.group(3))
    return entries


def _bls_options(files: GuestFiles, env: dict[str, str], grub_vars: dict[str, str]
                 ) -> Cmdline | None:
    names = sorted(n for n in (files.listdir(BLS_DIR) or []) if n.endswith(".conf"))
    entries = []
    for name in names[:MAX_BLS_ENTRIES]:
        fields: dict[str, str] = {}
        for line in lines(files.read_text(f"{BLS_DIR}/{name}", SMALL_LIMIT)):
            key, _, value = line.partition(" ")
            if key == "options":  # several options lines add up
                fields["options"] = f"{fields.get('options', '')} {value.strip()}".strip()
            elif key and not key.startswith("#"):
                fields.setdefault(key, value.strip())
        if "options" in fields and not is_rescue(name + fields.get("version", "")):
            entries.append((name, fields))
    if not entries:
        return None
    saved = env.get("saved_entry")
    chosen = next((e for e in entries if saved and e[0][:-len(".conf")] == saved), None)
    if chosen is None:
        chosen = max(entries, key=lambda e: version_key(e[1].get("version") or e[0]))
    options = chosen[1]["options"]
    source = f"{BLS_DIR}/{chosen[0]}"
    if re.search(r"\$\{?kernelopts\b", options) and "kernelopts" not in env \
            and "kernelopts" not in grub_vars and _grubenv_unread(files, env):
        # grubenv is there but unreadable (on EL8 with UEFI it is a link into the EFI system
        # partition): grub2-mkconfig writes kernelopts from /etc/default/grub, the same line.
        # (With no grubenv at all GRUB expands it to nothing, as _expand does.)
        default = _default_grub(files)
        if default is None:
            return None
        args = _expand(options, {**env, "kernelopts": " ".join(default.args)}, grub_vars)
        return Cmdline(split_words(args), f"{source} ($kernelopts from /etc/default/grub)")
    args = _expand(options, env, grub_vars)
    return Cmdline(split_words(args), source)


def _expand(args: str, env: dict[str, str], grub_vars: dict[str, str]) -> str:
    """$kernelopts and friends from grubenv (then grub.cfg's `set`); unknown variables drop."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, grub_vars.get(name, ""))
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", value, args)


def _default_grub(files: GuestFiles) -> Cmdline | None:
    kv = key_values(files.read_text("/etc/default/grub", SMALL_LIMIT))
    parts = [kv[k] for k in ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT") if k in kv]
    if not parts:
        return None
    return Cmdline(split_words(" ".join(parts)), "/etc/default/grub")
