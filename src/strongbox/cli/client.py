"""The CLI's ARM client: the same REST calls the Azure SDK makes, over httpx.

Paths, api-versions and the long-running-operation dance are Azure's: a trigger answers
``202`` with ``Azure-AsyncOperation``, that URL is polled verbatim until it leaves
``InProgress``, and its ``properties.jobId`` names the job. Lists follow ``nextLink``.

Failures become :class:`StrongboxError` s, which ``cli/main.py`` prints on one line: a
refused request keeps the server's CloudError code and message and exits as that HTTP
status's error class does (400: 2, 401/403: 5, 404: 3, 409: 4, 429: 6, anything else: 1);
a server that cannot be reached or whose certificate is not trusted exits 9.

Names: the command line says ``VM`` or ``RG/VM`` for a virtual machine (a declared source),
``VAULT`` or ``RG/VAULT`` for a vault; a job id is unique across vaults.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from strongbox.cli.connection import Connection, resolve
from strongbox.domain.errors import (
    AuthenticationFailed,
    AuthorizationFailed,
    BadRequest,
    Conflict,
    ItemNotFound,
    JobNotFound,
    NotFound,
    StrongboxError,
)

BACKUP_API = "2026-10-01"      # RecoveryServicesBackupClient's default
VAULTS_API = "2026-11-01"      # RecoveryServicesClient's default
TIMEOUT = 30.0
POLL_SECONDS = 0.25
OPERATION_TIMEOUT = 120.0


class ServerUnreachable(StrongboxError):
    """Cannot reach the server at {server}: {detail}"""

    code = "ServerUnreachable"
    http_status = 503
    exit_code = 9


class TlsVerificationFailed(StrongboxError):
    """The certificate of {server} is not trusted ({detail}): give its CA with --ca FILE or STRONGBOX_CA (a local server's is <data dir>/tls/ca.pem)."""

    code = "TlsVerificationFailed"
    http_status = 503
    exit_code = 9


class JobNotFoundInVisibleVaults(JobNotFound):
    """Job '{job_id}' was not found in any vault this token can see ({vaults})."""


class VmNotProtected(ItemNotFound):
    """No vault this token can see protects virtual machine '{name}' ({vaults})."""


_REFUSALS: dict[int, type[StrongboxError]] = {
    400: BadRequest, 401: AuthenticationFailed, 403: AuthorizationFailed, 404: NotFound, 409: Conflict,
}
_EXIT_BY_STATUS = {405: 2, 413: 2, 429: 6}


def refusal(status: int, code: str, message: str) -> StrongboxError:
    """The server's CloudError as the error class of its HTTP status, keeping the server's code."""
    base = _REFUSALS.get(status, StrongboxError)
    attrs: dict[str, Any] = {"code": code, "http_status": status, "__doc__": "{detail}",
                             "__module__": __name__}
    if status in _EXIT_BY_STATUS:
        attrs["exit_code"] = _EXIT_BY_STATUS[status]
    error: StrongboxError = type(base.__name__, (base,), attrs)(message)
    return error


@dataclass(frozen=True)
class VaultRef:
    resource_group: str
    name: str
    id: str            # the ARM path: /subscriptions/.../vaults/{name}


@dataclass(frozen=True)
class ItemRef:
    vault: VaultRef
    resource: dict[str, Any]    # the protectedItems resource as the API returns it

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def vm(self) -> str:
        return str(self.resource["properties"].get("friendlyName") or self.resource["name"].split(";")[-1])

    @property
    def vm_id(self) -> str:
        return str(self.resource["properties"].get("sourceResourceId") or "")

    @property
    def vm_resource_group(self) -> str:
        pieces = str(self.resource["name"]).split(";")      # VM;iaasvmcontainerv2;{rg};{vm}
        return pieces[2] if len(pieces) == 4 else ""


class ArmClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(conn.ca)) if conn.ca else True
        self.http = httpx.Client(base_url=conn.server, verify=verify, timeout=TIMEOUT,
                                 headers={"Authorization": f"Bearer {conn.token}",
                                          "User-Agent": "strongbox-cli"})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the wire --------------------------------------------------------------------------
    def request(self, method: str, path: str, *, api: str | None = BACKUP_API,
                params: dict[str, str] | None = None, json: Any = None) -> httpx.Response:
        """One request; ``path`` is an ARM path (``api`` is added) or an absolute URL used verbatim."""
        query = dict(params or {})
        if api is not None and not path.startswith(("http://", "https://")):
            query["api-version"] = api
        try:
            response = self.http.request(method, path, params=query or None, json=json)
        except httpx.ConnectError as err:
            if _is_tls_failure(err):
                raise TlsVerificationFailed(server=self.conn.server, detail=_reason(err)) from None
            raise ServerUnreachable(_reason(err), server=self.conn.server) from None
        except httpx.TimeoutException:
            raise ServerUnreachable(f"no answer within {TIMEOUT:.0f} s", server=self.conn.server) from None
        except httpx.HTTPError as err:
            raise ServerUnreachable(_reason(err), server=self.conn.server) from None
        if response.status_code >= 400:
            raise _refused(response)
        return response

    def get(self, path: str, *, api: str = BACKUP_API,
            params: dict[str, str] | None = None) -> dict[str, Any]:
        body = self.request("GET", path, api=api, params=params).json()
        return body if isinstance(body, dict) else {}

    def list_all(self, path: str, *, api: str = BACKUP_API,
                 params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every page of a list: ``nextLink`` is followed verbatim (it carries the filter)."""
        page = self.get(path, api=api, params=params)
        values: list[dict[str, Any]] = list(page.get("value") or [])
        while page.get("nextLink"):
            page = self.get(str(page["nextLink"]))
            values.extend(page.get("value") or [])
        return values

    def start(self, path: str, body: dict[str, Any]) -> str:
        """POST a trigger (202), follow its Azure-AsyncOperation to the end, return the jobId."""
        response = self.request("POST", path, json=body)
        url = response.headers.get("Azure-AsyncOperation")
        if not url:
            raise StrongboxError(f"the server answered {response.status_code} without Azure-AsyncOperation")
        deadline = time.monotonic() + OPERATION_TIMEOUT
        while True:
            status = self.get(url)
            if status.get("status") != "InProgress":
                break
            if time.monotonic() > deadline:
                raise ServerUnreachable(f"operation {url} still InProgress after {OPERATION_TIMEOUT:.0f} s",
                                        server=self.conn.server)
            time.sleep(POLL_SECONDS)
        job_id = (status.get("properties") or {}).get("jobId")
        if status.get("status") != "Succeeded" or not job_id:
            error = status.get("error") or {}
            raise refusal(400, str(error.get("code") or "OperationFailed"),
                          str(error.get("message") or f"the operation ended {status.get('status')}"))
        return str(job_id)

    # --- vaults ----------------------------------------------------------------------------
    def vaults(self) -> list[VaultRef]:
        path = f"/subscriptions/{self.conn.subscription}/providers/Microsoft.RecoveryServices/vaults"
        refs = (_vault_ref(v) for v in self.list_all(path, api=VAULTS_API))
        return sorted(refs, key=lambda v: (v.name.lower(), v.resource_group.lower()))

    def vaults_named(self, name: str | None) -> list[VaultRef]:
        """Every visible vault, or the one ``--vault`` names (``VAULT`` or ``RG/VAULT``)."""
        every = self.vaults()
        if name is None:
            return every
        group, _, vault = name.rpartition("/")
        chosen = [v for v in every if v.name.lower() == vault.lower()
                  and (not group or v.resource_group.lower() == group.lower())]
        if not chosen:
            raise NotFound(f"no vault {name!r} in subscription {self.conn.subscription} that this token "
                           f"can see (vaults: {_names(every)})")
        if len(chosen) > 1:
            groups = ", ".join(v.resource_group for v in chosen)
            raise BadRequest(f"vault {vault!r} is in resource groups {groups}: write --vault RG/{vault}")
        return chosen

    # --- jobs ------------------------------------------------------------------------------
    def jobs(self, vault: VaultRef, flt: str | None) -> list[dict[str, Any]]:
        return self.list_all(f"{vault.id}/backupJobs", params={"$filter": flt} if flt else None)

    def find_job(self, job_id: str, vault: str | None) -> tuple[VaultRef, dict[str, Any]]:
        """The job and its vault: the vault ``--vault`` names, or the first visible one that has it."""
        candidates = self.vaults_named(vault)
        for ref in candidates:
            try:
                return ref, self.job(ref, job_id)
            except NotFound:
                if vault is not None:
                    raise
        raise JobNotFoundInVisibleVaults(job_id=job_id, vaults=_names(candidates))

    def job(self, vault: VaultRef, job_id: str) -> dict[str, Any]:
        return self.get(f"{vault.id}/backupJobs/{job_id}")

    # --- protected items and recovery points -----------------------------------------------
    def items(self, vault: VaultRef) -> list[ItemRef]:
        return [ItemRef(vault, r) for r in self.list_all(f"{vault.id}/backupProtectedItems")]

    def find_item(self, vm: str, vault: str | None) -> ItemRef:
        """The protected item of ``VM`` (or ``RG/VM``): in the vault ``--vault`` names, or the
        one visible vault that protects it (an actively protected item wins over a stopped one)."""
        group, _, name = vm.rpartition("/")
        vaults = self.vaults_named(vault)
        found = [item for ref in vaults for item in self.items(ref) if _is_vm(item, name, group)]
        if len(found) > 1:
            active = [i for i in found if i.resource["properties"].get("protectionState") == "Protected"]
            found = active or found
        if not found:
            raise VmNotProtected(name=vm, vaults=_names(vaults))
        if len(found) > 1:
            where = ", ".join(f"{i.vault.resource_group}/{i.vault.name} ({i.vm_resource_group}/{i.vm})"
                              for i in found)
            raise BadRequest(f"virtual machine {vm!r} is protected in more than one place: {where}; "
                             f"name one with --vault VAULT or write RG/VM")
        return found[0]

    def points(self, item: ItemRef) -> list[dict[str, Any]]:
        """Recovery points, newest first."""
        points = self.list_all(f"{item.id}/recoveryPoints")
        return sorted(points, key=lambda p: str(p["properties"].get("recoveryPointTime") or ""), reverse=True)


def _vault_ref(resource: dict[str, Any]) -> VaultRef:
    path = str(resource["id"])
    parts = path.split("/")
    lowered = [p.lower() for p in parts]
    group = parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""
    return VaultRef(group, str(resource["name"]), path)


def _is_vm(item: ItemRef, name: str, group: str) -> bool:
    if item.vm.lower() != name.lower():
        return False
    return not group or item.vm_resource_group.lower() == group.lower()


def _names(vaults: list[VaultRef]) -> str:
    return ", ".join(v.name for v in vaults) or "none"


def _refused(response: httpx.Response) -> StrongboxError:
    try:
        error = response.json().get("error") or {}
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, AttributeError, KeyError, TypeError):
        code = f"Http{response.status_code}"
        message = f"{response.request.method} {response.request.url.path} answered {response.status_code}: " \
                  f"{response.text[:200].strip() or response.reason_phrase}"
    return refusal(response.status_code, code, message)


def _is_tls_failure(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(err)


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (is strongbox serve running there?)"
    return text or type(err).__name__


def connect(server: str | None, token: str | None, ca: Path | None, profile: str | None) -> ArmClient:
    """A client for the server the flags, environment or profile name (:mod:`strongbox.cli.connection`)."""
    return ArmClient(resolve(server, token, ca, profile))
