"""Import jobs started over the API, and their row reports.

A row report holds row numbers, outcome codes, column names and
participant ids; never a value from the file. Erasure clears the erased
participant's id from every report.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from wellbeing.persistence.database import Tx
from wellbeing.persistence.erasure import register_eraser

QUEUED = "queued"
RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class JobRow:
    seq: int
    job_id: UUID
    team_id: UUID
    actor_id: UUID
    commit: bool
    status: str
    summary: dict[str, Any] | None
    error: str | None
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class RowReport:
    number: int
    status: str
    reasons: list[str]
    participant_id: UUID | None


def _param(tx: Tx, value: UUID | None) -> Any:
    if value is None:
        return None
    return str(value) if tx.dialect == "sqlite" else value


def _now(tx: Tx) -> Any:
    now = datetime.now(UTC)
    return now.isoformat(timespec="microseconds") if tx.dialect == "sqlite" else now


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def create(
    tx: Tx, job_id: UUID, team_id: UUID, actor_id: UUID, runner: str, commit: bool
) -> None:
    """A queued job; `runner` names the process whose disk holds the file."""
    tx.execute(
        "INSERT INTO import_jobs (job_id, team_id, actor_id, runner, commit_rows,"
        " status, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            _param(tx, job_id),
            _param(tx, team_id),
            _param(tx, actor_id),
            runner,
            commit,
            QUEUED,
            _now(tx),
        ),
    )


def set_status(tx: Tx, job_id: UUID, status: str) -> None:
    tx.execute(
        "UPDATE import_jobs SET status = %s WHERE job_id = %s",
        (status, _param(tx, job_id)),
    )


def finish(
    tx: Tx, job_id: UUID, summary: dict[str, Any], rows: Sequence[RowReport]
) -> None:
    """Store the outcome and the row report; counts and codes only."""
    tx.executemany(
        "INSERT INTO import_job_rows (job_id, row_number, status, reasons,"
        " participant_id) VALUES (%s, %s, %s, %s, %s)",
        [
            (
                _param(tx, job_id),
                row.number,
                row.status,
                " ".join(row.reasons),
                _param(tx, row.participant_id),
            )
            for row in rows
        ],
    )
    tx.execute(
        "UPDATE import_jobs SET status = %s, summary = %s, finished_at = %s"
        " WHERE job_id = %s",
        (FINISHED, orjson.dumps(summary).decode(), _now(tx), _param(tx, job_id)),
    )


def fail(tx: Tx, job_id: UUID, code: str) -> None:
    tx.execute(
        "UPDATE import_jobs SET status = %s, error = %s, finished_at = %s"
        " WHERE job_id = %s",
        (FAILED, code, _now(tx), _param(tx, job_id)),
    )


def interrupt_unfinished(tx: Tx, runner: str) -> int:
    """Mark a stopped runner's queued or running jobs as interrupted."""
    tx.execute(
        "SELECT count(*) FROM import_jobs WHERE runner = %s AND status IN (%s, %s)",
        (runner, QUEUED, RUNNING),
    )
    row = tx.fetchone()
    tx.execute(
        "UPDATE import_jobs SET status = %s WHERE runner = %s AND status IN (%s, %s)",
        (INTERRUPTED, runner, QUEUED, RUNNING),
    )
    return int(row[0]) if row else 0


_COLUMNS = (
    "seq, job_id, team_id, actor_id, commit_rows, status, summary, error,"
    " created_at, finished_at"
)


def _job(values: tuple[Any, ...]) -> JobRow:
    seq, job_id, team_id, actor_id, commit, status, summary, error, made, done = values
    return JobRow(
        int(seq),
        UUID(str(job_id)),
        UUID(str(team_id)),
        UUID(str(actor_id)),
        bool(commit),
        str(status),
        None if summary is None else orjson.loads(summary),
        error,
        _text(made) or "",
        _text(done),
    )


def find(tx: Tx, job_id: UUID) -> JobRow | None:
    tx.execute(
        "SELECT " + _COLUMNS + " FROM import_jobs WHERE job_id = %s",
        (_param(tx, job_id),),
    )
    row = tx.fetchone()
    return None if row is None else _job(row)


def page(tx: Tx, team_id: UUID, after: int, limit: int) -> list[JobRow]:
    """A team's jobs, oldest first, after a sequence number."""
    tx.execute(
        "SELECT " + _COLUMNS + " FROM import_jobs WHERE team_id = %s AND seq > %s"
        " ORDER BY seq LIMIT %s",
        (_param(tx, team_id), after, limit),
    )
    return [_job(values) for values in tx.fetchall()]


def row_page(tx: Tx, job_id: UUID, after: int, limit: int) -> list[RowReport]:
    tx.execute(
        "SELECT row_number, status, reasons, participant_id FROM import_job_rows"
        " WHERE job_id = %s AND row_number > %s ORDER BY row_number LIMIT %s",
        (_param(tx, job_id), after, limit),
    )
    return [
        RowReport(
            int(number),
            str(status),
            str(reasons).split(),
            None if participant is None else UUID(str(participant)),
        )
        for number, status, reasons, participant in tx.fetchall()
    ]


@register_eraser("import-job-rows", "import_job_rows")
def erase_job_rows(tx: Tx, subject_id: UUID) -> None:
    tx.execute(
        "UPDATE import_job_rows SET participant_id = NULL WHERE participant_id = %s",
        (_param(tx, subject_id),),
    )
