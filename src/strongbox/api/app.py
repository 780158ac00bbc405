"""The ARM HTTP face: one Starlette endpoint that authenticates, checks the api-version,
dispatches through the route table, and dresses every answer in ARM's manners.

Every response carries ``x-ms-request-id``, the echoed ``x-ms-client-request-id``,
``x-ms-correlation-request-id``, ``x-ms-ratelimit-remaining-subscription-reads``/``-writes``
and ``Cache-Control: no-cache``; every error is ``{"error": {"code", "message"}}`` from the
error's own class. An unexpected exception is logged and answered as a CloudError, never a
traceback.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from strongbox.api.audit_trail import AUDITED_METHODS, record as record_audit
from strongbox.api.authz import authorize, check_resource_group, resource_groups_named
from strongbox.api.budgets import RequestBudgets
from strongbox.api.call import Call, Reply
from strongbox.api.filters import check_query
from strongbox.api.metrics import Metrics
from strongbox.api.router import Router
from strongbox.domain.errors import (
    AuthenticationFailed,
    InvalidApiVersion,
    MissingApiVersion,
    NotFound,
    RequestTooLarge,
    StrongboxError,
)
from strongbox.services.audit import AuditLog
from strongbox.services.context import ServiceContext
from strongbox.services.tokens import Principal, TokenService

log = logging.getLogger("strongbox.api")

MAX_BODY = 1024 * 1024
_VERSION = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(-preview)?")
OLDEST_VERSION, NEWEST_VERSION = "2016-06-01", "2026-11-01"


class SubscriptionNotFound(NotFound):
    """The subscription '{subscription}' could not be found."""

    code = "SubscriptionNotFound"


def check_api_version(value: str | None) -> str:
    if value is None or value == "":
        raise MissingApiVersion()
    m = _VERSION.fullmatch(value)
    if not m or not (OLDEST_VERSION <= value[:10] <= NEWEST_VERSION) or not (1 <= int(m.group(2)) <= 12) \
            or not (1 <= int(m.group(3)) <= 31):
        raise InvalidApiVersion(version=value[:40])
    return value


def error_body(err: StrongboxError) -> dict[str, Any]:
    return {"error": {"code": err.code, "message": err.message}}


class ArmApp:
    def __init__(self, ctx: ServiceContext, router: Router, tokens: TokenService, *,
                 budgets: RequestBudgets | None = None, hsts_seconds: int = 31_536_000,
                 audit: AuditLog | None = None, metrics: Metrics | None = None) -> None:
        self.ctx, self.router, self.tokens = ctx, router, tokens
        self.audit = audit      # every mutating request is recorded here (api/audit_trail.py)
        self.metrics = metrics  # request latency by route template (api/metrics.py)
        self.budgets = budgets or RequestBudgets()
        self.hsts_seconds = hsts_seconds

    def asgi(self) -> Starlette:
        methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
        return Starlette(routes=[StarletteRoute("/{path:path}", self.endpoint, methods=methods)],
                         exception_handlers={HTTPException: self._unrouted})

    async def _unrouted(self, request: Request, exc: Exception) -> Response:
        """Starlette's own 404/405: its route pattern stops at a newline in the (decoded) path and
        its method list is finite. Such requests go through the endpoint like all others, so that
        their errors are CloudErrors too (InvalidResourceName, MethodNotAllowed)."""
        return await self.endpoint(request)

    async def endpoint(self, request: Request) -> Response:
        started = time.perf_counter()
        client_request_id = request.headers.get("x-ms-client-request-id", "")
        correlation_id = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        try:
            reply = await self._handle(request)
        except StrongboxError as err:
            reply = Reply(err.http_status, error_body(err), dict(err.headers))
            if err.http_status == 401:
                reply.headers["WWW-Authenticate"] = 'Bearer authorization_uri="", error="invalid_token"'
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            reply = Reply(500, {"error": {"code": "InternalServerError",
                                          "message": "The server met an unexpected error; see the server log."}})
        response = self._respond(request, reply, client_request_id, correlation_id)
        if self.audit is not None and request.method in AUDITED_METHODS:
            await record_audit(self.audit, request, response, self.router, self.tokens)
        if self.metrics is not None:
            self.metrics.observe_request(request.method, getattr(request.state, "route_template", None),
                                         response.status_code, time.perf_counter() - started)
        return response

    async def _handle(self, request: Request) -> Reply:
        # the path as sent: the router decodes each segment once (url.path is decoded already)
        route, params = self.router.resolve(request.method, request.scope.get("raw_path") or request.url.path)
        request.state.route_template = "/" + "/".join(route.pattern)
        request.state.route = route
        principal = None if route.public else self._authenticate(request)
        if principal is not None:
            request.state.principal = principal
            # The caller's own budget pays, whatever the path names (and nobody else's leaks).
            request.state.remaining = self.budgets.spend(principal.subscription, request.method)
            if "subscriptionId" in params and params["subscriptionId"].lower() != principal.subscription.lower():
                # Another tenant's subscription does not exist, as far as this token can tell.
                raise SubscriptionNotFound(subscription=params["subscriptionId"])
            for scope in resource_groups_named(params):
                check_resource_group(principal, scope, request.url.path)
            authorize(principal, route.action, request.url.path)
        query = {k.lower(): v for k, v in request.query_params.items()}
        check_query(query)
        api_version = "" if route.public or not route.versioned else check_api_version(query.get("api-version"))
        body = await self._read_body(request)
        call = Call(method=request.method, path=request.url.path, params=params, query=query, raw_body=body,
                    api_version=api_version, base_url=f"{request.url.scheme}://{request.url.netloc}",
                    principal=principal, ctx=self.ctx)
        return await run_in_threadpool(route.handler, call)

    def _authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        if not header:
            raise AuthenticationFailed("Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("Authentication failed. The 'Authorization' header is not a Bearer token.")
        return self.tokens.verify(token.strip())   # signature, claims, expiry, revocation

    @staticmethod
    async def _read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            raise RequestTooLarge(limit=MAX_BODY)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise RequestTooLarge(limit=MAX_BODY)
            chunks.append(chunk)
        return b"".join(chunks)

    def _respond(self, request: Request, reply: Reply, client_request_id: str, correlation_id: str) -> Response:
        headers = {
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-correlation-request-id": correlation_id,
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
        }
        remaining = getattr(request.state, "remaining", None)   # set once the token was verified
        if remaining is None:   # no verified caller: the full budget, nobody's real figures
            remaining = self.budgets.full()
        headers["x-ms-ratelimit-remaining-subscription-reads"] = str(remaining.reads)
        headers["x-ms-ratelimit-remaining-subscription-writes"] = str(remaining.writes)
        if request.url.scheme == "https" and self.hsts_seconds:
            headers["Strict-Transport-Security"] = f"max-age={self.hsts_seconds}; includeSubDomains"
        if client_request_id:
            headers["x-ms-client-request-id"] = client_request_id
        headers.update(reply.headers)
        if reply.body is None or reply.status == 204:
            return Response(status_code=reply.status, headers=headers)
        if isinstance(reply.body, (bytes, str)):
            return Response(reply.body, status_code=reply.status, headers=headers,
                            media_type=headers.pop("Content-Type", "application/octet-stream"))
        payload = json.dumps(reply.body, separators=(",", ":"))
        return Response(payload, status_code=reply.status, headers=headers,
                        media_type="application/json; charset=utf-8")
