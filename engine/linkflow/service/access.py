"""Bearer-token access: required whenever the service listens beyond the loopback interface.

The token is compared in constant time (`hmac.compare_digest`), so the time to refuse says
nothing about how much of a guess was right. A refusal is logged without the token sent.
The probes (`/healthz`, `/readyz`) stay open so that an orchestrator can call them, and so does
the studio's sign-in page.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from linkflow.service import signin
from linkflow.service.problems import problem_response
from linkflow.service.request_log import log_event

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
TOKEN_ENV = "LINKFLOW_TOKEN"
MIN_TOKEN_LENGTH = 16


class TokenError(ValueError):
    """The token configuration cannot be used (missing, unreadable, too short)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(token_file: str | None) -> str | None:
    """The token from `--token-file`, else from LINKFLOW_TOKEN, else None."""
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or "not UTF-8 text"
            raise TokenError(f"cannot read the token file {token_file}: {reason}") from None
        source = f"the token file {token_file}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            return None
        source = TOKEN_ENV
    if len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise TokenError(
            f"{source} must hold one token of at least {MIN_TOKEN_LENGTH} printable characters "
            "without spaces"
        )
    return token


def bearer_credentials(header: bytes) -> bytes:
    """The token of an `Authorization: Bearer <token>` header; the scheme's name is
    case-insensitive (RFC 9110, 11.1). Empty for any other header."""
    scheme, _, credentials = header.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return b""
    return credentials.strip(b" ")


class BearerAuth:
    """ASGI middleware: every request but the probes carries `Authorization: Bearer <token>`.
    The studio's pages also take the session cookie of the sign-in page (linkflow.service.signin),
    since a browser cannot send the header when it navigates; the API never does."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.expected = token.encode("utf-8")
        self.session = signin.session_value(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["path"] == signin.SIGNIN_PATH:
            await (await signin.signin(scope, receive, self.token))(scope, receive, send)
            return
        studio = scope["path"] == signin.STUDIO_PREFIX or scope["path"].startswith(
            signin.STUDIO_PREFIX + "/"
        )
        if studio and signin.has_session(scope, self.session):
            await self.app(scope, receive, send)
            return
        sent = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                sent = value
                break
        if hmac.compare_digest(bearer_credentials(sent), self.expected):
            await self.app(scope, receive, send)
            return
        if studio and not sent and signin.wants_page(scope):
            await signin.to_signin(scope)(scope, receive, send)
            return
        reason = "no Authorization header" if not sent else "wrong or malformed token"
        log_event("unauthorized", logging.WARNING, method=scope["method"], reason=reason)
        response = problem_response(
            "unauthorized",
            "send the service token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="linkflow"'},
        )
        await response(scope, receive, send)
