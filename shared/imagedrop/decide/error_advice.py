"""What a person should do about each Alibaba Cloud error code the pipeline meets (pure).

The table is also the README's troubleshooting section (`python -m imagedrop.docs`).
"""

from __future__ import annotations

from ..errors import CloudError
from .repair_advice import REPAIR_ADVICE
from ..model.status import Problem

_ROLE_TRUST = ('{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow",'
               '"Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}')
_NO_ROLE = (
    "ECS may not read your OSS bucket. Create the RAM role AliyunECSImageImportDefaultRole with "
    f"the trust policy {_ROLE_TRUST} and attach the system policy AliyunECSImageImportRolePolicy "
    "(`aliyun ram CreateRole --RoleName AliyunECSImageImportDefaultRole --AssumeRolePolicyDocument "
    "'<trust policy>'`, then `aliyun ram AttachPolicyToRole --PolicyType System --PolicyName "
    "AliyunECSImageImportRolePolicy --RoleName AliyunECSImageImportDefaultRole`), or use the "
    "console's one-click authorization on the Import Image page; then upload the manifest again.")

ERROR_ADVICE: dict[str, str] = {
    "NoSetRoletoECSServiceAcount": _NO_ROLE,     # sic: the code as ECS spells it
    "NoSetRoletoECSServiceAccount": _NO_ROLE,
    "InvalidOSS.NotAuthorized": "The import role may not read this object: check that "
        "AliyunECSImageImportRolePolicy is attached to the role and that no bucket policy denies "
        "it, then upload the manifest again.",
    "InvalidOSSObject.NotFound": "The disk object was not found in the bucket in this region: "
        "check the key (case, folder) and that the upload finished, then upload the manifest again.",
    "InvalidOSSObject.Size": "The disk object is empty (0 bytes): upload the disk image again, "
        "then the manifest.",
    "UnsupportedSuffix.OSSObject": "Rename the disk object to end in .qcow2, .vhd, .raw, .img or "
        ".vmdk and update the manifest.",
    "InvalidImageName.Duplicated": "An image with this name already exists in the region: change "
        "image_name in the manifest (or delete the old image) and upload the manifest again.",
    "InvalidImageSize": "The disk size is out of range or smaller than the image: set "
        "system_disk_gib to at least the image's virtual size (1–2048 GiB) and upload again.",
    "InvalidDataDiskSize": "A data disk size is out of range: give each data disk 1–2048 GiB, at "
        "least its virtual size.",
    "QuotaExceed.Image": "The region's custom image quota is full: delete unused custom images or "
        "raise the quota in the Quota Center, then upload the manifest again.",
    "ImageIsImporting": "This image is already being imported: wait for that import to finish "
        "(`imagedrop status`) instead of starting another.",
    "InvalidOSSBucket.NotFound": "The bucket is not in the import's region: ImportImage reads only "
        "from a bucket in the same region. Copy the disk to a bucket in that region (or set region "
        "to the bucket's region) and upload again.",
    "InvalidOSSBucket.NotMatched": "The bucket does not match the region or account of the import: "
        "use a bucket of this account in the import's region.",
    "InvalidImageFormat.Malformed": "ECS could not read the disk format: convert it with "
        "`qemu-img convert -O qcow2 in out.qcow2` (or raw/vhd), check it with `qemu-img check`, and "
        "set format in the manifest to match.",
    "InvalidImageFormat.RegionNotSupported": "This format is not importable in this region: "
        "convert the disk to qcow2 or raw with qemu-img and upload again.",
    "InvalidOSSBucket.EncryptUnsupported": "ImportImage cannot read a bucket with server-side "
        "encryption: copy the disk to a bucket without default encryption and upload there.",
    "InvalidOSSObject.NeedRestore": "The disk is an Archive/Cold Archive object: restore it "
        "(`ossutil restore oss://bucket/key`), wait until it is readable, then upload the manifest "
        "again.",
    "InvalidOSSBucket.FlowLimit": "OSS limited the bucket's bandwidth: retry later or raise the "
        "bucket's flow limit.",
    "InvalidAccountStatus.OSSDisabled": "OSS is not active or is suspended for this account: "
        "activate it or settle the account, then upload again.",
    "Account.Arrearage": "The account has an overdue payment: top up the account in Billing "
        "Management, then upload the manifest again.",
    "Throttling": "ECS throttled the request: imagedrop retries with backoff; if it persists, "
        "lower the number of imports started at once.",
    "InvalidVHDImage.IncorrectSize": "The VHD is not a valid fixed-size VHD (header size and "
        "block table disagree): convert it with `qemu-img convert -O vpc -o subformat=fixed` or "
        "to qcow2, and upload again.",
    "ImageCheckUnsupported.WindowsImage": "The image check does not support this Windows image: "
        "set image_check to false in the manifest and upload it again.",
    "InvalidBootMode.NotSupport": "This boot mode is not supported for the image: arm64 boots "
        "only with UEFI; set boot_mode to match the disk (UEFI needs an EFI system partition).",
    "InvalidLicenseType.NotSupported": "This license type is not allowed for the platform: use "
        "Auto, or BYOL for your own Windows license.",
    "InvalidLicenseType.BYOLOnly": "This platform accepts only BYOL: set license_type to BYOL.",
    "InvalidArchitecture.PlatformUnsupported": "The platform does not exist for this "
        "architecture: pick a platform that supports it (or Others Linux).",
    "Forbidden.RAM": "The function's role lacks an ECS permission: add the action named in the "
        "error to the function's RAM policy.",
    "ImportImageFailed": "ECS could not import the disk: run `imagedrop inspect` on it, make sure "
        "it boots in a local VM (qemu), and if it does, open a ticket with the task id.",
    "CreateFailed": "ECS could not create the image from the disk: run `imagedrop inspect` on it, "
        "check it boots locally, and retry; open a ticket with the task id if it fails again.",
    "ImageNotAvailable": "The task finished but the image never became Available: look at the "
        "image in the ECS console (Images) and open a ticket with the task id if it is stuck.",
    "timeout": "The import passed the deadline and was cancelled: large disks take longer; raise "
        "IMAGEDROP_DEADLINE_HOURS, or compress the image (qcow2) and upload the manifest again.",
}

ERROR_ADVICE.update(REPAIR_ADVICE)


def cloud_problem(err: CloudError, where: str | None = None) -> Problem:
    """A refusal or an error of an Alibaba Cloud API as a problem: where (the call, or the object
    its message names first), the message, the code, and what to do about it."""
    return Problem(where=where or err.message.split(":", 1)[0], rule=err.message, code=err.code,
                   fix=error_advice(err.code))


def error_advice(code: str | None) -> str:
    """A concrete next step for an ImportImage or task error code (or a generic one)."""
    if code:
        if code in ERROR_ADVICE:
            return ERROR_ADVICE[code]
        family = code.split(".")[0]
        if family in ERROR_ADVICE:                       # Throttling.User, Throttling.Api
            return ERROR_ADVICE[family]
    return (f"Look the error code {code or '(none)'} up at "
            "https://api.alibabacloud.com/document/Ecs/2014-05-26/errorCode, fix the manifest or "
            "the disk, and upload the manifest again.")
