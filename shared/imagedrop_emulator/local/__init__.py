"""The pipeline on the local emulator: two functions wired to OSS notifications and the MNS
queue exactly as the cloud wires them (the handlers receive the same bytes)."""

from .limits import FunctionLimits, FunctionTimeout
from .runtime import LocalStack, StackInfo, StackSettingError

__all__ = ["FunctionLimits", "FunctionTimeout", "LocalStack", "StackInfo", "StackSettingError"]
