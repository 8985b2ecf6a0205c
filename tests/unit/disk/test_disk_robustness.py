"""Never trust a header: truncated, corrupted and fuzzed images give an Inspection or one clear
DiskError line, within the read caps, never a traceback, a hang or a huge read."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disk_helpers import NAMES, image_bytes, inspect_bounded, mutated
from imagedrop_disk import BytesSource, inspect
from imagedrop_disk.errors import DiskError


def _cuts(size: int) -> list[int]:
    points = {0, 1, 13, 511, 512, 1024, 4096, 0x9000, size // 2, size - 1536, size - 512, size - 1}
    return sorted(p for p in points if 0 <= p < size)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "empty.img"])
def test_truncated_images_never_crash(name: str) -> None:
    data = image_bytes(name)
    for cut in _cuts(len(data)):
        inspect_bounded(data[:cut])


def test_tiny_text_file_is_not_a_disk() -> None:
    with pytest.raises(DiskError, match="13 bytes, too small to be a raw disk"):
        inspect(BytesSource(b"hello, world\n"))


def test_odd_sized_file_is_not_a_raw_disk() -> None:
    with pytest.raises(DiskError, match="not a multiple of 512"):
        inspect(BytesSource(b"x" * 1000))


def _patched(name: str, offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(image_bytes(name))
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def test_qcow2_with_impossible_cluster_bits_is_a_clear_error() -> None:
    with pytest.raises(DiskError, match="cluster_bits 99"):
        inspect(BytesSource(_patched("gpt-esp.qcow2", 20, ">I", 99)))


def test_qcow2_with_a_huge_l1_table_is_refused_not_read() -> None:
    result = inspect(BytesSource(_patched("gpt-esp.qcow2", 36, ">I", 0x7FFFFFFF)))
    assert not result.importable
    assert any("over the" in p and "cap" in p for p in result.problems)
    assert result.bytes_read <= 128 * 1024


@pytest.mark.parametrize("name, offset, fmt, words", [
    pytest.param("gpt-esp.qcow2", 40, ">Q", "beyond the end of the file",
                 id="qcow2-l1-beyond-the-end-of-file-says-truncated"),
    pytest.param("gpt-esp.vmdk", 56, "<Q", "grain directory",
                 id="vmdk-grain-directory-beyond-the-file-is-a-problem"),
])
def test_a_table_pointing_past_the_file_is_a_problem(name: str, offset: int, fmt: str,
                                                     words: str) -> None:
    result = inspect(BytesSource(_patched(name, offset, fmt, 1 << 40)))
    assert not result.importable
    assert any(words in p for p in result.problems)


def test_qcow2_cut_after_its_tables_is_not_importable() -> None:
    data = image_bytes("gpt-esp.qcow2")
    result = inspect(BytesSource(data[:0x40000]))
    assert not result.importable and result.problems


def test_stream_vmdk_without_its_footer_is_a_problem() -> None:
    # Given a stream whose grain directory is only in the footer, cut before the footer
    data = image_bytes("gpt-bios.footer.vmdk")
    result = inspect(BytesSource(data[:-1536] + bytes(1536)))
    assert not result.importable
    assert any("footer" in p for p in result.problems)


def test_vhd_with_a_bogus_block_size_is_a_problem() -> None:
    data = bytearray(image_bytes("gpt-esp.vhd"))
    struct.pack_into(">I", data, 512 + 32, 12345)
    result = inspect(BytesSource(bytes(data)))
    assert not result.importable
    assert any("block size 12345" in p for p in result.problems)


def test_raw_disk_shorter_than_its_gpt_says_is_truncated() -> None:
    data = image_bytes("gpt-esp.raw")
    result = inspect(BytesSource(data[:len(data) // 2]))
    assert result.partition_table == "gpt"
    assert not result.importable
    assert any("truncated" in p for p in result.problems)


MUTATED = ["gpt-esp.qcow2", "qcow2-c512-deflate.qcow2", "qcow2-c2m-deflate.qcow2",
           "gpt-both.vmdk", "gpt-esp.stream.vmdk", "gpt-bios.footer.vmdk", "gpt-bios.vhd", "gpt-windows.fixed.vhd",
           "mbr-linux.raw", "gpt-esp.vhdx", "gpt-esp.vdi", "flat-desc.vmdk", "big-2t.qcow2"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(MUTATED),
       edits=st.lists(st.tuples(st.integers(0, 2047), st.integers(0, 255), st.booleans()),
                      min_size=1, max_size=12))
def test_mutated_headers_give_an_answer_or_a_disk_error(
        name: str, edits: list[tuple[int, int, bool]]) -> None:
    # The header lives at the start; a fixed VHD's footer and a stream VMDK's at the end.
    inspect_bounded(mutated(image_bytes(name), edits))
