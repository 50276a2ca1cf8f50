"""The usage view: who used what, when; ids, kinds and dates only."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from wellbeing.persistence.database import Tx
from wellbeing.projections.engine import Notification, Table
from wellbeing.projections.rows import RowChanges


def _table(name: str, columns: str, key: str) -> Table:
    statement = "CREATE TABLE {table} (" + columns + ", PRIMARY KEY (" + key + "))"
    return Table(name, sqlite=(statement,), postgres=(statement,))


TABLES = (
    _table("usage_teams", "team_id TEXT, la_code TEXT, at TEXT", "team_id"),
    _table("usage_users", "user_id TEXT, at TEXT", "user_id"),
    _table(
        "usage_participants",
        "participant_id TEXT, team_id TEXT, at TEXT",
        "participant_id",
    ),
    _table(
        "usage_snapshots",
        "snapshot_id TEXT, team_id TEXT, kind TEXT, status TEXT, at TEXT",
        "snapshot_id",
    ),
    _table(
        "usage_programs",
        "program_id TEXT, team_id TEXT, status TEXT, at TEXT",
        "program_id",
    ),
    _table(
        "usage_agreements",
        "agreement_id TEXT, team_id TEXT, partner TEXT, starts TEXT, ends TEXT",
        "agreement_id",
    ),
)
KEYS = {
    "usage_teams": "team_id",
    "usage_users": "user_id",
    "usage_participants": "participant_id",
    "usage_snapshots": "snapshot_id",
    "usage_programs": "program_id",
    "usage_agreements": "agreement_id",
}


def _day(value: datetime) -> str:
    return value.date().isoformat()


def _team_registered(rows: RowChanges, e: Any) -> None:
    rows.insert(
        "usage_teams",
        {
            "team_id": str(e.originator_id),
            "la_code": e.la_code,
            "at": _day(e.timestamp),
        },
    )


def _user_registered(rows: RowChanges, e: Any) -> None:
    rows.insert(
        "usage_users", {"user_id": str(e.originator_id), "at": _day(e.timestamp)}
    )


def _participant_registered(rows: RowChanges, e: Any) -> None:
    rows.insert(
        "usage_participants",
        {
            "participant_id": str(e.originator_id),
            "team_id": str(e.team_id),
            "at": _day(e.timestamp),
        },
    )


def _snapshot_started(rows: RowChanges, e: Any) -> None:
    rows.insert(
        "usage_snapshots",
        {
            "snapshot_id": str(e.originator_id),
            "team_id": str(e.team_id),
            "kind": e.kind,
            "status": "started",
            "at": e.taken_on.isoformat(),
        },
    )


def _program_started(rows: RowChanges, e: Any) -> None:
    rows.insert(
        "usage_programs",
        {
            "program_id": str(e.originator_id),
            "team_id": str(e.team_id),
            "status": "active",
            "at": _day(e.timestamp),
        },
    )


def _agreed(rows: RowChanges, e: Any) -> None:
    agreement_id = f"{e.originator_id}/{e.partner}"
    rows.delete("usage_agreements", agreement_id)
    rows.insert(
        "usage_agreements",
        {
            "agreement_id": agreement_id,
            "team_id": str(e.originator_id),
            "partner": e.partner,
            "starts": e.starts.isoformat(),
            "ends": e.ends.isoformat() if e.ends else None,
        },
    )


def _withdrawn(rows: RowChanges, e: Any) -> None:
    rows.update(
        "usage_agreements", f"{e.originator_id}/{e.partner}", ends=e.on.isoformat()
    )


def _status(table: str, status: str) -> Callable[[RowChanges, Any], None]:
    def change(rows: RowChanges, e: Any) -> None:
        rows.update(table, str(e.originator_id), status=status)

    return change


_HANDLERS: dict[str, Callable[[RowChanges, Any], None]] = {
    "wellbeing:TeamRegistered": _team_registered,
    "wellbeing:UserRegistered": _user_registered,
    "wellbeing:ParticipantRegistered": _participant_registered,
    "wellbeing:SnapshotStarted": _snapshot_started,
    "wellbeing:SnapshotCompleted": _status("usage_snapshots", "completed"),
    "wellbeing:SnapshotDiscarded": _status("usage_snapshots", "discarded"),
    "wellbeing:ProgramStarted": _program_started,
    "wellbeing:ProgramClosed": _status("usage_programs", "closed"),
    "wellbeing:TeamSharingAgreed": _agreed,
    "wellbeing:TeamSharingWithdrawn": _withdrawn,
}


class UsageProjection:
    """Counts need no key: only clear fields of events are read."""

    name: str = "usage"
    tables: tuple[Table, ...] = TABLES
    topics: frozenset[str] = frozenset(_HANDLERS)

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        rows = RowChanges(KEYS)
        for notification in batch:
            event = notification.event
            _HANDLERS[type(event).TOPIC](rows, event)
        rows.write(tx, names)
