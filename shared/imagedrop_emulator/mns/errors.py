"""MNS errors with the codes, HTTP statuses and messages MNS publishes for them.

Where MNS publishes no code or status for a case, the choice made here is marked UNVERIFIED and
kept close to the published wording.
"""

from __future__ import annotations

from ..core import ServiceError


def queue_not_exist(name: str) -> ServiceError:
    return ServiceError(404, "QueueNotExist", f"The queue name you provided is not exist. (queue {name!r}: "
                        "create it first with CreateQueue)")


def queue_already_exist(name: str) -> ServiceError:
    return ServiceError(409, "QueueAlreadyExist", f"The queue you want to create is already exist. (queue "
                        f"{name!r} exists with different attributes: use SetQueueAttributes or another name)")


def invalid_queue_name(name: str) -> ServiceError:
    return ServiceError(400, "InvalidQueueName", f"The queue name you provided is invalid. QueueName should "
                        f"start with alpha and contain only alpha, digit or - . (got {name!r}, at most 120 characters)")


def topic_not_exist(name: str) -> ServiceError:
    return ServiceError(404, "TopicNotExist", f"The topic name you provided is not exist. (topic {name!r}: "
                        "create it first with CreateTopic)")


def topic_already_exist(name: str) -> ServiceError:
    return ServiceError(409, "TopicAlreadyExist", f"The topic you want to create already exist. (topic "
                        f"{name!r} exists with different attributes)")


def invalid_topic_name(name: str) -> ServiceError:
    return ServiceError(400, "TopicNameInvalid", f"The topic name you provided is invalid. TopicName should "
                        f"start with alpha and contain only alpha, digit or - . (got {name!r})")


def subscription_not_exist(topic: str, name: str) -> ServiceError:
    return ServiceError(404, "SubscriptionNotExist", f"The subscription name you provided is not exist. "
                        f"(subscription {name!r} of topic {topic!r})")


def subscription_already_exist(topic: str, name: str) -> ServiceError:
    return ServiceError(409, "SubscriptionAlreadyExist", f"The subscription you want to create already exist. "
                        f"(subscription {name!r} of topic {topic!r} has a different endpoint or format)")


def endpoint_invalid(endpoint: str, why: str) -> ServiceError:
    return ServiceError(400, "EndpointInvalid", f"The endpoint you provided is invalid: {endpoint!r}. {why}")


def message_not_exist() -> ServiceError:
    return ServiceError(404, "MessageNotExist", "Message not exist.")


def receipt_handle_error(handle: str) -> ServiceError:
    return ServiceError(400, "ReceiptHandleError", f"The receipt handle you provide is not valid. (handle "
                        f"{handle!r} is unknown, was replaced by a newer receive or ChangeMessageVisibility, "
                        "or expired when the message became visible again: use the latest handle)")


def out_of_range(element: str, low: int, high: int, got: object, unit: str = "seconds") -> ServiceError:
    suffix = f" {unit}" if unit else ""
    return ServiceError(400, "InvalidArgument",
                        f"The value of {element} should between {low} and {high}{suffix}. (got {got!r})")


def not_an_integer(element: str, got: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument", f"The value of {element} must be an integer. (got {got!r})")


def malformed_xml(why: str) -> ServiceError:
    return ServiceError(400, "MalformedXML", f"The XML you provided was not well-formed. ({why})")


def schema_error(element: str) -> ServiceError:
    return ServiceError(400, "InvalidArgument", "The XML you provided did not validate against our published "
                        f"schema, cause by Element {element}.")


def missing(parameter: str) -> ServiceError:
    return ServiceError(400, f"Missing{parameter}", f"{parameter} is required.")


def invalid_request_url(method: str, path: str) -> ServiceError:
    return ServiceError(400, "InvalidRequestURL", f"Http request URL format invalid. ({method} {path} is not "
                        "an MNS operation)")


def too_many_requests() -> ServiceError:
    # MNS throttling: HTTP 429, code TooManyRequests (some MNS error lists give QpsLimitExceeded).
    return ServiceError(429, "TooManyRequests",
                        "The request is denied by cluster flow limiter for too many requests.")
