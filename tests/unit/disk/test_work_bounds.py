"""Work is bounded whatever the bytes: a guest built to make a reader walk without end (made by
tests/fixtures/guests/make_hostile_work.sh) is inspected within the inspection's work limits,
in well under 2 s of CPU and 100 MiB, and the facts it kept from being read are null with a note
that names the fact and why."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from guest_helpers import GUESTS, guest_bytes
from imagedrop_disk import BytesSource
from imagedrop_disk.facts.read import read_guest
from imagedrop_disk.inspect import inspect_with_guest
from imagedrop_disk.errors import WorkExceeded
from imagedrop_disk.work import Work, WorkLimits

MIB = 1024 * 1024

_MEASURE = """
import gzip, json, resource, sys, time
from imagedrop_disk import BytesSource, inspect
data = gzip.decompress(open(sys.argv[1], "rb").read())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.process_time()
result = inspect(BytesSource(data))
cpu = time.process_time() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"cpu": cpu, "growth_kib": after - before, "distro": result.guest.distro}))
"""


def _inspect(name: str):
    seen = {}

    def use(opened):
        seen["work"] = opened.files.work
        return read_guest(opened)

    _, report = inspect_with_guest(BytesSource(guest_bytes(name)), use)
    return report.facts, seen["work"]


def _within_limits(work: Work) -> None:
    for counter, spent in work.spent.items():
        # A refused step is counted before it is refused: at most one step over.
        assert spent <= getattr(WorkLimits(), counter) + 4096, (counter, spent)


@pytest.mark.parametrize("name", ["hostile-modloop.qcow2", "hostile-bigetc.qcow2"])
def test_a_hostile_guest_ends_in_bounded_cpu_and_memory(name: str) -> None:
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(GUESTS / f"{name}.gz")],
                          capture_output=True, text=True, check=True, timeout=120)
    seen = json.loads(done.stdout)
    assert seen["cpu"] <= 2.0, seen           # unbounded, these took 53 s and 14 s
    assert seen["growth_kib"] * 1024 < 100 * MIB, seen


def test_1024_self_links_in_lib_modules_cost_the_kernel_fact_only() -> None:
    facts, work = _inspect("hostile-modloop.qcow2")
    _within_limits(work)
    assert work.spent["entries"] < WorkLimits().entries      # one fact's share, not the whole
    assert facts.kernel is None and facts.virtio is None
    assert any(n.startswith("kernel: not read: gave up after ") and "directory entries" in n
               for n in facts.notes), facts.notes
    # What does not go through /lib/modules is still read.
    assert (facts.distro, facts.architecture, facts.fstab_root) == ("debian", "x86_64", "uuid")


def test_a_two_million_entry_etc_with_symlink_loops_gives_named_nulls() -> None:
    facts, work = _inspect("hostile-bigetc.qcow2")
    _within_limits(work)
    for fact in ("distro", "fstab_root", "cloud_init", "selinux", "dhcp"):
        assert getattr(facts, fact) is None
        assert any(n.startswith(f"{fact}: not read: gave up after ") for n in facts.notes), fact
    assert facts.architecture == "x86_64"       # /bin/sh is not under /etc


def test_a_share_ends_one_fact_and_leaves_the_rest() -> None:
    work = Work(WorkLimits(lookups=100))
    with work.share(0.5):
        work.charge("lookups", 50)
        with pytest.raises(WorkExceeded, match="gave up after 50 path lookups, this fact's share"):
            work.charge("lookups")
    assert work.given_up is None
    work.charge("lookups", 49)
    with pytest.raises(WorkExceeded, match="gave up after 100 path lookups, the most one "
                                           "inspection does"):
        work.charge("lookups")
    with pytest.raises(WorkExceeded):
        work.charge("entries")       # once the whole inspection gave up, every step is refused
    assert work.refusals == 3
