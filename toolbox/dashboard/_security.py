"""Access and browser-side hardening: the token, the Host and Origin checks, the Content-Security-Policy.

* Bound to a loopback address, the dashboard answers only requests whose
  ``Host`` is a loopback name (a page elsewhere cannot reach it through DNS
  rebinding). Bound elsewhere, it needs the token printed at start: given once
  as ``?token=``, it becomes an HttpOnly, SameSite=Strict cookie, and is then
  checked on every HTTP request and WebSocket handshake (``Authorization:
  Bearer`` works too).
* A WebSocket handshake whose ``Origin`` is not the dashboard's own is refused.
* Every response forbids other origins (CSP ``default-src 'self'``), framing,
  sniffing and referrers.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["CSP", "SecurityMiddleware", "is_loopback", "new_token"]

COOKIE = "toolbox_dashboard_token"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-resource-policy", b"same-origin")]
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def new_token() -> str:
    """A fresh random token (192 bits)."""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) is this machine only."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    """The name in a ``Host`` header, without the port."""
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class SecurityMiddleware:
    """ASGI middleware: Host, Origin and token checks, and the hardening headers (see the module docstring).

    Parameters
    ----------
    app : ASGI app
    token : str or None
        Required on every request when given.
    loopback_only : bool
        Answer only requests addressed to a loopback name.
    """

    def __init__(self, app: Any, *, token: str | None, loopback_only: bool) -> None:
        self.app, self.token, self.loopback_only = app, token, loopback_only

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if self.loopback_only and _host_name(host).lower() not in _LOOPBACK_NAMES:
            await self._refuse(scope, receive, send, 421, "This dashboard answers on 127.0.0.1 / localhost only.")
            return
        if scope["type"] == "websocket":
            origin = headers.get("origin")
            if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
                await self._refuse(scope, receive, send, 403, "Cross-origin WebSocket refused.")
                return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        if self.token is not None:
            given = query.get("token") or _cookie(headers.get("cookie", "")) or _bearer(headers.get("authorization"))
            if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
                await self._refuse(scope, receive, send, 401,
                                   "This dashboard needs its token: open the URL printed when it started.")
                return
            if scope["type"] == "http" and "token" in query and scope.get("method") == "GET":
                rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                location = scope.get("path", "/") + (f"?{rest}" if rest else "")
                await send({"type": "http.response.start", "status": 303, "headers": [
                    (b"location", location.encode()), (b"content-length", b"0"),
                    (b"set-cookie", f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()),
                    *HEADERS]})
                await send({"type": "http.response.body", "body": b""})
                return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: dict, receive: Any, send: Any, status: int, text: str) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        body = text.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), *HEADERS]})
        await send({"type": "http.response.body", "body": body})


def _cookie(header: str) -> str | None:
    c: SimpleCookie = SimpleCookie()
    try:
        c.load(header)
    except Exception:
        return None
    m = c.get(COOKIE)
    return m.value if m is not None else None


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None
