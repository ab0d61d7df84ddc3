"""Choices: the lists a person picks payload values from, worked out from the world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkflow import RefusalKind
from linkflow.cli import main
from linkflow.language.loader import load_workflow
from linkflow.output.describe import describe_workflow, workflow_summary
from linkflow.output.pages import workflow_page
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from linkflow.runtime.world_loader import load_world
from linkflow.testing.scenarios import run_scenario_file

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "choices"


def bakery(**changes: object) -> Instance:
    world, problems = load_world(CASES / "bakery_world.yaml")
    assert world is not None, problems
    for path, value in changes.items():
        shop, key = path.split("__")
        world.collections["shops"][shop][key] = value
    return Engine(load_workflow(CASES / "bakery.yaml")).create(world=world)


def test_the_scenario_checks_choices_and_refusals() -> None:
    result = run_scenario_file(CASES / "bakery_choices.yaml")
    assert result.passed, [str(f) for f in result.failures] + [str(p) for p in result.problems]


def test_available_events_list_the_choices_with_labels() -> None:
    (option,) = bakery().available_events()
    assert option.available is True
    cakes = [(c.value, c.label) for c in option.choices["cake"]]
    assert cakes == [("lemon", "Lemon Drizzle"), ("plum", "plum")]  # plum has no record
    assert [c.label for c in option.choices["size"]] == ["Small", "Large"]
    assert option.choices["note"] == ()  # `notes` is not a list: nothing can be offered
    assert option.as_dict()["choices"]["size"][0] == {"value": "s", "label": "Small"}


def test_a_value_outside_the_list_is_refused_and_changes_nothing() -> None:
    instance = bakery()
    step = instance.send("order", {"cake": "rye"})
    assert step.refusal is not None
    assert step.refusal.kind is RefusalKind.NOT_OFFERED
    assert step.refusal.rule == "B1"
    assert instance.state == "ordering"
    assert instance.data["cake"] == ""


def test_a_list_that_cannot_be_worked_out_offers_nothing() -> None:
    step = bakery().send("order", {"note": "extra icing"})
    assert step.refusal is not None
    assert step.refusal.message == (
        "'extra icing' cannot be chosen: nothing is offered here (note)."
    )


def test_values_that_are_not_text_are_listed_as_text() -> None:
    step = bakery(main__notes=[1, 2]).send("order", {"note": "3"})
    assert step.refusal is not None
    assert step.refusal.message == (
        "'3' is not the id of a choice offered (note). Send the id of one of: 1, 2."
    )


def test_a_loose_match_is_replaced_by_the_offered_value() -> None:
    instance = bakery()
    step = instance.send("order", {"cake": "plum", "size": " small"})
    assert step.accepted
    assert instance.data == {"shop": "main", "cake": "plum", "size": "s"}
    assert instance.history[-1].payload == {"cake": "plum", "size": "s"}


def test_exact_lists_do_not_ignore_case() -> None:
    step = bakery().send("order", {"cake": "Lemon"})
    assert step.refusal is not None
    assert step.refusal.rule == "B1"


def test_show_and_docs_describe_the_lists() -> None:
    workflow = load_workflow(CASES / "bakery.yaml")
    text = describe_workflow(workflow)
    assert "cake is picked from a list [B1]: the cakes the shop bakes today" in text
    assert "note is picked from a list: the values of `shop.notes`" in text
    summary = workflow_summary(workflow)["events"][0]["choices"]
    assert summary["cake"]["records"] == "cakes"
    assert summary["size"]["ignore_case"] is True
    page = workflow_page(workflow)
    assert "- `order`, `cake`: the cakes the shop bakes today (B1)." in page


def test_run_json_lists_what_is_offered_now(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "run",
            str(CASES / "bakery.yaml"),
            "--world",
            str(CASES / "bakery_world.yaml"),
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    (available,) = report["available"]
    assert [c["label"] for c in available["choices"]["cake"]] == ["Lemon Drizzle", "plum"]


def test_a_scenario_expecting_other_choices_fails_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKFLOW_ROOT", "/")  # the scenario in tmp reads the workflow in tests/
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        f"scenario: wrong_choices\nworkflow: bakery\nworkflows: {CASES / 'bakery.yaml'}\n"
        f"world: {CASES / 'bakery_world.yaml'}\n"
        "steps:\n"
        "  - expect: {choices: {order.cake: [rye], order.size: [s, l]}}\n"
        "  - expect: {choices: {order.note: []}}\n",
        encoding="utf-8",
    )
    result = run_scenario_file(scenario)
    assert [str(f) for f in result.failures] == [
        f'{scenario}:6:36: step 1: order.cake: expected choices ["rye"], got ["lemon", "plum"]'
    ]


def test_validate_reports_a_field_that_offers_no_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKFLOW_ROOT", "/")  # the scenario in tmp reads the workflow in tests/
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(
        f"scenario: typo\nworkflow: bakery\nworkflows: {CASES / 'bakery.yaml'}\n"
        "steps:\n  - expect: {choices: {order.cakes: [plum]}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(scenario)]) == 1
    out = capsys.readouterr().out
    assert f"{scenario}:5:24: no event field 'order.cakes' offers choices " in out
    assert "(did you mean 'order.cake'?)" in out


SIZES = """\
workflow: sizes
initial: ordering
data: {size: ""}
states:
  ordering: {}
  ordered: {final: completed}
events:
  order:
    payload:
      type: object
      additionalProperties: false
      properties:
        cake_size: {type: string}
        size: {type: string}
    choices:
      cake_size:
        values: "['s', 'l']"
      size:
        description: the sizes we bake.
        values: "[1, {'value': 'm', 'label': 'Medium'}, {'value': 'xl'}]"
        ignore_case: true
transitions:
  - event: order
    from: ordering
    to: ordered
    actions:
      - set: {path: data.size, value: "has(payload.size) ? payload.size : ''"}
"""


def sizes(tmp_path: Path) -> Instance:
    path = tmp_path / "sizes.yaml"
    path.write_text(SIZES, encoding="utf-8")
    return Engine(load_workflow(path)).create()


def test_a_listed_value_without_a_label_reads_as_itself(tmp_path: Path) -> None:
    """A `{value: ...}` item with no label is shown by its value (mutation audit)."""
    (option,) = sizes(tmp_path).available_events()
    assert [(c.value, c.label) for c in option.choices["size"]] == [
        (1, "1"),
        ("m", "Medium"),
        ("xl", "xl"),
    ]


def test_ignore_case_matches_a_text_value_among_numbers(tmp_path: Path) -> None:
    """A loose match compares with the value too, not only the label, and skips the values
    that are not text (mutation audit: neither was tested)."""
    instance = sizes(tmp_path)
    step = instance.send("order", {"size": " M"})
    assert step.accepted
    assert instance.data["size"] == "m"
    assert sizes(tmp_path).send("order", {"size": "XL"}).accepted
    refused = sizes(tmp_path).send("order", {"size": "2"})
    assert refused.refusal is not None
    assert refused.refusal.message == (
        "'2' is not the id of a choice offered (the sizes we bake). Send the id of one of: "
        "1, Medium (id 'm'), xl."
    )


def test_a_list_without_a_description_is_named_by_its_field_in_words(tmp_path: Path) -> None:
    step = sizes(tmp_path).send("order", {"cake_size": "m"})
    assert step.refusal is not None
    assert step.refusal.message == (
        "'m' is not the id of a choice offered (cake size). Send the id of one of: s, l."
    )
