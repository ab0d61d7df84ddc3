"""validate checks what workflows read against the world schema and the events' payloads."""

from __future__ import annotations

import shutil
from pathlib import Path

from linkflow.language.loader import load

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "cases" / "static" / "purchase_order_mistakes.yaml"


def test_world_and_payload_reads_are_checked_with_their_locations(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests/cases/purchase_orders/world.schema.yaml", tmp_path)
    shutil.copy(CASE, tmp_path)
    result = load([tmp_path / CASE.name])
    expected = CASE.with_suffix(".expected").read_text(encoding="utf-8")
    assert [str(p) for p in result.problems] == expected.format(d=tmp_path).splitlines()


def test_without_a_world_schema_only_payloads_are_checked(tmp_path: Path) -> None:
    shutil.copy(CASE, tmp_path)
    messages = [p.message for p in load([tmp_path / CASE.name]).problems]
    assert len(messages) == 4
    assert all("payload." in m for m in messages)


def test_the_domain_and_the_example_pass_every_check() -> None:
    assert load([ROOT / "workflows", ROOT / "examples"]).problems == []
