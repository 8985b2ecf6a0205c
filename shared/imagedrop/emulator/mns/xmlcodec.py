"""MNS XML: request bodies in, response and error bodies out (namespace http://mns.aliyuncs.com/doc/v1/)."""

from __future__ import annotations

from typing import Iterable, Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from . import errors

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'

Fields = Sequence[tuple[str, object]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _elements(fields: Fields) -> str:
    return "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields)


def render(root: str, fields: Fields) -> bytes:
    return f'{PROLOG}<{root} xmlns="{XMLNS}">{_elements(fields)}</{root}>'.encode("utf-8")


def render_list(root: str, item: str, items: Iterable[Fields], tail: Fields = ()) -> bytes:
    inner = "".join(f"<{item}>{_elements(fields)}</{item}>" for fields in items)
    return f'{PROLOG}<{root} xmlns="{XMLNS}">{inner}{_elements(tail)}</{root}>'.encode("utf-8")


def _root(body: bytes, expected: str) -> ElementTree.Element:
    if not body.strip():
        raise errors.malformed_xml(f"the body is empty; expected a <{expected}> document")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise errors.malformed_xml(str(exc)) from None
    if _local(root.tag) != expected:
        raise errors.schema_error(f"{_local(root.tag)} (the root element must be {expected})")
    return root


def _fields(element: ElementTree.Element) -> dict[str, str]:
    return {_local(child.tag): child.text or "" for child in element}


def parse(body: bytes, root: str) -> dict[str, str]:
    """Child elements of the `root` document as {name: text}; nested elements are ignored."""
    return _fields(_root(body, root))


def parse_list(body: bytes, root: str, item: str) -> list[dict[str, str]]:
    return [_fields(child) for child in _root(body, root) if _local(child.tag) == item]


def parse_values(body: bytes, root: str, item: str) -> list[str]:
    """Texts of the `item` children, e.g. the handles of a <ReceiptHandles> document."""
    return [child.text or "" for child in _root(body, root) if _local(child.tag) == item]
