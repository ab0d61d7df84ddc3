"""What keeps other web pages out of the studio: a per-launch token, the Host, the Origin, the
Content-Type, and the security headers on every answer.

The rule, for a studio that keeps its own token (`linkflow studio`, and the studio mounted by a
`linkflow serve` that has no service token):

- Every launch draws a token (`secrets.token_urlsafe(32)`) and prints its URL, as Jupyter does:
  `http://127.0.0.1:8765/?token=...`. The first visit with the right `?token=` gets a cookie
  (HttpOnly, SameSite=Strict, an HMAC of the token, named after the port so two studios on
  one machine keep theirs apart) and a redirect to the same URL without the token. A wrong
  token is a 403.
- Every API request (`/api/...`) needs that cookie, reads included; the page itself without it
  answers 403 with how to open it. The static files (script, style) are open: they hold nothing.
- The Host header must name a loopback address (127.0.0.1, localhost, [::1], any port) or a
  name given with `--allow-host`, for every request: a page on a rebound DNS name
  (`evil.example` pointing at 127.0.0.1) gets 403 before it reaches anything.

And for every studio, whoever checks the caller:

- A request that changes something (any method but GET/HEAD/OPTIONS) must say
  `Content-Type: application/json` (else 415), which no form and no `no-cors` fetch can send;
  and it must carry an `Origin` equal to the studio's own origin, or, when it has no Origin
  (a client that is not a browser: curl, a test), the header `X-Linkflow-Studio: 1`, which a
  page on another origin cannot add without a CORS preflight the studio never grants.
  A browser always sends Origin with a POST, so the page's own fetches pass on the first rule.
- Every answer carries a Content-Security-Policy with no inline script or style
  (`default-src 'self'`, `frame-ancestors 'none'`), `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`.

Mounted in a `linkflow serve` that has a service token, the service's own access check
(linkflow.service.access: the bearer header or the sign-in cookie) has already let the request
in; the studio then keeps no token of its own and checks no Host (the service may listen on a
named address), but still the Content-Type, the Origin and the headers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_PARAM = "token"
COOKIE_PREFIX = "linkflow_studio_token"
WRITE_HEADER = b"x-linkflow-studio"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PURPOSE = b"linkflow studio launch v1"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Access:
    """Who may use a studio: `token`, the per-launch token (None: someone in front of the
    studio checks the caller); `allowed_hosts`, Host names beyond the loopback ones;
    `check_host`, whether to check the Host at all."""

    token: str | None = field(default_factory=new_token)
    allowed_hosts: tuple[str, ...] = ()
    check_host: bool = True

    def url(self, base: str) -> str:
        """The launch URL: `base` with the token, when there is one."""
        return f"{base}?{TOKEN_PARAM}={self.token}" if self.token else base


def session_value(token: str) -> str:
    """The cookie's value for a token: an HMAC of it, so the cookie is not the token."""
    return hmac.new(token.encode(), _PURPOSE, hashlib.sha256).hexdigest()


def cookie_name(port: int | None) -> str:
    """Named after the port: cookies do not tell ports apart, two studios must."""
    return f"{COOKIE_PREFIX}_{port}" if port else COOKIE_PREFIX


def host_name(host: str) -> str:
    """`127.0.0.1:8765` -> `127.0.0.1`, `[::1]:8765` -> `[::1]`, `Localhost.` -> `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else host
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


class Guard:
    """ASGI middleware in front of the studio app (see the module's rule)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allowed_hosts: Iterable[str] = (),
        check_host: bool = True,
    ) -> None:
        self.app = app
        #: The per-launch token; None when someone else (the service) checks the caller.
        self.token = token
        self.session = session_value(token) if token else ""
        self.allowed_hosts = LOOPBACK_NAMES | {host_name(h) for h in allowed_hosts}
        self.check_host = check_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    def refusal(self, scope: Scope) -> ASGIApp | None:
        """The answer that refuses this request, or None to let it through: the checks in
        order (where it was sent, who sends it, what it writes), the first refusal wins."""
        headers = _headers(scope)
        host = headers.get(b"host", b"").decode("latin-1")
        if self.check_host and host_name(host) not in self.allowed_hosts:
            return _problem(
                403,
                "host",
                "this studio answers only on a loopback address (`linkflow studio "
                "--allow-host NAME` opens it under another name)",
            )
        if self.token is not None:
            caller = self._caller_refusal(scope, headers)
            if caller is not None:
                return caller
        if scope["method"] in SAFE_METHODS:
            return None
        return _write_refusal(scope, headers, host)

    def _caller_refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> ASGIApp | None:
        """A visit with `?token=` is exchanged for the cookie; without the cookie, only the
        static files answer."""
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if TOKEN_PARAM in query and scope["method"] in ("GET", "HEAD"):
            return self._exchange(scope, query)
        if not self._has_session(headers, scope) and not _paths(scope)[1].startswith("/static/"):
            return _problem(
                403,
                "token",
                "open the studio with the URL it printed at launch (…/?token=…); "
                "the page then keeps a cookie",
            )
        return None

    def cookie_name(self, scope: Scope) -> str:
        server = scope.get("server") or (None, None)
        return cookie_name(server[1] if len(server) > 1 else None)

    def _has_session(self, headers: dict[bytes, bytes], scope: Scope) -> bool:
        name = self.cookie_name(scope).encode()
        for part in headers.get(b"cookie", b"").split(b";"):
            key, _, sent = part.strip().partition(b"=")
            if key == name and hmac.compare_digest(sent, self.session.encode()):
                return True
        return False

    def _exchange(self, scope: Scope, query: dict[str, str]) -> ASGIApp:
        """`?token=` on a visit: the right one sets the cookie and redirects without it."""
        assert self.token is not None
        if not hmac.compare_digest(query[TOKEN_PARAM].encode(), self.token.encode()):
            return _problem(403, "token", "this is not the token the studio printed at launch")
        rest = {k: v for k, v in query.items() if k != TOKEN_PARAM}
        root = str(scope.get("root_path", ""))
        location = _paths(scope)[0] + (f"?{urlencode(rest)}" if rest else "")
        cookie = (
            f"{self.cookie_name(scope)}={self.session}; Path={root or '/'}; HttpOnly; "
            "SameSite=Strict"
        )

        async def redirect(scope: Scope, receive: Receive, send: Send) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", location.encode("latin-1")),
                        (b"set-cookie", cookie.encode("latin-1")),
                        (b"cache-control", b"no-store"),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})

        return redirect


def _paths(scope: Scope) -> tuple[str, str]:
    """The request's full path and its path inside the studio: mounted (at `root_path`),
    Starlette keeps the full path in `path`, other servers may not."""
    root = str(scope.get("root_path", ""))
    path = str(scope["path"])
    full = path if root and path.startswith(root) else root + path
    return full, full[len(root) :] or "/"


def _headers(scope: Scope) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name == b"cookie" and name in found:
            found[name] += b"; " + value
        else:
            found.setdefault(name, value)
    return found


def _problem(status: int, field: str, message: str) -> ASGIApp:
    """A refusal: JSON with the reason and the field (header, cookie) at fault; a browser
    navigating to a page (asking for HTML) gets the reason as plain text to read."""
    as_json = json.dumps({"error": message, "field": field}, ensure_ascii=False).encode()
    as_text = f"linkflow studio: {message}\n".encode()

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        page = b"text/html" in _headers(scope).get(b"accept", b"")
        body, kind = (as_text, b"text/plain") if page else (as_json, b"application/json")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", kind + b"; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return answer


def _write_refusal(scope: Scope, headers: dict[bytes, bytes], host: str) -> ASGIApp | None:
    """A request that changes something: JSON, from this studio's own page (its Origin), or
    from a client that says so with X-Linkflow-Studio (a browser always sends Origin)."""
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"application/json":
        return _problem(415, "Content-Type", "send the body as Content-Type: application/json")
    origin = headers.get(b"origin")
    if origin is None:
        if headers.get(WRITE_HEADER) == b"1":
            return None
        return _problem(
            403,
            "Origin",
            "a request that changes something needs an Origin header of this studio, "
            "or X-Linkflow-Studio: 1",
        )
    own = f"{scope.get('scheme', 'http')}://{host}".lower().encode("latin-1")
    if origin.lower() != own:
        return _problem(403, "Origin", "this request came from another site's page")
    return None
