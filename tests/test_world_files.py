"""Large world files: JSON worlds on the fast path, their bounds, and located errors on the
way back (the timing lives in benchmarks/world_load.py, not here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from linkflow.language import world_schema
from linkflow.language.json_reader import MAX_JSON_BYTES, located_later, parse_json, quick_json
from linkflow.language.loader import load
from linkflow.language.validators import precheck_validator
from linkflow.language.yaml_loader import MAX_DEPTH, read_file
from linkflow.runtime.world_loader import load_world, load_world_and_schema
from linkflow.store import Store
from linkflow.testing.scenarios import run_scenario_file
from tests.test_fast_validator import json_values, schemas

SCHEMA = """world_schema: catalogue
collections:
  items:
    record:
      type: object
      additionalProperties: false
      required: [name, size, tags]
      properties:
        name: {type: string, minLength: 1}
        size: {type: integer, minimum: 0}
        tags: {type: array, uniqueItems: true, items: {$ref: '#/$defs/tag'}}
        owner: {$ref: '#/$defs/tag'}
  owners:
    record:
      type: object
      required: [name]
      properties:
        name: {type: string}
$defs:
  tag:
    type: string
    pattern: ^[a-z][a-z0-9_]*$
"""

RECORDS = 100_000


def record(number: int) -> dict[str, Any]:
    return {"name": f"Item {number}", "size": number % 97, "tags": ["a", f"t{number % 13}"]}


def write_world(folder: Path, records: int, *, bad: int | None = None) -> Path:
    """A JSON world of `records` items, one record per line (record k on line k + 3); `bad`
    gives that record a number for its name."""
    (folder / "world.schema.yaml").write_text(SCHEMA, encoding="utf-8")
    lines = ['{"world": "big", "collections": {', ' "owners": {"o1": {"name": "Olga"}},']
    lines.append(' "items": {')
    for number in range(1, records + 1):
        item = record(number)
        if number == bad:
            item["name"] = 7
        comma = "," if number < records else ""
        lines.append(f'  "i{number}": {json.dumps(item)}{comma}')
    lines.append("}}}")
    path = folder / "big.world.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow  # a 100,000-record world
def test_a_world_of_100000_records_loads_from_one_json_file(tmp_path: Path) -> None:
    path = write_world(tmp_path, RECORDS)
    world, schema, problems = load_world_and_schema(path)
    assert problems == []
    assert world is not None
    assert schema is not None
    assert schema.name == "catalogue"
    assert world.name == "big"
    assert len(world.collections["items"]) == RECORDS
    assert world.get("items", "i73412") == record(73412)
    assert world.get("owners", "o1") == {"name": "Olga"}


@pytest.mark.slow  # a 100,000-record world
def test_a_bad_type_in_record_73412_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write_world(tmp_path, RECORDS, bad=73412)
    world, problems = load_world(path)
    assert world is None
    column = len('  "i73412": {"name": ') + 1
    assert [str(p) for p in problems] == [
        f"{path}:{73412 + 3}:{column}: expected a string, got a number"
    ]
    # `validate` names the same place (it finds *.world.json files in a folder walk).
    result = load([tmp_path])
    assert [str(p) for p in result.problems] == [str(p) for p in problems]


def test_more_records_than_the_bound_are_refused_at_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world_schema, "MAX_WORLD_RECORDS", 50)
    path = write_world(tmp_path, 60)
    world, problems = load_world(path)
    assert world is None
    assert [str(p) for p in problems] == [
        f"{path}:1:18: the world holds 61 records; at most 50 are allowed"
    ]


def test_a_file_over_the_byte_bound_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_JSON_BYTES + 1)  # sparse: nothing is written
    world, problems = load_world(path)
    assert world is None
    assert [str(p) for p in problems] == [f"{path}:1:1: file is larger than 32768 KiB (32768 KiB)"]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "w.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def world_text(record_text: str) -> str:
    return '{"world": "w",\n "collections": {"items": {\n  "a": ' + record_text + "}}}\n"


NUMBER = "number out of range: numbers are limited to 9,007,199,254,740,991 either way"

HOSTILE: dict[str, tuple[str | bytes, str]] = {
    "duplicate key": (
        world_text('{"n": 1, "n": 2}'),
        "3:17: duplicate key 'n' (first defined at line 3)",
    ),
    "duplicate record": (
        '{"world": "w", "collections": {"items": {"a": {},\n "a": {}}}}',
        "2:2: duplicate key 'a' (first defined at line 1)",
    ),
    "NaN": (world_text('{"n": NaN}'), "3:14: NaN is not a JSON number"),
    "Infinity": (world_text('{"n": Infinity}'), "3:14: Infinity is not a JSON number"),
    "-Infinity": (world_text('{"n": -Infinity}'), "3:14: -Infinity is not a JSON number"),
    "1e400": (world_text('{"n": 1e400}'), f"3:14: {NUMBER}"),
    "2**53": (world_text('{"n": 9007199254740992}'), f"3:14: {NUMBER}"),
    "5,000 digits": (world_text('{"n": ' + "9" * 5000 + "}"), f"3:14: {NUMBER}"),
    "deep": (
        world_text("[" * MAX_DEPTH + "]" * MAX_DEPTH),
        f"3:{8 + MAX_DEPTH - 3}: nesting is deeper than {MAX_DEPTH} levels",
    ),
    "very deep": (
        world_text("[" * 100_000 + "]" * 100_000),
        f"3:{8 + MAX_DEPTH - 3}: nesting is deeper than {MAX_DEPTH} levels",
    ),
    "lone surrogate": (
        world_text('{"n": "\\ud800"}'),
        "3:14: a lone UTF-16 surrogate is not a character",
    ),
    "bidi control": (
        world_text('{"n": "a\u202eb"}'),
        "3:16: invisible bidirectional control character U+202E",
    ),
    "DEL": (world_text('{"n": "a\x7fb"}'), "3:16: U+007F cannot appear in a file"),
    "raw tab in a string": (
        world_text('{"n": "a\tb"}'),
        "3:16: JSON syntax error: invalid control character",
    ),
    "single quotes": (world_text("{'n': 1}"), "3:9: JSON syntax error: expected a key"),
    "trailing comma": (world_text('{"n": 1,}'), "3:16: JSON syntax error: expected a key"),
    "two values": ('{"world": "w", "collections": {}}\n{}', "2:1: JSON syntax error: more text"),
    "empty": ("  \n", "1:1: file is empty"),
    "not an object": ("[1, 2]", "1:1: not a world file"),
    "not UTF-8": (b'{"world": "caf\xe9"}', "1:15: file is not valid UTF-8"),
    "record not an object": (world_text("5"), "3:8: expected a mapping, got a number"),
    "bad id": (
        '{"world": "w", "collections": {"items": {"a b": {}}}}',
        "1:42: 'a b' does not have the expected form",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_json_worlds_get_located_problems(tmp_path: Path, case: str) -> None:
    text, expected = HOSTILE[case]
    path = write(tmp_path, text)
    world, problems = load_world(path)
    assert world is None
    shown = [str(p) for p in problems]
    assert any(line.startswith(f"{path}:{expected}") for line in shown), shown
    # Nothing on the fast path takes a text the located reader refuses.
    if isinstance(text, str):
        assert quick_json(text) is None or case in {
            "not an object",
            "record not an object",
            "bad id",
        }


def test_a_refused_world_file_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    good = write_world(tmp_path, 10)
    bad = write(tmp_path, world_text('{"n": 1, "n": 2}'))
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        assert store.load_world(good) == 11
        before = store.world("items")
        with pytest.raises(Exception, match="duplicate key 'n'"):
            store.load_world(bad)
        assert store.world("items") == before
        assert store.world("items", "a") == {}


def test_an_escaped_emoji_is_a_false_alarm_the_located_path_accepts(tmp_path: Path) -> None:
    path = write(tmp_path, world_text('{"n": "\\ud83d\\ude00"}'))
    world, problems = load_world(path)
    assert problems == []
    assert world is not None
    assert world.get("items", "a") == {"n": "\U0001f600"}


# -- both paths give the same world ---------------------------------------------------------

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zl", "Zp")), max_size=8
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | _TEXT
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_IDS = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,6}\Z")
_NAMES = st.from_regex(r"\A[a-z][a-z0-9_]{0,6}\Z")
_WORLDS = st.dictionaries(
    _NAMES,
    st.dictionaries(_IDS, st.dictionaries(_TEXT, _VALUES, max_size=4), max_size=4),
    max_size=3,
)


@given(collections=_WORLDS)
def test_json_fast_json_located_and_yaml_give_the_same_world(
    tmp_path_factory: pytest.TempPathFactory, collections: dict[str, Any]
) -> None:
    folder = tmp_path_factory.mktemp("same")
    doc = {"world": "same", "collections": collections}
    as_json = folder / "w.json"
    as_json.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    as_yaml = folder / "w.yaml"
    # JSON text is YAML 1.2 (PyYAML's own block output is not a fair input: it writes `0E0`
    # unquoted, a string in YAML 1.1 and a number in the 1.2 core schema our reader follows).
    as_yaml.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    fast, fast_problems = load_world(as_json)
    located, located_problems = parse_json(as_json.read_text(encoding="utf-8"), "w.json")
    from_yaml, yaml_problems = load_world(as_yaml)
    assert fast_problems == located_problems == yaml_problems == []
    assert fast is not None
    assert from_yaml is not None
    assert located is not None
    assert fast.name == from_yaml.name == "same"
    assert fast.collections == from_yaml.collections == located.value["collections"]
    assert _types(fast.collections) == _types(from_yaml.collections)
    # Positions found on demand are the located reader's, for every key and value.
    text = as_json.read_text(encoding="utf-8")
    later = located_later(text, "w.json", quick_json(text))
    for path in located.value_marks:
        assert later.locate(path) == located.locate(path), path
    for path in located.key_marks:
        assert later.locate(path, key=True) == located.locate(path, key=True), path
    assert later.locate(("collections", "absent", 3)) == located.locate(("collections",))


def _types(value: Any) -> Any:
    """The value with each leaf's type beside it (1 == 1.0 == True in Python)."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return (type(value).__name__, value)


# -- the pre-check never accepts what jsonschema refuses ------------------------------------

_PATTERNS = st.sampled_from(
    ["^[a-z]+$", "^[A-Za-z0-9_][A-Za-z0-9_.-]*$", "a|B", "^\\d{1,2}$", "[^a]", "^.$", "é?"]
)


def _precheck_schema(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A schema node of the keywords the pre-check adds to FAST_KEYWORDS, over `children`
    (which are made of FAST_KEYWORDS, by tests/test_fast_validator.py)."""
    keyword: dict[str, st.SearchStrategy[Any]] = {
        "pattern": _PATTERNS,
        "uniqueItems": st.booleans(),
        "propertyNames": children,
        "$ref": st.just("#/$defs/shared"),
        "items": children,
        "additionalProperties": children,
    }
    return st.lists(st.sampled_from(sorted(keyword)), unique=True, min_size=1, max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: keyword[k] for k in keys})
    )


_PRECHECK_SCHEMAS = st.recursive(schemas, _precheck_schema, max_leaves=5)


@given(_PRECHECK_SCHEMAS, schemas, st.lists(json_values, min_size=1, max_size=8))
def test_what_the_precheck_accepts_jsonschema_accepts(
    schema: dict[str, Any], shared: dict[str, Any], values: list[Any]
) -> None:
    whole = {**schema, "$defs": {"shared": shared}}
    precheck = precheck_validator(whole)
    assert precheck is not None, whole
    slow = Draft202012Validator(whole)
    for value in values:
        if precheck.is_valid(value):
            assert slow.is_valid(value), (whole, value)


def test_the_precheck_is_not_used_where_it_could_accept_more() -> None:
    # jsonschema-rs's \s takes U+FEFF, Python's does not (\w's Unicode sets are not held to
    # be the same either); (?i) folds case by other tables; 0.3 is a multiple of 0.1 only for
    # jsonschema-rs; a $ref outside the file is not followed.
    assert Draft202012Validator({"pattern": "\\s"}).is_valid("\ufeff") is False
    risky: list[dict[str, Any]] = [
        {"pattern": "^\\w$"},
        {"pattern": "(?i)^a$"},
        {"pattern": "\\s"},
        {"multipleOf": 0.1},
        {"$ref": "https://example.com/s.json"},
        {"items": {"format": "email"}},
        {"patternProperties": {"^a": {}}},
    ]
    for schema in risky:
        assert precheck_validator(schema) is None, schema


def test_a_scenario_runs_on_a_json_world(tmp_path: Path) -> None:
    cases = Path(__file__).resolve().parent / "cases" / "purchase_orders"
    project = tmp_path / "po"
    shutil.copytree(cases, project)
    (project / "workflows").mkdir()  # marks the project root for scenario paths
    doc, problems = read_file(project / "worlds" / "acme.yaml")
    assert doc is not None
    assert problems == []
    (project / "worlds" / "acme.world.json").write_text(json.dumps(doc.value), encoding="utf-8")
    scenario = project / "scenarios" / "p1_p2_head_approves_within_budget.yaml"
    text = scenario.read_text(encoding="utf-8")
    assert "world: ../worlds/acme.yaml" in text
    scenario.write_text(text.replace("acme.yaml", "acme.world.json"), encoding="utf-8")
    result = run_scenario_file(scenario)
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]
    assert load([project]).problems == []


def test_a_yaml_world_over_its_bound_is_told_to_be_json(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"world: w\ncollections: {}\n" + b"#" * (2 * 1024 * 1024))
    world, problems = load_world(path)
    assert world is None
    assert [str(p) for p in problems] == [
        f"{path}:1:1: file is larger than 1024 KiB (2048 KiB): write a large world as JSON "
        "(.json, up to 32 MiB)"
    ]
