"""The README's generated sections: manifest reference, a sample notification, error table.

    python -m imagedrop.docs --write README.md     # refresh them
    python -m imagedrop.docs --check README.md     # exit 1 when they are stale (CI runs a test)
"""

from __future__ import annotations

import json
import re
import sys

from .manifest import render_manifest_reference
from .notify import cloudevent
from imagedrop_disk.facts.model import Finding, GuestFacts

from .model.status import CheckItem, Event, StatusRecord
from .decide.error_advice import ERROR_ADVICE

_BLOCK = re.compile(r"(<!-- BEGIN (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- END (?P=name) -->)", re.S)


def manifest_section() -> str:
    text = render_manifest_reference()
    # The README has its own headings; drop the page title and the generation note.
    body = text.split("\n", 4)[4] if text.startswith("# ") else text
    return body.replace("\n## ", "\n#### ").replace("\n### ", "\n##### ").strip() + "\n"


def sample_event() -> dict[str, object]:
    at = "2026-11-25T09:41:07Z"
    record = StatusRecord(
        id="idp-4f1c0a9e2b7d4c16a8e0f3b5d2c7a1e9b6d4f0c3", state="succeeded", bucket="imagedrop-images",
        manifest="incoming/web-2026.11.qcow2.json", region="cn-hangzhou",
        image_id="m-bp1c9yq3k6x2a7d0e5hf", image_name="web-2026.11", task_id="t-bp18e2vq0c5n7m3x1w4z",
        progress="100%", fixes=["BootMode set to UEFI-Preferred (was BIOS): the disk has both a BIOS "
                                "boot path and an EFI system partition"],
        advice=["image check GUESTOS.CloudInit (Medium, CloudInit.NotInstalled): install cloud-init"],
        copies={"ap-northeast-1": {"image_id": "m-6we2k1d8s3f9a0c4b7x5", "status": "Available"}},
        history=[Event(at=at, state="succeeded", note="image m-bp1c9yq3k6x2a7d0e5hf is ready in "
                                                        "cn-hangzhou, ap-northeast-1")],
        filled={"platform": {"value": "Ubuntu", "from": "disk: /etc/os-release ID=ubuntu "
                                                        "VERSION_ID=22.04"},
                "architecture": {"value": "x86_64", "from": "disk: the ELF header of /bin/sh"}},
        guest=GuestFacts(os_type="linux", distro="ubuntu", version="22.04",
                         name="Ubuntu 22.04.4 LTS", architecture="x86_64", platform="Ubuntu",
                         kernel="5.15.0-105-generic", root_fs="ext4", virtio=True,
                         virtio_source="virtio_blk is loadable from the initramfs: "
                                       "initramfs-tools builds with MODULES=most",
                         nvme=True,
                         cloud_init=False, fstab_root="uuid", fstab_devices=[], dhcp=True,
                         mac_pinned=False, serial_console=True),
        findings=[Finding(item="GUESTOS.CloudInit", risk="Medium",
                          fact="cloud-init is not installed, or it is disabled",
                          fix="install cloud-init (and growpart) and enable it")],
        check=[CheckItem(item="GUESTOS.Virtio", predicted="none", actual="none", value="Supported",
                         agree=True),
               CheckItem(item="GUESTOS.CloudInit", predicted="Medium", actual="Medium",
                         value="NotInstalled", agree=True)],
        created_at="2026-11-25T09:02:44Z", updated_at=at)
    return cloudevent(record, source="acs:oss:cn-hangzhou:1234567890123456:imagedrop-images", now=0)


def cloudevent_section() -> str:
    return "```json\n" + json.dumps(sample_event(), indent=2, ensure_ascii=False) + "\n```\n"


def troubleshooting_section() -> str:
    lines = ["| Code | What to do |", "|---|---|"]
    for code, advice in ERROR_ADVICE.items():
        lines.append(f"| `{code}` | {advice.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


SECTIONS = {"manifest-reference": manifest_section, "sample-cloudevent": cloudevent_section,
            "troubleshooting": troubleshooting_section}


def refresh(text: str) -> str:
    def fill(match: re.Match[str]) -> str:
        render = SECTIONS.get(match["name"])
        return match.group(0) if render is None else match.group(1) + render() + match.group(4)
    return _BLOCK.sub(fill, text)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("--write", "--check"):
        print("usage: python -m imagedrop.docs --write|--check README.md", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        text = f.read()
    fresh = refresh(text)
    if argv[0] == "--check":
        if fresh != text:
            print(f"{argv[1]}: generated sections are stale; run python -m imagedrop.docs --write {argv[1]}",
                  file=sys.stderr)
            return 1
        return 0
    with open(argv[1], "w", encoding="utf-8") as f:
        f.write(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
