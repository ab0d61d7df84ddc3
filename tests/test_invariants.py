"""Invariants: the language, the checks, and the domain's safety rules breaking on purpose.

Every broken workflow here is a copy in tmp_path, changed the way a careless edit would: a
guard moved off the transition it protected, an edge redirected, a secret left unmarked.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from linkflow.errors import Problem
from linkflow.language.invariant_patterns import parse_pattern as pattern
from linkflow.language.invariant_patterns import pattern_matches
from linkflow.language.invariants import all_invariant_problems, check_invariant
from linkflow.language.loader import load

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "analysis"
Doc = dict[str, Any]


def copy(source: Path, tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    for name in names:
        shutil.copy(source / name, folder / name)
    return folder


def edit(path: Path, change: Callable[[Doc], None]) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=200), encoding="utf-8")


def check(folder: Path) -> list[Problem]:
    """What `linkflow validate` reports: the loader checks invariants with everything else."""
    result = load([folder], kinds=["workflow"])
    invariant_problems = all_invariant_problems(result.workflows)
    # Moving a guard onto `cancel` may also make it read a payload `cancel` lacks: that is
    # reported too, by the payload checks, and is not what these tests look at.
    others = [p for p in result.problems if p not in invariant_problems]
    assert all("which event 'cancel' does not declare" in p.message for p in others), others
    return invariant_problems


def transition(doc: Doc, event: str, source: str = "") -> Doc:
    return next(
        t
        for t in doc["transitions"]
        if t["event"] == event and (not source or source in t["from"] or t["from"] == source)
    )


def move_guard(doc: Doc, guard: str, event: str, to_event: str = "cancel") -> None:
    """The careless edit: a guard taken off the transition it protects (kept in use elsewhere
    so that the file stays valid)."""
    transition(doc, event)["guards"].remove(guard)
    transition(doc, to_event).setdefault("guards", []).append(guard)


# -- the language ---------------------------------------------------------------------------


def test_patterns() -> None:
    assert pattern("world.ad_accounts[*].identities") == [
        "world",
        "ad_accounts",
        ("key", "*"),
        "identities",
    ]
    writes = pattern("world.ad_accounts[data.ad_account].identities")
    assert pattern_matches(pattern("world.ad_accounts[*].identities"), writes)
    assert pattern_matches(pattern("world.*"), writes)
    assert pattern_matches(pattern("world.ad_accounts[data.ad_account]"), writes)
    assert not pattern_matches(pattern("world.ad_accounts[*].name"), writes)
    assert not pattern_matches(pattern("data.ad_accounts"), writes)
    with pytest.raises(ValueError, match="must start with world, data or a binding"):
        pattern("[x].y")


def test_fixture_invariants_hold() -> None:
    assert check(CASES) == []


def test_a_bad_pattern_is_located(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])
    path = folder / "link_entry.yaml"

    def spoil(doc: Doc) -> None:
        doc["invariants"]["linking_needs_prerequisites"]["requires"]["writes"] = "world.x[]"

    edit(path, spoil)
    (problem,) = load([folder]).problems
    assert problem.message == "path pattern 'world.x[]': empty '[]' at character 8"
    assert problem.location.file.endswith("link_entry.yaml")
    assert path.read_text().splitlines()[problem.location.line - 1].strip() == "writes: world.x[]"


def test_one_kind_per_invariant(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])
    edit(
        folder / "link_entry.yaml",
        lambda d: d["invariants"]["nothing_on_cancel"].update(idempotent="confirm"),
    )
    (problem,) = load([folder]).problems
    assert "needs exactly one of 'requires', 'never_stores', 'no_writes_on', 'idempotent'" in (
        problem.message
    )


def test_unknown_names_and_empty_selections_are_reported(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])

    def spoil(doc: Doc) -> None:
        doc["invariants"]["linking_needs_prerequisites"]["requires"]["guards"] = ["is_admin"]
        doc["invariants"]["confirm_once"]["idempotent"] = "confrim"
        doc["invariants"]["selects_nothing"] = {"requires": {"to": "nowhere", "guards": ["!x"]}}
        doc["invariants"]["typo"] = {"never_stores": ["pasword"]}

    edit(folder / "link_entry.yaml", spoil)
    found = [p.message.splitlines()[0] for p in check(folder)]
    assert found == [
        "invariant 'linking_needs_prerequisites' [R3] is broken: names unknown guard 'is_admin'",
        "invariant 'confirm_once' [X4] is broken: names unknown event 'confrim'",
        "invariant 'selects_nothing' is broken: names unknown guard 'x'",
        "invariant 'selects_nothing' is broken: selects unknown state 'nowhere'",
        "invariant 'typo' is broken: no event in link_entry, link_method carries a field 'pasword'",
    ]


def test_requires_follows_the_handoff_and_shows_the_shortest_path(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])
    edit(folder / "link_entry.yaml", lambda d: move_guard(d, "account_in_bc", "open_link"))
    (problem,) = check(folder)
    lines = problem.message.splitlines()
    assert lines[0] == (
        "invariant 'linking_needs_prerequisites' [R3] is broken: a path writes "
        "world.ad_accounts[*].identities without passing guard 'account_in_bc'"
    )
    assert lines[1].startswith("  offending transition: confirm: confirming -> linked (")
    assert lines[1].endswith("link_method.yaml:56:5)")
    steps = [line.split(" (")[0].strip() for line in lines[3:-1]]
    assert steps == [
        "1. link_entry: open_link: identity_section -> choosing "
        "[passes actor_is_admin, access_allows_linking]",
        "2. link_entry: choose: choosing -> handed_off",
        "3. link_entry: 'handed_off' hands off to link_method",
        "4. link_method: log_in: login -> confirming [passes password_ok]",
        "5. link_method: confirm: confirming -> linked",
    ]
    assert problem.location.file.endswith("link_entry.yaml")


def test_no_writes_on_cancel_catches_a_redirected_edge(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])

    def redirect(doc: Doc) -> None:
        doc["states"]["linked_pending"] = {}
        transition(doc, "confirm")["to"] = "linked_pending"
        doc["transitions"].append({"event": "confirm", "from": "linked_pending", "to": "linked"})
        transition(doc, "cancel")["from"].append("linked_pending")

    edit(folder / "link_method.yaml", redirect)
    (problem,) = check(folder)
    assert "'confirm' writes to the world, and the path then ends cancelled in 'cancelled'" in (
        problem.message
    )
    assert (
        problem.message.splitlines()[-2]
        .strip()
        .startswith("6. link_method: cancel: linked_pending -> cancelled")
    )


def test_idempotent_needs_the_repeat_refused_or_harmless(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])
    path = folder / "link_method.yaml"

    def appended(doc: Doc) -> None:
        transition(doc, "confirm")["actions"] = [
            {"append": {"path": "world.ad_accounts[data.ad_account].identities", "value": "1"}}
        ]

    edit(path, appended)
    assert check(folder) == []  # a repeated confirm is refused in 'linked'

    def repeatable(doc: Doc) -> None:
        doc["states"]["linked"] = {}
        doc["states"]["done"] = {"final": "completed"}
        transition(doc, "confirm")["from"] = ["confirming", "linked"]
        doc["events"]["finish"] = {}
        doc["transitions"].append({"event": "finish", "from": "linked", "to": "done"})
        transition(doc, "cancel")["from"].append("linked")

    edit(path, repeatable)
    messages = [p.message for p in check(folder)]
    idempotent = [m for m in messages if "confirm_once" in m]
    assert len(idempotent) == 1
    assert "'confirm' sent twice writes twice: the repeat appends to" in idempotent[0]
    assert "refuse 'confirm' in 'linked', or write with `add` instead of `append`" in idempotent[0]


def test_never_stores_catches_an_unmarked_secret_and_a_whole_payload(tmp_path: Path) -> None:
    folder = copy(CASES, tmp_path, ["link_entry.yaml", "link_method.yaml"])

    def leak(doc: Doc) -> None:
        del doc["events"]["log_in"]["payload"]["properties"]["password"]["secret"]
        transition(doc, "log_in")["actions"] = [
            {"set": {"path": "data.tiktok", "value": "payload"}}
        ]

    edit(folder / "link_method.yaml", leak)
    messages = [p.message.splitlines()[0] for p in check(folder)]
    assert [m.split(" (")[0] for m in messages] == [
        "invariant 'password_never_stored' [R11] is broken: event 'log_in' of link_method "
        "carries 'password' without `secret: true`, so it would be kept in the instance's "
        "history",
        "invariant 'password_never_stored' [R11] is broken: 'log_in' stores the whole payload",
    ]
    assert re.search(r"in data\.tiktok \(.*link_method\.yaml:\d+:\d+\)$", messages[1])


def test_without_its_handoffs_only_real_violations_are_reported() -> None:
    """The loader reports a handoff to a workflow that is not loaded; the invariants do not add
    'selects nothing' or 'unknown guard' noise for what may live there."""
    entry = load([CASES / "link_entry.yaml"]).workflows["link_entry"]
    assert check_invariant(entry, entry.invariants["linking_needs_prerequisites"]) == []
    assert all_invariant_problems({"link_entry": entry}) == []


# -- the domain's rules, broken on copies ---------------------------------------------------

WORKFLOWS = ROOT / "workflows"
DOMAIN = sorted(p.name for p in WORKFLOWS.glob("*.yaml"))


def domain_copy(tmp_path: Path) -> Path:
    return copy(WORKFLOWS, tmp_path, DOMAIN)


def broken(folder: Path) -> dict[str, str]:
    """Broken invariants by name, with their messages."""
    out: dict[str, str] = {}
    for problem in check(folder):
        name = problem.message.split("'")[1]
        out.setdefault(name, problem.message)
    return out


def test_domain_invariants_hold() -> None:
    assert "link_tiktok_account.yaml" in DOMAIN
    assert check(WORKFLOWS) == []


@pytest.mark.parametrize(
    ("rule", "file", "guard", "event", "invariant"),
    [
        ("R3", "link_tiktok_account", "actor_is_bc_admin", "click_link_tiktok_account",
         "only_bc_admins_link"),
        ("R4", "link_tiktok_account", "ad_account_in_bc", "click_link_tiktok_account",
         "only_ad_accounts_of_the_bc"),
        ("R5", "link_tiktok_account", "actor_may_link", "click_link_tiktok_account",
         "only_operators_and_admins_link"),
        ("R15", "link_qr", "scanner_uses_account", "approve", "only_users_of_the_account_approve"),
        ("R19", "create_org_account", "bc_verified", "create", "only_verified_bcs_create"),
    ],
)  # fmt: skip
def test_dropping_a_guard_breaks_the_rule(
    tmp_path: Path, rule: str, file: str, guard: str, event: str, invariant: str
) -> None:
    folder = domain_copy(tmp_path)
    edit(folder / f"{file}.yaml", lambda d: move_guard(d, guard, event))
    found = broken(folder)
    assert invariant in found, found
    message = found[invariant]
    assert f"[{rule}] is broken" in message
    assert f"without passing guard '{guard}'" in message
    assert "shortest counterexample" in message
    assert ".yaml:" in message.splitlines()[1]  # file:line of the offending transition


def test_r11_an_unmarked_password_breaks_the_rule(tmp_path: Path) -> None:
    folder = domain_copy(tmp_path)

    def unmark(doc: Doc) -> None:
        for event in doc["events"].values():
            props = (event or {}).get("payload", {}).get("properties", {})
            props.get("password", {}).pop("secret", None)

    edit(folder / "link_login.yaml", unmark)
    found = broken(folder)
    assert "without `secret: true`" in found["password_never_stored"]


def test_x1_cancelling_after_the_link_breaks_the_rule(tmp_path: Path) -> None:
    folder = domain_copy(tmp_path)

    def cancel_after_link(doc: Doc) -> None:
        transition(doc, "cancel")["from"].append("linked")
        doc["states"]["linked"].pop("refuses")  # the state explained why it refused cancel

    edit(folder / "link_login.yaml", cancel_after_link)
    found = broken(folder)
    assert "cancel_links_nothing" in found  # declared in the entry workflow, across handoff
    assert "nothing_half_linked" in found
    assert "then ends cancelled in 'cancelled'" in found["cancel_links_nothing"]


def test_x4_a_repeatable_approval_that_appends_breaks_the_rule(tmp_path: Path) -> None:
    folder = domain_copy(tmp_path)

    def repeat(doc: Doc) -> None:
        approve = transition(doc, "approve")
        approve["from"] = (
            [approve["from"], "linked"]
            if isinstance(approve["from"], str)
            else [
                *approve["from"],
                "linked",
            ]
        )
        first = approve["actions"][0]
        first["append"] = first.pop("add")

    edit(folder / "link_login.yaml", repeat)
    found = broken(folder)
    assert "'approve' sent twice writes twice" in found["repeated_approval_links_once"]


def test_no_writes_on_with_a_pattern_counts_only_writes_below_it(tmp_path: Path) -> None:
    """R23: signing up creates the account before the approval, so a decline keeps it; the
    invariant narrowed to the ad account's identities holds, the unnarrowed one is broken."""
    folder = domain_copy(tmp_path)
    assert broken(folder) == {}

    def widen(doc: Doc) -> None:
        doc["invariants"]["nothing_half_linked"].pop("writes")

    edit(folder / "create_signup.yaml", widen)
    found = broken(folder)
    assert "'sign_up' writes to the world, and the path then ends" in found["nothing_half_linked"]


def test_a_bad_no_writes_on_pattern_is_located(tmp_path: Path) -> None:
    folder = domain_copy(tmp_path)
    edit(
        folder / "create_signup.yaml",
        lambda d: d["invariants"]["nothing_half_linked"].update(writes="world.x[]"),
    )
    problems = load([folder]).problems
    assert problems[0].message == "path pattern 'world.x[]': empty '[]' at character 8"
    assert problems[0].location.file.endswith("create_signup.yaml")
