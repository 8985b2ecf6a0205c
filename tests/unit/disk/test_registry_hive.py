"""The regf reader: real hives written by hivexsh (inside the Windows fixtures' NTFS), structures
hivex does not write (ri, li, big data, UTF-16 names) built in memory, and hostile hives."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from guest_images import FsGuestFiles, partition_volume
from hive_builder import (BINARY, DWORD, EXPAND_SZ, MULTI_SZ, NO, QWORD, SZ, HiveBuilder, dword,
                          multi_sz, reader, sz)

from imagedrop_disk.errors import HiveCorrupt
from imagedrop_disk.fs import ntfs
from imagedrop_disk.facts.registry_hive import MAX_CELLS, MAX_VALUE, Hive


@pytest.fixture(scope="module")
def win2019() -> FsGuestFiles:
    fs = ntfs.open_fs(partition_volume("win2019"))
    assert fs is not None
    return FsGuestFiles(fs)


def hive_file(files: FsGuestFiles, name: str) -> tuple[Hive, list[tuple[int, int]]]:
    path = f"/Windows/System32/config/{name}"
    reads: list[tuple[int, int]] = []

    def read(offset: int, length: int) -> bytes | None:
        reads.append((offset, length))
        return files.read_bytes(path, offset, length)
    return Hive(read), reads


def test_hivex_written_software_hive_values(win2019):
    hive, _ = hive_file(win2019, "SOFTWARE")
    key = r"Microsoft\Windows NT\CurrentVersion"
    assert hive.get(key, "ProductName") == "Windows Server 2019 Datacenter"
    assert hive.get(key.upper(), "currentbuild") == "17763"
    assert hive.get(key, "CurrentMajorVersionNumber") == 10
    assert hive.get(key, "PathName") == "%SystemRoot%"  # REG_EXPAND_SZ, not expanded
    assert hive.value(hive.key(key), "PathName").type == EXPAND_SZ
    assert hive.get(key, "NoSuchValue") is None
    assert hive.key(r"Microsoft\NoSuchKey") is None
    assert hive.key(r"Microsoft\Component120") is not None
    assert not hive.dirty


def test_lookup_among_many_subkeys_reads_only_the_matching_cells(win2019):
    hive, reads = hive_file(win2019, "SYSTEM")
    services = hive.key(r"ControlSet001\Services")
    assert services is not None and services.n_subkeys > 150
    before = hive.cells_read
    assert hive.subkey(services, "VIOSTOR") is not None
    assert hive.subkey(services, "vioblk") is None
    # the hash list skips the other ~150 keys: one list cell and one nk cell per lookup
    assert hive.cells_read - before <= 4
    assert all(length <= 4096 for _, length in reads)  # page by page, never the whole hive


def built_hive() -> bytes:
    b = HiveBuilder()
    values = [b.vk("Str", SZ, sz("hello")), b.vk("Multi", MULTI_SZ, multi_sz(["a", "bc", ""])),
              b.vk("Q", QWORD, struct.pack("<Q", 1 << 40)), b.vk("D", DWORD, dword(7)),
              b.vk("Big", BINARY, bytes(range(256)) * 100), b.vk("", SZ, sz("default"))]
    leaves = [b.nk(f"Leaf{i:02d}") for i in range(6)]
    unicode_key = b.nk("Grüße-Ключ")
    ri_parent = b.nk("RiParent", subkeys=leaves, list_kind="ri")
    li_parent = b.nk("LiParent", subkeys=[unicode_key], list_kind="li")
    lf_parent = b.nk("LfParent", subkeys=[b.nk("Abc"), b.nk("Abd")], list_kind="lf", values=values)
    root = b.nk("ROOT", subkeys=[ri_parent, li_parent, lf_parent], root=True)
    return b.build(root)


def test_every_list_form_and_value_type():
    hive = Hive(reader(built_hive()))
    assert hive.key(r"riparent\LEAF04").name == "Leaf04"
    assert hive.key(r"RiParent\Leaf06") is None
    assert hive.key(r"LiParent\grüße-ключ").name == "Grüße-Ключ"
    assert hive.key(r"LfParent\ABD").name == "Abd"
    assert hive.key(r"LfParent\Ab") is None
    key = hive.key("LfParent")
    assert hive.get("LfParent", "str") == "hello"
    assert hive.get("LfParent", "Multi") == ["a", "bc"]
    assert hive.get("LfParent", "Q") == 1 << 40
    assert hive.get("LfParent", "D") == 7
    assert hive.get("LfParent", "") == "default"
    big = hive.value(key, "Big")
    assert big.type == BINARY and big.data == bytes(range(256)) * 100  # a db record, 2 segments


def patched(data: bytes, offset: int, fmt: str, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def loop_hive() -> tuple[bytes, int]:
    """A key whose ri list names itself: the list points back to its own cell."""
    b = HiveBuilder()
    ri = b.cell(b"ri" + struct.pack("<HI", 1, 0))
    root = b.nk("ROOT", root=True)
    data = bytearray(b.build(root))
    struct.pack_into("<I", data, 4096 + ri + 4 + 4, ri)           # ri → itself
    struct.pack_into("<II", data, 4096 + root + 4 + 20, 1, 0)       # one subkey...
    struct.pack_into("<I", data, 4096 + root + 4 + 28, ri)          # ...in that ri list
    return bytes(data), root


def test_hostile_hives_give_one_clear_error():
    data, root = loop_hive()
    with pytest.raises(HiveCorrupt, match="loops"):
        Hive(reader(data)).key("Anything")
    good = built_hive()
    with pytest.raises(HiveCorrupt, match="not a registry hive"):
        Hive(reader(b"\0" * 8192))
    with pytest.raises(HiveCorrupt, match="truncated"):
        Hive(reader(good[:4096 + 40]))
    root_off = struct.unpack_from("<I", good, 36)[0]
    with pytest.raises(HiveCorrupt, match="outside the hive bins"):
        Hive(reader(patched(good, 36, "<I", 0x7FFFFFF8)))
    with pytest.raises(HiveCorrupt, match="impossible size"):
        Hive(reader(patched(good, 4096 + root_off, "<i", -(1 << 30))))
    with pytest.raises(HiveCorrupt, match="free cell"):
        Hive(reader(patched(good, 4096 + root_off, "<i", 96)))
    with pytest.raises(HiveCorrupt, match="should be a key"):
        Hive(reader(patched(good, 4096 + root_off + 4, "<2s", b"xx")))


def test_absurd_value_and_list_sizes_are_refused_before_reading():
    good = built_hive()
    hive = Hive(reader(good))
    key = hive.key("LfParent")
    first_vk = struct.unpack_from("<I", good, 4096 + key.values_list + 4)[0]
    bad = patched(good, 4096 + first_vk + 4 + 4, "<I", MAX_VALUE + 1)
    with pytest.raises(HiveCorrupt, match="over the"):
        Hive(reader(bad)).get("LfParent", "Str")
    bad = patched(good, 4096 + key.offset + 4 + 20, "<I", 10**9)
    with pytest.raises(HiveCorrupt, match="claims"):
        Hive(reader(bad)).key(r"LfParent\Abc")


def test_a_hive_of_endless_cells_stops_at_the_cell_cap():
    b = HiveBuilder()
    many = [b.nk(f"K{i}") for i in range(MAX_CELLS + 10)]
    root = b.nk("ROOT", subkeys=many, list_kind="li", root=True)
    hive = Hive(reader(b.build(root)))
    with pytest.raises(HiveCorrupt, match="cells"):
        hive.key("not-there")  # an li list has no hints: every nk is read, up to the cap


def test_random_corruption_never_crashes():
    import random
    good = built_hive()
    rng = random.Random(11)
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(4096, len(data))] = rng.randrange(256)
        try:
            hive = Hive(reader(bytes(data)))
            for path, value in [(r"RiParent\Leaf03", ""), ("LfParent", "Big"),
                                ("LfParent", "Multi"), (r"LiParent\Grüße-Ключ", "")]:
                hive.get(path, value)
        except HiveCorrupt:
            pass


def test_no_value_list_and_none_offsets():
    b = HiveBuilder()
    root = b.nk("ROOT", root=True)
    hive = Hive(reader(b.build(root)))
    assert hive.root.values_list == NO
    assert hive.get("", "x") is None and hive.key("a") is None


def test_refused_reads_are_not_called_truncation():
    with pytest.raises(HiveCorrupt, match="could not be read .*refused"):
        Hive(lambda offset, length: None)
    good = built_hive()
    with pytest.raises(HiveCorrupt, match="root|key .*refused"):
        Hive(lambda offset, length: good[offset:offset + length] if offset < 4096 else None)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.integers(0, 4095))
def test_any_hive_bin_bytes_read_or_are_corrupt(body, at):
    good = bytearray(built_hive())
    good[4096 + at:4096 + at + len(body)] = body[:len(good) - 4096 - at]
    try:
        hive = Hive(reader(bytes(good)))
        hive.get(r"RiParent\Leaf02", "")
        hive.get("LfParent", "Big")
    except HiveCorrupt:
        pass
