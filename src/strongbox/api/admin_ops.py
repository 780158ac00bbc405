"""strongbox's own admin routes (not ARM; no api-version): the virtual clock.

``GET /admin/clock`` answers ``{"now": "<ISO-8601>", "offsetSeconds": N}``;
``POST /admin/clock`` with ``{"advanceSeconds": N}`` (N >= 0) moves the clock forward for
every process on the database and answers like GET. The routes exist only when the server
runs with ``--virtual-clock`` (:func:`strongbox.api.routes.build_router`).

Who may call them: any role may read the clock; moving it (``Strongbox/admin/clock/action``)
is the Owner's alone (api/authz.py, checked by the app before the handler runs), and only with
a token for a whole subscription: the clock is shared by every subscription on the server.
"""

from __future__ import annotations

import math
from typing import Any

from strongbox.api.call import Call, Reply
from strongbox.api.timefmt import iso
from strongbox.domain.errors import AuthenticationFailed, AuthorizationFailed, InvalidRequestContent, PathNotFound
from strongbox.services.clock import VirtualClock

MAX_ADVANCE = 10 * 365 * 86400.0


def _require_principal(call: Call) -> None:
    if call.principal is None:
        raise AuthenticationFailed("Authentication failed. A bearer token is required.")


def _require_whole_subscription(call: Call) -> None:
    """Moving the clock moves it for every subscription: not for a resource-group token."""
    _require_principal(call)
    assert call.principal is not None
    if call.principal.resource_group is not None:
        raise AuthorizationFailed(f"The client '{call.principal.token_id}' is scoped to resource group "
                                  f"'{call.principal.resource_group}'; moving the shared clock needs an Owner "
                                  "token for a whole subscription.")


def _clock(call: Call) -> VirtualClock:
    if call.ctx.virtual_clock is None:   # routes are only registered with one; be safe anyway
        raise PathNotFound(method=call.method, path=call.path)
    return call.ctx.virtual_clock


def _body(clock: VirtualClock) -> dict[str, Any]:
    return {"now": iso(clock()), "offsetSeconds": clock.offset}


def clock_get(call: Call) -> Reply:
    _require_principal(call)
    return Reply(200, _body(_clock(call)))


def clock_advance(call: Call) -> Reply:
    _require_whole_subscription(call)
    clock = _clock(call)
    body = call.json()
    seconds = body.get("advanceSeconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or not 0 <= seconds <= MAX_ADVANCE:
        raise InvalidRequestContent(detail=f"advanceSeconds must be a number from 0 to {MAX_ADVANCE:.0f}; "
                                           "the clock only moves forward")
    clock.advance(float(seconds))
    return Reply(200, _body(clock))
