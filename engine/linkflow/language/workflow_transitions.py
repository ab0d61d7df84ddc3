"""Stage three of loading, the moving parts: guards, transitions (explicit and timeouts), the
actions they run and the data paths those actions write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from linkflow.language.durations import duration
from linkflow.language.model import (
    DONE_EVENT_PREFIX,
    Action,
    ActionKind,
    Binding,
    Compound,
    Event,
    Guard,
    GuardUse,
    PathStep,
    State,
    TargetPath,
    Transition,
    contains,
)
from linkflow.language.workflow_checks import TIMEOUT_EVENT, BuilderBase, state_doc_path, suggest
from linkflow.source import DocPath


class TransitionBuilder(BuilderBase):
    """Builds the guards, transitions and actions of a definition, collecting problems."""

    #: The compound states read so far, by path (see linkflow.language.workflow_states).
    compounds: dict[str, Compound]

    def leaf(self, name: str, states: Mapping[str, State]) -> str | None:
        """The leaf a state path stands for (a compound state: its initial child, recursively),
        or None when there is no such state."""
        while name in self.compounds:
            compound = self.compounds[name]
            name = f"{name}.{compound.initial}"
        return name if name in states else None

    def known_state(self, name: str, states: Mapping[str, State]) -> bool:
        return name in states or name in self.compounds

    def done_source(self, event: str, path: DocPath) -> str:
        """The compound state a `done.state.<path>` event belongs to ("" when unknown)."""
        compound = event.removeprefix(DONE_EVENT_PREFIX)
        if compound not in self.compounds:
            hint = suggest(compound, self.compounds)
            self.problem(path, f"'{event}' names no compound state '{compound}'{hint}")
            return ""
        return compound

    def guards(
        self, raw: Mapping[str, Any], names: frozenset[str], events: Mapping[str, Event]
    ) -> dict[str, Guard]:
        out: dict[str, Guard] = {}
        secrets = frozenset(s for e in events.values() for s in e.secret_fields)
        for name, spec in raw.items():
            path = ("guards", name)
            self.check_reserved(name, path, "guard")
            when = self.expression(spec["when"], (*path, "when"), names, "guard expression")
            message = self.template(spec["message"], (*path, "message"), names)
            negated = None
            if "message_when_true" in spec:
                negated = self.template(
                    spec["message_when_true"], (*path, "message_when_true"), names
                )
            for key in ("message", "message_when_true"):
                self.no_secret(spec.get(key, ""), secrets, (*path, key), "a refusal message")
            if when is not None and message is not None:
                out[name] = Guard(
                    name,
                    when,
                    message,
                    negated,
                    self.text(spec, "rule"),
                    self.text(spec, "description"),
                    self.doc.locate(path, key=True),
                    self.text(spec, "assumption"),
                )
        return out

    def exclusive(
        self, raw: list[list[str]], guards: Mapping[str, Guard]
    ) -> tuple[frozenset[str], ...]:
        out = []
        for i, group in enumerate(raw):
            for j, name in enumerate(group):
                if name not in guards and name not in self.declared_names("guards"):
                    self.problem(
                        ("exclusive", i, j),
                        f"unknown guard '{name}'{suggest(name, self.declared_names('guards'))}",
                    )
            out.append(frozenset(group))
        return tuple(out)

    def transitions(
        self,
        raw: list[dict[str, Any]],
        states: Mapping[str, State],
        events: Mapping[str, Event],
        guards: Mapping[str, Guard],
        bindings: Mapping[str, Binding],
    ) -> list[Transition]:
        out: list[Transition] = []
        nonfinal = tuple(n for n, s in states.items() if not s.is_final)
        secrets_by_event = {n: e.secret_fields for n, e in events.items()}
        every = {*states, *self.compounds}
        for index, spec in enumerate(raw):
            path: DocPath = ("transitions", index)
            event = spec["event"]
            done = event.startswith(DONE_EVENT_PREFIX)
            compound = self.done_source(event, (*path, "event")) if done else ""
            if done:
                known_event = bool(compound)
            elif event not in events:
                known_event = False
                self.problem((*path, "event"), self.unknown_event(event, events))
            else:
                known_event = True
            sources, declared, _ = self.sources(spec["from"], path, states, nonfinal)
            if compound:
                # Only a `final: done` child of the compound state raises its done event.
                # (of a parallel state: of its regions, the configurations being joined later)
                inside = self.compounds[compound].parallel
                sources = tuple(
                    n
                    for n in sources
                    if states[n].done
                    and (states[n].parent == compound or (inside and contains(compound, n)))
                )
                if not sources:
                    done_children = [
                        n for n, st in states.items() if st.done and st.parent == compound
                    ]
                    self.problem(
                        (*path, "from"),
                        f"'{event}' is raised in a `final: done` child of '{compound}': "
                        f"declare it `from: {compound}`"
                        if done_children
                        else f"compound state '{compound}' has no `final: done` child to "
                        f"raise '{event}'",
                    )
            to = spec["to"]
            target = self.leaf(to, states)
            if target is None:
                self.problem((*path, "to"), f"unknown target state '{to}'{suggest(to, every)}")
                target = to
            uses, _ = self.guard_uses(spec, path, guards)
            actions = self.actions(
                spec.get("actions") or [], path, bindings, secrets_by_event.get(event, frozenset())
            )
            # With a problem elsewhere in it, a transition is still kept for the checks across
            # files (a workflow with problems is only built `partial`, never run).
            if actions is not None and known_event:
                out.append(
                    Transition(
                        event=event,
                        sources=sources,
                        target=target,
                        guards=tuple(uses),
                        actions=tuple(actions),
                        description=self.text(spec, "description"),
                        rule=self.text(spec, "rule"),
                        location=self.doc.locate(path),
                        index=index,
                        assumption=self.text(spec, "assumption"),
                        step=self.text(spec, "step"),
                        check_all_guards=bool(spec.get("check_all_guards")),
                        declared=declared,
                        to=to if to != target else "",
                    )
                )
        return out

    def unknown_event(self, event: str, events: Mapping[str, Event]) -> str:
        """Why a transition's event is unknown: not declared, or the answer of no invoke."""
        invoke, dot, end = event.rpartition(".")
        if dot and end in ("done", "failed"):
            invoked = sorted({e.rpartition(".")[0] for e in events if "." in e})
            return (
                f"no state invokes '{invoke}'{suggest(invoke, invoked)}: '{event}' is the "
                f"answer to a state's `invoke` named '{invoke}' (its `as`, else its service)"
            )
        return f"unknown event '{event}'{suggest(event, events)}: declare it under `events`"

    def sources(
        self, raw_from: Any, path: DocPath, states: Mapping[str, State], nonfinal: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        """A transition's source leaves (`*`: every non-final one; a compound state: every
        state in it), the sources as written when one stands for others (else ()), and whether
        all are known states a transition may leave."""
        if raw_from == "*":
            return nonfinal, ("",) if self.compounds else (), True
        ok = True
        written = (raw_from,) if isinstance(raw_from, str) else tuple(raw_from)
        sources: dict[str, None] = {}
        for j, source in enumerate(written):
            where = (*path, "from") if isinstance(raw_from, str) else (*path, "from", j)
            if source in self.compounds:
                sources.update(dict.fromkeys(n for n in nonfinal if contains(source, n)))
            elif source not in states:
                hint = suggest(source, {*states, *self.compounds})
                self.problem(where, f"unknown source state '{source}'{hint}")
                ok = False
            elif states[source].is_final:
                self.problem(where, f"'{source}' is a final state: no transition may leave it")
                ok = False
            elif states[source].done:
                self.problem(
                    where,
                    f"'{source}' is `final: done`: it takes no transition of its own (its "
                    f"compound state's `done.state.{states[source].parent}` leaves it)",
                )
                ok = False
            else:
                sources[source] = None
        expanded = any(s in self.compounds for s in written)
        return tuple(sources), written if expanded else (), ok

    def guard_uses(
        self, spec: dict[str, Any], path: DocPath, guards: Mapping[str, Guard]
    ) -> tuple[list[GuardUse], bool]:
        """The guards a transition checks (`!name`: negated), and whether all are usable."""
        ok = True
        uses: list[GuardUse] = []
        for j, ref in enumerate(spec.get("guards") or ()):
            negated = ref.startswith("!")
            gname = ref.lstrip("!")
            guard = guards.get(gname)
            if guard is None:
                if gname not in self.declared_names("guards"):
                    hint = suggest(gname, self.declared_names("guards"))
                    self.problem((*path, "guards", j), f"unknown guard '{gname}'{hint}")
                ok = False
                continue
            if negated and guard.message_when_true is None:
                self.problem(
                    (*path, "guards", j),
                    f"guard '{gname}' is used negated but has no `message_when_true` "
                    "to explain that refusal",
                )
                ok = False
            uses.append(GuardUse(guard, negated, self.doc.locate((*path, "guards", j))))
        return uses, ok

    def explained_refusals(
        self,
        states: Mapping[str, State],
        events: Mapping[str, Event],
        transitions: list[Transition],
    ) -> None:
        """A state's `refuses` names declared events that no transition takes there."""
        for state in states.values():
            for event in state.refuses:
                path: DocPath = (*state_doc_path(state.name), "refuses", event)
                if event not in events:
                    hint = suggest(event, events)
                    self.problem(path, f"refuses unknown event '{event}'{hint}", key=True)
                elif any(t.event == event and state.name in t.sources for t in transitions):
                    self.problem(
                        path,
                        f"state '{state.name}' both takes and refuses event '{event}'",
                        key=True,
                    )

    def timeout_transitions(self, states: Mapping[str, State]) -> list[Transition]:
        out = []
        for state in states.values():
            timeout = state.waiting.timeout if state.waiting else None
            target = self.leaf(timeout.to, states) if timeout else None
            if timeout is None or target is None:
                continue
            out.append(
                Transition(
                    event=TIMEOUT_EVENT,
                    sources=(state.name,),
                    target=target,
                    to=timeout.to if timeout.to != target else "",
                    guards=(),
                    actions=(),
                    description=timeout.description
                    or f"No answer within {duration(timeout.seconds)}: stop waiting",
                    rule="",
                    location=timeout.location,
                    index=-1,
                    is_timeout=True,
                    assumption=timeout.assumption,
                )
            )
        return out

    def actions(
        self,
        raw: list[dict[str, Any]],
        path: DocPath,
        bindings: Mapping[str, Binding],
        secrets: frozenset[str],
        key: str = "actions",
    ) -> list[Action] | None:
        out: list[Action] = []
        ok = True
        # Entry and exit actions read no payload: any event may enter or leave the state.
        base = frozenset({"data", *(("payload",) if key == "actions" else ()), *bindings})
        for i, spec in enumerate(raw):
            ((verb, body),) = spec.items()
            here: DocPath = (*path, key, i, verb)
            kind = ActionKind(verb)
            names = base
            for_item = for_in = None
            if "for_each" in body:
                loop = body["for_each"]
                for_item = loop["item"]
                if for_item in base:
                    self.problem(
                        (*here, "for_each", "item"), f"'{for_item}' is already a name here"
                    )
                    ok = False
                for_in = self.expression(loop["in"], (*here, "for_each", "in"), base, "list")
                names = base | {for_item}
                ok = ok and for_in is not None
            value = None
            if "value" in body:
                value = self.expression(body["value"], (*here, "value"), names, "action value")
                self.no_secret(body["value"], secrets, (*here, "value"), "an action")
                ok = ok and value is not None
            elif kind is not ActionKind.REMOVE:
                self.problem(here, f"`{verb}` needs a `value`")
                ok = False
            if body.get("each") and kind is ActionKind.SET:
                self.problem((*here, "each"), "`each` goes with append, add or remove, not set")
                ok = False
            target = self.target_path(body["path"], (*here, "path"), bindings, names, secrets)
            if target is None or not ok:
                ok = False
                continue
            out.append(
                Action(
                    kind,
                    target,
                    value,
                    bool(body.get("each")),
                    for_item,
                    for_in,
                    self.doc.locate(here, key=True),
                )
            )
        return out if ok else None

    def target_path(
        self,
        text: str,
        path: DocPath,
        bindings: Mapping[str, Binding],
        names: frozenset[str],
        secrets: frozenset[str],
    ) -> TargetPath | None:
        try:
            root, raw_steps = split_path(text)
        except ValueError as err:
            self.problem(path, f"path '{text}': {err}")
            return None
        steps: list[PathStep] = []
        for kind, part in raw_steps:
            if kind == "name":
                steps.append(PathStep(name=part))
                continue
            self.no_secret(part, secrets, path, "an action path")
            expr = self.expression(part, path, names, "path key")
            if expr is None:
                return None
            steps.append(PathStep(key=expr))
        problem = _root_problem(root, steps, text, bindings) or self.data_field_problem(
            root, steps, text
        )
        if problem:
            self.problem(path, problem)
            return None
        return TargetPath(root, tuple(steps), text)

    def data_field_problem(self, root: str, steps: list[PathStep], text: str) -> str:
        """Why an action may not write `data.<field>`: the field is not declared under `data`
        (a typo would otherwise create a new field at run time), or ''."""
        declared = self.declared_names("data")
        if root != "data" or not steps or steps[0].name is None or steps[0].name in declared:
            return ""
        name = steps[0].name
        return (
            f"path '{text}' writes data field '{name}', which `data` does not declare"
            f"{suggest(name, declared)}"
        )


def _root_problem(
    root: str, steps: list[PathStep], text: str, bindings: Mapping[str, Binding]
) -> str:
    """Why an action path cannot be written through its root (data, world or a binding), or ''."""
    if root == "world":
        if len(steps) < 2 or steps[0].name is None or steps[1].key is None:
            return f"path '{text}': write world paths as world.<collection>[<key>]"
        return ""
    if root == "data":
        return "" if steps else f"path '{text}': name a field of data, as in data.field"
    if root in bindings:
        if bindings[root].many:
            return (
                f"path '{text}': binding '{root}' is a list of records; "
                "use for_each with a world.<collection>[<key>] path"
            )
        return ""
    options = ["data", "world", *bindings]
    return f"path '{text}' starts with unknown name '{root}'{suggest(root, options)}"


def _closing_bracket(text: str, start: int) -> int:
    """Where the `]` closing the `[` at `start` is (brackets nest, quotes hide them), or the
    text's length when it is never closed."""
    depth, j, quote = 0, start, ""
    while j < len(text):
        c = text[j]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                break
        j += 1
    return j


def split_path(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Split `root.name[expr].name` into its root and steps; brackets may nest."""
    match = re.match(r"\s*([a-z][a-z0-9_]*)", text)
    if not match:
        raise ValueError("must start with a name (data, world or a binding)")
    root = match.group(1)
    i = match.end()
    steps: list[tuple[str, str]] = []
    while i < len(text):
        char = text[i]
        if char == ".":
            found = re.match(r"\.([A-Za-z_][A-Za-z0-9_]*)", text[i:])
            if not found:
                raise ValueError(f"expected a field name after '.' at character {i + 1}")
            steps.append(("name", found.group(1)))
            i += found.end()
        elif char == "[":
            j = _closing_bracket(text, i)
            if j >= len(text):
                raise ValueError(f"unclosed '[' at character {i + 1}")
            inner = text[i + 1 : j].strip()
            if not inner:
                raise ValueError(f"empty '[]' at character {i + 1}")
            steps.append(("key", inner))
            i = j + 1
        elif char.isspace():
            i += 1
        else:
            raise ValueError(f"unexpected '{char}' at character {i + 1}")
    return root, steps
