"""The store's SQL: named queries read once from `sql/*.sql`, per dialect.

`sql/queries.sql` holds what SQLite and PostgreSQL share; `sql/sqlite.sql` and
`sql/postgresql.sql` hold, under the same names in both, what differs. Each query starts at a
`-- name: ...` line and runs to the next (its trailing `;` dropped, comment lines left out),
in the style of procrastinate's `queries.sql`: the SQL is read, reviewed and diffed as SQL,
and the store refers to it by name (`store.sql["instance"]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files

SHARED = "queries.sql"
DIALECTS = ("sqlite", "postgresql")
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")


def parse(text: str, file: str) -> dict[str, str]:
    """The named queries of one file's text; a name given twice is an error."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _NAME.match(line.strip())
        if match:
            name = match.group(1)
            if name in found:
                raise ValueError(f"{file}: the query '{name}' is named twice")
            current = found[name] = []
        elif current is not None and not line.lstrip().startswith("--"):
            current.append(line.rstrip())
    queries = {}
    for name, lines in found.items():
        statement = "\n".join(lines).strip().removesuffix(";").strip()
        if not statement:
            raise ValueError(f"{file}: the query '{name}' is empty")
        queries[name] = statement
    return queries


def read(file: str) -> dict[str, str]:
    return parse((files("linkflow.store") / "sql" / file).read_text(encoding="utf-8"), file)


class Queries(Mapping[str, str]):
    """One dialect's queries by name; an unknown name is a KeyError that says which."""

    def __init__(self, dialect: str, queries: Mapping[str, str]) -> None:
        self.dialect = dialect
        self._queries = dict(queries)

    def __getitem__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query named '{name}' for {self.dialect}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


@cache
def queries(dialect: str) -> Queries:
    """The shared queries plus the dialect's own, read once per process.

    A dialect file may not redefine a shared name (what differs lives only in the dialect
    files), and both dialects define the same names, so the store's code has no dialect cases.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"no queries for the dialect '{dialect}'")
    shared = read(SHARED)
    own = read(f"{dialect}.sql")
    both = sorted(shared.keys() & own.keys())
    if both:
        raise ValueError(f"{dialect}.sql redefines shared queries: {', '.join(both)}")
    return Queries(dialect, {**shared, **own})
