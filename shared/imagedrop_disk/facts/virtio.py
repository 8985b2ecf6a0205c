"""Virtio as the ECS image check sees it: the disk driver (virtio_blk) must be in the kernel or
loadable from the initramfs when the system disk is looked for; the network driver (virtio_net)
may load later from the root file system."""

from __future__ import annotations

from dataclasses import dataclass

from ..fs.api import GuestFiles
from .initramfs import INITRDS, InInitramfs, from_initrd, generator_answer
from .kernels import builtin_modules

BLOCK_DIR = "kernel/drivers/block/"


@dataclass(frozen=True)
class Virtio:
    value: bool | None
    because: str | None      # what decided it, for the finding and the notes
    needs_initrd: bool = False  # only the initramfs's own contents can decide


def virtio_from_config(files: GuestFiles, kernel: str,
                       drivers: dict[str, bool | None]) -> Virtio:
    """The answer from the kernel's lists and the initramfs generator's configuration."""
    blk, net = drivers.get("virtio_blk"), drivers.get("virtio_net")
    missing = [n for n, v in (("virtio_blk", blk), ("virtio_net", net)) if v is False]
    if missing:
        return Virtio(False, f"kernel {kernel} has no {' or '.join(missing)} (neither built in "
                             f"nor a module)")
    if blk is None or net is None:
        return Virtio(None, None)
    if "virtio_blk" in (builtin_modules(files, kernel) or set()):
        return Virtio(True, f"virtio_blk is built into kernel {kernel}")
    configured, answer = generator_answer(files, "virtio_blk")
    if not configured:
        return Virtio(True, f"virtio_blk is a module of kernel {kernel}; no initramfs-tools or "
                            f"dracut configuration says which modules its initramfs takes")
    in_boot = files.listdir("/boot")
    if in_boot is None:
        return Virtio(None, "/boot cannot be listed, so whether an initramfs loads virtio_blk "
                            "is unknown")
    if not {p.format(v=kernel).removeprefix("/boot/") for p in INITRDS} & set(in_boot):
        return Virtio(False, f"virtio_blk is a module of kernel {kernel} and no initramfs for "
                             f"that kernel is in /boot to load it at boot")
    if answer is None:
        return Virtio(None, None, needs_initrd=True)
    return _said(answer)


def virtio_from_initrd(files: GuestFiles, kernel: str, budget: int) -> Virtio:
    """The initramfs's table of contents, for a generator whose configuration does not say
    (initramfs-tools MODULES=dep, dracut hostonly)."""
    answer = from_initrd(files, kernel, "virtio_blk", BLOCK_DIR, budget)
    if answer is None:
        return Virtio(None, None)
    return _said(answer)


def _said(answer: InInitramfs) -> Virtio:
    if answer.loadable is None:
        return Virtio(None, f"virtio_blk in the initramfs is unknown: {answer.because}")
    word = "loadable from the initramfs" if answer.loadable else "not in the initramfs"
    return Virtio(answer.loadable, f"virtio_blk is {word}: {answer.because}")
