"""A strict YAML reader that keeps the position of every node.

It builds plain values straight from the parser's event stream, so nothing YAML can smuggle in
(anchors, aliases, merge keys, explicit tags, several documents) ever becomes a value: each is a
located problem instead. Plain scalars follow the YAML 1.2 core schema, so `NO`, `on` and `yes`
stay strings and dates stay text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from linkflow.errors import Problem
from linkflow.source import DocPath, SourceLocation

MAX_FILE_BYTES = 1024 * 1024
#: How a file refused for its size is described (callers add where to go instead).
TOO_LARGE = "file is larger than"
MAX_DEPTH = 32
_STANDARD_TAGS = "tag:yaml.org,2002:"
#: The largest whole number a definition may hold: the range JSON (and JavaScript) keep exact.
#: Bigger ones cannot even be turned into text past 4,300 digits, and no setting needs them.
MAX_SAFE_INTEGER = 2**53 - 1
#: What `resolve_plain` gives for a number out of range: the builder reports it, located.
OUT_OF_RANGE: Any = type("OutOfRange", (), {"__repr__": lambda self: "OUT_OF_RANGE"})()
_MAX_NUMBER_CHARS = 64

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
#: The integer forms: decimal, octal (0o) and hexadecimal (0x), with the prefix each skips.
_INTEGERS = ((_INT10, 0, 10), (_INT8, 2, 8), (_INT16, 2, 16))

try:  # libyaml is much faster; fall back to the pure-Python parser where it is missing.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Document:
    """A parsed file: its value and where each part of it stands."""

    file: str
    value: Any
    value_marks: dict[DocPath, tuple[int, int]] = field(repr=False)
    key_marks: dict[DocPath, tuple[int, int]] = field(repr=False)

    def locate(self, path: DocPath, *, key: bool = False) -> SourceLocation:
        """Where `path` stands; the key's position if asked, else the nearest known ancestor's."""
        if key and path in self.key_marks:
            return SourceLocation(self.file, *self.key_marks[path])
        probe = tuple(path)
        while True:
            if probe in self.value_marks:
                return SourceLocation(self.file, *self.value_marks[probe])
            if not probe:
                return SourceLocation(self.file, 1, 1)
            probe = probe[:-1]


class YamlProblems(Exception):
    """Raised internally to stop at a problem after which nothing more can be read."""


def resolve_plain(text: str) -> Any:
    """The YAML 1.2 core schema for plain (unquoted) scalars."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    for pattern, prefix, base in _INTEGERS:
        if pattern.match(text):
            too_long = len(text) > _MAX_NUMBER_CHARS
            return _in_range(None if too_long else int(text[prefix:], base))
    if _FLOAT.match(text):
        number = float(text)
        return number if math.isfinite(number) else OUT_OF_RANGE
    return text


def _in_range(number: int | None) -> Any:
    if number is None or abs(number) > MAX_SAFE_INTEGER:
        return OUT_OF_RANGE
    return number


def number_problem() -> str:
    return (
        f"number out of range: numbers are limited to {MAX_SAFE_INTEGER:,} either way "
        "(quote it to keep it as text)"
    )


def _mark(event: Any) -> tuple[int, int]:
    return (event.start_mark.line + 1, event.start_mark.column + 1)


class _Builder:
    """Turns the parser's events into values, with marks, and collects problems on the way."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.value_marks: dict[DocPath, tuple[int, int]] = {}
        self.key_marks: dict[DocPath, tuple[int, int]] = {}
        #: anchor name -> (index of its problem, how often it is used)
        self.aliases: dict[str, tuple[int, int]] = {}

    def problem(self, mark: tuple[int, int], message: str) -> None:
        self.problems.append(Problem(SourceLocation(self.file, *mark), message))

    def alias(self, event: Any) -> None:
        """Report the first use of each anchor; count the rest, so a bomb stays one line."""
        name = event.anchor
        if name in self.aliases:
            index, count = self.aliases[name]
            self.aliases[name] = (index, count + 1)
            first = self.problems[index]
            self.problems[index] = Problem(
                first.location,
                f"aliases are not allowed (*{name}, used {count + 1} times): "
                "write the value out in full",
            )
            return
        self.aliases[name] = (len(self.problems), 1)
        self.problem(
            _mark(event), f"aliases are not allowed (*{name}): write the value out in full"
        )

    def check_node(self, event: Any) -> None:
        if getattr(event, "anchor", None) is not None:
            self.problem(
                _mark(event),
                f"anchors are not allowed (&{event.anchor}): write the value out in full",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            shown = (
                "!!" + tag.removeprefix(_STANDARD_TAGS) if tag.startswith(_STANDARD_TAGS) else tag
            )
            self.problem(
                _mark(event), f"explicit tags are not allowed ({shown}): write a plain value"
            )

    def build(self, events: Any) -> Any:
        """Consume one document's node events and return its value."""
        # Each frame: [container, path, pending_key (for mappings), keys_seen]
        stack: list[list[Any]] = []
        root: Any = None
        for event in events:
            if isinstance(event, yaml.AliasEvent):
                self.alias(event)
                value: Any = None
                node_mark = _mark(event)
                is_container = False
            elif isinstance(event, yaml.ScalarEvent):
                self.check_node(event)
                plain = not event.style and event.tag is None  # `! 2` is the string "2"
                value = resolve_plain(event.value) if plain else event.value
                node_mark = _mark(event)
                if value is OUT_OF_RANGE:
                    self.problem(node_mark, number_problem())
                    value = None
                is_container = False
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self.check_node(event)
                if len(stack) >= MAX_DEPTH:
                    self.problem(_mark(event), f"nesting is deeper than {MAX_DEPTH} levels")
                    raise YamlProblems
                value = {} if isinstance(event, yaml.MappingStartEvent) else []
                node_mark = _mark(event)
                is_container = True
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frame = stack.pop()
                if not stack:
                    return frame[0]
                continue
            else:  # DocumentEnd and anything unexpected end the document
                return root

            if not stack:
                root = value
                self.value_marks[()] = node_mark
                if is_container:
                    stack.append([value, (), None, set()])
                    continue
                return root

            self.attach(stack, value, node_mark, is_container, event, events)
        return root

    def attach(
        self,
        stack: list[list[Any]],
        value: Any,
        node_mark: tuple[int, int],
        is_container: bool,
        event: Any,
        events: Any,
    ) -> None:
        """Put a node into the container on top of the stack (as a key, a value or an item)."""
        parent = stack[-1]
        container, path = parent[0], parent[1]
        if isinstance(container, dict):
            if parent[2] is None:  # this node is a key
                self.take_key(parent, value, node_mark, is_container, event)
                if is_container:  # a complex key: skip its events, it is already reported
                    self.skip_container(events)
                return
            key = parent[2]
            parent[2] = None
            if key is _INVALID:
                if is_container:
                    self.skip_container(events)
                return
            child_path = (*path, key)
            container[key] = value
        else:
            child_path = (*path, len(container))
            container.append(value)
        self.value_marks[child_path] = node_mark
        if is_container:
            stack.append([value, child_path, None, set()])

    def take_key(
        self, frame: list[Any], key: Any, mark: tuple[int, int], is_container: bool, event: Any
    ) -> None:
        _, path, _, seen = frame
        if is_container:
            self.problem(mark, "keys must be plain strings, not mappings or lists")
            frame[2] = _INVALID
            return
        if key == "<<" and not getattr(event, "style", None):
            self.problem(mark, "merge keys (<<) are not allowed: write the keys out in full")
            frame[2] = _INVALID
            return
        if not isinstance(key, str):
            shown = "null" if key is None else str(key).lower() if isinstance(key, bool) else key
            self.problem(mark, f"keys must be strings, got {shown!s}: quote it, as in '{shown}'")
            frame[2] = _INVALID
            return
        if key in seen:
            first = self.key_marks[(*path, key)]
            self.problem(mark, f"duplicate key '{key}' (first defined at line {first[0]})")
            frame[2] = _INVALID
            return
        seen.add(key)
        self.key_marks[(*path, key)] = mark
        frame[2] = key

    @staticmethod
    def skip_container(events: Any) -> None:
        depth = 1
        for event in events:
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
                if depth == 0:
                    return


_INVALID = object()


#: Invisible characters that reorder how text is shown ("Trojan Source"): a file that reads one
#: way on screen could mean another.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def bidi_problems(text: str, file: str) -> list[Problem]:
    """Every invisible bidirectional control character in `text`, located (YAML and JSON)."""
    if BIDI_CONTROLS.isdisjoint(text):
        return []
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        for column, char in enumerate(line, 1):
            if char in BIDI_CONTROLS:
                name = unicodedata.name(char, "bidirectional control")
                found.append(
                    Problem(
                        SourceLocation(file, number, column),
                        f"invisible bidirectional control character U+{ord(char):04X} ({name}): "
                        "it makes text show differently from what it says; remove it",
                    )
                )
    return found


def _syntax_error(err: yaml.MarkedYAMLError, text: str) -> tuple[tuple[int, int], str]:
    """Where a syntax error stands and what it is, naming where the broken part began."""
    mark = err.problem_mark or err.context_mark
    where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    detail = err.problem or err.context or "invalid YAML"
    lines = text.split("\n")
    if mark and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
        return where, "a tab cannot indent YAML: use spaces"
    start = err.context_mark
    if err.context and start and (start.line + 1, start.column + 1) != where:
        what = err.context.removeprefix("while parsing ").removeprefix("while scanning ")
        detail += f" (in {what} that starts at line {start.line + 1}, column {start.column + 1})"
    return where, detail


def position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (from 1) of a character offset into the text."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _reader_message(err: yaml.reader.ReaderError) -> str:
    char = err.character
    code = f"U+{char:04X}" if isinstance(char, int) else "a character"
    name = unicodedata.name(chr(char), "control character") if isinstance(char, int) else ""
    shown = f" ({name})" if name else ""
    return f"{code}{shown} cannot appear in YAML: remove it, or write it as an escape in quotes"


def parse_text(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text; the document is None when nothing usable could be read."""
    builder = _Builder(file)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        builder.problem((1, 1), f"file is larger than {MAX_FILE_BYTES // 1024} KiB")
        return None, builder.problems
    builder.problems.extend(bidi_problems(text, file))
    events = iter(yaml.parse(text, Loader=_Loader))
    try:
        root, documents = _read_document(builder, events)
    except (yaml.YAMLError, YamlProblems) as err:
        if isinstance(err, yaml.YAMLError):
            builder.problem(*_yaml_error(err, text))
        return None, builder.problems
    if documents == 0 or root is None:
        builder.problem((1, 1), "file is empty: expected a mapping of keys")
        return None, builder.problems
    doc = Document(file, root, builder.value_marks, builder.key_marks)
    return doc, builder.problems


def _read_document(builder: _Builder, events: Any) -> tuple[Any, int]:
    """The first document's value, and how many documents were begun (a second is refused)."""
    root: Any = None
    documents = 0
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                builder.problem(
                    _mark(event),
                    "a file holds one document; remove the second '---' and what follows",
                )
                break
            root = builder.build(events)
    return root, documents


def _yaml_error(err: yaml.YAMLError, text: str) -> tuple[tuple[int, int], str]:
    """Where the YAML reader stopped, and why in plain words."""
    if isinstance(err, yaml.MarkedYAMLError):
        where, detail = _syntax_error(err, text)
        return where, f"YAML syntax error: {detail}"
    if isinstance(err, yaml.reader.ReaderError):
        return position(text, err.position), _reader_message(err)
    return (1, 1), f"YAML error: {str(err).splitlines()[0]}"


def read_text(path: Path, name: str, limit: int) -> tuple[str | None, list[Problem]]:
    """A file's text, or located problems: too large (judged by its size, before reading),
    unreadable, or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > limit:
            msg = f"{TOO_LARGE} {limit // 1024} KiB ({size // 1024} KiB)"
            return None, [Problem(SourceLocation(name, 1, 1), msg)]
        raw = path.read_bytes()
    except OSError as err:
        return None, [Problem(SourceLocation(name), f"cannot read file: {err.strerror}")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        before = raw[raw.rfind(b"\n", 0, err.start) + 1 : err.start]
        column = len(before.decode("utf-8", "replace")) + 1
        byte = raw[err.start]
        message = f"file is not valid UTF-8 text (byte 0x{byte:02X} here): save it as UTF-8"
        return None, [Problem(SourceLocation(name, line, column), message)]


def read_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and parse a file, turning I/O and encoding failures into located problems."""
    name = display or str(path)
    text, problems = read_text(path, name, MAX_FILE_BYTES)
    if text is None:
        return None, problems
    return parse_text(text, name)
