"""The strict YAML reader: YAML 1.2 core scalars, 1-based marks, and everything it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkflow.language.yaml_loader import MAX_DEPTH, MAX_FILE_BYTES, Document, parse_text, read_file
from linkflow.source import SourceLocation


def value_of(text: str) -> Any:
    doc, problems = parse_text(text, "f.yaml")
    assert problems == []
    assert doc is not None
    return doc.value


def messages(text: str) -> list[str]:
    doc, problems = parse_text(text, "f.yaml")
    assert problems, f"{text!r} was accepted as {doc}"
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ("NO", "NO"),  # Norway, not false
        ("no", "no"),
        ("No", "No"),
        ("yes", "yes"),
        ("Yes", "Yes"),
        ("on", "on"),
        ("off", "off"),
        ("OFF", "OFF"),
        ("y", "y"),
        ("n", "n"),
        ("2026-02-01", "2026-02-01"),  # no date objects
        ("12:30:00", "12:30:00"),  # no sexagesimal numbers
        ("1_000", "1_000"),
        (".inf", ".inf"),
        ("-0x1", "-0x1"),
        ("0o17", 15),
        ("0x1f", 31),
        ("0x1F", 31),
        ("017", 17),  # decimal in YAML 1.2, not octal
        ("+1", 1),
        ("-42", -42),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("null", None),
        ("~", None),
        ("", None),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(plain: str, expected: Any) -> None:
    value = value_of(f"key: {plain}\n")["key"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("quoted", ["'true'", '"NO"', "'0x1f'", '"null"', "'2026-02-01'"])
def test_quoted_scalars_are_always_strings(quoted: str) -> None:
    assert value_of(f"key: {quoted}\n")["key"] == quoted[1:-1]


def test_the_non_specific_tag_makes_a_string() -> None:
    assert value_of("key: ! 2\n") == {"key": "2"}


def test_block_scalars_are_strings() -> None:
    assert value_of("key: |\n  true\n") == {"key": "true\n"}


def test_nested_values_and_marks_are_one_based() -> None:
    text = "top:\n  list:\n    - first\n    - {inner: 2}\n"
    doc, problems = parse_text(text, "f.yaml")
    assert problems == []
    assert doc is not None
    assert doc.value == {"top": {"list": ["first", {"inner": 2}]}}
    assert doc.locate(()) == SourceLocation("f.yaml", 1, 1)
    assert doc.locate(("top",), key=True) == SourceLocation("f.yaml", 1, 1)
    assert doc.locate(("top", "list"), key=True) == SourceLocation("f.yaml", 2, 3)
    assert doc.locate(("top", "list", 0)) == SourceLocation("f.yaml", 3, 7)
    assert doc.locate(("top", "list", 1)) == SourceLocation("f.yaml", 4, 7)
    assert doc.locate(("top", "list", 1, "inner")) == SourceLocation("f.yaml", 4, 15)
    assert doc.locate(("top", "list", 1, "inner"), key=True) == SourceLocation("f.yaml", 4, 8)


def test_locate_falls_back_to_the_nearest_known_ancestor() -> None:
    doc, _ = parse_text("a:\n  b: 1\n", "f.yaml")
    assert doc is not None
    assert doc.locate(("a", "b", "missing", 3)) == SourceLocation("f.yaml", 2, 6)
    assert doc.locate(("nowhere",)) == SourceLocation("f.yaml", 1, 1)


def test_an_explicit_document_start_and_end_are_fine() -> None:
    assert value_of("---\na: 1\n...\n") == {"a": 1}


def test_duplicate_keys_are_refused_with_the_first_line() -> None:
    assert messages("a: 1\nb: 2\na: 3\n") == [
        "f.yaml:3:1: duplicate key 'a' (first defined at line 1)"
    ]


def test_the_same_key_in_different_mappings_is_fine() -> None:
    assert value_of("a: {x: 1}\nb: {x: 2}\n") == {"a": {"x": 1}, "b": {"x": 2}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1: x\n", "f.yaml:1:1: keys must be strings, got 1: quote it, as in '1'"),
        ("null: x\n", "f.yaml:1:1: keys must be strings, got null: quote it, as in 'null'"),
        ("~: x\n", "f.yaml:1:1: keys must be strings, got null: quote it, as in 'null'"),
        ("true: x\n", "f.yaml:1:1: keys must be strings, got true: quote it, as in 'true'"),
        ("1.5: x\n", "f.yaml:1:1: keys must be strings, got 1.5: quote it, as in '1.5'"),
        ("? [a]\n: x\n", "f.yaml:1:3: keys must be plain strings, not mappings or lists"),
        ("? {a: 1}\n: x\n", "f.yaml:1:3: keys must be plain strings, not mappings or lists"),
    ],
)
def test_keys_must_be_strings(text: str, message: str) -> None:
    assert messages(text) == [message]


def test_quoted_key_that_looks_like_a_number_is_fine() -> None:
    assert value_of("'1': x\n'true': y\n") == {"1": "x", "true": "y"}


def test_anchors_aliases_and_merge_keys_are_refused() -> None:
    assert messages("a: &x 1\nb: *x\nc:\n  <<: {d: 1}\n") == [
        "f.yaml:1:4: anchors are not allowed (&x): write the value out in full",
        "f.yaml:2:4: aliases are not allowed (*x): write the value out in full",
        "f.yaml:4:3: merge keys (<<) are not allowed: write the keys out in full",
    ]


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert value_of("'<<': 1\n") == {"<<": 1}


def test_repeated_aliases_are_counted_not_repeated() -> None:
    text = "a: &x [1]\nb: [*x, *x, *x]\nc: *x\n"
    assert messages(text) == [
        "f.yaml:1:4: anchors are not allowed (&x): write the value out in full",
        "f.yaml:2:5: aliases are not allowed (*x, used 4 times): write the value out in full",
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a: !!python/object/apply:os.system ['true']\n", "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system\n", "!!python/name:os.system"),
        ("a: !!str 1\n", "!!str"),
        ("a: !custom x\n", "!custom"),
        ("a: !!map {b: 1}\n", "!!map"),
    ],
)
def test_explicit_tags_are_refused(text: str, shown: str) -> None:
    assert messages(text) == [
        f"f.yaml:1:4: explicit tags are not allowed ({shown}): write a plain value"
    ]


def _nested(depth: int) -> str:
    """A document whose innermost mapping is `depth` containers deep (the root counts)."""
    lines = [f"{'  ' * level}k{level}:" for level in range(depth - 1)]
    lines.append(f"{'  ' * (depth - 1)}leaf: 1")
    return "\n".join(lines) + "\n"


def test_nesting_up_to_the_limit_is_fine() -> None:
    value = value_of(_nested(MAX_DEPTH))
    for level in range(MAX_DEPTH - 1):
        value = value[f"k{level}"]
    assert value == {"leaf": 1}


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    [message] = messages(_nested(MAX_DEPTH + 1))
    assert message.endswith(f"nesting is deeper than {MAX_DEPTH} levels")
    assert message.startswith(f"f.yaml:{MAX_DEPTH + 1}:")


def test_deep_flow_nesting_is_refused() -> None:
    [message] = messages("a: " + "[" * 500 + "]" * 500 + "\n")
    assert message == f"f.yaml:1:{3 + MAX_DEPTH}: nesting is deeper than {MAX_DEPTH} levels"


def test_very_deep_nesting_is_refused_without_recursion() -> None:
    # libyaml gives up first here (its own limit is 1000 levels); either way a located line.
    [message] = messages("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert message.startswith("f.yaml:1:")
    assert "nesting" in message


def test_more_than_one_document_is_refused() -> None:
    assert messages("a: 1\n---\nb: 2\n") == [
        "f.yaml:2:1: a file holds one document; remove the second '---' and what follows"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n", "null\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert messages(text) == ["f.yaml:1:1: file is empty: expected a mapping of keys"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: {b: 1\nc: 2\n",
            "f.yaml:2:2: YAML syntax error: did not find expected ',' or '}' "
            "(in a flow mapping that starts at line 1, column 4)",
        ),
        (
            "a: 'open\nb: 2\n",
            "f.yaml:3:1: YAML syntax error: found unexpected end of stream "
            "(in a quoted scalar that starts at line 1, column 4)",
        ),
        ("a:\n\tb: 1\n", "f.yaml:2:1: YAML syntax error: a tab cannot indent YAML: use spaces"),
        (
            "a: b: c\n",
            "f.yaml:1:5: YAML syntax error: mapping values are not allowed in this context",
        ),
    ],
)
def test_syntax_errors_say_where_and_why(text: str, message: str) -> None:
    assert messages(text) == [message]


def test_bidi_control_characters_are_refused_where_they_stand() -> None:
    assert messages("a: 'x'\nb: 'safe\u202e txt.exe'\nc: \u2066d\u2069\n") == [
        "f.yaml:2:9: invisible bidirectional control character U+202E (RIGHT-TO-LEFT OVERRIDE)"
        ": it makes text show differently from what it says; remove it",
        "f.yaml:3:4: invisible bidirectional control character U+2066 (LEFT-TO-RIGHT ISOLATE)"
        ": it makes text show differently from what it says; remove it",
        "f.yaml:3:6: invisible bidirectional control character U+2069 (POP DIRECTIONAL ISOLATE)"
        ": it makes text show differently from what it says; remove it",
    ]


def test_other_non_ascii_text_is_fine() -> None:
    assert value_of("a: Zoë \u2013 café ✓\n") == {"a": "Zoë \u2013 café ✓"}


def test_oversized_text_is_refused_before_parsing() -> None:
    [message] = messages("a: 1\n" + "#" * MAX_FILE_BYTES)
    assert message == "f.yaml:1:1: file is larger than 1024 KiB"


def test_problems_are_collected_not_stopped_at() -> None:
    assert len(messages("a: &x 1\nb: *x\na: 2\n1: 3\nc: !!str d\n")) == 5


def _read(path: Path, data: bytes) -> tuple[Document | None, list[str]]:
    path.write_bytes(data)
    doc, problems = read_file(path, "shown.yaml")
    return doc, [str(p) for p in problems]


def test_read_file_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    doc, problems = _read(tmp_path / "bom.yaml", "\ufeffa: b\n".encode())
    assert problems == []
    assert doc is not None
    assert doc.value == {"a": "b"}
    assert doc.locate(("a",)) == SourceLocation("shown.yaml", 1, 4)


def test_read_file_locates_invalid_utf8(tmp_path: Path) -> None:
    doc, problems = _read(tmp_path / "latin1.yaml", "a: 1\nb: café\n".encode("latin-1"))
    assert doc is None
    assert problems == [
        "shown.yaml:2:7: file is not valid UTF-8 text (byte 0xE9 here): save it as UTF-8"
    ]


def test_read_file_refuses_an_oversized_file_by_its_size(tmp_path: Path) -> None:
    doc, problems = _read(tmp_path / "big.yaml", b"a: 1\n" + b"#" * (2 * MAX_FILE_BYTES))
    assert doc is None
    assert problems == ["shown.yaml:1:1: file is larger than 1024 KiB (2048 KiB)"]


def test_read_file_reports_a_missing_file(tmp_path: Path) -> None:
    doc, problems = read_file(tmp_path / "absent.yaml", "absent.yaml")
    assert doc is None
    assert [str(p) for p in problems] == [
        "absent.yaml: cannot read file: No such file or directory"
    ]
