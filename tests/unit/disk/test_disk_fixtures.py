"""Every fixture image inspects as qemu-img and the build script say it should, within the read
budget of a network source."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from disk_helpers import EXPECTED, NAMES, QEMU_FORMAT, QEMU_INFO, image_bytes, write_image
from imagedrop_disk import BytesSource, FileSource, inspect, inspect_path
from imagedrop_disk.cluster_map import GUEST_MAX_BYTES, GUEST_MAX_READS

TARGET_READS = 12
TARGET_BYTES = 128 * 1024

try:
    import zstandard  # noqa: F401
    HAVE_ZSTD = True
except ImportError:
    HAVE_ZSTD = False


def _qemu_format(info: dict) -> str:
    return QEMU_FORMAT.get(info["format"], info["format"])


@pytest.mark.parametrize("name", NAMES)
def test_format_and_virtual_size_agree_with_qemu_img(name: str) -> None:
    # Given a fixture image and what qemu-img info said when it was built
    qemu = QEMU_INFO[name]
    # When we inspect it
    result = inspect(BytesSource(image_bytes(name)))
    if "error" in qemu:  # qemu cannot open it: neither can ECS
        assert not result.importable and result.problems
        return
    # Then format and virtual size agree (qemu takes an ISO for a raw file)
    expected_format = "raw" if result.format == "iso" else result.format
    assert _qemu_format(qemu) == expected_format
    assert result.virtual_size == qemu["virtual-size"]
    assert result.file_size == qemu["file-size"]


@pytest.mark.parametrize("name", NAMES)
def test_guest_view_matches_how_the_image_was_built(name: str) -> None:
    expected = EXPECTED[name]
    result = inspect(BytesSource(image_bytes(name)))
    assert result.format == expected["format"]
    assert result.importable is expected["importable"]
    assert bool(result.problems) is not result.importable
    if expected["partition_table"] is None:
        return  # not read: refused container, or nothing in the guest
    if name == "qcow2-zstd.qcow2" and not HAVE_ZSTD:
        assert result.details["guest_view"] == "unknown"
        assert any("zstandard" in note for note in result.details["notes"])
        return
    assert (result.partition_table, result.boot_mode, result.os_type) == (
        expected["partition_table"], expected["boot_mode"], expected["os_type"])


@pytest.mark.parametrize("name", NAMES)
def test_reads_stay_within_the_network_budget(name: str) -> None:
    container = inspect(BytesSource(image_bytes(name)), guest=False)
    assert container.reads <= TARGET_READS
    assert container.bytes_read <= TARGET_BYTES
    whole = inspect(BytesSource(image_bytes(name)))  # the guest's file systems too
    assert whole.reads <= GUEST_MAX_READS and whole.bytes_read <= GUEST_MAX_BYTES


def test_a_2tib_sparse_disk_costs_what_an_8mib_one_costs() -> None:
    small = inspect(BytesSource(image_bytes("gpt-esp.qcow2")), guest=False)
    big = inspect(BytesSource(image_bytes("big-2t.qcow2")), guest=False)
    assert big.virtual_size == 2048 * 1024**3 and big.importable
    assert (big.reads, big.bytes_read) == (small.reads, small.bytes_read)


def test_over_2048_gib_is_refused_with_the_reason() -> None:
    result = inspect(BytesSource(image_bytes("big-3t.qcow2")))
    assert not result.importable
    assert any("2048 GiB" in p for p in result.problems)


@pytest.mark.parametrize("name,words", [
    ("gpt-esp.vhdx", "qemu-img convert -O qcow2 in.vhdx out.qcow2"),
    ("gpt-esp.vdi", "qemu-img convert -O qcow2 in.vdi out.qcow2"),
    ("install.iso", "install it onto a disk first"),
    ("qcow2-backing.qcow2", "backing file"),
    ("qcow2-luks.qcow2", "encrypted"),
    ("flat-desc.vmdk", "flat-desc-flat.vmdk"),
    ("split-desc.vmdk", "split-desc-s001.vmdk"),
    ("empty.img", "empty"),
])
def test_refusals_name_the_reason_and_the_fix(name: str, words: str) -> None:
    result = inspect(BytesSource(image_bytes(name)))
    assert not result.importable
    assert any(words in p for p in result.problems), result.problems


def test_inspect_path_reads_a_file_through_the_same_budget(tmp_path: Path) -> None:
    path = write_image("gpt-both.stream.vmdk", tmp_path)
    via_path = inspect_path(path)
    via_source = inspect(FileSource(path))
    assert via_path == via_source
    assert via_path.boot_mode == "UEFI-Preferred"


LIVE = [n for n in NAMES if not n.endswith("-desc.vmdk")]  # their extent files are not kept


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img not installed")
@pytest.mark.parametrize("name", LIVE)
def test_live_qemu_img_info_agrees(name: str, tmp_path: Path) -> None:
    path = write_image(name, tmp_path)
    forced = ["-f", "vpc"] if name.endswith(".fixed.vhd") else []
    run = subprocess.run(["qemu-img", "info", "--output=json", *forced, str(path)],
                         capture_output=True, text=True)
    result = inspect_path(path)
    if run.returncode:  # qemu cannot open it: neither can ECS
        assert "error" in QEMU_INFO[name] and not result.importable
        return
    qemu = json.loads(run.stdout)
    assert result.virtual_size == qemu["virtual-size"]
    assert ("raw" if result.format == "iso" else result.format) == _qemu_format(qemu)


@pytest.mark.skipif(shutil.which("qemu-img") is None or shutil.which("sgdisk") is None,
                    reason="qemu-img and sgdisk not installed")
@pytest.mark.parametrize("fmt,opts,size,ours", [
    ("vmdk", [], "2T", "vmdk"),
    ("vmdk", ["-o", "subformat=streamOptimized"], "2T", "vmdk"),
    ("vpc", [], "2040G", "vhd"),  # the largest VHD qemu makes
])
def test_nearly_2tib_sparse_vmdk_and_vhd_stay_within_budget(
        tmp_path: Path, fmt: str, opts: list[str], size: str, ours: str) -> None:
    raw, image = tmp_path / "disk.raw", tmp_path / "disk.img"
    subprocess.run(["truncate", "-s", size, str(raw)], check=True)
    subprocess.run(["sgdisk", "-o", "-n1:2048:+100M", "-t1:EF00", "-n2:0:0", "-t2:8300",
                    str(raw)], check=True, capture_output=True)
    subprocess.run(["qemu-img", "convert", "-O", fmt, *opts, str(raw), str(image)], check=True)
    raw.unlink()
    result = inspect_path(image, guest=False)
    qemu = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(image)],
                                     check=True, capture_output=True, text=True).stdout)
    assert (result.format, result.virtual_size) == (ours, qemu["virtual-size"])
    assert (result.partition_table, result.boot_mode, result.os_type) == ("gpt", "UEFI", "linux")
    assert result.importable
    assert result.reads <= TARGET_READS and result.bytes_read <= TARGET_BYTES
