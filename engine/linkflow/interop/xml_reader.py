"""A safe XML reader that keeps where each element starts (line and column).

Built on expat directly, with what hostile XML uses refused before it can do harm: any
document type declaration (so no entity is ever defined: no "billion laughs", no external
entity, no DTD fetched), more than `MAX_BYTES` of text, elements nested deeper than
`MAX_DEPTH` and more than `MAX_ELEMENTS` elements. Each refusal is a located problem.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field

from linkflow.errors import Problem
from linkflow.source import SourceLocation

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 100_000


def too_large(size: int) -> str:
    return f"the file is {size:,} bytes; at most {MAX_BYTES:,} bytes (5 MiB) are read"


@dataclass
class Element:
    """An element: its namespace and local name, attributes ("ns local" or "local"), children,
    text, and where its start tag begins."""

    namespace: str
    name: str
    attrs: dict[str, str]
    location: SourceLocation
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def attr(self, namespace: str, name: str) -> str | None:
        return self.attrs.get(f"{namespace} {name}")


class _Refused(Exception):
    def __init__(self, message: str, location: SourceLocation) -> None:
        super().__init__(message)
        self.location = location


def _split(tag: str) -> tuple[str, str]:
    namespace, _, local = tag.rpartition(" ")
    return namespace, local


def read_xml(text: str | bytes, file: str) -> tuple[Element | None, list[Problem]]:
    """The document's root element, or None and the problem that stopped the reading."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_BYTES:
        return None, [Problem(SourceLocation(file, 1, 1), too_large(len(data)))]
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[Element] = []
    root: list[Element] = []
    count = 0

    def here() -> SourceLocation:
        return SourceLocation(file, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise _Refused(f"more than {MAX_ELEMENTS} elements", here())
        if len(stack) >= MAX_DEPTH:
            raise _Refused(f"elements nested more than {MAX_DEPTH} deep", here())
        namespace, name = _split(tag)
        element = Element(namespace, name, dict(attrs), here())
        (stack[-1].children if stack else root).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    def doctype(*_: object) -> None:
        # expat reports this once the declaration's name is read: point at its start instead
        start = data.find(b"<!DOCTYPE")
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise _Refused(
            "a document type declaration (<!DOCTYPE ...>) is not accepted: entities and "
            "external references are refused",
            SourceLocation(file, line, column) if start >= 0 else here(),
        )

    def entity(*_: object) -> None:
        raise _Refused("entity declarations are not accepted", here())

    def external(*_: object) -> int:
        raise _Refused("external entities are not accepted", here())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    try:
        parser.Parse(data, True)
    except _Refused as err:
        return None, [Problem(err.location, str(err))]
    except xml.parsers.expat.ExpatError as err:
        message = (
            xml.parsers.expat.errors.messages.get(err.code, str(err)) if err.code else str(err)
        )
        location = SourceLocation(file, err.lineno, err.offset + 1)
        return None, [Problem(location, f"not well-formed XML: {message}")]
    if not root:
        return None, [Problem(SourceLocation(file, 1, 1), "the file holds no XML element")]
    return root[0], []
