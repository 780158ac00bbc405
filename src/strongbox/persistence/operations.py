"""Operations: the records a 202 points at, kept after they finish (clients poll late).

Looked up by (vault, id), so an operation id never resolves in another vault.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from strongbox.domain.operations import Operation, OperationKind, OperationStatus
from strongbox.persistence.schema import operations


class OperationRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, op: Operation) -> None:
        self._c.execute(operations.insert().values(id=op.id, vault_key=op.vault_key, kind=op.kind.value,
                                                   start_time=op.start_time, **_progress(op)))

    def get(self, vault_key: str, op_id: str) -> Operation | None:
        row = self._c.execute(sa.select(operations).where(operations.c.vault_key == vault_key,
                                                          operations.c.id == op_id)).one_or_none()
        return None if row is None else _operation(row)

    def update(self, op: Operation) -> None:
        """Write what changes as an operation runs (status, job, end, error, result)."""
        self._c.execute(operations.update().where(operations.c.id == op.id).values(**_progress(op)))


def _progress(op: Operation) -> dict[str, Any]:
    return {"status": op.status.value, "job_id": op.job_id, "follows_job": op.follows_job,
            "end_time": op.end_time, "error_code": op.error_code, "error_message": op.error_message,
            "result": op.result}


def _operation(row: sa.Row[Any]) -> Operation:
    return Operation(id=row.id, vault_key=row.vault_key, kind=OperationKind(row.kind), start_time=row.start_time,
                     status=OperationStatus(row.status), job_id=row.job_id, follows_job=bool(row.follows_job),
                     end_time=row.end_time, error_code=row.error_code, error_message=row.error_message,
                     result=row.result)
