"""imagedrop: drop a disk image and its sidecar manifest into OSS, get a checked ECS custom image."""

__version__ = "0.1.0"
