"""Images a new user brings that the first fixture matrix did not cover: other containers qemu
reads, delta and split disks, damaged or cut uploads, odd partition tables, tiny files and the
2048 GiB edge. Each was tried against `qemu-img info` and the partitioning tool that made it."""

from __future__ import annotations

import json

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from disk_helpers import QEMU_INFO, REFUSED, image_bytes, inspect_bounded, mutated, write_image
from imagedrop_cli import app
from imagedrop_disk import BytesSource, CountingSource, Inspection, inspect, inspect_path
from imagedrop_disk.errors import DiskError

HAVE_QEMU_IMG = shutil.which("qemu-img") is not None


def _inspect(data: bytes, guest: bool = True) -> Inspection:
    return inspect(BytesSource(data), guest=guest)


def _problems(name: str) -> str:
    result = _inspect(image_bytes(name))
    assert not result.importable
    return " | ".join(result.problems)


# -- Containers that are none of ours: one line naming what it is and the conversion ----------

@pytest.mark.parametrize("name", sorted(REFUSED))
def test_foreign_containers_are_named_in_one_line(name: str) -> None:
    # Given an image qemu reads as qed / parallels / qcow v1 (not raw)
    assert QEMU_INFO[name]["format"] in ("qed", "parallels", "qcow")
    # When inspected, it is not taken for a raw disk but refused in one line with the fix
    with pytest.raises(DiskError) as err:
        _inspect(image_bytes(name))
    message = str(err.value)
    assert REFUSED[name] in message and "qemu-img convert -O qcow2" in message
    assert "\n" not in message


def test_cli_exits_2_with_one_line_for_a_qed_image(tmp_path: Path) -> None:
    path = write_image("disk.qed", tmp_path)
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always separates stderr
        runner = CliRunner()
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "QED" in result.stderr
    # under --json the same line is also a JSON object on stdout
    as_json = runner.invoke(app, ["inspect", str(path), "--json"])
    assert as_json.exit_code == 2 and as_json.stderr == result.stderr
    assert json.loads(as_json.stdout) == {"error": result.stderr.strip(), "command": "inspect",
                                          "exit_code": 2}


@pytest.mark.skipif(not HAVE_QEMU_IMG, reason="qemu-img not installed")
def test_a_luks_volume_is_refused_not_taken_for_raw(tmp_path: Path) -> None:
    # Given a LUKS volume made by qemu (a raw file to a naive prober, 'luks' to qemu)
    path = tmp_path / "disk.luks"
    # qemu times its key derivation first and now and then fails to ("Unable to get accurate
    # CPU usage"): try again rather than commit 64 KiB of random key material as a fixture.
    for _ in range(5):
        made = subprocess.run(["qemu-img", "create", "-q", "-f", "luks", "--object",
                               "secret,id=s,data=secret", "-o", "key-secret=s,iter-time=10",
                               str(path), "1M"], capture_output=True, text=True)
        if made.returncode == 0:
            break
    else:
        pytest.skip(f"qemu-img could not make a LUKS volume here: {made.stderr.strip()}")
    with pytest.raises(DiskError, match="LUKS-encrypted volume.*decrypt it first"):
        inspect_path(path)


# -- Self-contained or not: data that lives elsewhere ------------------------------------------

def test_qcow2_with_an_external_data_file_is_refused() -> None:
    assert QEMU_INFO["qcow2-datafile.qcow2"]["format-specific"]["data"]["data-file"] == (
        "qcow2-datafile.data")
    assert "external file ('qcow2-datafile.data')" in _problems("qcow2-datafile.qcow2")


def test_qcow2_v2_with_legacy_aes_encryption_is_refused() -> None:
    assert QEMU_INFO["qcow2-aes.qcow2"]["encrypted"] is True
    assert "encrypted (AES)" in _problems("qcow2-aes.qcow2")


def test_vmdk_delta_disk_names_its_parent() -> None:
    # qemu shows the parent as the backing file; the delta holds only changed grains
    assert QEMU_INFO["vmdk-delta.vmdk"]["backing-filename"] == "gpt-esp.vmdk"
    assert "delta disk of a parent ('gpt-esp.vmdk')" in _problems("vmdk-delta.vmdk")


def test_one_extent_of_a_split_vmdk_is_refused_as_qemu_refuses_it() -> None:
    assert "error" in QEMU_INFO["vmdk-extent.vmdk"]
    assert "no embedded descriptor" in _problems("vmdk-extent.vmdk")


# -- Cut uploads that still look whole at the start --------------------------------------------

def _last_data_sector_end(data: bytes) -> int:
    end = len(data)
    while end > 0 and data[end - 512:end] == bytes(512):
        end -= 512
    return end


@pytest.mark.parametrize("name,words", [
    ("mbr-linux.raw", "MBR partition 2 (type 0x82) ends at byte 8388608"),
    ("mbr-linux.qcow2", "MBR partition 2 (type 0x82) ends at byte 8388608"),
    ("ext4-bare.raw", "the ext2/3/4 filesystem says it has 8388608 bytes"),
    ("mbr-ntfs.raw", "MBR partition 1 (type 0x07)"),
])
def test_a_disk_shorter_than_its_partitions_is_truncated(name: str, words: str) -> None:
    data = image_bytes(name)
    if name.endswith(".qcow2"):  # shrink the guest: the header's virtual size
        data = bytearray(data)
        struct.pack_into(">Q", data, 24, 4 * 1024**2)
    else:
        data = data[:len(data) // 2]
    result = _inspect(bytes(data))
    assert not result.importable
    assert any(words in p and "truncated" in p for p in result.problems), result.problems


def test_bare_ntfs_of_its_full_size_is_not_called_truncated(tmp_path: Path) -> None:
    # The NTFS backup boot sector follows the counted sectors: a whole volume is not short.
    if shutil.which("mkfs.ntfs") is None:
        pytest.skip("mkfs.ntfs not installed")
    path = tmp_path / "ntfs.raw"
    subprocess.run(["truncate", "-s", "4M", str(path)], check=True)
    subprocess.run(["mkfs.ntfs", "-F", "-Q", "-q", str(path)], check=True, capture_output=True)
    result = inspect_path(path)
    assert (result.os_type, result.importable) == ("windows", True), result.problems
    cut = inspect(BytesSource(path.read_bytes()[:-512]))
    assert not cut.importable and any("NTFS filesystem" in p for p in cut.problems)


def test_dynamic_vhd_without_its_closing_footer_is_truncated() -> None:
    data = image_bytes("gpt-esp.vhd")
    assert "truncated" in " ".join(_inspect(data[:-512]).problems)
    assert _inspect(data).importable


def test_stream_vmdk_cut_inside_its_grains_is_truncated() -> None:
    # Given a stream cut right after its last sector holding data (no end-of-stream marker)
    data = image_bytes("gpt-esp.stream.vmdk")
    cut = data[:_last_data_sector_end(data)]
    result = _inspect(cut)
    assert not result.importable
    assert any("end-of-stream marker" in p for p in result.problems)
    # and cut at an odd byte
    assert any("end-of-stream" in p for p in _inspect(data[:len(cut) - 100]).problems)


@pytest.mark.parametrize("name,footer_at", [("gpt-windows.fixed.vhd", -512),
                                             ("gpt-esp.vhd", 0)])  # dynamic: the copy at 0
def test_vhd_footer_with_a_wrong_checksum_is_refused_as_qemu_refuses_it(
        name: str, footer_at: int) -> None:
    data = bytearray(image_bytes(name))
    data[footer_at + 24] ^= 0xFF  # a timestamp byte: only the checksum notices
    result = _inspect(bytes(data))
    assert result.format == "vhd" and not result.importable
    assert any("checksum" in p for p in result.problems)


# -- Partition tables the matrix did not have --------------------------------------------------

def test_logical_partitions_decide_the_os_when_the_primaries_do_not() -> None:
    # Given a FAT primary and an extended partition whose logicals are Linux and swap
    result = _inspect(image_bytes("mbr-logical.raw"), guest=False)
    assert (result.partition_table, result.boot_mode, result.os_type) == ("mbr", "BIOS", "linux")
    # the EBR chain is followed only up to the first logical that tells the family
    assert result.details["partitions"] == ["0x0c", "0x05", "0x83"]
    assert result.reads == 3  # head, tail, one EBR


def test_a_looping_ebr_chain_stops() -> None:
    # Given a first EBR whose logical tells nothing (FAT) and whose "next" points back at itself
    data = bytearray(image_bytes("mbr-logical.raw"))
    ext_lba = struct.unpack_from("<I", data, 446 + 16 + 8)[0]
    ebr = ext_lba * 512
    data[ebr + 446 + 4] = 0x0C
    struct.pack_into("<B3xB3xII", data, ebr + 446 + 16, 0, 0x05, 0, 16)
    counting = CountingSource(BytesSource(bytes(data)))
    result = inspect(counting, guest=False)
    assert (result.partition_table, result.os_type) == ("mbr", None)
    assert counting.reads <= 2 + 4  # head, tail, and at most MAX_LOGICAL EBRs


@pytest.mark.parametrize("name", ["gpt-backup.raw", "gpt-backup.qcow2"])
def test_backup_gpt_is_read_when_the_primary_header_is_gone(name: str) -> None:
    result = _inspect(image_bytes(name), guest=False)
    assert (result.partition_table, result.boot_mode, result.os_type) == ("gpt", "UEFI", "linux")
    assert any("backup GPT" in n for n in result.details["notes"])
    assert result.reads <= 12 and result.bytes_read <= 128 * 1024


def test_4096_byte_sector_gpt_is_found_at_lba_1() -> None:
    data = image_bytes("gpt-4k.raw")
    assert data[4096:4104] == b"EFI PART" and data[512:520] != b"EFI PART"
    result = _inspect(data)
    assert (result.partition_table, result.boot_mode) == ("gpt", "UEFI")
    assert result.details["partitions"] == ["EFI system", "Linux filesystem"]


def test_4096_byte_sector_backup_gpt_is_read_when_the_primary_is_gone() -> None:
    data = bytearray(image_bytes("gpt-4k.raw"))
    data[4096:8192] = bytes(4096)
    result = _inspect(bytes(data))
    assert (result.partition_table, result.boot_mode, result.os_type) == ("gpt", "UEFI", "linux")
    assert any("backup GPT" in n for n in result.details["notes"])


def test_windows_recovery_msr_and_basic_data_are_windows() -> None:
    result = _inspect(image_bytes("gpt-winfull.raw"))
    assert result.details["partitions"] == ["Windows recovery", "EFI system",
                                            "Microsoft reserved", "Microsoft basic data"]


# -- Tiny files and the 2048 GiB edge ----------------------------------------------------------

@pytest.mark.parametrize("data,words", [
    (b"\0", "1 bytes, too small to be a raw disk"),
    (bytes(511), "511 bytes, too small to be a raw disk"),
    (b"QFI\xfb", "too short for a qcow2 header"),
    (b"KDMV", "too short for a sparse extent header"),
    (b"conectix", "only 8 of its 512 bytes are in the file"),
])
def test_tiny_files_are_one_clear_line(data: bytes, words: str) -> None:
    with pytest.raises(DiskError, match=words):
        _inspect(data)


@pytest.mark.parametrize("gib,importable", [(2048, True), (2049, False)])
def test_sparse_raw_at_and_over_2048_gib(tmp_path: Path, gib: int, importable: bool) -> None:
    path = tmp_path / "disk.raw"
    with path.open("wb") as f:
        f.truncate(gib * 1024**3)
    result = inspect_path(path)
    assert result.virtual_size == gib * 1024**3
    assert result.importable is importable
    assert any("2048 GiB" in p for p in result.problems) is not importable


# -- Never a traceback, a hang or a huge read, for these kinds too -----------------------------

NEW_KINDS = ["mbr-logical.raw", "gpt-backup.qcow2", "gpt-4k.raw", "vmdk-delta.vmdk",
             "vmdk-extent.vmdk", "vmdk-zeroed.stream.vmdk", "qcow2-extl2-deflate.qcow2",
             "qcow2-snapshot.qcow2", "qcow2-datafile.qcow2", *sorted(REFUSED)]


@pytest.mark.parametrize("name", NEW_KINDS)
def test_new_kinds_cut_anywhere_never_crash(name: str) -> None:
    data = image_bytes(name)
    for cut in sorted({1, 4, 72, 104, 511, 512, 1024, 4096, 0x9000, len(data) // 3,
                       len(data) // 2, len(data) - 1536, len(data) - 512, len(data) - 1}):
        if 0 < cut < len(data):
            inspect_bounded(data[:cut])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NEW_KINDS),
       edits=st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255), st.booleans()),
                      min_size=1, max_size=12))
def test_new_kinds_mutated_never_crash(name: str, edits: list[tuple[int, int, bool]]) -> None:
    inspect_bounded(mutated(image_bytes(name), edits))
