"""ECS through the official SDK (`alibabacloud_ecs20140526`), with errors carrying the real code."""

from __future__ import annotations

from typing import Any, TypeVar

from ..errors import PermanentCloudError, RetryableCloudError
from ..decide.repair_track import ExecutionView
from ..decide.ecs_answers import ImageView, TaskView
from .credentials import Credentials
from .retry import call_translated

T = TypeVar("T")
ALL_IMAGE_STATES = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
RETRYABLE_CODES = ("Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable",
                   "InternalError", "OperationConflict", "LastTokenProcessing")


def default_ecs_endpoint(region: str) -> str:
    return "ecs-cn-hangzhou.aliyuncs.com" if region == "cn-hangzhou" else f"ecs.{region}.aliyuncs.com"


def _translate(exc: Exception, action: str) -> Exception:
    from alibabacloud_tea_openapi import exceptions as tea_exc
    from darabonba.exceptions import UnretryableException

    if isinstance(exc, tea_exc.AlibabaCloudException):
        code = exc.code or "Unknown"
        # tea prefixes messages with "code: 400, ... request id: ..."; keep the useful middle.
        message = str(exc.message or "")
        if message.startswith("code: ") and ", " in message:
            message = message.split(", ", 1)[1].rsplit(" request id:", 1)[0]
        status = getattr(exc, "status_code", None)
        retryable = (isinstance(exc, (tea_exc.ThrottlingException, tea_exc.ServerException))
                     or code.startswith("Throttling") or code in RETRYABLE_CODES
                     or (status is not None and status >= 500))
        cls = RetryableCloudError if retryable else PermanentCloudError
        return cls("ecs", code, f"{action}: {message}", status=status,
                   request_id=getattr(exc, "request_id", None))
    if isinstance(exc, (UnretryableException, ConnectionError, OSError)) or \
            type(exc).__module__.startswith(("requests", "urllib3")):
        return RetryableCloudError("ecs", "NetworkError", f"{action}: {exc}")
    return exc


class EcsApi:
    def __init__(self, region: str, *, credentials: Credentials, endpoint: str | None = None,
                 attempts: int = 4):
        self.region = region
        self.attempts = attempts
        self._credentials = credentials
        self._endpoint = endpoint
        self._clients: dict[str, Any] = {}

    def _client(self, region: str | None = None) -> Any:
        region = region or self.region
        if region not in self._clients:
            from alibabacloud_ecs20140526.client import Client
            from alibabacloud_tea_openapi.models import Config

            endpoint = self._endpoint or default_ecs_endpoint(region)
            host, _, _ = endpoint.removeprefix("http://").removeprefix("https://").partition("/")
            config = Config(access_key_id=self._credentials.access_key_id,
                            access_key_secret=self._credentials.access_key_secret,
                            security_token=self._credentials.security_token,
                            region_id=region, endpoint=host,
                            protocol="http" if endpoint.startswith("http://") else "https",
                            connect_timeout=5000, read_timeout=20000)
            self._clients[region] = Client(config)
        return self._clients[region]

    def _call(self, action: str, request_class: str, params: dict[str, Any],
              region: str | None = None) -> dict[str, Any]:
        from alibabacloud_ecs20140526 import models
        from darabonba.runtime import RuntimeOptions

        region = region or self.region
        request = getattr(models, request_class)().from_map({"RegionId": region, **params})
        method = getattr(self._client(region), _snake(action) + "_with_options")

        return call_translated(action, lambda: method(request, RuntimeOptions()).body.to_map(),
                               _translate, attempts=self.attempts)

    # ---- the operations the pipeline uses

    def import_image(self, params: dict[str, Any]) -> tuple[str, str]:
        body = self._call("ImportImage", "ImportImageRequest", params)
        return body["ImageId"], body["TaskId"]

    def describe_task(self, task_id: str) -> TaskView:
        return TaskView.from_wire(self._call("DescribeTaskAttribute", "DescribeTaskAttributeRequest",
                                    {"TaskId": task_id}))

    def describe_image_raw(self, image_id: str, region: str | None = None) -> dict[str, Any] | None:
        body = self._call("DescribeImages", "DescribeImagesRequest",
                          {"ImageId": image_id, "Status": ALL_IMAGE_STATES, "ShowExpired": True},
                          region)
        images = (body.get("Images") or {}).get("Image") or []
        return images[0] if images else None

    def describe_image(self, image_id: str, region: str | None = None) -> ImageView | None:
        raw = self.describe_image_raw(image_id, region)
        return ImageView.from_wire(raw) if raw else None

    def modify_image(self, image_id: str, attributes: dict[str, str]) -> None:
        params: dict[str, Any] = {"ImageId": image_id}
        for key, value in attributes.items():
            if "." in key:  # Features.NvmeSupport → {"Features": {"NvmeSupport": …}}
                head, sub = key.split(".", 1)
                params.setdefault(head, {})[sub] = value
            else:
                params[key] = value
        self._call("ModifyImageAttribute", "ModifyImageAttributeRequest", params)

    def copy_image(self, image_id: str, destination: str, *, name: str, token: str,
                   tags: list[dict[str, str]] | None = None) -> str:
        body = self._call("CopyImage", "CopyImageRequest",
                          {"ImageId": image_id, "DestinationRegionId": destination,
                           "DestinationImageName": name, "ClientToken": token,
                           **({"Tag": tags} if tags else {})})
        return body["ImageId"]

    def share_image(self, image_id: str, accounts: list[str], region: str | None = None) -> None:
        for start in range(0, len(accounts), 10):  # ten accounts per call, the API's limit
            self._call("ModifyImageSharePermission", "ModifyImageSharePermissionRequest",
                       {"ImageId": image_id, "AddAccount": accounts[start:start + 10]}, region)

    def cancel_task(self, task_id: str) -> None:
        self._call("CancelTask", "CancelTaskRequest", {"TaskId": task_id})

    def delete_image(self, image_id: str) -> None:
        self._call("DeleteImage", "DeleteImageRequest", {"ImageId": image_id})

    # ---- Image Builder (the repair)

    def create_image_pipeline(self, base_image_id: str, *, items: list[str], name_prefix: str,
                              token: str, description: str | None = None,
                              tags: list[tuple[str, str]] | None = None,
                              instance_type: str | None = None,
                              vswitch_id: str | None = None) -> str:
        """A template repairing `base_image_id` (RepairMode=Customized); its ImagePipelineId."""
        options: dict[str, Any] = {"ImageName": name_prefix}
        if description:
            options["Description"] = description
        if tags:
            options["ImageTags"] = [{"Key": k, "Value": v} for k, v in tags[:20]]
        params: dict[str, Any] = {
            "BaseImageType": "IMAGE", "BaseImage": base_image_id, "RepairMode": "Customized",
            "RepairItem": list(items), "DeleteInstanceOnFailure": True, "ClientToken": token,
            "ImageOptions": options, "Description": f"imagedrop repair of {base_image_id}"}
        if instance_type:
            params["InstanceType"] = instance_type
        if vswitch_id:
            params["VSwitchId"] = vswitch_id
        return self._call("CreateImagePipeline", "CreateImagePipelineRequest",
                          params)["ImagePipelineId"]

    def start_image_pipeline_execution(self, pipeline_id: str, *, token: str) -> str:
        body = self._call("StartImagePipelineExecution", "StartImagePipelineExecutionRequest",
                          {"ImagePipelineId": pipeline_id, "ClientToken": token})
        return body["ExecutionId"]

    def describe_image_pipeline_execution(self, pipeline_id: str,
                                          execution_id: str) -> ExecutionView | None:
        """The build, or None when it is gone (its template deleted: NotFound or an empty set)."""
        try:
            body = self._call("DescribeImagePipelineExecutions",
                              "DescribeImagePipelineExecutionsRequest",
                              {"ImagePipelineId": pipeline_id, "ExecutionId": execution_id})
        except PermanentCloudError as err:
            if err.code.endswith(".NotFound"):
                return None
            raise
        found = ((body.get("ImagePipelineExecution") or {}).get("ImagePipelineExecutionSet")) or []
        mine = [e for e in found if e.get("ExecutionId") == execution_id]
        return ExecutionView.from_wire(mine[0]) if mine else None

    def cancel_image_pipeline_execution(self, execution_id: str) -> None:
        self._call("CancelImagePipelineExecution", "CancelImagePipelineExecutionRequest",
                   {"ExecutionId": execution_id})

    def delete_image_pipeline(self, pipeline_id: str) -> None:
        self._call("DeleteImagePipeline", "DeleteImagePipelineRequest",
                   {"ImagePipelineId": pipeline_id})


def _snake(action: str) -> str:
    out = []
    for i, ch in enumerate(action):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


