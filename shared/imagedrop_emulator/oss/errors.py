"""OSS errors with the status, code and message the real service answers.

`EC` (OSS's detailed error code) is only attached where its value is documented; a made-up EC
would mislead anyone searching Alibaba's troubleshooting pages for it.
"""

from __future__ import annotations

from ..core import ServiceError

# EC values Alibaba publishes for these errors.
EC_NO_SUCH_KEY = "0026-00000001"
EC_SIGNATURE_V1 = "0002-00000040"
EC_STS_KEY_UNKNOWN = "0002-00000002"
EC_FORBID_OVERWRITE_COMPLETE = "0042-00000214"


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError(404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=bucket)


def no_such_key(key: str) -> ServiceError:
    return ServiceError(404, "NoSuchKey", "The specified key does not exist.", Key=key,
                        EC=EC_NO_SUCH_KEY)


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(404, "NoSuchUpload",
                        "The specified upload does not exist. The upload ID may be invalid, "
                        "or the upload may have been aborted or completed.", UploadId=upload_id)


def file_already_exists(key: str, *, complete: bool = False) -> ServiceError:
    extra = {"EC": EC_FORBID_OVERWRITE_COMPLETE} if complete else {}
    return ServiceError(409, "FileAlreadyExists",
                        "The object you specified already exists and can not be overwritten.",
                        Key=key, **extra)


def invalid_range(size: int) -> ServiceError:
    return ServiceError(416, "InvalidRange", "The requested range cannot be satisfied",
                        ActualObjectSize=str(size))


def invalid_part(upload_id: str, number: int, etag: str) -> ServiceError:
    return ServiceError(400, "InvalidPart",
                        "One or more of the specified parts could not be found or the specified "
                        "entity tag might not have matched the part's entity tag.",
                        UploadId=upload_id, PartNumber=str(number), ETag=etag)


def invalid_part_order(upload_id: str) -> ServiceError:
    return ServiceError(400, "InvalidPartOrder",
                        "The list of parts was not in ascending order. Parts list must specified "
                        "in order by part number.", UploadId=upload_id)


def entity_too_small(number: int, size: int) -> ServiceError:
    return ServiceError(400, "EntityTooSmall",
                        "Your proposed upload smaller than the minimum allowed size.",
                        PartNumber=str(number), ProposedSize=str(size), MinSizeAllowed="102400")


def invalid_part_number(raw: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument",
                        "Part number must be an integer between 1 and 10000, inclusive.",
                        ArgumentName="partNumber", ArgumentValue=raw)


def invalid_digest(given: str) -> ServiceError:
    return ServiceError(400, "InvalidDigest",
                        "The Content-MD5 you specified did not match what we received.",
                        ContentMD5=given)


def invalid_bucket_name(bucket: str) -> ServiceError:
    return ServiceError(400, "InvalidBucketName", "The specified bucket is not valid.",
                        BucketName=bucket)


def invalid_object_name(key: str) -> ServiceError:
    return ServiceError(400, "InvalidObjectName", "The specified object is not valid.", Key=key)


def bucket_not_empty(bucket: str) -> ServiceError:
    return ServiceError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty.",
                        BucketName=bucket)


def bucket_in_other_region(bucket: str, region: str) -> ServiceError:
    return ServiceError(403, "AccessDenied",
                        "The bucket you are attempting to access must be addressed using the "
                        "specified endpoint. Please send all future requests to this endpoint.",
                        Bucket=bucket, Endpoint=f"oss-{region}.aliyuncs.com")


def malformed_xml(what: str) -> ServiceError:
    return ServiceError(400, "MalformedXML",
                        f"The XML you provided was not well-formed or did not validate against "
                        f"our published schema ({what}).")


def not_implemented(what: str) -> ServiceError:
    return ServiceError(501, "NotImplemented",
                        f"{what} is not implemented by the local OSS emulator; use the real "
                        "service for it or extend imagedrop_emulator.oss.")


def bucket_exists_elsewhere(bucket: str) -> ServiceError:
    return ServiceError(409, "BucketAlreadyExists", "Bucket already exists can't modify location",
                        BucketName=bucket)


def invalid_position(raw: str | None) -> ServiceError:
    return ServiceError(400, "InvalidArgument",
                        "AppendObject needs ?position=<current object length> as a non-negative "
                        "integer (0 creates the object).", ArgumentName="position",
                        ArgumentValue=raw or "")


def position_not_equal_to_length(position: int, length: int) -> ServiceError:
    return ServiceError(409, "PositionNotEqualToLength",
                        "Position is not equal to file length: append at the object's current "
                        f"length {length}, not {position}.", NextAppendPosition=str(length))


def object_not_appendable(key: str) -> ServiceError:
    return ServiceError(409, "ObjectNotAppendable", "The object is not appendable.", Key=key)
