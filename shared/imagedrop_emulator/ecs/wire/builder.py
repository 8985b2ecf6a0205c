"""Image Builder actions on the ECS RPC wire: parameters in, the JSON shapes the SDK parses out.

`ImagePipelineExecution` and `ImagePipeline` are objects wrapping their arrays (an array there
makes the SDK return `body=None`); list fields inside a template are wrapped the same way.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable

from ...core import ServiceError
from .. import errors
from ..backend import params as p
from ..backend.models import second_time
from ..backend.pipelines import FakeExecution, FakePipeline

if TYPE_CHECKING:
    from ..backend.service import EcsBackend

Route = Callable[[dict[str, str]], dict[str, Any]]


def _page(params: dict[str, str], items: list[Any]) -> tuple[list[Any], str, int]:
    """(this page, the next token or "", MaxResults) for NextToken/MaxResults paging."""
    size = p.integer(params, "MaxResults", 50)
    assert size is not None
    if not 1 <= size <= 500:
        raise errors.invalid("MaxResults", "it must be between 1 and 500")
    start = 0
    token = params.get("NextToken", "")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError):
            raise ServiceError(403, "Invalid.NextToken",
                               f"The specified NextToken {token!r} is not valid: pass the "
                               "NextToken "
                               "of the previous answer unchanged.") from None
    end = start + size
    following = ""
    if end < len(items):
        following = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode()
    return items[start:end], following, size


def execution_shape(ex: FakeExecution) -> dict[str, Any]:
    failed = ex.status in ("FAILED", "TEST_FAILED")
    return {"ExecutionId": ex.execution_id, "ImagePipelineId": ex.pipeline_id,
            "Status": ex.status, "ImageId": ex.image_id, "Message": ex.message(),
            "ErrorCode": ex.error_code if failed else "",
            "ErrorInfo": ex.error_info if failed else "",
            "CreationTime": second_time(ex.created_at), "ModifiedTime": second_time(ex.modified_at),
            "ResourceGroupId": "",
            "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in ex.tags]}}


def pipeline_shape(x: FakePipeline) -> dict[str, Any]:
    return {
        "ImagePipelineId": x.pipeline_id, "Name": x.name, "Description": x.description,
        "CreationTime": second_time(x.created_at), "BaseImageType": x.base_image_type,
        "BaseImage": x.base_image, "ImageName": x.image_name, "InstanceType": x.instance_type,
        "VSwitchId": x.vswitch_id, "SystemDiskSize": x.system_disk_size,
        "InternetMaxBandwidthOut": x.internet_max_bandwidth_out,
        "DeleteInstanceOnFailure": x.delete_instance_on_failure, "BuildContent": x.build_content,
        "TestContent": x.test_content, "RepairMode": x.repair_mode,
        "RepairItems": {"RepairItem": list(x.repair_items)},
        "ToRegionIds": {"ToRegionId": list(x.to_regions)},
        "AddAccounts": {"AddAccount": list(x.add_accounts)},
        "ResourceGroupId": x.resource_group_id,
        "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in x.tags]},
        "ImageOptions": {
            "ImageName": x.image_name, "ImageFamily": x.image_family,
            "Description": x.image_description,
            "ImageFeatures": {"NvmeSupport": x.nvme_support},
            "ImageTags": {"ImageTag": [{"TagKey": k, "TagValue": v} for k, v in x.image_tags]}},
        "AdvancedOptions": {"ImageNameSuffix": "" if x.name_suffix else "disable",
                            "RetainCloudAssistant": x.retain_cloud_assistant},
    }


def builder_routes(backend: Callable[[], "EcsBackend"]) -> dict[str, Route]:
    def create(params: dict[str, str]) -> dict[str, Any]:
        return {"ImagePipelineId": backend().create_pipeline(params)}

    def start(params: dict[str, str]) -> dict[str, Any]:
        return {"ExecutionId": backend().start_execution(params)}

    def describe_executions(params: dict[str, str]) -> dict[str, Any]:
        found = backend().find_executions(params)
        page, token, size = _page(params, found)
        return {"TotalCount": len(found), "MaxResults": size, "NextToken": token,
                "ImagePipelineExecution": {
                    "ImagePipelineExecutionSet": [execution_shape(e) for e in page]}}

    def cancel(params: dict[str, str]) -> dict[str, Any]:
        backend().cancel_execution(params)
        return {}

    def delete(params: dict[str, str]) -> dict[str, Any]:
        backend().delete_pipeline(params)
        return {}

    def describe_pipelines(params: dict[str, str]) -> dict[str, Any]:
        found = backend().find_pipelines(params)
        page, token, size = _page(params, found)
        return {"TotalCount": len(found), "MaxResults": size, "NextToken": token,
                "ImagePipeline": {"ImagePipelineSet": [pipeline_shape(x) for x in page]}}

    return {"CreateImagePipeline": create, "StartImagePipelineExecution": start,
            "DescribeImagePipelineExecutions": describe_executions,
            "CancelImagePipelineExecution": cancel, "DeleteImagePipeline": delete,
            "DescribeImagePipelines": describe_pipelines}
