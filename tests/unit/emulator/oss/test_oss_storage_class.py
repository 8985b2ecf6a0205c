"""Storage classes and RestoreObject, as real oss2 sees them: the class set on PUT, copy and
multipart upload comes back on HEAD, GET and listings; an Archive or ColdArchive object is
refused 403 InvalidObjectState until restored (x-oss-restore: ongoing-request="true", then
"false" with its expiry-date), and again once the restored copy expires. Emulated time drives
the restore; nothing waits."""

from __future__ import annotations

import oss2
import pytest
from oss2.models import RestoreConfiguration, RestoreJobParameters
from oss_helpers import BUCKET

from imagedrop_emulator import FakeCloud

ARCHIVE = {"x-oss-storage-class": "Archive"}


def test_the_storage_class_comes_back_on_head_get_and_list(bucket: oss2.Bucket) -> None:
    bucket.put_object("std.bin", b"s")
    bucket.put_object("ia.bin", b"i", headers={"x-oss-storage-class": "IA"})
    bucket.put_object("arch.bin", b"a", headers=ARCHIVE)
    assert bucket.head_object("std.bin").headers["x-oss-storage-class"] == "Standard"
    assert bucket.get_object("ia.bin").headers["x-oss-storage-class"] == "IA"
    assert bucket.head_object("arch.bin").headers["x-oss-storage-class"] == "Archive"
    assert "x-oss-restore" not in bucket.head_object("arch.bin").headers
    listed = {o.key: o.storage_class for o in oss2.ObjectIterator(bucket)}
    assert listed == {"arch.bin": "Archive", "ia.bin": "IA", "std.bin": "Standard"}
    assert {o.key: o.storage_class for o in oss2.ObjectIteratorV2(bucket)} == listed


def test_an_archived_object_is_refused_until_restored(bucket: oss2.Bucket,
                                                      cloud: FakeCloud) -> None:
    bucket.put_object("disk.qcow2", b"q" * 4096, headers=ARCHIVE)
    for read in (lambda: bucket.get_object("disk.qcow2"),
                 lambda: bucket.get_object("disk.qcow2", byte_range=(0, 511))):
        with pytest.raises(oss2.exceptions.ServerError) as err:
            read()
        assert (err.value.status, err.value.code) == (403, "InvalidObjectState")
        assert err.value.details["Key"] == "disk.qcow2"
    assert bucket.restore_object("disk.qcow2").status == 202
    assert bucket.head_object("disk.qcow2").headers["x-oss-restore"] == 'ongoing-request="true"'
    with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress):
        bucket.restore_object("disk.qcow2")
    with pytest.raises(oss2.exceptions.ServerError) as still:
        bucket.get_object("disk.qcow2")
    assert still.value.code == "InvalidObjectState"
    cloud.clock.advance(61)                      # an Archive restore takes a minute here
    restored = bucket.head_object("disk.qcow2").headers["x-oss-restore"]
    assert restored.startswith('ongoing-request="false", expiry-date="')
    assert restored.endswith(' GMT"')
    assert bucket.get_object("disk.qcow2", byte_range=(0, 3)).read() == b"qqqq"
    assert bucket.restore_object("disk.qcow2").status == 200   # extends the restored copy
    cloud.clock.advance(86400 + 1)               # Days=1: the restored copy is gone again
    assert "x-oss-restore" not in bucket.head_object("disk.qcow2").headers
    with pytest.raises(oss2.exceptions.ServerError) as again:
        bucket.get_object("disk.qcow2")
    assert again.value.code == "InvalidObjectState"


def test_cold_archive_restores_by_tier_and_days(bucket: oss2.Bucket, cloud: FakeCloud) -> None:
    bucket.put_object("cold.bin", b"c", headers={"x-oss-storage-class": "ColdArchive"})
    expedited = RestoreJobParameters(oss2.models.RESTORE_TIER_EXPEDITED)
    config = RestoreConfiguration(days=2, job_parameters=expedited)
    assert bucket.restore_object("cold.bin", input=config).status == 202
    cloud.clock.advance(3599)
    assert bucket.head_object("cold.bin").headers["x-oss-restore"] == 'ongoing-request="true"'
    cloud.clock.advance(2)
    assert bucket.get_object("cold.bin").read() == b"c"
    cloud.clock.advance(2 * 86400)
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.get_object("cold.bin")


def test_restore_refusals(bucket: oss2.Bucket) -> None:
    bucket.put_object("std.bin", b"s")
    with pytest.raises(oss2.exceptions.OperationNotSupported):
        bucket.restore_object("std.bin")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.restore_object("missing.bin")
    bucket.put_object("arch.bin", b"a", headers=ARCHIVE)
    with pytest.raises(oss2.exceptions.ServerError) as days:
        bucket.restore_object("arch.bin", input=RestoreConfiguration(days=8))
    assert (days.value.status, days.value.code) == (400, "InvalidArgument")
    with pytest.raises(oss2.exceptions.ServerError) as bad:
        bucket.put_object("x.bin", b"x", headers={"x-oss-storage-class": "Glacier"})
    assert bad.value.code == "InvalidArgument" and "x-oss-storage-class" in bad.value.message


def test_copy_sets_the_class_and_cannot_read_a_frozen_source(bucket: oss2.Bucket,
                                                             cloud: FakeCloud) -> None:
    bucket.put_object("std.bin", b"s")
    bucket.copy_object(BUCKET, "std.bin", "to-archive.bin", headers=ARCHIVE)
    assert bucket.head_object("to-archive.bin").headers["x-oss-storage-class"] == "Archive"
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.copy_object(BUCKET, "to-archive.bin", "back.bin",
                           headers={"x-oss-storage-class": "Standard"})
    assert err.value.code == "InvalidObjectState"
    bucket.restore_object("to-archive.bin")
    cloud.clock.advance(61)
    bucket.copy_object(BUCKET, "to-archive.bin", "back.bin",
                       headers={"x-oss-storage-class": "Standard"})
    assert bucket.get_object("back.bin").read() == b"s"
    assert bucket.head_object("back.bin").headers["x-oss-storage-class"] == "Standard"


def test_multipart_upload_keeps_the_class_of_its_initiation(bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload(
        "mp.bin", headers={"x-oss-storage-class": "ColdArchive"}).upload_id
    part = bucket.upload_part("mp.bin", upload_id, 1, b"m" * 10)
    bucket.complete_multipart_upload("mp.bin", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.head_object("mp.bin").headers["x-oss-storage-class"] == "ColdArchive"
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.get_object("mp.bin")
    assert err.value.code == "InvalidObjectState"
