"""The HTTP/1.1 connection: uvicorn's httptools protocol with a deadline on the request's
headers, a cap on their size, and problem+json for the errors answered before any app runs.

uvicorn waits for headers without end and lets them grow without bound (llhttp has no limit of
its own); its parse errors are plain text. Here, on each connection:

- the request line and headers must be complete within `read_timeout` seconds of the
  connection's start or of the previous answer's end: past that a request begun is answered 408
  and the connection closed (an idle connection that sent nothing is closed without a word, as
  uvicorn's keep-alive timeout does);
- past `max_header_bytes` before the headers end, the answer is 431;
- a request that is not HTTP/1.1 as llhttp reads it is answered 400;
- a connection opened while `max_connections` others are open is answered 503 (Retry-After)
  as soon as its request begins to arrive, without reading it; the connections already open
  are served as before (uvicorn's own `limit_concurrency` would refuse their requests too);

each as a problem document, with `Connection: close`. The body's own deadline is checked once
the app runs (`linkflow.service.limits`), where the answer can go through the request log.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from linkflow.service.problems import problem_bytes

#: Seconds a client refused for the connection cap is asked to wait.
CAP_RETRY_AFTER = 1


class DeadlineProtocol(HttpToolsProtocol):
    """One connection; see the module's documentation."""

    def __init__(
        self,
        *args: Any,
        read_timeout: float = 10.0,
        max_header_bytes: int = 32768,
        max_connections: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.read_timeout = read_timeout
        self.max_header_bytes = max_header_bytes
        #: Connections open at once in this process (None: no cap); past it, 503.
        self.max_connections = max_connections
        self._over_cap = False
        self._header_timer: asyncio.TimerHandle | None = None
        #: Bytes received since the current request began, while its headers are incomplete;
        #: None while no request is being read (before one begins, or once its headers ended).
        self._header_bytes: int | None = None
        self._answered = False

    # -- the deadline ------------------------------------------------------------------------

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.read_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._header_bytes is None:
            self.transport.close()  # nothing of a request arrived: close without an answer
            return
        self._refuse(
            "request-timeout",
            f"the request's headers did not arrive within {self.read_timeout:g} s",
        )

    def _refuse(self, slug: str, detail: str, headers: dict[str, str] | None = None) -> None:
        if self._answered or self.transport.is_closing():
            return
        self._answered = True
        self._disarm()
        self.logger.info("refused a request before it reached the app: %s", slug)
        self.transport.write(problem_bytes(slug, detail, headers))
        self.transport.close()

    # -- uvicorn's protocol, extended --------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # adds this one to the server's open connections
        if self.max_connections is not None and len(self.connections) > self.max_connections:
            self._over_cap = True
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._answered:
            return
        if self._over_cap:
            self._refuse(
                "overloaded",
                f"more than {self.max_connections} connections are open; retry after "
                f"{CAP_RETRY_AFTER} s",
                {"Retry-After": str(CAP_RETRY_AFTER)},
            )
            return
        super().data_received(data)
        if self._header_bytes is not None:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(
                    "headers-too-large",
                    f"the request line and headers are larger than {self.max_header_bytes} bytes",
                )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0

    def on_headers_complete(self) -> None:
        self._header_bytes = None
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()  # the next request's headers have the same time

    def send_400_response(self, msg: str) -> None:
        self._refuse("invalid-request", "the request is not valid HTTP/1.1")
