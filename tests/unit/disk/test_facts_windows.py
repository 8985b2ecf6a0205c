"""Windows facts from the fixture guests (NTFS + hivexsh hives) and from in-memory guests whose
hives are built to cover each rule: legacy versions, build cross-checks, disabled drivers, a
missing Select key, unreadable hives."""

from __future__ import annotations

import pytest
from guest_images import FsGuestFiles, partition_volume
from hive_builder import DWORD, EXPAND_SZ, SZ, HiveBuilder, dword, sz

from imagedrop_disk.facts.windows import windows_facts
from imagedrop_disk.fs import ntfs

LINUX_ONLY = ("kernel", "fstab_root", "selinux", "dhcp", "mac_pinned", "serial_console")

EXPECTED = {
    "win2019": {"os_type": "windows", "distro": "windows", "version": "10.0.17763",
                "name": "Windows Server 2019 Datacenter", "architecture": "x86_64",
                "platform": "Windows Server 2019", "root_fs": "ntfs", "virtio": True,
                "cloud_init": True},
    "win2022": {"os_type": "windows", "distro": "windows", "version": "10.0.20348",
                "name": "Windows Server 2022 Standard", "architecture": "x86_64",
                "platform": "Windows Server 2022", "root_fs": "ntfs", "virtio": False,
                "cloud_init": False},
    "win11": {"os_type": "windows", "distro": "windows", "version": "10.0.22631",
              "name": "Windows 10 Pro", "architecture": "arm64", "platform": "Other Windows",
              "root_fs": "ntfs", "virtio": False, "cloud_init": True},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_guests(name):
    volume = partition_volume(name)
    facts = windows_facts(FsGuestFiles(ntfs.open_fs(volume)))
    assert facts.model_dump(include=set(EXPECTED[name])) == EXPECTED[name]
    assert all(getattr(facts, f) is None for f in LINUX_ONLY)
    # a handful of MFT records, index blocks and hive pages, never a whole hive
    assert volume.reads < 60 and volume.bytes_read < 128 * 1024


def test_fixture_notes_say_why():
    notes = {n: windows_facts(FsGuestFiles(ntfs.open_fs(partition_volume(n)))).notes
             for n in EXPECTED}
    assert any("missing service key viostor, service key netkvm" in n for n in notes["win2022"])
    assert any("no /Program Files/Cloudbase Solutions/Cloudbase-Init and no cloudbase-init"
               in n for n in notes["win2022"])
    assert any("netkvm.sys" in n for n in notes["win11"])
    assert any("Windows 11" in n for n in notes["win11"])
    assert not any("virtio" in n for n in notes["win2019"])


class MemGuest:
    """GuestFiles over a dict of paths (case-insensitive, as on NTFS)."""

    def __init__(self, files: dict[str, bytes], dirs: tuple[str, ...] = ()):
        self.files = {k.lower(): v for k, v in files.items()}
        self.dirs = {d.lower() for d in dirs}
        self.notes: list[str] = []

    def read_bytes(self, path, offset, length):
        data = self.files.get(path.lower())
        return None if data is None else data[offset:offset + length]

    def read_text(self, path, limit=65536):
        data = self.read_bytes(path, 0, limit)
        return None if data is None else data.decode("utf-8", "replace")

    def listdir(self, path, limit=4096):
        return None

    def kind(self, path):
        p = path.lower()
        return "file" if p in self.files else "dir" if p in self.dirs else None


def software(values: dict[str, tuple[int, bytes]]) -> bytes:
    b = HiveBuilder()
    vks = [b.vk(name, vtype, data) for name, (vtype, data) in values.items()]
    current = b.nk("CurrentVersion", values=vks)
    nt = b.nk("Windows NT", subkeys=[current])
    return b.build(b.nk("ROOT", subkeys=[b.nk("Microsoft", subkeys=[nt])], root=True))


def system(arch: str | None = "AMD64", services: dict[str, dict] | None = None,
           select: int | None = 1, control_set: int = 1) -> bytes:
    b = HiveBuilder()
    env_values = [b.vk("PROCESSOR_ARCHITECTURE", SZ, sz(arch))] if arch else []
    env = b.nk("Environment", values=env_values)
    control = b.nk("Control", subkeys=[b.nk("Session Manager", subkeys=[env])])
    svc_keys = []
    for name, values in (services or {}).items():
        vks = [b.vk(k, DWORD if isinstance(v, int) else EXPAND_SZ,
                    dword(v) if isinstance(v, int) else sz(v)) for k, v in values.items()]
        svc_keys.append(b.nk(name, values=vks))
    svcs = b.nk("Services", subkeys=svc_keys) if svc_keys else b.nk("Services")
    cs = b.nk(f"ControlSet{control_set:03d}", subkeys=[control, svcs])
    top = [cs]
    if select is not None:
        top.append(b.nk("Select", values=[b.vk("Current", DWORD, dword(select))]))
    return b.build(b.nk("ROOT", subkeys=top, root=True))


CONFIG = "/Windows/System32/config"
VIRTIO = {"viostor": {"Start": 0, "ImagePath": r"\SystemRoot\System32\drivers\viostor.sys"},
          "netkvm": {"Start": 3, "ImagePath": r"system32\DRIVERS\netkvm.sys"}}
DRIVER_FILES = {"/Windows/System32/drivers/viostor.sys": b"MZ",
                "/Windows/System32/drivers/netkvm.sys": b"MZ"}


def guest(soft: bytes | None, sys_hive: bytes | None, extra: dict | None = None,
          dirs: tuple[str, ...] = ()) -> MemGuest:
    files = dict(extra or {})
    if soft is not None:
        files[f"{CONFIG}/SOFTWARE"] = soft
    if sys_hive is not None:
        files[f"{CONFIG}/SYSTEM"] = sys_hive
    return MemGuest(files, dirs)


def test_legacy_server_2012_r2_version_and_platform():
    soft = software({"ProductName": (SZ, sz("Windows Server 2012 R2 Standard")),
                     "CurrentVersion": (SZ, sz("6.3")), "CurrentBuild": (SZ, sz("9600"))})
    facts = windows_facts(guest(soft, system("x86", VIRTIO), DRIVER_FILES))
    assert (facts.version, facts.platform, facts.architecture, facts.virtio) == \
        ("6.3.9600", "Windows Server 2012", "i386", True)


def test_build_that_contradicts_the_product_name_leaves_platform_unknown():
    soft = software({"ProductName": (SZ, sz("Windows Server 2019 Standard")),
                     "CurrentBuild": (SZ, sz("20348")),
                     "CurrentMajorVersionNumber": (DWORD, dword(10)),
                     "CurrentMinorVersionNumber": (DWORD, dword(0))})
    facts = windows_facts(guest(soft, system()))
    assert facts.platform is None and facts.version == "10.0.20348"
    assert any("build 20348 is not one of its builds" in n for n in facts.notes)


def test_server_2025_and_client_are_other_windows():
    for product, build, install in [("Windows Server 2025 Datacenter", "26100", "Server"),
                                    ("Windows 10 Enterprise", "19045", "Client")]:
        soft = software({"ProductName": (SZ, sz(product)), "CurrentBuild": (SZ, sz(build)),
                         "InstallationType": (SZ, sz(install))})
        assert windows_facts(guest(soft, system())).platform == "Other Windows"


def test_disabled_driver_and_select_fallback():
    services = {**VIRTIO, "viostor": {**VIRTIO["viostor"], "Start": 4}}
    facts = windows_facts(guest(None, system("ARM64", services, select=None), DRIVER_FILES))
    assert facts.virtio is False and facts.architecture == "arm64"
    assert any("Select\\Current is missing" in n for n in facts.notes)
    assert any("disabled" in n for n in facts.notes)
    assert facts.version is None and facts.name is None and facts.platform is None
    assert any("SOFTWARE is missing" in n for n in facts.notes)


def test_select_names_the_control_set():
    facts = windows_facts(guest(None, system("AMD64", select=2, control_set=2)))
    assert facts.architecture == "x86_64" and facts.virtio is False
    facts = windows_facts(guest(None, system("AMD64", select=3, control_set=2)))
    assert facts.architecture is None and facts.virtio is None
    assert any("ControlSet003 is missing" in n for n in facts.notes)


def test_cloudbase_service_key_alone_counts():
    services = {"cloudbase-init": {"Start": 2, "ImagePath": r"C:\Program Files\x.exe"}}
    assert windows_facts(guest(None, system(services=services))).cloud_init is True


def test_unknown_architecture_and_unreadable_hives():
    facts = windows_facts(guest(b"regf" + bytes(100), b"junk" * 2000))
    assert facts.os_type == "windows"
    assert facts.architecture is None and facts.virtio is None and facts.cloud_init is None
    assert any("SOFTWARE could not be read" in n and "truncated" in n for n in facts.notes)
    assert any("SYSTEM could not be read" in n and "not a registry hive" in n
               for n in facts.notes)
    facts = windows_facts(guest(None, system("IA64")))
    assert facts.architecture is None and any("'IA64'" in n for n in facts.notes)


def test_a_hive_truncated_inside_the_key_it_needs():
    whole = system(services=VIRTIO)
    outcomes = set()
    for cut in range(4096 + 64, len(whole), 97):
        facts = windows_facts(guest(None, whole[:cut], DRIVER_FILES))  # never an exception
        outcomes.add(facts.virtio)
        if facts.virtio is None:
            assert any("truncated" in n for n in facts.notes)
    assert None in outcomes


def test_a_dirty_hive_is_read_and_said_to_be_dirty():
    hive = bytearray(system("AMD64"))
    hive[8:12] = (2).to_bytes(4, "little")  # secondary sequence ahead: a write never finished
    facts = windows_facts(guest(None, bytes(hive)))
    assert facts.architecture == "x86_64"
    assert any("SYSTEM was not cleanly closed" in n for n in facts.notes)
