"""ImportImage of an Archive object that was not restored answers InvalidOSSObject.NeedRestore,
as ECS does; once restored, the same import is accepted. The real ECS SDK, in-process."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import BUCKET, disk_bytes, import_request, real_oss_available

from imagedrop_emulator import FakeCloud

pytestmark = pytest.mark.skipif(not real_oss_available(), reason="needs the fake OSS")


def test_an_archived_disk_needs_a_restore_first(ecs: Client, mocked: FakeCloud) -> None:
    mocked.oss.put_object(BUCKET, "cold.qcow2", disk_bytes("mbr-linux.qcow2"),
                          headers={"x-oss-storage-class": "Archive"})
    with pytest.raises(ClientException) as err:
        ecs.import_image(import_request("cold.qcow2", name="cold-1"))
    assert (err.value.status_code, err.value.code) == (400, "InvalidOSSObject.NeedRestore")
    assert "oss://images/cold.qcow2 is Archive" in err.value.message
    assert mocked.ecs.tasks == {}
    assert mocked.oss.restore_object(BUCKET, "cold.qcow2", b"") == 202
    mocked.clock.advance(61)
    assert ecs.import_image(import_request("cold.qcow2", name="cold-1")).body.task_id
