"""Which MNS operation a request is: method + path (+ a query flag or the body's root element)."""

from __future__ import annotations

from urllib.parse import unquote

from .. import errors


def raw_params(query: str) -> dict[str, str]:
    """Query parameters as the SDK writes them: values unencoded, so `+` and `=` are kept literally.

    (A receipt handle such as `1-ODU4...LTItOA==` goes into the URL as is; form decoding would
    turn a `+` into a space.)
    """
    params: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        params[unquote(name)] = unquote(value)
    return params


def route(method: str, path: str, query: str, body_head: bytes) -> tuple[str, list[str]]:
    """(action, names) e.g. ("SendMessage", ["my-queue"]); InvalidRequestURL when it is not an MNS call."""
    names = [unquote(s) for s in path.split("/") if s]
    params = raw_params(query)
    kind, rest = (names[0], names[1:]) if names else ("", [])
    override = params.get("metaoverride", "").lower() == "true"
    action = ""
    if kind == "queues":
        if not rest and method == "GET":
            action = "ListQueue"
        elif len(rest) == 1:
            action = {"PUT": "SetQueueAttributes" if override else "CreateQueue",
                      "GET": "GetQueueAttributes", "DELETE": "DeleteQueue"}.get(method, "")
        elif len(rest) == 2 and rest[1] == "messages":
            batch = "numOfMessages" in params
            if method == "POST":
                action = "BatchSendMessage" if b"<Messages" in body_head else "SendMessage"
            elif method == "GET" and params.get("peekonly", "").lower() == "true":
                action = "BatchPeekMessage" if batch else "PeekMessage"
            elif method == "GET":
                action = "BatchReceiveMessage" if batch else "ReceiveMessage"
            elif method == "DELETE":
                action = "DeleteMessage" if "ReceiptHandle" in params else "BatchDeleteMessage"
            elif method == "PUT":
                action = "ChangeMessageVisibility"
    elif kind == "topics":
        if not rest and method == "GET":
            action = "ListTopic"
        elif len(rest) == 1:
            action = {"PUT": "SetTopicAttributes" if override else "CreateTopic",
                      "GET": "GetTopicAttributes", "DELETE": "DeleteTopic"}.get(method, "")
        elif len(rest) == 2 and rest[1] == "messages" and method == "POST":
            action = "PublishMessage"
        elif len(rest) == 2 and rest[1] == "subscriptions" and method == "GET":
            action = "ListSubscriptionByTopic"
        elif len(rest) == 3 and rest[1] == "subscriptions":
            action = {"PUT": "SetSubscriptionAttributes" if override else "Subscribe",
                      "GET": "GetSubscriptionAttributes", "DELETE": "Unsubscribe"}.get(method, "")
    if not action:
        raise errors.invalid_request_url(method, path)
    return action, rest[0:1] + rest[2:3]  # queue/topic name, then subscription name
