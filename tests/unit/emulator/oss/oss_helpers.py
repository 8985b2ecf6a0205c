"""Constants and small helpers shared by the OSS emulator tests."""

from __future__ import annotations

from typing import Callable

import oss2

BUCKET = "drop-bucket"
REAL_ENDPOINT = "http://oss-cn-hangzhou.aliyuncs.com"

MakeBucket = Callable[..., oss2.Bucket]
