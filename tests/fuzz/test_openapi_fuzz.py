"""Schemathesis, driven by Azure's own OpenAPI files, against a live server.

Every operation of the backup and vault specs gets generated requests: for the operations
strongbox serves, ``examples()`` schema-conforming ones and as many schema-violating ones
(wrong types, missing required fields, unknown members, bad query values); for the others a
few, which must answer a CloudError 404/405. Path parameters name real things most of the time
(so requests get past the lookups into the parsers and the services) and generated names the
rest; the api-version is a good one most of the time.

Nothing is checked against Azure's response schemas here (the contract tests do that); what
must hold for every answer is :func:`tests.fuzz.checks.problem`: no 5xx, every error a
well-formed CloudError, and the server alive and answering afterwards.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.fuzz import spec
from tests.fuzz.checks import Tally
from tests.fuzz.conftest import SPARE_VM, Target, examples, seed
from tests.fuzz.sending import Answer, batch
from tests.support.arm import RG

pytestmark = pytest.mark.slow

GOOD_VERSIONS = ("2016-12-01", "2017-07-01", "2021-12-01", "2025-01-01", "2026-10-01", "2026-11-01")


@pytest.fixture(scope="module")
def schema() -> Any:
    if not spec.available():
        pytest.skip("Azure's OpenAPI files are not available")
    return schemathesis.openapi.from_dict(spec.merged_spec())


class Client:
    """requests (what schemathesis's cases are made for), one session per sending thread."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
            session.trust_env = False           # REQUESTS_CA_BUNDLE would override the server's CA
            session.verify = str(self.target.server.ca)
        return session

    def send(self, kwargs: dict[str, Any]) -> Answer | None:
        try:
            response = self._session().request(**kwargs, timeout=30, allow_redirects=False)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError):
            return None     # a request the client library itself refuses to send
        described = f"{kwargs['method']} {response.request.url} body={response.request.body!r:.300}"
        return described, response.status_code, response.content, False


@pytest.fixture(scope="module")
def client(target: Target) -> Client:
    return Client(target)


def _known(target: Target, operation_id: str) -> dict[str, str]:
    known = dict(target.known)
    if operation_id == "ProtectedItems_Delete":     # keep the item the other operations aim at
        known.update(containerName=f"IaasVMContainer;iaasvmcontainerv2;{RG};{SPARE_VM}",
                     protectedItemName=f"VM;iaasvmcontainerv2;{RG};{SPARE_VM}")
    if operation_id == "Vaults_Delete":             # ... and the vault
        known.pop("vaultName")
    return known


def _cases(operation: Any, mode: GenerationMode, known: dict[str, str], version: str) -> st.SearchStrategy[Any]:
    @st.composite
    def aimed(draw: st.DrawFn) -> Any:
        case = draw(operation.as_strategy(generation_mode=mode))
        for name in list(case.path_parameters or {}):
            if name in known and draw(st.integers(0, 9)) < 8:
                case.path_parameters[name] = quote(known[name], safe="")
        if isinstance(case.query, dict) and draw(st.integers(0, 9)) < 8:
            case.query["api-version"] = draw(st.sampled_from((version,) + GOOD_VERSIONS))
        return case

    return aimed()


def _fuzz(target: Target, client: Client, operation: Any, mode: GenerationMode, count: int, tally: Tally) -> None:
    operation_id = operation.definition.raw["operationId"]
    strategy = _cases(operation, mode, _known(target, operation_id), spec.SERVED.get(operation_id, "2026-10-01"))
    auth = {"Authorization": f"Bearer {target.token}"}

    with batch(tally) as sending:
        @hypothesis_seed(seed())
        @settings(max_examples=count, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def send(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=target.server.base_url, headers=auth)
            kwargs.pop("cookies", None)
            sending.submit(lambda: client.send(kwargs))

        send()


@pytest.mark.parametrize("operation_id", sorted(spec.SERVED))
def test_served_operation(schema: Any, target: Target, client: Client, operation_id: str) -> None:
    operation = schema.find_operation_by_id(operation_id)
    tally = Tally()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz(target, client, operation, mode, examples(), tally)
    print(f"{operation_id}: {tally.summary()}")
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    assert tally.total >= examples(), tally.statuses     # the requests were really sent
    target.assert_alive()


def test_unserved_operations(schema: Any, target: Target, client: Client) -> None:
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw["operationId"] not in spec.SERVED:
            _fuzz(target, client, operation, GenerationMode.POSITIVE, max(2, examples() // 10), tally)
    assert not tally.failures, f"{len(tally.failures)} bad answers of {tally.total}:\n{tally.report()}"
    assert tally.codes["PathNotFound"] + tally.codes["MethodNotAllowed"] > tally.total // 2, tally.codes
    target.assert_alive()
