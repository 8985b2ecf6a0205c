"""Virtio as ECS sees it: built into the kernel, or loadable from the initramfs, decided from the
generator's configuration and, only when that cannot tell, the initramfs's own cpio table of
contents; and the kernel command line of an EL8 guest whose grubenv cannot be read."""

from __future__ import annotations

import gzip
import lzma
import random
import zlib

import pytest

from guest_memory import MemoryGuestFiles
from trees import X86_64, Link, elf
from imagedrop_disk.facts.cpio_toc import find_in_initrd
from imagedrop_disk.facts.findings import findings_for
from imagedrop_disk.facts.linux import linux_facts

K = "6.1.0-18-amd64"
BLOCK = "kernel/drivers/block/"


def newc(names: list[str], data: bytes = b"x" * 3000) -> bytes:
    """A cpio archive (newc) of regular files, in the order given, then its trailer."""
    out = bytearray()
    for number, name in enumerate([*names, "TRAILER!!!"], 1):
        body = b"" if name == "TRAILER!!!" else data
        raw = name.encode() + b"\0"
        fields = [number, 0o100644, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(raw), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + raw
        out += bytes(-len(out) % 4) + body + bytes(-len(body) % 4)
    return bytes(out)


def module_tree(*drivers: str, prefix: str = "usr/lib") -> list[str]:
    base = f"{prefix}/modules/{K}/kernel/drivers"
    names = ["bin/busybox", "conf/initramfs.conf", "init", "scripts/local",
             f"{base}/ata/libata.ko", f"{base}/md/dm-mod.ko", f"{base}/scsi/sd_mod.ko",
             "usr/lib/x86_64-linux-gnu/libc.so.6", "usr/sbin/modprobe"]
    names += [f"{base}/{d}" for d in drivers]
    return sorted(names)


def reader(blob: bytes, calls: list[int] | None = None):
    def read(offset: int, length: int) -> bytes:
        if calls is not None:
            calls.append(offset)
        return blob[offset:offset + length]
    return read


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress, lambda b: b],
                         ids=["gzip", "xz", "plain"])
def test_a_sorted_initramfs_holds_or_lacks_virtio_blk(compress):
    early = newc(["kernel/x86/microcode/GenuineIntel.bin"])
    holds = early + compress(newc(module_tree("block/virtio_blk.ko.zst", "net/virtio_net.ko")))
    lacks = early + compress(newc(module_tree("net/virtio_net.ko")))
    assert find_in_initrd(reader(holds), "virtio_blk", BLOCK, 1 << 20).found is True
    answer = find_in_initrd(reader(lacks), "virtio_blk", BLOCK, 1 << 20)
    assert answer.found is False and "name order" in answer.why


def test_zstd_main_archive_is_read_when_the_module_is_there():
    zstandard = pytest.importorskip("zstandard")
    blob = zstandard.ZstdCompressor().compress(newc(module_tree("block/virtio_blk.ko")))
    assert find_in_initrd(reader(blob), "virtio_blk", BLOCK, 1 << 20).found is True


def test_reading_stops_once_the_sorted_archive_passes_the_block_drivers():
    names = module_tree("net/virtio_net.ko") + [f"usr/share/z{i:05d}" for i in range(3000)]
    blob = newc(sorted(names), data=b"y" * 4000)
    calls: list[int] = []
    answer = find_in_initrd(reader(blob, calls), "virtio_blk", BLOCK, 16 << 20)
    assert answer.found is False and len(calls) == 1   # decided within the first chunk


def test_an_unsorted_archive_is_unknown_until_its_end_within_the_budget():
    names = list(reversed(module_tree("net/virtio_net.ko"))) + \
        [f"a/filler{i:05d}" for i in range(2000)]
    blob = gzip.compress(newc(names, data=random.Random(7).randbytes(4096)))
    answer = find_in_initrd(reader(blob), "virtio_blk", BLOCK, 64 * 1024)
    assert answer.found is None and "within its first 65536 bytes" in answer.why
    assert find_in_initrd(reader(blob), "virtio_blk", BLOCK, 1 << 24).found is False


@pytest.mark.parametrize("blob", [b"\x89PNG" + bytes(100), b"0707010000" + b"Z" * 200,
                                  gzip.compress(b"not a cpio archive at all" * 10)[:-30],
                                  b"\x1f\x8b" + bytes(50)])
def test_a_broken_or_foreign_initramfs_is_unknown_not_an_error(blob):
    assert find_in_initrd(reader(blob), "virtio_blk", BLOCK, 1 << 20).found is None


def test_a_decompression_bomb_stops_at_its_cap_with_little_memory():
    import tracemalloc
    header = newc(["usr/bin/huge"], data=b"")[:110]
    huge = header[:54] + b"%08X" % 0xFFFFFFF0 + header[62:]
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)     # gzip: 512 MiB of zeros in ~0.5 MiB
    zeros = bytes(1 << 20)
    blob = packer.compress(huge + b"usr/bin/huge\0") + \
        b"".join(packer.compress(zeros) for _ in range(512)) + packer.flush()
    tracemalloc.start()
    answer = find_in_initrd(reader(blob), "virtio_blk", BLOCK, 4 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert answer.found is None and peak < 16 << 20, (answer, peak)


# --- the generator's configuration -------------------------------------------------------

def debian(**extra: object) -> dict:
    tree: dict = {"/usr/bin/sh": elf(X86_64), "/bin": Link("usr/bin"),
                  f"/boot/vmlinuz-{K}": b"k", f"/boot/initrd.img-{K}": b"\x1f\x8b" + bytes(64),
                  f"/usr/lib/modules/{K}/modules.builtin": "kernel/fs/ext4/ext4.ko\n",
                  f"/usr/lib/modules/{K}/kernel/drivers/block/virtio_blk.ko": b"\x7fELF",
                  f"/usr/lib/modules/{K}/kernel/drivers/net/virtio_net.ko": b"\x7fELF",
                  "/etc/initramfs-tools/initramfs.conf": "MODULES=most\nBUSYBOX=auto\n"}
    tree.update(extra)
    return {k: v for k, v in tree.items() if v is not None}


@pytest.mark.parametrize("extra, virtio, says", [
    ({}, True, "MODULES=most"),
    ({"/etc/initramfs-tools/initramfs.conf": "MODULES=list\n"}, False, "does not list"),
    ({"/etc/initramfs-tools/initramfs.conf": "MODULES=list\n",
      "/etc/initramfs-tools/modules": "# comment\nvirtio_pci\nvirtio_blk\n"}, True,
     "lists virtio_blk"),
    ({"/etc/initramfs-tools/initramfs.conf": "MODULES=most\n",
      "/etc/initramfs-tools/conf.d/small": "MODULES=list\n"}, False, "conf.d/small"),
    ({f"/boot/initrd.img-{K}": None}, False, "no initramfs"),
    ({f"/usr/lib/modules/{K}/modules.builtin": "kernel/drivers/block/virtio_blk.ko\n",
      "/etc/initramfs-tools/initramfs.conf": "MODULES=list\n"}, True, "built into"),
    ({"/etc/initramfs-tools/initramfs.conf": None,
      "/usr/lib/dracut/dracut.conf.d/01-dist.conf": 'hostonly="yes"\n',
      "/etc/dracut.conf.d/90-virtio.conf": 'add_drivers+=" virtio_blk virtio_net "\n'}, True,
     "dracut adds virtio_blk"),
    ({"/etc/initramfs-tools/initramfs.conf": None,
      "/etc/dracut.conf.d/10-generic.conf": 'hostonly="no"\n'}, True, "hostonly=no"),
])
def test_the_generator_configuration_decides(extra, virtio, says):
    facts = linux_facts(MemoryGuestFiles(debian(**extra)), "ext4")
    assert facts.virtio is virtio and says in facts.virtio_source
    found = {f.item: f for f in findings_for(facts)}
    assert ("GUESTOS.Virtio" in found) == (not virtio)
    if not virtio:
        assert says in found["GUESTOS.Virtio"].fact


@pytest.mark.parametrize("holds", [True, False])
def test_modules_dep_is_decided_by_the_initramfs_itself(holds):
    drivers = ("block/virtio_blk.ko",) if holds else ("net/virtio_net.ko",)
    initrd = newc(["kernel/x86/microcode/AuthenticAMD.bin"]) + \
        gzip.compress(newc(module_tree(*drivers)))
    tree = debian(**{"/etc/initramfs-tools/initramfs.conf": "MODULES=dep\n",
                     f"/boot/initrd.img-{K}": initrd})
    facts = linux_facts(MemoryGuestFiles(tree), "ext4")
    assert facts.virtio is holds and f"/boot/initrd.img-{K}" in facts.virtio_source


def test_hostonly_with_an_unreadable_initramfs_is_unknown_and_says_why():
    tree = debian(**{"/etc/initramfs-tools/initramfs.conf": None,
                     "/etc/dracut.conf": 'hostonly="yes"\n',
                     f"/boot/initrd.img-{K}": None, f"/boot/initramfs-{K}.img": b"\x00" * 64})
    files = MemoryGuestFiles(tree, unreadable=(f"/boot/initramfs-{K}.img",))
    facts = linux_facts(files, "ext4")
    assert facts.virtio is None
    assert any(n.startswith("virtio: ") and "initramfs" in n for n in facts.notes)
    assert "GUESTOS.Virtio" not in {f.item for f in findings_for(facts)}


# --- EL8 with UEFI: grubenv on the EFI system partition ----------------------------------

def test_bls_kernelopts_from_default_grub_when_grubenv_cannot_be_read():
    k = "5.10.134-16.3.al8.x86_64"
    tree = {"/usr/bin/sh": elf(X86_64), f"/boot/vmlinuz-{k}": b"k",
            f"/boot/loader/entries/abc-{k}.conf": f"title Alibaba Cloud Linux\nversion {k}\n"
                                                  f"linux /vmlinuz-{k}\n"
                                                  f"options $kernelopts $tuned_params\n",
            "/boot/grub2/grubenv": Link("../efi/EFI/alinux/grubenv"),   # vfat: not read
            "/etc/default/grub": 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="net.ifnames=0 '
                                 'console=tty0 console=ttyS0,115200n8 crashkernel=auto"\n'}
    facts = linux_facts(MemoryGuestFiles(tree), "xfs")
    assert facts.serial_console is True


def test_bls_kernelopts_unreadable_and_no_default_grub_leaves_the_console_unknown():
    k = "4.18.0-513.el8.x86_64"
    tree = {"/usr/bin/sh": elf(X86_64), f"/boot/vmlinuz-{k}": b"k",
            f"/boot/loader/entries/abc-{k}.conf": f"title x\nversion {k}\nlinux /vmlinuz-{k}\n"
                                                  "options $kernelopts\n",
            "/boot/grub2/grubenv": Link("../efi/EFI/redhat/grubenv")}
    assert linux_facts(MemoryGuestFiles(tree), "xfs").serial_console is None


def test_modules_order_tells_which_drivers_the_kernel_built_without_a_lookup_per_driver():
    order = "".join(f"kernel/fs/f{i}.ko\n" for i in range(6000)) + \
        "kernel/drivers/block/virtio_blk.ko\nkernel/drivers/net/virtio_net.ko\n" \
        "kernel/drivers/nvme/host/nvme.ko\n"
    tree = {"/usr/bin/sh": elf(X86_64), f"/boot/vmlinuz-{K}": b"k",
            f"/lib/modules/{K}/modules.builtin": "kernel/fs/ext4/ext4.ko\n",
            f"/lib/modules/{K}/modules.order": order}
    # the module directories fail if looked at: the answer must come from modules.order alone
    files = MemoryGuestFiles(tree, unreadable=(f"/lib/modules/{K}/kernel",
                                               f"/usr/lib/modules/{K}/kernel"))
    facts = linux_facts(files, "ext4")
    assert (facts.virtio, facts.nvme) == (True, True)
    assert not any("/kernel" in note for note in facts.notes), facts.notes
