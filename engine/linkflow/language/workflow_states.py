"""Stage three of loading, the states: leaves and compound states, read recursively.

A compound state (one with `states:` and `initial:`) is never the instance's state itself: the
workflow keeps its leaves by path (`parent.child`) in `Workflow.states` and its compound states
in `Workflow.compounds`. A name a transition, a timeout or `initial` gives is a path from the
top; a compound state given as a target stands for its `initial` child, recursively.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from linkflow.language.durations import MAX_SECONDS, DurationError, parse_duration
from linkflow.language.model import (
    Binding,
    Compound,
    Outcome,
    State,
    Timeout,
    Waiting,
    ancestors_of,
)
from linkflow.language.workflow_checks import state_doc_path, suggest
from linkflow.language.workflow_transitions import TransitionBuilder
from linkflow.source import DocPath

#: Keys a compound state cannot have: they belong to the states the instance can be in.
_LEAF_ONLY = ("final", "waiting", "handoff", "refuses")


class StateBuilder(TransitionBuilder):
    """Builds the states of a definition, nested ones included, collecting problems."""

    def states(
        self, raw: Mapping[str, Any], bindings: Mapping[str, Binding] | None = None
    ) -> dict[str, State]:
        self.compounds = {}
        out: dict[str, State] = {}
        self._read_states(raw, "", bindings or {}, out)
        every = {*out, *self.compounds}
        for name, state in out.items():
            timeout = state.waiting.timeout if state.waiting else None
            if timeout and self.leaf(timeout.to, out) is None:
                self.problem(
                    (*state_doc_path(name), "waiting", "timeout", "to"),
                    f"timeout leads to unknown state '{timeout.to}'{suggest(timeout.to, every)}",
                )
        return out

    def initial_entry_problems(self, initial: str, states: Mapping[str, State]) -> None:
        """Entry actions on the states a new instance starts in are refused: an instance is
        created in its initial state without a step to run them in (not supported yet). A
        parallel state around it starts every region: their first states count too."""
        entered = {initial: None, **dict.fromkeys(ancestors_of(initial))}
        todo = list(entered)
        while todo:  # a parallel state inside a region starts every region of its own too
            name = todo.pop()
            compound = self.compounds.get(name)
            for region in compound.children if compound is not None and compound.parallel else ():
                first = self.leaf(f"{name}.{region}", states) or ""
                starts = (first, *ancestors_of(first))
                new = [s for s in starts if s.startswith(f"{name}.") and s not in entered]
                entered.update(dict.fromkeys(new))
                todo.extend(new)
        for name in entered:
            holder = self.compounds.get(name) or states.get(name)
            path = state_doc_path(name)
            if holder is not None and holder.entry:
                self.problem(
                    (*path, "entry"),
                    f"'{name}' is entered when an instance is created, where no entry actions "
                    "run yet: give the data field its start value under `data` instead",
                    key=True,
                )

    def _read_states(
        self,
        raw: Mapping[str, Any],
        parent: str,
        bindings: Mapping[str, Binding],
        out: dict[str, State],
    ) -> None:
        for short, given in raw.items():
            name = f"{parent}.{short}" if parent else short
            path = state_doc_path(name)
            self.check_reserved(short, path, "state")
            spec = given or {}
            entry = self._state_actions(spec, path, "entry", bindings)
            exit_ = self._state_actions(spec, path, "exit", bindings)
            if "parallel" in spec and "states" not in spec:
                self.problem(
                    (*path, "parallel"),
                    "`parallel` makes a compound state's `states` regions; this state has none",
                    key=True,
                )
            if "initial" in spec and "states" not in spec:
                self.problem(
                    (*path, "initial"),
                    "`initial` names the first of a compound state's `states`; this state has none",
                    key=True,
                )
            if "states" in spec:
                self._compound(name, spec, path, bindings, out, entry, exit_)
                continue
            final = spec.get("final")
            if final == "done" and not parent:
                self.problem(
                    (*path, "final"),
                    "`final: done` finishes a compound state; a top-level final state says "
                    "how the workflow ends (completed, cancelled, refused, declined, failed, "
                    "timed_out)",
                )
            elif final not in (None, "done") and parent:
                self.problem(
                    (*path, "final"),
                    f"a state inside compound state '{parent}' ends it with `final: done`, "
                    f"not `final: {final}`: put the state that ends the workflow at the top level",
                )
            out[name] = State(
                name=name,
                location=self.doc.locate(path, key=True),
                description=self.text(spec, "description"),
                step=self.text(spec, "step"),
                rule=self.text(spec, "rule"),
                final=Outcome(final) if final not in (None, "done") else None,
                waiting=self._waiting(spec, path),
                handoff=self.text(spec, "handoff"),
                label=self.text(spec, "label"),
                assumption=self.text(spec, "assumption"),
                refuses={
                    event: (body["message"], self.text(body, "rule"))
                    for event, body in (spec.get("refuses") or {}).items()
                },
                entry=entry,
                exit=exit_,
                done=final == "done",
            )
            if out[name].handoff and out[name].final is not Outcome.COMPLETED:
                self.problem(
                    (*path, "handoff"), "only a final state with outcome `completed` can hand off"
                )

    def _compound(
        self,
        name: str,
        spec: Mapping[str, Any],
        path: DocPath,
        bindings: Mapping[str, Binding],
        out: dict[str, State],
        entry: tuple[Any, ...],
        exit_: tuple[Any, ...],
    ) -> None:
        for key in _LEAF_ONLY:
            if key in spec:
                self.problem(
                    (*path, key),
                    f"`{key}` belongs on a state without `states`: '{name}' is a compound "
                    "state, never the instance's state itself",
                    key=True,
                )
        children = spec["states"]
        initial = spec.get("initial", "")
        parallel = spec.get("parallel") is True
        if parallel:
            if "initial" in spec:
                self.problem(
                    (*path, "initial"),
                    f"parallel state '{name}' enters every region at once: it takes no "
                    "`initial` (each region starts in its own)",
                    key=True,
                )
            initial = next(iter(children))  # the regions are entered in document order
        elif "initial" not in spec:
            self.problem(
                path,
                f"compound state '{name}' needs `initial`: the state entered first "
                f"(one of: {', '.join(children)})",
                key=True,
            )
            initial = next(iter(children))
        elif initial not in children:
            self.problem(
                (*path, "initial"),
                f"unknown initial state '{initial}' of '{name}'{suggest(initial, children)}",
            )
            initial = next(iter(children))
        elif (children[initial] or {}).get("final") is not None:
            self.problem(
                (*path, "initial"), f"the initial state '{initial}' of '{name}' must not be final"
            )
        self.compounds[name] = Compound(
            name=name,
            location=self.doc.locate(path, key=True),
            initial=initial,
            children=tuple(children),
            description=self.text(spec, "description"),
            step=self.text(spec, "step"),
            label=self.text(spec, "label"),
            rule=self.text(spec, "rule"),
            assumption=self.text(spec, "assumption"),
            entry=entry,
            exit=exit_,
            parallel=parallel,
        )
        self._read_states(children, name, bindings, out)

    def _state_actions(
        self, spec: Mapping[str, Any], path: DocPath, key: str, bindings: Mapping[str, Binding]
    ) -> tuple[Any, ...]:
        if key not in spec:
            return ()
        built = self.actions(spec[key], path, bindings, frozenset(), key)
        return tuple(built or ())

    def _waiting(self, spec: Mapping[str, Any], path: DocPath) -> Waiting | None:
        if "waiting" not in spec:
            return None
        wait = spec["waiting"]
        timeout = None
        if "timeout" in wait:
            t = wait["timeout"]
            try:
                seconds = parse_duration(t["seconds"])
            except DurationError as err:
                self.problem((*path, "waiting", "timeout", "seconds"), str(err))
                seconds = float(MAX_SECONDS)
            timeout = Timeout(
                seconds,
                t["to"],
                self.text(t, "description"),
                self.doc.locate((*path, "waiting", "timeout", "to")),
                self.text(t, "assumption"),
            )
        return Waiting(wait["for"], timeout, wait.get("by") == "actor")
