"""MNS XML: request bodies in, response and error bodies out (namespace http://mns.aliyuncs.com/doc/v1/)."""

from __future__ import annotations

from typing import Iterable, Sequence
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from .. import errors

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'

Fields = Sequence[tuple[str, object]]
# Message properties as the SDK writes them: (Name, Value, Type) of each PropertyValue.
Properties = tuple[tuple[str, str, str], ...]
PROPERTY_ITEMS = {"UserProperties": "PropertyValue", "SystemProperties": "SystemPropertyValue"}


class Nested(tuple):  # type: ignore[type-arg]
    """An element whose children are repeated items: Nested(("PropertyValue", fields), ...)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _value(v: object) -> str:
    if isinstance(v, Nested):
        return "".join(f"<{item}>{_elements(fields)}</{item}>" for item, fields in v)
    return escape(str(v))


def _elements(fields: Fields) -> str:
    return "".join(f"<{k}>{_value(v)}</{k}>" for k, v in fields)


def properties_fields(user: Properties, system: Properties) -> list[tuple[str, object]]:
    """`<UserProperties><PropertyValue><Name/><Value/><Type/></PropertyValue>...` (only when there are some)."""
    out: list[tuple[str, object]] = []
    for container, props in (("UserProperties", user), ("SystemProperties", system)):
        if props:
            item = PROPERTY_ITEMS[container]
            out.append((container, Nested((item, [("Name", n), ("Value", v), ("Type", t)]) for n, v, t in props)))
    return out


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


def properties(element: ElementTree.Element, container: str) -> Properties:
    """The (Name, Value, Type) triples under `<container>` of a message element."""
    item = PROPERTY_ITEMS[container]
    found: list[tuple[str, str, str]] = []
    for child in element:
        if _local(child.tag) != container:
            continue
        for prop in child:
            if _local(prop.tag) == item:
                f = _fields(prop)
                if not f.get("Name"):
                    raise errors.schema_error(f"{container}.{item}.Name (required)")
                found.append((f["Name"], f.get("Value", ""), f.get("Type", "STRING") or "STRING"))
    return tuple(found)


def parse_messages(body: bytes, root: str, item: str | None = None
                   ) -> list[tuple[dict[str, str], Properties, Properties]]:
    """Message documents with their properties: one `<root>` or the `<item>` children of `<root>`."""
    top = _root(body, root)
    elements = [top] if item is None else [c for c in top if _local(c.tag) == item]
    return [(_fields(e), properties(e, "UserProperties"), properties(e, "SystemProperties")) for e in elements]


def parse(body: bytes, root: str) -> dict[str, str]:
    """Child elements of the `root` document as {name: text}; nested elements are ignored."""
    return _fields(_root(body, root))


def parse_list(body: bytes, root: str, item: str) -> list[dict[str, str]]:
    return [_fields(child) for child in _root(body, root) if _local(child.tag) == item]


def parse_values(body: bytes, root: str, item: str) -> list[str]:
    """Texts of the `item` children, e.g. the handles of a <ReceiptHandles> document."""
    return [child.text or "" for child in _root(body, root) if _local(child.tag) == item]
