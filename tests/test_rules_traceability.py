"""Every rule of the repository's rule list lives in the workflows and is proven by scenarios.

The list is workflows/RULES.md (the project's own words, shipped in the repository); a reader
can go from a rule id to the YAML that encodes it and the scenarios that prove it.
"""

from __future__ import annotations

import re
from pathlib import Path

from linkflow import load
from linkflow.output.rule_list import find_rules
from linkflow.testing.scenarios import run_scenario_file, scenario_files
from tests.support.requirements import unavailable

ROOT = Path(__file__).resolve().parent.parent
RULES = find_rules([ROOT / "workflows"])
RULE_IDS = frozenset(rule.id for rule in RULES)
#: The source's rule file, when a checkout sits beside it (the repository's list must match it).
SHARED_RULES = ROOT.parent / "shared" / "rules.md"
#: Rules that live in the docs alone (the source's reasons): no scenario can prove them.
DOCS_ONLY = frozenset({"A2"})
#: Rules that forbid something: each needs a scenario where the flow is refused or stopped.
FORBIDDING = frozenset(
    {"R1", "R2", "R3", "R4", "R5", "R8", "R9", "R10", "R12", "R15", "R19", "R20", "R21", "R23"}
)


def test_the_repository_lists_every_rule_once() -> None:
    ids = [rule.id for rule in RULES]
    expected = {*(f"R{n}" for n in range(1, 25)), *(f"X{n}" for n in range(1, 5))}
    expected |= {f"A{n}" for n in range(1, 7)}
    assert sorted(ids) == sorted(expected)
    assert all(len(rule.text) > 20 and "\n" not in rule.text for rule in RULES)


def test_the_rule_list_matches_the_shared_rules_file() -> None:
    if not SHARED_RULES.is_file():
        unavailable("../shared/rules.md is not beside this checkout")
    found = set(re.findall(r"\*\*([RXA]\d+)\b", SHARED_RULES.read_text(encoding="utf-8")))
    # the repository adds its own assumptions (A3...) to the source's list, and nothing else
    assert found <= RULE_IDS
    assert all(extra.startswith("A") for extra in RULE_IDS - found)


def test_docs_only_rules_are_in_the_docs() -> None:
    """A2: the source's reasons are on the landing page."""
    index = (ROOT / "docs" / "flows" / "README.md").read_text(encoding="utf-8")
    assert "no credentials change hands" in index
    assert "official brand accounts" in index


def test_every_rule_is_named_in_a_workflow() -> None:
    result = load([ROOT / "workflows"], kinds=["workflow"])
    assert result.ok, result.problems
    named = set().union(*(w.rule_ids() for w in result.workflows.values()))
    assert sorted(RULE_IDS - named) == []


def _name_has(name: str, rule: str) -> bool:
    return re.search(rf"(^|_){rule.lower()}(_|$)", name) is not None


def test_every_rule_has_a_passing_scenario_and_forbidding_rules_a_refusal() -> None:
    files, problems = scenario_files([ROOT / "tests" / "scenarios"])
    assert problems == []
    named: set[str] = set()  # rules in the name (and `rules:`) of a passing scenario
    stopped: set[str] = set()  # ... of one where a step is refused or the flow ends refused
    for path in files:
        result = run_scenario_file(path)
        assert result.passed, [str(f) for f in result.failures]
        here = {rule for rule in result.rules if _name_has(result.name, rule)}
        assert here, f"{path}: name the rules it proves in the scenario's name"
        named |= here
        refused = any(e.step.refusal is not None for e in result.steps)
        ended_refused = any(
            e.step.transition is not None and e.step.target in {"declined", "rejected"}
            for e in result.steps
        )
        if refused or ended_refused:
            stopped |= here
    assert sorted(RULE_IDS - DOCS_ONLY - named) == []
    assert sorted(FORBIDDING - stopped) == []
