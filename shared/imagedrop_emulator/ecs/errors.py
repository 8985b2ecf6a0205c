"""ECS errors with the status, code and message the real service answers, each naming the
parameter or object at fault and what to do about it."""

from __future__ import annotations

from ..core import ServiceError


def missing(name: str) -> ServiceError:
    return ServiceError(400, "MissingParameter",
                        f'An input parameter "{name}" that is mandatory for processing the request '
                        "is not supplied.")


def invalid(name: str, rule: str, code: str = "InvalidParameter", status: int = 400) -> ServiceError:
    return ServiceError(status, code, f'The specified parameter "{name}" is not valid: {rule}.')


def malformed(code: str, what: str, rule: str) -> ServiceError:
    return ServiceError(400, code, f"The specified {what} is wrongly formed: {rule}.")


def dry_run_passed() -> ServiceError:
    return ServiceError(400, "DryRunOperation",
                        "Request validation has been passed with DryRun flag set.")


def task_not_found(task_id: str) -> ServiceError:
    return ServiceError(400, "InvalidTaskId.NotFound",
                        f'The specified "TaskId" is not found: {task_id!r} is not a task in this region.')


def image_not_found(image_id: str) -> ServiceError:
    return ServiceError(404, "InvalidImageId.NotFound",
                        f"The specified ImageId does not exist: {image_id!r} is not an image of this "
                        "account in this region.")


def image_importing(image_id: str) -> ServiceError:
    return ServiceError(403, "ImageIsImporting",
                        f"The specified Image is importing: {image_id} cannot be changed until its task "
                        "ends; wait for it or call CancelTask.")


def pipeline_not_found(pipeline_id: str) -> ServiceError:
    return ServiceError(404, "InvalidImagePipeline.NotFound",
                        f"The specified image template {pipeline_id!r} does not exist in this "
                        "region.")


def execution_not_found(execution_id: str) -> ServiceError:
    return ServiceError(404, "InvalidImagePipelineExecution.NotFound",
                        f"The specified build task {execution_id!r} does not exist.")


def pipeline_running(pipeline_id: str) -> ServiceError:
    return ServiceError(403, "InvalidImagePipeline.HasRunningExecution",
                        f"The image template {pipeline_id} has a build task that is not finished: "
                        "wait for it to end (or cancel it) first.")


def bucket_not_found(bucket: str, region: str) -> ServiceError:
    return ServiceError(400, "InvalidOSSBucket.NotFound",
                        f"The specified OSS bucket does not exist in this region: {bucket!r} is not a "
                        f"bucket in {region}. Create it there or import in the bucket's region.")


def object_not_found(bucket: str, key: str) -> ServiceError:
    return ServiceError(400, "InvalidOSSObject.NotFound",
                        f"The specified OSS object does not exist in this region: oss://{bucket}/{key} "
                        "cannot be retrieved. Upload it first or fix DiskDeviceMapping.N.OSSObject.")
