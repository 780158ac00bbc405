"""The API's half of the audit log: what a mutating request says about itself.

``ArmApp.endpoint`` calls :func:`record` for every PUT, POST, PATCH and DELETE once the
answer is built and before it is sent, refused ones (401, 403, 404, 429 …) included, so the
client hears back only after its record is on disk. Kept: the token's id, role and
subscription, the client's address, the method, the operation (the handler's name), the path
without its query, the request ids, the status and the error code. Never kept: a body, a
token, a query string (the OAuth token route's secrets travel in its body).

The token's identity is the authenticated principal, or, for a request refused at
authentication, what the token's signature alone says (``verify(check_revoked=False)``): a
request refused because its token is revoked is still recorded under that token's id. An
unsigned or expired token is recorded as no token.

A failed append is logged as an error and the answer still goes out: by then the operation
has happened (a job may exist) and clients retry 5xx POSTs. SECURITY.md says so.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from strongbox.api.router import Router
from strongbox.domain.errors import StrongboxError
from strongbox.services.audit import AuditEvent, AuditLog
from strongbox.services.tokens import TokenService

log = logging.getLogger("strongbox.audit")

AUDITED_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})


async def record(audit: AuditLog, request: Request, response: Response, router: Router,
                 tokens: TokenService) -> None:
    """Append the request's record, off the event loop (token check, file lock, fsync)."""
    try:
        await run_in_threadpool(_append, audit, request, response, router, tokens)
    except (OSError, StrongboxError) as err:   # a full disk, a lost key: say so, answer anyway
        log.error("audit log: could not record %s %s (status %s): %s", request.method, request.url.path,
                  response.status_code, err)
    except Exception:
        log.exception("audit log: could not record %s %s", request.method, request.url.path)


def _append(audit: AuditLog, request: Request, response: Response, router: Router, tokens: TokenService) -> None:
    audit.append(event_of(request, response, router, tokens))


def event_of(request: Request, response: Response, router: Router, tokens: TokenService) -> AuditEvent:
    token_id = role = subscription = None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    principal = getattr(request.state, "principal", None)   # set when the request got in
    if principal is None and scheme.lower() == "bearer" and token.strip():
        try:
            principal = tokens.verify(token.strip(), check_revoked=False)
        except StrongboxError:
            pass
    if principal is not None:
        token_id, role, subscription = principal.token_id, principal.role, principal.subscription
    return AuditEvent(
        method=request.method, resource=request.url.path, status=response.status_code,
        operation=_operation(request, router), error=_error_code(response),
        token_id=token_id, role=role, subscription=subscription,
        client=request.client.host if request.client else None,
        request_id=response.headers.get("x-ms-request-id"),
        client_request_id=request.headers.get("x-ms-client-request-id"),
    )


def _operation(request: Request, router: Router) -> str | None:
    """The handler's name (``vaults_create_or_update``), or None for a path no route serves."""
    route = getattr(request.state, "route", None)   # set once the app resolved it
    if route is not None:
        return str(route.handler.__name__)
    raw = request.scope.get("raw_path")   # the path as sent, as the app routes it
    path = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else request.url.path
    try:
        route, _ = router.resolve(request.method, path)
    except StrongboxError:
        return None
    return route.handler.__name__


def _error_code(response: Response) -> str | None:
    """ARM's ``error.code`` or OAuth2's ``error`` from an error answer."""
    if response.status_code < 400:
        return None
    try:
        error = json.loads(bytes(response.body)).get("error")
    except (ValueError, AttributeError, RecursionError):
        return None
    code = error.get("code") if isinstance(error, dict) else error
    return code if isinstance(code, str) else None
