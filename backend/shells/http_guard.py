"""Who may talk to the HTTP bridge: the page this server served, and nobody else.

Checked before a request's body is looked at, so a refused request does nothing:
- Host must be ``127.0.0.1:PORT`` or ``localhost:PORT`` (a DNS-rebinding page sends its own name).
- Origin, when present, must be this server's (a cross-site ``fetch`` or form sends its own);
  ``Sec-Fetch-Site``, when present, must be ``same-origin`` or ``none`` (typed in the address bar).
- Every ``/api/`` request carries the per-launch token, compared in constant time: in the
  ``X-Image-Optimizer-Token`` header, or for GET only (``EventSource`` and download links cannot
  set headers) in the ``token`` query parameter. POSTs need the header, which no cross-site form
  can set.
The page and its static files need no token (they hold no secret; the token comes in the URL).
"""

from __future__ import annotations

import hmac

from flask import Request

TOKEN_HEADER = "X-Image-Optimizer-Token"
_ALLOWED_FETCH_SITES = {"same-origin", "none"}


class Guard:
    def __init__(self, token: str, port: int) -> None:
        self._token = token.encode()
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    def refusal(self, request: Request) -> str | None:
        """Why this request is refused, or None when it may proceed."""
        host = (request.headers.get("Host") or "").lower()
        if host not in self.hosts:
            return f"Host {host or '(none)'!r} is not this server"
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self.origins:
            return f"Origin {origin!r} is not this server"
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site.lower() not in _ALLOWED_FETCH_SITES:
            return f"cross-site request ({fetch_site}) refused"
        if request.path.startswith("/api/") and not self._token_ok(request):
            return "missing or wrong token"
        return None

    def _token_ok(self, request: Request) -> bool:
        given = request.headers.get(TOKEN_HEADER)
        if given is None and request.method == "GET":
            given = request.args.get("token")
        if not given:
            return False
        return hmac.compare_digest(given.encode(), self._token)
