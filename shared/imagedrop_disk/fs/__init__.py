"""Read-only file-system readers over a volume's bytes (a partition or a logical volume)."""
