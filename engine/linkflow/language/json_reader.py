"""Strict JSON files, for data too large to write by hand (a world of 100,000 records).

The JSON itself is read by the one strict reader, linkflow.language.json_text; a file adds the
rules every file keeps, JSON or YAML (linkflow.language.yaml_loader): no control or invisible
bidirectional characters in the text, UTF-8 only, a size bound, and every problem named at
file:line:column rather than only the first.

- `quick_json` is the fast path: those character checks by one regular expression, then
  json_text's fast pass (the C decoder with strict hooks). It says only "this is fine, here
  is the value" or "something is wrong" (None).
- `parse_json` is the located path, run when the fast one says no: json_text's scanner,
  keeping the position of every key and value, like the YAML reader does.
- `located_later` gives a value the fast path accepted marks found on demand, for the rare
  later check (a schema) that needs a position.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from linkflow.errors import Problem
from linkflow.language.json_text import MISS, Scanner, fast_read, line_column, line_starts
from linkflow.language.yaml_loader import (
    MAX_FILE_BYTES,
    Document,
    bidi_problems,
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
_WS = re.compile(r"[ \t\n\r]*")


def quick_json(text: str) -> Any | None:
    """The value of a JSON text when the located reader would find no problem in it, else None.

    None never means "invalid" by itself: the caller then runs `parse_json`, which finds and
    locates the problem (or, for a false alarm such as an escaped emoji, the value)."""
    if "\x7f" in text if text.isascii() else _SUSPECT.search(text):
        return None
    value = fast_read(text)
    return None if value is MISS else value


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
            self._line_starts = line_starts(self.text)
        return line_column(self._line_starts, offset)

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
    problems = bidi_problems(text, file)
    if not text.strip(" \t\n\r"):
        problems.append(
            Problem(SourceLocation(file, 1, 1), "file is empty: expected a JSON object")
        )
        return None, problems
    scanner = Scanner(text, marks=True)
    value, whole = scanner.document()
    for found in scanner.found:
        where = line_column(scanner.line_starts, found.offset)
        problems.append(Problem(SourceLocation(file, *where), found.message))
    if not whole or scanner.value_marks is None or scanner.key_marks is None:
        return None, problems
    return Document(file, value, scanner.value_marks, scanner.key_marks), problems


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
