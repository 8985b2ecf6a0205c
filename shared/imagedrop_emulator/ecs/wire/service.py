"""`EcsWire`: ECS RPC as the tea SDK speaks it — POST (or GET) `/`, parameters in the query, the
action in `x-acs-action` (or `Action=` for classic clients), JSON answers and JSON errors.

This layer only verifies the caller, parses, calls `EcsBackend` and serializes.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl

from ...core import ServiceError, WireRequest, WireResponse, new_request_id
from ...env import CloudEnv
from ...freshness import NonceMemory
from ... import acs_auth
from ..backend import params as p
from . import routes
from .builder import builder_routes
from .render import image_shape, task_attribute, task_summary

if TYPE_CHECKING:
    from ..backend.service import EcsBackend

JSON_TYPE = "application/json;charset=utf-8"


class EcsWire:
    name = "ecs"

    def __init__(self, backend: "EcsBackend", env: CloudEnv):
        self.backend = backend
        self.env = env
        self.nonces = NonceMemory()
        self.actions: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "ImportImage": self.import_image,
            "DescribeTaskAttribute": self.describe_task_attribute,
            "DescribeTasks": self.describe_tasks,
            "CancelTask": self.cancel_task,
            "DescribeImages": self.describe_images,
            "ModifyImageAttribute": self.modify_image_attribute,
            "CopyImage": self.copy_image,
            "ModifyImageSharePermission": self.modify_image_share_permission,
            "DescribeImageSharePermission": self.describe_image_share_permission,
            "DeleteImage": self.delete_image,
            "DescribeRegions": self.describe_regions,
            **builder_routes(lambda: self.backend),
        }

    # ------------------------------------------------------------------ WireService

    def action_of(self, req: WireRequest) -> str:
        return routes.action_of(req)

    def handle(self, req: WireRequest) -> WireResponse:
        action = self.action_of(req)
        params = self._params(req)
        version = req.header("x-acs-version") or params.get("Version", "")
        route = self.actions.get(action)
        routes.check_version(version)
        self._authenticate(req, params)
        if route is None:
            raise routes.unknown_action(action, self.actions)
        if action in self.backend.denied_actions:
            raise ServiceError(403, "Forbidden.RAM",
                               "User not authorized to operate on the specified resource, or this "
                               "API doesn't support RAM: the caller's policy does not allow "
                               f"ecs:{action}.")
        body = {"RequestId": new_request_id(), **route({k: v for k, v in params.items()
                                                        if k not in acs_auth.RPC_COMMON})}
        return WireResponse(200, {"Content-Type": JSON_TYPE, "x-acs-request-id": body["RequestId"]},
                            json.dumps(body).encode())

    def error_response(self, err: ServiceError, req: WireRequest) -> WireResponse:
        request_id = new_request_id()
        region = req.param_dict().get("RegionId") or self.env.region
        body = {"RequestId": request_id, "HostId": req.host.split(":")[0] or f"ecs.{region}.aliyuncs.com",
                "Code": err.code, "Message": err.message,
                "Recommend": "https://api.alibabacloud.com/troubleshoot?intl_lang=EN_US"
                             f"&q={err.code}&product=Ecs&requestId={request_id}"}
        return WireResponse(err.status, {"Content-Type": JSON_TYPE, "x-acs-request-id": request_id},
                            json.dumps(body).encode())

    def throttle_error(self) -> ServiceError:
        return ServiceError(400, "Throttling.User", "Request was denied due to user flow control.")

    # ------------------------------------------------------------------ parsing and auth

    def _params(self, req: WireRequest) -> dict[str, str]:
        params = req.param_dict()
        if req.header("content-type").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(req.body_bytes(1024 * 1024).decode(), keep_blank_values=True))
        return params

    def _authenticate(self, req: WireRequest, params: dict[str, str]) -> None:
        creds = self.env.credentials
        if req.header("authorization"):
            ak = acs_auth.verify_acs3(req.method, req.path, req.query, req.headers,
                                  req.body_bytes(1024 * 1024), creds.secret_for)
            header_ak = req.header("x-acs-accesskey-id")
            if header_ak and header_ak != ak:
                raise acs_auth.incomplete("x-acs-accesskey-id differs from the Credential that signed.")
            acs_auth.check_token(ak, req.header("x-acs-security-token"), creds.token_ok)
            acs_auth.check_fresh(ak, req.header("x-acs-date"), req.header("x-acs-signature-nonce"),
                             self.nonces, time.time())
        elif "Signature" in params:
            ak = acs_auth.verify_rpc_v1(req.method, params, creds.secret_for)
            acs_auth.check_token(ak, params.get("SecurityToken"), creds.token_ok)
            acs_auth.check_fresh(ak, params.get("Timestamp", ""), params.get("SignatureNonce", ""),
                             self.nonces, time.time(), stamp_name="Timestamp",
                             nonce_name="SignatureNonce")
        else:
            raise acs_auth.incomplete("The request carries neither an Authorization header nor a Signature.")

    # ------------------------------------------------------------------ actions

    def import_image(self, params: dict[str, str]) -> dict[str, Any]:
        return self.backend.import_image(params)

    def describe_task_attribute(self, params: dict[str, str]) -> dict[str, Any]:
        region = p.required(params, "RegionId")
        task = self.backend.task(region, p.required(params, "TaskId"))
        return task_attribute(task, self.backend.now())

    def describe_tasks(self, params: dict[str, str]) -> dict[str, Any]:
        region = p.required(params, "RegionId")
        self.backend.check_region(region)
        number, size = p.paging(params)
        resource_ids = list(p.indexed_values(params, "ResourceIds").values())
        start, end = p.utc_time(params, "StartTime"), p.utc_time(params, "EndTime")
        tasks = [t for t in self.backend.find_tasks(region, p.comma_list(params, "TaskIds"),
                                                    params.get("TaskAction", ""), params.get("TaskStatus", ""),
                                                    resource_ids)
                 if (start is None or t.created_at >= start) and (end is None or t.created_at <= end)]
        page = tasks[(number - 1) * size: number * size]
        return {"RegionId": region, "TotalCount": len(tasks), "PageNumber": number, "PageSize": size,
                "TaskSet": {"Task": [task_summary(t) for t in page]}}

    def cancel_task(self, params: dict[str, str]) -> dict[str, Any]:
        self.backend.cancel_task(p.required(params, "RegionId"), p.required(params, "TaskId"))
        return {}

    def describe_images(self, params: dict[str, str]) -> dict[str, Any]:
        number, size = p.paging(params)
        backend = self.backend
        with backend.lock:
            images = backend.select_images(params)
            now = backend.now()
            page = [image_shape(i, backend.tasks.get(i.task_id), now, self.env.account_id)
                    for i in images[(number - 1) * size: number * size]]
        return {"RegionId": params["RegionId"], "TotalCount": len(images), "PageNumber": number,
                "PageSize": size, "Images": {"Image": page}}

    def modify_image_attribute(self, params: dict[str, str]) -> dict[str, Any]:
        self.backend.modify_image_attribute(params)
        return {}

    def copy_image(self, params: dict[str, str]) -> dict[str, Any]:
        return {"ImageId": self.backend.copy_image(params)}

    def modify_image_share_permission(self, params: dict[str, str]) -> dict[str, Any]:
        self.backend.modify_share(params)
        return {}

    def describe_image_share_permission(self, params: dict[str, str]) -> dict[str, Any]:
        region = p.required(params, "RegionId")
        image = self.backend.image(region, p.required(params, "ImageId"))
        number, size = p.paging(params)
        accounts = [{"AliyunId": a} for a in image.shared_with]
        return {"RegionId": region, "ImageId": image.image_id, "TotalCount": len(accounts),
                "PageNumber": number, "PageSize": size, "ShareGroups": {"ShareGroup": []},
                "Accounts": {"Account": accounts[(number - 1) * size: number * size]}}

    def delete_image(self, params: dict[str, str]) -> dict[str, Any]:
        self.backend.delete_image(params)
        return {}

    def describe_regions(self, params: dict[str, str]) -> dict[str, Any]:
        return {"Regions": {"Region": [
            {"RegionId": r, "LocalName": r, "RegionEndpoint": f"ecs.{r}.aliyuncs.com",
             "Status": "available"} for r in self.env.regions]}}
