"""Coverage: a pure measure over steps, the suite runner, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow.analysis import coverage
from linkflow.analysis.coverage import CoverageReport, measure, run_suite
from linkflow.cli import main
from linkflow.language.loader import load
from linkflow.runtime.session import EngineCache, Session
from linkflow.runtime.world import World

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "analysis"


def sessions() -> tuple[EngineCache, dict[str, object]]:
    result = load([CASES / "link_entry.yaml", CASES / "link_method.yaml"])
    assert result.ok
    return EngineCache(result.workflows), dict(result.workflows)


def world() -> World:
    return World(
        {
            "users": {"ana": {"admin": True}, "bo": {"admin": False}},
            "ad_accounts": {"ads1": {"bc": "acme", "access": "admin", "identities": []}},
            "tiktok_accounts": {"tt1": {"password": "pw"}},
        }
    )


def test_measure_over_session_steps() -> None:
    engines, _ = sessions()
    refused = Session(engines, "link_entry", {"actor": "bo", "ad_account": "ads1"}, world())
    refused.send("open_link")
    happy = Session(engines, "link_entry", {"actor": "ana", "ad_account": "ads1"}, world())
    happy.send("open_link")
    happy.send("choose")
    happy.send("log_in", {"account": "tt1", "password": "wrong"})
    happy.send("log_in", {"account": "tt1", "password": "pw"})
    happy.send("confirm")
    steps = [(s.workflow, s.step) for s in refused.steps + happy.steps]
    started = ["link_entry", "link_entry", *(s.handed_to for s in happy.steps if s.handed_to)]
    report = measure(engines.workflows, steps, started, scenarios=2)

    entry = report.workflows["link_entry"]
    assert entry.uncovered_states == ["cancelled"]
    assert [entry.workflow.transitions[n].event for n in entry.uncovered_transitions] == ["cancel"]
    assert entry.never_held == []
    # actor_is_admin refused for bo; the other two guards were never seen refusing
    assert [label for _, label in entry.never_refused] == [
        "account_in_bc",
        "access_allows_linking",
    ]
    method = report.workflows["link_method"]
    assert method.counts() == {
        "states": (3, 5),
        "transitions": (2, 4),
        "guard_outcomes": (2, 2),
    }
    assert report.uncovered_transitions("link_method") == [2, 3]  # cancel, then the timeout
    assert report.totals()["transitions"] == (4, 7)
    assert report.percent() == pytest.approx(400 / 7)
    data = report.as_dict()
    assert data["workflows"]["link_method"]["uncovered_transitions"][1]["event"] == "timeout"
    assert data["total"]["guard_outcomes"] == {"covered": 6, "total": 8, "percent": 75.0}
    assert "link_entry: not covered" in report.table()
    assert "guard account_in_bc never refused on open_link" in report.table()


def test_a_handoff_starts_the_next_instance_on_the_session_clock() -> None:
    """The instance a handoff starts keeps time by the session's clock: its login window
    times out 600 s after the handoff on that clock (mutation audit: the clock was dropped)."""
    now = [1_000.0]
    engines, _ = sessions()
    session = Session(
        engines, "link_entry", {"actor": "ana", "ad_account": "ads1"}, world(), lambda: now[0]
    )
    session.send("open_link")
    assert session.send("choose").handed_to == "link_method"
    assert session.instance.due == 1_600.0
    now[0] = 1_600.0
    [fired] = session.expire_all()
    assert (fired.workflow, fired.step.target) == ("link_method", "timed_out")


def test_steps_of_unknown_workflows_are_ignored() -> None:
    engines, _ = sessions()
    session = Session(engines, "link_entry", {"actor": "ana", "ad_account": "ads1"}, world())
    session.send("open_link")
    report = measure({}, [(s.workflow, s.step) for s in session.steps])
    assert report.workflows == {}
    assert report.percent() == 100.0


def test_suite_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = ROOT / "examples" / "scenarios"
    report = run_suite([suite])
    assert report.scenarios >= 1
    assert "document_review" in report.workflows
    out = tmp_path / "coverage.json"
    code = main(["coverage", str(suite), "--json", str(out), "--fail-under", "1"])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.splitlines()[1].split() == [
        "workflow",
        "states",
        "transitions",
        "guard",
        "outcomes",
    ]
    written = json.loads(out.read_text())
    assert "document_review" in written["workflows"]
    # Exactly at the measured total passes, a hair above fails: the threshold is compared.
    lowest = min(written["total"][k]["percent"] for k in ("transitions", "guard_outcomes"))
    assert 0 < lowest < 99, lowest
    assert main(["coverage", str(suite), "--fail-under", str(lowest - 0.5)]) == 0
    assert main(["coverage", str(suite), "--fail-under", str(lowest + 0.5)]) == 1
    assert main(["coverage", str(suite), "--fail-under", "100"]) == 1
    assert main(["coverage", str(suite), "--fail-under", "101"]) == 2


class _Measured(CoverageReport):
    """A report with the totals a test sets: the gate reads nothing else."""

    def __init__(self, transitions: tuple[int, int], guard_outcomes: tuple[int, int]) -> None:
        super().__init__({}, scenarios=1)
        self.fixed = {
            "states": (1, 1),
            "transitions": transitions,
            "guard_outcomes": guard_outcomes,
        }

    def totals(self) -> dict[str, tuple[int, int]]:
        return dict(self.fixed)


@pytest.mark.parametrize(
    ("transitions", "guard_outcomes", "fail_under", "code"),
    [
        ((249, 250), (1, 1), 100.0, 1),  # 99.6 % is not 100 %, however it rounds
        ((249, 250), (1, 1), 99.6, 0),  # exactly at the threshold passes
        ((249, 250), (1, 1), 99.61, 1),
        ((249, 250), (1, 1), 99.5, 0),
        ((250, 250), (1, 1), 100.0, 0),
        ((1, 1), (1999, 2000), 100.0, 1),  # the guard outcomes are gated as well: 99.95 %
        ((1, 1), (1, 2), 50.0, 0),
        ((1, 1), (1, 2), 50.01, 1),
        ((1, 3), (1, 1), 100 / 3, 0),  # 33.33...: the percentage is not rounded either way
        ((1, 3), (1, 1), 33.4, 1),
        ((0, 0), (0, 0), 100.0, 0),  # nothing to cover is all covered
    ],
)
def test_the_gate_compares_the_exact_percentage_with_the_threshold(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    transitions: tuple[int, int],
    guard_outcomes: tuple[int, int],
    fail_under: float,
    code: int,
) -> None:
    report = _Measured(transitions, guard_outcomes)
    monkeypatch.setattr(coverage, "run_suite", lambda paths: report)
    suite = str(ROOT / "examples" / "scenarios")  # a real folder: its report is replaced
    assert main(["coverage", suite, "--fail-under", repr(fail_under)]) == code
    said = capsys.readouterr()
    assert ("is below --fail-under" in said.out + said.err) is (code == 1)
