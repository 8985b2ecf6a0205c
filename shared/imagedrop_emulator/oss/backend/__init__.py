"""OSS state and rules: buckets, objects, uploads, storage classes and notifications. No HTTP."""

from .multipart import FakePart, FakeUpload
from .notify import NotificationRule
from .service import FakeBucket, FakeObject, ObjectSource, OssBackend

__all__ = ["FakeBucket", "FakeObject", "FakePart", "FakeUpload", "NotificationRule", "ObjectSource",
           "OssBackend"]
