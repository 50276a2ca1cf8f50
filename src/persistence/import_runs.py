"""Import runs and their row outcomes: numbers, codes and ids, never a value.

A run is keyed by a fingerprint of the file and the import's options: an
HMAC under a key of the team's, never a plain hash, because the file holds
personal data. At most one run per fingerprint is open (running or
interrupted) at a time, so a second import of the same file joins it; row
outcomes are keyed by run and row number, so a row is settled only once.
"""

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from wellbeing.persistence.bulk import BulkInsert
from wellbeing.persistence.database import DatabaseError, Tx
from wellbeing.persistence.erasure import register_eraser
from wellbeing.persistence.keys import SubjectKeys

RUNNING = "running"
INTERRUPTED = "interrupted"
FINISHED = "finished"
# A run whose process has not written for this long is shown as interrupted:
# a process that was killed cannot say so itself.
STALE_AFTER = timedelta(seconds=60)
_CHUNK = 1 << 16
_KEY_KIND = "team-index"


class RunNotOpened(DatabaseError):
    """Imports of the same file kept finishing before this one could join."""

    code = "import-run-not-opened"


@dataclass(frozen=True)
class ImportRun:
    """One run as stored; `status_at` tells running from interrupted."""

    id: UUID
    status: str
    names_matching: bool
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    left_count: int

    def status_at(self, now: datetime) -> str:
        if self.status == RUNNING and now - self.heartbeat_at > STALE_AFTER:
            return INTERRUPTED
        return self.status


@dataclass(frozen=True, slots=True)
class RowRecord:
    """The settled outcome of one row of a run."""

    number: int
    status: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    participant_id: UUID | None


@dataclass(frozen=True)
class RunSummary:
    """A run with its counts per row status, for listing."""

    run: ImportRun
    counts: dict[str, int]


class ImportRuns:
    """The import runs of one team."""

    def __init__(self, keys: SubjectKeys, team_id: UUID) -> None:
        self.team_id = team_id
        self._keys = keys

    def fingerprint(self, source: Path, options: bytes) -> str:
        """An HMAC of the options and the file's bytes, read in chunks."""
        key = self._keys.for_writing(_fingerprint_subject(self.team_id), _KEY_KIND)
        mac = hmac.new(key, options + b"\x00", hashlib.sha256)
        with source.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                mac.update(chunk)
        return mac.hexdigest()

    def finished(self, tx: Tx, fingerprint: str) -> ImportRun | None:
        """The latest finished run of this fingerprint, if any."""
        tx.execute(
            _SELECT_RUN + " WHERE team_id = %s AND fingerprint = %s AND status = %s"
            " ORDER BY started_at DESC LIMIT 1",
            (_param(tx, self.team_id), fingerprint, FINISHED),
        )
        row = tx.fetchone()
        return None if row is None else _run(row)

    def start_or_resume(
        self, tx: Tx, fingerprint: str, actor_id: UUID, names_matching: bool
    ) -> tuple[ImportRun, bool]:
        """Open a run for the fingerprint, or join the one that is open.

        Returns the run and whether it had begun before; a joined run keeps
        the way of matching it started with.
        """
        row = None
        # The open run another import holds may finish between the insert
        # that yields to it and the select: a second round opens a new run.
        for _ in range(2):
            self._open(tx, fingerprint, actor_id, names_matching)
            tx.execute(
                _SELECT_RUN
                + " WHERE team_id = %s AND fingerprint = %s AND status <> %s",
                (_param(tx, self.team_id), fingerprint, FINISHED),
            )
            row = tx.fetchone()
            if row is not None:
                break
        if row is None:
            raise RunNotOpened("no import run could be opened for the file")
        run = _run(row)
        tx.execute("SELECT 1 FROM import_rows WHERE run_id = %s LIMIT 1", (row[0],))
        resumed = tx.fetchone() is not None or run.status != RUNNING
        self._set_status(tx, run.id, RUNNING)
        return run, resumed

    def _open(
        self, tx: Tx, fingerprint: str, actor_id: UUID, names_matching: bool
    ) -> None:
        now = _now(tx)
        tx.execute(
            "INSERT INTO import_runs (run_id, team_id, fingerprint, actor_id,"
            " status, names_matching, left_count, started_at, heartbeat_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s) ON CONFLICT DO NOTHING",
            (
                _param(tx, uuid4()),
                _param(tx, self.team_id),
                fingerprint,
                _param(tx, actor_id),
                RUNNING,
                names_matching,
                now,
                now,
            ),
        )

    def record(self, tx: Tx, run_id: UUID, rows: Sequence[RowRecord]) -> None:
        """Store settled rows; raises UniqueViolation if one was settled."""
        if not rows:
            return
        run = _param(tx, run_id)
        _ROW_RECORDS.run(
            tx,
            [
                (
                    run,
                    r.number,
                    r.status,
                    ",".join(r.reasons),
                    ",".join(r.warnings),
                    None if r.participant_id is None else _param(tx, r.participant_id),
                )
                for r in rows
            ],
        )
        tx.execute(
            "UPDATE import_runs SET heartbeat_at = %s WHERE run_id = %s",
            (_now(tx), run),
        )

    def recorded(
        self, tx: Tx, run_id: UUID, first: int, last: int
    ) -> dict[int, RowRecord]:
        """Rows of the run numbered first to last that are settled already."""
        tx.execute(
            _SELECT_ROWS + " AND row_number BETWEEN %s AND %s",
            (_param(tx, run_id), first, last),
        )
        return {record.number: record for record in map(_record, tx.fetchall())}

    def rows(self, tx: Tx, run_id: UUID) -> Iterator[RowRecord]:
        tx.execute(_SELECT_ROWS + " ORDER BY row_number", (_param(tx, run_id),))
        for row in tx.fetchall():
            yield _record(row)

    def finish(self, tx: Tx, run_id: UUID, left_count: int) -> None:
        tx.execute(
            "UPDATE import_runs SET status = %s, finished_at = %s,"
            " heartbeat_at = %s, left_count = left_count + %s WHERE run_id = %s",
            (FINISHED, _now(tx), _now(tx), left_count, _param(tx, run_id)),
        )

    def interrupt(self, tx: Tx, run_id: UUID) -> None:
        """Mark a run that stopped on an error; the next import resumes it."""
        tx.execute(
            "UPDATE import_runs SET status = %s WHERE run_id = %s AND status = %s",
            (INTERRUPTED, _param(tx, run_id), RUNNING),
        )

    def _set_status(self, tx: Tx, run_id: UUID, status: str) -> None:
        tx.execute(
            "UPDATE import_runs SET status = %s, heartbeat_at = %s WHERE run_id = %s",
            (status, _now(tx), _param(tx, run_id)),
        )

    def summaries(self, tx: Tx) -> list[RunSummary]:
        """Every run of the team, newest first, with its counts."""
        tx.execute(
            _SELECT_RUN + " WHERE team_id = %s ORDER BY started_at DESC",
            (_param(tx, self.team_id),),
        )
        runs = [_run(row) for row in tx.fetchall()]
        summaries = []
        for run in runs:
            tx.execute(
                "SELECT status, count(*) FROM import_rows WHERE run_id = %s"
                " GROUP BY status",
                (_param(tx, run.id),),
            )
            counts = {str(status): int(n) for status, n in tx.fetchall()}
            summaries.append(RunSummary(run, counts))
        return summaries


_SELECT_RUN = (
    "SELECT run_id, status, names_matching, started_at, heartbeat_at,"
    " finished_at, left_count FROM import_runs"
)
_ROW_RECORDS = BulkInsert(
    "import_rows",
    (
        ("run_id", "uuid"),
        ("row_number", "integer"),
        ("status", "text"),
        ("reasons", "text"),
        ("warnings", "text"),
        ("participant_id", "uuid"),
    ),
)
_SELECT_ROWS = (
    "SELECT row_number, status, reasons, warnings, participant_id"
    " FROM import_rows WHERE run_id = %s"
)


def _fingerprint_subject(team_id: UUID) -> UUID:
    # A key of its own, so that fingerprints and blind-index digests of the
    # same team can never be compared.
    return UUID(bytes=hashlib.sha256(b"import-runs" + team_id.bytes).digest()[:16])


def _param(tx: Tx, value: UUID) -> Any:
    return str(value) if tx.dialect == "sqlite" else value


def _now(tx: Tx) -> Any:
    now = datetime.now(UTC)
    return now.isoformat() if tx.dialect == "sqlite" else now


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _run(row: tuple[Any, ...]) -> ImportRun:
    run_id, status, names, started, beat, finished, left = row
    return ImportRun(
        id=run_id if isinstance(run_id, UUID) else UUID(run_id),
        status=str(status),
        names_matching=bool(names),
        started_at=_time(started),
        heartbeat_at=_time(beat),
        finished_at=None if finished is None else _time(finished),
        left_count=int(left),
    )


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _record(row: tuple[Any, ...]) -> RowRecord:
    number, status, reasons, warnings, participant = row
    return RowRecord(
        number=int(number),
        status=str(status),
        reasons=_codes(reasons),
        warnings=_codes(warnings),
        participant_id=None if participant is None else UUID(str(participant)),
    )


# No table is named for vacuuming: a row keeps only codes and, until this
# runs, a participant id, which the event store keeps in clear anyway; a
# vacuum of a table with a row per imported pupil on every erasure would cost
# far more than it protects.
@register_eraser("import-runs")
def scrub_import_rows(tx: Tx, subject_id: UUID) -> None:
    """Keep the row's status and codes; drop the link to the erased person."""
    tx.execute(
        "UPDATE import_rows SET participant_id = NULL WHERE participant_id = %s",
        (_param(tx, subject_id),),
    )
