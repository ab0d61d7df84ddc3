"""The mutation report: counts per workflow and per operator, the score, the share of mutants
the language rejected before any scenario ran, every survivor as the edit in words, where the
original element stands, the nearest scenario step that reaches it and what a scenario would
have to check to notice, and every mutant killed only by a crash, with what crashed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from linkflow.analysis.mutate.justify import FORM
from linkflow.analysis.mutate.operators import Mutant
from linkflow.analysis.mutate.runner import MutantResult, Verdict
from linkflow.errors import Problem
from linkflow.language.model import ActionKind, Transition

COLUMNS = (
    Verdict.KILLED,
    Verdict.CRASHED,
    Verdict.SURVIVED,
    Verdict.EQUIVALENT,
    Verdict.REJECTED,
    Verdict.NOT_RUN,
)


def score(results: Iterable[MutantResult]) -> float:
    """Killed by an expectation, as a percentage of the mutants a scenario could have killed
    by one: those that passed validation, were tried, did not crash, and are not justified as
    equivalent. A crash kill is left out like a rejection: the engine noticed, not a scenario,
    and no expectation could come before the step that crashes."""
    counts = tally(results)
    judged = counts[Verdict.KILLED] + counts[Verdict.SURVIVED]
    return 100.0 if judged == 0 else 100.0 * counts[Verdict.KILLED] / judged


def rejected_share(results: Iterable[MutantResult]) -> float:
    """The percentage of the mutants the language's checks refused: those no scenario met."""
    counts = tally(results)
    total = sum(counts.values())
    return 0.0 if total == 0 else 100.0 * counts[Verdict.REJECTED] / total


def tally(results: Iterable[MutantResult]) -> dict[Verdict, int]:
    counts = dict.fromkeys(Verdict, 0)
    for result in results:
        counts[result.verdict] += 1
    return counts


def catch_hint(result: MutantResult) -> str:
    """What a scenario has to check to notice this mistake."""
    m = result.mutant
    mutant_hint = _MUTANT_HINTS.get(m.operator)
    if mutant_hint is not None:
        return mutant_hint(m)
    transition_hint = _TRANSITION_HINTS.get(m.operator)
    if transition_hint is None or m.transition is None:
        return ""
    return transition_hint(m, m.transition)


def _guard_hint(m: Mutant, t: Transition) -> str:
    guard = m.subject.lstrip("!")
    holds = "holds" if m.subject.startswith("!") else "does not hold"
    return (
        f"send {t.event} in '{t.sources[0]}' when {guard} {holds} and expect "
        f"`refused: {{guard: {m.subject}}}`"
    )


def _swap_hint(m: Mutant, t: Transition) -> str:
    kinds = {a.kind for a in t.actions if a.target.text == m.subject}
    if ActionKind.ADD in kinds:
        return f"after {t.event}, expect {m.subject} to keep what it held before (`includes:`)"
    return f"after {t.event}, expect {m.subject} to hold only the new value (`data:`, `world:`)"


#: Hints for the operators that change a transition, given the mutant and that transition.
_TRANSITION_HINTS: dict[str, Callable[[Mutant, Transition], str]] = {
    "drop_guard": _guard_hint,
    "negate_guard": _guard_hint,
    "redirect": lambda m, t: (
        f"after {t.event}, expect `state: {t.target}` (or what only '{t.target}' allows)"
    ),
    "drop_action": lambda m, t: (
        f"after {t.event}, expect what it writes to {m.subject} (`data:`, `world:`)"
    ),
    "swap_add_set": _swap_hint,
    "retarget_timeout": lambda m, t: (
        f"`wait` past the timeout of '{m.state}' and expect `state: {t.target}`"
    ),
    "widen_from": lambda m, t: (
        f"in '{m.state}', send {t.event} and expect `refused: {{kind: wrong_state}}`"
    ),
}

#: Hints for the operators that change a state or an event, given the mutant.
_MUTANT_HINTS: dict[str, Callable[[Mutant], str]] = {
    "complete_final": lambda m: f"on reaching '{m.state}', expect its `outcome:`",
    "unmark_secret": lambda m: (
        f"send {m.event} with {m.subject} and expect `nowhere: [<the value>]`"
    ),
}


@dataclass
class Report:
    results: list[MutantResult]
    scenarios: int
    jobs: int
    seconds: float
    problems: list[Problem] = field(default_factory=list)

    @property
    def score(self) -> float:
        return score(self.results)

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.verdict is Verdict.SURVIVED]

    @property
    def complete(self) -> bool:
        return all(r.verdict is not Verdict.NOT_RUN for r in self.results)

    @property
    def per_second(self) -> float:
        return len(self.results) / self.seconds if self.seconds > 0 else 0.0

    def groups(self, key: str) -> dict[str, list[MutantResult]]:
        out: dict[str, list[MutantResult]] = {}
        for result in self.results:
            out.setdefault(getattr(result.mutant, key), []).append(result)
        return out

    def as_dict(self) -> dict[str, Any]:
        def counts(results: Sequence[MutantResult]) -> dict[str, Any]:
            tallied = tally(results)
            return {
                "mutants": len(results),
                **{v.value: tallied[v] for v in COLUMNS},
                "rejected_share": round(rejected_share(results), 1),
                "score": round(score(results), 1),
            }

        return {
            "score": round(self.score, 1),
            "complete": self.complete,
            "scenarios": self.scenarios,
            "jobs": self.jobs,
            "seconds": round(self.seconds, 2),
            "mutants_per_second": round(self.per_second, 1),
            "total": counts(self.results),
            "workflows": {k: counts(v) for k, v in self.groups("workflow").items()},
            "operators": {k: counts(v) for k, v in self.groups("operator").items()},
            "mutants": [
                {
                    "number": r.number,
                    "workflow": r.mutant.workflow,
                    "operator": r.mutant.operator,
                    "subject": r.mutant.subject,
                    "edit": r.mutant.edit,
                    "location": str(r.mutant.location),
                    "verdict": r.verdict.value,
                    "detail": r.detail,
                    "nearest": r.nearest,
                    "catch": catch_hint(r) if r.verdict is Verdict.SURVIVED else "",
                    "crash": r.crash.as_dict() if r.crash else None,
                    "set_aside": list(r.set_aside),
                    "justification": (
                        {"location": str(r.justification.location), "why": r.justification.reason}
                        if r.justification
                        else None
                    ),
                }
                for r in self.results
            ],
            "problems": [p.as_dict() for p in self.problems],
        }

    def table(self, key: str, title: str) -> list[str]:
        header = [title, "mutants", *(v.value.replace("_", " ") for v in COLUMNS), "score"]
        header[2] = "killed"  # by an expectation; `crashed` follows
        rows = []
        for name, results in [*self.groups(key).items(), ("total", self.results)]:
            tallied = tally(results)
            rows.append(
                [
                    name,
                    str(len(results)),
                    *(str(tallied[v]) for v in COLUMNS),
                    f"{score(results):.1f}%",
                ]
            )
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        return [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in [header, *rows]
        ]

    def text(self) -> str:
        lines = [
            f"{len(self.results)} mutants, {self.scenarios} scenarios, {self.jobs} job(s), "
            f"{self.seconds:.1f} s ({self.per_second:.1f} mutants/s)",
            "",
            *self.table("workflow", "workflow"),
            "",
            *self.table("operator", "operator"),
        ]
        survivors = self.survivors
        if survivors:
            lines += [
                "",
                f"{len(survivors)} survivor(s): mistakes no scenario notices. Kill each with a "
                "scenario, or justify it next to the element with",
                f"  {FORM}",
            ]
            for r in survivors:
                m = r.mutant
                lines.append(f"{m.location}: {m.operator} [{m.subject}]: {m.edit}")
                lines.append(f"    nearest: {r.nearest or 'no scenario reaches it'}")
                hint = catch_hint(r)
                if hint:
                    lines.append(f"    to catch it: {hint}")
        crashed = [r for r in self.results if r.verdict is Verdict.CRASHED]
        if crashed:
            lines += [
                "",
                f"{len(crashed)} mutant(s) killed only by a crash: a step the engine could not "
                "complete, not a scenario's expectation (not counted in the score)",
            ]
            for r in crashed:
                m = r.mutant
                lines.append(f"{m.location}: {m.operator} [{m.subject}]: {m.edit}")
                lines.append(f"    {r.crash or r.detail}")
        aside = [r for r in self.results if r.set_aside and r.verdict is not Verdict.REJECTED]
        if aside:
            named: dict[str, int] = {}
            for r in aside:
                for name in r.set_aside:
                    named[name] = named.get(name, 0) + 1
            lines += [
                "",
                f"{len(aside)} mutant(s) ran with an invariant set aside that refused them for "
                "naming what they change: " + ", ".join(f"{n} ({c})" for n, c in named.items()),
            ]
        not_run = [r for r in self.results if r.verdict is Verdict.NOT_RUN]
        if not_run:
            lines += ["", f"{len(not_run)} mutant(s) not run:"]
            reasons: dict[str, list[MutantResult]] = {}
            for r in not_run:
                reasons.setdefault(r.detail, []).append(r)
            for reason, which in reasons.items():
                first = which[0].mutant
                more = f" and {len(which) - 1} more" if len(which) > 1 else ""
                lines.append(
                    f"  {reason}: {first.location} {first.operator} [{first.subject}]{more}"
                )
        judged = sum(r.verdict in (Verdict.KILLED, Verdict.SURVIVED) for r in self.results)
        rejected = sum(r.verdict is Verdict.REJECTED for r in self.results)
        lines += [
            "",
            f"rejected: {rejected} of {len(self.results)} mutants "
            f"({rejected_share(self.results):.1f}%) refused by the language's checks before any "
            "scenario ran",
            f"score: {self.score:.1f}% of {judged} non-equivalent mutants killed by an expectation",
        ]
        return "\n".join(lines)
