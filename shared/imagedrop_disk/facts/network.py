"""The primary NIC's configuration: does it ask for DHCP, is it pinned to one MAC address.

The primary NIC is the first non-loopback interface configuration found, families tried in the
order below, files in name order within a family (the order the tools apply them in)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..fs.api import GuestFiles
from . import yamlish
from .text import ini_get, ini_sections, key_values, lines

FILE_LIMIT = 64 * 1024
MAX_FILES = 64


@dataclass(frozen=True)
class NicConfig:
    path: str
    interface: str | None
    dhcp: bool | None
    mac_pinned: bool
    generated_by_cloud_init: bool = False


def primary_nic(files: GuestFiles) -> NicConfig | None:
    for family in (_netplan, _nm_keyfiles, _ifcfg_redhat, _ifcfg_suse, _ifupdown, _networkd):
        for config in family(files):
            return config
    return None


def pinning_rules(files: GuestFiles) -> str | None:
    """A file outside any one NIC's config that names interfaces by MAC address, or None."""
    rules = "/etc/udev/rules.d/70-persistent-net.rules"
    for line in lines(files.read_text(rules, FILE_LIMIT)):
        if not line.startswith("#") and re.search(r"ATTR\{address\}==", line) and "NAME=" in line:
            return rules
    for path, text in _files_in(files, "/etc/systemd/network", (".link",)):
        sections = ini_sections(text)
        if ini_get(sections, "Match", "MACAddress") and ini_get(sections, "Link", "Name"):
            return path
    return None


def _files_in(files: GuestFiles, directory: str, suffixes: tuple[str, ...],
              prefix: str = "") -> Iterator[tuple[str, str]]:
    names = sorted(n for n in files.listdir(directory) or []
                   if n.startswith(prefix) and n.endswith(suffixes))
    for name in names[:MAX_FILES]:
        text = files.read_text(f"{directory}/{name}", FILE_LIMIT)
        if text is not None:
            yield f"{directory}/{name}", text


def _by_cloud_init(text: str) -> bool:
    head = "\n".join(text.splitlines()[:8]).lower()
    return "cloud-init" in head or "cloud_init" in head or "cloudinit" in head \
        or "datasource" in head


def _netplan(files: GuestFiles) -> Iterator[NicConfig]:
    for path, text in _files_in(files, "/etc/netplan", (".yaml", ".yml")):
        network = yamlish.parse(text)
        network = network.get("network") if isinstance(network, dict) else None
        if not isinstance(network, dict):
            continue
        for group in ("ethernets", "bonds", "bridges", "vlans"):
            devices = network.get(group)
            if not isinstance(devices, dict):
                continue
            for name, conf in devices.items():
                if name == "lo" or not isinstance(conf, dict):
                    continue
                match = conf.get("match")
                mac = isinstance(match, dict) and bool(match.get("macaddress")) \
                    or bool(conf.get("macaddress"))
                dhcp = yamlish.truthy(conf.get("dhcp4"))
                static = bool(conf.get("addresses"))
                yield NicConfig(path, name, True if dhcp else (False if static or "dhcp4" in conf
                                                               else None),
                                mac, _by_cloud_init(text))


def _nm_keyfiles(files: GuestFiles) -> Iterator[NicConfig]:
    directory = "/etc/NetworkManager/system-connections"
    for path, text in _files_in(files, directory, (".nmconnection", "")):
        sections = ini_sections(text)
        kind = (ini_get(sections, "connection", "type") or "").lower()
        if kind in ("loopback", "") or kind.startswith(("wifi", "802-11", "vpn", "wireguard")):
            continue
        method = (ini_get(sections, "ipv4", "method") or "").lower()
        dhcp = True if method == "auto" else (False if method in ("manual", "disabled",
                                                                  "link-local") else None)
        mac = bool(ini_get(sections, "ethernet", "mac-address")
                   or ini_get(sections, "802-3-ethernet", "mac-address")
                   or ini_get(sections, "ethernet", "cloned-mac-address"))
        yield NicConfig(path, ini_get(sections, "connection", "interface-name"), dhcp, mac,
                        _by_cloud_init(text))


def _ifcfg(files: GuestFiles, directory: str, mac_keys: tuple[str, ...],
           is_dhcp: Callable[[str], bool]) -> Iterator[NicConfig]:
    for path, text in _files_in(files, directory, ("",), prefix="ifcfg-"):
        name = path.rsplit("ifcfg-", 1)[-1]
        if name == "lo" or name.endswith((".bak", ".orig", ".rpmsave", "~")):
            continue
        kv = key_values(text)
        if kv.get("DEVICE", name) == "lo":
            continue
        proto = kv.get("BOOTPROTO", "").lower()
        if proto:
            dhcp: bool | None = is_dhcp(proto)
        else:
            dhcp = False if kv.get("IPADDR") or kv.get("IPADDR0") else None
        mac = any(kv.get(key) for key in mac_keys)
        yield NicConfig(path, kv.get("DEVICE") or kv.get("NAME") or name, dhcp, mac,
                        _by_cloud_init(text))


def _ifcfg_redhat(files: GuestFiles) -> Iterator[NicConfig]:
    return _ifcfg(files, "/etc/sysconfig/network-scripts", ("HWADDR", "MACADDR"),
                  lambda proto: proto in ("dhcp", "bootp"))


def _ifcfg_suse(files: GuestFiles) -> Iterator[NicConfig]:
    return _ifcfg(files, "/etc/sysconfig/network", ("LLADDR",),
                  lambda proto: proto.startswith("dhcp"))


def _ifupdown(files: GuestFiles) -> Iterator[NicConfig]:
    sources = []
    main = files.read_text("/etc/network/interfaces", FILE_LIMIT)
    if main is not None:
        sources.append(("/etc/network/interfaces", main))
    sources.extend(_files_in(files, "/etc/network/interfaces.d", ("",)))
    for path, text in sources:
        stanzas: list[list[str]] = []
        for line in lines(text):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0] in ("iface", "auto", "allow-hotplug", "mapping", "source",
                            "source-directory"):
                stanzas.append(words)
            elif stanzas:
                stanzas[-1].extend(["\n"] + words)
        for words in stanzas:
            if words[0] != "iface" or len(words) < 4 or words[1] == "lo" or words[2] != "inet":
                continue
            method = words[3]
            if method == "loopback":
                continue
            body = " ".join(words[4:])
            mac = bool(re.search(r"(^|\n )hwaddress ", body))
            yield NicConfig(path, words[1], method == "dhcp", mac, _by_cloud_init(text))


def _networkd(files: GuestFiles) -> Iterator[NicConfig]:
    for path, text in _files_in(files, "/etc/systemd/network", (".network",)):
        sections = ini_sections(text)
        name = ini_get(sections, "Match", "Name")
        if name == "lo":
            continue
        dhcp_value = (ini_get(sections, "Network", "DHCP") or "no").lower()
        mac = bool(ini_get(sections, "Match", "MACAddress")
                   or ini_get(sections, "Match", "PermanentMACAddress"))
        yield NicConfig(path, name, dhcp_value in ("yes", "true", "ipv4", "both", "on", "1"),
                        mac, _by_cloud_init(text))
