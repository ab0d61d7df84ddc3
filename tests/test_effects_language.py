"""The effects language: services files, invoke and notify in workflows, the calls a step
causes, the static checks on them, scenario stubs, and the supplier_order example end to end
(validate, test, explore, coverage and mutate through the command line)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from linkflow.cli import main
from linkflow.errors import DefinitionError
from linkflow.language.loader import load, workflow_from_text
from linkflow.runtime.effect_calls import (
    INVOKE,
    NOTIFY,
    EffectCall,
    result_event,
)
from linkflow.runtime.engine import Engine
from linkflow.runtime.session import EngineCache, Session
from linkflow.testing.effect_stubs import PendingCalls
from linkflow.testing.scenarios import run_scenario_file

NOTHING_PENDING = "no call is waiting for an answer here (no state entered invokes one)"

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "supplier_order"

SERVICES = """\
services:
  stock:
    base_url: http://127.0.0.1:9/
    path: /items/{data.sku}
    timeout: 3s
    retry: {attempts: 2, initial: 500ms}
    response:
      left: {type: integer, minimum: 0}
      note: string
  hook:
    base_url: http://127.0.0.1:9
    path: /hook
"""
SERVICES = SERVICES.replace("500ms", "1s")

WORKFLOW = """\
workflow: shop
initial: idle
data:
  sku: ""
  left: 0
states:
  idle: {}
  asking:
    invoke: {service: stock, as: ask, with: {sku: data.sku}}
  known: {}
  broken: {}
  done: {final: completed}
events:
  go:
    payload:
      type: object
      properties:
        sku: {type: string}
        pin: {type: string, secret: true}
  finish: {}
guards:
  some_left:
    when: payload.left > 0
    message: none left
transitions:
  - event: go
    from: idle
    to: asking
    actions: [{set: {path: data.sku, value: payload.sku}}]
  - event: ask.done
    from: asking
    to: known
    guards: [some_left]
    actions: [{set: {path: data.left, value: payload.left}}]
  - event: ask.failed
    from: asking
    to: broken
  - event: finish
    from: [known, broken]
    to: done
    notify: [{service: hook, with: {sku: data.sku, left: data.left}}]
"""


def project(tmp_path: Path, workflow: str = WORKFLOW, services: str = SERVICES) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "shop.yaml").write_text(workflow, encoding="utf-8")
    if services:
        (tmp_path / "services.yaml").write_text(services, encoding="utf-8")
    return tmp_path


def problems_of(tmp_path: Path, workflow: str = WORKFLOW, services: str = SERVICES) -> list[str]:
    result = load([project(tmp_path, workflow, services) / "shop.yaml"])
    return [f"{Path(p.location.file).name}:{p.location.line}: {p.message}" for p in result.problems]


# -- loading ------------------------------------------------------------------------------


def test_a_workflow_finds_the_services_beside_it_and_keeps_only_those_it_calls(
    tmp_path: Path,
) -> None:
    services = SERVICES + "  unused:\n    base_url: http://127.0.0.1:9\n"
    result = load([project(tmp_path, services=services) / "shop.yaml"])
    assert result.problems == []
    shop = result.workflows["shop"]
    assert sorted(shop.services) == ["hook", "stock"]
    assert shop.services["stock"].timeout == 3.0
    assert shop.services["stock"].retry.attempts == 2
    assert shop.services["stock"].base_url == "http://127.0.0.1:9"
    assert json.loads(shop.services_source)["services"].keys() == {"hook", "stock"}
    assert {"ask.done", "ask.failed"} <= set(shop.events)
    assert shop.events["ask.done"].fields == ("left", "note", "status")


def test_the_kept_text_rebuilds_the_same_definition_and_the_hash_covers_the_services(
    tmp_path: Path,
) -> None:
    shop = load([project(tmp_path)]).workflows["shop"]
    again = workflow_from_text(
        shop.source, shop.file, check_graph=False, services_source=shop.services_source
    )
    assert again.source_hash == shop.source_hash
    assert again.services_source == shop.services_source
    assert again.services["stock"].response == shop.services["stock"].response
    changed = load([project(tmp_path, services=SERVICES.replace("3s", "4s"))]).workflows["shop"]
    assert changed.source == shop.source
    assert changed.source_hash != shop.source_hash
    with pytest.raises(DefinitionError, match="unknown service 'stock'"):
        workflow_from_text(shop.source, shop.file, check_graph=False)


def test_kept_services_that_do_not_read_are_a_definition_error(tmp_path: Path) -> None:
    shop = load([project(tmp_path)]).workflows["shop"]
    with pytest.raises(DefinitionError) as caught:
        workflow_from_text(shop.source, shop.file, services_source='{"services": {"x": 1}}')
    assert "(services).json" in str(caught.value)


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        (
            SERVICES.replace("    path: /hook\n", "    path: /hook\n    headers: {X-Api-Key: k}\n"),
            "services.yaml:13: header 'X-Api-Key' looks like a secret",
        ),
        (
            SERVICES.replace("    path: /hook\n", "    path: /hook\n    auth: {scheme: bearer}\n"),
            "services.yaml:13: authentication names where its secret is read: give exactly one "
            "of `env` (an environment variable) and `secret_file` (a file), never the secret",
        ),
        (
            SERVICES.replace("timeout: 3s", "timeout: 3 seconds"),
            "services.yaml:5: '3 seconds' does not have the expected form",
        ),
        (
            SERVICES.replace("/items/{data.sku}", "/items/{sku}"),
            "services.yaml:4: path placeholder uses unknown name 'sku'",
        ),
        (
            SERVICES.replace("note: string", "status: string"),
            "services.yaml:9: 'status' is a field of every `.done` payload",
        ),
        (
            SERVICES.replace("base_url: http://127.0.0.1:9/", "base_url: http://u:p@host"),
            "services.yaml:3: 'http://u:p@host' does not have the expected form",
        ),
    ],
)
def test_a_bad_services_file_is_refused_with_located_problems(
    tmp_path: Path, services: str, expected: str
) -> None:
    found = problems_of(tmp_path, services=services)
    assert any(p.startswith(expected) for p in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("service: stock, as: ask", "service: stok, as: ask"),
            "shop.yaml:9: unknown service 'stok' (did you mean 'stock'?)",
        ),
        (
            ("done: {final: completed}", "done: {final: completed, invoke: {service: hook}}"),
            "shop.yaml:12: final state 'done' cannot invoke",
        ),
        (
            (
                "    actions: [{set: {path: data.sku, value: payload.sku}}]\n",
                "    actions: [{set: {path: data.sku, value: payload.sku}}]\n"
                "    notify: [{service: hook, with: {pin: payload.pin}}]\n",
            ),
            "shop.yaml:30: `with:` value may not use the secret payload field 'pin'",
        ),
        (
            ("with: {sku: data.sku}}", "with: {sku: payload.sku}}"),
            "shop.yaml:9: `with:` value uses unknown name 'payload'",
        ),
        (
            ("when: payload.left > 0", "when: payload.lefts > 0"),
            "shop.yaml:22: guard 'some_left' reads 'payload.lefts', which event 'ask.done' does "
            "not declare",
        ),
        (
            ("  - event: ask.failed\n    from: asking\n", "  - event: go\n    from: asking\n"),
            "shop.yaml:9: state 'asking' invokes 'ask' but takes no 'ask.failed'",
        ),
        (
            ("event: ask.failed", "event: asks.failed"),
            "shop.yaml:35: no state invokes 'asks' (did you mean 'ask'?)",
        ),
        (
            ("with: {sku: data.sku, left: data.left}", "with: {sku: payload.sku}"),
            "shop.yaml:41: `with:` value 'sku' reads 'payload.sku', which event 'finish' does "
            "not declare",
        ),
    ],
)
def test_static_checks_of_calls_are_located(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in WORKFLOW
    found = problems_of(tmp_path, WORKFLOW.replace(old, new))
    assert any(p.startswith(expected) for p in found), found


def test_an_answer_taken_where_nothing_invokes_is_refused(tmp_path: Path) -> None:
    extra = "  - event: ask.failed\n    from: known\n    to: broken\n"
    found = problems_of(tmp_path, WORKFLOW + extra)
    assert any(
        "'ask.failed' is taken from 'known', where no invoke named 'ask' is active" in p
        for p in found
    ), found


def test_without_a_services_file_the_unknown_service_says_where_to_declare_it(
    tmp_path: Path,
) -> None:
    found = problems_of(tmp_path, services="")
    assert any(
        "unknown service 'stock': declare it in a `services:` file loaded with the workflow or "
        "beside it (services: none found)" in p
        for p in found
    ), found


def test_invoke_inside_a_parallel_state_must_take_its_answers_in_each_configuration(
    tmp_path: Path,
) -> None:
    """An invoke in a region is allowed (tests/test_parallel_invoke.py runs one); like any
    other, its answers must be taken where it is active: in every configuration holding it."""
    workflow = WORKFLOW.replace(
        "  known: {}\n",
        "  known:\n    parallel: true\n    states:\n      a:\n        initial: x\n        states:\n"
        "          x: {invoke: {service: hook}}\n      b:\n        initial: y\n        states:\n"
        "          y: {}\n",
    )
    found = problems_of(tmp_path, workflow)
    assert [p for p in found if "known" in p] == [
        f"shop.yaml:16: state 'known.a.x' invokes 'hook' but takes no 'hook.{end}' (in "
        "known.a.x+known.b.y): when that answer comes the instance would be stuck; add a "
        f"transition from 'known.a.x' on 'hook.{end}'"
        for end in ("done", "failed")
    ]


# -- the calls a step causes ---------------------------------------------------------------


def shop_engine(tmp_path: Path) -> Engine:
    return Engine(load([project(tmp_path)]).workflows["shop"])


def test_a_step_returns_its_calls_resolved_after_its_actions(tmp_path: Path) -> None:
    instance = shop_engine(tmp_path).create()
    step = instance.send("go", {"sku": "a b/c", "pin": "1234"})
    (call,) = step.effects
    assert call.kind == INVOKE
    assert (call.name, call.service, call.state) == ("ask", "stock", "asking")
    assert call.url == "http://127.0.0.1:9/items/a%20b%2Fc"
    assert call.body == {"sku": "a b/c"}
    assert "1234" not in json.dumps(call.as_dict())
    assert EffectCall.from_dict(json.loads(json.dumps(call.as_dict()))) == call
    event, payload = result_event(call, 200, {"left": 2, "note": "ok", "extra": 1})
    answered = instance.send(event, payload)
    assert answered.accepted
    assert instance.state == "known"
    assert answered.effects == ()
    done = instance.send("finish")
    assert [(c.kind, c.service, c.body) for c in done.effects] == [
        (NOTIFY, "hook", {"sku": "a b/c", "left": 2})
    ]


def test_a_refused_step_and_a_workflow_without_calls_cause_none(tmp_path: Path) -> None:
    engine = shop_engine(tmp_path)
    instance = engine.create()
    assert instance.send("finish").effects == ()
    instance.send("go", {"sku": "x"})
    refused = instance.send("ask.done", {"left": 0, "note": "", "status": 200})
    assert not refused.accepted
    assert refused.effects == ()
    plain = Engine(load([ROOT / "examples" / "expense_claim.yaml"]).workflows["expense_claim"])
    assert plain.effect_plan is None


def test_a_call_that_cannot_be_worked_out_fails_the_step_and_changes_nothing(
    tmp_path: Path,
) -> None:
    workflow = WORKFLOW.replace("with: {sku: data.sku}}", "with: {sku: data.sku / 2}}")
    engine = Engine(load([project(tmp_path, workflow)]).workflows["shop"])
    instance = engine.create()
    step = instance.send("go", {"sku": "x"})
    assert not step.accepted
    assert step.refusal is not None
    assert "service 'stock'" in step.refusal.message
    assert instance.state == "idle"
    assert instance.data["sku"] == ""


def test_the_initial_state_invoking_is_a_start_effect(tmp_path: Path) -> None:
    back = "  - event: go\n    from: broken\n    to: idle\n"
    workflow = WORKFLOW.replace("initial: idle", "initial: asking") + back
    engine = Engine(load([project(tmp_path, workflow)]).workflows["shop"])
    instance = engine.create({"sku": "k"})
    (call,) = engine.start_effects(instance)
    assert (call.name, call.url, call.body) == ("ask", "http://127.0.0.1:9/items/k", {"sku": "k"})


def test_in_memory_runs_hand_back_calls_and_perform_none(tmp_path: Path) -> None:
    import linkflow  # noqa: PLC0415 - the facade, as a user imports it

    with linkflow.open(project(tmp_path)) as shop:
        run = shop.start("shop")
        assert run.start_effects == ()
        step = run.send("go", {"sku": "s"})
        assert [c.name for c in step.effects] == ["ask"]
        assert run.send("ask.failed", {"status": None, "reason": "no answer"}).accepted
        assert run.state == "broken"


# -- answers ------------------------------------------------------------------------------

_CALL = EffectCall(
    INVOKE,
    "ask",
    "stock",
    "GET",
    "http://x",
    response={"left": {"type": "integer", "minimum": 0}, "note": {"type": "string"}},
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    status=st.integers(100, 599), body=_JSON | st.fixed_dictionaries({"left": _JSON, "note": _JSON})
)
def test_any_answer_becomes_done_exactly_when_the_declared_fields_hold(
    status: int, body: Any
) -> None:
    event, payload = result_event(_CALL, status, body)
    holds = (
        200 <= status < 300
        and isinstance(body, dict)
        and isinstance(body.get("left"), int)
        and not isinstance(body.get("left"), bool)
        and body["left"] >= 0
        and isinstance(body.get("note"), str)
    )
    assert event == ("ask.done" if holds else "ask.failed")
    if holds:
        assert payload == {"left": body["left"], "note": body["note"], "status": status}
    else:
        assert set(payload) == {"status", "reason"}
        assert payload["status"] == status


# -- scenarios ----------------------------------------------------------------------------


def scenario(tmp_path: Path, steps: str) -> Path:
    project(tmp_path / "flows")
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    path = tmp_path / "s.yaml"
    text = "scenario: s\nworkflow: shop\nworkflows: flows\nsteps:\n" + textwrap.indent(
        textwrap.dedent(steps), "  "
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_scenario_stubs_answer_the_pending_call(tmp_path: Path) -> None:
    path = scenario(
        tmp_path,
        """\
        - send: go
          payload: {sku: a}
          expect: {state: asking, effects: [ask]}
        - respond: {status: 200, body: {left: 3, note: fine}}
          expect: {state: known, data: {left: 3}, effects: []}
        - send: finish
          expect: {state: done, effects: [hook]}
        """,
    )
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]
    assert result.path_lines()[1] == " 2. shop: ask.done: asking -> known"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("fail: timeout", "no answer within the service's timeout"),
        ("fail: connection", "the service could not be reached"),
        ("fail: {status: 503}", "the service answered HTTP 503"),
        ("respond: {status: 200, body: {left: -1, note: x}}", "must be at least 0"),
    ],
)
def test_scenario_failures_become_the_failed_event(
    tmp_path: Path, answer: str, reason: str
) -> None:
    path = scenario(
        tmp_path,
        f"""\
        - send: go
          payload: {{sku: a}}
        - {answer}
          expect: {{state: broken}}
        """,
    )
    result = run_scenario_file(path)
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]
    assert result.steps[1].step.event == "ask.failed"
    session = Session(EngineCache(load([tmp_path / "flows"]).workflows), "shop")
    pending = PendingCalls(session)
    pending.after(session, [session.send("go", {"sku": "a"})])
    call, why = pending.pick(None)
    assert call is not None
    assert why == ""
    event, payload = pending.answer(call, yaml.safe_load(answer))
    assert event == "ask.failed"
    assert reason in payload["reason"]
    assert pending.pick(None) == (None, NOTHING_PENDING)


def test_answering_when_nothing_is_pending_is_a_located_problem(tmp_path: Path) -> None:
    path = scenario(
        tmp_path,
        """\
        - send: go
          payload: {sku: a}
        - fail: timeout
        - respond: {status: 200}
        """,
    )
    result = run_scenario_file(path)
    assert [str(p) for p in result.problems] == [
        f"{path}:8:14: no call is waiting for an answer here (no state entered invokes one)"
    ]


def test_validate_checks_the_effect_names_of_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        """\
        - send: go
          payload: {sku: a}
          expect: {effects: [asks]}
        - effect: aks
          respond: {status: 200}
        """,
    )
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:7:24: no call named 'asks' (did you mean 'ask'?) (calls: ask, hook)" in out
    assert f"{path}:8:13: no state invokes 'aks' (did you mean 'ask'?) (invokes: ask)" in out


# -- the example, through the command line --------------------------------------------------


def test_the_example_validates_passes_and_is_fully_covered_and_killed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenarios = str(EXAMPLE / "scenarios")
    assert main(["validate", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.startswith("ok: 7 files valid")
    assert main(["test", scenarios]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 passed, 0 failed"
    report = tmp_path / "coverage.json"
    assert main(["coverage", scenarios, "--fail-under", "100", "--json", str(report)]) == 0
    capsys.readouterr()
    total = json.loads(report.read_text(encoding="utf-8"))["total"]
    assert {k: (v["covered"], v["total"]) for k, v in total.items()} == {
        "states": (6, 6),
        "transitions": (6, 6),
        "guard_outcomes": (4, 4),
    }
    args = ["mutate", str(EXAMPLE), "--scenarios", scenarios, "--format", "json", "--jobs", "1"]
    assert main([*args, "--fail-under", "100"]) == 0
    mutated = json.loads(capsys.readouterr().out)
    assert mutated["score"] == 100.0
    assert mutated["complete"] is True
    assert main(["explore", str(EXAMPLE / "supplier_order.yaml")]) == 0
    explored = capsys.readouterr().out
    assert "place, reserve.done, confirm" in explored
    assert "Events that can never be accepted: none" in explored


# -- compensation ---------------------------------------------------------------------------

UNDOING = WORKFLOW.replace(
    "    invoke: {service: stock, as: ask, with: {sku: data.sku}}\n",
    "    invoke: {service: stock, as: ask, with: {sku: data.sku}}\n"
    "    compensate: {service: hook, with: {undo: data.sku}}\n",
).replace(
    "  done: {final: completed}\n", "  done: {final: completed}\n  gone: {final: cancelled}\n"
)
UNDOING += "  - event: quit\n    from: [known, broken]\n    to: gone\n"
UNDOING = UNDOING.replace("  finish: {}\n", "  finish: {}\n  quit: {}\n")


def test_cancelling_after_the_call_surely_succeeded_compensates_it(tmp_path: Path) -> None:
    engine = Engine(load([project(tmp_path, UNDOING)]).workflows["shop"])
    succeeded = engine.create()
    succeeded.send("go", {"sku": "k"})
    succeeded.send("ask.done", {"left": 1, "note": "", "status": 200})
    (undo,) = succeeded.send("quit").effects
    assert (undo.kind, undo.service, undo.body) == ("compensate", "hook", {"undo": "k"})
    assert undo.answers is False
    failed = engine.create()
    failed.send("go", {"sku": "k"})
    failed.send("ask.failed", {"status": None, "reason": "no answer"})
    quitting = failed.send("quit")
    assert quitting.accepted
    assert quitting.effects == ()


def test_compensate_without_an_invoke_is_a_located_problem(tmp_path: Path) -> None:
    workflow = UNDOING.replace("  known: {}\n", "  known: {compensate: {service: hook}}\n")
    found = problems_of(tmp_path, workflow)
    assert any(
        p.startswith("shop.yaml:11: state 'known' compensates, but invokes nothing") for p in found
    ), found


def test_export_scxml_writes_the_calls_and_nothing_of_the_services_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", str(EXAMPLE / "supplier_order.yaml"), "--format", "scxml"]) == 0
    text = capsys.readouterr().out
    assert '<invoke id="reserve" type="http" src="supplier">' in text
    assert '<send event="linkflow.notify" type="http" target="team_hook">' in text
    assert '"compensate": {"service": "supplier_release"' in text
    for leak in ("SUPPLIER_TOKEN", "bearer", "auth", "127.0.0.1", "/orders/", "Accept"):
        assert leak not in text, leak


def test_export_xstate_writes_the_calls_and_nothing_of_the_services_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The invoke, its answers as XState's actor events, the notify as an action, the
    compensation in meta; of services.yaml only the names (no URL, header, auth reference)."""
    assert main(["export", str(EXAMPLE / "supplier_order.yaml"), "--format", "xstate"]) == 0
    text = capsys.readouterr().out
    config = json.loads(text)
    reserving = config["states"]["reserving"]
    assert reserving["invoke"]["id"] == "reserve"
    assert reserving["invoke"]["src"] == "supplier"
    assert reserving["invoke"]["input"] == {"sku": "data.sku", "quantity": "data.quantity"}
    assert [t["target"] for t in reserving["invoke"]["onDone"]] == ["reserved"]
    assert [t["target"] for t in reserving["invoke"]["onError"]] == ["unavailable"]
    assert "on" not in reserving
    assert reserving["meta"]["linkflow"]["compensate"] == {
        "service": "supplier_release",
        "with": {"reason": "'cancelled by the buyer'"},
    }
    (confirm,) = config["states"]["reserved"]["on"]["confirm"]
    assert confirm["actions"] == [
        {
            "type": "linkflow.notify",
            "params": {
                "service": "team_hook",
                "with": {"text": "'order ' + data.order_id + ' confirmed'"},
            },
        }
    ]
    assert config["meta"] == {
        "linkflow": {
            "actors": ["supplier"],
            "notify": ["team_hook"],
            "compensate": ["supplier_release"],
        }
    }
    for leak in ("SUPPLIER_TOKEN", "bearer", "auth", "127.0.0.1", "/orders/", "Accept", "retry"):
        assert leak not in text.replace('"retry"', ""), leak
