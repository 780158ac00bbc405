"""Bearer tokens: issue and verify JWTs signed with the server's Ed25519 key (EdDSA).

The signing key lives at ``<keys_dir>/token-signing.pem`` (PKCS#8 PEM, file 0600, folder
0700) and is created on first use; whoever holds it can mint tokens, and replacing it
invalidates every token issued so far (the only revocation there is).

Claims, all required on verify:

``iss``  always ``"strongbox"``
``aud``  always ``"https://management.azure.com/"`` (the audience Azure SDKs ask for)
``sub``  the subscription id the bearer may act on
``role`` one of :data:`ROLES` (Azure's built-in Backup roles)
``tid``  the server's tenant id; a token minted for another tenant is refused
``jti``  the token id, uuid4 hex
``iat``, ``exp``  seconds since the epoch

``rg`` (a resource group scope) is optional. The header carries ``kid``, a fingerprint of
the public key, to make a future key rotation possible.

A token is revoked by its id (:func:`revoke`, ``strongbox token revoke``): the id goes into
the service database, which the API consults on every request, so a revocation holds at
once for every server process sharing the database. Replacing the signing key still
invalidates every token at once.

Every failure of :meth:`TokenService.verify` is an :class:`AuthenticationFailed` subclass
(HTTP 401) with Azure's codes: ``ExpiredAuthenticationToken`` for an expired token,
``InvalidAuthenticationToken`` for everything else. Expiry is judged by the injected
clock, with no leeway: issuer and verifier are the same host.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from strongbox.keyfiles import create_private_file
from strongbox.domain.errors import AuthenticationFailed, ConfigError, InvalidParameter

if TYPE_CHECKING:
    from strongbox.persistence.database import Database

ISSUER = "strongbox"
AUDIENCE = "https://management.azure.com/"
ALGORITHM = "EdDSA"
ROLES = ("Owner", "Backup Contributor", "Backup Operator", "Backup Reader")
DEFAULT_TTL = timedelta(hours=24)
#: The longest lifetime a token may be issued with (a revocation is kept this long at most).
MAX_TTL = timedelta(days=365)
SIGNING_KEY_FILE = "token-signing.pem"

_RESOURCE_GROUP = re.compile(r"^[A-Za-z0-9_.()-]{1,90}$")
_TOKEN_ID = re.compile(r"^[0-9a-f]{32}$")
_GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_TTL = re.compile(r"(\d+)([wdhms])")
_TTL_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "role", "tid", "jti", "iat", "exp"]


class InvalidAuthenticationToken(AuthenticationFailed):
    """The access token is invalid: {detail}"""

    code = "InvalidAuthenticationToken"


class ExpiredAuthenticationToken(AuthenticationFailed):
    """The access token expiry UTC time '{expires_at}' is earlier than current UTC time '{now}'."""

    code = "ExpiredAuthenticationToken"


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for."""

    token_id: str
    subscription: str
    role: str
    resource_group: str | None
    expires_at: datetime


def canonical_role(role: str) -> str:
    """``role`` spelled as in :data:`ROLES`; case-insensitive, refuses anything else."""
    for known in ROLES:
        if role.strip().casefold() == known.casefold():
            return known
    raise InvalidParameter(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")


def parse_ttl(text: str) -> timedelta:
    """Parse ``30m``, ``12h``, ``7d``, ``3600s``, ``1h30m``, ``2w``: one or more number+unit."""
    compact = text.strip().lower()
    if not compact or _TTL.sub("", compact) != "":
        raise InvalidParameter(
            f"invalid duration {text!r}; use a number and a unit (w, d, h, m, s), e.g. 30m, 12h, 7d, 1h30m"
        )
    ttl = timedelta()
    for amount, unit in _TTL.findall(compact):
        ttl += timedelta(**{_TTL_UNITS[unit]: int(amount)})
    _check_ttl(ttl, text)
    return ttl


def _check_ttl(ttl: timedelta, shown: object) -> None:
    if ttl <= timedelta():
        raise InvalidParameter(f"token lifetime must be positive, got {shown}")
    if ttl > MAX_TTL:
        raise InvalidParameter(f"token lifetime {shown} is longer than the maximum of {MAX_TTL.days} days")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenService:
    def __init__(
        self, keys_dir: Path, tenant_id: str, *, clock: Callable[[], datetime] = _utcnow,
        is_revoked: Callable[[str], bool] | None = None,
    ) -> None:
        self._key_path = keys_dir / SIGNING_KEY_FILE
        self._tenant_id = tenant_id
        self._clock = clock
        self._is_revoked = is_revoked
        self._key: Ed25519PrivateKey | None = None

    def issue(
        self,
        subscription: str,
        *,
        role: str = "Owner",
        ttl: timedelta = DEFAULT_TTL,
        resource_group: str | None = None,
    ) -> str:
        if not _GUID.match(subscription):
            raise InvalidParameter(f"subscription must be a GUID, got {subscription!r}")
        _check_ttl(ttl, ttl)
        if resource_group is not None and not _RESOURCE_GROUP.match(resource_group):
            raise InvalidParameter(f"invalid resource group name {resource_group!r}")
        now = self._clock()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subscription.lower(),
            "role": canonical_role(role),
            "tid": self._tenant_id,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        if resource_group is not None:
            claims["rg"] = resource_group
        key = self._signing_key()
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": _key_id(key)})

    def verify(self, token: str, *, check_revoked: bool = True) -> Principal:
        """The principal a token speaks for; ``check_revoked=False`` only to name the bearer of
        a refused request (the audit log), never to let one in."""
        try:
            claims = jwt.decode(
                token,
                self._signing_key().public_key(),
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": _REQUIRED_CLAIMS,
                    # Time is judged below, by our clock, not PyJWT's.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as err:
            raise InvalidAuthenticationToken(str(err) or type(err).__name__) from None
        return self._principal(claims, check_revoked)

    def _principal(self, claims: dict[str, Any], check_revoked: bool) -> Principal:
        subscription, role, token_id = claims["sub"], claims["role"], claims["jti"]
        resource_group, exp = claims.get("rg"), claims["exp"]
        if not all(isinstance(v, str) for v in (subscription, role, token_id)):
            raise InvalidAuthenticationToken("sub, role and jti must be strings")
        if resource_group is not None and not isinstance(resource_group, str):
            raise InvalidAuthenticationToken("rg must be a string")
        if isinstance(exp, bool) or not isinstance(exp, int):
            raise InvalidAuthenticationToken("exp must be an integer")
        if claims["tid"] != self._tenant_id:
            raise InvalidAuthenticationToken("the token was issued for another tenant")
        if role not in ROLES:
            raise InvalidAuthenticationToken(f"unknown role {role!r}")
        expires_at = datetime.fromtimestamp(exp, UTC)
        now = self._clock()
        if now >= expires_at:
            raise ExpiredAuthenticationToken(
                "the token has expired",
                expires_at=expires_at.strftime("%m/%d/%Y %H:%M:%S"),
                now=now.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S"),
            )
        if check_revoked and self._is_revoked is not None and self._is_revoked(token_id):
            raise InvalidAuthenticationToken("the token has been revoked")
        return Principal(
            token_id=token_id,
            subscription=subscription,
            role=role,
            resource_group=resource_group,
            expires_at=expires_at,
        )

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = _load_or_create_key(self._key_path)
        return self._key


def _key_id(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        pem = create_private_file(
            path,
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError as err:
        raise ConfigError(f"the token signing key {path} is unreadable ({err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"the token signing key {path} is not an Ed25519 key")
    return key




def revoke(db: "Database", token_or_id: str, *, tokens: TokenService | None = None,
           now: datetime | None = None) -> tuple[str, bool]:
    """Revoke a token given its id (32 hex digits, as ``token verify`` shows it) or the token
    itself (checked against ``tokens`` first). Returns (token id, newly revoked)."""
    when = now or _utcnow()
    text = token_or_id.strip()
    if _TOKEN_ID.match(text.lower()):
        token_id, expires_at = text.lower(), when + MAX_TTL
    elif text.count(".") == 2 and tokens is not None:
        principal = tokens.verify(text)
        token_id, expires_at = principal.token_id, principal.expires_at
    else:
        raise InvalidParameter(f"{text[:40]!r} is neither a token id (32 hex digits) nor a token")
    with db.unit_of_work() as uow:
        uow.revoked_tokens.prune(when)
        added = uow.revoked_tokens.add(token_id, when, expires_at)
    return token_id, added


def revocation_check(db: "Database") -> Callable[[str], bool]:
    """``is_revoked`` for a :class:`TokenService`: one primary-key lookup per verify."""
    def is_revoked(token_id: str) -> bool:
        with db.reading() as uow:
            return uow.revoked_tokens.contains(token_id)
    return is_revoked
