"""How much work one inspection may do, whatever the bytes.

Reads are bounded by the read budget, but a few reads can hold a directory of millions of
entries or a thousand symlinks that point at themselves: walking them costs CPU, not reads.
One `Work` meter goes with an inspection (the container and the guest's file systems and facts
alike) and counts what costs CPU — path lookups, symlinks followed, directory entries scanned,
bytes decompressed. Past a limit every further step raises `WorkExceeded`, which readers treat
like a spent read budget: the path is unreadable, the fact unknown, and the note says why.

A fact reader takes a `share` of what is left, so one hostile directory ends that fact, not
every fact read after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import WorkExceeded

MIB = 1024 * 1024


@dataclass(frozen=True)
class WorkLimits:
    """Each limit is over a hundred times what the guests of the test suite need (a few
    thousand entries, a few hundred lookups and tens of hops, under 1 MiB decompressed), and
    all of them spent together cost well under a second of CPU."""

    lookups: int = 20_000        # path components looked up in a directory
    hops: int = 2_000            # symlinks followed
    entries: int = 300_000       # directory entries parsed
    decoded: int = 64 * MIB      # bytes decompressed (container clusters and file-system data)


# What each counter counts, in a note's words.
COUNTED = {"lookups": "path lookups", "hops": "symlinks followed",
           "entries": "directory entries scanned", "decoded": "bytes decompressed"}


class Work:
    """The counters of one inspection and their ceilings."""

    def __init__(self, limits: WorkLimits | None = None):
        self.limits = limits or WorkLimits()
        self.spent: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self._ceiling: dict[str, int] = {k: getattr(self.limits, k) for k in COUNTED}
        self._floor: dict[str, int] = dict.fromkeys(COUNTED, 0)   # spent when the share began
        self._given_up: str | None = None
        self.refusals = 0                      # how many steps were refused
        self.last_refusal: str | None = None   # and why the last one was

    def charge(self, what: str, amount: int = 1) -> None:
        """Counts `amount` of `what` (a key of COUNTED); raises WorkExceeded past its ceiling."""
        if self._given_up is not None:
            self._refuse(self._given_up)
        self.spent[what] += amount
        if self.spent[what] > self._ceiling[what]:
            whole = self._ceiling[what] >= getattr(self.limits, what)
            reason = (f"gave up after {self._ceiling[what] - self._floor[what]:,} "
                      f"{COUNTED[what]}, "
                      + ("the most one inspection does" if whole else
                         "this fact's share of the inspection's work"))
            if whole:
                self._given_up = reason
            self._refuse(reason)

    def _refuse(self, reason: str) -> None:
        self.refusals += 1
        self.last_refusal = reason
        raise WorkExceeded(reason)

    @property
    def given_up(self) -> str | None:
        """Why the whole inspection stopped working, or None while work remains."""
        return self._given_up

    @contextmanager
    def share(self, fraction: float) -> Iterator[None]:
        """Within the block, each counter may spend only `fraction` of what is left of it."""
        saved, floor = dict(self._ceiling), dict(self._floor)
        for key in COUNTED:
            left = max(0, saved[key] - self.spent[key])
            self._ceiling[key] = self.spent[key] + int(left * fraction)
            self._floor[key] = self.spent[key]
        try:
            yield
        finally:
            self._ceiling, self._floor = saved, floor


def work_of(thing: object) -> Work:
    """The meter `thing` (a volume, a file system) carries; a fresh one when it has none."""
    work = getattr(thing, "work", None)
    return work if isinstance(work, Work) else Work()
