"""`linkflow.open`: one way in, the same code in memory and in a store (SQLite here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import linkflow
from linkflow.store import Conflict, NotFound
from tests.support.store import BOARDS, CASES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["memory", "sqlite"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[linkflow.Project]:
    store = None if request.param == "memory" else f"sqlite:///{tmp_path / 'store.db'}"
    with linkflow.open(CASES, world=BOARDS, store=store) as opened:
        yield opened


def test_a_run_takes_events_and_follows_its_handoff(project: linkflow.Project) -> None:
    run = project.start("tally", {"board": "main"}, id="t-1")
    assert (run.id, run.workflow, run.state, run.version, run.finished) == (
        "t-1",
        "tally",
        "open",
        0,
        False,
    )
    step = run.send("add", {"item": "pen"})
    assert isinstance(step, linkflow.Step)
    assert (step.accepted, step.source, step.target, run.version) == (True, "open", "open", 1)
    assert run.data["items"] == ["pen"]
    run.send("close")
    assert (run.workflow, run.state, run.version, run.finished) == (
        "tally_review",
        "reviewing",
        0,
        False,
    )
    assert run.instance != "t-1"
    assert run.id == "t-1"
    assert [o.event for o in run.available() if o.available] == ["approve"]
    done = run.send("approve")
    assert (done.accepted, run.outcome, run.finished) == (True, "completed", True)
    assert [(e.event, e.accepted) for e in run.history()] == [("approve", True)]
    assert project.run("t-1").state == "approved"


def test_a_refusal_is_the_same_value_in_both_modes(project: linkflow.Project) -> None:
    run = project.start("tally", {"board": "nowhere"})
    step = run.send("add", {"item": "pen"})
    assert not step.accepted
    assert isinstance(step.refusal, linkflow.Refusal)
    assert step.refusal.guard == "board_exists"
    assert step.refusal.message == "There is no board 'nowhere'."
    assert (run.state, run.version) == ("open", 0)
    assert [(e.event, e.accepted) for e in run.history()] == [("add", False)]


def test_event_ids_and_expected_versions(project: linkflow.Project) -> None:
    run = project.start("tally", {"board": "main"})
    first = run.send("add", {"item": "pen"}, event_id="k1")
    again = run.send("add", {"item": "pen"}, event_id="k1")
    assert (again.event, again.accepted, again.source, again.target) == (
        first.event,
        first.accepted,
        first.source,
        first.target,
    )
    assert run.data["items"] == ["pen"]
    with pytest.raises(Conflict):
        run.send("add", {"item": "ink"}, event_id="k1")
    with pytest.raises(Conflict):
        run.send("add", {"item": "ink"}, expect_version=0)
    assert run.send("add", {"item": "ink"}, expect_version=1).accepted
    closed = run.send("close", event_id="c1")
    assert run.workflow == "tally_review"
    replayed = run.send("close", event_id="c1")
    assert (replayed.event, replayed.target, run.state) == ("close", closed.target, "reviewing")


def test_the_same_id_with_the_same_data_is_the_same_run(project: linkflow.Project) -> None:
    one = project.start("tally", {"board": "main"}, id="same")
    one.send("add", {"item": "pen"})
    assert project.start("tally", {"board": "main"}, id="same").version == 1
    with pytest.raises(Conflict):
        project.start("tally", {"board": "spare"}, id="same")


def test_unknown_names_are_usage_errors(project: linkflow.Project) -> None:
    with pytest.raises(linkflow.LinkflowError, match=r"'talley' \(did you mean 'tally'\?\)"):
        project.start("talley")
    with pytest.raises(NotFound):
        project.run("no-such-run")


def test_a_durable_run_reopens_in_another_project(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with linkflow.open(CASES, world=BOARDS, store=url) as first:
        ident = first.start("tally", {"board": "main"}).id
        first.run(ident).send("close")
    with linkflow.open(CASES, store=url) as second:
        run = second.run(ident)
        assert (run.workflow, run.state) == ("tally_review", "reviewing")
        assert run.send("approve").accepted


def test_problems_raise_one_load_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("workflow: broken\ninitial: nowhere\nstates: {}\n", encoding="utf-8")
    with pytest.raises(linkflow.LoadError) as caught:
        linkflow.open(broken)
    assert caught.value.problems
    assert all(isinstance(p, linkflow.Problem) for p in caught.value.problems)
    assert all(p.location.file == str(broken) for p in caught.value.problems)
    with pytest.raises(linkflow.LoadError, match="no such file or folder"):
        linkflow.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(linkflow.LoadError, match="no workflow found"):
        linkflow.open(tmp_path / "empty")
    with pytest.raises(linkflow.LoadError):
        linkflow.open(CASES, world=broken)


def test_a_world_value_is_shared_by_the_runs_in_memory() -> None:
    world = linkflow.World({"boards": {"main": {"items": [], "password_check": "x", "signed": []}}})
    project = linkflow.open(CASES, world=world)
    project.start("tally", {"board": "main"}).send("add", {"item": "pen"})
    project.start("tally", {"board": "main"}).send("add", {"item": "ink"})
    assert world.collections["boards"]["main"]["items"] == ["pen", "ink"]
