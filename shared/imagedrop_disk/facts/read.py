"""From the opened guest to its facts and findings: the one place that picks the reader of
facts by what the root file system holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .findings import findings_for
from .guest_text import clean_model, clean_notes
from .linux import linux_facts
from .model import Finding, GuestFacts
from .other_roots import other_roots
from .windows import windows_facts

if TYPE_CHECKING:
    from ..guest_files import OpenedGuest

# A bug in a fact reader on hostile bytes must not end the inspection: the guest is then unknown.
_FACT_BUGS = (ValueError, IndexError, KeyError, TypeError, UnicodeError, RecursionError,
              OverflowError)


@dataclass
class GuestReport:
    facts: GuestFacts | None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # why facts is None


def read_guest(opened: OpenedGuest) -> GuestReport:
    """The guest's facts and findings, every string of them cleaned (see guest_text)."""
    report = _read(opened)
    facts = clean_model(report.facts) if report.facts is not None else None
    findings = findings_for(facts) if facts is not None else []
    return GuestReport(facts, [clean_model(f) for f in findings], clean_notes(report.notes))


def _read(opened: OpenedGuest) -> GuestReport:
    if opened.files is None:
        return GuestReport(None, notes=list(opened.notes) or
                           ["no file system of the guest could be read"])
    before = list(opened.notes)
    try:
        facts = _facts(opened)
    except _FACT_BUGS as exc:
        return GuestReport(None, notes=before + [f"the guest's facts cannot be read "
                                                 f"({type(exc).__name__}: {str(exc)[:200]})"])
    others, said = other_roots(opened)
    return GuestReport(facts.model_copy(update={"notes": before + said + facts.notes,
                                                "other_roots": others}))


def _facts(opened: OpenedGuest) -> GuestFacts:
    assert opened.files is not None
    if opened.os_type == "windows":
        facts = windows_facts(opened.files)
        return facts.model_copy(update={"root_fs": opened.root_fs or facts.root_fs})
    return linux_facts(opened.files, opened.root_fs)
