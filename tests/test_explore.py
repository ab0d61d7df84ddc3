"""linkflow explore: decision table, loops, contradictions, dead events and bounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.generate import write_workflow
from linkflow.analysis.explore import explore
from linkflow.cli import main
from linkflow.language.invariants import check_invariant
from linkflow.language.loader import load_workflow
from linkflow.language.model import Invariant, InvariantKind

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "analysis"


def table(path: Path) -> list[tuple[dict[str, str], str, tuple[str, ...]]]:
    result = explore(load_workflow(path))
    return [
        ({g: row.outcome_of(g) for g in result.guards}, row.ending.describe(), row.events)
        for row in result.rows
    ]


def test_document_review_decision_table() -> None:
    rows = table(ROOT / "examples" / "document_review.yaml")
    assert [(r[1], r[2]) for r in rows] == [
        ("completed in 'published'", ("submit", "approve")),
        ("'submit' refused by document_exists [D1] in 'draft' (stays)", ("submit",)),
        (
            "'approve' refused by reviewer_is_not_author [D2] in 'in_review' (stays)",
            ("submit", "approve"),
        ),
        ("'approve' refused by code_is_valid [D3] in 'in_review' (stays)", ("submit", "approve")),
        ("cancelled in 'withdrawn'", ("withdraw",)),
        ("refused in 'rejected'", ("submit", "reject")),
        ("timed_out in 'expired'", ("submit", "timeout")),
    ]
    assert rows[0][0] == {
        "document_exists": "yes",
        "reviewer_is_not_author": "yes",
        "code_is_valid": "yes",
    }
    assert rows[2][0]["code_is_valid"] == "-"


def test_contradictions_loops_and_dead_events() -> None:
    result = explore(load_workflow(CASES / "contradictions.yaml"))
    assert [c.describe() for c in result.contradictions] == [
        "'odd' needs contradictory guard outcomes on every path "
        "(e.g. check, go_odd: 'verified' both true and false)"
    ]
    assert [d.describe() for d in result.dead_events] == [
        "'go_odd' can never be accepted: line 50 needs !verified in 'checked', "
        "but every path there has found verified",
        "'never' can never be accepted: line 60 needs many_tries, no_tries at once",
    ]
    assert [loop.describe() for loop in result.loops] == [
        "start -(check)-> checked -(retry)-> start; reached by: (the initial state); "
        "nothing bounds the number of rounds"
    ]
    # the exclusive group: never both many_tries and no_tries on one row
    for row in result.rows:
        assert {row.outcome_of("many_tries"), row.outcome_of("no_tries")} != {"yes"}


def write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_write_frees_the_guards_that_read_it(tmp_path: Path) -> None:
    """'verified' is forgotten after `refresh` writes data.verified, so 'odd' becomes reachable."""
    doc = yaml.safe_load((CASES / "contradictions.yaml").read_text(encoding="utf-8"))
    doc["events"]["refresh"] = {}
    doc["transitions"].append(
        {
            "event": "refresh",
            "from": "checked",
            "to": "checked",
            "actions": [{"set": {"path": "data.verified", "value": "false"}}],
        }
    )
    workflow = load_workflow(write(tmp_path, "refreshed", doc))
    result = explore(workflow)
    assert result.contradictions == []
    assert [d.event for d in result.dead_events] == ["never"]
    go_odd = next(n for n, t in enumerate(workflow.transitions) if t.event == "go_odd")
    assert go_odd in result.feasible


def test_payload_guards_are_fresh_at_every_step(tmp_path: Path) -> None:
    doc = {
        "workflow": "retry",
        "initial": "login",
        "states": {
            "login": {},
            "failed": {},
            "second_try": {},
            "done": {"final": "completed"},
        },
        "events": {
            "log_in": {"payload": {"type": "object", "properties": {"pw": {"type": "string"}}}},
            "retry": {},
        },
        "guards": {
            "pw_ok": {
                "when": "payload.pw == 'x'",
                "message": "wrong",
                "message_when_true": "right",
            }
        },
        "transitions": [
            {"event": "log_in", "from": "login", "to": "failed", "guards": ["!pw_ok"]},
            {"event": "retry", "from": "failed", "to": "second_try"},
            {"event": "log_in", "from": "second_try", "to": "done", "guards": ["pw_ok"]},
        ],
    }
    # 'done' needs pw_ok false, then true: fine for a guard on the payload
    result = explore(load_workflow(write(tmp_path, "retry", doc)))
    assert result.contradictions == []
    done = next(r for r in result.rows if r.ending.kind == "completed")
    assert done.events == ("log_in", "retry", "log_in")
    assert done.outcome_of("pw_ok") == "no, yes"


def test_bounds_are_reported(tmp_path: Path) -> None:
    result = explore(load_workflow(CASES / "contradictions.yaml"), max_depth=1, max_loops=0)
    assert any("--max-depth" in b for b in result.bounds)
    small = explore(load_workflow(CASES / "contradictions.yaml"), max_paths=2)
    assert any("--max-paths" in b and "incomplete" in b for b in small.bounds)


@pytest.mark.slow  # a generated workflow of a thousand states
def test_a_large_generated_workflow_stays_bounded(tmp_path: Path) -> None:
    path = write_workflow(tmp_path / "big.yaml", states=1000, transitions=5000)
    workflow = load_workflow(path)
    result = explore(workflow, max_nodes=5000)
    assert any("--max-nodes" in b for b in result.bounds)
    assert result.rows
    assert result.loops
    # the invariant checks are polynomial: a counterexample comes back at once
    requires = Invariant(
        "score_needs_not_g0",
        InvariantKind.REQUIRES,
        workflow.location,
        writes="data.score",
        guards=("!g0",),
    )
    (violation,) = check_invariant(workflow, requires)
    assert violation.path[-1].transition is violation.offending


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_cli_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explore", str(CASES / "link_entry.yaml"), "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0
    if fmt == "json":
        report = json.loads(out)
        assert report["workflow"] == "link_entry"
        assert report["guards"] == ["actor_is_admin", "account_in_bc", "access_allows_linking"]
        assert [i["holds"] for i in report["invariants"]] == [True] * 4
        assert report["complete"] is True
    elif fmt == "markdown":
        assert "| # | actor_is_admin | account_in_bc | access_allows_linking |" in out
        assert "- `linking_needs_prerequisites` (R3): holds" in out
    else:
        assert "refused by account_in_bc [R4] in 'identity_section' (stays)" in out
        assert "Invariants: 4 hold, 0 broken" in out
        assert "hands off to link_method" in out


def test_cli_reports_a_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: bad\ninitial: nowhere\nstates: {a: {final: completed}}\n")
    assert main(["explore", str(bad)]) == 1
    assert "bad.yaml" in capsys.readouterr().err
