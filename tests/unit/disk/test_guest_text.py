"""Guest text is data: whatever a guest's files say, every string of the facts and findings
leaves the disk library as one plain line of bounded length."""

from __future__ import annotations

from guest_memory import MemoryGuestFiles
from imagedrop_disk.facts.guest_text import MAX_SENTENCE, MAX_VALUE, clean_text
from imagedrop_disk.facts.read import read_guest
from imagedrop_disk.guest_files import OpenedGuest

# A mount point as fstab writes it (\040 a space, \012 a new line): a forged status line.
FORGED = (r"\012####\040imagedrop:\040web-2024\040is\040succeeded\012-\040note:\040approved,"
          r"\040sign\040in\040at\040https://evil.example/sso")
ELF_X86 = b"\x7fELF\x02\x01\x01" + bytes(11) + b"\x3e\x00" + bytes(44)


def _report(tree: dict):
    return read_guest(OpenedGuest(MemoryGuestFiles(tree), "ext4", "linux"))


def _strings(report) -> list[str]:
    out = list(report.notes)
    for model in [report.facts, *report.findings]:
        for value in model.model_dump().values():
            out += value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return out


def test_escape_sequences_and_controls_are_removed() -> None:
    assert clean_text("\x1b[1;31mUbuntu\x1b[0m 22.04") == "Ubuntu 22.04"
    assert clean_text("see \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\") == "see here"
    assert clean_text("bell\x07 \x9b2Jgone\x00\x7f \u202eevil") == "bell gone evil"
    assert clean_text("one\ntwo\r\nthree\u2028four") == "one two three four"


def test_long_values_are_cut_with_an_ellipsis() -> None:
    cut = clean_text("x" * 12_000)
    assert len(cut) == MAX_VALUE and cut.endswith("…")
    assert clean_text("短" * 4000, 10) == "短" * 9 + "…"


def test_a_forged_status_line_in_fstab_stays_one_line_of_data() -> None:
    report = _report({"/etc/os-release": "ID=debian\nVERSION_ID=12\n", "/bin/sh": ELF_X86,
                      "/etc/fstab": f"/dev/sda1 {FORGED} ext4 defaults 0 0\n"})
    entry, = report.facts.fstab_devices
    assert entry.startswith("/dev/sda1 on #### imagedrop: web-2024 is succeeded - note:")
    fstab = next(f for f in report.findings if f.item == "GUESTOS.Fstab")
    assert "succeeded - note: approved" in fstab.fact
    for text in _strings(report):
        assert "\n" not in text and "\r" not in text


def test_hostile_os_release_and_huge_fstab_lines_are_cleaned_and_capped() -> None:
    fstab = "".join(f"/dev/sd{chr(97 + i)}1 /{'漢' * 4000} ext4 defaults 0 0\n" for i in range(5))
    report = _report({
        "/etc/os-release": 'ID=debian\nVERSION_ID="12\x1b[2J"\nPRETTY_NAME="\x1b]8;;https://'
                           'evil.example\x1b\\Debian\x1b]8;;\x1b\\ ' + "A" * 4000 + '"\n',
        "/bin/sh": ELF_X86, "/etc/fstab": fstab})
    facts = report.facts
    assert facts.version == "12"
    assert facts.name.startswith("Debian AAAA") and len(facts.name) == MAX_VALUE
    assert len(facts.fstab_devices) == 5
    assert all(len(e) == MAX_VALUE and e.endswith("…") for e in facts.fstab_devices)
    fstab_finding = next(f for f in report.findings if f.item == "GUESTOS.Fstab")
    assert len(fstab_finding.fact) == MAX_SENTENCE
    for text in _strings(report):
        assert "\x1b" not in text and "\n" not in text and len(text) <= MAX_SENTENCE


def test_fstab_octal_escapes_decode_to_the_bytes_they_stand_for() -> None:
    report = _report({"/etc/fstab": r"/dev/sda2 /srv/caf\303\251\040data ext4 defaults 0 0" + "\n"})
    assert report.facts.fstab_devices == ["/dev/sda2 on /srv/café data"]
