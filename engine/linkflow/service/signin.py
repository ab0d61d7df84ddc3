"""Signing a browser in to the studio of a service that needs a token.

A browser cannot add `Authorization: Bearer` to a page it navigates to, so the studio would be
closed to people whenever the service has a token. The sign-in page takes the token once, in a
form, and answers with a session cookie that opens the studio's paths only (the API still needs
the header). The cookie holds an HMAC of the token, not the token: a copy of the cookie cannot be
turned back into the token that opens the API. It is HttpOnly (no script reads it) and
SameSite=Strict (no other site's page can make the browser send it), which is what keeps the
studio's JSON posts safe from cross-site requests.

The page echoes nothing the browser sent, and a wrong token is logged without its value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import parse_qs

from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import Receive, Scope

from linkflow.service.request_log import log_event

SIGNIN_PATH = "/signin"
STUDIO_PREFIX = "/studio"
COOKIE = "linkflow_studio"
#: A sign-in form holds one token: anything longer is not one.
MAX_FORM_BYTES = 4096
_PURPOSE = b"linkflow studio session v1"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>linkflow studio: sign in</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center;
  min-height: 100vh; background: #f6f7f9; color: #1d2330; }}
form {{ background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002;
  width: min(26rem, 90vw); }}
h1 {{ font-size: 1.3rem; margin: 0 0 .5rem; }}
label {{ display: block; margin: 1rem 0 .3rem; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }}
button {{ margin-top: 1rem; padding: .5rem 1.2rem; font: inherit; }}
.error {{ color: #a4161a; }}
</style></head>
<body><form method="post" action="{action}">
<h1>linkflow studio</h1>
<p>This service needs its access token. It is checked once; the browser then keeps a session
cookie for the studio only.</p>
{error}<label for="token">Service token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button id="signin" type="submit">Sign in</button>
</form></body></html>
"""


def session_value(token: str) -> str:
    """The cookie's value for a token: keyed by the token, so it changes when the token does."""
    return hmac.new(token.encode("utf-8"), _PURPOSE, hashlib.sha256).hexdigest()


def has_session(scope: Scope, expected: str) -> bool:
    """Whether the request carries the studio cookie for this token (constant-time)."""
    for name, value in scope["headers"]:
        if name != b"cookie":
            continue
        for part in value.split(b";"):
            key, _, sent = part.strip().partition(b"=")
            if key == COOKIE.encode() and hmac.compare_digest(sent, expected.encode()):
                return True
    return False


def wants_page(scope: Scope) -> bool:
    """A browser navigating (GET asking for HTML), which is sent to the sign-in page."""
    if scope["method"] != "GET":
        return False
    accept = next((v for n, v in scope["headers"] if n == b"accept"), b"")
    return b"text/html" in accept


def _root(scope: Scope) -> str:
    return str(scope.get("root_path", ""))


def signin_page(scope: Scope, error: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="error" id="signin-error">{error}</p>\n' if error else ""
    page = _PAGE.format(action=_root(scope) + SIGNIN_PATH, error=shown)
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    return HTMLResponse(page, status_code=status, headers=headers)


def to_signin(scope: Scope) -> Response:
    return RedirectResponse(_root(scope) + SIGNIN_PATH, status_code=303)


async def _form_token(receive: Receive) -> str | None:
    """The `token` field of a url-encoded form, or None when the body is too big or has none."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = bool(message.get("more_body"))
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=4)
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get("token") or [""]
    return values[0].strip()


async def signin(scope: Scope, receive: Receive, token: str) -> Response:
    """GET: the form. POST: check the token; right, a cookie and on to the studio."""
    if scope["method"] == "GET":
        return signin_page(scope)
    if scope["method"] != "POST":
        return Response(status_code=405, headers={"Allow": "GET, POST"})
    sent = await _form_token(receive)
    if sent is None or not hmac.compare_digest(sent.encode("utf-8"), token.encode("utf-8")):
        reason = "sign-in form too large or malformed" if sent is None else "wrong sign-in token"
        log_event("unauthorized", logging.WARNING, method="POST", reason=reason)
        return signin_page(scope, "That is not the service's token.", status=401)
    response = RedirectResponse(_root(scope) + STUDIO_PREFIX + "/", status_code=303)
    response.set_cookie(
        COOKIE,
        session_value(token),
        path=_root(scope) + STUDIO_PREFIX,
        httponly=True,
        samesite="strict",
        secure=scope.get("scheme") == "https",
    )
    log_event("studio sign-in", logging.INFO)
    return response
