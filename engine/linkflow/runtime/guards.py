"""Checking a workflow's guards: the names an expression reads, bound once per event, and each
guard's verdict worded as a refusal.

Compiled once per workflow (`Guards`), shared by every instance: the bindings each expression
reads and each transition's guards combined into one expression are worked out ahead or on
first use, so an event pays only for evaluating what it checks.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from linkflow.language.expressions import Expression, ExpressionError, Template
from linkflow.language.model import Binding, GuardUse, Transition, Workflow
from linkflow.runtime.context import EventContext, Subject
from linkflow.runtime.steps import Refusal, RefusalKind
from linkflow.runtime.world import MISSING


def _all_of(transition: Transition) -> Expression | None:
    """`[guard1, guard2, ...]` for a transition's guards, or None when that is too big to
    compile (each guard is then evaluated on its own)."""
    source = "[" + ", ".join(f"({use.guard.when.source})" for use in transition.guards) + "]"
    try:
        combined = Expression.compile(source)
    except ExpressionError:
        return None
    # A list is never the subset's answer (CEL gives a converted copy): CEL evaluates it.
    return replace(combined, native=None)


class Guards:
    """A workflow's guards and bindings, ready to check against any of its instances."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._bindings = workflow.bindings
        self._binding_names = frozenset(workflow.bindings)
        #: For each set of names an expression reads: the bindings among them (built on use).
        self._bindings_read: dict[frozenset[str], tuple[Binding, ...]] = {}
        #: The names each refusal message reads, by the message's id (worked out on use).
        self._template_names: dict[int, frozenset[str]] = {}
        #: Each transition with several guards: one expression giving the list of their values.
        self._combined = {
            id(t): combined
            for t in workflow.transitions
            if len(t.guards) > 1 and (combined := _all_of(t)) is not None
        }

    def needs_payload(self, use: GuardUse) -> bool:
        """Whether a guard reads the payload, directly or through a binding's key."""
        names = use.guard.when.names
        if "payload" in names:
            return True
        bindings = self._bindings
        return any("payload" in bindings[n].key.names for n in names & self._binding_names)

    def activation(
        self, instance: Subject, ctx: EventContext, names: frozenset[str]
    ) -> dict[str, Any]:
        """The variables an expression reads; bindings are looked up once per event, on demand."""
        act = ctx.activation
        act["data"] = instance.data
        needed = self._bindings_read.get(names)
        if needed is None:
            needed = self._bindings_read[names] = tuple(
                self._bindings[n] for n in sorted(names & self._binding_names)
            )
        for binding in needed:
            name = binding.name
            if name in act:  # bound already this event (no binding is named data or payload)
                continue
            try:
                key = binding.key.evaluate(act)
            except ExpressionError:
                key = None
            world = instance.world
            if binding.many:
                keys = key if isinstance(key, list) else []
                act[name] = [world.get(binding.collection, k) for k in keys]
            else:
                act[name] = world.get(binding.collection, key)
        return act

    def results(self, instance: Subject, ctx: EventContext, transition: Transition) -> Any:
        """Every guard of `transition` evaluated in one call of the expression library (its
        inputs are converted once, not once per guard), or None: the transition has fewer
        than two guards, or one of them fails, and then each is checked on its own."""
        combined = self._combined.get(id(transition))
        if combined is None:
            return None
        try:
            results = combined.evaluate(self.activation(instance, ctx, combined.names))
        except ExpressionError:
            return None
        return results if type(results) is list else None

    def check(
        self, instance: Subject, ctx: EventContext, use: GuardUse, outcome: Any = MISSING
    ) -> Refusal | None:
        """Why `use` refuses, or None when it holds. `outcome`: what its expression gave,
        when `results` has evaluated it already."""
        guard = use.guard
        problem = ""
        if outcome is not MISSING:
            act, result = ctx.activation, outcome
        else:
            act = self.activation(instance, ctx, guard.when.names)
            try:
                result = guard.when.evaluate(act)
            except ExpressionError as err:
                result, problem = None, err.safe if ctx.has_secrets else str(err)
        if problem == "" and not isinstance(result, bool):
            problem = f"it gave {type(result).__name__}, not true or false"
        if problem == "" and result is not use.negated:
            return None
        if problem:
            # Neither message is true when the check itself failed: say what happened.
            what = guard.description or f"guard '{guard.name}'"
            message = f"refused because this could not be checked: {what} ({problem})"
        else:
            template = guard.message_when_true if use.negated else guard.message
            assert template is not None  # the builder requires it for negated uses
            names = self._template_names.get(id(template))
            if names is None:
                names = self._template_names[id(template)] = template.names
            if self._bindings_read.get(names) != ():  # it reads a binding: bound on demand
                act = self.activation(instance, ctx, names)
            message = _render(template, act, names, ctx)
        return Refusal(RefusalKind.GUARD, message, guard=use.label, rule=guard.rule)


def _render(
    template: Template, act: dict[str, Any], names: frozenset[str], ctx: EventContext
) -> str:
    """A refusal message from the event's inputs, showing the payload without its secret
    fields: swapped in for the message and back (no copy of the inputs per refusal)."""
    if "payload" not in names:
        return template.render(act)
    sent = act.get("payload", MISSING)
    act["payload"] = ctx.public_payload
    try:
        return template.render(act)
    finally:  # the event's own inputs again, for the checks and actions after
        if sent is MISSING:
            del act["payload"]
        else:
            act["payload"] = sent
