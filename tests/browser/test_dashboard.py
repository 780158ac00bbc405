"""The dashboard in headless Chromium against a real server: sign in with a token, start a
backup from the protected items, watch its job reach Completed, restore a recovery point;
a Backup Reader sees no action buttons; a bad token gets a clear sign-in error."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.conftest import shot
from tests.support.arm import Arm
from tests.support.servers import RunningServer


def sign_in(page: Any, token: str) -> None:
    page.goto("/dashboard/")
    page.fill("#token-input", token)
    page.click("#signin-button")


def test_an_operator_backs_up_an_item_and_watches_its_job_complete(
        page: Any, tokens: dict[str, str], arm: Arm) -> None:
    sign_in(page, tokens["Backup Operator"])
    page.wait_for_selector("#view-jobs:not([hidden])")
    assert "Backup Operator" in page.text_content("#identity")
    page.wait_for_selector("#jobs-body tr[data-item='vm-small'][data-status='Completed']")
    shot(page, "1-jobs")

    page.click("#nav a[data-view='items']")
    row = page.locator("#items-body tr[data-name='vm-big']")
    row.wait_for()
    assert row.get_attribute("data-last-backup-status") == "IRPending"   # never backed up yet
    assert row.locator("td").nth(3).text_content() == ""
    row.locator("button[data-action='backup']").click()

    page.wait_for_url("**/dashboard/#/job/*")
    page.wait_for_selector("#job-title:has-text('Backup of vm-big')")
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + 90
    while True:
        status = page.text_content("#job-status") or ""
        value = float(page.get_attribute("#job-progress", "value") or 0)
        if not seen or seen[-1] != (status, value):
            seen.append((status, value))
        if status == "InProgress" and 0 < value < 100 and not any(s == "InProgress" and 0 < v for s, v in seen[:-1]):
            shot(page, "2-job-in-progress")
        if status not in ("", "InProgress"):
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)
    assert status == "Completed", seen
    assert page.text_content("#job-progress-text") == "100 %"
    progress = [v for s, v in seen if s == "InProgress"]
    assert any(0 < v < 100 for v in progress), f"no progress shown between 0 and 100: {seen}"
    assert progress == sorted(progress), f"the progress bar went backwards: {seen}"
    # the job page shows what the server holds: tasks, property bag, the live log
    job_id = page.text_content("#job-id") or ""
    job = arm.job(job_id)
    assert job["properties"]["status"] == "Completed" and job["properties"]["entityFriendlyName"] == "vm-big"
    assert page.locator("#job-tasks tr").count() == len(job["properties"]["extendedInfo"]["tasksList"]) > 0
    bag = job["properties"]["extendedInfo"]["propertyBag"]
    assert page.locator("#job-props tr").count() == len(bag) > 0
    page.wait_for_function("document.querySelector('#job-log').textContent.trim().length > 0")
    assert page.locator("#job-cancel").is_hidden()      # nothing to cancel once completed
    assert page.locator("#job-no-errors").is_visible()
    shot(page, "3-job-completed")

    # the list, filtered by status, operation and item, shows it; the item shows its backup
    page.click("#nav a[data-view='jobs']")
    page.select_option("#filter-status", "Completed")
    page.select_option("#filter-operation", "Backup")
    page.fill("#filter-item", "big")
    page.wait_for_selector(f"#jobs-body tr[data-key='{job_id}'][data-status='Completed']")
    assert page.locator("#jobs-body tr").count() == 1
    page.click("#nav a[data-view='items']")
    page.wait_for_selector("#items-body tr[data-name='vm-big'][data-last-backup-status='Healthy']")
    assert page.locator("#items-body tr[data-name='vm-big'] td").nth(3).text_content() != ""
    shot(page, "4-items")

    page.click("#sign-out")
    page.wait_for_selector("#view-signin:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.locator("#nav").is_hidden()


def test_an_operator_restores_a_recovery_point_to_a_declared_location(
        page: Any, tokens: dict[str, str], arm: Arm, server: RunningServer) -> None:
    point = arm.points("vm-small")[0]["name"]
    sign_in(page, tokens["Backup Operator"])
    page.wait_for_selector("#view-jobs:not([hidden])")
    page.click("#nav a[data-view='items']")
    page.locator("#items-body tr[data-name='vm-small'] a", has_text="Recovery points").click()
    page.locator(f"#points-body tr[data-key='{point}'] button[data-action='restore']").click()
    page.fill("#restore-location", "restores1")
    assert page.input_value("#restore-rg") == arm.resource_group
    shot(page, "6-restore-form")
    page.click("#restore-submit")
    page.wait_for_selector("#job-title:has-text('Restore of vm-small')")
    page.wait_for_selector("#job-status:has-text('Completed')", timeout=60_000)
    job = arm.job(page.text_content("#job-id") or "")
    assert job["properties"]["operation"] == "Restore" and job["properties"]["status"] == "Completed"
    restored = server.restores.glob("**/index.html")  # type: ignore[attr-defined]
    assert any(p.read_text() == "<h1>hello</h1>\n" for p in restored)


def test_an_operator_cancels_a_running_backup(page: Any, tokens: dict[str, str], arm: Arm) -> None:
    sign_in(page, tokens["Backup Operator"])
    page.wait_for_selector("#view-jobs:not([hidden])")
    page.click("#nav a[data-view='items']")
    page.locator("#items-body tr[data-name='vm-big'] button[data-action='backup']").click()
    page.wait_for_selector("#job-title:has-text('Backup of vm-big')")
    cancel = page.locator("#job-cancel")
    cancel.wait_for(state="visible", timeout=20_000)   # shown while the job runs and is cancellable
    cancel.click()
    page.wait_for_selector("#job-status:text-matches('^Cancel(l)?ed$')", timeout=60_000)
    assert cancel.is_hidden()
    job = arm.job(page.text_content("#job-id") or "")
    assert job["properties"]["status"] == "Cancelled", job
    shot(page, "5-job-cancelled")


def test_a_backup_reader_sees_no_action_buttons(page: Any, tokens: dict[str, str], arm: Arm) -> None:
    sign_in(page, tokens["Backup Reader"])
    page.wait_for_selector("#view-jobs:not([hidden])")
    assert "Backup Reader" in page.text_content("#identity")
    page.wait_for_selector("#jobs-body tr[data-item='vm-small']")
    page.click("#nav a[data-view='items']")
    page.wait_for_selector("#items-body tr[data-name='vm-small']")
    assert page.locator("#items-body tr").count() == 2
    assert page.locator("#items-body button").count() == 0
    shot(page, "7-reader-items")
    page.locator("#items-body tr[data-name='vm-small'] a", has_text="Recovery points").click()
    page.wait_for_selector("#points-body tr")
    assert page.locator("#points-body button").count() == 0
    page.click("#nav a[data-view='jobs']")
    page.locator("#jobs-body tr[data-item='vm-small']").first.click()
    page.wait_for_selector("#job-status:has-text('Completed')")
    assert page.locator("#job-cancel").is_hidden()
    # a start-time range with no job in it
    page.click("#nav a[data-view='jobs']")
    page.wait_for_selector("#jobs-body tr")
    page.fill("#filter-from", "2099-01-01T00:00")
    page.wait_for_selector("#jobs-empty:not([hidden])")
    assert page.locator("#jobs-body tr").count() == 0
    page.fill("#filter-from", "2000-01-01T00:00")
    page.wait_for_selector("#jobs-body tr[data-item='vm-small']")


def test_a_bad_token_gets_a_clear_sign_in_error(page: Any, tokens: dict[str, str]) -> None:
    sign_in(page, "not-a-token")
    error = page.locator("#signin-error")
    error.wait_for()
    assert "This is not an access token" in error.text_content()
    # well-formed, but its signature is not the server's: the server's own answer is shown
    header, payload, signature = tokens["Backup Operator"].split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
    page.fill("#token-input", forged)
    page.click("#signin-button")
    page.wait_for_selector("#signin-error:has-text('InvalidAuthenticationToken')")
    assert error.text_content().startswith("Sign-in failed: The access token is invalid")
    assert page.locator("#view-signin").is_visible() and page.locator("#nav").is_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    shot(page, "8-bad-token")
