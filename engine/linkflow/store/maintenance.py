"""Operating a store: an online backup of a SQLite store, and retention (pruning finished
instances). `linkflow backup` and `linkflow prune` call these; docs/operations.md tells why
each is as it is.

Retention and the change feed: the feed is an append-only log of what happened. Pruning an
instance deletes the instance, its history and the recorded answers to its event ids, never
its feed entries: a reader that resumes with `feed --after N` gets the same entries, in the
same order, before and after a prune (none missing, none repeated); an entry may name an
instance that is no longer in the store.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from linkflow.errors import UsageError
from linkflow.store.backend import Tx
from linkflow.store.errors import StoreError
from linkflow.store.store import Store
from linkflow.store.url import StoreUrl

#: Instances deleted per transaction by default.
PRUNE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    bytes: int
    seconds: float


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> BackupResult:
    """Copy the SQLite store at `source` to `target` with SQLite's online backup API, while
    other processes go on writing: the copy is the database as one read transaction saw it
    (every commit before it, none after), in rollback-journal mode (one self-contained file).

    Written to a temporary file beside `target`, checked (`PRAGMA integrity_check`), then
    renamed into place: `target` is never a half-written copy. An existing `target` is
    refused (UsageError) unless `force`.
    """
    started = time.perf_counter()
    if not source.is_file():
        raise StoreError(f"no SQLite store at {source}")
    if target.exists() and not force:
        raise UsageError(f"{target} exists: give --force to overwrite it")
    if target.exists() and not target.is_file():
        raise UsageError(f"{target} is not a file")
    if target.resolve() == source.resolve():
        raise UsageError("the backup cannot be the store itself")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        _copy(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, time.perf_counter() - started)


def _copy(source: Path, partial: Path) -> None:
    try:
        # mode=rw: never creates a missing file; it only reads, yet a read-only connection
        # would leave the -wal and -shm files of a closed store behind.
        src = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=60.0)
    except sqlite3.Error as err:
        raise StoreError(f"cannot open the store at {source}: {err}") from None
    try:
        dst = sqlite3.connect(str(partial), isolation_level=None)
        try:
            # pages=-1: the whole database in one step, inside one read transaction of the
            # source (WAL: writers go on; the copy holds no commit that came after it began).
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                raise StoreError(f"the copy failed its integrity check: {problems[0]}")
            dst.execute("PRAGMA synchronous=FULL")
        finally:
            dst.close()
        with partial.open("rb+") as written:
            os.fsync(written.fileno())
    except sqlite3.Error as err:
        raise StoreError(f"cannot back up the store at {source}: {err}") from None
    finally:
        src.close()


def postgres_commands(url: StoreUrl, target: str) -> list[str]:
    """The command lines that back up a PostgreSQL store (linkflow does not: the server's own
    tools are consistent and fast): a logical dump, and a physical base backup. The URL keeps
    its user, host, port and database, never a password (use PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(url.conninfo)
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    host = netloc[2]
    conninfo = urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))
    quoted = f"'{conninfo}'" if any(c in conninfo for c in "?&;$ ") else conninfo
    return [
        f"pg_dump --format=custom --file={target} {quoted}",
        f"pg_basebackup --pgdata={target}.base --format=tar --gzip --wal-method=stream "
        f"--checkpoint=fast --progress --dbname={quoted}",
    ]


@dataclass(frozen=True, slots=True)
class PruneResult:
    instances: int
    batches: int
    seconds: float
    dry_run: bool = False


def parse_date(text: str) -> float:
    """An ISO 8601 date (midnight UTC) or date and time (UTC unless it gives an offset) as
    seconds since the epoch; UsageError for anything else."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"'{text}' is not an ISO 8601 date or date and time (e.g. 2026-01-31 or "
            "2026-01-31T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def prune(
    store: Store,
    before: float,
    *,
    batch: int = PRUNE_BATCH,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PruneResult:
    """Delete the finished instances whose whole session (handoff chain) finished before
    `before` (seconds since the epoch), with their history and recorded event-id answers, at
    most `batch` instances per transaction. The feed keeps their entries (see the module).

    Never an unfinished instance, nor one whose session has a member that is unfinished or
    finished at or after `before`. With `dry_run`, only counts what would go.
    """
    if batch < 1:
        raise UsageError("--batch must be at least 1")
    started = time.perf_counter()
    sql = store.sql
    if dry_run:
        with store.backend.read() as tx:
            row = tx.one(sql["prunable_count"], (before, before))
        count = 0 if row is None else int(row[0])
        return PruneResult(count, 0, time.perf_counter() - started, dry_run=True)

    def one_batch(tx: Tx) -> int:
        ids = [(row[0],) for row in tx.all(sql["prune_claim"], (before, before, batch))]
        if ids:
            tx.many(sql["prune_history"], ids)
            tx.many(sql["prune_instance"], ids)
        return len(ids)

    total = batches = 0
    while True:
        deleted = store._write(one_batch)
        if not deleted:
            break
        total += deleted
        batches += 1
        if progress is not None:
            progress(total)
    return PruneResult(total, batches, time.perf_counter() - started)
