"""Handlers for jobs (list, get, cancel, export, logs) and for every operation status and
result URL a 202 can point at."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from strongbox.api import wire
from strongbox.api.call import Call, Reply
from strongbox.api.filters import job_filter, skip_token
from strongbox.api.timefmt import iso
from strongbox.api.protection_ops import item_resource
from strongbox.api.vault_ops import vault_of
from strongbox.domain.errors import AuthenticationFailed, InvalidParameter, NotFound
from strongbox.domain.jobs import JobOperation
from strongbox.domain.operations import OperationKind
from strongbox.domain.vaults import Vault
from strongbox.services import jobs, protection
from strongbox.services.joblogs import read_job_log
from strongbox.services.operations import OperationView, get_operation

EXPORT_LINK_TTL = timedelta(minutes=15)


def _vault_path(vault: Vault) -> str:
    return wire.vault_id(vault.subscription, vault.resource_group, vault.name)


def backup_jobs_list(call: Call) -> Reply:
    vault = vault_of(call)
    flt = job_filter(call.filter)
    cursor = skip_token(call.skip_token)
    page, next_cursor = jobs.list_jobs(call.ctx, vault, flt, after_seq=cursor, limit=call.ctx.limits.page_size)
    now = call.ctx.clock()
    next_link = None
    if next_cursor is not None:
        extra = {"$skiptoken": str(next_cursor)}
        if call.filter:
            extra["$filter"] = call.filter
        next_link = call.url(f"{_vault_path(vault)}/backupJobs", **extra)
    return Reply(200, wire.page([wire.job_resource(j, vault, now=now) for j in page], next_link))


def job_details_get(call: Call) -> Reply:
    vault = vault_of(call)
    job = jobs.get_job(call.ctx, vault, call.params["jobName"])
    return Reply(200, wire.job_resource(job, vault, now=call.ctx.clock()))


def job_logs_get(call: Call) -> Reply:
    """strongbox's own: ``{"value": [{"seq", "time", "level", "message"}], "nextSeq"}``, the lines
    after ``?since=`` (default 0); pass ``nextSeq`` as ``since`` to read on."""
    vault = vault_of(call)
    text = call.query.get("since", "0")
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidParameter(f"since must be a line number (a non-negative integer), got '{text[:40]}'")
    lines, next_seq = read_job_log(call.ctx, vault, call.params["jobName"], since=int(text))
    return Reply(200, {"value": [{"seq": line.seq, "time": iso(line.time), "level": line.level,
                                  "message": line.message} for line in lines],
                       "nextSeq": next_seq})


def job_cancellations_trigger(call: Call) -> Reply:
    vault = vault_of(call)
    op = jobs.cancel_job(call.ctx, vault, call.params["jobName"])
    return Reply(202, headers=call.async_headers(
        location=f"{_vault_path(vault)}/backupJobs/{call.params['jobName']}/operationResults/{op.id}"))


def job_operation_results_get(call: Call) -> Reply:
    view = _op(call, (OperationKind.CANCEL,))
    if view.job is None or view.job.id.lower() != call.params["jobName"].lower():
        raise NotFound(f"operation {call.params['operationId']} does not belong to job {call.params['jobName']}")
    return _result_reply(call, view, location=call.path)


def jobs_export(call: Call) -> Reply:
    vault = vault_of(call)
    flt = job_filter(call.filter)
    now = call.ctx.clock()
    op = jobs.export_jobs(call.ctx, vault, flt, lambda j: wire.job_resource(j, vault, now=now))
    return Reply(202, headers=call.async_headers(location=f"{_vault_path(vault)}/backupJobs/operationResults/{op.id}"))


def _export_signature(key: bytes, op_id: str, expires: str) -> str:
    return hmac.new(key, f"{op_id}\n{expires}".encode(), hashlib.sha256).hexdigest()


def export_jobs_operation_results_get(call: Call) -> Reply:
    view = _op(call, (OperationKind.EXPORT,))
    if not view.done:
        loc = call.url(call.path)
        return Reply(202, wire.export_result(None, None, location=loc, retry_after=call.ctx.limits.retry_after),
                     headers={"Location": loc, "Retry-After": str(call.ctx.limits.retry_after)})
    expires = iso(call.ctx.clock() + EXPORT_LINK_TTL)
    sig = _export_signature(call.ctx.signing_key, view.operation.id, expires)
    blob_url = f"{call.base_url}/strongbox/exports/{view.operation.id}.json"
    sas = f"?se={expires}&sig={sig}"
    return Reply(200, wire.export_result(blob_url, sas, location=None, retry_after=call.ctx.limits.retry_after))


def export_download(call: Call) -> Reply:
    """The export 'blob': readable with its SAS-like query (no bearer token), for 15 minutes."""
    name = call.params["blobName"]
    op_id = name[:-5] if name.endswith(".json") else name
    expires, sig = call.query.get("se", ""), call.query.get("sig", "")
    good = _export_signature(call.ctx.signing_key, op_id, expires)
    if not sig or not hmac.compare_digest(sig.encode(), good.encode()):     # bytes: sig may be any text
        raise AuthenticationFailed("the export link's signature is invalid")
    try:
        deadline = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        raise AuthenticationFailed("the export link's expiry is invalid") from None
    if deadline < call.ctx.clock():
        raise AuthenticationFailed("the export link has expired; read the operation result again for a new one")
    path = call.ctx.exports_dir / f"{op_id}.json"
    if not path.is_file():
        raise NotFound(f"export {op_id} was not found")
    return Reply(200, path.read_bytes(), headers={"Content-Type": "application/json"})


# --- operation status and results --------------------------------------------------------------

ITEM_KINDS = (OperationKind.ITEM, OperationKind.VAULT)


def _op(call: Call, kinds: tuple[OperationKind, ...]) -> OperationView:
    return get_operation(call.ctx, vault_of(call), call.params["operationId"], kinds)


def _status_reply(view: OperationView, id_path: str | None = None) -> Reply:
    op = view.operation
    op.error_code, op.error_message = view.error_code, view.error_message
    end = view.job.end_time if (view.job is not None and op.follows_job) else None
    return Reply(200, wire.operation_status(op, view.status, job_id=op.job_id, id_path=id_path, end_time=end))


def _result_reply(call: Call, view: OperationView, *, location: str) -> Reply:
    if not view.done:
        return Reply(202, headers={"Location": call.url(location), "Retry-After": str(call.ctx.limits.retry_after)})
    return Reply(204)


def protected_item_operation_statuses_get(call: Call) -> Reply:
    return _status_reply(_op(call, ITEM_KINDS))


def protected_item_operation_results_get(call: Call) -> Reply:
    view = _op(call, ITEM_KINDS)
    if not view.done:
        return _result_reply(call, view, location=call.path)
    job = view.job
    if job is not None and job.operation in (JobOperation.CONFIGURE_BACKUP, JobOperation.DISABLE_BACKUP,
                                             JobOperation.UNDELETE):
        vault = vault_of(call)
        try:
            item = protection.get_item(call.ctx, vault, call.params["containerName"], call.params["protectedItemName"])
        except NotFound:
            return Reply(204)
        return Reply(200, item_resource(item, vault, call.ctx.clock()))
    return Reply(204)


def backup_operation_statuses_get(call: Call) -> Reply:
    return _status_reply(_op(call, ITEM_KINDS))


def backup_operation_results_get(call: Call) -> Reply:
    return _result_reply(call, _op(call, ITEM_KINDS), location=call.path)


def refresh_operation_results_get(call: Call) -> Reply:
    return _result_reply(call, _op(call, (OperationKind.FABRIC,)), location=call.path)


def refresh_operation_statuses_get(call: Call) -> Reply:
    vault = vault_of(call)
    view = get_operation(call.ctx, vault, call.params["operationId"], (OperationKind.FABRIC,))
    return _status_reply(view, id_path=f"{_vault_path(vault)}/backupFabrics/{call.params['fabricName']}"
                                       f"/operationsStatus/{view.operation.id}")


