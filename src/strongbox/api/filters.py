"""The OData-like ``$filter`` that Azure Backup list operations take.

Grammar (the only one the service's examples and clients use)::

    filter  := clause ( "and" clause )*
    clause  := field "eq" "'" value "'"        -- ''  inside a value is one quote

Field names and ``and``/``eq`` are case-insensitive; whitespace around tokens is free.
Each field may appear once. Anything else (another operator, parentheses, an unknown field,
an unterminated quote, a value the field's converter rejects) is :class:`BadFilter`, whose
message names the problem and its 0-based character position. For backupJobs,
``startTime eq X and endTime eq Y`` is a window on the job's start time (X <= start <= Y),
as Azure's clients use it, not an equality.

Every query parameter is checked before any handler runs (:func:`check_query`): no control
characters and at most :data:`MAX_QUERY_VALUE` characters, in names and values alike; a
``$skipToken`` is a token this server issued (:func:`skip_token`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from strongbox.api.timefmt import parse_datetime
from strongbox.domain.jobs import JobQuery
from strongbox.domain.errors import InvalidParameter, StrongboxError


class BadFilter(InvalidParameter):
    """Invalid $filter: {detail}"""

    code = "InvalidFilter"


MAX_QUERY_VALUE = 4096
_SKIP_TOKEN = re.compile(r"[0-9]{1,18}")


def check_query(query: Mapping[str, str]) -> None:
    """Refuse a query parameter that no client sends and no layer below should meet."""
    for name, value in query.items():
        if len(name) > 100 or len(value) > MAX_QUERY_VALUE:
            raise InvalidParameter(f"query parameter '{name[:100]}' is longer than {MAX_QUERY_VALUE} characters")
        if any(unicodedata.category(c) == "Cc" for c in name + value):
            shown = name[:100].encode("unicode_escape").decode()
            raise InvalidParameter(f"query parameter '{shown}' holds a control character")


def skip_token(text: str | None) -> int | None:
    """A ``$skipToken`` this server issued (a row position) -> the position; none -> None."""
    if not text:
        return None
    if not _SKIP_TOKEN.fullmatch(text):
        raise InvalidParameter(f"$skipToken '{text[:40]}' is not a token this server issued")
    return int(text)


_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_filter(text: str | None, allowed: Mapping[str, Callable[[str], Any]]) -> dict[str, Any]:
    """``field eq 'v' and ...`` -> {canonical field: converter(v)}; empty or None -> {}."""
    if text is None or not text.strip():
        return {}
    canonical = {name.lower(): name for name in allowed}
    result: dict[str, Any] = {}
    pos = _skip(text, 0)
    while True:
        field_pos = pos
        field, pos = _word(text, pos, "a field name")
        name = canonical.get(field.lower())
        if name is None:
            raise BadFilter(f"unknown field {field!r} at position {field_pos}; "
                            f"supported: {', '.join(sorted(allowed))}")
        if name in result:
            raise BadFilter(f"field {name!r} appears twice (again at position {field_pos})")
        pos = _skip(text, pos)
        op_pos = pos
        op, pos = _word(text, pos, "the operator 'eq'")
        if op.lower() != "eq":
            raise BadFilter(f"unsupported operator {op!r} at position {op_pos}; only 'eq' is supported")
        pos = _skip(text, pos)
        value_pos = pos
        value, pos = _quoted(text, pos)
        result[name] = _convert(allowed[name], name, value, value_pos)
        pos = _skip(text, pos)
        if pos >= len(text):
            return result
        joiner_pos = pos
        joiner = _WORD.match(text, pos)
        if joiner is None or joiner.group().lower() != "and" or \
                (joiner.end() < len(text) and not text[joiner.end()].isspace()):
            raise BadFilter(f"expected 'and' at position {joiner_pos}, found {text[pos:pos + 10]!r}")
        pos = _skip(text, joiner.end())
        if pos >= len(text):
            raise BadFilter(f"expected a clause after 'and' at position {joiner_pos}")


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _word(text: str, pos: int, expected: str) -> tuple[str, int]:
    match = _WORD.match(text, pos)
    if match is None:
        found = text[pos:pos + 10] or "end of text"
        raise BadFilter(f"expected {expected} at position {pos}, found {found!r}")
    return match.group(), match.end()


def _quoted(text: str, pos: int) -> tuple[str, int]:
    if pos >= len(text) or text[pos] != "'":
        found = text[pos:pos + 10] or "end of text"
        raise BadFilter(f"expected a single-quoted value at position {pos}, found {found!r}")
    chars: list[str] = []
    i = pos + 1
    while i < len(text):
        if text[i] == "'":
            if i + 1 < len(text) and text[i + 1] == "'":
                chars.append("'")
                i += 2
                continue
            return "".join(chars), i + 1
        chars.append(text[i])
        i += 1
    raise BadFilter(f"unterminated quoted value starting at position {pos}")


def _convert(converter: Callable[[str], Any], name: str, value: str, pos: int) -> Any:
    try:
        return converter(value)
    except (StrongboxError, ValueError) as exc:
        message = exc.message if isinstance(exc, StrongboxError) else str(exc)
        raise BadFilter(f"bad value for {name!r} at position {pos}: {message}") from None


def _one_of(values: Sequence[str]) -> Callable[[str], str]:
    by_lower = {v.lower(): v for v in values}

    def convert(value: str) -> str:
        try:
            return by_lower[value.strip().lower()]
        except KeyError:
            raise ValueError(f"{value!r} is not one of {', '.join(values)}") from None

    return convert


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("empty value")
    return value.strip()


def _as_is(value: str) -> str:
    return value


JOB_STATUSES = ("Invalid", "InProgress", "Completed", "Failed", "CompletedWithWarnings", "Cancelled",
                "Cancelling")
JOB_OPERATIONS = ("Invalid", "Register", "UnRegister", "ConfigureBackup", "Backup", "Restore",
                  "DisableBackup", "DeleteBackupData", "CrossRegionRestore", "Undelete",
                  "UpdateCustomerManagedKey", "ExpireRecoveryPoints", "PurgeDeletedData")
BACKUP_MANAGEMENT_TYPES = ("AzureIaasVM", "MAB", "DPM", "AzureBackupServer", "AzureSql", "AzureStorage",
                           "AzureWorkload", "DefaultBackup")


_JOB_FIELDS: dict[str, Callable[[str], Any]] = {
    "status": _one_of(JOB_STATUSES),
    "operation": _one_of(JOB_OPERATIONS),
    "backupManagementType": _one_of(BACKUP_MANAGEMENT_TYPES),
    "jobId": _non_empty,
    "startTime": parse_datetime,
    "endTime": parse_datetime,
}


def job_filter(text: str | None) -> JobQuery:
    """The backupJobs (list and export) ``$filter``."""
    fields = parse_filter(text, _JOB_FIELDS)
    query = JobQuery(
        status=fields.get("status"),
        operation=fields.get("operation"),
        backup_management_type=fields.get("backupManagementType"),
        job_id=fields.get("jobId"),
        start_from=fields.get("startTime"),
        start_to=fields.get("endTime"),
    )
    if query.start_from and query.start_to and query.start_from > query.start_to:
        raise BadFilter("startTime is after endTime")
    return query


_RP_FIELDS: dict[str, Callable[[str], Any]] = {
    "startDate": parse_datetime,
    "endDate": parse_datetime,
    # BmsrpQueryObject fields accepted and ignored: they change nothing for our points.
    **{name: _as_is for name in ("restorePointQueryType", "extendedInfo", "moveReadyRPOnly",
                                 "includeSoftDeletedRP", "baseSnapshotRPId", "baseRPDatasourceId",
                                 "getLatestRPOnly")},
}


def recovery_point_filter(text: str | None) -> tuple[datetime | None, datetime | None]:
    """The recoveryPoints ``$filter`` -> (startDate, endDate), either may be None."""
    fields = parse_filter(text, _RP_FIELDS)
    start, end = fields.get("startDate"), fields.get("endDate")
    if start and end and start > end:
        raise BadFilter("startDate is after endDate")
    return start, end


def simple_filter(text: str | None, fields: Sequence[str]) -> dict[str, str]:
    """Plain string equality filters (protectable items, containers, items, policies)."""
    return parse_filter(text, {name: _as_is for name in fields})
