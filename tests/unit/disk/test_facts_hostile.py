"""Whatever bytes the guest's configuration files hold, the fact readers answer (None where they
cannot tell) in bounded work, and never raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guest_memory import MemoryGuestFiles
from imagedrop_disk.facts import yamlish
from imagedrop_disk.facts.boot import kernel_cmdline
from imagedrop_disk.facts.fstab import parse_fstab, spec_kind
from imagedrop_disk.facts.linux import linux_facts
from imagedrop_disk.facts.text import ini_sections, key_values, shell_value, split_words

CONFIG_PATHS = [
    "/etc/os-release", "/etc/redhat-release", "/etc/SuSE-release", "/etc/lsb-release",
    "/etc/fstab", "/etc/selinux/config", "/etc/default/grub", "/boot/grub2/grub.cfg",
    "/boot/grub2/grubenv", "/boot/loader/entries/a.conf", "/etc/netplan/50.yaml",
    "/etc/NetworkManager/system-connections/a.nmconnection", "/etc/network/interfaces",
    "/etc/sysconfig/network-scripts/ifcfg-eth0", "/etc/sysconfig/network/ifcfg-eth0",
    "/etc/systemd/network/a.network", "/etc/systemd/network/a.link",
    "/etc/udev/rules.d/70-persistent-net.rules", "/lib/modules/5.1.0-1/modules.dep",
    "/lib/modules/5.1.0-1/modules.builtin", "/boot/vmlinuz-5.1.0-1", "/bin/sh",
    "/etc/cloud/cloud.cfg", "/etc/cloud/cloud.cfg.d/a.cfg",
]
# Text made of the characters these formats give meaning to, so parsers reach their branches.
SYNTAX = st.lists(st.sampled_from(list("=\"'\\#:[]{}- \n\t$;,./0aZ_") +
                                  ["menuentry 'a' {", "}", "linux /v ", "options ",
                                   "iface eth0 inet ", "dhcp4: ", "network:", "\x00", "UUID=",
                                   "console=ttyS0", "SELINUX=", "ID=", "  ", "\n  "]),
                  max_size=200).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(CONFIG_PATHS), st.one_of(SYNTAX, st.binary(max_size=300)),
                       max_size=12))
def test_any_config_contents_give_facts_and_never_raise(tree):
    facts = linux_facts(MemoryGuestFiles(tree), "ext4")
    assert facts.os_type == "linux"
    if facts.fstab_devices is not None:
        assert len(facts.fstab_devices) <= 4096


@settings(max_examples=200, deadline=None)
@given(SYNTAX)
def test_parsers_never_raise(text):
    yamlish.parse(text)
    key_values(text)
    ini_sections(text)
    shell_value(text)
    split_words(text)
    fstab = parse_fstab(text)
    if fstab.root_spec is not None:
        spec_kind(fstab.root_spec)
    kernel_cmdline(MemoryGuestFiles({"/boot/grub/grub.cfg": text}))


def test_hostile_contents_are_bounded_and_never_raise():
    from trees import Link

    huge = "A" * 5_000_000
    binary = bytes(range(256)) * 4000
    tree = {
        "/etc/os-release": binary, "/etc/redhat-release": huge,
        "/etc/fstab": "".join(f"/dev/sd{chr(97 + i % 26)}{i} /m{i} ext4 d 0 0\n"
                              for i in range(10_000)),
        "/etc/selinux/config": huge, "/bin/sh": Link("/bin/sh"),
        "/usr/bin/bash": Link("a"), "/usr/bin/a": Link("b"), "/usr/bin/b": Link("a"),
        "/etc/netplan/x.yaml": "network:\n" + "".join("  " * i + f"k{i}:\n" for i in range(500)),
        "/etc/network/interfaces": "iface eth0 inet dhcp " + "x " * 1_000_000,
        "/boot/grub/grub.cfg": "menuentry 'x' {\n" * 50_000,
        "/boot/loader/entries/a.conf": binary,
        "/etc/default/grub": 'GRUB_CMDLINE_LINUX="' + "console=ttyS0 " * 100_000,
        "/etc/sysconfig/network-scripts/ifcfg-eth0": "BOOTPROTO=" + "'" * 100_000,
    }
    files = MemoryGuestFiles(tree)
    facts = linux_facts(files, None)
    assert facts.architecture is None
    assert len(facts.fstab_devices) <= 4096
    assert facts.selinux is None
    assert any("symbolic links" in n for n in facts.notes)
