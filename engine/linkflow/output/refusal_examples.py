"""Refusal messages as a person sees them: taken from running the scenarios, not from templates.

A guard's message is a template (`{document.title}`); a reader wants the sentence filled in.
The scenarios run the workflows on their worlds (the demo world, for the flagship workflows),
so every guard refusal a scenario provokes gives a real message. Docs pages show those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class RefusalExample:
    """One refusal as it happened: the message, and the scenario it came from."""

    message: str
    scenario: str
    file: str


#: (workflow, guard label as the refusal names it, event) -> the first example seen.
Examples = Mapping[tuple[str, str, str], RefusalExample]


def _world_changes(path: Path) -> int:
    """How many changes a scenario makes to its world before it starts."""
    from linkflow.language.scenario_check import read_scenario  # noqa: PLC0415 - yaml and scenarios (transitions): only collect_examples runs them; output.pages imports this module for its types

    doc, _problems = read_scenario(path)
    return len(doc.value.get("world_changes") or ()) if doc is not None else 0


def collect_examples(paths: Iterable[str | Path]) -> dict[tuple[str, str, str], RefusalExample]:
    """Run every scenario under `paths` and keep one guard refusal per (workflow, guard,
    event), from the scenario that changes its world least before it starts (the demo world
    as it is, where one does), then by path. Scenarios that cannot load are skipped (`validate` and
    `test` report them)."""
    from linkflow.runtime.steps import RefusalKind  # noqa: PLC0415 - yaml and scenarios (transitions): only collect_examples runs them; output.pages imports this module for its types
    from linkflow.testing.scenarios import run_scenario_file, scenario_files  # noqa: PLC0415 - yaml and scenarios (transitions): only collect_examples runs them; output.pages imports this module for its types

    shown = {RefusalKind.GUARD, RefusalKind.NOT_OFFERED}
    files, _problems = scenario_files([p for p in paths if Path(p).exists()])
    found: dict[tuple[str, str, str], RefusalExample] = {}
    for path in sorted(files, key=lambda p: (_world_changes(p), p)):
        result = run_scenario_file(path)
        for entry in result.steps:
            refusal = entry.step.refusal
            if refusal is None or refusal.kind not in shown:
                continue
            # a value outside an offered list names no guard: keyed by the event alone
            key = (entry.workflow, refusal.guard, entry.step.event)
            found.setdefault(key, RefusalExample(refusal.message, result.name, str(path)))
    return found
