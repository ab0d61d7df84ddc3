"""One structured log line per request, and the last net under every request.

The line holds the method, the route template (`/instances/{id}`, not the path as sent), the
status, the duration and the instance id: never a header, a query string or a body, so neither a
token nor a payload secret can reach the log. An exception that escapes a handler becomes a 500
problem document (no traceback to the client) and is logged by class name only.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linkflow.service.problems import problem_response

LOGGER = "linkflow.service"
#: The scope key holding the request's arrival (`time.perf_counter()`), for the event latency.
STARTED_KEY = "linkflow.started"
#: Path parameters worth a field of their own in the log line: (parameter, field).
_PARAMS = (("id", "instance"), ("name", "workflow"))


#: What `json.dumps(..., separators=(",", ":"), default=str)` uses, made once, not per line.
_LINE = json.JSONEncoder(separators=(",", ":"), default=str)


class JsonFormatter(logging.Formatter):
    """A JSON object per line: the record's fields plus time, level and message."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        return _LINE.encode(out)


class TextFormatter(logging.Formatter):
    """`key=value` pairs; values with spaces or control characters are quoted and escaped."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))]
        parts.append(record.levelname.lower())
        parts.append(_text_value(record.getMessage()))
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            parts.extend(f"{key}={_text_value(value)}" for key, value in fields.items())
        return " ".join(parts)


def _text_value(value: Any) -> str:
    text = str(value)
    if text and text.isprintable() and " " not in text and '"' not in text:
        return text
    return json.dumps(text)


def configure_logging(log_format: str) -> logging.Logger:
    """The service logger, writing to stderr in `text` or `json`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    # uvicorn's own lines (listening, shutting down) go the same way, in the same format.
    # And the PostgreSQL driver's warnings (a pool that cannot reconnect while a database fails
    # over says so about once a second), which would otherwise reach stderr as bare text. Every
    # other `linkflow.*` logger (the webhook deliverer's) reaches the same handler through
    # `linkflow`.
    levels = {
        LOGGER: logging.INFO,
        "linkflow": logging.INFO,
        "uvicorn.error": logging.INFO,
        "psycopg": logging.WARNING,
    }
    for name, level in levels.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    return logging.getLogger(LOGGER)


_LOGGER = logging.getLogger(LOGGER)


def log_event(message: str, level: int = logging.INFO, **fields: Any) -> None:
    """One line of the service's log. The record is made and handed over directly: neither
    formatter shows a source line, so the stack walk of `Logger.log` (findCaller, about a
    third of a request line's cost) is skipped."""
    if _LOGGER.isEnabledFor(level):
        record = _LOGGER.makeRecord(
            LOGGER, level, "(unknown file)", 0, message, (), None, extra={"fields": fields}
        )
        _LOGGER.handle(record)


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(no route)"


class RequestLog:
    """ASGI middleware: times the request, logs one line, turns escapes into a 500 problem,
    and tells `on_request` (the metrics' request counter) the method, route template and
    status of every HTTP request, in the same layer (one wrapper of `send`, not two)."""

    def __init__(
        self, app: ASGIApp, on_request: Callable[[str, str, int], None] | None = None
    ) -> None:
        self.app = app
        self.on_request = on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        scope[STARTED_KEY] = start
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        error = ""
        try:
            await self.app(scope, receive, send_status)
        except Exception as err:
            error = type(err).__name__
            if status == 0:
                response = problem_response(
                    "internal-error", "the request failed inside the service; nothing was changed"
                )
                await response(scope, receive, send_status)
        finally:
            method, route = scope.get("method", ""), route_of(scope)
            if self.on_request is not None:
                self.on_request(method, route, status)
            fields: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            }
            params = scope.get("path_params") or {}
            for param, name in _PARAMS:
                if param in params:
                    fields[name] = str(params[param])[:200]
            if error:
                fields["error"] = error
            level = logging.ERROR if status >= 500 and error else logging.INFO
            log_event("request", level, **fields)
