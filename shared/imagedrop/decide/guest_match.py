"""The manifest against what the system disk holds (pure: no I/O).

- `contradictions`: fields the manifest states that the disk's own files contradict (another
  OS, distribution or architecture). Only a fact read in the disk can contradict: an unknown
  (None) never does, and `Others Linux` / `Customized Linux` / `Other Windows` are taken as
  written.
- `fill_from_disk`: the fields the manifest left out (`os_type`, `platform`, `architecture`,
  `boot_mode`), each with where its value came from; a field the disk cannot tell is refused,
  naming it and saying to write it in the manifest. A field the disk contradicts itself on
  (several systems on it; programs and kernel built for different architectures) is refused
  too, naming both answers: the disk does not say which is meant.
- `preflight_refusals`: with `"preflight": "strict"`, every High risk the disk predicts for the
  image check, before anything reaches ECS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagedrop_disk.facts.model import Finding, GuestFacts
from imagedrop_disk.model import Inspection

from ..manifest import Manifest
from ..manifest.field_checks import platform_os_type
from ..model.status import Problem

# Platforms a person may choose for any guest of their OS: ECS imports them without a check
# of the distribution.
TAKEN_AS_WRITTEN = frozenset({"Others Linux", "Customized Linux", "Other Windows"})
# Pairs the os-release files do not tell apart reliably (CentOS 8 and CentOS Stream 8 share
# ID=centos; Fedora CoreOS is told only by VARIANT_ID).
NEAR = (frozenset({"CentOS", "CentOS Stream"}), frozenset({"Fedora", "Fedora CoreOS"}))


@dataclass(frozen=True)
class Filled:
    manifest: Manifest                                  # the left-out fields filled in
    filled: dict[str, dict[str, str | None]] = field(default_factory=dict)  # field -> value, from


def guest_of(system: Inspection) -> GuestFacts:
    return system.guest or GuestFacts()


def what_disk_holds(guest: GuestFacts) -> str:
    """The guest in a person's words: `Ubuntu 22.04.3 LTS (/etc/os-release ID=ubuntu)`."""
    if guest.os_type == "windows":
        return f"{guest.name or 'Windows'} (Windows registry ProductName)"
    if guest.distro:
        return f"{guest.name or guest.distro} (/etc/os-release ID={guest.distro})"
    return guest.os_type or "an unknown system"


def _platform_source(guest: GuestFacts) -> str:
    if guest.os_type == "windows":
        return f"disk: Windows registry ProductName {guest.name!r}"
    version = f" VERSION_ID={guest.version}" if guest.version else ""
    return f"disk: /etc/os-release ID={guest.distro}{version}"


def _architecture_source(guest: GuestFacts) -> str:
    if guest.os_type == "windows":
        return "disk: Windows registry (PROCESSOR_ARCHITECTURE)"
    return "disk: the ELF header of /bin/sh"


def _os_word(os_type: str) -> str:
    return "Windows" if os_type == "windows" else "Linux"


def contradictions(manifest: Manifest, system: Inspection) -> list[Problem]:
    """Every field the manifest states that the disk's files contradict."""
    guest = guest_of(system)
    problems: list[Problem] = []
    held = what_disk_holds(guest)
    if manifest.os_type and guest.os_type and manifest.os_type != guest.os_type:
        problems.append(Problem(
            where="os_type", rule=f"says {manifest.os_type} but the system disk holds {held}",
            fix=f"set os_type to {guest.os_type} and a {_os_word(guest.os_type)} platform, or "
                f"leave both out to take them from the disk, or upload the right disk"))
    platform_problem = _platform_contradiction(manifest, guest, held)
    if platform_problem and not problems:
        problems.append(platform_problem)
    if (manifest.architecture and guest.architecture
            and manifest.architecture not in (guest.architecture, guest.kernel_architecture)):
        source = _architecture_source(guest).removeprefix("disk: ")
        problems.append(Problem(
            where="architecture",
            rule=f"says {manifest.architecture} but the system disk's programs are built for "
                 f"{guest.architecture} ({source})",
            fix=f"set architecture to {guest.architecture}, or leave it out to take it from the "
                f"disk, or upload the {manifest.architecture} build of the disk"))
    return problems


def _platform_contradiction(manifest: Manifest, guest: GuestFacts, held: str) -> Problem | None:
    written = manifest.platform
    if not written or not guest.os_type:
        return None
    written_os = platform_os_type(written)
    if written_os != guest.os_type:
        return Problem(
            where="platform",
            rule=f"says {written}, a {_os_word(written_os)} platform, but the system disk holds "
                 f"{held}",
            fix=_platform_fix(guest, "upload the right disk"))
    if written in TAKEN_AS_WRITTEN or not guest.platform or guest.platform == "Others Linux":
        return None  # a distribution ECS lists no platform for may be called anything Linux
    held_platforms = [guest.platform] + [o.platform for o in guest.other_roots if o.platform]
    if any(written == p or {written, p} <= pair for p in held_platforms for pair in NEAR) \
            or written in held_platforms:
        return None
    return Problem(where="platform", rule=f"says {written} but the system disk holds {held}",
                   fix=_platform_fix(guest, f"write '{_other(guest)}' to import it as it is"))


def _other(guest: GuestFacts) -> str:
    return "Other Windows" if guest.os_type == "windows" else "Others Linux"


def _platform_fix(guest: GuestFacts, last: str) -> str:
    told = f"set platform to {guest.platform}, or " if guest.platform else ""
    return f"{told}leave it out to take it from the disk, or {last}"


def fill_from_disk(manifest: Manifest, system: Inspection) -> Filled | list[Problem]:
    """The manifest with its left-out fields read from the disk, or why they cannot be."""
    guest = guest_of(system)
    update: dict[str, str] = {}
    filled: dict[str, dict[str, str | None]] = {}
    problems: list[Problem] = []
    os_type = manifest.os_type
    if os_type is None:
        os_type, source = _os_type_from(manifest, guest, system)
        if os_type is None:
            problems.append(Problem(
                where="os_type", rule=f"is left out and the disk does not tell ({_why(guest)})",
                fix='write it in the manifest: "os_type": "linux" or "windows", with platform '
                    'and architecture'))
        else:
            update["os_type"], filled["os_type"] = os_type, {"value": os_type, "from": source}
    if manifest.platform is None and guest.other_roots and guest.platform:
        problems.append(_several_systems("platform", guest))
    elif manifest.platform is None:
        if guest.platform and (os_type is None or platform_os_type(guest.platform) == os_type):
            update["platform"] = guest.platform
            filled["platform"] = {"value": guest.platform, "from": _platform_source(guest)}
        else:
            example = "Windows Server 2022" if os_type == "windows" else "Ubuntu"
            problems.append(Problem(
                where="platform",
                rule=f"is left out and the disk does not say which OS it holds ({_why(guest)})",
                fix=f'write it in the manifest, e.g. "platform": "{example}", or '
                    f'"{_other(GuestFacts(os_type=os_type))}" for a system ECS does not list'))
    architecture = manifest.architecture or guest.architecture
    doubt = _architecture_doubt(guest)
    if manifest.architecture is None and doubt is not None:
        problems.append(doubt)
    elif manifest.architecture is None:
        if guest.architecture:
            update["architecture"] = guest.architecture
            filled["architecture"] = {"value": guest.architecture,
                                      "from": _architecture_source(guest)}
        else:
            problems.append(Problem(
                where="architecture",
                rule=f"is left out and the disk does not tell ({_why(guest, 'architecture')})",
                fix='write it in the manifest: "architecture": "x86_64", "arm64" or "i386"'))
    if manifest.boot_mode is None:
        filled["boot_mode"] = _boot_mode_source(architecture, system.boot_mode)
    problems += _license_problems(manifest, os_type, "os_type" in update)
    if problems:
        return problems
    return Filled(manifest.model_copy(update=update), filled)


def _several_systems(where: str, guest: GuestFacts) -> Problem:
    others = " and ".join(f"{o.name or o.distro or o.os_type or 'a system'} on {o.volume}"
                          for o in guest.other_roots)
    return Problem(
        where=where,
        rule=f"is left out and the system disk holds more than one system: "
             f"{what_disk_holds(guest)} on its largest root file system, and {others}",
        fix=f"write {where} in the manifest for the system that boots (and architecture), or "
            f"upload a disk that holds only that system")


def _architecture_doubt(guest: GuestFacts) -> Problem | None:
    """Why the disk's own architecture cannot be taken: several systems, or a kernel built for
    another architecture than the programs."""
    if guest.other_roots and guest.architecture:
        return _several_systems("architecture", guest)
    kernel = guest.kernel_architecture
    if not guest.architecture or not kernel or kernel == guest.architecture:
        return None
    return Problem(
        where="architecture",
        rule=f"is left out and the system disk contradicts itself: its programs are built for "
             f"{guest.architecture} ({_architecture_source(guest).removeprefix('disk: ')}) but "
             f"its kernel{' ' + guest.kernel if guest.kernel else ''} is built for {kernel}",
        fix=f'write it in the manifest ("architecture": "{kernel}" is what the kernel boots '
            f'as), or upload a disk whose kernel and programs match')


def _os_type_from(manifest: Manifest, guest: GuestFacts,
                  system: Inspection) -> tuple[str | None, str]:
    if manifest.platform:
        os_type = platform_os_type(manifest.platform)
        return os_type, f"manifest: platform {manifest.platform} is a {_os_word(os_type)} platform"
    if guest.os_type:
        return guest.os_type, ("disk: a Windows registry" if guest.os_type == "windows" else
                               "disk: a Linux root file system (/etc, /usr)")
    if system.os_type:
        return system.os_type, f"disk: the partition types are {_os_word(system.os_type)}'s"
    return None, ""


def _why(guest: GuestFacts, fact: str = "") -> str:
    """Why `fact` is unknown: a note about that fact, never one about another fact once the
    guest's files were read (a note about the guest as a whole otherwise)."""
    notes = [n for n in guest.notes if not fact or fact in n]
    if not notes and not guest.os_type:
        notes = guest.notes
    if notes:
        return notes[0]
    if fact and guest.os_type:
        return f"no {fact} could be read in the guest's files"
    return "no file system of the guest could be read"


def _boot_mode_source(architecture: str | None, detected: str | None) -> dict[str, str | None]:
    if architecture == "arm64":
        return {"value": "UEFI", "from": "architecture arm64 boots only with UEFI"}
    if detected == "UEFI":
        return {"value": "UEFI", "from": "disk: an EFI system partition and no BIOS boot code"}
    if detected == "BIOS":
        return {"value": "BIOS", "from": "disk: BIOS boot code and no EFI system partition"}
    if detected == "UEFI-Preferred":
        return {"value": "UEFI-Preferred",
                "from": "disk: boots both ways (an EFI system partition and BIOS boot code); "
                        "imported as BIOS, then set to UEFI-Preferred"}
    return {"value": None, "from": "the disk's partitions do not tell: no BootMode is sent and "
                                   "ECS imports it as BIOS"}


def _license_problems(manifest: Manifest, os_type: str | None, read: bool) -> list[Problem]:
    """The license rules, once the disk said which OS it is (the manifest checked them when it
    named the OS itself)."""
    if not read:
        return []
    if os_type == "windows" and not manifest.license_type:
        return [Problem(where="license_type", rule="is required: the system disk holds Windows",
                        fix="set it to Auto, Aliyun (licence billed by Alibaba Cloud) or BYOL "
                            "(your own licence)")]
    if os_type == "linux" and manifest.license_type:
        return [Problem(where="license_type", rule="applies only to windows images but the system "
                                                   "disk holds Linux", fix="remove it")]
    return []


def preflight_refusals(manifest: Manifest, findings: list[Finding]) -> list[Problem]:
    """With `"preflight": "strict"`, one problem per High finding."""
    if manifest.preflight != "strict":
        return []
    return [Problem(where=f"preflight: {f.item}",
                    rule=f"{f.fact} (a High risk for the image check)",
                    fix=f"{f.fix}; or set preflight to report to import the disk as it is")
            for f in findings if f.risk == "High"]

