"""End to end: real ext4 images built from the distro trees (make_images.sh) inspect to the
facts their trees promise, through every container, within the whole inspection's budget."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guest_memory import TREES
from imagedrop_cli import app
from imagedrop_disk import BytesSource, inspect, inspect_path
from imagedrop_disk.cluster_map import GUEST_MAX_BYTES, GUEST_MAX_READS

GUESTS = Path(__file__).resolve().parents[2] / "fixtures" / "guests"
IMAGES = {"facts-ubuntu2204.qcow2": "ubuntu2204", "facts-centos7.vhd": "centos7",
          "facts-debian12.raw": "debian12", "facts-rocky9.vmdk": "rocky9",
          "facts-rocky9-xfs.qcow2": "rocky9",
          "facts-opensuse-leap15-arm64.qcow2": "opensuse-leap15-arm64"}


def _image(name: str, directory: Path) -> Path:
    path = directory / name
    path.write_bytes(gzip.decompress((GUESTS / f"{name}.gz").read_bytes()))
    return path


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_facts_match_its_tree(name: str, tmp_path: Path) -> None:
    result = inspect_path(_image(name, tmp_path))
    expected = TREES[IMAGES[name]]()[1]
    assert result.guest is not None, result.details
    assert result.guest.root_fs == ("xfs" if "xfs" in name else "ext4")
    assert result.guest.os_type == "linux"
    assert {k: getattr(result.guest, k) for k in expected} == expected
    assert result.reads <= GUEST_MAX_READS and result.bytes_read <= GUEST_MAX_BYTES


def test_boot_on_its_own_partition_gives_the_kernel_and_command_line(tmp_path: Path) -> None:
    guest = inspect_path(_image("facts-rocky9.vmdk", tmp_path)).guest
    assert guest.kernel == "5.14.0-362.8.1.el9_3.x86_64"     # /boot/vmlinuz-* on partition 1
    assert guest.serial_console is False                      # grubenv kernelopts, not rescue


def test_arm64_guest_with_an_esp(tmp_path: Path) -> None:
    result = inspect_path(_image("facts-opensuse-leap15-arm64.qcow2", tmp_path))
    assert result.boot_mode == "UEFI" and result.guest.architecture == "arm64"
    assert result.guest.kernel == "5.14.21-150500.55.19-default"     # from /boot/Image-*


def test_findings_come_with_the_facts(tmp_path: Path) -> None:
    result = inspect_path(_image("facts-debian12.raw", tmp_path))
    assert [f.item for f in result.findings] == ["GUESTOS.Virtio", "GUESTOS.Nvme",
                                                  "GUESTOS.Fstab", "GUESTOS.CloudInit",
                                                  "GUESTOS.OnlineResizeFS"]
    fstab = result.findings[2]
    assert "/dev/sda1 on /" in fstab.fact and "UUID=" in fstab.fix


def test_container_only_inspection_reads_no_guest(tmp_path: Path) -> None:
    result = inspect_path(_image("facts-centos7.vhd", tmp_path), guest=False)
    assert result.guest is None and result.findings == []


def test_no_file_system_gives_null_guest_and_says_why() -> None:
    data = gzip.decompress((GUESTS.parent / "disks" / "gpt-esp.raw.gz").read_bytes())
    result = inspect(BytesSource(data))
    assert result.guest is None and result.findings == []
    assert any("file system" in n for n in result.details["notes"])


def test_cli_json_shows_guest_and_findings(tmp_path: Path) -> None:
    path = _image("facts-ubuntu2204.qcow2", tmp_path)
    out = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert out.exit_code == 0, out.output
    seen = json.loads(out.stdout)
    assert seen["guest"]["distro"] == "ubuntu" and seen["guest"]["platform"] == "Ubuntu"
    assert seen["findings"] == []
    assert seen["format"] == "qcow2" and seen["partition_table"] == "gpt"  # existing keys stay


def test_cli_table_summarises_guest_and_findings(tmp_path: Path) -> None:
    path = _image("facts-debian12.raw", tmp_path)
    out = CliRunner().invoke(app, ["inspect", str(path)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "Debian GNU/Linux 12 (bookworm)" in out.stdout
    assert "GUESTOS.Virtio" in out.stdout and "virtio no" in out.stdout


def test_a_windows_root_gets_the_windows_facts(tmp_path: Path) -> None:
    path = tmp_path / "win11.qcow2"
    path.write_bytes(gzip.decompress((GUESTS / "win11.qcow2.gz").read_bytes()))
    result = inspect_path(path)
    assert result.guest is not None, result.details
    assert (result.guest.os_type, result.guest.distro, result.guest.root_fs) == \
        ("windows", "windows", "ntfs")
    assert result.guest.fstab_root is None and result.guest.kernel is None
    assert result.reads <= GUEST_MAX_READS and result.bytes_read <= GUEST_MAX_BYTES
