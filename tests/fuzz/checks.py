"""What every answer to a hostile request must be: no 5xx, and an error is a CloudError."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field


def problem(status: int, body: bytes, *, oauth: bool = False) -> str | None:
    """Why this answer is wrong, or None. ``oauth``: the public sign-in routes answer
    errors in OAuth2's shape ``{"error", "error_description"}`` (docs/errors.md)."""
    if status >= 500:
        return f"HTTP {status}"
    if status < 400:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return f"HTTP {status} with a body that is not JSON"
    if oauth and isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc.get("error_description"):
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    if set(doc) != {"error"} or not isinstance(error, dict) or set(error) != {"code", "message"} \
            or not all(isinstance(error[k], str) and error[k] for k in ("code", "message")):
        return f"HTTP {status} whose body is not a CloudError"
    return None


def tracebacks(log: str) -> str:
    """The server log's first traceback and what led to it ('' when there is none)."""
    at = log.find("Traceback")
    if at < 0:
        return ""
    start = log.rfind("\n", 0, max(0, at - 1)) + 1
    return log[start:at + 4000]


@dataclass
class Tally:
    """Answers seen, and the wrong ones with enough to replay them."""

    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def record(self, request: str, status: int, body: bytes, *, oauth: bool = False) -> None:
        self.statuses[status] += 1
        if status >= 400:
            try:
                error = json.loads(body).get("error")
                self.codes[error["code"] if isinstance(error, dict) else str(error)] += 1
            except (ValueError, AttributeError, KeyError, TypeError):
                pass
        wrong = problem(status, body, oauth=oauth)
        if wrong is not None and len(self.failures) < 50:
            self.failures.append(f"{wrong}: {request[:600]}\n    -> {body[:400]!r}")

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        return f"{self.total} answers: {dict(sorted(self.statuses.items()))}; {dict(self.codes.most_common(15))}"

    def report(self) -> str:
        return "\n".join(self.failures)
