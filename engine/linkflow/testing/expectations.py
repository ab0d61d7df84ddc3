"""What a scenario step expects, checked against its session after the step.

`StepChecks` holds the checks of a step's `expect:` (state, data and world values, list
membership, offered choices, refusals, `unchanged`, values that must appear nowhere); the run in
linkflow.testing.scenarios drives the steps and records each failure where it says.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from linkflow.language.durations import parse_duration
from linkflow.language.model import Workflow, active_leaves, contains, is_active
from linkflow.runtime.paths import ABSENT as _ABSENT
from linkflow.runtime.paths import PathError, lookup
from linkflow.runtime.paths import show as _show
from linkflow.runtime.session import Session, SessionStep
from linkflow.runtime.world import copy_json
from linkflow.source import DocPath


class StepChecks:
    """A scenario step's expectations; `fail(path, step, message)` records one that did not
    hold, and `env_secrets` (shared with the run) are secrets that must appear nowhere."""

    def __init__(self, fail: Callable[[DocPath, int, str], None], env_secrets: list[str]) -> None:
        self.fail = fail
        self.env_secrets = env_secrets

    def check_step(
        self,
        session: Session,
        entry: SessionStep | None,
        did_something: bool,
        expect: Mapping[str, Any],
        path: DocPath,
        number: int,
        spec: Mapping[str, Any],
    ) -> None:
        at: DocPath = (*path, "expect")
        step = entry.step if entry else None
        self.check_verdict(session, step, did_something, expect, path, number, spec)
        instance = session.instance
        for key, actual in (
            ("state", instance.state),
            ("workflow", session.workflow),
            ("outcome", instance.outcome),
        ):
            if key in expect and not _matches(key, expect[key], actual, instance.workflow):
                shown = f"'{actual}'"
                if actual is None:
                    shown = f"none: still in '{instance.state}'"
                self.fail((*at, key), number, f"expected {key} '{expect[key]}', got {shown}")
        for root, values in (("data", instance.data), ("world", session.world.collections)):
            for dotted, wanted in (expect.get(root) or {}).items():
                try:
                    got = lookup(values, dotted)
                except PathError as err:
                    self.fail((*at, root, dotted), number, f"{root}: {err}")
                    continue
                if got != wanted:
                    message = f"{root}.{dotted}: expected {_show(wanted)}, got {_show(got)}"
                    self.fail((*at, root, dotted), number, message)
        for key, must in (("includes", True), ("excludes", False)):
            for dotted, items in (expect.get(key) or {}).items():
                self.check_membership(session, dotted, items, must, (*at, key, dotted), number)
        if "available" in expect:
            now = sorted(o.event for o in instance.available_events() if o.available is not False)
            wanted = sorted(expect["available"])
            if now != wanted:
                self.fail(
                    (*at, "available"), number, f"expected available events {wanted}, got {now}"
                )
        for dotted, wanted in (expect.get("choices") or {}).items():
            self.check_choices(instance, dotted, wanted, (*at, "choices", dotted), number)
        self.check_nowhere(session, expect.get("nowhere") or (), path, number)

    def check_nowhere(
        self, session: Session, nowhere: Sequence[str], path: DocPath, number: int
    ) -> None:
        """Values the step says must appear nowhere, and secrets read from the environment,
        are in no data, history, world or step."""
        at: DocPath = (*path, "expect")
        searched = [(v, (*at, "nowhere"), "a value that must appear nowhere") for v in nowhere]
        searched += [
            (v, (*path, "send"), "a secret read from the environment") for v in self.env_secrets
        ]
        for secret, place, what in searched:
            found = self.find_anywhere(session, secret)
            if found:  # never print the value itself: it may be a credential
                self.fail(place, number, f"{what} was found in {found}")

    def check_verdict(
        self,
        session: Session,
        step: Any,
        did_something: bool,
        expect: Mapping[str, Any],
        path: DocPath,
        number: int,
        spec: Mapping[str, Any],
    ) -> None:
        """Whether the step's event was accepted or refused (and how) as the step expects."""
        at: DocPath = (*path, "expect")
        wants_refusal = "refused" in expect or expect.get("accepted") is False
        if did_something:
            if "wait" in spec and step is None and expect.get("accepted") is not False:
                waited = parse_duration(spec["wait"])  # the runner has read it already
                self.fail((*path, "wait"), number, quiet_wait(session, waited))
            elif step is not None and not step.accepted and not wants_refusal:
                assert step.refusal is not None
                self.fail(
                    (*path, "send"), number, f"'{step.event}' was refused: {step.refusal.message}"
                )
            elif step is not None and step.accepted and wants_refusal:
                self.fail(
                    at,
                    number,
                    f"'{step.event}' was accepted ({step.source} -> {step.target}), "
                    "expected a refusal",
                )
        if "accepted" in expect:
            got = bool(step and step.accepted)
            if got != expect["accepted"]:
                self.fail(
                    (*at, "accepted"), number, f"expected accepted: {expect['accepted']}, got {got}"
                )
        if "refused" in expect and step is not None and step.refusal is not None:
            self.check_refusal(step, expect["refused"], (*at, "refused"), number)

    @staticmethod
    def picture(session: Session) -> dict[str, Any]:
        """What `unchanged` compares: where the session is, its data and the world."""
        return {
            "workflow": session.workflow,
            "state": session.instance.state,
            "data": copy_json(session.instance.data),
            "world": copy_json(session.world.collections),
        }

    def check_unchanged(
        self, before: Mapping[str, Any], after: Mapping[str, Any], path: DocPath, number: int
    ) -> None:
        for key in ("workflow", "state"):
            if before[key] != after[key]:
                self.fail(
                    (*path, "expect", "unchanged"),
                    number,
                    f"expected nothing to change, but the {key} went from "
                    f"'{before[key]}' to '{after[key]}'",
                )
        for key in ("data", "world"):
            changed = sorted(
                k
                for k in set(before[key]) | set(after[key])
                if before[key].get(k, _ABSENT) != after[key].get(k, _ABSENT)
            )
            if changed:
                self.fail(
                    (*path, "expect", "unchanged"),
                    number,
                    f"expected nothing to change, but {key} changed at: {', '.join(changed)}",
                )

    def check_choices(
        self, instance: Any, dotted: str, wanted: Sequence[Any], at: DocPath, number: int
    ) -> None:
        event_name, _, field_name = dotted.partition(".")
        event = instance.workflow.events.get(event_name)
        if event is None or field_name not in event.choices:
            self.fail(
                at, number, f"'{dotted}' offers no choices in workflow '{instance.workflow.name}'"
            )
            return
        got = [c.value for c in instance.engine.offered(instance, event)[field_name]]
        if sorted(map(_show, got)) != sorted(map(_show, wanted)):
            self.fail(
                at, number, f"{dotted}: expected choices {_show(list(wanted))}, got {_show(got)}"
            )

    def check_refusal(self, step: Any, wanted: Mapping[str, Any], at: DocPath, number: int) -> None:
        refusal = step.refusal
        for key, actual in (
            ("guard", refusal.guard),
            ("rule", refusal.rule),
            ("kind", refusal.kind.value),
        ):
            if key in wanted and wanted[key] != actual:
                self.fail(
                    (*at, key),
                    number,
                    f"expected refusal {key} '{wanted[key]}', got '{actual}' ({refusal.message})",
                )
        if "message" in wanted and wanted["message"] != refusal.message:
            self.fail(
                (*at, "message"),
                number,
                f"expected refusal message {wanted['message']!r}, got {refusal.message!r}",
            )
        if "message_contains" in wanted and wanted["message_contains"] not in refusal.message:
            self.fail(
                (*at, "message_contains"),
                number,
                f"expected the refusal message to contain {wanted['message_contains']!r}, "
                f"got {refusal.message!r}",
            )

    def check_membership(
        self,
        session: Session,
        dotted: str,
        items: Sequence[Any],
        must: bool,
        at: DocPath,
        number: int,
    ) -> None:
        root_name, _, rest = dotted.partition(".")
        roots = {"data": session.instance.data, "world": session.world.collections}
        if root_name not in roots or not rest:
            self.fail(at, number, f"'{dotted}' must start with data. or world.")
            return
        try:
            got = lookup(roots[root_name], rest)
        except PathError as err:
            self.fail(at, number, str(err))
            return
        if not isinstance(got, list):
            if must or got is not _ABSENT:
                self.fail(at, number, f"{dotted}: expected a list, got {_show(got)}")
            return
        for item in items:
            if (item in got) != must:
                verb = "to contain" if must else "not to contain"
                self.fail(at, number, f"expected {dotted} {verb} {_show(item)}, got {_show(got)}")

    @staticmethod
    def find_anywhere(session: Session, secret: str) -> str:
        places: list[tuple[str, Any]] = [("the world", session.world.collections)]
        for instance in session.instances:
            name = instance.workflow.name
            places.append((f"the data of {name}", instance.data))
            places.append((f"the history of {name}", [h.as_dict() for h in instance.history]))
        places.append(("a step", [repr(e) for e in session.steps]))
        for where, value in places:
            if secret in json.dumps(value, default=str):
                return where
        return ""


def quiet_wait(session: Session, waited: float) -> str:
    """A `wait` that fired nothing, in words: why not, and how long is left if anything."""
    instance = session.instance
    state = instance.workflow.states[instance.state]
    timeout = state.waiting.timeout if state.waiting else None
    head = f"waited {waited:g} s: nothing timed out"
    if instance.finished:
        return f"{head}: the workflow has ended in '{instance.state}'"
    if timeout is None:
        return f"{head}: state '{instance.state}' has no timeout"
    left = instance.entered_at + timeout.seconds - instance.now()
    return (
        f"{head}: state '{instance.state}' times out after {timeout.seconds:g} s, "
        f"{left:g} s are left"
    )


def _matches(key: str, wanted: Any, actual: Any, workflow: Workflow) -> bool:
    """Whether an expected value holds. `state: parent` holds in any state in that compound
    state (the instance's state is always a leaf, `parent.child`, or in a parallel state its
    regions' leaves joined by `+`); a region's leaf holds while it is active; a list of states
    holds when each is active and every active leaf is one of them or in one of them."""
    if key != "state" or not isinstance(actual, str):
        return bool(wanted == actual)
    if isinstance(wanted, list):
        names = [str(w) for w in wanted]
        return all(is_active(actual, w) for w in names) and all(
            any(contains(w, leaf) for w in names) for leaf in active_leaves(actual)
        )
    return isinstance(wanted, str) and is_active(actual, wanted)
