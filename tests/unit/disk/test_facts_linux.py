"""linux_facts over synthetic root trees of real distributions, and over the edge cases of each
fact: unknown stays None, hostile contents cost bounded reads and never raise."""

from __future__ import annotations

import pytest

from guest_memory import TREES, MemoryGuestFiles, guest
from trees import ARM64, X86_64, Link, elf, grubenv
from imagedrop_disk.facts.boot import kernel_cmdline
from imagedrop_disk.facts.fstab import parse_fstab, spec_kind
from imagedrop_disk.facts.kernels import installed_kernels, version_key
from imagedrop_disk.facts.linux import linux_facts
from imagedrop_disk.facts.release import read_release

FACT_NAMES = ("distro", "version", "name", "architecture", "platform", "kernel", "virtio",
              "nvme", "cloud_init", "fstab_root", "fstab_devices", "selinux", "dhcp",
              "mac_pinned", "serial_console", "growpart")


@pytest.mark.parametrize("name", sorted(TREES))
def test_tree_facts(name):
    files, expected = guest(name)
    facts = linux_facts(files, "ext4")
    assert facts.os_type == "linux" and facts.root_fs == "ext4"
    got = {k: getattr(facts, k) for k in expected}
    assert got == expected


def test_every_fact_is_seen_each_way_across_the_trees():
    seen: dict[str, set] = {k: set() for k in FACT_NAMES}
    for name in TREES:
        for key, value in guest(name)[1].items():
            seen[key].add(repr(value))
    for key in ("virtio", "nvme", "cloud_init", "dhcp", "mac_pinned", "serial_console"):
        assert {"True", "False"} <= seen[key], key
    assert {"'uuid'", "'label'", "'device'", "'lvm'", "'partuuid'"} <= seen["fstab_root"]
    assert {"'enforcing'", "'permissive'", "'disabled'", "None"} <= seen["selinux"]
    assert {"'x86_64'", "'arm64'", "'i386'"} <= seen["architecture"]


# --- release -------------------------------------------------------------------------------

def test_os_release_quoting_escapes_and_comments():
    files = MemoryGuestFiles({"/etc/os-release":
                              "# a comment\nID=debian # trailing\n"
                              "PRETTY_NAME=\"Deb \\\"quoted\\\" \\$HOME\"\n"
                              "VERSION_ID='12'\nNAME=Debian\\ GNU\n\n garbage line\n"})
    release = read_release(files)
    assert (release.distro, release.version, release.name) == \
        ("debian", "12", 'Deb "quoted" $HOME')


def test_etc_os_release_wins_and_is_never_merged_with_usr_lib():
    files = MemoryGuestFiles({"/etc/os-release": 'ID=rocky\n',
                              "/usr/lib/os-release": 'ID=fedora\nVERSION_ID=39\n'})
    release = read_release(files)
    assert (release.distro, release.version) == ("rocky", None)


def test_usr_lib_os_release_only_when_etc_is_missing():
    files = MemoryGuestFiles({"/usr/lib/os-release": 'ID=fedora\nVERSION_ID=39\n'})
    assert read_release(files).distro == "fedora"


def test_os_release_without_id_defaults_to_linux():
    release = read_release(MemoryGuestFiles({"/etc/os-release": "VERSION_ID=1\n"}))
    assert (release.distro, release.name) == ("linux", "Linux")


@pytest.mark.parametrize("path, text, distro, version", [
    ("/etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)\n", "centos", "7.9.2009"),
    ("/etc/redhat-release", "Red Hat Enterprise Linux Server release 7.9 (Maipo)", "rhel", "7.9"),
    ("/etc/redhat-release", "CentOS Stream release 8\n", "centos", "8"),
    ("/etc/system-release", "Amazon Linux release 2 (Karoo)\n", "amzn", "2"),
    ("/etc/system-release", "Alibaba Cloud Linux (Aliyun Linux) release 2.1903 LTS (Hunting "
                            "Beagle)\n", "alinux", "2.1903"),
    ("/etc/SuSE-release", "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\n"
                          "PATCHLEVEL = 4\n", "sles", "11.4"),
    ("/etc/SuSE-release", "openSUSE 13.2 (x86_64)\nVERSION = 13.2\n", "opensuse", "13.2"),
    ("/etc/lsb-release", 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\n'
                         'DISTRIB_DESCRIPTION="Ubuntu 14.04.6 LTS"\n', "ubuntu", "14.04"),
    ("/etc/debian_version", "8.11\n", "debian", "8.11"),
])
def test_release_fallbacks(path, text, distro, version):
    release = read_release(MemoryGuestFiles({path: text}))
    assert (release.distro, release.version) == (distro, version)
    assert release.source == path


@pytest.mark.parametrize("tree", [
    {"/etc/debian_version": "bookworm/sid\n"},            # a derivative: Debian would be a guess
    {"/etc/redhat-release": "Some Unknown OS release 1\n"},
    {},
])
def test_unknown_release_is_none(tree):
    assert read_release(MemoryGuestFiles(tree)) is None
    facts = linux_facts(MemoryGuestFiles(tree), None)
    assert facts.distro is None and facts.platform is None
    assert any("distribution unknown" in n for n in facts.notes)


def test_centos_stream_from_redhat_release_maps_to_its_platform():
    facts = linux_facts(MemoryGuestFiles({"/etc/redhat-release": "CentOS Stream release 9\n"}),
                        None)
    assert facts.platform == "CentOS Stream"


# --- architecture ---------------------------------------------------------------------------

def test_architecture_skips_a_shell_script_sh_and_follows_links():
    files = MemoryGuestFiles({"/bin/sh": "#!/bin/busybox\n", "/usr/bin/bash": Link("/opt/bash"),
                              "/opt/bash": elf(ARM64)})
    assert linux_facts(files, None).architecture == "arm64"


def test_architecture_from_a_module_when_no_executable_is_elf():
    tree, _ = TREES["debian12"]()
    tree["/usr/bin/dash"] = "not elf"
    k = "6.1.0-18-amd64"
    tree[f"/usr/lib/modules/{k}/kernel/drivers/net/virtio_net.ko"] = elf(X86_64)
    assert linux_facts(MemoryGuestFiles(tree), None).architecture == "x86_64"


@pytest.mark.parametrize("header", [elf(243), b"\x7fELF", elf(62)[:5] + b"\x09" + elf(62)[6:],
                                   b""])
def test_unknown_machine_or_broken_header_is_none(header):
    assert linux_facts(MemoryGuestFiles({"/bin/sh": header}), None).architecture is None


def test_big_endian_header_is_read_big_endian():
    header = bytearray(elf(62))
    header[5] = 2
    header[18:20] = (183).to_bytes(2, "big")
    assert linux_facts(MemoryGuestFiles({"/bin/sh": bytes(header)}), None).architecture == \
        "arm64"


# --- kernels and drivers --------------------------------------------------------------------

def test_version_ordering_compares_numbers_as_numbers():
    versions = ["5.14.0-70.13.1.el9_0.x86_64", "5.14.0-362.8.1.el9_3.x86_64",
                "5.14.0-284.11.1.el9_2.x86_64", "4.18.0-513.el8.x86_64"]
    assert max(versions, key=version_key) == "5.14.0-362.8.1.el9_3.x86_64"
    assert version_key("6.1.0-18-amd64") > version_key("6.1.0-9-amd64")
    assert version_key("5.15.0-100-generic") > version_key("5.15.0-91-generic")


def test_rescue_kernels_and_non_versions_are_not_kernels():
    files = MemoryGuestFiles({"/boot/vmlinuz-0-rescue-abcdef": b"k", "/boot/vmlinuz-linux": b"k",
                              "/boot/vmlinuz-4.18.0-513.el8.x86_64": b"k"})
    assert installed_kernels(files) == ["4.18.0-513.el8.x86_64"]


def test_modules_dir_counts_only_when_no_image_is_found():
    tree = {"/lib/modules/6.2.0-1/modules.dep": "", "/lib/modules/6.9.0-9/extra/x.ko": b""}
    assert installed_kernels(MemoryGuestFiles(tree)) == ["6.2.0-1"]
    tree["/boot/vmlinuz-5.0.0-1"] = b"k"
    assert installed_kernels(MemoryGuestFiles(tree)) == ["5.0.0-1"]


def _kernel_tree(**files: object) -> dict:
    tree: dict = {"/boot/vmlinuz-6.1.0-1": b"k", "/bin/sh": elf(X86_64)}
    tree.update({f"/lib/modules/6.1.0-1/{k}": v for k, v in files.items()})
    return tree


def test_driver_found_through_modules_dep_at_an_unusual_path():
    dep = "".join(f"kernel/fs/f{i}.ko: kernel/lib/l{i}.ko\n" for i in range(20000)) + \
        "updates/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz\n" \
        "updates/net/virtio-net.ko.xz:\n"
    files = MemoryGuestFiles(_kernel_tree(**{"modules.dep": dep, "kernel/fs/x.ko": b""}))
    assert linux_facts(files, None).virtio is True


def test_driver_absent_from_modules_dep_is_false():
    files = MemoryGuestFiles(_kernel_tree(**{"modules.dep": "kernel/fs/ext4/ext4.ko:\n"}))
    facts = linux_facts(files, None)
    assert (facts.virtio, facts.nvme) == (False, False)


def test_a_huge_modules_dep_is_read_only_to_its_limit_and_then_unknown():
    dep = "kernel/fs/f.ko: kernel/lib/l.ko\n" * 200_000     # 6 MB, no virtio in it
    files = MemoryGuestFiles(_kernel_tree(**{"modules.dep": dep}))
    facts = linux_facts(files, None)
    assert facts.virtio is None
    assert files.reads.count("/lib/modules/6.1.0-1/modules.dep") <= 17


def test_unreadable_modules_dep_makes_virtio_unknown_not_false():
    tree = _kernel_tree(**{"modules.dep": "kernel/fs/ext4/ext4.ko:\n"})
    files = MemoryGuestFiles(tree, unreadable=("/lib/modules/6.1.0-1/modules.dep",))
    facts = linux_facts(files, None)
    assert facts.virtio is None
    assert any("modules.dep" in n for n in facts.notes)


def test_no_kernel_means_unknown_drivers():
    facts = linux_facts(MemoryGuestFiles({"/bin/sh": elf(X86_64)}), None)
    assert (facts.kernel, facts.virtio, facts.nvme) == (None, None, None)


def test_only_builtin_list_and_no_module_tree_is_unknown():
    files = MemoryGuestFiles(_kernel_tree(**{"modules.builtin": "kernel/fs/ext4/ext4.ko\n"}))
    assert linux_facts(files, None).virtio is None


# --- cloud-init, selinux, fstab -------------------------------------------------------------

def test_cloud_init_disabled_on_the_kernel_command_line():
    files, _ = guest("ubuntu2204", **{"/boot/grub/grub.cfg":
                                      "menuentry 'u' {\n linux /vmlinuz root=LABEL=x "
                                      "cloud-init=disabled\n}\n"})
    facts = linux_facts(files, None)
    assert facts.cloud_init is False
    assert any("cloud-init=disabled" in n for n in facts.notes)


def test_cloud_init_unknown_when_its_markers_cannot_be_read():
    files = MemoryGuestFiles({"/bin/sh": elf(X86_64)}, unreadable=("/usr", "/etc/cloud"))
    assert linux_facts(files, None).cloud_init is None


@pytest.mark.parametrize("args, mode", [("ro", "enforcing"), ("ro enforcing=0", "permissive"),
                                        ("ro selinux=0", "disabled")])
def test_selinux_kernel_arguments_override_the_config(args, mode):
    files = MemoryGuestFiles({"/etc/selinux/config": "SELINUX=enforcing\n",
                              "/etc/default/grub": f'GRUB_CMDLINE_LINUX="{args}"\n'})
    assert linux_facts(files, None).selinux == mode


def test_selinux_config_with_an_unknown_mode_is_none():
    files = MemoryGuestFiles({"/etc/selinux/config": "SELINUX=sometimes\n"})
    assert linux_facts(files, None).selinux is None


@pytest.mark.parametrize("spec, kind", [
    ("UUID=3f2a", "uuid"), ("uuid=3f2a", "uuid"), ("/dev/disk/by-uuid/3f2a", "uuid"),
    ("LABEL=root", "label"), ("/dev/disk/by-label/root", "label"),
    ("PARTUUID=3f2a-01", "partuuid"), ("/dev/disk/by-partuuid/3f2a-01", "partuuid"),
    ("/dev/mapper/rl-root", "lvm"), ("/dev/vg0/root", "lvm"),
    ("/dev/sda1", "device"), ("/dev/vda2", "device"), ("/dev/xvda1", "device"),
    ("/dev/hda1", "device"), ("/dev/nvme0n1p2", "device"),
    ("PARTLABEL=root", None), ("tmpfs", None), ("//server/share", None),
])
def test_fstab_spec_kinds(spec, kind):
    assert spec_kind(spec) == kind


def test_fstab_comments_escapes_and_fragile_names():
    fstab = parse_fstab("# /dev/sda1 / ext4\n/dev/sdb1 /mnt/my\\040disk ext4 defaults 0 2\n"
                        "UUID=1 / ext4 defaults 0 1\n/dev/vda3 /srv ext4 defaults 0 2\n"
                        "/dev/nvme0n1p3 /x ext4 defaults 0 2\n/dev/hdc /cd iso9660 ro 0 0\n")
    assert fstab.root_spec == "UUID=1"
    assert fstab.device_entries == ["/dev/sdb1 on /mnt/my disk", "/dev/hdc on /cd"]


def test_root_named_on_the_command_line_when_fstab_has_no_root_entry():
    files = MemoryGuestFiles({"/etc/fstab": "LABEL=boot /boot ext4 defaults 0 0\n",
                              "/etc/default/grub": 'GRUB_CMDLINE_LINUX="root=/dev/sda2 ro"\n'})
    assert linux_facts(files, None).fstab_root == "device"


def test_unrecognised_root_spec_is_none_with_a_note():
    facts = linux_facts(MemoryGuestFiles({"/etc/fstab": "PARTLABEL=r / ext4 defaults 0 0\n"}),
                        None)
    assert facts.fstab_root is None
    assert any("PARTLABEL=r" in n for n in facts.notes)


# --- network --------------------------------------------------------------------------------

@pytest.mark.parametrize("path, text, dhcp, pinned", [
    ("/etc/sysconfig/network-scripts/ifcfg-ens3", "BOOTPROTO=none\nIPADDR=10.0.0.2\n",
     False, False),
    ("/etc/sysconfig/network-scripts/ifcfg-ens3", "DEVICE=ens3\nONBOOT=yes\n", None, False),
    ("/etc/sysconfig/network-scripts/ifcfg-ens3", 'BOOTPROTO="dhcp"\nMACADDR=02:00:00:00:00:01\n',
     True, True),
    ("/etc/sysconfig/network/ifcfg-eth0", "BOOTPROTO='dhcp4'\n", True, False),
    ("/etc/NetworkManager/system-connections/a.nmconnection",
     "[connection]\ntype=ethernet\n[ethernet]\nmac-address=52:54:00:00:00:01\n[ipv4]\n"
     "method=auto\n", True, True),
    ("/etc/netplan/00.yaml", "network:\n  ethernets:\n    eth0: {dhcp4: yes}\n", True, False),
    ("/etc/netplan/00.yaml", "network:\n  ethernets:\n    eth0:\n      dhcp4: false\n",
     False, False),
    ("/etc/network/interfaces", "auto eth0\niface eth0 inet static\n  address 10.0.0.2/24\n"
     "  hwaddress ether 02:00:00:00:00:09\n", False, True),
    ("/etc/systemd/network/10.network", "[Match]\nMACAddress=02:00:00:00:00:01\n[Network]\n"
     "Address=10.0.0.2/24\n", False, True),
])
def test_network_families(path, text, dhcp, pinned):
    facts = linux_facts(MemoryGuestFiles({path: text}), None)
    assert (facts.dhcp, facts.mac_pinned) == (dhcp, pinned)


def test_loopback_configs_are_skipped_for_the_primary_nic():
    files = MemoryGuestFiles({
        "/etc/NetworkManager/system-connections/lo.nmconnection": "[connection]\ntype=loopback\n",
        "/etc/network/interfaces": "auto lo\niface lo inet loopback\niface eth0 inet dhcp\n"})
    assert linux_facts(files, None).dhcp is True


def test_a_hand_written_netplan_pin_counts_even_with_cloud_init():
    files, _ = guest("ubuntu2204", **{"/etc/netplan/50-cloud-init.yaml": None,
                                      "/etc/netplan/01-mine.yaml":
                                      "network:\n  ethernets:\n    ens3:\n      dhcp4: true\n"
                                      "      match: {macaddress: '52:54:00:01:02:03'}\n"})
    assert linux_facts(files, None).mac_pinned is True


# --- kernel command line --------------------------------------------------------------------

def test_grub_default_index_and_saved_entry_choose_the_entry():
    cfg = ("set default=\"1\"\nmenuentry 'a' --id 'a' {\n linux /v console=tty0\n}\n"
           "submenu 'Advanced' $menuentry_id_option 'adv' {\n menuentry 'x' {\n"
           "  linux /v console=ttyS1\n }\n}\n")
    files = MemoryGuestFiles({"/boot/grub/grub.cfg": cfg})
    assert kernel_cmdline(files).values("console") == ["ttyS1"]
    saved = cfg.replace('"1"', '"${saved_entry}"')
    files = MemoryGuestFiles({"/boot/grub/grub.cfg": saved,
                              "/boot/grub/grubenv": grubenv(saved_entry="a")})
    assert kernel_cmdline(files).values("console") == ["tty0"]


def test_bls_options_from_grubenv_kernelopts_of_the_saved_entry():
    files, _ = guest("rocky9")
    line = kernel_cmdline(files)
    assert line.value("root") == "/dev/mapper/rl-root"
    assert line.source.endswith("5.14.0-362.8.1.el9_3.x86_64.conf")


def test_bls_without_grubenv_uses_the_newest_non_rescue_entry():
    files, _ = guest("rocky9", **{"/boot/grub2/grubenv": None})
    facts = linux_facts(files, None)
    assert facts.serial_console is False          # the rescue entry has console=ttyS0
    assert kernel_cmdline(files).source.endswith("362.8.1.el9_3.x86_64.conf")


def test_efi_grub_cfg_is_read_when_boot_has_none():
    files = MemoryGuestFiles({"/boot/efi/EFI/centos/grub.cfg":
                              "menuentry 'c' {\n linuxefi /vmlinuz console=ttyS0,115200\n}\n"})
    assert linux_facts(files, None).serial_console is True


def test_a_cloud_init_pin_stays_when_cloud_init_leaves_the_network_alone():
    files, _ = guest("ubuntu2204", **{"/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg":
                                      "network: {config: disabled}\n"})
    facts = linux_facts(files, None)
    assert facts.mac_pinned is True
    assert not any("rewrites it" in n for n in facts.notes)


def test_a_one_time_next_entry_does_not_hide_the_saved_default():
    cfg = ('if [ "${next_entry}" ] ; then\n   set default="${next_entry}"\nelse\n'
           '   set default="${saved_entry}"\nfi\n'
           "menuentry 'CentOS (3.10.0-1160)' {\n linux16 /vmlinuz ro console=tty0\n}\n"
           "menuentry 'CentOS (3.10.0-957)' {\n linux16 /vmlinuz ro console=ttyS0\n}\n")
    files = MemoryGuestFiles({"/boot/grub2/grub.cfg": cfg,
                              "/boot/grub2/grubenv": grubenv(saved_entry="CentOS (3.10.0-957)")})
    assert kernel_cmdline(files).values("console") == ["ttyS0"]
