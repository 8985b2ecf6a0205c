"""Finished images: describe filters, modify, copy to another region, share, delete."""

from __future__ import annotations

import pytest
from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from ecs_helpers import import_request

from imagedrop_emulator import FakeCloud

REGION = "cn-hangzhou"


def imported(ecs: Client, cloud: FakeCloud, name: str = "web-2026.11", **kw: object) -> str:
    image_id = ecs.import_image(import_request(name=name, **kw)).body.image_id
    cloud.clock.advance(3600)
    return image_id


def describe(ecs: Client, region: str = REGION, **kw: object) -> dict:
    return ecs.describe_images(m.DescribeImagesRequest(region_id=region, **kw)).body.to_map()


def error_of(call) -> ClientException:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as err:
        call()
    return err.value


def test_filters_and_paging(ecs: Client, mocked: FakeCloud) -> None:
    tag = m.ImportImageRequestTag(key="team", value="web")
    first = imported(ecs, mocked, "web-a", tag=[tag])
    second = imported(ecs, mocked, "db-b")
    ecs.modify_image_attribute(m.ModifyImageAttributeRequest(region_id=REGION, image_id=second,
                                                             image_family="db-family"))
    assert describe(ecs)["TotalCount"] == 2
    assert [i["ImageId"] for i in describe(ecs, image_id=f"{first},m-bpnone")["Images"]["Image"]] == [first]
    assert [i["ImageName"] for i in describe(ecs, image_name="web")["Images"]["Image"]] == ["web-a"]
    assert [i["ImageId"] for i in describe(ecs, image_family="db-family")["Images"]["Image"]] == [second]
    tagged = describe(ecs, tag=[m.DescribeImagesRequestTag(key="team", value="web")])["Images"]["Image"]
    assert [i["Tags"]["Tag"] for i in tagged] == [[{"TagKey": "team", "TagValue": "web"}]]
    assert describe(ecs, image_owner_alias="system")["TotalCount"] == 0
    page = describe(ecs, page_size=1, page_number=2)
    assert (page["TotalCount"], [i["ImageId"] for i in page["Images"]["Image"]]) == (2, [first])
    err = error_of(lambda: describe(ecs, page_size=101))
    assert err.code == "InvalidParameter" and "PageSize" in err.message


def test_modify_image_attribute(ecs: Client, mocked: FakeCloud) -> None:
    image_id = imported(ecs, mocked, features=m.ImportImageRequestFeatures(imds_support="v2"))

    def modify(**kw: object) -> None:
        ecs.modify_image_attribute(m.ModifyImageAttributeRequest(region_id=REGION, image_id=image_id, **kw))
    modify(boot_mode="UEFI-Preferred", features=m.ModifyImageAttributeRequestFeatures(nvme_support="supported"),
           license_type="BYOL", image_name="web-renamed", description="checked image")
    (image,) = describe(ecs)["Images"]["Image"]
    assert (image["BootMode"], image["Features"]["NvmeSupport"], image["LicenseType"]) == (
        "UEFI-Preferred", "supported", "BYOL")
    assert (image["ImageName"], image["Description"]) == ("web-renamed", "checked image")
    err = error_of(lambda: modify(features=m.ModifyImageAttributeRequestFeatures(imds_support="v1")))
    assert err.code == "InvalidParameter.FeaturesImdsSupport" and "v2 to v1" in err.message
    assert error_of(lambda: modify(license_type="Aliyun")).code == "InvalidLicenseType.NotSupported"
    assert error_of(lambda: modify(boot_mode="Legacy")).code == "InvalidBootMode.Malformed"
    missing = error_of(lambda: ecs.modify_image_attribute(
        m.ModifyImageAttributeRequest(region_id=REGION, image_id="m-bpmissing", boot_mode="UEFI")))
    assert (missing.status_code, missing.code) == (404, "InvalidImageId.NotFound")


def test_copy_to_another_region_is_async_and_idempotent(ecs: Client, mocked: FakeCloud) -> None:
    image_id = imported(ecs, mocked)
    mocked.ecs.copy_base_seconds = 120

    def copy(token: str) -> str:
        return ecs.copy_image(m.CopyImageRequest(
            region_id=REGION, image_id=image_id, destination_region_id="ap-northeast-1",
            destination_image_name="web-tokyo", client_token=token,
            tag=[m.CopyImageRequestTag(key="copied", value="yes")])).body.image_id
    copy_id = copy("copy-1")
    assert copy_id.startswith("m-6w") and copy("copy-1") == copy_id
    assert describe(ecs, "ap-northeast-1")["TotalCount"] == 0         # Creating: invisible
    (creating,) = describe(ecs, "ap-northeast-1", status="Creating")["Images"]["Image"]
    assert creating["ImageName"] == "web-tokyo" and creating["IsCopied"] is True
    mocked.clock.advance(121)
    (done,) = describe(ecs, "ap-northeast-1")["Images"]["Image"]
    assert done["ImageId"] == copy_id and done["Tags"]["Tag"] == [{"TagKey": "copied", "TagValue": "yes"}]
    err = error_of(lambda: ecs.copy_image(m.CopyImageRequest(
        region_id=REGION, image_id=image_id, destination_region_id="mars-1")))
    assert err.code == "InvalidRegionId.NotFound" and "DestinationRegionId" in err.message


def test_share_and_unshare(ecs: Client, mocked: FakeCloud) -> None:
    image_id = imported(ecs, mocked)
    ecs.modify_image_share_permission(m.ModifyImageSharePermissionRequest(
        region_id=REGION, image_id=image_id, add_account=["1111", "2222"]))
    ecs.modify_image_share_permission(m.ModifyImageSharePermissionRequest(
        region_id=REGION, image_id=image_id, remove_account=["1111"]))
    shared = ecs.describe_image_share_permission(m.DescribeImageSharePermissionRequest(
        region_id=REGION, image_id=image_id)).body.to_map()
    assert shared["Accounts"]["Account"] == [{"AliyunId": "2222"}]
    err = error_of(lambda: ecs.modify_image_share_permission(m.ModifyImageSharePermissionRequest(
        region_id=REGION, image_id=image_id, add_account=["not-an-id"])))
    assert err.code == "InvalidAccount.NotFound" and "'not-an-id'" in err.message
    refused = error_of(lambda: ecs.delete_image(m.DeleteImageRequest(region_id=REGION, image_id=image_id)))
    assert (refused.status_code, refused.code) == (403, "ImageUseShared")


def test_delete_refused_while_importing_then_allowed(ecs: Client, mocked: FakeCloud) -> None:
    image_id = ecs.import_image(import_request()).body.image_id
    err = error_of(lambda: ecs.delete_image(m.DeleteImageRequest(region_id=REGION, image_id=image_id)))
    assert (err.status_code, err.code) == (403, "ImageIsImporting")
    mocked.clock.advance(3600)
    ecs.delete_image(m.DeleteImageRequest(region_id=REGION, image_id=image_id))
    assert describe(ecs, status="ALL")["TotalCount"] == 0
    # The name is free again
    assert ecs.import_image(import_request()).body.image_id != image_id


def test_dry_run_deletes_and_lists_nothing(ecs: Client, mocked: FakeCloud) -> None:
    image_id = imported(ecs, mocked)
    dry = error_of(lambda: ecs.delete_image(m.DeleteImageRequest(region_id=REGION, image_id=image_id,
                                                                 dry_run=True)))
    assert dry.code == "DryRunOperation"
    assert "Request validation has been passed with DryRun flag set." in dry.message
    assert describe(ecs, image_id=image_id)["TotalCount"] == 1  # still there
    assert error_of(lambda: describe(ecs, dry_run=True)).code == "DryRunOperation"


def test_public_and_in_use_filters_never_list_custom_images(ecs: Client, mocked: FakeCloud) -> None:
    imported(ecs, mocked)
    assert describe(ecs, is_public=True)["TotalCount"] == 0
    assert describe(ecs, usage="instance")["TotalCount"] == 0
    assert describe(ecs, usage="none")["TotalCount"] == 1
    assert describe(ecs, is_public=False)["TotalCount"] == 1
