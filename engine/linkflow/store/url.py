"""Store URLs: `sqlite:///relative.db`, `sqlite:////absolute.db`, `postgresql://...`.

Chosen in this order: the `--store` option, the `LINKFLOW_STORE` environment variable, then the
embedded default `.linkflow/linkflow.db` under the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from linkflow.errors import UsageError

ENV_VAR = "LINKFLOW_STORE"
DEFAULT_PATH = Path(".linkflow") / "linkflow.db"
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL", "OFF", "EXTRA")
FORMS = "sqlite:///PATH (relative), sqlite:////PATH (absolute) or postgresql://USER@HOST/DB"


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A parsed store URL: the backend, where it is, and its options."""

    backend: str
    #: SQLite: the database file.
    path: Path = Path()
    #: PostgreSQL: the connection string psycopg is given (without our own options).
    conninfo: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def display(self) -> str:
        """Where the store is, without any password the URL may hold."""
        if self.backend == "sqlite":
            return str(self.path)
        parts = urlsplit(self.conninfo)
        # The hosts as written, without user and password: one `host:port`, or several
        # separated by commas (libpq tries them in turn; `target_session_attrs` picks one).
        hosts = parts.netloc.rpartition("@")[2]
        socket = dict(parse_qsl(parts.query)).get("host")
        where = f"?host={socket}" if socket else ""
        return f"postgresql://{hosts}{parts.path}{where}"


def resolve(url: str | None) -> str:
    """The URL to use: the one given, else $LINKFLOW_STORE, else the embedded default."""
    if url:
        return url
    from_env = os.environ.get(ENV_VAR, "").strip()
    return from_env or f"sqlite:///{DEFAULT_PATH}"


#: Options linkflow reads from a PostgreSQL URL's query; the rest go to libpq.
PG_OPTIONS = ("pool_size",)


def parse(url: str) -> StoreUrl:
    """Parse a store URL, or raise UsageError naming the forms that work."""
    text = url.strip()
    scheme, sep, _ = text.partition("://")
    if not sep:
        raise UsageError(f"store URL '{url}' is not a URL: use {FORMS}")
    scheme = scheme.lower()
    if scheme == "sqlite":
        rest = text[len("sqlite://") :]
        path, _, query = rest.partition("?")
        if not path.startswith("/") or path == "/":
            raise UsageError(f"store URL '{url}' names no file: use {FORMS}")
        options = dict(parse_qsl(query, keep_blank_values=True))
        unknown = sorted(set(options) - {"synchronous"})
        if unknown:
            raise UsageError(
                f"store URL '{url}': unknown option '{unknown[0]}' (known: synchronous)"
            )
        sync = options.get("synchronous", "FULL").upper()
        if sync not in SQLITE_SYNCHRONOUS:
            raise UsageError(
                f"store URL '{url}': synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}"
            )
        options["synchronous"] = sync
        return StoreUrl("sqlite", path=Path(path[1:]), options=options)
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(text)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        ours = {k: v for k, v in pairs if k in PG_OPTIONS}
        rest = "&".join(f"{k}={v}" for k, v in pairs if k not in PG_OPTIONS)
        if "pool_size" in ours and not ours["pool_size"].isdigit():
            raise UsageError(f"store URL '{url}': pool_size must be a whole number")
        conninfo = parts._replace(query=rest).geturl()
        return StoreUrl("postgresql", conninfo=conninfo, options=ours)
    raise UsageError(f"store URL '{url}' has an unknown scheme '{scheme}': use {FORMS}")
