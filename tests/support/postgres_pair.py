"""Two throwaway PostgreSQL clusters on 127.0.0.1: a primary and its synchronous standby.

The primary is made by initdb as in `tests/support/postgres.py` (as root, the clusters belong
to `nobody`), the standby by `pg_basebackup -R` from it (streaming replication; `-R` writes
`standby.signal` and the connection to the primary). The primary names the standby in
`synchronous_standby_names` with `synchronous_commit=on`, so a commit returns only once the
standby has flushed it to its WAL: what a client was told is committed survives the primary.
`start()` returns only when the standby streams as the synchronous one.

`kill_primary()` sends SIGKILL to the primary's whole process group (pg_ctl starts the server
in a session of its own), as if its machine died; `promote()` makes the standby the primary.
`kill_standby()` and `restart_standby()` take the standby away and bring it back.
`url()` names both hosts with `target_session_attrs=read-write`, the form a service is given.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.postgres import OWNER, SUPERUSER, PostgresUnavailable, find_binary

#: The standby's name, as the primary's synchronous_standby_names lists it.
STANDBY_NAME = "standby1"
DATABASE = "linkflow"
SYNC_WAIT_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ReplicatedPair:
    """A primary and a synchronous standby, each on its own port of 127.0.0.1."""

    def __init__(self) -> None:
        self.initdb = find_binary("initdb")
        self.pg_ctl = find_binary("pg_ctl")
        self.pg_basebackup = find_binary("pg_basebackup")
        self.folder = Path(tempfile.mkdtemp(prefix="linkflow-pg-pair-"))
        self.primary_data = self.folder / "primary"
        self.standby_data = self.folder / "standby"
        self.primary_port = _free_port()
        self.standby_port = _free_port()
        self.as_root = os.geteuid() == 0
        self.running: set[Path] = set()

    def _run(self, args: Sequence[str], timeout: float = 60) -> str:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", OWNER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip().splitlines()
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed: {output[-1] if output else '?'}"
            )
        return done.stdout

    def _start(self, data: Path, port: int, options: str) -> None:
        base = (
            f"-c listen_addresses='127.0.0.1' -c port={port} "
            f"-c unix_socket_directories='{self.folder}' -c fsync=off -c full_page_writes=off "
            "-c max_connections=100 -c log_line_prefix='%m [%p] %d: ' "
        )
        log = self.folder / f"{data.name}.log"
        self._run(
            [self.pg_ctl, "-D", str(data), "-o", base + options, "-l", str(log), "-w", "start"],
            timeout=90,
        )
        self.running.add(data)

    def start(self) -> ReplicatedPair:
        if self.as_root:
            shutil.chown(self.folder, OWNER)
        self._run(
            [
                *(self.initdb, "-D", str(self.primary_data), "-U", SUPERUSER),
                *("--auth=trust", "-E", "UTF8", "--no-sync"),
            ]
        )
        self._start(
            self.primary_data,
            self.primary_port,
            f"-c synchronous_standby_names='{STANDBY_NAME}' -c synchronous_commit=on",
        )
        # No standby yet: this one commit must not wait for it.
        self._sql(self.primary_port, f"CREATE DATABASE {DATABASE}", local=True)
        self._run(
            [
                *(self.pg_basebackup, "-h", "127.0.0.1", "-p", str(self.primary_port)),
                *("-U", SUPERUSER, "-D", str(self.standby_data), "-R", "-X", "stream"),
                *("--checkpoint=fast", "--no-sync"),
            ],
            timeout=120,
        )
        # The walreceiver introduces itself by cluster_name: the name the primary waits for.
        self._start(self.standby_data, self.standby_port, f"-c cluster_name={STANDBY_NAME}")
        self._wait_until_synchronous()
        return self

    def _sql(self, port: int, statement: str, local: bool = False) -> list[tuple[object, ...]]:
        import psycopg  # noqa: PLC0415 - psycopg, the postgres extra: callers check that PostgreSQL is installed first

        with psycopg.connect(
            f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", autocommit=True
        ) as conn:
            if local:
                conn.execute("SET synchronous_commit = local")
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def _wait_until_synchronous(self) -> None:
        deadline = time.monotonic() + SYNC_WAIT_SECONDS
        query = "SELECT application_name, sync_state FROM pg_stat_replication"
        while time.monotonic() < deadline:
            if (STANDBY_NAME, "sync") in self._sql(self.primary_port, query):
                return
            time.sleep(0.1)
        raise PostgresUnavailable(
            f"the standby did not become synchronous in {SYNC_WAIT_SECONDS} s"
        )

    def url(self, *, hosts: str = "both") -> str:
        """The store URL: both hosts (read-write one wins), or only the `primary`/`standby`."""
        ports = {
            "both": [self.primary_port, self.standby_port],
            "primary": [self.primary_port],
            "standby": [self.standby_port],
        }[hosts]
        names = ",".join(f"127.0.0.1:{port}" for port in ports)
        return f"postgresql://{SUPERUSER}@{names}/{DATABASE}?target_session_attrs=read-write"

    def replication(self) -> list[tuple[object, ...]]:
        """The primary's view of its standbys: (application_name, sync_state) rows."""
        return self._sql(
            self.primary_port, "SELECT application_name, sync_state FROM pg_stat_replication"
        )

    def kill_primary(self) -> None:
        """SIGKILL to the primary's postmaster and every process of its group at once."""
        self._kill(self.primary_data)

    def kill_standby(self) -> None:
        """The same for the standby: the primary's commits now wait for it."""
        self._kill(self.standby_data)

    def restart_standby(self) -> None:
        """Start the killed standby again (it recovers, then streams from the primary)."""
        self._start(self.standby_data, self.standby_port, f"-c cluster_name={STANDBY_NAME}")
        self._wait_until_synchronous()

    def _kill(self, data: Path) -> None:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.killpg(os.getpgid(pid), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        self.running.discard(data)

    def promote(self) -> None:
        """The standby stops following and accepts writes (waits until it does)."""
        self._run([self.pg_ctl, "-D", str(self.standby_data), "-w", "-t", "60", "promote"])

    def standby_in_recovery(self) -> bool:
        rows = self._sql(self.standby_port, "SELECT pg_is_in_recovery()")
        return bool(rows[0][0])

    def logs(self) -> str:
        return "\n".join(
            f"== {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.folder.glob("*.log"))
        )

    def stop(self) -> None:
        for data in list(self.running):
            with contextlib.suppress(PostgresUnavailable):
                self._run([self.pg_ctl, "-D", str(data), "-m", "immediate", "stop"])
            self.running.discard(data)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_pair() -> ReplicatedPair:
    """A running pair, or PostgresUnavailable saying why not (the folder is cleaned up)."""
    pair = ReplicatedPair()
    try:
        return pair.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as err:
        pair.stop()
        raise PostgresUnavailable(str(err)) from None
