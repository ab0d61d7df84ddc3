"""What one service process needs to know; plain data, so worker processes can receive it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

#: Where `--workers` processes find the configuration (JSON of ServiceConfig). The token is
#: never put here: each worker reads it from the token file or LINKFLOW_TOKEN itself.
CONFIG_ENV = "LINKFLOW_SERVICE_CONFIG"


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    workflow_paths: tuple[str, ...] = ("workflows",)
    store_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    token_file: str | None = None
    log_format: str = "text"
    #: Largest request body accepted, in bytes (413 above).
    max_body_bytes: int = 1024 * 1024
    #: Deepest nesting of a JSON body (arrays and objects) accepted.
    max_json_depth: int = 32
    #: Requests in flight before the service answers 503 with Retry-After.
    max_requests: int = 64
    #: Open /feed/stream connections before 503.
    max_streams: int = 16
    #: Seconds between two passes of the timer loop (0: no timer loop in this process).
    timer_interval: float = 0.5
    #: Longest sleep of the webhook deliverer between looks at the feed (0: no deliverer in
    #: this process; `linkflow webhooks run` may deliver instead).
    webhook_interval: float = 1.0
    #: Whether this process performs the outbox's effects (`linkflow serve --no-effects`
    #: leaves them to `linkflow worker` processes), and how many calls at once.
    effects: bool = True
    effects_concurrency: int = 32
    #: Seconds an SSE stream stays open before the client is asked to reconnect.
    stream_seconds: float = 30.0
    #: Most events committed in one transaction by the process's writer (group commit).
    max_batch: int = 64
    #: Events waiting for the writer before an event request is answered 503 with Retry-After.
    max_queued_events: int = 256
    #: Seconds a request has to arrive: its headers (from the connection's start or the end of
    #: the previous answer), then its body (from the end of the headers); 408 past either.
    read_timeout: float = 10.0
    #: Largest request line and headers accepted, in bytes (431 above).
    max_header_bytes: int = 32 * 1024
    #: Connections open at once per process; one more is answered 503 with Retry-After (the
    #: open ones are served on). Below the usual limit of 1024 open files per process, with
    #: room left for the store's connections and files.
    max_connections: int = 512
    #: Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        raw = json.loads(text)
        raw["workflow_paths"] = tuple(raw["workflow_paths"])
        raw["cors_origins"] = tuple(raw.get("cors_origins", ()))
        return cls(**raw)
