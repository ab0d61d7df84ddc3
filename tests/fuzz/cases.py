"""Fuzz cases: a mutation fuzzer over the project's own files, and hypothesis strategies for
workflows, payloads and expressions. Cases are plain JSON (see tests/fuzz/harness.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.harness import CANARY

ROOT = Path(__file__).resolve().parents[2]

#: Characters that found bugs before: controls, NUL, bidi, look-alikes, quotes, YAML syntax.
NASTY_CHARS = [
    "\x00", "\x07", "\x1b", "\t", "\r", "\u202e", "\u2066", "\u0430", "\u03bf", "\ufeff",
    '"', "'", "\\", ":", "-", "#", "&", "*", "!", "|", ">", "{", "}", "[", "]", "%", "@", "`",
]  # fmt: skip
NASTY_VALUES = [
    "[]", "{}", "null", "true", "1e309", "-1e400", "0x" + "f" * 400, "9" * 5000, "NaN", ".inf",
    "!!python/object/apply:os.system ['true']", "&a x", "*a", "<<: {}", "'" + "x" * 20000 + "'",
    "[" * 40 + "]" * 40, "{a: " * 40 + "1" + "}" * 40, '"\\0"', "/", "../../../../etc/passwd",
    "~", "no", "2026-01-01", "'%%{init: {}}%%'", "'<script>alert(1)</script>'",
]  # fmt: skip
LONG_EXPRESSIONS = [
    "1" + " + 1" * 20000 + " > 0",
    "true" + " == true" * 5000,
    "data" + ".y" * 5000 + " == 1",
    "(" * 500 + "true" + ")" * 500,
    "payload.items.map(x, payload.items).size() > 0",
    "payload.a.all(x, payload.a.all(y, x == y))",
]


def project_files() -> dict[str, str]:
    """The files a mutated project is built from: every workflow, the world, a few scenarios."""
    files: dict[str, str] = {}
    for path in sorted((ROOT / "workflows").rglob("*.yaml")):
        files[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    scenarios = sorted((ROOT / "tests" / "scenarios").rglob("*.yaml"))
    for path in scenarios[:: max(1, len(scenarios) // 12)]:
        files[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return files


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits of the kinds that have found bugs."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(8)
        i = rng.randrange(len(lines))
        line = lines[i]
        if kind == 0 and line:  # a character replaced
            j = rng.randrange(len(line))
            lines[i] = line[:j] + rng.choice(NASTY_CHARS) + line[j + 1 :]
        elif kind == 1:  # a line deleted
            del lines[i]
        elif kind == 2:  # a line duplicated
            lines.insert(i, line)
        elif kind == 3 and ": " in line:  # a value swapped for another type or a huge one
            key = line.split(": ", 1)[0]
            lines[i] = f"{key}: {rng.choice(NASTY_VALUES)}"
        elif kind == 4:  # indentation changed
            lines[i] = (" " * rng.choice([0, 1, 3, 8])) + line.lstrip()
        elif kind == 5 and "when:" in line:  # a guard made huge
            lines[i] = line.split("when:")[0] + "when: " + json.dumps(rng.choice(LONG_EXPRESSIONS))
        elif kind == 6 and line:  # a tag or an anchor
            lines[i] = line.replace(
                ": ", rng.choice([": !!str ", ": &x ", ": !custom ", ": *x "]), 1
            )
        else:  # two lines swapped
            k = rng.randrange(len(lines))
            lines[i], lines[k] = lines[k], lines[i]
        if not lines:
            lines = [""]
    return "\n".join(lines)


def mutation_cases(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = project_files()
    names = sorted(base)
    cases = []
    for n in range(count):
        target = rng.choice(names)
        files = {k: v for k, v in base.items() if k.startswith("workflows/") or k == target}
        files[target] = mutate(base[target], rng)
        case: dict[str, Any] = {"id": f"mutation-{seed}-{n}:{target}", "kind": "validate"}
        case["files"] = files
        case["validate"] = [target]
        if target.startswith("tests/"):
            case["test"] = [target]
        cases.append(case)
    return cases


# -- hypothesis strategies ------------------------------------------------------------------

OPERATORS = ["+", "-", "*", "/", "%", "==", "<", "&&", "||", "in"]
MACROS = [".all(v, ", ".exists(v, ", ".map(v, ", ".matches("]
FIELDS = ["name", "items", "pin", "note", "user", "card"]
names = st.sampled_from(["payload.name", "payload.items", "data.count", "payload.pin", "x"])
literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False).map(repr),
    st.text(max_size=8).map(json.dumps),
    st.sampled_from(["true", "false", "null", "[]", "{}", "'a' * 3", "b'x'", "1u", "0x1F"]),
)
expressions = st.recursive(
    st.one_of(names, literals),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(" ".join),
        st.tuples(st.sampled_from(["!", "-", "size(", "int(", "string(", "has("]), inner).map(
            lambda t: t[0] + t[1] + (")" if t[0].endswith("(") else "")
        ),
        st.tuples(inner, st.sampled_from(MACROS), inner).map(
            lambda t: f"{t[0]}{t[1]}{t[2]})"
        ),
        inner.map(lambda e: f"({e})"),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
    ),
    max_leaves=12,
)  # fmt: skip
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.sampled_from(["x" * 70_000, CANARY, "\x00\u202e", "a" * 1001]),
    ),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)  # fmt: skip
payloads = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    st.just({"pin": CANARY, "user": "ana"}),
    st.just({"card": CANARY}),
    st.just({"deep": json.loads("[" * 40 + "]" * 40)}),
)  # fmt: skip
events = st.lists(
    st.tuples(
        st.sampled_from(["go", "unlock", "check", "poke", "pay", "tag", "add_item", "nope"]),
        payloads,
    ),
    max_size=6,
)


def tiny_workflow_text(when: str) -> str:
    """A workflow whose one guard is `when`; its payload has a secret field `pin`."""
    workflow = {
        "workflow": "tiny",
        "initial": "start",
        "data": {"count": 0},
        "states": {"start": {}, "end": {"final": "completed"}},
        "events": {
            "go": {
                "payload": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "items": {"type": "array"},
                        "pin": {"type": "string", "secret": True},
                    },
                }
            }
        },
        "guards": {"g": {"when": when, "message": "no", "message_when_true": "yes"}},
        "transitions": [
            {"event": "go", "from": "start", "to": "end", "guards": ["g"]},
            {"event": "go", "from": "start", "to": "start", "guards": ["!g"]},
        ],
    }
    return json.dumps(workflow)


RUNTIME = ROOT / "tests" / "cases" / "runtime"


@st.composite
def generated_cases(draw: st.DrawFn, number: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["expression", "workflow", "secrets", "shop"]))
    case_id = f"generated-{number}-{kind}"
    if kind == "expression":
        activation = {"payload": draw(json_values), "data": {"count": draw(st.integers())}}
        return {
            "id": case_id,
            "kind": "expression",
            "source": draw(expressions),
            "activation": activation,
        }
    if kind == "workflow":
        text = tiny_workflow_text(draw(expressions))
        return {"id": case_id, "kind": "run", "workflow": text, "events": draw(events)}
    name = "secrets" if kind == "secrets" else "shop"
    return {
        "id": case_id,
        "kind": "run",
        "workflow": (RUNTIME / f"{name}.yaml").read_text(encoding="utf-8"),
        "world": (RUNTIME / f"{name}_world.yaml").read_text(encoding="utf-8"),
        "events": draw(events),
    }  # fmt: skip
