"""The one strict JSON reader: what every JSON text the engine is handed goes through.

Python's `json` takes duplicate keys (the last wins), NaN and Infinity, integers of any size
(until one past 4,300 digits fails), lone UTF-16 surrogates (text that cannot be written out
as UTF-8 later) and nesting until the interpreter's recursion limit. `read_json` takes what
`json.loads` takes minus those, and refuses with `JsonRefused`: a plain message that says why
and where (the path inside the document), and never repeats a value (a payload may hold a
password).

Two passes over a text, one of them usually:

- the fast one: the C `json` decoder with hooks that refuse duplicate keys, the constants and
  out-of-range numbers, then a compiled jsonschema-rs check of the nesting depth. It says only
  "here is the value" or "something is wrong";
- the located one, run when the fast one says no: a small scanner that keeps the position and
  path of every key and value (the world-file reader, linkflow.language.json_reader, also
  keeps them as marks) and finds the first problem, or, after a false alarm, the value.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Literal

from linkflow.language.validators import rust_validator
from linkflow.language.yaml_loader import MAX_DEPTH, MAX_SAFE_INTEGER, number_problem
from linkflow.source import DocPath

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"[ \t\n\r]*")
_SPACES = frozenset(" \t\n\r")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CONSTANTS = {"true": True, "false": False, "null": None}
_NOT_JSON = ("NaN", "Infinity", "-Infinity")
#: An integer with more digits than this is out of range whatever its digits.
_MAX_INT_CHARS = len(str(MAX_SAFE_INTEGER)) + 1
#: A key longer than this is cut short when a path is shown.
_SHOWN_KEY = 40
#: A path longer than this is shown by its first and last three parts.
_SHOWN_PARTS = 8


#: What kind of thing a refused text holds: callers that answer differently sort by it.
RefusalKind = Literal[
    "syntax", "duplicate-key", "not-finite", "out-of-range", "lone-surrogate", "too-deep"
]


class JsonRefused(ValueError):
    """A JSON text `read_json` refuses: `reason` says why (never quoting the text), `path` is
    where inside the document, `offset` where in the text. `kind` sorts refusals for callers
    that answer differently (the service answers json-too-deep for "too-deep")."""

    def __init__(self, kind: RefusalKind, reason: str, path: DocPath, offset: int) -> None:
        self.kind = kind
        self.reason = reason
        self.path = path
        self.offset = offset
        super().__init__(f"{reason} ({where(path)}, character {offset + 1})")


def where(path: DocPath) -> str:
    """A path inside a document in words: "at the top level", "at 'items.2.name'"; long keys
    are cut and unprintable characters escaped, so a hostile key cannot flood a message."""
    if not path:
        return "at the top level"
    parts = []
    for part in path:
        text = str(part)
        if len(text) > _SHOWN_KEY:
            text = text[: _SHOWN_KEY - 1] + "\u2026"
        if not text.isprintable():
            text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
        parts.append(text)
    if len(parts) > _SHOWN_PARTS:
        parts[3:-3] = ["\u2026"]
    return f"at '{'.'.join(parts)}'"


class _Refused(Exception):
    """Raised by the fast pass's hooks: the located pass will say what and where."""


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
def _depth_check(max_depth: int) -> Any | None:
    """A jsonschema-rs check that nothing nests deeper than `max_depth` containers: level k
    holds containers whose items are level k - 1, and level 0 holds no container. Walking
    100,000 records this way costs a few ms in Rust, against about 0.1 s in Python."""
    levels: dict[str, Any] = {"d0": {"type": ["string", "number", "boolean", "null"]}}
    for level in range(1, max_depth + 1):
        inner = {"$ref": f"#/$defs/d{level - 1}"}
        levels[f"d{level}"] = {"additionalProperties": inner, "items": inner}
    return rust_validator({"$ref": f"#/$defs/d{max_depth}", "$defs": levels})


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any key or string in `value` holds half a surrogate pair; run only when the
    text holds a `\\ud` escape (most often half of an escaped emoji, whose pair is whole)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) is str:
            if _LONE_SURROGATE.search(item):
                return True
        elif type(item) is dict:
            if any(_LONE_SURROGATE.search(key) for key in item):
                return True
            pending.extend(item.values())
        elif type(item) is list:
            pending.extend(item)
    return False


#: What the fast pass returns when it cannot vouch for a text (null is a JSON value).
MISS: Any = object()


def fast_read(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """The value of a JSON text when `read_json` would accept it, else MISS.

    MISS never means "refused" by itself: the located pass then finds and says what is wrong
    (or, after a false alarm, returns the value)."""
    try:
        value = _DECODER.decode(text)
    except (_Refused, ValueError, RecursionError):
        return MISS
    if isinstance(value, (dict, list)):
        depth = _depth_check(max_depth)
        try:
            if depth is None or not depth.is_valid(value):
                return MISS
        except ValueError:  # deeper than jsonschema-rs itself goes
            return MISS
    if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(value):
        return MISS
    return value


def read_json(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of one strict JSON text, or JsonRefused for the first thing wrong with it.

    Refused: text that is not JSON, duplicate keys, NaN, Infinity and -Infinity, numbers
    beyond ±(2**53 - 1) or that overflow (1e400), lone UTF-16 surrogates in keys or strings,
    and more than `max_depth` containers nested."""
    value = fast_read(text, max_depth)
    if value is not MISS:
        return value
    scanner = Scanner(text, max_depth=max_depth, first_only=True)
    try:
        value, _ = scanner.document()
    except RecursionError:  # a max_depth past what the interpreter's stack holds
        raise JsonRefused("too-deep", f"nesting is deeper than {max_depth} levels", (), 0) from None
    if scanner.found:
        raise scanner.found[0].refused()
    return value


@dataclass(frozen=True)
class Found:
    """One problem the scanner found: where in the text and in the document, and why."""

    offset: int
    path: DocPath
    kind: RefusalKind
    message: str

    def refused(self) -> JsonRefused:
        return JsonRefused(self.kind, self.message, self.path, self.offset)


class Stop(Exception):
    """Raised to stop at a problem after which nothing more can be read (or, reading for the
    first problem only, at any problem)."""


class Marks(dict[DocPath, Any]):
    """Positions kept as character offsets, turned into (line, column) only when looked up:
    a located read of a large file records millions of them and looks up a handful."""

    def __init__(self, line_starts: list[int]) -> None:
        super().__init__()
        self.line_starts = line_starts

    def __getitem__(self, path: DocPath) -> tuple[int, int]:
        return line_column(self.line_starts, super().__getitem__(path))


def line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def line_column(starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


class Scanner:
    """Reads one JSON text, recording the path and position of each problem, and with `marks`
    where each key and value starts.

    `first_only` stops at the first problem (a reader that refuses); otherwise it reads on
    past every problem it can (a file reader that names them all)."""

    def __init__(
        self,
        text: str,
        *,
        max_depth: int = MAX_DEPTH,
        first_only: bool = False,
        marks: bool = False,
    ) -> None:
        self.text = text
        self.max_depth = max_depth
        self.first_only = first_only
        self.found: list[Found] = []
        self._line_starts: list[int] | None = None
        self.value_marks: Marks | None = None
        self.key_marks: Marks | None = None
        if marks:
            self.value_marks = Marks(self.line_starts)
            self.key_marks = Marks(self.line_starts)

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = line_starts(self.text)
        return self._line_starts

    def problem(self, offset: int, path: DocPath, kind: RefusalKind, message: str) -> None:
        self.found.append(Found(offset, path, kind, message))
        if self.first_only:
            raise Stop

    def stop(self, offset: int, path: DocPath, message: str) -> Stop:
        if not self.first_only:  # among a file's other problems
            message = f"JSON syntax error: {message}"
        self.found.append(Found(offset, path, "syntax", message))
        return Stop()

    def skip(self, offset: int) -> int:
        if self.text[offset : offset + 1] not in _SPACES:
            return offset
        return _WS.match(self.text, offset).end()  # type: ignore[union-attr]

    def document(self) -> tuple[Any, bool]:
        """(the value, whether one was read whole); problems are in `found`."""
        start = self.skip(0)
        if start == len(self.text):
            self.found.append(Found(0, (), "syntax", "expected a JSON value, found none"))
            return None, False
        try:
            value, end = self.value(start, (), 0, True)
            end = self.skip(end)
            if end != len(self.text):
                raise self.stop(end, (), "more text after the JSON value: a text holds one value")
        except Stop:
            return None, False
        return value, True

    def value(self, at: int, path: DocPath, depth: int, marked: bool) -> tuple[Any, int]:
        """The value that starts at `at` and where it ends; `marked` False records no marks
        (the value of a duplicate key)."""
        if marked and self.value_marks is not None:
            self.value_marks[path] = at
        char = self.text[at : at + 1]
        if char in "{[" and depth and self.value_marks is None:
            sound = self.sound(at, depth)
            if sound is not None:
                return sound
        if char == "{":
            return self.mapping(at, path, depth, marked)
        if char == "[":
            return self.sequence(at, path, depth, marked)
        if char == '"':
            return self.string(at, path)
        word = self.word(at, path)
        if word is not None:
            return word
        number = _NUMBER.match(self.text, at)
        if number is None:
            raise self.stop(
                at, path, "expected a value (an object, list, string, number, true, false or null)"
            )
        return self.number(number, at, path), number.end()

    def word(self, at: int, path: DocPath) -> tuple[Any, int] | None:
        """true, false or null (or NaN or an infinity, reported and read as null) at `at` and
        where it ends, or None when no word starts there."""
        for name in _NOT_JSON:
            if self.text.startswith(name, at):
                message = (
                    f"{name} is not a JSON number: numbers must be finite (write null instead)"
                )
                self.problem(at, path, "not-finite", message)
                return None, at + len(name)
        for word, constant in _CONSTANTS.items():
            if self.text.startswith(word, at):
                return constant, at + len(word)
        return None

    def sound(self, at: int, depth: int) -> tuple[Any, int] | None:
        """The container at `at` and where it ends when the fast pass finds nothing wrong in
        it, else None (then it is read here, item by item). Looking for one problem in a large
        text this way steps over sound parts in C: the path to the problem is read in Python,
        not the whole text, so a refused 1 MiB body costs about what an accepted one does."""
        try:
            value, end = _DECODER.raw_decode(self.text, at)
        except (_Refused, ValueError, RecursionError):
            return None
        levels = self.max_depth - depth
        if end - at > 2 * levels:  # k levels of containers take 2k characters at least
            check = _depth_check(levels)
            try:
                if check is None or not check.is_valid(value):
                    return None
            except ValueError:
                return None
        if "\\ud" in self.text[at:end].lower() and _has_lone_surrogate(value):
            return None
        return value, end

    def number(self, match: re.Match[str], at: int, path: DocPath) -> Any:
        text = match.group()
        if match.group(1) is None and match.group(2) is None:
            if len(text) <= _MAX_INT_CHARS and abs(int(text)) <= MAX_SAFE_INTEGER:
                return int(text)
        else:
            number = float(text)
            if math.isfinite(number):
                return number
        self.problem(at, path, "out-of-range", number_problem())
        return None

    def string(self, at: int, path: DocPath) -> tuple[str, int]:
        try:
            text, end = scanstring(self.text, at + 1, True)
        except json.JSONDecodeError as err:
            raise self.stop(err.pos, path, err.msg.lower().removesuffix(" at")) from None
        if _LONE_SURROGATE.search(text):
            self.problem(
                at,
                path,
                "lone-surrogate",
                "a lone UTF-16 surrogate is not a character: write the character itself, or "
                "both halves of its escape",
            )
        return text, end

    def enter(self, at: int, path: DocPath, depth: int) -> None:
        if depth >= self.max_depth:
            self.found.append(
                Found(at, path, "too-deep", f"nesting is deeper than {self.max_depth} levels")
            )
            raise Stop

    def mapping(self, at: int, path: DocPath, depth: int, marked: bool) -> tuple[Any, int]:
        self.enter(at, path, depth)
        found: dict[str, Any] = {}
        key_offsets: dict[str, int] = {}
        offset = self.skip(at + 1)
        if self.text.startswith("}", offset):
            return found, offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.stop(offset, path, "expected a key in double quotes")
            key_at = offset
            key, offset = self.string(offset, path)
            offset = self.skip(offset)
            if not self.text.startswith(":", offset):
                raise self.stop(offset, path, "expected ':' after the key")
            offset = self.skip(offset + 1)
            child = (*path, key)
            if key in key_offsets:
                self.duplicate(key_at, child, key_offsets[key])
                _, offset = self.value(offset, child, depth + 1, False)
            else:
                key_offsets[key] = key_at
                if marked and self.key_marks is not None:
                    self.key_marks[child] = key_at
                found[key], offset = self.value(offset, child, depth + 1, marked)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("}", offset):
                return found, offset + 1
            raise self.stop(offset, path, "expected ',' or '}' after a value")

    def duplicate(self, at: int, path: DocPath, first_at: int) -> None:
        """A key seen before in the same object: a file names it and its first line (the file
        is the project's own); a reader that refuses names its path only."""
        if self.first_only:
            self.problem(at, path, "duplicate-key", "a key appears twice in one object")
            return
        first = line_column(self.line_starts, first_at)[0]
        message = f"duplicate key '{path[-1]}' (first defined at line {first})"
        self.problem(at, path, "duplicate-key", message)

    def sequence(self, at: int, path: DocPath, depth: int, marked: bool) -> tuple[Any, int]:
        self.enter(at, path, depth)
        found: list[Any] = []
        offset = self.skip(at + 1)
        if self.text.startswith("]", offset):
            return found, offset + 1
        while True:
            item, offset = self.value(offset, (*path, len(found)), depth + 1, marked)
            found.append(item)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset = self.skip(offset + 1)
                continue
            if self.text.startswith("]", offset):
                return found, offset + 1
            raise self.stop(offset, path, "expected ',' or ']' after an item")


__all__ = [
    "MAX_DEPTH",
    "MISS",
    "Found",
    "JsonRefused",
    "Marks",
    "RefusalKind",
    "Scanner",
    "Stop",
    "fast_read",
    "line_column",
    "line_starts",
    "read_json",
    "where",
]
