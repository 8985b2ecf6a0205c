"""What to do about the error codes of a repair (Image Builder), for the notification and README."""

from __future__ import annotations

REPAIR_ADVICE: dict[str, str] = {
    "InvalidOperation.NoPermissionCreateServiceLinkedRole": "The first repair creates the "
        "service-linked role AliyunServiceRoleForECSImageBuilder: grant the functions' role "
        "ram:CreateServiceLinkedRole for imagebuilder.ecs.aliyuncs.com (deploy/ram-policy.json), "
        "or have an administrator create the role once, then upload the manifest again.",
    "ImagePipeline.NotSupportWindowsInstance": "Image Builder does not repair this Windows image: "
        "set repair to off and fix the guest inside a Windows VM, then import it again.",
    "InvalidImage.NotSupportRepair": "ECS cannot repair this image: set repair to off and fix the "
        "items by hand (see the advice), then import it again.",
    "InvalidImagePipeline.HasRunningExecution": "A build of this repair is still running: wait "
        "for the import to end (imagedrop watch) before uploading the manifest again.",
    "RepairFailed": "The repair build failed: the original image is kept; fix the items inside the "
        "guest by hand, or upload the manifest again to retry the repair.",
    "TestFailed": "The repaired image failed its test: the original image is kept; fix the guest "
        "by hand, or upload the manifest again.",
    "RepairExecutionGone": "The repair's template was deleted outside imagedrop: the original "
        "image is kept; upload the manifest again to repair anew.",
}
