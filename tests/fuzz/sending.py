"""Send generated requests on two threads while hypothesis generates the next ones:
generating a case costs about as much as the server's answer, so overlapping them nearly
halves the run. Answers are judged afterwards, in the order the cases were made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from tests.fuzz.checks import Tally

#: (what was sent, for the report; HTTP status; body; answered by an OAuth2 route)
Answer = tuple[str, int, bytes, bool]


class Batch:
    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.pending: list[Future[Answer | None]] = []

    def submit(self, send: Callable[[], Answer | None]) -> None:
        self.pending.append(self.pool.submit(send))

    def judge(self, tally: Tally) -> None:
        for future in self.pending:
            answer = future.result()
            if answer is not None:
                described, status, body, oauth = answer
                tally.record(described, status, body, oauth=oauth)
        self.pending.clear()


@contextmanager
def batch(tally: Tally) -> Iterator[Batch]:
    with ThreadPoolExecutor(2, thread_name_prefix="fuzz-send") as pool:
        b = Batch(pool)
        try:
            yield b
        finally:
            b.judge(tally)
