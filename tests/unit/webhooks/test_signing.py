"""The signature a receiver checks, the retry delays, and the events filter."""

from __future__ import annotations

import hashlib
import hmac

from strongbox.config import WebhookSettings
from strongbox.services.webhooks import MAX_BACKOFF, backoff, signature, verify, wants

SECRET = b"0123456789abcdef-secret"
BODY = b'{"id":"e1","type":"job.failed"}'


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, "1700000000", BODY) == f"sha256={expected}"


def test_verify_wants_the_right_secret_body_and_a_recent_timestamp() -> None:
    header = signature(SECRET, "1700000000", BODY)
    assert verify(SECRET, "1700000000", BODY, header, now=1700000100)
    assert not verify(b"another-secret-of-16-chars", "1700000000", BODY, header, now=1700000100)
    assert not verify(SECRET, "1700000000", BODY + b" ", header, now=1700000100)
    assert not verify(SECRET, "1700000001", BODY, header, now=1700000100)   # the timestamp is signed too
    assert not verify(SECRET, "1700000000", BODY, header, now=1700000000 + 301)   # a replay, too late
    assert not verify(SECRET, "soon", BODY, header, now=1700000100)


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    assert [backoff(n, 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff(3, 0.25) == 1.0
    assert backoff(40, 1.0) == backoff(1000, 1.0) == MAX_BACKOFF


def test_problems_webhooks_get_failures_warnings_and_cancellations_only() -> None:
    problems = WebhookSettings(url="https://h.example", secret="x" * 16, events="problems")
    everything = WebhookSettings(url="https://h.example", secret="x" * 16)
    kinds = ("job.started", "job.completed", "job.completed_with_warnings", "job.failed", "job.cancelled")
    assert [k for k in kinds if wants(problems, k)] == ["job.completed_with_warnings", "job.failed", "job.cancelled"]
    assert [k for k in kinds if wants(everything, k)] == list(kinds)
