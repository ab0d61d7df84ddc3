"""SCXML export and import: the W3C schema accepts every export, the output is deterministic,
an exported workflow read back behaves the same (every scenario passes on it), and what linkflow
does not run, or hostile XML, is a located problem with a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st

from linkflow.cli import main
from linkflow.interop.scxml_export import scxml_text
from linkflow.interop.scxml_import import read_scxml, workflow_yaml
from linkflow.interop.xml_reader import MAX_BYTES
from linkflow.interop.xstate import xstate_json
from linkflow.language.loader import load, load_text, load_text_at
from linkflow.language.model import Action, Workflow
from linkflow.language.scenario_check import read_scenario
from linkflow.runtime.engine import Engine
from linkflow.runtime.session import EngineCache
from linkflow.testing.scenarios import run_scenario, scenario_files
from tests.test_properties import Clock, generated_actions, small_workflows

ROOT = Path(__file__).resolve().parent.parent
XSD = ROOT / "tests" / "fixtures" / "scxml-xsd" / "scxml.xsd"
SCENARIOS = [
    ROOT / "tests" / "scenarios",
    ROOT / "examples" / "scenarios",
    ROOT / "examples" / "supplier_order" / "scenarios",
]
HEAD = '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" name="door" initial="a">'


@pytest.fixture(scope="module")
def shipped() -> dict[str, Workflow]:
    loaded = load([ROOT / "workflows", ROOT / "examples"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    assert len(loaded.workflows) >= 7
    assert any(w.invokes and w.notifies and w.compensations for w in loaded.workflows.values())
    return dict(sorted(loaded.workflows.items()))


def states(workflow: Workflow) -> dict[str, tuple[object, ...]]:
    """Each state's end, handoff and wait (without source locations)."""
    out: dict[str, tuple[object, ...]] = {}
    for name, state in workflow.states.items():
        timeout = state.waiting.timeout if state.waiting else None
        wait = (
            (state.waiting.awaits, timeout.seconds, timeout.to, timeout.description)
            if state.waiting and timeout
            else (state.waiting.awaits if state.waiting else None)
        )
        out[name] = (state.final, state.handoff, wait, state.description, state.label)
    return out


def reimported(workflow: Workflow) -> Workflow:
    doc, problems = read_scxml(scxml_text(workflow), f"{workflow.name}.scxml")
    assert doc is not None, [str(p) for p in problems]
    text = workflow_yaml(doc, f"{workflow.name}.scxml")
    # a workflow that calls services: read as if beside its services file (SCXML names them)
    result = load_text_at(text, workflow.file) if workflow.services else load_text(text, "x")
    assert result.ok, [str(p) for p in result.problems]
    return result.workflows[workflow.name]


def test_every_export_is_valid_scxml_by_the_w3c_schema(shipped: dict[str, Workflow]) -> None:
    schema = xmlschema.XMLSchema(str(XSD))
    for workflow in shipped.values():
        errors = [str(e.reason) for e in schema.iter_errors(scxml_text(workflow))]
        assert errors == [], workflow.name


def test_the_schema_check_can_fail() -> None:
    schema = xmlschema.XMLSchema(str(XSD))
    assert not schema.is_valid(
        f'{HEAD}<state id="a"><transition event="go" delay="x"/></state></scxml>'
    )
    assert not schema.is_valid(HEAD.replace('version="1.0"', 'version="2.0"') + "</scxml>")


def test_exports_are_deterministic(shipped: dict[str, Workflow]) -> None:
    again = load([ROOT / "workflows", ROOT / "examples"], kinds=["workflow"]).workflows
    for name, workflow in shipped.items():
        assert scxml_text(workflow) == scxml_text(again[name])
        assert xstate_json(workflow) == xstate_json(again[name])


def test_a_round_trip_keeps_the_machine(shipped: dict[str, Workflow]) -> None:
    for workflow in shipped.values():
        back = reimported(workflow)
        assert back.initial == workflow.initial
        assert states(back) == states(workflow)

        def shape(w: Workflow) -> list[tuple[object, ...]]:
            return [
                (
                    t.event,
                    t.sources,
                    t.target,
                    tuple(g.label for g in t.guards),
                    t.is_timeout,
                    *tuple(
                        (a.kind, a.target.text, a.value.source if a.value else "")
                        for a in t.actions
                    ),
                )
                for t in w.transitions
            ]

        assert shape(back) == shape(workflow)
        assert {n: g.when.source for n, g in back.guards.items()} == {
            n: g.when.source for n, g in workflow.guards.items()
        }
        assert back.events.keys() == workflow.events.keys()
        assert dict(back.data) == dict(workflow.data)


def test_every_scenario_passes_on_the_workflows_read_back(shipped: dict[str, Workflow]) -> None:
    """The same behaviour: every shipped scenario, run on the exported-and-imported workflows."""
    engines = EngineCache({name: reimported(w) for name, w in shipped.items()})
    files, problems = scenario_files(SCENARIOS)
    assert not problems
    assert len(files) > 50
    failed = []
    for path in files:
        doc, problems = read_scenario(path)
        assert doc is not None, problems
        result = run_scenario(doc, engines)
        if not result.passed:
            failed.append(f"{path.name}: {[str(f) for f in result.failures + result.problems]}")
    assert failed == []


def test_compound_states_come_back_as_they_were(shipped: dict[str, Workflow]) -> None:
    """The nested example through SCXML and back: the same compound states, entry and exit
    actions, done states and declared sources."""
    workflow = shipped["expense_claim"]
    text = scxml_text(workflow)
    assert '<state id="approval" initial="approval.manager">' in text
    assert '<transition event="done.state.preparing"' in text
    back = reimported(workflow)
    assert {n: (c.initial, c.children) for n, c in back.compounds.items()} == {
        n: (c.initial, c.children) for n, c in workflow.compounds.items()
    }

    def actions(found: tuple[Action, ...]) -> list[str]:
        return [f"{a.kind} {a.target.text} {a.value.source if a.value else ''}" for a in found]

    for name, state in workflow.states.items():
        again = back.states[name]
        assert again.done == state.done
        assert actions(again.entry) == actions(state.entry)
        assert actions(again.exit) == actions(state.exit)
    for name, compound in workflow.compounds.items():
        assert actions(back.compounds[name].exit) == actions(compound.exit)
    assert [(t.event, t.declared, t.to) for t in back.transitions] == [
        (t.event, t.declared, t.to) for t in workflow.transitions
    ]


TYPED = """\
workflow: typed
initial: open
data:
  amount: {type: number, default: 0, minimum: 0}
  note: ""
states:
  open: {}
  done: {final: completed}
events:
  pay: {payload: {type: object, properties: {amount: {type: number}}, required: [amount]}}
transitions:
  - event: pay
    from: open
    to: done
    actions: [{set: {path: data.amount, value: payload.amount}}]
"""


def test_a_typed_data_field_keeps_its_type_and_its_default_is_the_scxml_value() -> None:
    original = load_text(TYPED, "typed.yaml").workflows["typed"]
    text = scxml_text(original)
    assert '<data id="amount" expr="0" lf:declared=' in text
    back = reimported(original)
    assert dict(back.data_types) == dict(original.data_types)
    assert back.data_types["amount"]["minimum"] == 0
    assert dict(back.data) == {"amount": 0, "note": ""}


def test_an_scxml_without_linkflow_extensions_is_read() -> None:
    text = f"""{HEAD}
  <datamodel><data id="opened" expr="0"/></datamodel>
  <state id="a">
    <transition event="open" cond="data.opened &lt; 3" target="b">
      <assign location="data.opened" expr="data.opened + 1"/>
    </transition>
  </state>
  <state id="b">
    <onentry><send event="linkflow.timeout.b" delay="90s" id="t"/></onentry>
    <onexit><cancel sendid="t"/></onexit>
    <transition event="linkflow.timeout.b" target="a"/>
    <transition event="break" target="gone"/>
  </state>
  <final id="gone"/>
</scxml>"""
    doc, problems = read_scxml(text, "door.scxml")
    assert problems == []
    assert doc is not None
    assert doc["guards"] == {
        "cond_1": {
            "when": "data.opened < 3",
            "message": "Condition 1 of the imported chart does not hold.",
        }
    }
    assert doc["states"]["b"] == {
        "waiting": {"for": "an answer", "timeout": {"seconds": 90.0, "to": "a"}}
    }
    assert doc["transitions"][0] == {
        "event": "open",
        "from": "a",
        "to": "b",
        "guards": ["cond_1"],
        "actions": [{"set": {"path": "data.opened", "value": "data.opened + 1"}}],
    }
    assert load_text(workflow_yaml(doc, "door.scxml"), "door.yaml").ok


UNSUPPORTED = [
    ('<state id="a"><history id="h"/></state>', "1:100: history states are not supported"),
    (
        '<state id="a"><invoke src="x"/></state>',
        "1:100: <invoke> of type 'scxml' is not supported: linkflow calls a declared service, "
        'written type="http" with the service\'s name in src',
    ),
    (
        '<state id="a"><invoke type="http" srcexpr="x"/></state>',
        "1:100: <invoke>: the attribute srcexpr is not supported (linkflow reads id, type, src)",
    ),
    (
        '<state id="a"><invoke id="ask" type="http" src="https://x.test/"/></state>',
        "1:100: <invoke>'s src 'https://x.test/' is not a service's name",
    ),
    (
        '<state id="a"><invoke id="ask" type="http" src="s"><finalize/></invoke></state>',
        "1:137: <finalize> is not supported: the answer is an event",
    ),
    (
        '<state id="a"><invoke id="ask" type="http" src="s">'
        '<param name="x" location="data.x"/></invoke></state>',
        "1:137: a <param> of <invoke> needs a name and an expr",
    ),
    (
        '<state id="a"><invoke id="ask" type="http" src="s"><content>{"a": 1}</content>'
        "</invoke></state>",
        '1:137: <content> of <invoke> is read only as an empty body (expr="{}"): give each '
        "field as a <param name= expr=>",
    ),
    (
        '<state id="a"><invoke id="ask" type="http" src="s"/>'
        '<invoke id="again" type="http" src="s"/></state>',
        "1:138: a second <invoke> in one state (linkflow invokes one)",
    ),
    (
        '<final id="f"><invoke id="ask" type="http" src="s"/></final>',
        '1:100: <invoke> is supported only in a <state>, as a service call (type="http")',
    ),
    (
        '<state id="a"><transition event="done.invoke.ask" target="a"/></state>',
        "1:100: event 'done.invoke.ask' answers an invoke 'ask', and no <invoke> has that id",
    ),
    (
        '<state id="a"><transition event="go" target="a">'
        '<send event="hello" type="http" target="hook"/></transition></state>',
        "1:134: a notify's <send> sends the event linkflow.notify",
    ),
    (
        '<state id="a"><transition event="go" target="a">'
        '<send target="http://x.test/" type="http"/></transition></state>',
        "1:134: <send>'s target 'http://x.test/' is not a service's name",
    ),
    (
        '<state id="a"><transition event="go" target="a">'
        '<send type="http" target="hook" delay="5s"/></transition></state>',
        "1:134: <send>: the attribute delay is not supported (linkflow reads event, type, target)",
    ),
    ("<script>go()</script>", "1:86: <script> is not supported: linkflow runs no scripts"),
    (
        '<state id="a"><onentry><log expr="1"/></onentry></state>',
        "1:109: <log> is not supported on entry or exit (an <assign>, a linkflow action or a "
        "timeout is)",
    ),
    (
        '<state id="a"><transition target="a"/></state>',
        "1:100: a transition without an event (eventless) is not supported",
    ),
    (
        '<state id="a"><transition event="go.*" target="a"/></state>',
        "1:100: event 'go.*': one event name per transition, no wildcard",
    ),
    (
        '<state id="a" initial="b c"><state id="b"/><state id="c"/></state>',
        "1:86: several initial states (a parallel start) are not supported",
    ),
    (
        '<state id="a"><transition event="go" target="a"><raise event="x"/></transition></state>',
        "1:134: <raise> is not supported",
    ),
    ("<blink/>", "1:86: unknown element <blink> in <scxml>"),
    (
        '<datamodel><data id="x" expr="new Date()"/></datamodel>',
        "1:97: the value of 'x' is not a JSON value: new Date()",
    ),
    (
        '<final id="f"><donedata><param name="outcome" expr="\'won\'"/></donedata></final>',
        "1:110: unknown outcome 'won' (completed, cancelled, refused, declined, failed, timed_out)",
    ),
]


@pytest.mark.parametrize(("body", "expected"), UNSUPPORTED, ids=[u[0][:30] for u in UNSUPPORTED])
def test_what_linkflow_does_not_run_is_a_located_problem(body: str, expected: str) -> None:
    doc, problems = read_scxml(f"{HEAD}{body}</scxml>", "in.scxml")
    assert doc is None
    assert [str(p) for p in problems] == [f"in.scxml:{expected}"]


TOO_LARGE = "the file is 5,242,881 bytes; at most 5,242,880 bytes (5 MiB) are read"
DOCTYPE_REFUSED = (
    "a document type declaration (<!DOCTYPE ...>) is not accepted: "
    "entities and external references are refused"
)
HOSTILE = [
    (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;">]><scxml>&b;</scxml>',
        f"in.scxml:1:22: {DOCTYPE_REFUSED}",
    ),
    (
        '<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><scxml>&x;</scxml>',
        f"in.scxml:1:1: {DOCTYPE_REFUSED}",
    ),
    ("<a>" * 70, "in.scxml:1:193: elements nested more than 64 deep"),
    # the 100,001st element: <r> then 100,000 <a/>, each 4 characters
    ("<r>" + "<a/>" * 100_000 + "</r>", f"in.scxml:1:{4 + 99_999 * 4}: more than 100000 elements"),
    (" " * (MAX_BYTES + 1), f"in.scxml:1:1: {TOO_LARGE}"),
    ("<scxml><state></scxml>", "in.scxml:1:17: not well-formed XML: mismatched tag"),
    ("", "in.scxml:1:1: not well-formed XML: no element found"),
    ("<other/>", "in.scxml:1:1: expected an <scxml> element in the namespace http://www.w3.org/2005/07/scxml"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    HOSTILE,
    ids=["laughs", "external", "deep", "many", "huge", "broken", "empty", "other"],
)
def test_hostile_or_broken_xml_is_a_clear_problem(text: str, expected: str) -> None:
    doc, problems = read_scxml(text, "in.scxml")
    assert doc is None
    assert [str(p) for p in problems] == [expected]


def linkflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


class Cli:
    """The commands in-process (the same `main` the script runs; a process each is slow)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int | str | None, str, str]:
        code: int | str | None
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse leaves through SystemExit
            code = exit_.code
        out, err = self.capsys.readouterr()
        return code, out, err


def test_export_then_import_through_the_commands(tmp_path: Path) -> None:
    """End to end, as a person runs them: two processes."""
    example = str(ROOT / "examples" / "document_review.yaml")
    exported = linkflow("export", "--format", "scxml", example, "-o", "dr.scxml", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    imported = linkflow("import", "scxml", "dr.scxml", "-o", "dr.yaml", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert load([tmp_path / "dr.yaml"], follow_handoffs=False).ok


def test_the_commands_answer_mistakes_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli = Cli(capsys)
    example = str(ROOT / "examples" / "document_review.yaml")
    code, out, _ = cli("export", "--format", "xstate", example)
    assert code == 0
    assert json.loads(out)["id"] == "document_review"

    bad = f'{HEAD}<state id="a"><history id="h"/></state></scxml>'
    (tmp_path / "bad.scxml").write_text(bad, encoding="utf-8")
    code, out, err = cli("import", "scxml", "bad.scxml", "-o", "bad.yaml")
    assert (code, out) == (1, "")
    assert err == "bad.scxml:1:100: history states are not supported\n"
    assert not (tmp_path / "bad.yaml").exists()

    (tmp_path / "huge.scxml").write_bytes(b" " * (MAX_BYTES + 1))
    code, _, err = cli("import", "scxml", "huge.scxml")
    assert code == 1
    assert err == f"huge.scxml:1:1: {TOO_LARGE}\n"

    code, _, err = cli("import", "scxml", "missing.scxml")
    assert code == 1
    assert err == "missing.scxml: no such file\n"

    (tmp_path / "broken.yaml").write_text("workflow: broken\ninitial: nowhere\n", encoding="utf-8")
    code, _, err = cli("export", "--format", "xstate", "broken.yaml")
    assert code == 1
    assert err.startswith("broken.yaml:1:1: missing required key 'states'")

    code, _, err = cli("export", "--format", "scxml", example, "-o", "no/such/dir/x.scxml")
    assert code == 2
    assert "linkflow export: error: cannot write no/such/dir/x.scxml" in err

    code, _, err = cli("export", "--format", "scxml", "no_such_flow")
    assert code == 2
    assert "no workflow named no_such_flow" in err
    code, _, err = cli("export", "--format", "bpmn", example)
    assert code == 2
    assert "invalid choice: 'bpmn'" in err


@given(text=small_workflows(), actions=st.lists(generated_actions, max_size=12))
def test_generated_workflows_behave_the_same_after_a_round_trip(
    text: str, actions: list[tuple[str, Any]]
) -> None:
    """Export to SCXML, import, and every event gets the same answer, state and data."""
    loaded = load_text(text, "generated.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]
    original = loaded.workflows["generated"]
    first = Engine(original).create(clock=Clock())
    second = Engine(reimported(original)).create(clock=Clock())
    for event, payload in actions:
        one, other = first.send(event, payload), second.send(event, payload)
        assert (one.accepted, one.target) == (other.accepted, other.target)
        assert (one.refusal.message if one.refusal else "") == (
            other.refusal.message if other.refusal else ""
        )
        assert (first.state, first.data) == (second.state, second.data)


PARALLEL = """<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" name="pair"
  initial="{initial}">
<parallel id="both">
  <transition event="stop" target="end"/>
  <transition event="done.state.both" target="end"/>
  <state id="left" initial="l1">
    <state id="l1"><transition event="go" target="l2"/></state>
    <final id="l2"/>
  </state>
  <state id="right" initial="r1">
    <state id="r1"><transition event="turn" target="r2"/></state>
    <final id="r2"/>
  </state>
</parallel>
<final id="end"/>
</scxml>"""


def test_a_parallel_state_is_read_with_its_regions() -> None:
    doc, problems = read_scxml(PARALLEL.format(initial="l1 r1"), "pair.scxml")
    assert doc is not None, [str(p) for p in problems]
    assert doc["initial"] == "both.left.l1"
    assert doc["states"]["both"]["parallel"] is True
    assert "initial" not in doc["states"]["both"]
    assert set(doc["states"]["both"]["states"]) == {"left", "right"}
    loaded = load_text(workflow_yaml(doc, "pair.scxml"), "pair.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]
    workflow = loaded.workflows["pair"]
    assert workflow.initial == "both.left.l1+both.right.r1"
    assert workflow.by_source[("both.left.l1+both.right.r1", "go")][0].target_from(
        "both.left.l1+both.right.r1"
    ) == ("both.left.l2+both.right.r1")


def test_a_parallel_start_in_a_region_that_is_not_its_initial_is_a_problem() -> None:
    doc, problems = read_scxml(PARALLEL.format(initial="l1 r2"), "pair.scxml")
    assert doc is None
    assert [str(p) for p in problems] == [
        "pair.scxml:1:1: several initial states: 'r2' is not the initial state of a region of "
        "a parallel state (linkflow enters the other regions in their initial)"
    ]


def test_calls_go_to_scxml_and_come_back(shipped: dict[str, Workflow]) -> None:
    """supplier_order's invoke as <invoke type="http"> with <param>s, its answers as
    done.invoke / error.invoke, its notify as a <send> in the transition, its compensation in
    linkflow's JSON; read back: the same calls, by service name, and nothing of the services
    file in the document."""
    workflow = shipped["supplier_order"]
    text = scxml_text(workflow)
    assert '<invoke id="reserve" type="http" src="supplier">' in text
    assert '<param name="sku" expr="data.sku" />' in text
    assert '<transition event="done.invoke.reserve" target="reserved"' in text
    assert '<transition event="error.invoke.reserve" target="unavailable"' in text
    assert '<send event="linkflow.notify" type="http" target="team_hook">' in text
    assert "reserve.done" not in text
    for leak in ("SUPPLIER_TOKEN", "bearer", "127.0.0.1", "/orders/", "Accept"):
        assert leak not in text, leak
    back = reimported(workflow)

    def calls(w: Workflow) -> list[object]:
        def one(spec: Any) -> tuple[object, ...]:
            body = tuple((k, e.source) for k, e in spec.body)
            return (spec.service, spec.name, body, spec.has_body)

        return [
            sorted((state, one(spec)) for state, spec in w.invokes.items()),
            sorted((i, [one(s) for s in specs]) for i, specs in w.notifies.items()),
            sorted((state, one(spec)) for state, spec in w.compensations.items()),
            sorted(w.services),
        ]

    assert calls(back) == calls(workflow)
    assert calls(back)[0] == [
        (
            "reserving",
            ("supplier", "reserve", (("sku", "data.sku"), ("quantity", "data.quantity")), True),
        )
    ]
    assert [t.event for t in back.transitions] == [t.event for t in workflow.transitions]


BARE_CALLS = """\
workflow: pings
initial: asking
states:
  asking:
    invoke: {service: hook, as: ask}
  asked: {}
  over: {final: completed}
events:
  go: {}
transitions:
  - {event: ask.done, from: asking, to: asked}
  - {event: ask.failed, from: asking, to: over, notify: [{service: hook, with: {}}]}
  - {event: go, from: asked, to: over, notify: [{service: hook}]}
"""


def test_calls_without_a_body_and_with_an_empty_one_come_back(tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text(
        "services:\n  hook: {base_url: 'http://127.0.0.1:9', path: /h}\n", encoding="utf-8"
    )
    (tmp_path / "pings.yaml").write_text(BARE_CALLS, encoding="utf-8")
    loaded = load([tmp_path / "pings.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    workflow = loaded.workflows["pings"]
    text = scxml_text(workflow)
    assert '<invoke id="ask" type="http" src="hook" />' in text
    assert '<content expr="{}" />' in text
    assert xmlschema.XMLSchema(str(XSD)).is_valid(text)
    back = reimported(workflow)
    assert back.invokes["asking"].has_body is False
    assert [(s.has_body, s.body) for s in back.notifies[1]] == [(True, ())]
    assert [(s.has_body, s.body) for s in back.notifies[2]] == [(False, ())]


def test_an_invoke_named_like_a_state_is_refused_by_the_scxml_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An <invoke>'s id and a state's are both XML IDs: the same name would be invalid SCXML."""
    (tmp_path / "services.yaml").write_text(
        "services:\n  hook: {base_url: 'http://127.0.0.1:9', path: /h}\n", encoding="utf-8"
    )
    clash = BARE_CALLS.replace("as: ask", "as: asked").replace("ask.", "asked.")
    (tmp_path / "pings.yaml").write_text(clash, encoding="utf-8")
    code = main(["export", "--format", "scxml", str(tmp_path / "pings.yaml")])
    err = capsys.readouterr().err
    assert code == 1
    assert "pings.yaml:5:5: the invoke named 'asked' has the name of a state" in err
    assert main(["export", "--format", "xstate", str(tmp_path / "pings.yaml")]) == 0


def test_import_checks_calls_against_the_services_file_beside(tmp_path: Path) -> None:
    """The services file is not part of SCXML: `import` checks the calls against the
    services.yaml beside the file it writes, and names a service it cannot find."""
    example = str(ROOT / "examples" / "supplier_order" / "supplier_order.yaml")
    exported = linkflow("export", "--format", "scxml", example, "-o", "so.scxml", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    alone = linkflow("import", "scxml", "so.scxml", "-o", "so.yaml", cwd=tmp_path)
    assert alone.returncode == 1
    assert "unknown service 'supplier'" in alone.stdout + alone.stderr
    assert not (tmp_path / "so.yaml").exists()
    services = ROOT / "examples" / "supplier_order" / "services.yaml"
    (tmp_path / "services.yaml").write_text(services.read_text(encoding="utf-8"), encoding="utf-8")
    imported = linkflow("import", "scxml", "so.scxml", "-o", "so.yaml", cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    loaded = load([tmp_path / "so.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    assert loaded.workflows["supplier_order"].invokes["reserving"].service == "supplier"


def test_an_invoke_of_a_compound_state_comes_back(tmp_path: Path) -> None:
    """The invoke on a compound state, its answers taken by a child and by the parent, a
    notify on the failed answer: valid SCXML, and the same calls and transitions read back."""
    from tests.test_interop_xstate import ASKING  # noqa: PLC0415 - the same nested workflow

    (tmp_path / "services.yaml").write_text(
        "services:\n  oracle: {base_url: 'http://127.0.0.1:9', path: /ask}\n", encoding="utf-8"
    )
    (tmp_path / "asking.yaml").write_text(ASKING, encoding="utf-8")
    loaded = load([tmp_path / "asking.yaml"], kinds=["workflow"])
    assert loaded.ok, [str(p) for p in loaded.problems]
    workflow = loaded.workflows["asking"]
    text = scxml_text(workflow)
    assert xmlschema.XMLSchema(str(XSD)).is_valid(text)
    assert '<state id="asking" initial="asking.first">' in text
    assert '<invoke id="ask" type="http" src="oracle">' in text
    assert text.count('event="done.invoke.ask"') == 2
    back = reimported(workflow)
    assert back.invokes["asking"].service == "oracle"
    assert [(k, e.source) for k, e in back.invokes["asking"].body] == [("q", "data.question")]
    assert [(t.event, t.declared, t.to) for t in back.transitions] == [
        (t.event, t.declared, t.to) for t in workflow.transitions
    ]
    assert [s.service for s in back.notifies[4]] == ["oracle"]
