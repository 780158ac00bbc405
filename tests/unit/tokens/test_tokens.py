"""TokenService: tokens round-trip, and every way a token can be wrong is a 401 error."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from strongbox.domain.errors import AuthenticationFailed, ConfigError, InvalidParameter
from strongbox.services.tokens import (
    AUDIENCE,
    ISSUER,
    ROLES,
    ExpiredAuthenticationToken,
    InvalidAuthenticationToken,
    TokenService,
)

SUB = "00000000-0000-0000-0000-000000000001"
TENANT = "11111111-2222-3333-4444-555555555555"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> TokenService:
    return TokenService(tmp_path / "keys", TENANT, clock=clock)


def claims_of(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def test_round_trip(service: TokenService, tmp_path: Path) -> None:
    token = service.issue(SUB, role="backup operator", ttl=timedelta(hours=2), resource_group="prod-rg")
    principal = service.verify(token)
    assert principal.subscription == SUB
    assert principal.role == "Backup Operator"
    assert principal.resource_group == "prod-rg"
    assert principal.expires_at == T0 + timedelta(hours=2)
    claims = claims_of(token)
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and claims["tid"] == TENANT
    assert claims["jti"] == principal.token_id and len(principal.token_id) == 32
    assert claims["iat"] == int(T0.timestamp())
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    key = tmp_path / "keys" / "token-signing.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


def test_defaults_and_unique_ids(service: TokenService) -> None:
    first, second = service.verify(service.issue(SUB)), service.verify(service.issue(SUB))
    assert first.role == "Owner" and first.resource_group is None
    assert first.expires_at == T0 + timedelta(hours=24)
    assert first.token_id != second.token_id


def test_key_is_persistent(tmp_path: Path, clock: Clock) -> None:
    token = TokenService(tmp_path, TENANT, clock=clock).issue(SUB)
    assert TokenService(tmp_path, TENANT, clock=clock).verify(token).subscription == SUB


def test_expired(service: TokenService, clock: Clock) -> None:
    token = service.issue(SUB, ttl=timedelta(minutes=30))
    clock.now = T0 + timedelta(minutes=29, seconds=59)
    service.verify(token)
    clock.now = T0 + timedelta(minutes=30)
    with pytest.raises(ExpiredAuthenticationToken) as caught:
        service.verify(token)
    assert caught.value.code == "ExpiredAuthenticationToken" and caught.value.http_status == 401
    assert "01/01/2030 12:30:00" in caught.value.message


def forge(claims: dict[str, object], key: Ed25519PrivateKey | None = None) -> str:
    return jwt.encode(claims, key or Ed25519PrivateKey.generate(), algorithm="EdDSA")


def good_claims() -> dict[str, object]:
    return {
        "iss": ISSUER, "aud": AUDIENCE, "sub": SUB, "role": "Owner", "tid": TENANT,
        "jti": "a" * 32, "iat": int(T0.timestamp()), "exp": int(T0.timestamp()) + 60,
    }


def own_key(tmp_path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key((tmp_path / "keys" / "token-signing.pem").read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def test_own_key_forgery_passes_so_the_refusals_below_mean_something(
    service: TokenService, tmp_path: Path
) -> None:
    service.issue(SUB)
    assert service.verify(forge(good_claims(), own_key(tmp_path))).token_id == "a" * 32


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"iss": "someone"}, "issuer"),
        ({"aud": "https://example.com/"}, "audience"),
        ({"tid": "99999999-2222-3333-4444-555555555555"}, "another tenant"),
        ({"role": "Contributor"}, "unknown role"),
        ({"sub": None}, "sub"),
        ({"jti": None}, "jti"),
        ({"exp": None}, "exp"),
        ({"exp": "soon"}, "exp"),
        ({"rg": 5}, "rg"),
    ],
)
def test_wrong_claims_are_refused(
    service: TokenService, tmp_path: Path, change: dict[str, object], fragment: str
) -> None:
    service.issue(SUB)  # creates the key
    claims = {k: v for k, v in {**good_claims(), **change}.items() if v is not None}
    with pytest.raises(InvalidAuthenticationToken) as caught:
        service.verify(forge(claims, own_key(tmp_path)))
    assert fragment in caught.value.message.lower()
    assert caught.value.code == "InvalidAuthenticationToken" and caught.value.http_status == 401


def test_foreign_signature_is_refused(service: TokenService) -> None:
    with pytest.raises(InvalidAuthenticationToken, match="Signature verification failed"):
        service.verify(forge(good_claims()))


def test_other_algorithms_are_refused(service: TokenService) -> None:
    service.issue(SUB)
    hs256 = jwt.encode(good_claims(), "secret-secret-secret-secret-secret", algorithm="HS256")
    with pytest.raises(InvalidAuthenticationToken):
        service.verify(hs256)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(good_claims()).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidAuthenticationToken):
        service.verify(f"{header}.{body}.")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x.y.z"])
def test_malformed(service: TokenService, token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        service.verify(token)


def test_tampered_payload(service: TokenService) -> None:
    header, _, signature = service.issue(SUB, role="Backup Reader").split(".")
    claims = {**good_claims(), "role": "Owner"}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidAuthenticationToken):
        service.verify(f"{header}.{body}.{signature}")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"role": "Contributor"}, "unknown role"),
        ({"ttl": timedelta(0)}, "must be positive"),
        ({"ttl": timedelta(days=366)}, "longer than the maximum"),
    ],
)
def test_issue_refuses_bad_input(service: TokenService, kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidParameter, match=fragment):
        service.issue(SUB, **kwargs)  # type: ignore[arg-type]


def test_issue_refuses_a_non_guid_subscription(service: TokenService) -> None:
    with pytest.raises(InvalidParameter, match="GUID"):
        service.issue("prod")


def test_all_roles_round_trip(service: TokenService) -> None:
    assert [service.verify(service.issue(SUB, role=r)).role for r in ROLES] == list(ROLES)


def test_damaged_key_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "token-signing.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="token signing key"):
        TokenService(tmp_path, TENANT).issue(SUB)
