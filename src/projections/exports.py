"""The export view: what partner exports need, personal fields still sealed.

Personal fields are copied as the sealed bytes the events hold, so the view
never needs a key to be maintained, and an erased person's copies become
unreadable with the key; erasure deletes the rows as well, in the live
tables and in any rebuild under way.
"""

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from wellbeing.persistence.database import Tx
from wellbeing.persistence.erasure import register_eraser
from wellbeing.persistence.transcoder import SealedBytes
from wellbeing.projections.engine import (
    Table,
    catch_up,
    every_name,
    existing_tables,
    identifier,
    live_names,
    view_table,
)
from wellbeing.projections.log import Notification
from wellbeing.projections.periods import school_day
from wellbeing.projections.rows import RowChanges

if TYPE_CHECKING:
    from wellbeing.persistence.runtime import Runtime

DETAIL_FIELDS = (
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
    "upn",
    "tags",
)
ERASED_TOPIC = "wellbeing:ParticipantPersonalDataErased"

TABLES = (
    view_table(
        "export_participants",
        "participant_id TEXT, team_id TEXT, objects INTEGER, left_on TEXT, "
        + ", ".join(f"{name} TEXT" for name in DETAIL_FIELDS),
        "participant_id",
    ),
    view_table(
        "export_changes",
        "change_id INTEGER, participant_id TEXT, kind TEXT, taxonomy TEXT, sealed TEXT",
        "change_id",
        "participant_id",
    ),
    view_table(
        "export_snapshots",
        "snapshot_id TEXT, participant_id TEXT, team_id TEXT, kind TEXT,"
        " status TEXT, taken_on TEXT, instrument TEXT, scores TEXT",
        "snapshot_id",
        "participant_id",
    ),
    view_table(
        "export_programs",
        "program_id TEXT, participant_id TEXT, team_id TEXT, snapshot_id TEXT,"
        " status TEXT, started_on TEXT",
        "program_id",
        "participant_id",
    ),
)
Handler = Callable[[RowChanges, Any, int], None]


def sealed_text(value: Any) -> str | None:
    """Sealed bytes as text for a view column; a clear None stays None."""
    if isinstance(value, SealedBytes):
        return base64.b64encode(value.data).decode("ascii")
    return None


def _registered(rows: RowChanges, e: Any, _: int) -> None:
    row: dict[str, Any] = {
        "participant_id": str(e.originator_id),
        "team_id": str(e.team_id),
        "objects": 0,
        "left_on": None,
    }
    row.update({name: sealed_text(getattr(e, name, None)) for name in DETAIL_FIELDS})
    rows.put("export_participants", row)


def _corrected(rows: RowChanges, e: Any, _: int) -> None:
    changes = {
        name: sealed_text(getattr(e, name, None))
        for name in DETAIL_FIELDS
        if isinstance(getattr(e, name, None), SealedBytes)
    }
    if changes:
        rows.update("export_participants", str(e.originator_id), **changes)


def _tag_change(kind: str) -> Handler:
    def change(rows: RowChanges, e: Any, position: int) -> None:
        rows.put(
            "export_changes",
            {
                "change_id": position,
                "participant_id": str(e.originator_id),
                "kind": kind,
                "taxonomy": sealed_text(e.taxonomy),
                "sealed": sealed_text(e.tag),
            },
        )

    return change


def _flag(**changes: Any) -> Handler:
    def change(rows: RowChanges, e: Any, _: int) -> None:
        rows.update("export_participants", str(e.originator_id), **changes)

    return change


def _left(rows: RowChanges, e: Any, _: int) -> None:
    rows.update("export_participants", str(e.originator_id), left_on=e.on.isoformat())


def _snapshot_started(rows: RowChanges, e: Any, _: int) -> None:
    rows.put(
        "export_snapshots",
        {
            "snapshot_id": str(e.originator_id),
            "participant_id": str(e.participant_id),
            "team_id": str(e.team_id),
            "kind": e.kind,
            "status": "started",
            "taken_on": e.taken_on.isoformat(),
            "instrument": e.instrument,
            "scores": None,
        },
    )


def _snapshot_completed(rows: RowChanges, e: Any, _: int) -> None:
    rows.update(
        "export_snapshots",
        str(e.originator_id),
        status="completed",
        scores=sealed_text(e.scores),
    )


def _program_started(rows: RowChanges, e: Any, _: int) -> None:
    rows.put(
        "export_programs",
        {
            "program_id": str(e.originator_id),
            "participant_id": str(e.participant_id),
            "team_id": str(e.team_id),
            "snapshot_id": str(e.snapshot_id),
            "status": "active",
            "started_on": school_day(e.timestamp).isoformat(),
        },
    )


def _status(table: str, status: str) -> Handler:
    def change(rows: RowChanges, e: Any, _: int) -> None:
        rows.update(table, str(e.originator_id), status=status)

    return change


def _erased(rows: RowChanges, e: Any, _: int) -> None:
    # The participant's other rows are deleted by SQL after the batch.
    rows.delete("export_participants", str(e.originator_id))


_HANDLERS: dict[str, Handler] = {
    "wellbeing:ParticipantRegistered": _registered,
    "wellbeing:ParticipantDetailsCorrected": _corrected,
    "wellbeing:ParticipantUpnAssigned": _corrected,
    "wellbeing:ParticipantUpnReplaced": _corrected,
    "wellbeing:ParticipantTagged": _tag_change("tagged"),
    "wellbeing:ParticipantUntagged": _tag_change("untagged"),
    "wellbeing:ParticipantObjectedToSharing": _flag(objects=1),
    "wellbeing:ParticipantObjectionWithdrawn": _flag(objects=0),
    "wellbeing:ParticipantLeft": _left,
    "wellbeing:ParticipantRejoined": _flag(left_on=None),
    ERASED_TOPIC: _erased,
    "wellbeing:SnapshotStarted": _snapshot_started,
    "wellbeing:SnapshotCompleted": _snapshot_completed,
    "wellbeing:SnapshotDiscarded": _status("export_snapshots", "discarded"),
    "wellbeing:ProgramStarted": _program_started,
    "wellbeing:ProgramClosed": _status("export_programs", "closed"),
}


class ExportProjection:
    """Facts for partner exports; personal fields stay sealed."""

    name: str = "exports"
    version: int = 3
    tables: tuple[Table, ...] = TABLES
    topics: frozenset[str] = frozenset(_HANDLERS)

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        rows = RowChanges(TABLES)
        erased: list[str] = []
        for notification in batch:
            event = notification.event
            topic = type(event).TOPIC
            _HANDLERS[topic](rows, event, notification.position)
            if topic == ERASED_TOPIC:
                erased.append(str(event.originator_id))
        rows.write(tx, names)
        for participant_id in erased:
            delete_participant_rows(tx, list(names.values()), participant_id)


def records_of(runtime: "Runtime", participant_id: UUID) -> tuple[list[UUID], ...]:
    """The ids of a participant's snapshots and of their programs, oldest
    first, from the view brought up to date; none once they are erased."""
    projection = ExportProjection()
    catch_up(runtime, projection)
    names = live_names(projection)
    found: list[list[UUID]] = []
    with runtime.database.transaction() as tx:
        for table, key, order in (
            ("export_snapshots", "snapshot_id", "taken_on"),
            ("export_programs", "program_id", "started_on"),
        ):
            tx.execute(
                "SELECT "
                + key
                + " FROM "
                + names[table]
                + " WHERE participant_id = %s ORDER BY "
                + order
                + ", "
                + key,
                (str(participant_id),),
            )
            found.append([UUID(str(row[0])) for row in tx.fetchall()])
    return tuple(found)


def delete_participant_rows(tx: Tx, tables: list[str], participant_id: str) -> None:
    """Delete one participant's rows from the given view tables."""
    for table in tables:
        tx.execute(
            "DELETE FROM " + identifier(table) + " WHERE participant_id = %s",
            (participant_id,),
        )


@register_eraser(
    "export-view",
    "export_participants",
    "export_changes",
    "export_snapshots",
    "export_programs",
)
def erase_export_rows(tx: Tx, subject_id: UUID) -> None:
    present = existing_tables(tx, every_name(TABLES))
    delete_participant_rows(tx, present, str(subject_id))
