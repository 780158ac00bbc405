"""ARM path matching: case-insensitive literals, percent-decoded segments, one table.

ARM treats path segments case-insensitively and clients percent-encode `;` and spaces in
container and item names, so the path is split on '/' first and each segment decoded
after, once and as strict UTF-8: an encoded '/' (%2F) inside a name can never create a
segment, and '%252F' stays the five characters '%2F' (the app hands over the raw path as
sent, not the server's decoded one).

Every parameter of a matched route is checked before anything else sees it: at most
:data:`MAX_NAME` characters, no control characters, no '/' or '\\', not '.' or '..';
``subscriptionId`` is a GUID (``InvalidSubscriptionId``, as ARM answers); ``resourceGroupName``
follows ARM's rule (1-90 letters, digits, '_', '-', '.', '(', ')', not ending in '.').
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote_to_bytes

from strongbox.api.authz import action_for
from strongbox.api.call import Call, Reply
from strongbox.domain.errors import BadRequest, InvalidResourceName, MethodNotAllowed, PathNotFound

Handler = Callable[[Call], Reply]

MAX_NAME = 260                  # ARM's longest resource names; item names are ~180 at most
_GUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")
_RESOURCE_GROUP = re.compile(r"[-\w.()]{1,90}")


class InvalidSubscriptionId(BadRequest):
    """The provided subscription identifier '{subscription}' is malformed or invalid."""

    code = "InvalidSubscriptionId"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]
    handler: Handler
    public: bool = False        # served without a bearer token
    versioned: bool = True      # needs ?api-version= (ARM routes); strongbox's own routes do not
    action: str = ""            # the RBAC action a token's role must allow (api/authz.py)


def route(method: str, template: str, handler: Handler, *, public: bool = False, versioned: bool = True) -> Route:
    return Route(method, tuple(template.strip("/").split("/")), handler, public, versioned,
                 action_for(method, template))


def split_path(raw_path: str | bytes) -> list[str]:
    """The path as sent (bytes, or text: UTF-8 with percent-escapes) -> its segments, each
    percent-decoded once."""
    raw = raw_path if isinstance(raw_path, bytes) else raw_path.encode("utf-8", errors="replace")
    segments = []
    for seg in raw.strip(b"/").split(b"/"):
        try:
            text = unquote_to_bytes(seg).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidResourceName(name=seg.decode("latin-1")[:100], detail="it is not valid UTF-8") from None
        if any(unicodedata.category(c) == "Cc" for c in text):
            raise InvalidResourceName(name=text[:100].encode("unicode_escape").decode(),
                                      detail="control characters are not allowed")
        if text in ("..", ".") or "/" in text or "\\" in text:
            raise InvalidResourceName(name=text[:100], detail="'/', '\\', '.' and '..' are not allowed in a name")
        segments.append(text)
    return segments


def check_params(params: dict[str, str]) -> None:
    """The module docstring's rules for the parameters of a matched route."""
    for name, value in params.items():
        if len(value) > MAX_NAME:
            raise InvalidResourceName(name=value[:100] + "...", detail=f"a name has at most {MAX_NAME} characters")
        if name == "subscriptionId" and not _GUID.fullmatch(value):
            raise InvalidSubscriptionId(subscription=value[:100])
        if name == "resourceGroupName" and (not _RESOURCE_GROUP.fullmatch(value) or value.endswith(".")):
            raise InvalidResourceName(name=value[:100], detail="a resource group name has 1 to 90 letters, digits, "
                                                               "'_', '-', '.', '(' and ')', and does not end in '.'")


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for pat, seg in zip(pattern, segments):
        if pat.startswith("{") and pat.endswith("}"):
            if not seg:
                return None
            params[pat[1:-1]] = seg
        elif pat.lower() != seg.lower():
            return None
    return params


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def resolve(self, method: str, raw_path: str | bytes) -> tuple[Route, dict[str, str]]:
        """The route and its checked parameters for a path as sent (see :func:`split_path`)."""
        segments = split_path(raw_path)
        shown = "/" + "/".join(segments)
        shown = shown if len(shown) <= 300 else shown[:300] + "..."
        allowed: list[str] = []
        for r in self.routes:
            params = _match(r.pattern, segments)
            if params is None:
                continue
            if r.method == method:
                check_params(params)
                return r, params
            allowed.append(r.method)
        if allowed:
            raise MethodNotAllowed(method=method[:20], path=shown)
        raise PathNotFound(method=method[:20], path=shown)
