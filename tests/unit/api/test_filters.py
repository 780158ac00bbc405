"""$filter parsing: the spec's examples, the Azure CLI's form, ISO, and bad input."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongbox.api.filters import (
    BadFilter,
    JobQuery,
    job_filter,
    parse_filter,
    recovery_point_filter,
    simple_filter,
)
from strongbox.domain.errors import InvalidParameter

UTC = timezone.utc
SPEC_EXAMPLE = ("startTime eq '2016-01-01 00:00:00 AM' and endTime eq '2017-11-29 00:00:00 AM' "
                "and operation eq 'Backup' and backupManagementType eq 'AzureIaasVM' and status eq 'InProgress'")


def test_spec_example_with_all_supported_filters() -> None:
    assert job_filter(SPEC_EXAMPLE) == JobQuery(
        status="InProgress", operation="Backup", backup_management_type="AzureIaasVM", job_id=None,
        start_from=datetime(2016, 1, 1, tzinfo=UTC), start_to=datetime(2017, 11, 29, tzinfo=UTC))


def test_azure_cli_time_window() -> None:
    start, end = datetime(2026, 11, 29, 7, 28, 30, tzinfo=UTC), datetime(2026, 11, 29, 21, 28, 30, tzinfo=UTC)
    text = (f"operation eq 'Backup' and status eq 'Completed' and startTime eq "
            f"'{start:%Y-%m-%d %I:%M:%S %p}' and endTime eq '{end:%Y-%m-%d %I:%M:%S %p}'")
    query = job_filter(text)
    assert (query.start_from, query.start_to) == (start, end)
    assert (query.operation, query.status) == ("Backup", "Completed")


def test_iso_times_case_and_whitespace_leniency() -> None:
    query = job_filter("  STARTTIME   EQ '2026-11-29T08:00:00Z'AND status Eq 'inprogress'   and "
                       "Operation eq 'configurebackup' and jobId eq 'a-b' ")
    assert query.start_from == datetime(2026, 11, 29, 8, tzinfo=UTC)
    assert query.status == "InProgress"
    assert query.operation == "ConfigureBackup"
    assert query.job_id == "a-b"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_filter(text: str | None) -> None:
    assert job_filter(text) == JobQuery()
    assert parse_filter(text, {"a": str}) == {}


def test_quote_escape() -> None:
    assert simple_filter("friendlyName eq 'it''s'", ["friendlyName"]) == {"friendlyName": "it's"}


def test_simple_filter_canonicalizes_field_names() -> None:
    got = simple_filter("backupmanagementtype eq 'AzureIaasVM' and WORKLOADTYPE eq 'VM'",
                        ["backupManagementType", "workloadType", "friendlyName"])
    assert got == {"backupManagementType": "AzureIaasVM", "workloadType": "VM"}


def test_recovery_point_filter() -> None:
    start, end = recovery_point_filter("startDate eq '2026-11-01 00:00:00 AM' and endDate eq "
                                       "'2026-11-29T00:00:00Z' and restorePointQueryType eq 'All' "
                                       "and extendedInfo eq 'true'")
    assert start == datetime(2026, 11, 1, tzinfo=UTC)
    assert end == datetime(2026, 11, 29, tzinfo=UTC)
    assert recovery_point_filter(None) == (None, None)


@pytest.mark.parametrize(("text", "fragment"), [
    ("colour eq 'red'", "unknown field 'colour' at position 0"),
    ("status ne 'Completed'", "unsupported operator 'ne' at position 7"),
    ("status gt 'Completed'", "unsupported operator 'gt'"),
    ("status eq Completed", "expected a single-quoted value at position 10"),
    ("status eq 'Completed", "unterminated quoted value starting at position 10"),
    ("status eq 'Completed' and status eq 'Failed'", "appears twice"),
    ("status eq 'Completed' or operation eq 'Backup'", "expected 'and' at position 22"),
    ("status eq 'Completed' and", "expected a clause after 'and'"),
    ("status eq 'Done'", "bad value for 'status' at position 10"),
    ("operation eq 'Explode'", "bad value for 'operation'"),
    ("backupManagementType eq 'Tape'", "bad value for 'backupManagementType'"),
    ("startTime eq 'yesterday'", "bad value for 'startTime'"),
    ("startTime eq '2026-02-01' and endTime eq '2026-01-01'", "startTime is after endTime"),
    ("jobId eq ''", "bad value for 'jobId'"),
    ("(status eq 'Completed')", "expected a field name at position 0"),
    ("status", "expected the operator 'eq'"),
])
def test_bad_job_filters(text: str, fragment: str) -> None:
    with pytest.raises(BadFilter) as caught:
        job_filter(text)
    assert caught.value.code == "InvalidFilter"
    assert caught.value.http_status == 400
    assert fragment in caught.value.message


def test_recovery_point_window_order() -> None:
    with pytest.raises(BadFilter, match="startDate is after endDate"):
        recovery_point_filter("startDate eq '2026-02-01' and endDate eq '2026-01-01'")


_TOKENS = st.sampled_from(["status", "startTime", "eq", "and", "'", "''", " ", "'InProgress'",
                           "'2016-01-01 00:00:00 AM'", "ne", "(", "jobId", "'x"])


@given(st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=12).map("".join),
                 st.lists(_TOKENS, max_size=12).map(" ".join)))
def test_parse_filter_raises_only_invalid_parameter(text: str) -> None:
    try:
        job_filter(text)
        recovery_point_filter(text)
        simple_filter(text, ["status", "friendlyName"])
    except InvalidParameter:
        pass


# --- query parameters and skip tokens ---------------------------------------------------------

@pytest.mark.parametrize("query", [{"api-version": "2026-10-01\n"}, {"$filter": "status eq 'a\x00'"},
                                   {"x\x7f": "1"}, {"$filter": "x" * 4097}, {"k" * 101: ""}])
def test_query_parameters_with_control_characters_or_too_long_are_refused(query: dict[str, str]) -> None:
    from strongbox.api.filters import check_query

    with pytest.raises(InvalidParameter):
        check_query(query)
    check_query({"api-version": "2026-10-01", "$filter": "friendlyName eq 'é \u202e'", "$skiptoken": "7"})


@pytest.mark.parametrize("token", ["-1", "١٢", "²", "9" * 19, "1e3", " 1", "0x1"])
def test_skip_tokens_are_only_what_the_server_issues(token: str) -> None:
    from strongbox.api.filters import skip_token

    with pytest.raises(InvalidParameter):
        skip_token(token)
    assert skip_token("42") == 42 and skip_token(None) is None and skip_token("") is None
