"""Checks across files, made by `linkflow validate` before anything runs.

What a workflow reads from the world is checked against the project's world schema (a binding's
collection, `<binding>.field`, `world.<collection>[key].field` targets, a choice's `record.field`),
and what a guard or action reads from the payload against the payload schema of every event it
is used with: a guard shared by two events must make sense for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from linkflow.errors import Problem
from linkflow.language.effect_checks import effect_problems
from linkflow.language.expressions import Expression, Template
from linkflow.language.model import Action, Binding, Event, Guard, Transition, Workflow
from linkflow.language.workflow_checks import suggest
from linkflow.language.world_schema import WorldSchema, schema_for
from linkflow.source import SourceLocation

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_MACRO_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


def field_reads(expr: Expression | None, name: str) -> list[str]:
    """The fields an expression reads as `name.field`, unless a macro rebinds `name`."""
    if expr is None or name not in expr.names:
        return []
    text = _QUOTED.sub("''", expr.source)
    if name in _MACRO_BOUND.findall(text):
        return []
    return re.findall(rf"(?<![\w.]){re.escape(name)}\s*\.\s*([A-Za-z_]\w*)", text)


def _parts(template: Template | None) -> list[Expression]:
    if template is None:
        return []
    return [p for p in template.parts if isinstance(p, Expression)]


def _guard_expressions(guard: Guard) -> list[Expression]:
    return [guard.when, *_parts(guard.message), *_parts(guard.message_when_true)]


def _action_expressions(action: Action) -> list[Expression]:
    keys = [s.key for s in action.target.steps if s.key is not None]
    return [e for e in (action.value, action.for_in, *keys) if e is not None]


def _with_bindings(exprs: list[Expression], bindings: Mapping[str, Binding]) -> list[Expression]:
    """The expressions plus the keys of the bindings they read (a key may read the payload)."""
    used = {n for e in exprs for n in e.names if n in bindings}
    return [*exprs, *(bindings[n].key for n in sorted(used))]


# -- the world ---------------------------------------------------------------------------


def world_problems(workflow: Workflow, schema: WorldSchema) -> list[Problem]:
    """Collections and fields the workflow reads or writes that the world schema lacks."""
    problems: list[Problem] = []
    declared = f"world schema '{schema.name}' ({schema.file})"
    for binding in workflow.bindings.values():
        if binding.collection not in schema.records:
            problems.append(
                Problem(
                    binding.location,
                    f"binding '{binding.name}' reads collection '{binding.collection}', which "
                    f"{declared} does not declare{suggest(binding.collection, schema.records)}",
                )
            )
    for location, what, exprs in _every_expression(workflow):
        for expr in exprs:
            problems.extend(_binding_fields(workflow, schema, expr, location, what))
    for action in (
        *(a for t in workflow.transitions for a in t.actions),
        *workflow.state_actions(),
    ):
        problems.extend(_target_problems(workflow, schema, action, declared))
    for event in workflow.events.values():
        problems.extend(_choices_problems(event, schema, declared))
    return problems


def _choices_problems(event: Event, schema: WorldSchema, declared: str) -> list[Problem]:
    """An event's choices drawn from records: their collection is declared, and their label
    reads only fields its records have."""
    problems: list[Problem] = []
    for choices in event.choices.values():
        if not choices.records:
            continue
        if choices.records not in schema.records:
            problems.append(
                Problem(
                    choices.location,
                    f"choices for '{choices.field}' name records of collection "
                    f"'{choices.records}', which {declared} does not declare"
                    f"{suggest(choices.records, schema.records)}",
                )
            )
            continue
        fields = schema.fields(choices.records)
        if fields is None:
            continue
        for name in field_reads(choices.label, "record"):
            if name not in fields:
                problems.append(
                    Problem(
                        choices.location,
                        f"label reads 'record.{name}', which a record of "
                        f"'{choices.records}' does not have{suggest(name, fields)}",
                    )
                )
    return problems


def _every_expression(
    workflow: Workflow,
) -> Iterator[tuple[SourceLocation, str, list[Expression]]]:
    for binding in workflow.bindings.values():
        yield binding.location, f"binding '{binding.name}'", [binding.key]
    for guard in workflow.guards.values():
        yield guard.location, f"guard '{guard.name}'", _guard_expressions(guard)
    for action in (
        *(a for t in workflow.transitions for a in t.actions),
        *workflow.state_actions(),
    ):
        yield action.location, "action", _action_expressions(action)
    for event in workflow.events.values():
        for choices in event.choices.values():
            exprs = [choices.values, *_parts(choices.message)]
            yield choices.location, f"choices for '{choices.field}'", exprs
            if choices.label is not None:
                yield choices.location, f"choices for '{choices.field}'", [choices.label]


def _binding_fields(
    workflow: Workflow,
    schema: WorldSchema,
    expr: Expression,
    location: SourceLocation,
    what: str,
) -> Iterator[Problem]:
    for binding in workflow.bindings.values():
        fields = None if binding.many else schema.fields(binding.collection)
        if fields is None:
            continue
        for name in dict.fromkeys(field_reads(expr, binding.name)):
            if name not in fields:
                yield Problem(
                    location,
                    f"{what} reads '{binding.name}.{name}', which a record of "
                    f"'{binding.collection}' does not have{suggest(name, fields)}",
                )


def _target_problems(
    workflow: Workflow, schema: WorldSchema, action: Action, declared: str
) -> Iterator[Problem]:
    target = action.target
    steps = target.steps
    if target.root == "world":
        collection = steps[0].name or ""
        if collection not in schema.records:
            yield Problem(
                action.location,
                f"path '{target.text}' writes to collection '{collection}', which {declared} "
                f"does not declare{suggest(collection, schema.records)}",
            )
            return
        field_step = steps[2] if len(steps) > 2 else None
    elif target.root in workflow.bindings:
        collection = workflow.bindings[target.root].collection
        field_step = steps[0] if steps else None
    else:
        return
    fields = schema.fields(collection)
    if fields is None or field_step is None or field_step.name is None:
        return
    if field_step.name not in fields:
        yield Problem(
            action.location,
            f"path '{target.text}' writes field '{field_step.name}', which a record of "
            f"'{collection}' does not have{suggest(field_step.name, fields)}",
        )


# -- payloads ----------------------------------------------------------------------------


def _payload_fields(event: Event | None) -> frozenset[str] | None:
    """The fields an event's payload may have; None when its schema does not list them."""
    if event is None or event.payload_schema is None:
        return frozenset()
    props = event.payload_schema.get("properties")
    return frozenset(props) if isinstance(props, dict) else None


def payload_problems(workflow: Workflow) -> list[Problem]:
    """`payload.field` read by a guard or action that an event it is used with does not declare."""
    problems: dict[tuple[SourceLocation, str, str], Problem] = {}
    for transition in workflow.transitions:
        fields = _payload_fields(workflow.events.get(transition.event))
        if fields is None:
            continue
        for location, what, exprs in _transition_reads(workflow, transition):
            for expr in exprs:
                for name in field_reads(expr, "payload"):
                    if name in fields or (location, transition.event, name) in problems:
                        continue
                    have = (
                        f"its payload has: {', '.join(sorted(fields))}"
                        if fields
                        else "it takes no payload"
                    )
                    problems[(location, transition.event, name)] = Problem(
                        location,
                        f"{what} reads 'payload.{name}', which event '{transition.event}' does "
                        f"not declare ({have}){suggest(name, fields)}",
                    )
    return list(problems.values())


def _transition_reads(
    workflow: Workflow, transition: Transition
) -> Iterator[tuple[SourceLocation, str, list[Expression]]]:
    bindings = workflow.bindings
    for use in transition.guards:
        guard = use.guard
        yield (
            guard.location,
            f"guard '{guard.name}'",
            _with_bindings(_guard_expressions(guard), bindings),
        )
    for action in transition.actions:
        yield action.location, "action", _with_bindings(_action_expressions(action), bindings)


def static_problems(workflows: Mapping[str, Workflow]) -> list[Problem]:
    """Every cross-file problem of the loaded workflows, located."""
    problems: list[Problem] = []
    for workflow in workflows.values():
        problems.extend(payload_problems(workflow))
        problems.extend(effect_problems(workflow))
        schema, _ = schema_for(Path(workflow.file))
        if schema is not None:
            problems.extend(world_problems(workflow, schema))
    return problems
