"""ImportImage refusals: the code, HTTP status and message real ECS answers, through the real SDK."""

from __future__ import annotations

from typing import Callable

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import BUCKET, disk_bytes, import_request

from imagedrop_emulator import FakeCloud


def disk(key: str = "linux.qcow2", **kw: object) -> m.ImportImageRequestDiskDeviceMapping:
    return m.ImportImageRequestDiskDeviceMapping(ossbucket=kw.pop("bucket", BUCKET), ossobject=key, **kw)


def refused(ecs: Client, request: m.ImportImageRequest) -> ClientException:
    with pytest.raises(ClientException) as err:
        ecs.import_image(request)
    return err.value


Setup = Callable[[FakeCloud], None]


def nothing(cloud: FakeCloud) -> None:
    pass


CASES: list[tuple[str, Setup, m.ImportImageRequest, int, str, str]] = [
    ("no region", nothing, m.ImportImageRequest(disk_device_mapping=[disk()]), 400,
     "MissingParameter", '"RegionId"'),
    ("no disk", nothing, m.ImportImageRequest(region_id="cn-hangzhou", image_name="abc"), 403,
     "MissingParameter.DiskDeviceMapping", "DiskDeviceMapping.1"),
    ("no object", nothing, m.ImportImageRequest(region_id="cn-hangzhou", disk_device_mapping=[
        m.ImportImageRequestDiskDeviceMapping(ossbucket=BUCKET)]), 400, "MissingParameter",
     '"DiskDeviceMapping.1.OSSObject"'),
    ("name starts with digit", nothing, import_request(name="1web"), 400, "InvalidImageName.Malformed", "'1web'"),
    ("name aliyun", nothing, import_request(name="aliyun-img"), 400, "InvalidImageName.Malformed", "aliyun"),
    ("name with space", nothing, import_request(name="web image"), 400, "InvalidImageName.Malformed", "letters"),
    ("description url", nothing, import_request(description="https://x"), 400,
     "InvalidDescription.Malformed", "http"),
    ("architecture", nothing, import_request(architecture="sparc"), 400, "InvalidArchitecture.Malformed", "'sparc'"),
    ("platform", nothing, import_request(platform="Windows 95"), 400, "InvalidPlatform.Malformed", "Windows 95"),
    ("ostype", nothing, import_request(ostype="mac"), 400, "InvalidOSType.Malformed", "'mac'"),
    ("arm64 bios", nothing, import_request(architecture="arm64", boot_mode="BIOS"), 400,
     "InvalidBootMode.NotSupport", "UEFI"),
    ("size zero", nothing, import_request(size=0), 400, "InvalidImageSize", "1-2048"),
    ("size too big", nothing, import_request(size=4096), 400, "InvalidImageSize", "1-2048"),
    ("data disk size", nothing, m.ImportImageRequest(region_id="cn-hangzhou", disk_device_mapping=[
        disk(disk_image_size=10), disk(disk_image_size=3000)]), 400, "InvalidDataDiskSize",
     "DiskDeviceMapping.2"),
    ("format", nothing, import_request(fmt="VDI"), 400, "InvalidImageFormat.Malformed", "'VDI'"),
    ("bucket missing", nothing, m.ImportImageRequest(region_id="cn-hangzhou", disk_device_mapping=[
        disk(bucket="nope-bucket")]), 400, "InvalidOSSBucket.NotFound", "'nope-bucket'"),
    ("bucket elsewhere", lambda c: c.oss.create_bucket("tokyo-bucket", region="ap-northeast-1"),
     m.ImportImageRequest(region_id="cn-hangzhou", disk_device_mapping=[disk(bucket="tokyo-bucket")]),
     400, "InvalidOSSBucket.NotFound", "does not exist in this region"),
    ("object missing", nothing, import_request("missing.qcow2"), 400, "InvalidOSSObject.NotFound",
     "oss://images/missing.qcow2"),
    ("object empty", lambda c: c.oss.put_object(BUCKET, "empty.raw", b""), import_request("empty.raw"),
     400, "InvalidOSSObject.Size", "zero"),
    ("smaller than virtual size", lambda c: c.oss.put_object(BUCKET, "big.qcow2", disk_bytes("big-2t.qcow2")),
     import_request("big.qcow2", size=100), 400, "InvalidImageSize", "virtual size (2048 GiB)"),
    ("client token", nothing, import_request(token="x" * 65), 400, "InvalidClientToken.Malformed", "64"),
    ("detection", nothing, import_request(check=False, detection_strategy="Deep"), 400,
     "InvalidParameter.DetectionStrategy", "'Deep'"),
    ("license value", nothing, import_request(license_type="Free"), 400,
     "InvalidLicenseType.NotSupported", "'Free'"),
    ("license byol only", nothing, import_request(license_type="Aliyun"), 400,
     "InvalidLicenseType.BYOLOnly", "Others Linux"),
    ("no role", lambda c: setattr(c.ecs, "import_role_exists", False), import_request(), 403,
     "NoSetRoletoECSServiceAcount", "AliyunECSImageImportDefaultRole"),
    ("unknown role", nothing, import_request(role_name="MyRole"), 403, "NoSetRoletoECSServiceAcount", "'MyRole'"),
    ("unknown region", nothing, m.ImportImageRequest(region_id="mars-1", disk_device_mapping=[disk()]), 400,
     "InvalidRegionId.NotFound", "'mars-1'"),
    ("dry run", nothing, import_request(dry_run=True), 400, "DryRunOperation", "DryRun"),
]


@pytest.mark.parametrize("setup, request_, status, code, words", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_import_image_refusals(ecs: Client, mocked: FakeCloud, setup: Setup, request_: m.ImportImageRequest,
                               status: int, code: str, words: str) -> None:
    setup(mocked)
    err = refused(ecs, request_)
    assert (err.status_code, err.code) == (status, code)
    assert words in err.message
    # Nothing was created by a refused call
    assert mocked.ecs.images == {} and mocked.ecs.tasks == {}


def test_duplicate_name_in_the_region_only(ecs: Client, mocked: FakeCloud) -> None:
    ecs.import_image(import_request(name="same-name"))
    err = refused(ecs, import_request(name="same-name"))
    assert err.code == "InvalidImageName.Duplicated" and "'same-name'" in err.message
    # The same name in another region is fine
    mocked.oss.create_bucket("sh-bucket", region="cn-shanghai")
    mocked.oss.put_object("sh-bucket", "a.qcow2", disk_bytes("mbr-linux.qcow2"))
    other = ecs.import_image(m.ImportImageRequest(region_id="cn-shanghai", image_name="same-name",
                                                  disk_device_mapping=[disk("a.qcow2", bucket="sh-bucket")]))
    assert other.body.image_id.startswith("m-uf")


def test_disk_size_defaults_to_the_virtual_size(ecs: Client, mocked: FakeCloud) -> None:
    started = ecs.import_image(import_request(size=None, fmt=None)).body
    image = mocked.ecs.images[started.image_id]
    # mbr-linux.qcow2 is 8 MiB virtual: rounded up to 1 GiB, format detected
    assert (image.size_gib, image.disks[0].format) == (1, "QCOW2")


def test_the_error_body_is_ecs_json(ecs: Client) -> None:
    err = refused(ecs, import_request("missing.qcow2"))
    body = err.data
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == "ecs.cn-hangzhou.aliyuncs.com"
    assert body["RequestId"] in body["Recommend"] and err.request_id == body["RequestId"]
