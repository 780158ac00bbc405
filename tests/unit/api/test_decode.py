"""decode_json: the one place a request body becomes JSON takes only what every layer below can hold."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongbox.api.bodies import MAX_DEPTH, MAX_MEMBERS, MAX_STRING, decode_json
from strongbox.domain.errors import StrongboxError


def _code(raw: bytes) -> str:
    with pytest.raises(StrongboxError) as caught:
        decode_json(raw)
    assert caught.value.http_status == 400 and caught.value.message
    return caught.value.code


def test_an_object_within_the_limits_is_returned() -> None:
    body = {"properties": {"a": [1, -2**63, 2**63 - 1, 1.5e300, "é\u202e", None, True]}, "x": "y" * MAX_STRING}
    assert decode_json(json.dumps(body).encode()) == body
    assert decode_json(b"\xef\xbb\xbf{}") == {}                     # a UTF-8 BOM, as PowerShell sends
    assert decode_json(b"  ", required=False) == {}


def _nested(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize("raw, code", [
    (b"", "InvalidRequestContent"), (b"{", "InvalidRequestContent"), (b"{}x", "InvalidRequestContent"),
    (b"[]", "InvalidRequestContent"), (b"null", "InvalidRequestContent"), (b'"x"', "InvalidRequestContent"),
    (b"\xff{}", "InvalidRequestEncoding"), (b'{"a": "\xed\xa0\x80"}', "InvalidRequestEncoding"),
    (b'{"a": "\\u0000"}', "InvalidRequestEncoding"), (b'{"a\\u0000": 1}', "InvalidRequestEncoding"),
    (b'{"a": ["\\ud800"]}', "InvalidRequestEncoding"),
    (b'{"a": 1, "a": 2}', "DuplicateJsonProperty"), (b'{"a": {"b": 1, "b": 1}}', "DuplicateJsonProperty"),
    (b'{"a": NaN}', "InvalidJsonNumber"), (b'{"a": -Infinity}', "InvalidJsonNumber"),
    (b'{"a": 1e999}', "InvalidJsonNumber"), (b'{"a": 9223372036854775808}', "InvalidJsonNumber"),
    (b'{"a": ' + b"9" * 5000 + b"}", "InvalidJsonNumber"),
    (_nested(MAX_DEPTH + 1), "RequestContentLimitExceeded"), (b"[" * 100_000, "RequestContentLimitExceeded"),
    (b'{"a": "' + b"x" * (MAX_STRING + 1) + b'"}', "RequestContentLimitExceeded"),
    (b'{"' + b"k" * (MAX_STRING + 1) + b'": 1}', "RequestContentLimitExceeded"),
    (json.dumps({"a": list(range(MAX_MEMBERS + 1))}).encode(), "RequestContentLimitExceeded"),
])
def test_hostile_bodies_get_their_own_400(raw: bytes, code: str) -> None:
    assert _code(raw) == code


def test_the_limits_themselves_pass() -> None:
    assert decode_json(_nested(MAX_DEPTH))
    assert decode_json(json.dumps({"a": list(range(MAX_MEMBERS))}).encode())


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_get_a_400(raw: bytes) -> None:
    try:
        assert isinstance(decode_json(raw, required=False), dict)
    except StrongboxError as err:
        assert err.http_status == 400
