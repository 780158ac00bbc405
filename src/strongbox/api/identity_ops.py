"""What the Azure CLI (and MSAL) need to sign in and find their way: the cloud metadata
document, an OpenID configuration, an OAuth2 client-credentials token endpoint, and the
subscription and tenant lists.

``az cloud register --endpoint-resource-manager URL`` reads ``/metadata/endpoints``; ``az login
--service-principal -u ANY -p SECRET --tenant TENANT`` reads the OpenID document of
``{login endpoint}/{tenant}`` and posts to its token endpoint. The client secret is a strongbox
bearer token (``strongbox token issue``); the access token answered is that same token, with
``expires_in`` its remaining lifetime. The client id is not checked: any non-empty id will do
(the README uses ``strongbox``). The tenant is the server's one fixed tenant id
(``server.tenant_id``); anything else is ``invalid_tenant``.

The metadata, OpenID and token routes are public (clients call them before they hold a token),
take no api-version, and answer errors in OAuth2's shape, ``{"error", "error_description"}``,
not ARM's. ``/subscriptions`` and ``/tenants`` are ordinary ARM routes: a token, an api-version,
and only the token's own subscription.
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from strongbox.api.call import Call, Reply
from strongbox.domain.errors import StrongboxError
from strongbox.services.context import ServiceContext
from strongbox.services.tokens import TokenService

#: The audience ``az`` asks tokens for (scope ``{audience}/.default``), as in Azure's public cloud.
AUDIENCE = "https://management.core.windows.net/"
CLOUD_NAME = "Strongbox"
_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _tokens(ctx: ServiceContext) -> TokenService:
    if ctx.tokens is None:  # pragma: no cover - bootstrap always wires it
        raise RuntimeError("the service context has no token service")
    return ctx.tokens


def tenant_id(ctx: ServiceContext) -> str:
    return ctx.tenant_id.lower()


def _oauth_error(status: int, error: str, description: str) -> Reply:
    body = {"error": error, "error_description": description, "error_codes": [],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}
    return Reply(status, body, dict(_NO_STORE))


def _unknown_tenant(call: Call) -> Reply | None:
    tenant = call.params["tenant"]
    if tenant.lower() == tenant_id(call.ctx):
        return None
    return _oauth_error(400, "invalid_tenant", f"Tenant '{tenant[:64]}' not found. "
                                               f"This server has one tenant: {tenant_id(call.ctx)}.")


# --- public: before a token exists ---------------------------------------------------------

def metadata_endpoints(call: Call) -> Reply:
    """The cloud's endpoints, in the shape ``az cloud register`` discovers them."""
    base = call.base_url + "/"
    return Reply(200, {
        "name": CLOUD_NAME,
        "portal": base,
        "resourceManager": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [AUDIENCE, "https://management.azure.com/"],
            "tenant": tenant_id(call.ctx),
            "identityProvider": "AAD",
        },
        "suffixes": {},
    })


def openid_configuration(call: Call) -> Reply:
    refused = _unknown_tenant(call)
    if refused is not None:
        return refused
    root = f"{call.base_url}/{tenant_id(call.ctx)}"
    return Reply(200, {
        "issuer": f"{root}/v2.0",
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        # MSAL requires the key; strongbox has no interactive sign-in, so it answers 404.
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "scopes_supported": [AUDIENCE + ".default"],
        "tenant_region_scope": None,
        "cloud_instance_name": "strongbox",
    })


def token(call: Call) -> Reply:
    """OAuth2 client credentials: the secret (or a JWT client assertion) is a strongbox token."""
    refused = _unknown_tenant(call)
    if refused is not None:
        return refused
    try:
        form = dict(parse_qsl(call.raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "The request body is not UTF-8 form data.")
    grant = form.get("grant_type", "")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type",
                            f"The grant type '{grant[:64]}' is not supported; only 'client_credentials' is.")
    if not form.get("client_id"):
        return _oauth_error(400, "invalid_request", "The request body must contain 'client_id'.")
    secret = form.get("client_secret")
    if not secret and form.get("client_assertion_type") == _JWT_BEARER:
        secret = form.get("client_assertion")
    if not secret:
        return _oauth_error(401, "invalid_client", "The request body must contain 'client_secret' "
                                                   "(a token from 'strongbox token issue').")
    try:
        principal = _tokens(call.ctx).verify(secret.strip())
    except StrongboxError as err:
        return _oauth_error(401, "invalid_client",
                            f"Invalid client secret: it must be a live token from 'strongbox token issue' "
                            f"for this server. {err.message}")
    # Real time, as TokenService judges expiry (ctx.clock may be a virtual service clock).
    expires_in = max(0, int(principal.expires_at.timestamp() - time.time()))
    return Reply(200, {"token_type": "Bearer", "access_token": secret.strip(), "expires_in": expires_in,
                       "ext_expires_in": expires_in}, dict(_NO_STORE))


# --- with a token: what it grants ----------------------------------------------------------

def _subscription(call: Call) -> dict[str, Any]:
    assert call.principal is not None
    sub = call.principal.subscription
    return {
        "id": f"/subscriptions/{sub}",
        "authorizationSource": "RoleBased",
        "subscriptionId": sub,
        "tenantId": tenant_id(call.ctx),
        "displayName": f"strongbox {sub}",
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "strongbox",
                                 "spendingLimit": "Off"},
        "managedByTenants": [],
        "tags": {},
    }


def subscriptions_list(call: Call) -> Reply:
    return Reply(200, {"value": [_subscription(call)]})


def subscriptions_get(call: Call) -> Reply:
    # The app has already answered 404 SubscriptionNotFound for any other subscription.
    return Reply(200, _subscription(call))


def tenants_list(call: Call) -> Reply:
    tid = tenant_id(call.ctx)
    return Reply(200, {"value": [{"id": f"/tenants/{tid}", "tenantId": tid, "tenantCategory": "Home",
                                  "displayName": "strongbox", "domains": [], "defaultDomain": "strongbox"}]})
