"""The store's own schema, versioned: numbered SQL files beside this module, applied at open.

Each backend has its folder (`migrations/sqlite`, `migrations/postgresql`) with the same
numbers. A database records its version in `linkflow_schema`; opening applies every newer file
in one transaction, so an upgrade of linkflow never loses data, and a database made by a newer
linkflow is refused instead of being misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from linkflow.store.backend import Backend, Tx
from linkflow.store.errors import StoreError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
#: PostgreSQL: one advisory lock number, so two processes opening a new store migrate once.
_PG_LOCK = 0x6C696E6B


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _statements(sql: str) -> tuple[str, ...]:
    """The statements of a migration file, split at `;` but not inside a `$$`-quoted body (a
    PostgreSQL function's, whose own statements end with `;` too)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    parts = "\n".join(lines).split("$$")
    statements: list[str] = []
    current = ""
    for index, part in enumerate(parts):
        if index % 2:  # inside $$ ... $$: kept whole
            current += f"$${part}$$"
            continue
        pieces = part.split(";")
        current += pieces[0]
        for piece in pieces[1:]:
            statements.append(current)
            current = piece
    statements.append(current)
    return tuple(s.strip() for s in statements if s.strip())


@cache
def migrations(backend: str) -> tuple[Migration, ...]:
    folder = files("linkflow.store") / "migrations" / backend
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            text = entry.read_text(encoding="utf-8")
            found.append(Migration(int(match.group(1)), entry.name, _statements(text)))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):  # pragma: no cover
        raise RuntimeError(f"store migrations for {backend} are not numbered 1..n")
    return tuple(found)


def latest(backend: str) -> int:
    return len(migrations(backend))


def _version(tx: Tx) -> int:
    row = tx.one("SELECT version FROM linkflow_schema")
    return 0 if row is None else int(row[0])


def current_version(backend: Backend) -> int:
    """The schema version of the database (0 for an empty one)."""
    try:
        with backend.read() as tx:
            return _version(tx)
    except StoreError:
        return 0  # no linkflow_schema table yet (anything worse shows when migrating)


def migrate(backend: Backend, where: str, target: int | None = None) -> int:
    """Bring the schema to `target` (default: the newest); the version it is at after."""
    goal = latest(backend.name) if target is None else target
    if current_version(backend) == goal:
        return goal  # the common case: one read, no write lock
    with backend.write() as tx:
        if backend.name == "postgresql":
            tx.one("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK,))
        tx.run("CREATE TABLE IF NOT EXISTS linkflow_schema (version INTEGER NOT NULL)")
        version = _version(tx)
        newest = latest(backend.name)
        if version > newest:
            raise StoreError(
                f"the store at {where} was made by a newer linkflow (schema version {version}; "
                f"this linkflow knows up to {newest}): upgrade linkflow to use it"
            )
        if version == 0:
            tx.run("INSERT INTO linkflow_schema (version) VALUES (0)")
        for migration in migrations(backend.name)[version:goal]:
            for statement in migration.statements:
                tx.run(statement)
            tx.run("UPDATE linkflow_schema SET version = ?", (migration.version,))
        return max(version, goal)
