"""The usage view: who used what, when; ids, kinds and dates only.

It reads clear fields of events only, so it runs without a KEK and erasure
changes none of its figures. No row names a participant: a pupil's row is
keyed by the position of the event that registered them.
"""

from collections.abc import Callable, Sequence
from typing import Any

from wellbeing.persistence.database import Tx
from wellbeing.projections.engine import Table, view_table
from wellbeing.projections.log import Notification
from wellbeing.projections.periods import school_day
from wellbeing.projections.rows import RowChanges

TABLES = (
    view_table(
        "usage_teams", "team_id TEXT, name TEXT, la_code TEXT, at TEXT", "team_id"
    ),
    view_table("usage_users", "user_id TEXT, at TEXT", "user_id"),
    view_table(
        "usage_members",
        "member_id TEXT, team_id TEXT, user_id TEXT, joined INTEGER",
        "member_id",
    ),
    view_table(
        "usage_participants",
        "registration INTEGER, team_id TEXT, at TEXT",
        "registration",
    ),
    view_table(
        "usage_snapshots",
        "snapshot_id TEXT, team_id TEXT, kind TEXT, status TEXT, at TEXT",
        "snapshot_id",
    ),
    view_table(
        "usage_programs",
        "program_id TEXT, team_id TEXT, status TEXT, at TEXT",
        "program_id",
    ),
    view_table(
        "usage_agreements",
        "agreement_id TEXT, team_id TEXT, partner TEXT, starts TEXT, ends TEXT",
        "agreement_id",
    ),
)
Handler = Callable[[RowChanges, Any, int], None]


def _day(e: Any) -> str:
    return school_day(e.timestamp).isoformat()


def _team_registered(rows: RowChanges, e: Any, _: int) -> None:
    rows.put(
        "usage_teams",
        {
            "team_id": str(e.originator_id),
            "name": e.name,
            "la_code": e.la_code,
            "at": _day(e),
        },
    )


def _team_renamed(rows: RowChanges, e: Any, _: int) -> None:
    rows.update("usage_teams", str(e.originator_id), name=e.name)


def _user_registered(rows: RowChanges, e: Any, _: int) -> None:
    rows.put("usage_users", {"user_id": str(e.originator_id), "at": _day(e)})


def _member_id(e: Any) -> str:
    return f"{e.originator_id}/{e.user_id}"


def _member(*, joined: bool) -> Handler:
    def change(rows: RowChanges, e: Any, _: int) -> None:
        rows.put(
            "usage_members",
            {
                "member_id": _member_id(e),
                "team_id": str(e.originator_id),
                "user_id": str(e.user_id),
                "joined": int(joined),
            },
        )

    return change


def _member_joined(rows: RowChanges, e: Any, _: int) -> None:
    rows.update("usage_members", _member_id(e), joined=1)


def _member_removed(rows: RowChanges, e: Any, _: int) -> None:
    rows.delete("usage_members", _member_id(e))


def _participant_registered(rows: RowChanges, e: Any, position: int) -> None:
    rows.put(
        "usage_participants",
        {"registration": position, "team_id": str(e.team_id), "at": _day(e)},
    )


def _snapshot_started(rows: RowChanges, e: Any, _: int) -> None:
    rows.put(
        "usage_snapshots",
        {
            "snapshot_id": str(e.originator_id),
            "team_id": str(e.team_id),
            "kind": e.kind,
            "status": "started",
            "at": e.taken_on.isoformat(),
        },
    )


def _program_started(rows: RowChanges, e: Any, _: int) -> None:
    rows.put(
        "usage_programs",
        {
            "program_id": str(e.originator_id),
            "team_id": str(e.team_id),
            "status": "active",
            "at": _day(e),
        },
    )


def _agreed(rows: RowChanges, e: Any, _: int) -> None:
    rows.put(
        "usage_agreements",
        {
            "agreement_id": f"{e.originator_id}/{e.partner}",
            "team_id": str(e.originator_id),
            "partner": e.partner,
            "starts": e.starts.isoformat(),
            "ends": e.ends.isoformat() if e.ends else None,
        },
    )


def _withdrawn(rows: RowChanges, e: Any, _: int) -> None:
    rows.update(
        "usage_agreements", f"{e.originator_id}/{e.partner}", ends=e.on.isoformat()
    )


def _status(table: str, status: str) -> Handler:
    def change(rows: RowChanges, e: Any, _: int) -> None:
        rows.update(table, str(e.originator_id), status=status)

    return change


_HANDLERS: dict[str, Handler] = {
    "wellbeing:TeamRegistered": _team_registered,
    "wellbeing:TeamRenamed": _team_renamed,
    "wellbeing:TeamFounderJoined": _member(joined=True),
    "wellbeing:TeamMemberInvited": _member(joined=False),
    "wellbeing:TeamMemberJoined": _member_joined,
    "wellbeing:TeamMemberRemoved": _member_removed,
    "wellbeing:TeamSharingAgreed": _agreed,
    "wellbeing:TeamSharingWithdrawn": _withdrawn,
    "wellbeing:UserRegistered": _user_registered,
    "wellbeing:ParticipantRegistered": _participant_registered,
    "wellbeing:SnapshotStarted": _snapshot_started,
    "wellbeing:SnapshotCompleted": _status("usage_snapshots", "completed"),
    "wellbeing:SnapshotDiscarded": _status("usage_snapshots", "discarded"),
    "wellbeing:ProgramStarted": _program_started,
    "wellbeing:ProgramClosed": _status("usage_programs", "closed"),
}


class UsageProjection:
    """Counts need no key: only clear fields of events are read."""

    name: str = "usage"
    version: int = 2
    tables: tuple[Table, ...] = TABLES
    topics: frozenset[str] = frozenset(_HANDLERS)

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        rows = RowChanges(TABLES)
        for notification in batch:
            event = notification.event
            _HANDLERS[type(event).TOPIC](rows, event, notification.position)
        rows.write(tx, names)
