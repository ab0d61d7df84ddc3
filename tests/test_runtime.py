"""The runtime: every outcome of `send` is a Step value, and a refused step changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkflow import RefusalKind, Step, Workflow, World
from linkflow.errors import UsageError
from linkflow.language.loader import load_workflow
from linkflow.runtime.compiled import MAX_PAYLOAD_BYTES, MAX_PAYLOAD_VALUES
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from linkflow.runtime.world import copy_json
from linkflow.runtime.world_loader import load_world

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "tests" / "cases" / "runtime"


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def shop() -> Workflow:
    return load_workflow(RUNTIME / "shop.yaml")


@pytest.fixture(scope="module")
def review() -> Workflow:
    return load_workflow(ROOT / "examples" / "document_review.yaml")


def shop_world() -> World:
    world, problems = load_world(RUNTIME / "shop_world.yaml")
    assert world is not None, problems
    return world


def review_world() -> World:
    world, problems = load_world(ROOT / "examples" / "document_world.yaml")
    assert world is not None, problems
    return world


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cart(shop: Workflow, clock: ManualClock) -> Instance:
    return Engine(shop).create({"customer": "ana"}, shop_world(), clock)


def snapshot(instance: Instance) -> tuple[str, Any, Any, int]:
    return (
        instance.state,
        copy_json(instance.data),
        instance.world.snapshot(),
        len(instance.history),
    )


def assert_refused_without_change(
    instance: Instance, event: str, payload: dict[str, Any] | None, kind: RefusalKind
) -> Step:
    before = snapshot(instance)
    step = instance.send(event, payload)
    assert isinstance(step, Step)
    assert not step.accepted
    assert step.refusal is not None
    assert step.refusal.kind is kind
    assert (step.source, step.target) == (before[0], before[0])
    after = snapshot(instance)
    assert after[:3] == before[:3]
    assert after[3] == before[3] + 1
    entry = instance.history[-1]
    assert (entry.event, entry.accepted, entry.refusal) == (event, False, step.refusal)
    return step


# -- accepted steps -------------------------------------------------------------------------


def test_send_returns_a_step_value_for_an_accepted_event(review: Workflow) -> None:
    instance = Engine(review).create({"document": "handbook"}, review_world())
    step = instance.send("submit")
    assert step.accepted
    assert step.refusal is None
    assert (step.event, step.source, step.target) == ("submit", "draft", "in_review")
    assert step.transition is not None
    assert step.transition.description == "Send the document to review."
    assert step.as_dict() == {
        "event": "submit",
        "accepted": True,
        "from": "draft",
        "to": "in_review",
        "description": "Send the document to review.",
    }
    assert instance.state == "in_review"
    assert not instance.finished
    assert instance.outcome is None
    [entry] = instance.history
    assert (entry.event, entry.source, entry.target, entry.accepted) == (
        "submit",
        "draft",
        "in_review",
        True,
    )


def test_a_whole_run_reaches_a_final_state(review: Workflow) -> None:
    world = review_world()
    instance = Engine(review).create({"document": "handbook"}, world)
    assert instance.send("submit").accepted
    assert instance.send("approve", {"reviewer": "ben", "code": "4711"}).accepted
    assert instance.state == "published"
    assert instance.finished
    assert instance.outcome == "completed"
    assert instance.data["approvals"] == ["ben"]
    assert world.get("documents", "handbook")["status"] == "published"


def test_star_source_means_every_non_final_state(review: Workflow) -> None:
    for events in ([], ["submit"]):
        instance = Engine(review).create({"document": "handbook"}, review_world())
        for event in events:
            instance.send(event)
        assert instance.send("withdraw").target == "withdrawn"


def test_instances_do_not_share_data(shop: Workflow) -> None:
    engine = Engine(shop)
    world = shop_world()
    first = engine.create({"customer": "ana"}, world)
    second = engine.create({"customer": "ana"}, world)
    assert first.send("add_item", {"sku": "a1"}).accepted
    assert first.data["items"] == ["a1"]
    assert second.data["items"] == []
    assert shop.data["items"] == []  # the definition's initial values are never touched


# -- refusals -------------------------------------------------------------------------------


def test_an_event_in_the_wrong_state_is_refused(cart: Instance) -> None:
    step = assert_refused_without_change(cart, "pay", {"card": "1"}, RefusalKind.WRONG_STATE)
    assert step.refusal is not None
    assert step.refusal.message == (
        "'pay' cannot be done at this point. "
        "What you can do now: add_item, tag, untag, break_note, check_out, cancel."
    )


def test_an_unknown_event_is_refused(cart: Instance) -> None:
    step = assert_refused_without_change(cart, "explode", None, RefusalKind.UNKNOWN_EVENT)
    assert step.refusal is not None
    assert step.refusal.message.startswith("workflow 'shop' has no event 'explode' (events: ")


def test_a_finished_workflow_refuses_everything(cart: Instance) -> None:
    assert cart.send("cancel").accepted
    assert cart.outcome == "cancelled"
    step = assert_refused_without_change(cart, "add_item", {"sku": "a"}, RefusalKind.FINISHED)
    assert step.refusal is not None
    assert step.refusal.message == (
        "'add_item' cannot be done any more: this has already been cancelled."
    )


def test_a_failing_guard_refuses_with_its_message_and_rule(cart: Instance) -> None:
    step = assert_refused_without_change(cart, "check_out", None, RefusalKind.GUARD)
    assert step.refusal is not None
    assert (step.refusal.message, step.refusal.guard, step.refusal.rule) == (
        "The cart is empty.",
        "has_items",
        "S2",
    )


def test_guard_messages_fill_their_placeholders(shop: Workflow) -> None:
    instance = Engine(shop).create({"customer": "zed"}, shop_world())
    step = assert_refused_without_change(instance, "add_item", {"sku": "a"}, RefusalKind.GUARD)
    assert step.refusal is not None
    assert step.refusal.message == "There is no customer 'zed'."


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "the payload is missing required key 'sku'"),
        ({"sku": 5}, "field 'sku' expected a string, got a number"),
        ({"sku": "x" * 21}, "field 'sku' must hold at most 20 characters"),
        ({"sku": "a", "colour": "red"}, "the payload does not allow 'colour'"),
    ],
)
def test_an_invalid_payload_is_refused(cart: Instance, payload: Any, message: str) -> None:
    step = assert_refused_without_change(cart, "add_item", payload, RefusalKind.INVALID_PAYLOAD)
    assert step.refusal is not None
    assert step.refusal.message == message


def test_a_payload_for_an_event_that_takes_none_is_refused(cart: Instance) -> None:
    step = assert_refused_without_change(cart, "cancel", {"why": "x"}, RefusalKind.INVALID_PAYLOAD)
    assert step.refusal is not None
    assert step.refusal.message == "event 'cancel' takes no payload"


def test_a_payload_that_is_not_json_is_refused(cart: Instance) -> None:
    # `tag` allows extra fields (no additionalProperties: false): only NaN can refuse this.
    assert cart.engine.check_payload("tag", {"tags": ["a"], "x": 1.5}) == ""
    step = assert_refused_without_change(
        cart, "tag", {"tags": ["a"], "x": float("nan")}, RefusalKind.INVALID_PAYLOAD
    )
    assert step.refusal is not None
    assert step.refusal.message == (
        "the payload must be plain JSON data: "
        "a number is not finite (NaN and infinity are not JSON)"
    )


def test_a_payload_over_the_size_limit_is_refused(cart: Instance) -> None:
    payload = {"sku": "x" * (MAX_PAYLOAD_BYTES + 1)}
    step = assert_refused_without_change(cart, "add_item", payload, RefusalKind.INVALID_PAYLOAD)
    assert step.refusal is not None
    assert step.refusal.message == f"the payload is larger than {MAX_PAYLOAD_BYTES // 1024} KiB"


def test_a_payload_with_too_many_values_is_refused(cart: Instance) -> None:
    payload = {"tags": [str(k) for k in range(MAX_PAYLOAD_VALUES)]}
    step = assert_refused_without_change(cart, "tag", payload, RefusalKind.INVALID_PAYLOAD)
    assert step.refusal is not None
    assert step.refusal.message == f"the payload holds more than {MAX_PAYLOAD_VALUES:,} values"


def test_a_payload_just_under_the_size_limit_reaches_the_schema(cart: Instance) -> None:
    payload = {"sku": "x" * (MAX_PAYLOAD_BYTES - 100)}
    step = cart.send("add_item", payload)
    assert step.refusal is not None
    assert step.refusal.message == "field 'sku' must hold at most 20 characters"


def test_a_failing_action_rolls_back_data_and_world(cart: Instance) -> None:
    assert cart.send("add_item", {"sku": "a1"}).accepted
    step = assert_refused_without_change(cart, "break_note", None, RefusalKind.ACTION_FAILED)
    assert step.refusal is not None
    assert step.refusal.message.startswith("the step could not be completed, nothing was changed")
    assert step.refusal.message.endswith(
        "shop.yaml:100:9: 'data.note.inner' does not lead to a mapping"
    )
    assert cart.data["note"] == ""
    assert "touched" not in cart.world.get("customers", "ana")
    # and the instance still works afterwards
    assert cart.send("check_out").target == "checkout"


# -- guards ---------------------------------------------------------------------------------


def test_a_negated_guard_refuses_with_message_when_true(shop: Workflow) -> None:
    instance = Engine(shop).create({"customer": "ben"}, shop_world())
    step = assert_refused_without_change(instance, "cancel", None, RefusalKind.GUARD)
    assert step.refusal is not None
    assert (step.refusal.message, step.refusal.guard, step.refusal.rule) == (
        "Ben is blocked and cannot cancel.",
        "!blocked",
        "S4",
    )


def test_a_negated_guard_lets_the_event_through_when_false(cart: Instance) -> None:
    assert cart.send("cancel").target == "cancelled"


def test_a_guard_that_errors_refuses_and_says_why(shop: Workflow) -> None:
    instance = Engine(shop).create({"customer": "nobody"}, shop_world())
    step = assert_refused_without_change(instance, "cancel", None, RefusalKind.GUARD)
    assert step.refusal is not None
    # The guard is used negated (`!blocked`): its message_when_true would claim the customer
    # is blocked, which nobody knows; the refusal says the check failed instead.
    assert step.refusal.message == (
        "refused because this could not be checked: guard 'blocked' (`customer.blocked` "
        "failed: 'customer' is null)"
    )


def test_exclusive_guards_pick_exactly_one_transition() -> None:
    workflow = load_workflow(ROOT / "tests" / "cases" / "valid" / "exclusive_guards.yaml")
    instance = Engine(workflow).create({"amount": -5})
    assert instance.send("route").target == "negative"
    instance = Engine(workflow).create({"amount": 5})
    assert instance.send("route").target == "small"
    instance = Engine(workflow).create({"amount": 500})
    assert instance.send("route").target == "large"


# -- actions --------------------------------------------------------------------------------


def test_add_is_idempotent_and_append_is_not(cart: Instance) -> None:
    for _ in range(3):
        assert cart.send("add_item", {"sku": "a1"}).accepted
    assert cart.data["items"] == ["a1", "a1", "a1"]
    assert cart.world.get("customers", "ana")["skus"] == ["a1"]


def test_add_each_skips_duplicates_and_remove_each_takes_all(cart: Instance) -> None:
    assert cart.send("tag", {"tags": ["x", "y", "x"]}).accepted
    assert cart.send("tag", {"tags": ["y", "z"]}).accepted
    assert cart.data["tags"] == ["x", "y", "z"]
    assert cart.send("untag", {"tags": ["x", "z", "absent"]}).accepted
    assert cart.data["tags"] == ["y"]


def test_for_each_repeats_an_action_per_item(cart: Instance) -> None:
    assert cart.send("tag", {"tags": ["red", "blue"]}).accepted
    assert cart.world.collections["tags"] == {"red": {"count": 1}, "blue": {"count": 1}}


def test_for_each_over_a_payload_list() -> None:
    workflow = load_workflow(ROOT / "tests" / "cases" / "valid" / "exclusive_guards.yaml")
    instance = Engine(workflow).create({"amount": 1})
    instance.send("route")
    assert instance.send("finish", {"items": ["a", "b", "a"]}).accepted
    assert instance.data["seen"] == ["a", "b"]


# -- creating instances ---------------------------------------------------------------------


def test_creating_an_instance_with_an_unknown_data_field_raises(shop: Workflow) -> None:
    with pytest.raises(UsageError, match=r"workflow 'shop' has no data field 'bogus' \(fields: "):
        Engine(shop).create({"bogus": 1})


def test_created_data_is_copied_not_shared(shop: Workflow) -> None:
    items: list[str] = []
    instance = Engine(shop).create({"customer": "ana", "items": items}, shop_world())
    instance.send("add_item", {"sku": "a"})
    assert items == []


# -- available events -----------------------------------------------------------------------


def test_available_events_has_no_side_effects(cart: Instance) -> None:
    cart.send("add_item", {"sku": "a1"})
    before = snapshot(cart)
    history = list(cart.history)
    options = {o.event: o for o in cart.available_events()}
    assert snapshot(cart) == before
    assert cart.history == history
    assert options["check_out"].available is True
    assert options["pay"].available is False
    assert options["pay"].reason == "not possible at this point"
    assert options["cancel"].available is True


def test_available_events_explains_a_guard_and_a_payload_dependency(
    shop: Workflow, clock: ManualClock
) -> None:
    instance = Engine(shop).create({"customer": "ana"}, shop_world(), clock)
    options = {o.event: o for o in instance.available_events()}
    assert (options["check_out"].available, options["check_out"].reason) == (
        False,
        "The cart is empty.",
    )
    assert options["check_out"].rule == "S2"
    instance.send("add_item", {"sku": "a"})
    instance.send("check_out")
    options = {o.event: o for o in instance.available_events()}
    assert (options["pay"].available, options["pay"].reason) == (None, "depends on the payload")


def test_an_event_that_needs_payload_fields_depends_on_the_payload(cart: Instance) -> None:
    """add_item's guard reads no payload, but its payload needs `sku`: it is not available
    as it stands (mutation audit: only a guard reading the payload was tested)."""
    options = {o.event: o for o in cart.available_events()}
    assert (options["add_item"].available, options["add_item"].reason) == (
        None,
        "depends on the payload",
    )
    assert options["add_item"].as_dict() == {
        "event": "add_item",
        "available": None,
        "reason": "depends on the payload",
    }


def test_an_unavailable_option_names_its_rule_in_its_dict(
    shop: Workflow, clock: ManualClock
) -> None:
    instance = Engine(shop).create({"customer": "ana"}, shop_world(), clock)
    options = {o.event: o for o in instance.available_events()}
    assert options["check_out"].as_dict() == {
        "event": "check_out",
        "available": False,
        "reason": "The cart is empty.",
        "rule": "S2",
    }


LOOKUP = """\
workflow: lookup
initial: open
bindings:
  item:
    from: items
    key: payload.sku
states:
  open: {}
  done: {final: completed}
events:
  pick:
    payload:
      type: object
      properties:
        sku: {type: string}
guards:
  known_item:
    rule: L1
    when: item != null
    message: No such item.
transitions:
  - event: pick
    from: open
    to: done
    guards: [known_item]
"""


def test_a_guard_that_reads_the_payload_through_a_binding_depends_on_it(tmp_path: Path) -> None:
    """`item` is looked up by payload.sku: the guard reads the payload although its `when`
    does not name it (mutation audit: that case was untested)."""
    path = tmp_path / "lookup.yaml"
    path.write_text(LOOKUP, encoding="utf-8")
    instance = Engine(load_workflow(path)).create(world=World({"items": {"a": {}}}))
    [option] = instance.available_events()
    assert (option.available, option.reason) == (None, "depends on the payload")
    assert instance.send("pick", {"sku": "b"}).refusal is not None
    assert instance.send("pick", {"sku": "a"}).accepted


def test_available_events_on_a_finished_instance(cart: Instance) -> None:
    cart.send("cancel")
    assert all(option.available is False for option in cart.available_events())


# -- timeouts -------------------------------------------------------------------------------


def test_expire_does_nothing_before_the_wait_runs_out(cart: Instance, clock: ManualClock) -> None:
    cart.send("add_item", {"sku": "a"})
    cart.send("check_out")
    before = snapshot(cart)
    clock.now += 599
    assert cart.expire() is None
    assert snapshot(cart) == before


def test_expire_takes_the_timeout_transition(cart: Instance, clock: ManualClock) -> None:
    cart.send("add_item", {"sku": "a"})
    clock.now += 10_000  # time in the cart does not count: the wait starts at check_out
    cart.send("check_out")
    clock.now += 600
    step = cart.expire()
    assert step is not None
    assert (step.event, step.source, step.target) == ("timeout", "checkout", "abandoned")
    assert step.transition is not None
    assert step.transition.is_timeout
    assert cart.outcome == "timed_out"
    assert cart.history[-1].time == clock.now


def test_a_timeout_taken_directly_equals_one_taken_through_the_trigger(
    shop: Workflow, clock: ManualClock
) -> None:
    """`time_out` skips the transitions library for a timeout (no guards, no actions): its
    step, history entry, state and data are those of the general event path."""
    engine = Engine(shop)
    direct, general = (engine.create({"customer": "ana"}, shop_world(), clock) for _ in "ab")
    for instance in (direct, general):
        instance.send("add_item", {"sku": "a"})
        instance.send("check_out")
    clock.now += 600
    taken = direct.time_out()
    through = general._fire("timeout", None, at=general.now())
    assert taken == through
    assert direct.history == general.history
    assert snapshot(direct) == snapshot(general)
    assert direct.time_out() is None  # abandoned: nothing waits any more


def test_expire_in_a_state_that_does_not_wait(cart: Instance, clock: ManualClock) -> None:
    clock.now += 1e9
    assert cart.expire() is None
    assert cart.state == "cart"


def test_the_timeout_event_cannot_be_sent(cart: Instance, clock: ManualClock) -> None:
    cart.send("add_item", {"sku": "a"})
    cart.send("check_out")
    clock.now += 600
    step = assert_refused_without_change(cart, "timeout", None, RefusalKind.UNKNOWN_EVENT)
    assert step.refusal is not None
    assert step.refusal.message == (
        "'timeout' is not something you can send: a wait runs out by itself when its time is up."
    )
    assert cart.state == "checkout"


def test_history_times_come_from_the_clock(cart: Instance, clock: ManualClock) -> None:
    cart.send("add_item", {"sku": "a"})
    clock.now = 2_000.0
    cart.send("pay", {"card": "1"})
    assert [entry.time for entry in cart.history] == [1_000.0, 2_000.0]
