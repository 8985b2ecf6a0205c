"""The XML bodies OSS clients send: CompleteMultipartUpload's part list and DeleteMultipleObjects'
key list (pure parsing; errors as OSS answers them)."""

from __future__ import annotations

from xml.etree import ElementTree

from .. import errors

MAX_DELETE_KEYS = 1000


def _root(body: bytes, what: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise errors.malformed_xml(f"{what} body is not XML") from None


def parse_complete(body: bytes) -> list[tuple[int, str]]:
    parts: list[tuple[int, str]] = []
    for node in _root(body, "CompleteMultipartUpload").findall("Part"):
        number, etag = node.findtext("PartNumber"), node.findtext("ETag")
        if number is None or etag is None or not number.strip().isdigit():
            raise errors.malformed_xml("each Part needs a numeric PartNumber and an ETag")
        parts.append((int(number), etag.strip()))
    return parts


def parse_delete(body: bytes) -> tuple[list[str], bool]:
    """(keys, quiet) of a `<Delete><Quiet/><Object><Key/></Object>…</Delete>` body."""
    root = _root(body, "DeleteMultipleObjects")
    if root.tag != "Delete":
        raise errors.malformed_xml("the root element must be Delete")
    keys = [node.findtext("Key") or "" for node in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS or not all(keys):
        raise errors.malformed_xml(f"Delete needs 1 to {MAX_DELETE_KEYS} Object elements, "
                                   "each with a non-empty Key")
    return keys, (root.findtext("Quiet") or "false").strip().lower() == "true"
