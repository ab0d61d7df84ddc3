"""Serving the app with uvicorn: one process, or `workers` processes on one socket.

uvicorn handles SIGTERM and SIGINT: it stops accepting connections, lets the requests in flight
finish (up to GRACE_SECONDS), then runs the app's shutdown, which stops the timer loop and closes
the store. Work that reached the store runs to its commit in a worker thread either way, so a
transaction is never left half done.

Connections are read by `linkflow.service.protocol.DeadlineProtocol` (uvicorn's httptools
protocol with a deadline on headers, a cap on their size, a cap on open connections
(`max_connections`, per process) and problem+json refusals).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import uvicorn

from linkflow.service.config import CONFIG_ENV, ServiceConfig
from linkflow.service.protocol import DeadlineProtocol
from linkflow.service.request_log import configure_logging

GRACE_SECONDS = 10

if TYPE_CHECKING:
    from linkflow.language.model import Workflow
    from linkflow.store import Store


def serve(
    config: ServiceConfig,
    token: str | None,
    workflows: Mapping[str, Workflow] | None = None,
    store: Store | None = None,
) -> None:
    """Run until SIGTERM or SIGINT. `workflows` and `store` (already open) spare the single
    process a second start; worker processes open their own from `config`."""
    configure_logging(config.log_format)
    protocol = functools.partial(
        DeadlineProtocol,
        read_timeout=config.read_timeout,
        max_header_bytes=config.max_header_bytes,
        max_connections=config.max_connections,
    )
    common = {
        "host": config.host,
        "port": config.port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": GRACE_SECONDS,
        "lifespan": "on",
        "http": protocol,
    }
    if config.workers > 1:
        if store is not None:
            store.close()
        os.environ[CONFIG_ENV] = config.to_json()
        uvicorn.run(
            "linkflow.service.app:app_from_environment",
            factory=True,
            workers=config.workers,
            **common,  # type: ignore[arg-type]
        )
        return
    from linkflow.service.app import create_app  # noqa: PLC0415 - the app: built here only in one process; with workers each worker builds its own
    from linkflow.service.studio_mount import with_studio  # noqa: PLC0415 - the app: built here only in one process; with workers each worker builds its own

    app = with_studio(
        config,
        lambda mounts: create_app(
            config, workflows=workflows, store=store, token=token, mounts=mounts
        ),
    )
    uvicorn.run(app, **common)  # type: ignore[arg-type]
