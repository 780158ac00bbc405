"""Hypothesis-made hostile requests, below what an OpenAPI document can describe: bytes that
are not JSON or not UTF-8, nesting and sizes past the limits, NaN and 400-digit numbers,
duplicate members, Azure bodies with one part mutated, path segments that are encoded twice,
overlong or not UTF-8, unknown and lower-case methods, broken ``$filter``/``$skipToken``/
api-version values, and odd ``Authorization``, ``Host`` and ``Content-Type`` headers.

Requests go out byte for byte as generated (``raw_path``), on the same live server as the
OpenAPI run; each answer must pass :func:`tests.fuzz.checks.problem` (no 5xx, CloudErrors;
the public OAuth2 routes answer in OAuth2's shape).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from strongbox.api.routes import build_router
from tests.fuzz.checks import Tally
from tests.fuzz.conftest import Target, examples, seed
from tests.fuzz.sending import Answer, batch
from tests.support.arm import API, RG, SUB

pytestmark = pytest.mark.slow

# --- what gets sent ----------------------------------------------------------------------------

Request = tuple[str, bytes, dict[str, bytes], bytes]      # method, raw path?query, headers, body


def _fuzz(target: Target, http: httpx.Client, strategy: st.SearchStrategy[Request], count: int) -> Tally:
    tally = Tally()
    with batch(tally) as sending:
        @hypothesis_seed(seed())
        @settings(max_examples=count, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def send(request: Request) -> None:
            sending.submit(lambda: _send(target, http, request))

        send()
    print(tally.summary())
    target.assert_alive()
    return tally


def _send(target: Target, http: httpx.Client, request: Request) -> Answer | None:
    method, raw, headers, body = request
    headers = {"Authorization": f"Bearer {target.token}".encode(), **headers}
    raw_headers = [(name.encode(), value) for name, value in headers.items()]
    try:
        url = httpx.URL(target.server.base_url).copy_with(raw_path=raw)
        response = http.send(http.build_request(method, url, headers=raw_headers, content=body))
    except (httpx.LocalProtocolError, httpx.InvalidURL):
        return None     # a request httpx or h11 itself refuses to write
    public = raw.split(b"?")[0].rstrip(b"/").endswith((b"/oauth2/v2.0/token", b"/openid-configuration"))
    # HEAD answers carry no body to judge: only their status counts
    answered = response.content if method != "HEAD" else (b"" if response.status_code < 400 else
                                                           b'{"error": {"code": "HEAD", "message": "-"}}')
    described = f"{method} {raw[:400]!r} headers={ {k: v[:80] for k, v in headers.items()} } body={body[:300]!r}"
    return described, response.status_code, answered, public


@pytest.fixture(scope="module")
def http(target: Target) -> Iterator[httpx.Client]:
    with httpx.Client(verify=target.verify, timeout=30.0, trust_env=False) as client:
        yield client


def _quote(text: str, safe: str = "") -> str:
    return quote(text, safe=safe, errors="surrogatepass")     # a lone surrogate goes out as its CESU-8 bytes


def _path(*segments: str) -> bytes:
    return ("/" + "/".join(_quote(s) for s in segments)).encode()


def _query(**params: str) -> bytes:
    return "&".join(f"{_quote(k, '$')}={_quote(v)}" for k, v in params.items()).encode()


# --- building blocks ---------------------------------------------------------------------------

INTERESTING_STRINGS = st.sampled_from([
    "", " ", "0", "-1", "9" * 40, "null", "true", "NaN", "Infinity", "AzureIaasVM", "Daily", "Weekly", "Hourly",
    "Days", "Years", "Last", "UTC", "Mars/Olympus_Mons", "Pacific Standard Time", "Europe/Berlin",
    "2026-13-45T99:99:99Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1900-02-29T00:00:00+14:00",
    "2026-01-01T02:00:00Z", "12/31/9999 11:59:59 PM", "P1D", "../../etc/passwd", "/etc/hostname",
    "IaasVMRestoreRequest", "OriginalLocation", "RestoreDisks", "AlternateLocation", "Offline",
    "ProtectionStopped", "Protected", "Microsoft.Compute/virtualMachines", "x" * 9000, "\u0000", "\ud800",
    "\u202e", "é" * 100, f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/"
    "fuzzvault/backupPolicies/daily",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/fuzzrestores",
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-fuzz",
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/x/providers/Microsoft.Compute/"
    "virtualMachines/vm-fuzz",
])
INTERESTING_INTS = st.sampled_from([0, -1, 1, 2, 4, 5, 6, 8, 12, 24, 25, 28, 29, 30, 31, 10_000, 2**31, 2**53 + 1,
                                    2**63 - 1, -(2**63), 10**18])
SCALARS = st.one_of(st.none(), st.booleans(), INTERESTING_INTS, st.integers(), INTERESTING_STRINGS,
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                        max_size=4), max_leaves=12)
AZURE_KEYS = st.sampled_from([
    "properties", "location", "tags", "sku", "name", "eTag", "backupManagementType", "schedulePolicy",
    "retentionPolicy", "schedulePolicyType", "scheduleRunFrequency", "scheduleRunTimes", "scheduleRunDays",
    "hourlySchedule", "interval", "scheduleWindowStartTime", "scheduleWindowDuration", "dailySchedule",
    "weeklySchedule", "monthlySchedule", "yearlySchedule", "retentionTimes", "retentionDuration", "count",
    "durationType", "daysOfTheWeek", "monthsOfYear", "retentionScheduleFormatType", "retentionScheduleDaily",
    "retentionScheduleWeekly", "daysOfTheMonth", "date", "isLast", "weeksOfTheMonth", "timeZone", "policyType",
    "instantRpRetentionRangeInDays", "protectedItemType", "sourceResourceId", "policyId", "protectionState",
    "objectType", "recoveryPointExpiryTimeInUTC", "recoveryType", "recoveryPointId", "storageAccountId",
    "targetResourceGroupId", "targetVirtualMachineId", "region", "tieringPolicy", "advanceSeconds",
])


def _templates() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, a body strongbox accepts): the starting points of the mutations."""
    v = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/fuzzvault"
    item = f"{v}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;{RG};vm-fuzz" \
           f"/protectedItems/VM;iaasvmcontainerv2;{RG};vm-fuzz"
    times = ["2026-01-01T02:00:00Z"]
    ltr = {"retentionPolicyType": "LongTermRetentionPolicy",
           "dailySchedule": {"retentionTimes": times, "retentionDuration": {"count": 7, "durationType": "Days"}},
           "weeklySchedule": {"daysOfTheWeek": ["Sunday"], "retentionTimes": times,
                              "retentionDuration": {"count": 4, "durationType": "Weeks"}},
           "monthlySchedule": {"retentionScheduleFormatType": "Weekly",
                               "retentionScheduleWeekly": {"daysOfTheWeek": ["Sunday"], "weeksOfTheMonth": ["Last"]},
                               "retentionTimes": times, "retentionDuration": {"count": 12, "durationType": "Months"}},
           "yearlySchedule": {"retentionScheduleFormatType": "Daily", "monthsOfYear": ["January"],
                              "retentionScheduleDaily": {"daysOfTheMonth": [{"date": 1}, {"isLast": True}]},
                              "retentionTimes": times, "retentionDuration": {"count": 2, "durationType": "Years"}}}
    daily = {"properties": {"backupManagementType": "AzureIaasVM", "timeZone": "UTC",
                            "instantRpRetentionRangeInDays": 2,
                            "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy",
                                               "scheduleRunFrequency": "Daily", "scheduleRunTimes": times},
                            "retentionPolicy": ltr}}
    hourly = {"properties": {"backupManagementType": "AzureIaasVM", "policyType": "V2",
                             "timeZone": "Pacific Standard Time",
                             "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicyV2",
                                                "scheduleRunFrequency": "Hourly",
                                                "hourlySchedule": {"interval": 4, "scheduleWindowDuration": 12,
                                                                   "scheduleWindowStartTime": times[0]}},
                             "retentionPolicy": {"retentionPolicyType": "SimpleRetentionPolicy",
                                                 "retentionDuration": {"count": 30, "durationType": "Days"}}}}
    return [
        ("PUT", v, {"location": "westeurope", "sku": {"name": "Standard"}, "tags": {"team": "fuzz"}}),
        ("PUT", f"{v}/backupPolicies/daily", daily),
        ("PUT", f"{v}/backupPolicies/fuzz-hourly", hourly),
        ("PUT", item, {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                                      "sourceResourceId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                                                          "Microsoft.Compute/virtualMachines/vm-fuzz",
                                      "policyId": f"{v}/backupPolicies/daily"}}),
        ("POST", f"{item}/backup", {"properties": {"objectType": "IaasVMBackupRequest",
                                                   "recoveryPointExpiryTimeInUTC": "2030-01-01T00:00:00Z"}}),
        ("POST", f"{item}/recoveryPoints/{{point}}/restore",
         {"properties": {"objectType": "IaasVMRestoreRequest", "recoveryType": "RestoreDisks",
                         "recoveryPointId": "{point}", "region": "westeurope",
                         "storageAccountId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                                             "Microsoft.Storage/storageAccounts/fuzzrestores"}}),
        ("POST", f"{v}/backupJobsExport", {}),
    ]


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _leaves(value, path + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _leaves(value, path + (index,))


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    """The document with one to three parts replaced, removed or added."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_leaves(doc))))
        if not path:
            doc = draw(JSON) if draw(st.integers(0, 9)) == 0 else doc
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["tweak", "tweak", "replace", "replace", "remove", "add", "wrap"]))
        if action == "tweak":       # same JSON type, a value chosen to hurt: digs past the type checks
            old = parent[path[-1]]
            kind = INTERESTING_INTS if isinstance(old, int) and not isinstance(old, bool) else \
                INTERESTING_STRINGS if isinstance(old, str) else JSON
            parent[path[-1]] = draw(kind)
        elif action == "replace":
            parent[path[-1]] = draw(JSON)
        elif action == "remove":
            del parent[path[-1]]
        elif action == "wrap":
            parent[path[-1]] = draw(st.sampled_from([[parent[path[-1]]], {"value": parent[path[-1]]}]))
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(AZURE_KEYS | st.text(max_size=8))] = draw(JSON)
        elif isinstance(parent[path[-1]], list):
            parent[path[-1]].append(draw(JSON))
    return doc


def _encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


HOSTILE_BODIES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([
        b"", b" ", b"null", b"[]", b"0", b'"x"', b"{", b"}", b"{}", b"{}{}", b'{"a":1}x', b"\xef\xbb\xbf{}",
        b'{"properties": NaN}', b'{"properties": Infinity}', b'{"properties": -Infinity}', b'{"a": 1e999}',
        b'{"a": ' + b"9" * 500 + b"}", b'{"a": ' + b"9" * 5000 + b"}", b'{"a": -' + b"1" * 20 + b"}",
        b'{"a": 0.' + b"0" * 10000 + b"1}", b'{"properties": {}, "properties": {}}', b'{"a": "\\u0000"}',
        b'{"a": "\\ud800"}', b'{"a": "\\udc00\\ud800"}', b'{"\\u0000": 1}', b'{"a": "\xff\xfe"}',
        b'{"a": "\xc0\xaf"}', b'{"a": "\xed\xa0\x80"}', b'\xff\xfe{\x00}\x00', b'{"a": "\t\n"}',
        b'{"a": "' + b"x" * 100_000 + b'"}', b"[" * 5000 + b"]" * 5000, b"[" * 200_000,
        b'{"a":' * 40 + b"1" + b"}" * 40, b'{"a":' * 31 + b"1" + b"}" * 31,
        b"[" + b"1," * 5000 + b"1]", b"{" + b",".join(b'"k%d":1' % i for i in range(2000)) + b"}",
        b'{"properties": ' + json.dumps(list(range(1001))).encode() + b"}",
    ]),
    JSON.map(_encode),
)


# --- the families --------------------------------------------------------------------------------

def test_bodies(target: Target, http: httpx.Client) -> None:
    templates = _templates()
    point = target.known["recoveryPointId"]

    @st.composite
    def requests(draw: st.DrawFn) -> Request:
        method, path, doc = draw(st.sampled_from(templates))
        path = path.replace("{point}", point)
        doc = json.loads(json.dumps(doc).replace("{point}", point))
        body = draw(st.one_of(mutated(doc).map(_encode), mutated(doc).map(_encode), HOSTILE_BODIES))
        content_type = draw(st.sampled_from([b"application/json", b"application/json; charset=utf-8",
                                             b"text/plain", b"application/x-www-form-urlencoded", b"", b"\xff"]))
        raw = _path(*path.strip("/").split("/")) + b"?" + _query(**{"api-version": API})
        return method, raw, {"Content-Type": content_type}, body

    tally = _fuzz(target, http, requests(), 30 * examples())
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    # the mutations must reach the parsers, not only the decoder
    assert len(tally.codes) >= 8 and tally.statuses[400] > tally.total // 3, (tally.statuses, tally.codes)


SEGMENTS = st.one_of(
    st.sampled_from(["%00", "%2F", "%252F", "%2e%2e", "..", ".", "%2e", "%C0%AF", "%ED%A0%80", "%FF", "%0A",
                     "%0D%0A", "%20", "a%3Bb", "%E2%80%AE", "%25", "%", "%G1", "%C3", "x" * 261, "x" * 3000,
                     "%C3%A9t%C3%A9", "vault1%00", "fuzzvault%2F..%2F..", "IaasVMContainer;;;", "VM;a;b;c;d",
                     "subscriptions", "00000000-0000-0000-0000-00000000A001", "11111111-1111-1111-1111-111111111111",
                     "{subscriptionId}", "%7BvaultName%7D", "%u0041", "\\", "%5C"]),
    st.binary(max_size=16).map(lambda b: quote_from_bytes(b, safe="")),
    st.text(max_size=16).map(_quote),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"), max_size=16),
)
METHODS = st.sampled_from(["GET", "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "get",
                           "FOO", "M-SEARCH"])


def _known_paths(target: Target) -> list[list[str]]:
    """Every route of the table, its parameters filled with names that exist."""
    known = {**target.known, "tenant": "57700b0c-5b0c-4b0c-8b0c-57700b0c0001", "vmName": "vm-fuzz",
             "blobName": "x.json"}
    return [[known.get(p[1:-1], "x") if p.startswith("{") else p for p in r.pattern]
            for r in build_router(virtual_clock=True).routes]


def test_paths_and_methods(target: Target, http: httpx.Client) -> None:
    paths = _known_paths(target)

    @st.composite
    def requests(draw: st.DrawFn) -> Request:
        segments = [_quote(s) for s in draw(st.sampled_from(paths))]
        for _ in range(draw(st.integers(1, 2))):
            where = draw(st.integers(0, len(segments)))
            change = draw(st.sampled_from(["replace", "replace", "insert", "drop"]))
            if change == "insert" or where == len(segments):
                segments.insert(where, draw(SEGMENTS))
            elif change == "replace":
                segments[where] = draw(SEGMENTS)
            elif len(segments) > 1:
                del segments[where]
        slashes = draw(st.sampled_from(["/", "/", "//", "/./"]))
        raw = ("/" + slashes.join(segments) + draw(st.sampled_from(["", "", "/"]))).encode()
        body = draw(st.sampled_from([b"", b"{}", b'{"location": "westeurope"}']))
        return draw(METHODS), raw + b"?" + _query(**{"api-version": API}), {"Content-Type": b"application/json"}, body

    tally = _fuzz(target, http, requests(), 15 * examples())
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    assert tally.codes["InvalidResourceName"] and tally.codes["PathNotFound"] and tally.codes["MethodNotAllowed"], \
        tally.codes


FILTER_FIELDS = st.sampled_from(["status", "operation", "backupManagementType", "jobId", "startTime", "endTime",
                                 "startDate", "endDate", "friendlyName", "policyName", "itemType", "Status", "x",
                                 "restorePointQueryType"])
FILTER_VALUES = st.one_of(INTERESTING_STRINGS, st.text(max_size=20),
                          st.sampled_from(["Completed", "Backup", "AzureIaasVM", "2026-11-29 07:28:30 AM",
                                           "11/29/2026 7:28:30 AM", "O''Brien", "'", "''"]))


@st.composite
def filters(draw: st.DrawFn) -> str:
    clauses = []
    for _ in range(draw(st.integers(1, 4))):
        value = draw(FILTER_VALUES).replace("'", "''") if draw(st.booleans()) else draw(FILTER_VALUES)
        op = draw(st.sampled_from(["eq", "eq", "eq", "ne", "ge", "EQ", "", "eq eq"]))
        clauses.append(f"{draw(FILTER_FIELDS)} {op} '{value}'")
    text = draw(st.sampled_from([" and ", " AND ", " or ", "and", " and  "])).join(clauses)
    return text if draw(st.integers(0, 5)) else draw(st.text(max_size=60))


API_VERSIONS = st.one_of(st.sampled_from([
    API, "2016-12-01", "2017-07-01", "2026-11-01", "2026-10-01-preview", "2026-10-01\n", "2026-10-01 ",
    "２０２６-10-01", "2017-0٧-01", "2026-02-30", "2026-00-01", "2026-13-01", "9999-99-99", "", "2026-10",
    "2026-10-01-privatepreview", "2026-10-01\x00", "1e3"]), st.text(max_size=12))
SKIP_TOKENS = st.one_of(st.sampled_from(["0", "1", "-1", "00", "١٢", "²", "9" * 18, "9" * 19, "9" * 5000, " 1",
                                         "1 ", "0x10", "", "1e3"]), st.text(max_size=10))


def test_query_parameters(target: Target, http: httpx.Client) -> None:
    v = target.arm.vault_path
    item = target.arm.item_path("vm-fuzz")
    lists = [("GET", f"{v}/backupJobs"), ("POST", f"{v}/backupJobsExport"), ("GET", f"{v}/backupProtectedItems"),
             ("GET", f"{v}/backupPolicies"), ("GET", f"{v}/backupProtectableItems"),
             ("GET", f"{v}/backupProtectionContainers"), ("GET", f"{item}/recoveryPoints"),
             ("POST", f"{v}/backupFabrics/Azure/refreshContainers"), ("GET", v)]

    @st.composite
    def requests(draw: st.DrawFn) -> Request:
        method, path = draw(st.sampled_from(lists))
        pairs = [("api-version", draw(API_VERSIONS) if draw(st.integers(0, 3)) == 0 else API)]
        pairs += [("$filter", draw(filters()))] if draw(st.booleans()) else []
        pairs += [("$skipToken", draw(SKIP_TOKENS))] if draw(st.integers(0, 2)) == 0 else []
        pairs += draw(st.lists(st.tuples(st.sampled_from(["api-version", "$filter", "$top", "$skiptoken", "x", ""]),
                                         st.text(max_size=10)), max_size=2))
        query = "&".join(f"{_quote(k, '$')}={_quote(val)}" for k, val in pairs).encode()
        if draw(st.integers(0, 7)) == 0:
            query += draw(st.sampled_from([b"&%FF=%FF", b"&a=%", b"&&&", b"&=", b"&api-version", b"&%00=1",
                                           b"&x=" + b"y" * 5000, b"#frag"]))
        raw = _path(*path.strip("/").split("/")) + b"?" + query
        return method, raw, {}, b""

    tally = _fuzz(target, http, requests(), 15 * examples())
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    assert tally.codes["InvalidFilter"] and tally.codes["InvalidApiVersionParameter"], tally.codes


def test_headers(target: Target, http: httpx.Client) -> None:
    v = target.arm.vault_path
    token = target.token.encode()
    authorizations = st.sampled_from([
        b"", b"Bearer", b"Bearer ", b"bearer " + token, b"Basic " + token, b"Bearer " + token[:-5],
        b"Bearer " + token + b"x", b"Bearer " + token[::-1], b"Bearer  " + token, b"Bearer " + token + b" extra",
        b"Bearer a.b.c", b"Bearer " + b"A" * 8000, b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        b"Bearer \xff\xfe", b"Bearer " + token + b"," + token,
    ])
    hosts = st.sampled_from([None, b"", b"evil.example", b"a b", b"[::1", b"127.0.0.1:99999", b"x" * 1000,
                             b"\xff", b"host:port:extra", b"[::1]:8443"])

    @st.composite
    def requests(draw: st.DrawFn) -> Request:
        method, path, body = draw(st.sampled_from([
            ("GET", v, b""), ("PUT", f"{v}/backupPolicies/daily", b"{}"), ("GET", f"{v}/backupJobs", b""),
            ("POST", f"{v}/backupJobsExport", b""), ("GET", "/subscriptions", b""), ("GET", f"/subscriptions/{SUB}", b"")]))
        headers: dict[str, bytes] = {}
        if draw(st.integers(0, 2)):
            headers["Authorization"] = draw(authorizations)
        host = draw(hosts)
        if host is not None:
            headers["Host"] = host
        for name in draw(st.lists(st.sampled_from(["x-ms-client-request-id", "x-ms-correlation-request-id",
                                                    "Content-Type", "Accept", "Content-Encoding",
                                                    "x-ms-authorization-auxiliary", "Expect"]), max_size=3)):
            headers[name] = draw(st.sampled_from([b"", b"\xff\xfe", b"x" * 8000, b"gzip", b"100-continue",
                                                  b"application/json;;;", b"\t"]))
        raw = _path(*path.strip("/").split("/")) + b"?" + _query(**{"api-version": API})
        return method, raw, headers, body

    tally = _fuzz(target, http, requests(), 6 * examples())
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    assert tally.codes["AuthenticationFailed"] and tally.codes["InvalidAuthenticationToken"], tally.codes


def test_public_routes(target: Target, http: httpx.Client) -> None:
    tenant = "57700b0c-5b0c-4b0c-8b0c-57700b0c0001"
    forms = st.lists(st.tuples(st.sampled_from(["grant_type", "client_id", "client_secret", "client_assertion",
                                                "client_assertion_type", "scope", "x"]),
                               st.one_of(st.text(max_size=20), st.just("client_credentials"),
                                         st.just(target.token), st.just(target.token[:-3]))), max_size=5)

    @st.composite
    def requests(draw: st.DrawFn) -> Request:
        kind = draw(st.sampled_from(["token", "openid", "export", "metadata"]))
        who = draw(st.sampled_from([tenant, tenant.upper(), "common", ""])) if draw(st.booleans()) else \
            _quote(draw(st.text(max_size=20)))
        if kind == "token":
            body = "&".join(f"{k}={_quote(val)}" for k, val in draw(forms)).encode() \
                if draw(st.integers(0, 4)) else draw(st.binary(max_size=40))
            return "POST", f"/{who}/oauth2/v2.0/token".encode(), \
                {"Content-Type": b"application/x-www-form-urlencoded", "Authorization": b""}, body
        if kind == "openid":
            return "GET", f"/{who}/v2.0/.well-known/openid-configuration".encode(), {"Authorization": b""}, b""
        if kind == "metadata":
            return "GET", b"/metadata/endpoints?api-version=" + _quote(draw(st.text(max_size=8))).encode(), {}, b""
        query = _query(se=draw(st.one_of(st.text(max_size=30), st.just("2099-01-01T00:00:00Z"))),
                       sig=draw(st.text(max_size=70)))
        name = _quote(draw(st.text(max_size=40)))
        return "GET", f"/strongbox/exports/{name}".encode() + b"?" + query, {"Authorization": b""}, b""

    tally = _fuzz(target, http, requests(), 4 * examples())
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    assert tally.statuses[200] and tally.statuses[400] and tally.statuses[401], tally.statuses
