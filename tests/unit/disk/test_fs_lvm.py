"""The LVM2 reader over PVs written by pvcreate/vgcreate/vgcfgrestore
(tests/fixtures/guests/make_lvm.sh), and over damaged copies."""

from __future__ import annotations

import struct
import uuid

import pytest
from guest_images import MemVolume, partition_volume
from hypothesis import given, settings
from hypothesis import strategies as st

from imagedrop_disk.errors import FsCorrupt
from imagedrop_disk.fs import lvm, lvm_text

EXTENT = 512 * 1024
MDA = 4096


@pytest.fixture(scope="module")
def pv0() -> bytes:
    return partition_volume("lvm", 0).data


@pytest.fixture(scope="module")
def pv1() -> bytes:
    return partition_volume("lvm", 1).data


def pe_start(pv: bytes) -> int:
    text = metadata_text(pv)
    return lvm_text.parse(text)["vg-sys"]["physical_volumes"]["pv0"]["pe_start"] * 512


def metadata_text(pv: bytes) -> str:
    offset, size = struct.unpack_from("<QQ", pv, MDA + 40)
    area = struct.unpack_from("<Q", pv, MDA + 32)[0]
    first = min(size, area - offset)
    raw = pv[MDA + offset:MDA + offset + first] + pv[MDA + 512:MDA + 512 + size - first]
    return raw.rstrip(b"\0").decode()


def test_the_fixture_metadata_wraps_around_the_circular_buffer(pv0):
    offset, size = struct.unpack_from("<QQ", pv0, MDA + 40)
    assert offset + size > struct.unpack_from("<Q", pv0, MDA + 32)[0]


def test_linear_lvs_of_several_segments(pv0):
    notes: list[str] = []
    lvs = dict(lvm.logical_volumes(MemVolume(pv0), notes))
    assert sorted(lvs) == ["vg-sys/root", "vg-sys/var-log"]
    root = lvs["vg-sys/root"]
    assert root.size == 12 * EXTENT
    start = pe_start(pv0)
    # the script placed LV extents 0-3, 4-7, 8-11 on PV extents 12, 2, 20
    for lv_extent, pv_extent in [(0, 12), (4, 2), (8, 20)]:
        for k in range(4):
            at = start + (pv_extent + k) * EXTENT
            assert root.read((lv_extent + k) * EXTENT, 64) == pv0[at:at + 64]
    sb = root.read(1024, 1024)
    assert sb[56:58] == b"\x53\xef"  # the ext4 made by mkfs.ext4 -d, read through the LV
    assert sb[120:126] == b"lvroot"
    assert uuid.UUID(bytes=sb[104:120]) == uuid.UUID("0e6c5a3b-8e47-4f1c-9d6e-2b1c7a9f4e10")
    across = root.read(4 * EXTENT - 100, 200)  # a read that crosses a segment boundary
    assert across == root.read(4 * EXTENT - 100, 100) + root.read(4 * EXTENT, 100)
    assert root.read(12 * EXTENT - 10, 100) == root.read(12 * EXTENT - 10, 10)
    assert root.read(12 * EXTENT, 10) == b""
    assert lvs["vg-sys/var-log"].size == 2 * EXTENT
    assert notes == [
        "LVM2 LV vg-sys/home is not read: a segment lies on PV pv1, not on this PV (pv0)",
        "LVM2 LV vg-sys/data is not read: it has a striped segment of 2 stripes (only linear "
        "LVs are read)"]


def test_second_pv_holds_no_whole_lv(pv1):
    notes: list[str] = []
    assert lvm.logical_volumes(MemVolume(pv1), notes) == []
    assert [n.split(":")[0] for n in notes] == ["LVM2 LV vg-sys/home is not read",
                                                "LVM2 LV vg-sys/data is not read"]


def test_reads_are_few_and_small(pv0):
    volume = MemVolume(pv0)
    lvm.logical_volumes(volume)
    assert volume.reads <= 5 and volume.bytes_read <= 16 * 1024


def test_device_names():
    assert lvm.mapper_path("vg-sys", "var-log") == "/dev/mapper/vg--sys-var--log"
    assert lvm.lv_for_device("/dev/mapper/vg--sys-var--log") == "vg-sys/var-log"
    assert lvm.lv_for_device("/dev/mapper/centos-root") == "centos/root"
    assert lvm.lv_for_device("/dev/vg-sys/root") == "vg-sys/root"
    assert lvm.lv_for_device("/dev/sda1") is None
    assert lvm.lv_for_device("/dev/mapper/nodash") is None


def test_not_a_pv_is_none(pv0):
    assert lvm.logical_volumes(MemVolume(bytes(8192))) is None
    assert lvm.logical_volumes(MemVolume(b"")) is None
    assert lvm.logical_volumes(MemVolume(partition_volume("win2022").data[:65536])) is None


def test_lvm_crc_matches_the_label_lvm_wrote(pv0):
    label = pv0[512:1024]
    assert label[:8] == b"LABELONE"
    assert lvm.lvm_crc(label[20:]) == struct.unpack_from("<I", label, 16)[0]


# -- hostile PVs ------------------------------------------------------------------------------

def patch(data: bytes, offset: int, raw: bytes) -> bytes:
    return data[:offset] + raw + data[offset + len(raw):]


def with_mda_header(pv: bytes, field_at: int, raw: bytes) -> bytes:
    """The PV with one mda header field changed and the header checksum made right again."""
    pv = patch(pv, MDA + field_at, raw)
    return patch(pv, MDA, struct.pack("<I", lvm.lvm_crc(pv[MDA + 4:MDA + 512])))


def test_damaged_headers_are_named(pv0):
    with pytest.raises(FsCorrupt, match="label in sector 1: checksum"):
        lvm.logical_volumes(MemVolume(patch(pv0, 512 + 100, b"\x01")))
    with pytest.raises(FsCorrupt, match="no mda header magic"):
        lvm.logical_volumes(MemVolume(patch(pv0, MDA + 8, b"X")))
    with pytest.raises(FsCorrupt, match="header checksum"):
        lvm.logical_volumes(MemVolume(patch(pv0, MDA + 24, b"\x01")))
    with pytest.raises(FsCorrupt, match="impossible"):
        lvm.logical_volumes(MemVolume(with_mda_header(pv0, 48, struct.pack("<Q", 1 << 40))))
    with pytest.raises(FsCorrupt, match="metadata checksum"):
        lvm.logical_volumes(MemVolume(with_mda_header(pv0, 56, b"\0\0\0\0")))


def test_truncated_pv(pv0):
    with pytest.raises(FsCorrupt, match="truncated"):
        lvm.logical_volumes(MemVolume(pv0[:2048]))
    with pytest.raises(FsCorrupt, match="cut short"):
        lvm.logical_volumes(MemVolume(pv0[:MDA + 1024]))
    lvs = dict(lvm.logical_volumes(MemVolume(pv0[:3 * 1024 * 1024])))
    assert len(lvs["vg-sys/root"].read(0, 12 * EXTENT)) < 12 * EXTENT  # short, as at an end


def test_ignored_area_means_no_metadata(pv0):
    with pytest.raises(FsCorrupt, match="no metadata area"):
        lvm.logical_volumes(MemVolume(with_mda_header(pv0, 60, struct.pack("<I", 1))))


def test_metadata_text_parser_bounds():
    parsed = lvm_text.parse('# c\nvg { id = "a\\"b" n = -3 l = ["pv0", 12, [1]] s { } }\n\0'
                            .rstrip("\0"))
    assert parsed == {"vg": {"id": 'a"b', "n": -3, "l": ["pv0", 12, [1]], "s": {}}}
    for text, words in [("a {" * 10000, "deeper"), ("a = " + "[" * 10000, "deeper"),
                        ("a = [1, 2", "ends early"), ("a { b = 1", "ends early"),
                        ("a = }", "expected a value"), ("a ; b", "unexpected"),
                        ("a = [" + "1," * 5000 + "]", "longer than")]:
        with pytest.raises(FsCorrupt, match=words):
            lvm_text.parse(text)


def metadata_with(pv: bytes, text: str) -> bytes:
    """The PV with its committed metadata replaced by `text`, checksums made right."""
    raw = text.encode()
    offset = 512
    pv = patch(pv, MDA + offset, raw + b"\0")
    pv = with_mda_header(pv, 40, struct.pack("<QQI", offset, len(raw), lvm.lvm_crc(raw)))
    return pv


def test_segment_rules(pv0):
    pv0 = pv0[:4 << 20]  # enough for these LVs; each patch copies it
    base = metadata_text(pv0)
    vg = lvm_text.parse(base)["vg-sys"]
    pv_id = vg["physical_volumes"]["pv0"]["id"]
    template = ('vg-sys {{ seqno = 99 extent_size = 1024 physical_volumes {{ pv0 {{ id = "{id}" '
                'pe_start = 128 pe_count = 30 }} }} logical_volumes {{ {lvs} }} }}')
    cases = {
        'gap { status = ["VISIBLE"] segment1 { start_extent = 0 extent_count = 1 '
        'type = "striped" stripe_count = 1 stripes = ["pv0", 0] } segment2 { start_extent = 5 '
        'extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 1] } }':
            "gap or overlap",
        'thin { status = ["VISIBLE"] segment1 { start_extent = 0 extent_count = 1 type = "thin" '
        'thin_pool = "pool" } }': "thin segment",
        'hidden { status = ["READ"] segment1 { start_extent = 0 extent_count = 1 '
        'type = "striped" stripe_count = 1 stripes = ["pv0", 0] } }': None,
        'lin { status = ["VISIBLE"] segment1 { start_extent = 0 extent_count = 2 '
        'type = "linear" stripe_count = 1 stripes = ["pv0", 3] } }': None,
    }
    for lv, words in cases.items():
        notes: list[str] = []
        lvs = lvm.logical_volumes(MemVolume(metadata_with(pv0, template.format(id=pv_id,
                                                                               lvs=lv))), notes)
        if words:
            assert lvs == [] and words in notes[0]
        elif lv.startswith("hidden"):
            assert lvs == [] and notes == []
        else:
            (name, volume), = lvs
            assert name == "vg-sys/lin" and volume.size == 2 * 1024 * 512
            assert volume.read(0, 16) == pv0[128 * 512 + 3 * 1024 * 512:][:16]
    with pytest.raises(FsCorrupt, match="not among its PVs"):
        lvm.logical_volumes(MemVolume(metadata_with(pv0, template.format(id="x", lvs=""))))
    with pytest.raises(FsCorrupt, match="extent_size"):
        lvm.logical_volumes(MemVolume(metadata_with(
            pv0, template.format(id=pv_id, lvs="").replace("1024", "0", 1))))
    with pytest.raises(FsCorrupt, match="volume groups"):
        lvm.logical_volumes(MemVolume(metadata_with(pv0, "contents = 1")))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab =[]{}",#\n0123456789-', max_size=300))
def test_any_metadata_text_parses_or_is_corrupt(text):
    try:
        parsed = lvm_text.parse(text)
    except FsCorrupt:
        return
    assert isinstance(parsed, dict)
