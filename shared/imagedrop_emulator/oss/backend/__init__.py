"""OSS state and rules: buckets, objects, uploads, storage classes and notifications. No HTTP."""

from .notify import NotificationRule
from .objects import FakeBucket, FakeObject, FakePart, FakeUpload, ObjectSource
from .service import OssBackend

__all__ = ["FakeBucket", "FakeObject", "FakePart", "FakeUpload", "NotificationRule", "ObjectSource",
           "OssBackend"]
