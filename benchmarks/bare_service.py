"""The anchor of the service figure: a bare Starlette + uvicorn app doing the bare commit.

The least an HTTP service that durably records an event can do: uvicorn with the same httptools
protocol and event loop as `linkflow serve`, one Starlette route, the JSON body parsed, the bare
SQLite commit of `benchmarks.store` (BEGIN IMMEDIATE, an update, an insert, COMMIT on WAL with
synchronous=FULL) in a worker thread, and a small JSON answer. No middleware, no validation, no
log line. Each worker thread has its own connection, so at 8 clients they contend for SQLite's
write lock (busy timeout 30 s) as independent requests do.

`POST /instances` answers an id (the figure's clients start one instance each);
`POST /instances/{id}/events` commits. Run as `python -m benchmarks.bare_service PORT DB`.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from itertools import count

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_local = threading.local()
_ids = count(1)


def _connection(path: str) -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        _local.conn = conn
    return conn


def _prepare(path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS state (id TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, state TEXT, value TEXT)")
    conn.close()


def _commit(path: str, ident: str, event: str) -> int:
    conn = _connection(path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (ident, event))
    seq = conn.execute("INSERT INTO log (state, value) VALUES (?, ?)", (ident, event)).lastrowid
    conn.execute("COMMIT")
    return seq or 0


def make_app(path: str) -> Starlette:
    _prepare(path)

    async def start(request: Request) -> JSONResponse:
        await request.json()
        return JSONResponse({"id": f"bare-{next(_ids)}"}, status_code=201)

    async def event(request: Request) -> JSONResponse:
        body = await request.json()
        ident = request.path_params["id"]
        seq = await run_in_threadpool(_commit, path, ident, str(body["event"]))
        return JSONResponse({"accepted": True, "instance": {"id": ident, "version": seq}})

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[
            Route("/instances", start, methods=["POST"]),
            Route("/instances/{id}/events", event, methods=["POST"]),
            Route("/readyz", ready, methods=["GET"]),
        ]
    )


def main(argv: list[str]) -> None:
    port, path = int(argv[0]), argv[1]
    uvicorn.run(
        make_app(path),
        host="127.0.0.1",
        port=port,
        http="httptools",
        log_config=None,
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
