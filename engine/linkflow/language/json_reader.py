"""Strict JSON files, for data too large to write by hand (a world of 100,000 records).

Two readers that accept exactly the same texts:

- `quick_json` is the fast path: the C `json` decoder with hooks that refuse duplicate keys,
  NaN/Infinity and out-of-range numbers, a regular expression over the text for characters a
  file must not hold, and a compiled jsonschema-rs check of the nesting depth. It says only
  "this is fine, here is the value" or "something is wrong" (None).
- `parse_json` is the located path, run when the fast one says no (or when marks are needed):
  a small scanner that keeps the position of every key and value, like the YAML reader does,
  and names each problem at file:line:column.

The guarantees are the YAML reader's (linkflow.language.yaml_loader): one value per key,
numbers within ±(2**53 - 1) and finite, nesting at most MAX_DEPTH levels, no control or
invisible bidirectional characters in the text, UTF-8 only. JSON has no tags, anchors or
aliases to refuse. Strings that hold a lone UTF-16 surrogate (`"\\ud800"`) are refused too:
they cannot be written out as UTF-8 later.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from functools import cache
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from linkflow.errors import Problem
from linkflow.language.yaml_loader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_SAFE_INTEGER,
    Document,
    bidi_problems,
    number_problem,
    position,
    read_file,
    read_text,
)
from linkflow.source import DocPath, SourceLocation

#: The largest JSON file read: 32 MiB holds about 200,000 records of a few fields (a world of
#: 100,000 records is about 16 MB). YAML files keep their own bound, MAX_FILE_BYTES: YAML is
#: for what people write by hand, and its located reader takes about a second per MiB.
MAX_JSON_BYTES = 32 * 1024 * 1024

#: What no file may hold, as PyYAML's reader defines it (so JSON and YAML refuse the same raw
#: characters).
_UNPRINTABLE = "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
#: The same, plus the bidirectional controls of yaml_loader.BIDI_CONTROLS, as one character
#: class: the fast path's one pass over a text that is not plain ASCII.
_SUSPECT = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\u061b\u061d-\u200d\u2010-\u2029\u202f-\u2065"
    "\u206a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_UNPRINTABLE_RE = re.compile(_UNPRINTABLE)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"[ \t\n\r]*")
_SPACES = frozenset(" \t\n\r")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CONSTANTS = {"true": True, "false": False, "null": None}
_NOT_JSON = ("NaN", "Infinity", "-Infinity")
#: An integer with more digits than this is out of range whatever its digits.
_MAX_INT_CHARS = len(str(MAX_SAFE_INTEGER)) + 1


class _Refused(Exception):
    """Raised by the fast path's hooks: the located reader will say what and where."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Refused
    return found


def _constant(_: str) -> Any:
    raise _Refused


def _int(text: str) -> int:
    if len(text) > _MAX_INT_CHARS:
        raise _Refused
    number = int(text)
    if abs(number) > MAX_SAFE_INTEGER:
        raise _Refused
    return number


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Refused
    return number


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int, parse_float=_float
)


@cache
def _depth_validator() -> Any:
    """A jsonschema-rs check that nothing nests deeper than MAX_DEPTH containers: level k
    holds containers whose items are level k - 1, and level 0 holds no container. Walking
    100,000 records this way costs a few ms in Rust, against about 0.1 s in Python."""
    import jsonschema_rs

    levels: dict[str, Any] = {"d0": {"type": ["string", "number", "boolean", "null"]}}
    for level in range(1, MAX_DEPTH + 1):
        inner = {"$ref": f"#/$defs/d{level - 1}"}
        levels[f"d{level}"] = {"additionalProperties": inner, "items": inner}
    schema = {"$ref": f"#/$defs/d{MAX_DEPTH}", "$defs": levels}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=False)


def quick_json(text: str) -> Any | None:
    """The value of a JSON text when the located reader would find no problem in it, else None.

    None never means "invalid" by itself: the caller then runs `parse_json`, which finds and
    locates the problem (or, for a false alarm such as an escaped emoji, the value)."""
    if "\\ud" in text or "\\uD" in text:  # usually half an escaped emoji: is it whole?
        return None
    if "\x7f" in text if text.isascii() else _SUSPECT.search(text):
        return None
    try:
        value = _DECODER.decode(text)
    except (_Refused, ValueError, RecursionError):
        return None
    try:
        within = _depth_validator().is_valid(value)
    except ValueError:  # deeper than jsonschema-rs itself goes
        return None
    return value if within else None


class _Stop(Exception):
    """Raised to stop at a problem after which nothing more can be read."""


class _Marks(dict[DocPath, Any]):
    """Positions kept as character offsets, turned into (line, column) only when looked up:
    a located read of a large file records millions of them and looks up a handful."""

    def __init__(self, line_starts: list[int]) -> None:
        super().__init__()
        self.line_starts = line_starts

    def __getitem__(self, path: DocPath) -> tuple[int, int]:
        return _line_column(self.line_starts, super().__getitem__(path))


def _line_column(line_starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect_right(line_starts, offset)
    return line, offset - line_starts[line - 1] + 1


class _Scanner:
    """Reads one JSON text, recording where each key and value starts."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.problems: list[Problem] = []
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self.value_marks = _Marks(self.line_starts)
        self.key_marks = _Marks(self.line_starts)

    def problem(self, offset: int, message: str) -> None:
        where = _line_column(self.line_starts, offset)
        self.problems.append(Problem(SourceLocation(self.file, *where), message))

    def stop(self, offset: int, message: str) -> _Stop:
        self.problem(offset, f"JSON syntax error: {message}")
        return _Stop()

    def skip(self, offset: int) -> int:
        if self.text[offset : offset + 1] not in _SPACES:
            return offset
        return _WS.match(self.text, offset).end()  # type: ignore[union-attr]

    def value(self, at: int, path: DocPath | None, depth: int) -> tuple[Any, int]:
        """The value that starts at `at` and where it ends; `path` None records no marks
        (the value of a duplicate key)."""
        if path is not None:
            self.value_marks[path] = at
        char = self.text[at : at + 1]
        if char == "{":
            return self.mapping(at, path, depth)
        if char == "[":
            return self.sequence(at, path, depth)
        if char == '"':
            return self.string(at)
        for name in _NOT_JSON:
            if self.text.startswith(name, at):
                self.problem(
                    at, f"{name} is not a JSON number: numbers must be finite (write null instead)"
                )
                return None, at + len(name)
        for word, constant in _CONSTANTS.items():
            if self.text.startswith(word, at):
                return constant, at + len(word)
        number = _NUMBER.match(self.text, at)
        if number is None:
            raise self.stop(
                at, "expected a value (an object, list, string, number, true, false or null)"
            )
        return self.number(number, at), number.end()

    def number(self, match: re.Match[str], at: int) -> Any:
        text = match.group()
        if match.group(1) is None and match.group(2) is None:
            if len(text) <= _MAX_INT_CHARS and abs(int(text)) <= MAX_SAFE_INTEGER:
                return int(text)
        else:
            number = float(text)
            if math.isfinite(number):
                return number
        self.problem(at, number_problem())
        return None

    def string(self, at: int) -> tuple[str, int]:
        try:
            text, end = scanstring(self.text, at + 1, True)
        except json.JSONDecodeError as err:
            raise self.stop(err.pos, err.msg.lower()) from None
        lone = _LONE_SURROGATE.search(text)
        if lone is not None:
            self.problem(
                at,
                f"a lone UTF-16 surrogate (\\u{ord(lone.group()):04x}) is not a character: "
                "write the character itself, or both halves of its escape",
            )
        return text, end

    def enter(self, at: int, depth: int) -> None:
        if depth >= MAX_DEPTH:
            self.problem(at, f"nesting is deeper than {MAX_DEPTH} levels")
            raise _Stop

    def mapping(self, at: int, path: DocPath | None, depth: int) -> tuple[Any, int]:
        self.enter(at, depth)
        found: dict[str, Any] = {}
        key_offsets: dict[str, int] = {}
        offset = self.skip(at + 1)
        if self.text.startswith("}", offset):
            return found, offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.stop(offset, "expected a key in double quotes")
            key_at = offset
            key, offset = self.string(offset)
            offset = self.skip(offset)
            if not self.text.startswith(":", offset):
                raise self.stop(offset, "expected ':' after the key")
            offset = self.skip(offset + 1)
            if key in key_offsets:
                first = _line_column(self.line_starts, key_offsets[key])[0]
                self.problem(key_at, f"duplicate key '{key}' (first defined at line {first})")
                _, offset = self.value(offset, None, depth + 1)
            else:
                key_offsets[key] = key_at
                child = None if path is None else (*path, key)
                if child is not None:
                    self.key_marks[child] = key_at
                found[key], offset = self.value(offset, child, depth + 1)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("}", offset):
                return found, offset + 1
            raise self.stop(offset, "expected ',' or '}' after a value")

    def sequence(self, at: int, path: DocPath | None, depth: int) -> tuple[Any, int]:
        self.enter(at, depth)
        found: list[Any] = []
        offset = self.skip(at + 1)
        if self.text.startswith("]", offset):
            return found, offset + 1
        while True:
            child = None if path is None else (*path, len(found))
            item, offset = self.value(offset, child, depth + 1)
            found.append(item)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("]", offset):
                return found, offset + 1
            raise self.stop(offset, "expected ',' or ']' after an item")


_PLAIN_DECODER = json.JSONDecoder()
_COUNTED_LOOKUPS = 32


class _Index:
    """Where the keys and values of a JSON text start, found on demand.

    For a text `quick_json` accepted whose value then fails a schema check: locating a few
    refused records by indexing only the containers on their way (a sibling is skipped by the
    C decoder) costs a fraction of a located read of every value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[DocPath, tuple[int | None, int]] = {(): (None, self.skip(0))}
        #: Per container being indexed: where to go on reading its children (None: done).
        self.resume: dict[DocPath, int | None] = {}
        #: Per list being indexed: how many items are indexed so far.
        self.items: dict[DocPath, int] = {}
        #: Per container being indexed: its last child indexed, whose value is not stepped
        #: over yet (`resume` is where that value starts).
        self.last: dict[DocPath, DocPath] = {}
        #: Where a container read through to its end ends.
        self.ends: dict[DocPath, int] = {}
        self._line_starts: list[int] | None = None
        self.lookups = 0

    def skip(self, offset: int) -> int:
        return _WS.match(self.text, offset).end()  # type: ignore[union-attr]

    def line_column(self, offset: int) -> tuple[int, int]:
        """Counted for the first few look-ups (a few ms each in a large file); a table of
        line starts (a few hundred ms to build) serves the rest."""
        self.lookups += 1
        if self._line_starts is None and self.lookups <= _COUNTED_LOOKUPS:
            return position(self.text, offset)
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        return _line_column(self._line_starts, offset)

    def offsets(self, path: DocPath) -> tuple[int | None, int] | None:
        """(where the key starts, where the value starts), or None when there is no `path`."""
        while path not in self.found:
            if not path or self.offsets(path[:-1]) is None or not self.read_on(path[:-1]):
                return None
        return self.found[path]

    def read_on(self, parent: DocPath) -> bool:
        """Index the next child of the container at `parent`; False when there is none.

        A child's value is stepped over only when the next child is asked for, and by the end
        of its own index when it was read through (the containers on the way to a record are
        never decoded whole)."""
        text = self.text
        if parent not in self.resume:
            start = self.found[parent][1]
            if text[start] not in "{[":
                return False
            self.resume[parent] = self.skip(start + 1)
        offset = self.resume[parent]
        if offset is None:
            return False
        last = self.last.pop(parent, None)
        if last is not None:  # step over the previous child's value
            offset = self.ends.get(last) or _PLAIN_DECODER.raw_decode(text, offset)[1]
            offset = self.skip(offset)
            if text[offset] != ",":
                self.resume[parent] = None
                self.ends[parent] = offset + 1
                return False
            offset = self.skip(offset + 1)
        elif text[offset] in "}]":
            self.resume[parent] = None
            self.ends[parent] = offset + 1
            return False
        key_at: int | None = None
        if text[self.found[parent][1]] == "{":
            key_at = offset
            key, offset = scanstring(text, offset + 1, True)
            offset = self.skip(self.skip(offset) + 1)
            child: DocPath = (*parent, key)
        else:
            child = (*parent, self.items.get(parent, 0))
            self.items[parent] = child[-1] + 1  # type: ignore[operator]
        self.found[child] = (key_at, offset)
        self.resume[parent] = offset
        self.last[parent] = child
        return True


class _OnDemand(dict[DocPath, Any]):
    """Marks read from an `_Index` when asked for (keys, or values)."""

    def __init__(self, index: _Index, keys: bool) -> None:
        super().__init__()
        self.index = index
        self.of_keys = keys

    def _offset(self, path: object) -> int | None:
        if not isinstance(path, tuple):
            return None
        found = self.index.offsets(path)
        if found is None:
            return None
        return found[0] if self.of_keys else found[1]

    def __contains__(self, path: object) -> bool:
        return self._offset(path) is not None

    def __getitem__(self, path: DocPath) -> tuple[int, int]:
        offset = self._offset(path)
        if offset is None:
            raise KeyError(path)
        return self.index.line_column(offset)


def located_later(text: str, file: str, value: Any) -> Document:
    """A Document for a text `quick_json` accepted (its `value`), whose marks are found when a
    problem needs one."""
    index = _Index(text)
    return Document(file, value, _OnDemand(index, keys=False), _OnDemand(index, keys=True))


def parse_json(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse JSON text, locating every key and value; the document is None when nothing usable
    could be read (a syntax error, nesting too deep, a character no file may hold)."""
    bad = _UNPRINTABLE_RE.search(text)
    if bad is not None:
        char = bad.group()
        message = (
            f"U+{ord(char):04X} cannot appear in a file: remove it, or write it as an escape "
            "in a string"
        )
        return None, [Problem(SourceLocation(file, *position(text, bad.start())), message)]
    scanner = _Scanner(text, file)
    scanner.problems.extend(bidi_problems(text, file))
    start = scanner.skip(0)
    if start == len(text):
        scanner.problem(0, "file is empty: expected a JSON object")
        return None, scanner.problems
    try:
        value, end = scanner.value(start, (), 0)
        end = scanner.skip(end)
        if end != len(text):
            raise scanner.stop(end, "more text after the JSON value: a file holds one value")
    except _Stop:
        return None, scanner.problems
    return Document(file, value, scanner.value_marks, scanner.key_marks), scanner.problems


def is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def read_document(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """A YAML or JSON file (by its suffix), located; JSON files may be up to MAX_JSON_BYTES and
    take the fast path first."""
    if not is_json(path):
        return read_file(path, display)
    name = display or str(path)
    text, problems = read_text(path, name, MAX_JSON_BYTES)
    if text is None:
        return None, problems
    value = quick_json(text)
    if value is not None:  # sound: positions are found when a later check needs one
        return located_later(text, name, value), []
    return parse_json(text, name)


__all__ = [
    "MAX_FILE_BYTES",
    "MAX_JSON_BYTES",
    "located_later",
    "parse_json",
    "quick_json",
    "read_document",
]
