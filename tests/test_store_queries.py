"""The store's SQL files: every named query is used, every name used exists, in both dialects,
and no SQL is left inline in the store's code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import linkflow.store
from linkflow.store.queries import DIALECTS, SHARED, parse, queries, read
from linkflow.store.records import INSTANCE_COLUMNS

STORE = Path(linkflow.store.__file__).parent
#: `sql["name"]` (self.sql, store.sql) and the listing's `sql[f"filter_{name}"]`.
USED = re.compile(r"""\bsql\[f?"([a-z_{}]+)"\]""")
#: What the listing's placeholders stand for (store/listing.py).
PLACEHOLDERS = {
    "{name}": ("workflow", "state", "outcome"),
    "{order}": ("created", "updated"),
    "{column}": ("created", "updated"),
    "{dialect}": DIALECTS,
}
#: Modules with a query file of their own, read apart from the shared and dialect files.
OWN_FILES = {"webhooks.py": "webhooks.sql", "outbox.py": "effects.sql"}
#: A statement keyword at the start of a string literal: SQL written in Python.
INLINE = re.compile(r"""["'](SELECT|INSERT|UPDATE|DELETE|SAVEPOINT|RELEASE|ROLLBACK TO)\b""")


def used_names(modules: list[Path] | None = None) -> set[str]:
    names: set[str] = set()
    if modules is None:
        modules = [m for m in STORE.glob("*.py") if m.name not in OWN_FILES]
    for module in modules:
        for name in USED.findall(module.read_text(encoding="utf-8")):
            for placeholder, values in PLACEHOLDERS.items():
                if placeholder in name:
                    names.update(name.replace(placeholder, v) for v in values)
                    break
            else:
                names.add(name)
    return names


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_named_query_is_used_and_every_used_name_exists(dialect: str) -> None:
    defined = set(queries(dialect))
    used = used_names()
    assert used - defined == set(), "used but not in the query files"
    assert defined - used == set(), "in the query files but never used"


@pytest.mark.parametrize("module", sorted(OWN_FILES))
def test_a_module_with_its_own_query_file_uses_each_of_its_queries(module: str) -> None:
    assert used_names([STORE / module]) == set(read(OWN_FILES[module]))


def test_the_dialect_files_name_the_same_queries_and_redefine_no_shared_one() -> None:
    shared = read(SHARED)
    own = {d: set(read(f"{d}.sql")) for d in DIALECTS}
    assert own["sqlite"] == own["postgresql"]
    assert not own["sqlite"] & set(shared)


def test_no_sql_is_written_inline_in_the_store_modules() -> None:
    """Migrations keep their own files and reader; the backends begin and end transactions
    and set SQLite's pragmas; everything else the store runs is a named query."""
    for module in STORE.glob("*.py"):
        if module.name == "migrations.py":
            continue
        assert not INLINE.search(module.read_text(encoding="utf-8")), module.name


def test_a_query_file_is_read_by_its_headers() -> None:
    text = (
        "-- a file comment\n-- name: one\n-- why it is so\nSELECT 1\nFROM t;\n\n"
        "-- name: two\nSELECT 2;\n"
    )
    assert parse(text, "x.sql") == {"one": "SELECT 1\nFROM t", "two": "SELECT 2"}
    with pytest.raises(ValueError, match="named twice"):
        parse("-- name: one\nSELECT 1;\n-- name: one\nSELECT 2;\n", "x.sql")
    with pytest.raises(ValueError, match="empty"):
        parse("-- name: one\n-- nothing\n", "x.sql")


def test_the_instance_queries_select_the_columns_in_record_order() -> None:
    columns = " ".join(INSTANCE_COLUMNS.split())
    for dialect in DIALECTS:
        sql = queries(dialect)
        for name in ("instance", "instance_for_update", "session_head", "claim_due"):
            assert columns in " ".join(sql[name].split()), (dialect, name)
