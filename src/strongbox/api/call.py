"""One ARM request as handlers see it (``Call``) and what they answer (``Reply``).

Handlers are plain synchronous functions ``(Call) -> Reply`` named after the Azure
operation they serve; they run in a thread so that database and disk work never blocks
the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from strongbox.api.authz import authorize, check_resource_group, in_scope, resource_group_of
from strongbox.api.bodies import decode_json
from strongbox.services.context import ServiceContext
from strongbox.services.tokens import Principal


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]          # keys lower-cased ($filter -> "$filter")
    raw_body: bytes
    api_version: str
    base_url: str                  # scheme://host[:port], no trailing slash
    principal: Principal | None
    ctx: ServiceContext

    def json(self, *, required: bool = True) -> dict[str, Any]:
        """The body as a JSON object, within :func:`strongbox.api.bodies.decode_json`'s limits."""
        return decode_json(self.raw_body, required=required)

    def url(self, path: str, **query: str) -> str:
        """An absolute URL on this server that carries the caller's api-version."""
        q = {"api-version": self.api_version, **query}
        return f"{self.base_url}{quote(path, safe='/;:=,@')}?{urlencode(q, quote_via=quote)}"

    def async_headers(self, *, location: str, async_operation: str | None = None) -> dict[str, str]:
        headers = {"Location": self.url(location), "Retry-After": str(self.ctx.limits.retry_after)}
        if async_operation is not None:
            headers["Azure-AsyncOperation"] = self.url(async_operation)
        return headers

    def authorize(self, action: str) -> None:
        """Require the caller's role to allow ``action`` too (a write judged by its body)."""
        if self.principal is not None:
            authorize(self.principal, action, self.path)

    def check_scope(self, resource_id: str | None) -> None:
        """403 unless the resource a body names (a restore location, a target resource group)
        lies in the caller's resource group, for a token scoped to one."""
        rg = resource_group_of(resource_id) if resource_id else None
        if self.principal is not None and rg is not None:
            check_resource_group(self.principal, rg, resource_id or "")

    def visible(self, resource_group: str) -> bool:
        """Whether a resource group's resources belong in this caller's lists."""
        return in_scope(self.principal, resource_group)

    @property
    def filter(self) -> str | None:
        return self.query.get("$filter")

    @property
    def skip_token(self) -> str | None:
        return self.query.get("$skiptoken")
