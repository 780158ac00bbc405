"""The router splits the path as sent, decodes each segment once, and checks every parameter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongbox.api.call import Reply
from strongbox.api.router import Route, Router, route, split_path
from strongbox.domain.errors import StrongboxError

SUB = "00000000-0000-0000-0000-000000000001"
V = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.RecoveryServices/vaults"


def _router() -> Router:
    def handler(call: object) -> Reply:
        return Reply(200)
    table: list[Route] = [route("GET", V + "/{vaultName}", handler), route("PUT", V + "/{vaultName}", handler)]
    return Router(table)


def _path(rg: str = "rg-1", vault: str = "v1", sub: str = SUB) -> bytes:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}".encode()


def test_segments_are_decoded_once() -> None:
    assert split_path(b"/a/b%3Bc/%25252F/caf%C3%A9/") == ["a", "b;c", "%252F", "café"]
    _, params = _router().resolve("GET", _path(vault="v%2531", rg="R%C3%A9sum%C3%A9"))
    assert params == {"subscriptionId": SUB, "resourceGroupName": "Résumé", "vaultName": "v%31"}


@pytest.mark.parametrize("path, code", [
    (_path(vault="a%2Fb"), "InvalidResourceName"), (_path(vault="%2e%2e"), "InvalidResourceName"),
    (_path(vault="a%5Cb"), "InvalidResourceName"), (_path(vault="a%00"), "InvalidResourceName"),
    (_path(vault="a%0A"), "InvalidResourceName"), (_path(vault="a%C2%85"), "InvalidResourceName"),
    (_path(vault="%FF"), "InvalidResourceName"), (_path(vault="%C0%AF"), "InvalidResourceName"),
    (_path(vault="%ED%A0%80"), "InvalidResourceName"), (_path(vault="x" * 261), "InvalidResourceName"),
    (_path(rg="rg."), "InvalidResourceName"), (_path(rg="r" * 91), "InvalidResourceName"),
    (_path(rg="a;b"), "InvalidResourceName"),
    (_path(sub="not-a-guid"), "InvalidSubscriptionId"), (_path(sub=SUB + "0"), "InvalidSubscriptionId"),
    (_path() + b"/more", "PathNotFound"),
])
def test_bad_segments_get_their_own_error(path: bytes, code: str) -> None:
    with pytest.raises(StrongboxError) as caught:
        _router().resolve("GET", path)
    assert caught.value.code == code and caught.value.http_status in (400, 404)


def test_methods_are_exact() -> None:
    for method in ("DELETE", "get", "FOO"):
        with pytest.raises(StrongboxError) as caught:
            _router().resolve(method, _path())
        assert caught.value.code == "MethodNotAllowed" and caught.value.http_status == 405
    assert _router().resolve("GET", _path(vault="x" * 260))[1]["vaultName"] == "x" * 260


@given(st.binary(max_size=80), st.sampled_from(["GET", "PUT", "POST", "X"]))
def test_any_path_resolves_or_gets_a_4xx(raw: bytes, method: str) -> None:
    try:
        _router().resolve(method, raw)
    except StrongboxError as err:
        assert 400 <= err.http_status < 500 and len(err.message) < 2000
