"""Reads, bytes and time of the guest inspection (container, partitions, file systems) for every
guest fixture, plus a 4 GiB qcow2 made on the spot when mkfs.ext4 and qemu-img are installed.
Each image is read locally and over the emulated OSS (ranged GETs through oss2 on loopback).
Then the real guests (tests/fixtures/real_guests, built from Debian's archive when this machine
can): reads, bytes, wall and CPU time, and the peak RSS of a process that inspects only that
image.

The workload is the real one: the Linux or Windows facts reader and the findings."""

from __future__ import annotations

import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from imagedrop_disk import FileSource
from imagedrop_disk.facts.read import read_guest
from imagedrop_disk.inspect import inspect_with_guest
from imagedrop_disk.source import ByteSource

GUESTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "guests"
REAL_GUESTS = GUESTS.parent / "real_guests"
RUNS = 5
BUCKET = "bench-guest"
FACTS = ("distro", "version", "architecture", "platform", "kernel", "virtio", "nvme",
         "cloud_init", "fstab_root", "selinux", "dhcp", "mac_pinned", "serial_console")


def workload(guest) -> int:  # type: ignore[no-untyped-def]
    """The facts reader inspect runs; returns how many facts it could tell (not null)."""
    report = read_guest(guest)
    if report.facts is None:
        return 0
    return sum(getattr(report.facts, name) is not None for name in FACTS)


def _measure(source: ByteSource) -> tuple[str, int, int, float, int]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        inspection, answer = inspect_with_guest(source, lambda g: (g.root_fs, workload(g)))
        times.append((time.perf_counter() - start) * 1000)
    root, found = answer or (None, 0)
    return (root or "-", inspection.reads, inspection.bytes_read, statistics.median(times), found)


def _generated(directory: Path) -> list[Path]:
    """A 4 GiB GPT disk whose ext4 root holds 6,000 files of 8 KiB in 30 directories."""
    if not (shutil.which("mkfs.ext4") and shutil.which("qemu-img") and shutil.which("sgdisk")):
        return []
    tree = directory / "tree"
    for d in range(30):
        sub = tree / "usr" / "share" / f"d{d:02d}"
        sub.mkdir(parents=True)
        for i in range(200):
            (sub / f"f{i:03d}").write_bytes(bytes([d, i % 256]) * 4096)
    (tree / "etc").mkdir()
    (tree / "usr" / "lib").mkdir()
    (tree / "usr" / "lib" / "os-release").write_text("ID=bench\nVERSION_ID=1\n")
    (tree / "etc" / "os-release").symlink_to("../usr/lib/os-release")
    (tree / "etc" / "fstab").write_text("LABEL=root / ext4 defaults 0 1\n")
    raw, fs = directory / "big.raw", directory / "root.img"
    subprocess.run(["truncate", "-s", "4G", str(raw)], check=True)
    subprocess.run(["sgdisk", "-o", "-n1:2048:+1M", "-t1:EF02", "-n2:0:0", "-t2:8300",
                    str(raw)], check=True, capture_output=True)
    subprocess.run(["truncate", "-s", str(4 * 1024**3 - 4 * 1024**2), str(fs)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(tree), str(fs)], check=True)
    subprocess.run(["dd", f"if={fs}", f"of={raw}", "bs=1M", "seek=2", "conv=notrunc,sparse",
                    "status=none"], check=True)
    fs.unlink()
    out = directory / "big-4gib.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(out)], check=True)
    raw.unlink()
    return [out]


def _kernel_written(directory: Path) -> list[Path]:
    """An 8 GiB GPT disk whose ext4 root (default mkfs options) was filled through the kernel
    (loop mount), so directories spread over block groups as on an installed system: a distro
    sized tree of ~9,000 files. Needs root and loop devices; skipped otherwise."""
    if not all(shutil.which(t) for t in ("mkfs.ext4", "qemu-img", "sgdisk", "mount")):
        return []
    fs, mnt = directory / "root8g.img", directory / "mnt"
    mnt.mkdir()
    subprocess.run(["truncate", "-s", "8G", str(fs)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "root", str(fs)], check=True)
    if subprocess.run(["mount", "-o", "loop", str(fs), str(mnt)],
                      capture_output=True).returncode != 0:
        return []
    try:
        _distro_tree(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    raw = directory / "distro.raw"
    subprocess.run(["truncate", "-s", "8200M", str(raw)], check=True)
    subprocess.run(["sgdisk", "-o", "-n1:2048:+1M", "-t1:EF02", "-n2:0:0", "-t2:8300",
                    str(raw)], check=True, capture_output=True)
    subprocess.run(["dd", f"if={fs}", f"of={raw}", "bs=1M", "seek=2", "conv=notrunc,sparse",
                    "status=none"], check=True)
    fs.unlink()
    out = directory / "distro-8gib.qcow2"
    subprocess.run(["qemu-img", "convert", "-c", "-O", "qcow2", str(raw), str(out)], check=True)
    raw.unlink()
    return [out]


def _distro_tree(root: Path) -> None:
    kver = "5.14.0-362.8.1.el9_3.x86_64"
    for top in ("bin", "boot", "dev", "etc", "home", "opt", "proc", "root", "run", "srv", "sys",
                "tmp", "usr", "var"):
        (root / top).mkdir(exist_ok=True)
    (root / "bin").rmdir()
    (root / "bin").symlink_to("usr/bin")
    (root / "lib").symlink_to("usr/lib")
    for sub, count in (("usr/bin", 1500), ("usr/sbin", 600), ("usr/lib64", 2500),
                       ("usr/share/doc", 800), ("etc", 300), ("etc/sysconfig", 60),
                       ("var/lib/rpm", 20)):
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (d / f"{sub.replace('/', '-')}-{i:04d}").write_bytes(b"x" * (64 + i % 2000))
    (root / "usr/bin/sh").write_bytes(Path("/bin/sh").read_bytes()[:64])
    mods = root / "usr/lib/modules" / kver / "kernel"
    for d in range(120):
        sub = mods / "drivers" / f"group{d:03d}"
        sub.mkdir(parents=True)
        for i in range(25):
            (sub / f"mod{i:02d}.ko.xz").write_bytes(b"m" * 300)
    (mods / "drivers/block").mkdir()
    (mods / "drivers/block/virtio_blk.ko.xz").write_bytes(b"m" * 300)
    (root / "usr/lib/modules" / kver / "modules.builtin").write_text("kernel/fs/ext4/ext4.ko\n")
    (root / "boot/loader/entries").mkdir(parents=True)
    (root / "boot/grub2").mkdir()
    (root / f"boot/vmlinuz-{kver}").write_bytes(b"k" * 12_000_000)
    (root / "boot/loader/entries" / f"abc-{kver}.conf").write_text("options root=LABEL=root\n")
    (root / "boot/grub2/grubenv").write_text("# GRUB Environment Block\nkernelopts=ro\n")
    (root / "usr/lib/os-release").write_text('ID="rocky"\nVERSION_ID="9.3"\n')
    (root / "etc/os-release").symlink_to("../usr/lib/os-release")
    (root / "etc/fstab").write_text("LABEL=root / ext4 defaults 0 1\n")
    (root / "etc/selinux").mkdir()
    (root / "etc/selinux/config").write_text("SELINUX=enforcing\n")
    (root / "etc/sysconfig/network-scripts").mkdir()
    (root / "etc/sysconfig/network-scripts/ifcfg-eth0").write_text("BOOTPROTO=dhcp\n")
    (root / "etc/cloud").mkdir()
    (root / "etc/cloud/cloud.cfg").write_text("datasource_list: [AliYun]\n")


class _OssSource:
    def __init__(self, bucket, key: str, size: int):  # type: ignore[no-untyped-def]
        self.bucket, self.key, self._size = bucket, key, size

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self._size) - 1
        if end < offset:
            return b""
        return self.bucket.get_object(self.key, byte_range=(offset, end)).read()


def _over_oss(paths: list[Path]):  # type: ignore[no-untyped-def]
    try:
        import oss2

        from imagedrop_emulator import Clock, CloudServer, FakeCloud
    except ImportError:
        return None
    cloud = FakeCloud(clock=Clock(speed=0.0), services=("oss",))
    cloud.oss.create_bucket(BUCKET)
    server = CloudServer(cloud)
    server.__enter__()
    bucket = oss2.Bucket(oss2.Auth(cloud.access_key_id, cloud.access_key_secret),
                         server.endpoints["oss"], BUCKET)
    for path in paths:
        bucket.put_object_from_file(path.name, str(path))
    return server, {p.name: _OssSource(bucket, p.name, p.stat().st_size) for p in paths}


def main() -> None:
    table = Table(title=f"guest inspection: cost per image (median of {RUNS} runs)")
    for col in ("image", "root fs", "reads", "bytes read", "local ms", "OSS ms", "facts known"):
        table.add_column(col, justify="left" if col in ("image", "root fs") else "right")
    worst = (0, 0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for gz in sorted(GUESTS.glob("*.gz")):
            path = Path(tmp) / gz.name[:-3]
            path.write_bytes(gzip.decompress(gz.read_bytes()))
            paths.append(path)
        paths += _generated(Path(tmp)) + _kernel_written(Path(tmp))
        oss = _over_oss(paths)
        try:
            for path in paths:
                root, reads, spent, local_ms, found = _measure(FileSource(path))
                oss_ms = f"{_measure(oss[1][path.name])[3]:.1f}" if oss else "-"
                worst = (max(worst[0], reads), max(worst[1], spent))
                table.add_row(path.name, root, str(reads), str(spent), f"{local_ms:.1f}",
                              oss_ms, str(found))
        finally:
            if oss:
                oss[0].__exit__(None, None, None)
    Console(width=120).print(table)
    print(f"worst: {worst[0]} reads, {worst[1]} bytes ({worst[1] / 1024:.0f} KiB); budget 40 "
          f"reads, 4 MiB")
    _real_guests()


_ONE_IMAGE = """
import json, sys, time, resource
from imagedrop_disk import FileSource, inspect
start, cpu = time.perf_counter(), time.process_time()
result = inspect(FileSource(sys.argv[1]))
print(json.dumps({"reads": result.reads, "bytes": result.bytes_read,
                  "wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "facts": result.guest.model_dump() if result.guest else None}))
"""


def _real_guests() -> None:
    sys.path.insert(0, str(REAL_GUESTS))
    from corpus import find_or_build  # type: ignore[import-not-found]

    guests, why = find_or_build()
    if guests is None:
        print(f"real guests: not measured ({why})")
        return
    table = Table(title=f"real guests (Debian archive): one inspection each, median of {RUNS}")
    for col in ("guest", "image", "reads", "bytes read", "wall ms", "CPU ms", "peak RSS MiB",
                "facts right"):
        table.add_column(col, justify="left" if col in ("guest", "image") else "right")
    for guest in guests:
        runs = [json.loads(subprocess.run([sys.executable, "-c", _ONE_IMAGE, str(guest.image)],
                                          check=True, capture_output=True, text=True).stdout)
                for _ in range(RUNS)]
        facts = runs[0]["facts"] or {}
        truth = guest.truth["guest"]
        right = sum(facts.get(k) == v for k, v in truth.items())
        table.add_row(guest.name, f"{guest.truth['format']}, {guest.image.stat().st_size >> 20} "
                                  f"MiB", str(runs[0]["reads"]), str(runs[0]["bytes"]),
                      f"{statistics.median(r['wall'] for r in runs) * 1000:.0f}",
                      f"{statistics.median(r['cpu'] for r in runs) * 1000:.0f}",
                      f"{max(r['rss'] for r in runs) / 1024:.0f}", f"{right}/{len(truth)}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
