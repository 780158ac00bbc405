"""ARM path matching: case-insensitive literals, percent-decoded segments, one table.

ARM treats path segments case-insensitively and clients percent-encode `;` and spaces in
container and item names, so the path is split on '/' first and each segment decoded
after: an encoded '/' (%2F) inside a name can never create a segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from strongbox.api.call import Call, Reply
from strongbox.domain.errors import InvalidResourceName, MethodNotAllowed, PathNotFound

Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]
    handler: Handler
    public: bool = False        # served without a bearer token
    versioned: bool = True      # needs ?api-version= (ARM routes); strongbox's own routes do not


def route(method: str, template: str, handler: Handler, *, public: bool = False, versioned: bool = True) -> Route:
    return Route(method, tuple(template.strip("/").split("/")), handler, public, versioned)


def split_path(raw_path: str) -> list[str]:
    segments = []
    for seg in raw_path.strip("/").split("/"):
        text = unquote(seg, errors="strict") if "%" in seg else seg
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise InvalidResourceName(name=text.encode("unicode_escape").decode(),
                                      detail="control characters are not allowed")
        if text in ("..", ".") or "/" in text or "\\" in text:
            raise InvalidResourceName(name=text, detail="'/', '\\', '.' and '..' are not allowed in a name")
        segments.append(text)
    return segments


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

    def resolve(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        try:
            segments = split_path(raw_path)
        except UnicodeDecodeError:
            raise InvalidResourceName(name=raw_path[:200], detail="the path is not valid UTF-8") from None
        allowed: list[str] = []
        for r in self.routes:
            params = _match(r.pattern, segments)
            if params is None:
                continue
            if r.method == method:
                return r, params
            allowed.append(r.method)
        if allowed:
            raise MethodNotAllowed(method=method, path=raw_path)
        raise PathNotFound(method=method, path=raw_path)
