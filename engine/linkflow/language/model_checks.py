"""The checks that hold on a built workflow, run on the model itself rather than on its YAML.

The builder checks most rules while it reads a document, where it can point at the exact key.
Some rules can only be checked once the workflow exists (two transitions that could both fire),
and a tool that edits a built model (`linkflow.analysis.mutate`) needs to re-check every rule an
edit can break without writing YAML back: `model_problems` is that set, and `recheck` adds the
graph checks, the handoff check and the invariants, as `load` runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from linkflow.errors import Problem
from linkflow.language.effect_checks import effect_problems
from linkflow.language.graph import graph_problems
from linkflow.language.model import Outcome, Transition, Workflow


def exclusive(a: Transition, b: Transition, groups: tuple[frozenset[str], ...]) -> bool:
    """True when no guard outcome lets both transitions pass at once."""
    pos_a = {u.guard.name for u in a.guards if not u.negated}
    neg_a = {u.guard.name for u in a.guards if u.negated}
    pos_b = {u.guard.name for u in b.guards if not u.negated}
    neg_b = {u.guard.name for u in b.guards if u.negated}
    if pos_a & neg_b or neg_a & pos_b:
        return True
    return any(
        x != y and x in group and y in group for group in groups for x in pos_a for y in pos_b
    )


def nondeterminism_problems(workflow: Workflow) -> list[Problem]:
    """Two transitions an event could both take from one state: the engine must not guess.
    Only transitions declared on the same state compete: one declared on a state nested
    deeper is tried first (see `transitions_by_source`)."""
    problems = []
    for (state, event), candidates in workflow.by_source.items():
        for i, later in enumerate(candidates):
            for earlier in candidates[:i]:
                if earlier.declared_at(state) != later.declared_at(state):
                    continue
                if not exclusive(earlier, later, workflow.exclusive):
                    problems.append(
                        Problem(
                            later.location,
                            f"ambiguous: in state '{state}', event '{event}' also matches the "
                            f"transition at line {earlier.location.line}; make their guards "
                            "exclusive (`!guard` on one, or an `exclusive` group)",
                        )
                    )
    return problems


def reference_problems(workflow: Workflow) -> list[Problem]:
    """Transitions that name unknown states, leave a final state, or negate a guard that has
    no `message_when_true`; final states that hand off without completing."""
    problems = []
    states = workflow.states
    for t in workflow.transitions:
        for name in (*t.sources, t.target, *t.targets.values()):
            if name not in states:
                problems.append(Problem(t.location, f"unknown state '{name}' in {t.label}"))
        for source in t.sources:
            if source in states and states[source].is_final:
                problems.append(
                    Problem(t.location, f"'{source}' is a final state: no transition may leave it")
                )
        for use in t.guards:
            if use.negated and use.guard.message_when_true is None:
                problems.append(
                    Problem(
                        use.location or t.location,
                        f"guard '{use.guard.name}' is used negated but has no "
                        "`message_when_true` to explain that refusal",
                    )
                )
    for state in states.values():
        if state.handoff and state.final is not Outcome.COMPLETED:
            problems.append(
                Problem(state.location, "only a final state with outcome `completed` can hand off")
            )
    return problems


def unused_problems(workflow: Workflow) -> list[Problem]:
    """Declared events and guards no transition uses (a leftover, or a forgotten use)."""
    events = {t.event for t in workflow.transitions}
    guards = {u.guard.name for t in workflow.transitions for u in t.guards}
    problems = [
        Problem(e.location, f"event '{name}' is declared but no transition uses it")
        for name, e in workflow.events.items()
        if name not in events
    ]
    problems += [
        Problem(g.location, f"guard '{name}' is defined but no transition uses it")
        for name, g in workflow.guards.items()
        if name not in guards
    ]
    return problems


def model_problems(workflow: Workflow) -> list[Problem]:
    """Every rule of the language a change to a built workflow's model can break."""
    return [
        *reference_problems(workflow),
        *unused_problems(workflow),
        *nondeterminism_problems(workflow),
        *effect_problems(workflow),
    ]


def handoff_problems(workflows: Mapping[str, Workflow]) -> list[Problem]:
    """Handoffs name workflows in other files, so they are checked once all are loaded."""
    problems = []
    for workflow in workflows.values():
        for state in workflow.states.values():
            if state.handoff and state.handoff not in workflows:
                known = ", ".join(sorted(workflows)) or "none loaded"
                problems.append(
                    Problem(
                        state.location,
                        f"state '{state.name}' hands off to unknown workflow "
                        f"'{state.handoff}' (loaded: {known})",
                    )
                )
    return problems


def recheck(workflows: Mapping[str, Workflow], changed: Iterable[str]) -> list[Problem]:
    """What `load` would report about `workflows` after the ones named in `changed` were
    edited as models: their semantic and graph checks, the handoffs, and the invariants of
    every workflow whose handoff chain reaches a changed one."""
    from linkflow.language.invariant_graph import scope  # noqa: PLC0415 - the invariant checks: only recheck runs them; building a workflow for `send` does not
    from linkflow.language.invariants import invariant_problems  # noqa: PLC0415 - the invariant checks: only recheck runs them; building a workflow for `send` does not

    names = set(changed)
    problems: list[Problem] = []
    for name in sorted(names):
        problems += model_problems(workflows[name])
        problems += graph_problems(workflows[name])
    problems += handoff_problems(workflows)
    for workflow in workflows.values():
        if names & set(scope(workflow, workflows)):
            problems += invariant_problems(workflow, workflows)
    return problems
