"""The ARM JSON of Microsoft.RecoveryServices, in: request bodies decoded, read and validated.

:func:`decode_json` is the one place a request body becomes JSON. It takes only what every
layer below can hold: UTF-8 text, one object at the root, each member name once, finite
numbers that fit in 64 bits (floats) or are integers of at most 19 digits, strings without NUL
or lone surrogates, nesting at most :data:`MAX_DEPTH` deep, strings of at most
:data:`MAX_STRING` characters, and at most :data:`MAX_MEMBERS` members or items in any object
or array (the body itself is at most 1 MiB: the app refuses more with 413).

Every parser takes already-decoded JSON (anything) and returns validated values, or raises
one of these (all HTTP 400), never KeyError/TypeError:

============================== ================================================================
code                           meaning
============================== ================================================================
InvalidRequestContent          body is not JSON, or not an object at the root, or a field has
                               the wrong JSON type, or a required field is missing (the message
                               names the field path)
InvalidRequestEncoding         body is not UTF-8, or a string holds NUL or a lone surrogate
DuplicateJsonProperty          one object names the same member twice
InvalidJsonNumber              NaN, Infinity, a float out of range or an over-long integer
RequestContentLimitExceeded    nesting, a string or an array/object longer than the limits
LocationRequired               vault PUT without a non-empty ``location``
InvalidVaultSku                ``sku.name`` other than Standard / RS0
InvalidPolicyType              policy ``backupManagementType`` other than AzureIaasVM
BMSUserErrorInvalidPolicyInput schedule / retention / other policy settings are invalid
InvalidProtectedItemType       ``protectedItemType`` other than the IaaS VM values, or a bad
                               ``protectionState``
InvalidBackupRequest           backup ``objectType`` other than IaasVMBackupRequest
InvalidRestoreRequest          restore ``objectType``/``recoveryType`` unknown, or a field the
                               recovery type needs is missing
RecoveryTypeNotSupported       ``recoveryType: Offline``
InvalidSecuritySettings        vault ``securitySettings`` with an unknown soft delete or
                               immutability state, or a retention period outside 14..180 days
============================== ================================================================
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongbox.api.timefmt import InvalidDateTime, parse_datetime
from strongbox.api.wire import CLASSIC_VM, COMPUTE_VM, IAAS_VM
from strongbox.domain.errors import BadRequest
from strongbox.domain.errors import InvalidRequestContent as UndecodableContent
from strongbox.domain.schedule import ScheduleError, zone
from strongbox.domain.softdelete import SOFT_DELETE_DAYS_RANGE, ImmutabilityState, SoftDeleteState


# --- errors ------------------------------------------------------------------------------

class InvalidRequestContent(BadRequest):
    """Invalid request body: {detail}"""

    code = "InvalidRequestContent"


class LocationRequired(BadRequest):
    """The 'location' property is required and must be a non-empty string."""

    code = "LocationRequired"


class InvalidVaultSku(BadRequest):
    """Invalid sku.name {value!r}: supported values are Standard and RS0."""

    code = "InvalidVaultSku"


class InvalidPolicyType(BadRequest):
    """Invalid backupManagementType {value!r}: only AzureIaasVM policies are supported."""

    code = "InvalidPolicyType"


class InvalidPolicyInput(BadRequest):
    """Invalid policy: {detail}"""

    code = "BMSUserErrorInvalidPolicyInput"


class InvalidProtectedItemType(BadRequest):
    """Invalid protected item: {detail}"""

    code = "InvalidProtectedItemType"


class InvalidBackupRequest(BadRequest):
    """Invalid backup request: {detail}"""

    code = "InvalidBackupRequest"


class InvalidRestoreRequest(BadRequest):
    """Invalid restore request: {detail}"""

    code = "InvalidRestoreRequest"


class RecoveryTypeNotSupported(BadRequest):
    """recoveryType {value!r} is not supported; use OriginalLocation, AlternateLocation or RestoreDisks."""

    code = "RecoveryTypeNotSupported"


class InvalidRequestEncoding(BadRequest):
    """The request body is not valid text: {detail}"""

    code = "InvalidRequestEncoding"


class DuplicateJsonProperty(BadRequest):
    """The request body names the member {name!r} twice in one object; each member may appear once."""

    code = "DuplicateJsonProperty"


class InvalidJsonNumber(BadRequest):
    """The request body holds the number {value}: {detail}"""

    code = "InvalidJsonNumber"


class RequestContentLimitExceeded(BadRequest):
    """The request body is too complex: {detail}"""

    code = "RequestContentLimitExceeded"


# --- decoding ------------------------------------------------------------------------------

MAX_DEPTH = 32              # objects and arrays inside each other (Azure's bodies need under 10)
MAX_STRING = 8192           # characters in one string or member name
MAX_MEMBERS = 1000          # members of one object, items of one array
MAX_INT_DIGITS = 19         # an integer fits in 64 bits (the database's and every SDK's int)
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def decode_json(raw: bytes, *, required: bool = True) -> dict[str, Any]:
    """A request body -> its JSON object; an empty body is ``{}`` unless ``required``.

    Raises a 400 that names the problem for anything outside the module docstring's limits,
    so that no handler, database or serializer below ever meets it."""
    if not raw.strip():
        if required:
            raise UndecodableContent(detail="the request body is empty; a JSON object is required")
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRequestEncoding(f"it is not UTF-8 (byte {err.start})") from None
    try:
        value = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_members, parse_int=_integer,
                           parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as err:
        raise UndecodableContent(detail=f"malformed JSON ({err})") from None
    except RecursionError:
        raise RequestContentLimitExceeded(f"objects and arrays nest more than {MAX_DEPTH} deep") from None
    if not isinstance(value, dict):
        kind = "null" if value is None else {list: "an array", str: "a string", bool: "a boolean"}.get(
            type(value), "a number")
        raise UndecodableContent(detail=f"the request body must be a JSON object, not {kind}")
    _check_tree(value)
    return value


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateJsonProperty(name=key[:100])
            seen.add(key)
    return result


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS or not -2**63 <= int(text) < 2**63:
        raise InvalidJsonNumber(value=text[:40] + ("..." if len(text) > 40 else ""),
                                detail="integers must fit in 64 bits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJsonNumber(value=text[:40] + ("..." if len(text) > 40 else ""),
                                detail="it is out of range for a 64-bit float")
    return value


def _constant(text: str) -> Any:
    raise InvalidJsonNumber(value=text, detail="NaN and Infinity are not JSON")


def _check_tree(root: dict[str, Any]) -> None:
    """Depth, sizes and storable strings, without recursion (a path names the culprit)."""
    stack: list[tuple[Any, int, str]] = [(root, 1, "body")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise RequestContentLimitExceeded(f"objects and arrays nest more than {MAX_DEPTH} deep (at {path[:200]})")
        if len(node) > MAX_MEMBERS:
            raise RequestContentLimitExceeded(f"{path[:200]} has {len(node)} members or items; "
                                              f"the limit is {MAX_MEMBERS}")
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(key, str):
                _check_string(key, f"a member name in {path}")
                where = f"{path}.{key}"
            else:
                where = f"{path}[{key}]"
            if isinstance(value, str):
                _check_string(value, where)
            elif isinstance(value, (dict, list)):
                stack.append((value, depth + 1, where))


def _check_string(text: str, where: str) -> None:
    if len(text) > MAX_STRING:
        raise RequestContentLimitExceeded(f"a string at {where[:200]} has {len(text)} characters; "
                                          f"the limit is {MAX_STRING}")
    bad = _UNSTORABLE.search(text)
    if bad is not None:
        what = "NUL (\\u0000)" if bad.group() == "\x00" else "a lone surrogate"
        raise InvalidRequestEncoding(f"a string at {where[:200]} holds {what}")


# --- request bodies ---------------------------------------------------------------------------

def _object(value: Any, path: str, *, required: bool = True) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        expected = "a JSON object" if value is not None else "required (a JSON object)"
        raise InvalidRequestContent(f"{path} is {expected}")
    return value


def _obj(value: Any, path: str) -> dict[str, Any]:
    result = _object(value, path)
    assert result is not None
    return result


def _string(obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidRequestContent(f"{path}.{key} is required")
        return None
    if not isinstance(value, str):
        raise InvalidRequestContent(f"{path}.{key} must be a string")
    return value


def _int(obj: Mapping[str, Any], key: str, path: str, error: type[BadRequest], *,
         minimum: int, maximum: int | None = None, required: bool = False) -> int | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise error(f"{path}.{key} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{path}.{key} must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise error(f"{path}.{key} must be {bound}, got {value}")
    return value


def _choice(value: Any, path: str, choices: tuple[Any, ...], error: type[BadRequest]) -> Any:
    if isinstance(value, bool) or value not in choices:
        raise error(f"{path} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def _datetime_list(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidPolicyInput(f"{path}.{key} must be a non-empty list of date-times")
    for item in value:
        _datetime_value(item, f"{path}.{key}")


def _datetime_value(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise InvalidPolicyInput(f"{path} must be a date-time string")
    try:
        parse_datetime(value)
    except InvalidDateTime as exc:
        raise InvalidPolicyInput(f"{path}: {exc.message}") from None


def _properties(body: Any) -> dict[str, Any]:
    return _obj(_obj(body, "body").get("properties"), "properties")


class InvalidSecuritySettings(BadRequest):
    """Invalid vault security settings: {detail}"""

    code = "InvalidSecuritySettings"


@dataclass(frozen=True)
class VaultRequest:
    location: str
    tags: dict[str, str]
    sku_name: str
    # properties.securitySettings; None: not given (a new vault gets Azure's default, an
    # existing one keeps its setting)
    soft_delete: SoftDeleteState | None = None
    soft_delete_days: int | None = None
    immutability: ImmutabilityState | None = None


#: Azure's tag limits: 50 per resource, names up to 512 characters, values up to 256
MAX_TAGS, MAX_TAG_NAME, MAX_TAG_VALUE = 50, 512, 256
MAX_LOCATION = 64


def parse_vault_body(body: Any) -> VaultRequest:
    data = _obj(body, "body")
    location = data.get("location")
    if not isinstance(location, str) or not location.strip():
        raise LocationRequired()
    if len(location) > MAX_LOCATION:
        raise InvalidRequestContent(f"location has at most {MAX_LOCATION} characters")
    tags = _object(data.get("tags"), "tags", required=False) or {}
    if not all(isinstance(v, str) for v in tags.values()):
        raise InvalidRequestContent("tags values must be strings")
    if len(tags) > MAX_TAGS or any(len(k) > MAX_TAG_NAME or len(v) > MAX_TAG_VALUE for k, v in tags.items()):
        raise InvalidRequestContent(f"tags: at most {MAX_TAGS}, names of at most {MAX_TAG_NAME} characters, "
                                    f"values of at most {MAX_TAG_VALUE}")
    sku = _object(data.get("sku"), "sku", required=False) or {}
    sku_name = _string(sku, "name", "sku") or "Standard"
    canonical = {"standard": "Standard", "rs0": "RS0"}.get(sku_name.lower())
    if canonical is None:
        raise InvalidVaultSku(value=sku_name)
    props = _object(data.get("properties"), "properties", required=False) or {}
    security = _object(props.get("securitySettings"), "properties.securitySettings", required=False) or {}
    return VaultRequest(location=location.strip(), tags=dict(tags), sku_name=canonical,
                        **_security_settings(security))


def _security_settings(security: dict[str, Any]) -> dict[str, Any]:
    """``securitySettings``: ``softDeleteSettings`` (state, retention days; ``enhancedSecurityState``
    is accepted and ignored) and ``immutabilitySettings.state``, each optional."""
    path = "properties.securitySettings"
    found: dict[str, Any] = {}
    soft = _object(security.get("softDeleteSettings"), f"{path}.softDeleteSettings", required=False) or {}
    state = _string(soft, "softDeleteState", f"{path}.softDeleteSettings")
    if state is not None:
        found["soft_delete"] = SoftDeleteState.parse(state)
        if found["soft_delete"] is None:
            raise InvalidSecuritySettings(f"{path}.softDeleteSettings.softDeleteState must be one of "
                                          f"{', '.join(s.value for s in SoftDeleteState)}, got {state!r}")
    low, high = SOFT_DELETE_DAYS_RANGE
    found["soft_delete_days"] = _int(soft, "softDeleteRetentionPeriodInDays", f"{path}.softDeleteSettings",
                                     InvalidSecuritySettings, minimum=low, maximum=high)
    _string(soft, "enhancedSecurityState", f"{path}.softDeleteSettings")
    immutability = _object(security.get("immutabilitySettings"), f"{path}.immutabilitySettings",
                           required=False) or {}
    wanted = _string(immutability, "state", f"{path}.immutabilitySettings")
    if wanted is not None:
        found["immutability"] = ImmutabilityState.parse(wanted)
        if found["immutability"] is None:
            raise InvalidSecuritySettings(f"{path}.immutabilitySettings.state must be one of "
                                          f"{', '.join(s.value for s in ImmutabilityState)}, got {wanted!r}")
    return found


POLICY_SETTINGS = ("schedulePolicy", "retentionPolicy", "timeZone", "instantRpRetentionRangeInDays",
                   "policyType", "instantRPDetails", "tieringPolicy", "instantAccessSnapshotEnabled",
                   "instantAccessDurationMinutes", "snapshotConsistencyType")
_DURATION_TYPES = ("Days", "Weeks", "Months", "Years")


def parse_policy_body(body: Any) -> dict[str, Any]:
    """Validate an AzureIaasVM policy PUT body; return its settings (``Policy.settings``)."""
    props = _properties(body)
    kind = props.get("backupManagementType")
    if kind != IAAS_VM:
        raise InvalidPolicyType(value=kind)
    schedule = _policy_object(props, "schedulePolicy")
    retention = _policy_object(props, "retentionPolicy")
    frequency = _schedule(schedule, props.get("policyType"))
    _retention(retention, frequency)
    if frequency == "Weekly" and isinstance(retention.get("weeklySchedule"), dict):
        sub = schedule.get("weeklySchedule", schedule) if schedule.get("schedulePolicyType") == \
            "SimpleSchedulePolicyV2" else schedule
        extra = set(retention["weeklySchedule"].get("daysOfTheWeek") or []) - set(sub.get("scheduleRunDays") or [])
        if extra:
            raise InvalidPolicyInput("properties.retentionPolicy.weeklySchedule.daysOfTheWeek must be days the "
                                     f"schedule runs on; {', '.join(sorted(extra))} is not")
    enhanced = schedule.get("schedulePolicyType") == "SimpleSchedulePolicyV2"
    _int(props, "instantRpRetentionRangeInDays", "properties", InvalidPolicyInput, minimum=1,
         maximum=30 if enhanced else 5)
    for key in ("timeZone", "policyType", "snapshotConsistencyType"):
        if props.get(key) is not None and not isinstance(props[key], str):
            raise InvalidPolicyInput(f"properties.{key} must be a string")
    try:
        zone(props.get("timeZone"))
    except ScheduleError as err:
        raise InvalidPolicyInput(f"properties.{err}") from None
    return {key: copy.deepcopy(props[key]) for key in POLICY_SETTINGS if props.get(key) is not None}


def _policy_object(obj: Mapping[str, Any], key: str, path: str = "properties") -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise InvalidPolicyInput(f"{path}.{key} is required and must be an object")
    return value


def _schedule(schedule: dict[str, Any], policy_type: Any) -> str:
    path = "properties.schedulePolicy"
    kind = _choice(schedule.get("schedulePolicyType"), f"{path}.schedulePolicyType",
                   ("SimpleSchedulePolicy", "SimpleSchedulePolicyV2"), InvalidPolicyInput)
    if policy_type not in (None, "Invalid", "V1", "V2"):
        raise InvalidPolicyInput(f"properties.policyType must be V1 or V2, got {policy_type!r}")
    if kind == "SimpleSchedulePolicy":
        if policy_type == "V2":
            raise InvalidPolicyInput(
                f"policyType {policy_type} needs schedulePolicyType SimpleSchedulePolicyV2")
        frequency: str = _choice(schedule.get("scheduleRunFrequency"), f"{path}.scheduleRunFrequency",
                                 ("Daily", "Weekly"), InvalidPolicyInput)
        _datetime_list(schedule, "scheduleRunTimes", path, required=True)
        if frequency == "Weekly":
            _weekdays(schedule, path)
        return frequency
    if policy_type == "V1":
        raise InvalidPolicyInput(
            f"schedulePolicyType SimpleSchedulePolicyV2 needs policyType V2, got {policy_type!r}")
    frequency = _choice(schedule.get("scheduleRunFrequency"), f"{path}.scheduleRunFrequency",
                        ("Daily", "Weekly", "Hourly"), InvalidPolicyInput)
    if frequency == "Hourly":
        hourly = _policy_object(schedule, "hourlySchedule", path)
        _choice(hourly.get("interval"), f"{path}.hourlySchedule.interval", (4, 6, 8, 12), InvalidPolicyInput)
        _datetime_value(hourly.get("scheduleWindowStartTime"),
                        f"{path}.hourlySchedule.scheduleWindowStartTime")
        _int(hourly, "scheduleWindowDuration", f"{path}.hourlySchedule", InvalidPolicyInput,
             minimum=1, maximum=24, required=True)
    elif frequency == "Daily":
        daily = _policy_object(schedule, "dailySchedule", path)
        _datetime_list(daily, "scheduleRunTimes", f"{path}.dailySchedule", required=True)
    else:
        weekly = _policy_object(schedule, "weeklySchedule", path)
        _datetime_list(weekly, "scheduleRunTimes", f"{path}.weeklySchedule", required=True)
        _weekdays(weekly, f"{path}.weeklySchedule")
    return frequency


_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _weekdays(obj: Mapping[str, Any], path: str) -> None:
    days = obj.get("scheduleRunDays")
    if not isinstance(days, list) or not days or any(day not in _WEEKDAYS for day in days):
        raise InvalidPolicyInput(f"{path}.scheduleRunDays must be a non-empty list of week days")


def _retention(retention: dict[str, Any], frequency: str) -> None:
    path = "properties.retentionPolicy"
    kind = _choice(retention.get("retentionPolicyType"), f"{path}.retentionPolicyType",
                   ("LongTermRetentionPolicy", "SimpleRetentionPolicy"), InvalidPolicyInput)
    if kind == "SimpleRetentionPolicy":
        _retention_duration(retention, path)
        return
    present = [key for key in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule")
               if retention.get(key) is not None]
    needed = "weeklySchedule" if frequency == "Weekly" else "dailySchedule"
    if needed not in present:
        raise InvalidPolicyInput(f"{path}.{needed} is required for a {frequency} schedule")
    for key in present:
        schedule = _policy_object(retention, key, path)
        _retention_duration(schedule, f"{path}.{key}")
        _datetime_list(schedule, "retentionTimes", f"{path}.{key}", required=False)
        if key == "weeklySchedule":
            _names(schedule, "daysOfTheWeek", f"{path}.{key}", _WEEKDAYS)
        elif key in ("monthlySchedule", "yearlySchedule"):
            _day_format(schedule, f"{path}.{key}")
        if key == "yearlySchedule":
            _names(schedule, "monthsOfYear", f"{path}.{key}", _MONTHS)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKS_OF_MONTH = ("First", "Second", "Third", "Fourth", "Last")


def _names(obj: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> None:
    value = obj.get(key)
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise InvalidPolicyInput(f"{path}.{key} must be a non-empty list of {', '.join(allowed)}")


def _day_format(schedule: Mapping[str, Any], path: str) -> None:
    """Monthly and yearly retention name their day as days of the month (format Daily) or
    weekdays of weeks of the month (format Weekly)."""
    fmt = _choice(schedule.get("retentionScheduleFormatType"), f"{path}.retentionScheduleFormatType",
                  ("Daily", "Weekly"), InvalidPolicyInput)
    if fmt == "Weekly":
        weekly = _policy_object(schedule, "retentionScheduleWeekly", path)
        _names(weekly, "daysOfTheWeek", f"{path}.retentionScheduleWeekly", _WEEKDAYS)
        _names(weekly, "weeksOfTheMonth", f"{path}.retentionScheduleWeekly", _WEEKS_OF_MONTH)
        return
    daily = _policy_object(schedule, "retentionScheduleDaily", path)
    days = daily.get("daysOfTheMonth")
    if not isinstance(days, list) or not days or not all(isinstance(d, dict) for d in days):
        raise InvalidPolicyInput(f"{path}.retentionScheduleDaily.daysOfTheMonth must be a non-empty list of "
                                 '{"date": 1..28} or {"isLast": true}')
    for day in days:
        if day.get("isLast") is True:
            continue
        _int(day, "date", f"{path}.retentionScheduleDaily.daysOfTheMonth[]", InvalidPolicyInput, minimum=1,
             maximum=28, required=True)


#: Azure's longest retention per unit (Azure VM backup: 9999 days, 5163 weeks, 1188 months,
#: 99 years); past them an expiry would leave the calendar
_MAX_RETENTION = {"Days": 9999, "Weeks": 5163, "Months": 1188, "Years": 99}


def _retention_duration(obj: Mapping[str, Any], path: str) -> None:
    duration = _policy_object(obj, "retentionDuration", path)
    unit = _choice(duration.get("durationType"), f"{path}.retentionDuration.durationType", _DURATION_TYPES,
                   InvalidPolicyInput)
    _int(duration, "count", f"{path}.retentionDuration", InvalidPolicyInput, minimum=1,
         maximum=_MAX_RETENTION[unit], required=True)


PROTECTED_ITEM_TYPES = (COMPUTE_VM, CLASSIC_VM)
PROTECTION_STATES = ("Invalid", "IRPending", "Protected", "ProtectionError", "ProtectionStopped",
                     "ProtectionPaused", "BackupsSuspended")


@dataclass(frozen=True)
class ItemRequest:
    protected_item_type: str
    source_resource_id: str | None
    policy_id: str | None          # "" means: no policy (stop protection)
    protection_state: str | None
    is_rehydrate: bool = False     # undelete a soft-deleted item (az backup protection undelete)


def parse_protected_item_body(body: Any) -> ItemRequest:
    props = _properties(body)
    kind = props.get("protectedItemType")
    if kind not in PROTECTED_ITEM_TYPES:
        raise InvalidProtectedItemType(
            f"protectedItemType must be one of {', '.join(PROTECTED_ITEM_TYPES)}, got {kind!r}")
    state = _string(props, "protectionState", "properties")
    if state is not None and state not in PROTECTION_STATES:
        raise InvalidProtectedItemType(
            f"protectionState must be one of {', '.join(PROTECTION_STATES)}, got {state!r}")
    rehydrate = props.get("isRehydrate", False)
    if rehydrate is None:
        rehydrate = False
    if not isinstance(rehydrate, bool):
        raise InvalidRequestContent("properties.isRehydrate must be a boolean")
    return ItemRequest(protected_item_type=kind,
                       source_resource_id=_string(props, "sourceResourceId", "properties"),
                       policy_id=_string(props, "policyId", "properties"),
                       protection_state=state, is_rehydrate=rehydrate)


def policy_name_from_id(policy_id: str) -> str:
    """``{V}/backupPolicies/{name}`` (any case) -> name; the caller checks the vault part."""
    parts = policy_id.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2].lower() != "backuppolicies" or not parts[-1]:
        raise InvalidRequestContent(f"properties.policyId {policy_id!r} is not a backup policy id")
    return parts[-1]


@dataclass(frozen=True)
class BackupRequest:
    expiry: datetime | None


def parse_backup_body(body: Any) -> BackupRequest:
    """Trigger-backup body; no body or ``{}`` means an on-demand backup with policy retention."""
    if body is None:
        return BackupRequest(expiry=None)
    props = _object(_obj(body, "body").get("properties"), "properties", required=False)
    if props is None:
        return BackupRequest(expiry=None)
    kind = props.get("objectType")
    if kind != "IaasVMBackupRequest":
        raise InvalidBackupRequest(f"properties.objectType must be IaasVMBackupRequest, got {kind!r}")
    text = _string(props, "recoveryPointExpiryTimeInUTC", "properties")
    if text is None:
        return BackupRequest(expiry=None)
    try:
        return BackupRequest(expiry=parse_datetime(text))
    except InvalidDateTime as exc:
        raise InvalidBackupRequest(f"properties.recoveryPointExpiryTimeInUTC: {exc.message}") from None


RESTORE_OBJECT_TYPES = ("IaasVMRestoreRequest", "IaasVMRestoreWithRehydrationRequest")
RECOVERY_TYPES = ("OriginalLocation", "AlternateLocation", "RestoreDisks")
_NEEDED_BY_TYPE = {
    "OriginalLocation": (),
    "AlternateLocation": ("storageAccountId", "targetResourceGroupId", "targetVirtualMachineId"),
    "RestoreDisks": ("storageAccountId",),
}


@dataclass(frozen=True)
class RestoreRequest:
    recovery_type: str
    recovery_point_id: str | None
    source_resource_id: str | None
    storage_account_id: str | None
    target_resource_group_id: str | None
    target_virtual_machine_id: str | None
    region: str | None
    raw: dict[str, Any]


def parse_restore_body(body: Any) -> RestoreRequest:
    props = _properties(body)
    kind = props.get("objectType")
    if kind not in RESTORE_OBJECT_TYPES:
        raise InvalidRestoreRequest(
            f"properties.objectType must be one of {', '.join(RESTORE_OBJECT_TYPES)}, got {kind!r}")
    recovery_type = props.get("recoveryType")
    if recovery_type == "Offline":
        raise RecoveryTypeNotSupported(value=recovery_type)
    if recovery_type not in RECOVERY_TYPES:
        raise InvalidRestoreRequest(
            f"properties.recoveryType must be one of {', '.join(RECOVERY_TYPES)}, got {recovery_type!r}")
    fields = {key: _string(props, key, "properties")
              for key in ("recoveryPointId", "sourceResourceId", "storageAccountId", "targetResourceGroupId",
                          "targetVirtualMachineId", "region")}
    missing = [key for key in _NEEDED_BY_TYPE[recovery_type] if not fields[key]]
    if missing:
        needed = ", ".join(f"properties.{key}" for key in missing)
        raise InvalidRestoreRequest(f"recoveryType {recovery_type} needs {needed}")
    return RestoreRequest(recovery_type=recovery_type,
                          recovery_point_id=fields["recoveryPointId"],
                          source_resource_id=fields["sourceResourceId"],
                          storage_account_id=fields["storageAccountId"],
                          target_resource_group_id=fields["targetResourceGroupId"],
                          target_virtual_machine_id=fields["targetVirtualMachineId"],
                          region=fields["region"],
                          raw=copy.deepcopy(props))
