"""Bounds the XFS and Btrfs readers add to the shared ones in `api`."""

MAX_READ = 16 * 1024 * 1024    # bytes one FileSystem.read call returns at most (holes included)
