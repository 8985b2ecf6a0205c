#!/usr/bin/env bash
# Builds web.qcow2, the sample disk `imagedrop local demo` imports: a 64 MiB GPT disk with a BIOS
# boot partition, an EFI system partition (FAT32) and a Linux root (ext4), so it boots both ways.
# Needs qemu-utils, gdisk, dosfstools, e2fsprogs.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
raw=$tmp/web.raw
truncate -s 64M "$raw"
sgdisk -Z -n1:2048:+1M -t1:EF02 -c1:bios -n2:0:+16M -t2:EF00 -c2:esp -n3:0:0 -t3:8300 -c3:root "$raw" >/dev/null
# Filesystems go in at their partition offsets (no loop devices needed).
esp_start=$(sgdisk -i2 "$raw" | awk '/First sector/{print $3}')
root_start=$(sgdisk -i3 "$raw" | awk '/First sector/{print $3}')
root_end=$(sgdisk -i3 "$raw" | awk '/Last sector/{print $3}')
mkfs.vfat -F 32 -C "$tmp/esp.img" $((16 * 1024)) >/dev/null
dd if="$tmp/esp.img" of="$raw" bs=512 seek="$esp_start" conv=notrunc status=none
truncate -s $(((root_end - root_start + 1) * 512)) "$tmp/root.img"
mkfs.ext4 -q -F -L root -E root_owner=0:0 "$tmp/root.img"
dd if="$tmp/root.img" of="$raw" bs=512 seek="$root_start" conv=notrunc status=none
qemu-img convert -f raw -O qcow2 -c "$raw" web.qcow2
qemu-img info web.qcow2
