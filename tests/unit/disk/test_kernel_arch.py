"""What the kernel is built for, from its version's suffix or its image's header."""

from __future__ import annotations

import gzip
import struct

import pytest

from guest_memory import MemoryGuestFiles
from imagedrop_disk.facts.kernel_arch import image_architecture, kernel_architecture
from imagedrop_disk.facts.linux import linux_facts

ELF_X86 = b"\x7fELF\x02\x01\x01" + bytes(11) + b"\x3e\x00" + bytes(44)


def _pe(machine: int) -> bytes:
    head = bytearray(4096)
    head[:2] = b"MZ"
    struct.pack_into("<I", head, 0x3C, 0x80)
    head[0x80:0x86] = b"PE\0\0" + struct.pack("<H", machine)
    return bytes(head)


def _arm64_image() -> bytes:
    head = bytearray(4096)
    head[0x38:0x3C] = b"ARM\x64"
    return bytes(head)


def _bzimage(xloadflags: int) -> bytes:
    head = bytearray(4096)
    head[0x202:0x206] = b"HdrS"
    head[0x236] = xloadflags
    return bytes(head)


@pytest.mark.parametrize("head,arch", [
    (_pe(0x8664), "x86_64"), (_pe(0xAA64), "arm64"), (_arm64_image(), "arm64"),
    (gzip.compress(_arm64_image())[:4096], "arm64"), (_bzimage(1), "x86_64"),
    (_bzimage(0), None), (b"\0" * 4096, None),
])
def test_image_headers(head: bytes, arch: str | None) -> None:
    assert image_architecture(head) == arch


@pytest.mark.parametrize("version,arch", [
    ("6.1.0-18-arm64", "arm64"), ("4.18.0-513.el8.aarch64", "arm64"),
    ("6.1.0-18-amd64", "x86_64"), ("5.14.0-362.el9.x86_64", "x86_64"),
    ("5.10.0-28-686-pae", "i386"),
])
def test_the_version_suffix_tells_without_a_read(version: str, arch: str) -> None:
    files = MemoryGuestFiles({})
    assert kernel_architecture(files, version) == arch and files.reads == []


def test_a_userland_and_an_only_kernel_of_different_architectures_are_both_kept() -> None:
    facts = linux_facts(MemoryGuestFiles({
        "/etc/os-release": "ID=ubuntu\nVERSION_ID=22.04\n", "/bin/sh": ELF_X86,
        "/boot/vmlinuz-5.15.0-91-generic": _pe(0xAA64),
        "/lib/modules/5.15.0-91-generic/modules.dep": ""}), "ext4")
    assert (facts.architecture, facts.kernel, facts.kernel_architecture) == \
        ("x86_64", "5.15.0-91-generic", "arm64")
