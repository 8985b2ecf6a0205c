"""`inspect`: what a disk image is, how big, how it boots, which OS family, whether ECS can
import it, in a handful of small reads."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .errors import BudgetExceeded, CorruptImage, DiskError, GuestUnreadable
from . import qcow2, vhd, vmdk
from .cluster_map import BudgetedSource, GuestView, RawGuest
from .model import IMPORTABLE_FORMATS, MAX_VIRTUAL_SIZE, Inspection
from .partitions import Layout, read_layout
from .recognise import HEAD_BYTES, foreign, is_vhd_footer, refuse, sniff
from .source import ByteSource, CountingSource, FileSource

if TYPE_CHECKING:
    from .guest_files import OpenedGuest

TAIL_BYTES = 512
T = TypeVar("T")


@dataclass
class _Seen:
    """The guest view and layout `_through` read, for the guest phase to go on from."""

    guest: GuestView | None = None
    virtual_size: int = 0
    layout: Layout | None = None


def inspect_path(path: str | os.PathLike[str], *, guest: bool = True) -> Inspection:
    try:
        source = FileSource(path)
    except OSError as exc:
        raise DiskError(f"{os.fspath(path)}: cannot open the image ({exc.strerror or exc})") from None
    return inspect(source, guest=guest)


def inspect(source: ByteSource, *, guest: bool = True) -> Inspection:
    """The container, its partition layout and, unless `guest` is False, the guest's own files:
    their facts and the image-check findings they predict (`guest`, `findings`)."""
    if guest:
        return _with_guest_facts(source)
    counting = CountingSource(source)
    budget = BudgetedSource(counting)
    try:
        result = _inspect(budget, _Seen())
    except CorruptImage as exc:  # a table pointer outside the file before any guest read
        raise DiskError(str(exc)) from None
    return result.model_copy(update={"bytes_read": counting.bytes_read, "reads": counting.reads})


def inspect_with_guest(source: ByteSource,
                       use: Callable[[OpenedGuest], T]) -> tuple[Inspection, T | None]:
    """`inspect`, then the guest's own files: `use` gets them (open_guest's answer) and reads
    what it needs while the budget of the whole inspection (container and guest together)
    holds; its result comes back with the inspection, whose reads and bytes count both phases.
    `use` is not called when the guest's bytes could not be reached (no layout was read)."""
    from .guest_files import open_guest

    counting = CountingSource(source)
    budget = BudgetedSource(counting)
    seen = _Seen()
    try:
        result = _inspect(budget, seen)
    except CorruptImage as exc:
        raise DiskError(str(exc)) from None
    value: T | None = None
    if seen.guest is not None and seen.layout is not None:
        budget.enter_guest_phase()
        value = use(open_guest(seen.guest.read, seen.virtual_size, seen.layout.spans,
                               seen.layout.extended_lba, budget.work))
    return (result.model_copy(update={"bytes_read": counting.bytes_read,
                                      "reads": counting.reads}), value)


def _with_guest_facts(source: ByteSource) -> Inspection:
    from .facts.read import read_guest  # the fact readers load only when a guest is read

    result, report = inspect_with_guest(source, read_guest)
    if report is None:
        return result
    update: dict[str, object] = {"guest": report.facts, "findings": report.findings}
    if report.facts is None:
        earlier = result.details.get("notes")
        notes = (list(earlier) if isinstance(earlier, list) else []) + report.notes
        update["details"] = {**result.details, "notes": notes}
    return result.model_copy(update=update)


def _inspect(src: BudgetedSource, seen: _Seen) -> Inspection:
    size = src.size
    if size == 0:
        return Inspection(format="raw", virtual_size=0, file_size=0, importable=False,
                          problems=["the file is empty (0 bytes): upload the disk image itself"])
    head = src.read(0, HEAD_BYTES)
    refusal = foreign(head)
    if refusal:
        raise DiskError(refusal)
    fmt, tail = sniff(head), b""
    if fmt is None and size >= 1024 and size % 512 == 0:
        tail = src.read(size - TAIL_BYTES, TAIL_BYTES)  # a fixed VHD's only footer
        fmt = "vhd" if is_vhd_footer(tail) else None
    if fmt in ("vhdx", "vdi", "iso"):
        refusal = refuse(fmt, head, src)
        return Inspection(format=fmt, virtual_size=refusal.virtual_size, file_size=size,
                          importable=False, problems=[refusal.problem], details=refusal.details)
    if fmt == "vmdk-descriptor":
        desc = vmdk.parse_descriptor(head)
        return Inspection(format="vmdk", virtual_size=desc.virtual_size, file_size=size,
                          importable=False, problems=[vmdk.descriptor_blocker(desc)],
                          details={"subformat": desc.create_type, "extents": len(desc.extents)})
    if fmt == "qcow2":
        hdr = qcow2.parse_header(head, src)
        return _through(src, "qcow2", hdr.virtual_size, lambda: qcow2.Qcow2Guest(src, hdr),
                        qcow2.blockers(hdr), qcow2.details(hdr), seen)
    if fmt == "vmdk":
        vh = vmdk.parse_sparse(head, src)
        return _through(src, "vmdk", vh.capacity_sectors * 512, lambda: vmdk.VmdkGuest(src, vh),
                        vmdk.blockers(vh), vmdk.details(vh), seen)
    if fmt == "vhd":
        return _vhd(src, head, tail, seen)
    if size % 512:
        raise DiskError(f"not a disk image: the first bytes match no known format (qcow2, vmdk, "
                        f"vhd, vhdx, vdi, iso) and the file is {size} bytes, "
                        + ("too small to be a raw disk" if size < 512 else
                           "not a multiple of 512 as a raw disk must be"))
    return _through(src, "raw", size, lambda: RawGuest(src, size), [], {}, seen)


def _vhd(src: BudgetedSource, head: bytes, tail: bytes, seen: _Seen) -> Inspection:
    dynamic = head[:8] == vhd.COOKIE
    footer = vhd.parse_footer(head[:512] if dynamic else tail)
    if dynamic and footer.disk_type != vhd.TYPE_FIXED:
        footer.ended = src.read(max(0, src.size - TAIL_BYTES), TAIL_BYTES)[:8] == vhd.COOKIE
    blockers = vhd.blockers(footer)
    if footer.disk_type == vhd.TYPE_FIXED:
        data_size = src.size - 512
        make = lambda: RawGuest(src, min(footer.virtual_size, data_size))  # noqa: E731
        return _through(src, "vhd", footer.virtual_size, make, blockers,
                        vhd.details(footer, None), seen)
    if blockers:
        return _verdict("vhd", footer.virtual_size, src.size, blockers, Layout(),
                        vhd.details(footer, None))
    try:
        dyn = vhd.parse_dynamic(src, footer)
    except CorruptImage as exc:
        return _verdict("vhd", footer.virtual_size, src.size, [str(exc)], Layout(),
                        vhd.details(footer, None))
    return _through(src, "vhd", footer.virtual_size, lambda: vhd.VhdGuest(src, footer, dyn),
                    blockers, vhd.details(footer, dyn), seen)


def _through(src: BudgetedSource, fmt: str, virtual_size: int,
             make_guest: Callable[[], GuestView], blockers: list[str],
             details: dict[str, object], seen: _Seen) -> Inspection:
    """Reads the guest's partition layout through the container, unless a blocker forbids."""
    layout = Layout()
    problems = list(blockers)
    encrypted = bool(details.get("encrypted"))
    if not encrypted and virtual_size > 0:
        try:
            guest: GuestView = make_guest()
            layout = read_layout(guest.read, virtual_size)
            seen.guest, seen.virtual_size, seen.layout = guest, virtual_size, layout
        except (GuestUnreadable, BudgetExceeded) as exc:
            details = {**details, "guest_view": "unknown"}
            layout.notes.append(f"guest view unknown: {exc}")
        except CorruptImage as exc:
            problems.append(f"{fmt}: {exc}; re-create or re-upload the image")
    return _verdict(fmt, virtual_size, src.size, problems, layout, details)


def _verdict(fmt: str, virtual_size: int, file_size: int, problems: list[str], layout: Layout,
             details: dict[str, object]) -> Inspection:
    problems = problems + layout.problems
    if virtual_size <= 0:
        problems.append(f"{fmt} virtual size is {virtual_size} bytes: the image is empty or its "
                        f"header is corrupt")
    if virtual_size > MAX_VIRTUAL_SIZE:
        problems.append(f"virtual size {virtual_size / 1024**3:.0f} GiB is over the 2048 GiB "
                        f"that ECS imports: shrink the disk (partitions, then qemu-img resize "
                        f"--shrink) and import again")
    details = dict(details)
    if layout.partitions:
        details["partitions"] = layout.partitions
    if layout.notes:
        details["notes"] = layout.notes
    return Inspection(format=fmt, virtual_size=max(0, virtual_size), file_size=file_size,
                      partition_table=layout.partition_table, boot_mode=layout.boot_mode,
                      os_type=layout.os_type, importable=fmt in IMPORTABLE_FORMATS and not problems,
                      problems=problems, details=details)
