"""The local OSS: buckets and objects behind the real OSS wire protocol (XML, V1/V4 signatures)."""

from .backend import FakeBucket, FakeObject, FakePart, FakeUpload, NotificationRule, ObjectSource, OssBackend
from .wire import OssWire

__all__ = ["FakeBucket", "FakeObject", "FakePart", "FakeUpload", "NotificationRule",
           "ObjectSource", "OssBackend", "OssWire"]
