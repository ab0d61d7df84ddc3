"""A throwaway PostgreSQL server for tests: initdb into a temp folder, a unix socket there only.

PostgreSQL refuses to run as root, so as root the cluster belongs to the unprivileged user
`nobody` (`runuser`). Each test gets a fresh database from `PostgresServer.database()`.
Reusable: `tests/conftest.py` wraps it in the session fixture `postgres`; the benchmarks start
one with `durable=True` (fsync and synchronous commit on, as a production server runs).
The server log (`PostgresServer.log`) names each line's database and logs lock waits past
`deadlock_timeout` besides every error, so a test can count deadlocks (`logged`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit

#: Where the PostgreSQL server binaries may be, besides PATH (Debian keeps them off PATH).
SEARCH = (
    "/usr/local/bin",
    *sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True),
    "/usr/local/pgsql/bin",
)
SUPERUSER = "linkflow"
#: The unprivileged owner of the cluster when the tests run as root.
OWNER = "nobody"


class PostgresUnavailable(RuntimeError):
    """The server could not be started (no binaries, no unprivileged user, initdb failed)."""


def find_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in SEARCH if (Path(d) / name).is_file()), None
    )
    if found is None:
        raise PostgresUnavailable(f"PostgreSQL's '{name}' is not installed")
    return found


class PostgresServer:
    """One running cluster; `database()` makes a new empty database and returns its URL."""

    def __init__(self, durable: bool = False) -> None:
        #: False (the tests): fsync, synchronous commit and full page writes off, for speed;
        #: True (the benchmarks): all three on, so a commit waits for the disk.
        self.durable = durable
        self.initdb = find_binary("initdb")
        self.pg_ctl = find_binary("pg_ctl")
        self.folder = Path(tempfile.mkdtemp(prefix="linkflow-pg-"))
        self.data = self.folder / "data"
        #: The server's log: errors (a deadlock is one), and waits for a lock past 1 s.
        self.log = self.folder / "server.log"
        self.socket = self.folder
        self.as_root = os.geteuid() == 0
        self._names = count(1)
        self.running = False

    def _run(self, args: Sequence[str], timeout: float = 60) -> None:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", OWNER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()
            raise PostgresUnavailable(f"{args[0]} failed: {output[-1] if output else '?'}")

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.folder, OWNER)
        self._run(
            [
                self.initdb,
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        flag = "on" if self.durable else "off"
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' "
            f"-c fsync={flag} -c synchronous_commit={flag} -c full_page_writes={flag} "
            "-c max_connections=200 -c log_lock_waits=on -c log_line_prefix='%m [%p] %d: '"
        )
        self._run(
            [
                self.pg_ctl,
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )
        self.running = True
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket}"

    def database(self) -> str:
        """A new empty database; its store URL."""
        import psycopg  # noqa: PLC0415 - psycopg, the postgres extra: callers check that PostgreSQL is installed first

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def log_size(self) -> int:
        """Where the server log ends now: `logged(since=...)` reads what comes after."""
        return self.log.stat().st_size

    def logged(self, url: str, since: int = 0) -> list[str]:
        """The log lines written after byte `since` by sessions of the database at `url`."""
        database = urlsplit(url).path.lstrip("/")
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if f"] {database}: " in line]

    def dump(self, url: str) -> bytes:
        """Everything in a database as `pg_dump` writes it (schema and data)."""
        pg_dump = find_binary("pg_dump")

        database = urlsplit(url).path.lstrip("/")
        done = subprocess.run(
            [pg_dump, "-h", str(self.socket), "-U", SUPERUSER, database],
            capture_output=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def stop(self) -> None:
        if self.running:
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"])
            self.running = False
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server(durable: bool = False) -> PostgresServer:
    """A started server, or PostgresUnavailable saying why not (the folder is cleaned up)."""
    server = PostgresServer(durable)
    try:
        return server.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as err:
        server.stop()
        raise PostgresUnavailable(str(err)) from None
