"""The one strict JSON reader (linkflow.language.json_text) and the entry points that use it.

It accepts exactly what `json.loads` accepts, minus duplicate keys, NaN and the infinities,
numbers past ±(2**53 - 1), lone surrogates and deep nesting; each refusal says why and where,
never what. The command line answers a usage error (exit 2), the service a 400 problem naming
the field, the studio a 400; the world files' located reader is tests/test_world_files.py."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from linkflow.cli import main
from linkflow.language.json_text import MISS, JsonRefused, Scanner, fast_read, read_json
from linkflow.language.yaml_loader import MAX_DEPTH, MAX_SAFE_INTEGER
from linkflow.service import body
from linkflow.service.problems import ServiceProblem, response_for
from linkflow.studio.app import create_app
from linkflow.studio.playground import Playground
from tests.studio_browser import CLIENT_BASE, signed_in

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/document_review.yaml"
SECRET = "hunter2canary"

#: One text per refused class: (text, kind, path, words the message holds). The secret sits
#: where a careless message would repeat it.
REFUSED: dict[str, tuple[str, str, tuple[Any, ...], str]] = {
    "duplicate key": (
        '{"a": {"pw": "' + SECRET + '", "pw": "' + SECRET + '"}}',
        "duplicate-key",
        ("a", "pw"),
        "a key appears twice",
    ),
    "NaN": ('{"a": [1, NaN], "pw": "' + SECRET + '"}', "not-finite", ("a", 1), "NaN"),
    "Infinity": ('{"a": Infinity}', "not-finite", ("a",), "Infinity is not a JSON number"),
    "-Infinity": ('{"a": -Infinity}', "not-finite", ("a",), "-Infinity is not a JSON number"),
    "2**53": ('{"n": 9007199254740992}', "out-of-range", ("n",), "number out of range"),
    "-2**53": ('{"n": -9007199254740992}', "out-of-range", ("n",), "number out of range"),
    "5,000 digits": ('{"n": ' + "9" * 5000 + "}", "out-of-range", ("n",), "number out of range"),
    "1e400": ('{"n": 1e400}', "out-of-range", ("n",), "number out of range"),
    "lone surrogate": (
        '{"a": "' + SECRET + '\\ud800"}',
        "lone-surrogate",
        ("a",),
        "lone UTF-16 surrogate",
    ),
    "lone surrogate in a key": (
        '{"a": {"\\udc00' + SECRET + '": 1}}',
        "lone-surrogate",
        ("a",),
        "lone UTF-16 surrogate",
    ),
    "too deep": (
        '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}",
        "too-deep",
        ("a", *[0] * (MAX_DEPTH - 1)),
        f"nesting is deeper than {MAX_DEPTH} levels",
    ),
    "far too deep": ("[" * 100_000, "too-deep", (0,) * MAX_DEPTH, "nesting is deeper"),
    "single quotes": ("{'pw': '" + SECRET + "'}", "syntax", (), "expected a key in double"),
    "a bare word": (SECRET, "syntax", (), "expected a value"),
    "cut off": ('{"pw": "' + SECRET, "syntax", ("pw",), "unterminated string"),
    "two values": ('{"a": 1} {"pw": "' + SECRET + '"}', "syntax", (), "more text"),
    "empty": ("  ", "syntax", (), "found none"),
    "trailing comma": ('{"a": [1,]}', "syntax", ("a", 1), "expected a value"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_each_refused_class_says_why_and_where_and_never_what(case: str) -> None:
    text, kind, path, words = REFUSED[case]
    with pytest.raises(JsonRefused) as refused:
        read_json(text)
    assert refused.value.kind == kind
    assert refused.value.path == path
    assert words in str(refused.value)
    assert SECRET not in str(refused.value)
    assert fast_read(text) is MISS


def test_the_limits_themselves_are_accepted() -> None:
    edge = {"n": MAX_SAFE_INTEGER, "m": -MAX_SAFE_INTEGER, "f": 1.7976931348623157e308}
    assert read_json(json.dumps(edge)) == edge
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert read_json(nested) == json.loads(nested)
    assert read_json('"\\ud83d\\ude00"') == "\U0001f600"  # both halves: one character
    assert read_json("null") is None
    assert read_json(" 7 ") == 7


def test_a_deeper_limit_is_kept_and_a_path_is_shown_short() -> None:
    text = "[" * 10 + "]" * 10
    with pytest.raises(JsonRefused, match=r"at '0\.0\.0\.…\.0\.0\.0'") as refused:
        read_json(text, max_depth=9)
    assert refused.value.kind == "too-deep"
    assert read_json(text, max_depth=10) == json.loads(text)


# -- exactly json.loads, minus the refused classes ---------------------------------------------


class _Out(Exception):
    """A class the reader refuses, found by the oracle below."""


def _oracle_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise _Out
    return dict(pairs)


def _oracle_int(text: str) -> int:
    number = int(text)
    if abs(number) > MAX_SAFE_INTEGER:
        raise _Out
    return number


def _oracle_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _Out
    return number


def _surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def _depth_and_surrogates(value: Any) -> tuple[int, bool]:
    if isinstance(value, dict):
        found = [_depth_and_surrogates(v) for v in value.values()]
        lone = any(_surrogate(k) for k in value) or any(s for _, s in found)
        return 1 + max((d for d, _ in found), default=0), lone
    if isinstance(value, list):
        found = [_depth_and_surrogates(v) for v in value]
        return 1 + max((d for d, _ in found), default=0), any(s for _, s in found)
    return 0, isinstance(value, str) and _surrogate(value)


def oracle(text: str) -> tuple[bool, Any]:
    """(accepted, value) by json.loads and the refused classes, each checked on its own."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=_oracle_pairs,
            parse_int=_oracle_int,
            parse_float=_oracle_float,
            parse_constant=lambda _: (_ for _ in ()).throw(_Out()),
        )
    except (_Out, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return False, None
    depth, lone = _depth_and_surrogates(value)
    return (depth <= MAX_DEPTH and not lone), value


_KEYS = st.sampled_from(["a", "b", "", "\u00e9", "\\ud800", "\\ud83d\\ude00", 'q\\"'])
_LEAVES = st.one_of(
    st.sampled_from(
        ["null", "true", "false", "NaN", "Infinity", "-Infinity", "1e400", "-0", "0.5e-3"]
    ),
    st.integers(-(2**60), 2**60).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr).filter(lambda t: "e" not in t),
    st.lists(st.sampled_from(["x", " ", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\n", "é"])).map(
        lambda parts: '"' + "".join(parts) + '"'
    ),
)


def _json_texts() -> st.SearchStrategy[str]:
    """JSON-like texts that hit every refused class: keys may repeat, leaves may be NaN,
    overflowing or half a surrogate pair, lists may nest past the limit."""
    inner = st.recursive(
        _LEAVES,
        lambda kids: st.one_of(
            st.lists(kids, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(st.tuples(_KEYS, kids), max_size=3).map(
                lambda kv: "{" + ", ".join(f'"{k}": {v}' for k, v in kv) + "}"
            ),
        ),
        max_leaves=10,
    )
    deep = st.tuples(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2), inner).map(
        lambda d: "[" * d[0] + d[1] + "]" * d[0]
    )
    return st.one_of(inner, deep)


def _agrees(text: str) -> None:
    accepted, expected = oracle(text)
    try:
        value = read_json(text)
    except JsonRefused:
        assert not accepted, text
        return
    assert accepted, text
    assert json.dumps(value) == json.dumps(expected)
    scanner = Scanner(text, first_only=True)  # the located pass reads the same value
    located, whole = scanner.document()
    assert whole
    assert not scanner.found
    assert json.dumps(located) == json.dumps(value)


@settings(max_examples=400, deadline=None)
@given(_json_texts())
def test_accepts_exactly_what_json_loads_accepts_minus_the_refused_classes(text: str) -> None:
    _agrees(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*'{}[]:,"\\ -0123456789.eEtrufalsnNIy', "\\u", "d800", "\t"]),
        max_size=30,
    ).map("".join)
)
def test_and_on_text_that_is_mostly_not_json(text: str) -> None:
    _agrees(text)


# -- the command line: a usage error (exit 2), no traceback, no echo ---------------------------


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    code: int | str | None
    try:
        code = main(args)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert SECRET not in out + err
    return code, err


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_cli_refuses_each_class_in_an_event_payload(
    case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    text, _, _, words = REFUSED[case]
    code, err = _run(["run", EXAMPLE, "-e", f"submit={text}"], capsys)
    assert code == 2, err
    assert "the payload of 'submit' is not valid JSON: " in err
    assert words in err


@pytest.mark.parametrize("case", sorted(c for c in REFUSED if REFUSED[c][0].startswith("{")))
def test_the_cli_refuses_each_class_in_inline_data(
    case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    text, _, _, words = REFUSED[case]
    code, err = _run(["run", EXAMPLE, "--data", text], capsys)
    assert code == 2, err
    assert "--data: the inline JSON is not valid JSON: " in err
    assert words in err


def test_a_data_file_in_json_is_read_strictly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.json"
    data.write_text('{"document": "d", "document": "e"}', encoding="utf-8")
    code, err = _run(["run", str(ROOT / EXAMPLE), "--data", str(data)], capsys)
    assert code == 2, err
    assert "duplicate key 'document'" in err


# -- the service: 400 problem+json naming the field --------------------------------------------


async def _echo(request: Request) -> Response:
    try:
        value = await body.read_json(request, limit=1024 * 1024, max_depth=MAX_DEPTH)
    except ServiceProblem as problem:
        return response_for(problem)
    return JSONResponse({"value": value})


@pytest.fixture(scope="module")
def service() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=[Route("/", _echo, methods=["POST"])])) as client:
        yield client


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_service_answers_each_class_with_a_problem_naming_the_field(
    case: str, service: TestClient
) -> None:
    text, kind, path, words = REFUSED[case]
    answer = service.post("/", content=text.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    slug = "json-too-deep" if kind == "too-deep" else "malformed-json"
    assert problem["type"].endswith(slug)
    if kind != "too-deep" and text.strip():  # an empty body has its own words
        assert words in problem["detail"]
        where = ".".join(map(str, path)) if path else "the top level"
        assert where in problem["detail"]
    assert SECRET not in answer.text


def test_the_service_keeps_its_other_answers(service: TestClient) -> None:
    def post(content: bytes, media: str = "application/json") -> Any:
        return service.post("/", content=content, headers={"content-type": media})

    assert post(b'{"a": [1, 2.5, null]}').json() == {"value": {"a": [1, 2.5, None]}}
    assert post(b"{}", "text/plain").status_code == 415
    assert post(b'"' + b"x" * (1024 * 1024) + b'"').status_code == 413
    assert post(b'{"a": "\xff"}').json()["detail"] == "the body is not UTF-8 text"


# -- the studio: 400 with the reason (413 past its size bound) -----------------------------------


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    playground = Playground([str(ROOT / "examples" / "document_review.yaml")])
    folder = tmp_path_factory.mktemp("saved")
    app = create_app(playground, scenario_folder=str(folder), watch=False)
    with signed_in(TestClient(app, base_url=CLIENT_BASE)) as client:  # as the studio's page
        yield client


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_studio_answers_each_class_with_400(case: str, studio: TestClient) -> None:
    text, _, _, words = REFUSED[case]
    answer = studio.post("/api/send", content=text.encode())
    if len(text) > 50_000:  # past the studio's size bound before any reading
        assert answer.status_code == 413
        return
    assert answer.status_code == 400, answer.text
    assert "the request body is not valid JSON: " in answer.json()["error"]
    assert words in answer.json()["error"]
    assert SECRET not in answer.text
