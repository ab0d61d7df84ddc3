"""Dotted paths: ids with periods, quoted segments, and an ambiguous path as a problem."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from linkflow.language.loader import load
from linkflow.runtime.paths import ABSENT, PathError, lookup, parent
from linkflow.testing.scenarios import run_scenario_file

WORLD: dict[str, Any] = {
    "things": {"a": {"b.c": 1}, "a.b": {"c": 2}, "x": {"items": [10, {"y": 3}]}},
    "orders": {"po.1001": {"status": "open"}},
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ('things["a.b"].c', 2),
        ("things['a.b'].c", 2),
        ('things.a["b.c"]', 1),
        ("orders.po.1001.status", "open"),
        ('orders["po.1001"].status', "open"),
        ("things.x.items.1.y", 3),
        ("things.nothing", ABSENT),
        ('things["a"].c', ABSENT),
    ],
)
def test_a_path_finds_its_value(path: str, value: object) -> None:
    assert lookup(WORLD, path) == value


def test_a_path_that_reads_two_ways_is_an_error_naming_both() -> None:
    with pytest.raises(PathError) as err:
        lookup(WORLD, "things.a.b.c")
    assert str(err.value) == (
        'path \'things.a.b.c\' can be read two ways, things["a.b"].c and things.a["b.c"]: '
        "quote the key that holds a period to say which"
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a..b", "path 'a..b': an empty part at character 3"),
        (
            "a[b]",
            "path 'a[b]': at character 3, "
            'write a quoted key as ["key"] or a match as [field="value"]',
        ),
        (
            'a["b"',
            "path 'a[\"b\"': at character 3, "
            'write a quoted key as ["key"] or a match as [field="value"]',
        ),
        ("a.", "path 'a.': it ends in '.' or is empty"),
    ],
)
def test_a_badly_written_path_says_where(path: str, message: str) -> None:
    with pytest.raises(PathError) as err:
        lookup(WORLD, path)
    assert str(err.value) == message


def test_a_change_finds_the_mapping_it_writes_into() -> None:
    found = parent(WORLD, 'things["a.b"].c')
    assert found == (WORLD["things"]["a.b"], "c")
    assert parent(WORLD, "orders.po.1001.status") == (WORLD["orders"]["po.1001"], "status")
    assert parent(WORLD, "orders.po.2") == (WORLD["orders"], "po.2")
    with pytest.raises(PathError):
        parent(WORLD, "things.a.b.c")


SCENARIO = """\
scenario: ids_with_periods
workflow: purchase_order
workflows: ..
world: ../worlds/acme.yaml
world_changes:
  {change}: 900
data: {{order: po.1001, department: hr}}
steps:
  - send: approve
    payload: {{approver: jo.smith}}
    expect:
      outcome: completed
      world:
        {expect}: approved
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "purchase_orders"
    shutil.copytree(Path(__file__).parent / "cases" / "purchase_orders", copy)
    (copy / "world.schema.yaml").unlink()  # its records allow no field name with a period
    world = copy / "worlds" / "acme.yaml"
    # An order `po` beside `po.1001`, each with a field the other's id would also spell.
    world.write_text(
        world.read_text(encoding="utf-8") + "    po: {amount: 1, status: open, '1001.amount': 5}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LINKFLOW_ROOT", str(tmp_path))
    return copy


def scenario(project: Path, change: str, expect: str) -> Path:
    path = project / "scenarios" / "periods.yaml"
    path.write_text(SCENARIO.format(change=change, expect=expect), encoding="utf-8")
    return path


def test_quoted_ids_in_a_scenario_run_and_validate(project: Path) -> None:
    path = scenario(project, 'orders["po.1001"].amount', "orders['po.1001'].status")
    assert load([path]).problems == []
    result = run_scenario_file(path)
    assert result.passed, (result.problems, result.failures)


def test_an_ambiguous_change_is_a_validate_problem(project: Path) -> None:
    path = scenario(project, "orders.po.1001.amount", "orders['po.1001'].status")
    (problem,) = load([path]).problems
    assert problem.location.line == 6
    assert problem.message == (
        "path 'orders.po.1001.amount' can be read two ways, orders[\"po.1001\"].amount and "
        'orders.po["1001.amount"]: quote the key that holds a period to say which'
    )
    assert [p.message for p in run_scenario_file(path).problems] == [problem.message]


# -- naming a record by what it holds ---------------------------------------------------------

BY_NAME = """\
scenario: org_account_by_name
workflow: create_org_account
world: ../workflows/worlds/ads_manager_demo.yaml
data: {{actor: ana, business_center: acme_brands, ad_account: acme_us, campaign: spring_sale}}
steps:
  - send: create
    payload: {{nickname: Acme Deals, region: United States}}
    expect:
      state: created
      world:
        tiktok_accounts[name="{name}"].owner_kind: organization
        tiktok_accounts[name="{name}", owner_kind="organization"].admins: [ana]
      includes:
        world.tiktok_accounts[name='{name}'].admins: [ana]
"""


def by_name(tmp_path: Path, name: str) -> Path:
    shutil.copytree(Path(__file__).parent.parent / "workflows", tmp_path / "workflows")
    path = tmp_path / "scenarios" / "by_name.yaml"
    path.parent.mkdir()
    path.write_text(BY_NAME.format(name=name), encoding="utf-8")
    return path


def test_a_record_created_in_the_run_is_found_by_what_it_holds(tmp_path: Path) -> None:
    path = by_name(tmp_path, "Acme Deals")
    assert load([path]).problems == []
    result = run_scenario_file(path)
    assert result.passed, (result.problems, result.failures)


def test_a_match_that_finds_nothing_fails_the_step(tmp_path: Path) -> None:
    result = run_scenario_file(by_name(tmp_path, "Acme Deal"))
    assert [(f.location.line, f.message) for f in result.failures] == [
        (
            11,
            'world.tiktok_accounts[name="Acme Deal"].owner_kind: expected "organization", '
            "got nothing (no such path)",
        ),
        (
            12,
            'world.tiktok_accounts[name="Acme Deal", owner_kind="organization"].admins: '
            'expected ["ana"], got nothing (no such path)',
        ),
        (
            14,
            "world.tiktok_accounts[name='Acme Deal'].admins: expected a list, "
            "got nothing (no such path)",
        ),
    ]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ('accounts[name="Acme"].region', "US"),
        ("accounts[name='Other', n=4].n", 4),
        ("accounts[gone=null].name", "Acme"),
        ("rows[a=2].a", 2),
        ('accounts[name="Nobody"].n', ABSENT),
    ],
)
def test_a_match_reads_the_one_record_holding_the_values(path: str, value: object) -> None:
    world = {
        "accounts": {
            "org_1": {"name": "Acme", "region": "US", "n": 3, "gone": None},
            "org_2": {"name": "Other", "region": "US", "n": 4},
        },
        "rows": [{"a": 1}, {"a": 2}],
    }
    assert lookup(world, path) == value
    with pytest.raises(PathError) as err:
        lookup(world, 'accounts[region="US"].n')
    assert str(err.value) == (
        "path 'accounts[region=\"US\"].n' matches more than one record, accounts.org_1.n and "
        "accounts.org_2.n: add a field to the match to say which"
    )
