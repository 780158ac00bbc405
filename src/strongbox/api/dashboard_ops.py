"""The web dashboard's static files (``src/strongbox/dashboard``), served under ``/dashboard/``.

Public routes without an api-version: the page holds no data; it signs in with a token the
user pastes and then calls the ARM API like any other client. Only the files named in
:data:`FILES` are served (a fixed list, never a path joined from the request), each with its
own Content-Type, a strict Content-Security-Policy (everything from this origin only, no
inline script or style, no frames), ``X-Content-Type-Options: nosniff`` and no referrer.
The app adds ``Cache-Control: no-cache`` to every answer, so a browser revalidates after
an upgrade instead of running an old script against a new server.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from strongbox.api.call import Call, Reply
from strongbox.domain.errors import PathNotFound

INDEX = "index.html"
FILES = {
    INDEX: "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=None)
def _read(name: str) -> bytes:
    return (files("strongbox") / "dashboard" / name).read_bytes()


def _serve(name: str) -> Reply:
    return Reply(200, _read(name), {**HEADERS, "Content-Type": FILES[name]})


def dashboard_index(call: Call) -> Reply:
    """``GET /dashboard`` and ``/dashboard/``: the page."""
    return _serve(INDEX)


def dashboard_file(call: Call) -> Reply:
    """``GET /dashboard/{fileName}``: one of :data:`FILES`, else 404 like any unknown path."""
    name = call.params["fileName"]
    if name not in FILES:
        raise PathNotFound(method=call.method, path=call.path[:300])
    return _serve(name)
