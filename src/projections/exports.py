"""The export view: what partner exports need, personal fields still sealed.

Personal fields are copied as the sealed bytes the events hold, so the view
never needs a key to be maintained, and an erased person's copies become
unreadable with the key; erasure deletes the rows as well.
"""

import base64
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from wellbeing.persistence.database import Tx
from wellbeing.persistence.erasure import register_eraser
from wellbeing.persistence.transcoder import SealedBytes
from wellbeing.projections.engine import Notification, Table
from wellbeing.projections.rows import RowChanges

DETAIL_FIELDS = (
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
    "upn",
    "former_upns",
    "tags",
)


def _table(name: str, columns: str, key: str, index: str = "") -> Table:
    statements = ["CREATE TABLE {table} (" + columns + ", PRIMARY KEY (" + key + "))"]
    if index:
        statements.append("CREATE INDEX {table}_by ON {table} (" + index + ")")
    return Table(name, sqlite=tuple(statements), postgres=tuple(statements))


TABLES = (
    _table(
        "export_participants",
        "participant_id TEXT, team_id TEXT, objects INTEGER, left_on TEXT, "
        + ", ".join(f"{name} TEXT" for name in DETAIL_FIELDS),
        "participant_id",
    ),
    _table(
        "export_changes",
        "change_id TEXT, participant_id TEXT, kind TEXT, taxonomy TEXT, sealed TEXT",
        "change_id",
        "participant_id",
    ),
    _table(
        "export_snapshots",
        "snapshot_id TEXT, participant_id TEXT, team_id TEXT, kind TEXT,"
        " status TEXT, taken_on TEXT, instrument TEXT, scores TEXT",
        "snapshot_id",
        "participant_id",
    ),
    _table(
        "export_programs",
        "program_id TEXT, participant_id TEXT, team_id TEXT, snapshot_id TEXT,"
        " status TEXT, started_on TEXT",
        "program_id",
        "participant_id",
    ),
)
KEYS = {
    "export_participants": "participant_id",
    "export_changes": "change_id",
    "export_snapshots": "snapshot_id",
    "export_programs": "program_id",
}
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
    rows.insert("export_participants", row)


def _corrected(rows: RowChanges, e: Any, _: int) -> None:
    changes = {
        name: sealed_text(getattr(e, name, None))
        for name in DETAIL_FIELDS
        if isinstance(getattr(e, name, None), SealedBytes)
    }
    if changes:
        rows.update("export_participants", str(e.originator_id), **changes)


def _replaced(rows: RowChanges, e: Any, position: int) -> None:
    rows.update("export_participants", str(e.originator_id), upn=sealed_text(e.upn))
    _change(rows, e, position, "former-upn", "", e.former)


def _change(
    rows: RowChanges, e: Any, position: int, kind: str, taxonomy: str, value: Any
) -> None:
    rows.insert(
        "export_changes",
        {
            "change_id": str(position),
            "participant_id": str(e.originator_id),
            "kind": kind,
            "taxonomy": taxonomy,
            "sealed": sealed_text(value),
        },
    )


def _flag(**changes: Any) -> Handler:
    def change(rows: RowChanges, e: Any, _: int) -> None:
        rows.update("export_participants", str(e.originator_id), **changes)

    return change


def _left(rows: RowChanges, e: Any, _: int) -> None:
    rows.update("export_participants", str(e.originator_id), left_on=e.on.isoformat())


def _snapshot_started(rows: RowChanges, e: Any, _: int) -> None:
    rows.insert(
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
    rows.insert(
        "export_programs",
        {
            "program_id": str(e.originator_id),
            "participant_id": str(e.participant_id),
            "team_id": str(e.team_id),
            "snapshot_id": str(e.snapshot_id),
            "status": "active",
            "started_on": e.timestamp.date().isoformat(),
        },
    )


def _status(table: str, status: str) -> Handler:
    def change(rows: RowChanges, e: Any, _: int) -> None:
        rows.update(table, str(e.originator_id), status=status)

    return change


def _erased(rows: RowChanges, e: Any, _: int) -> None:
    # Deleting by participant needs SQL over other tables; see apply().
    rows.delete("export_participants", str(e.originator_id))


_HANDLERS: dict[str, Handler] = {
    "wellbeing:ParticipantRegistered": _registered,
    "wellbeing:ParticipantDetailsCorrected": _corrected,
    "wellbeing:ParticipantUpnAssigned": _corrected,
    "wellbeing:ParticipantUpnReplaced": _replaced,
    "wellbeing:ParticipantTagged": lambda rows, e, position: _change(
        rows, e, position, "tagged", e.taxonomy, e.tag
    ),
    "wellbeing:ParticipantUntagged": lambda rows, e, position: _change(
        rows, e, position, "untagged", e.taxonomy, e.tag
    ),
    "wellbeing:ParticipantObjectedToSharing": _flag(objects=1),
    "wellbeing:ParticipantObjectionWithdrawn": _flag(objects=0),
    "wellbeing:ParticipantLeft": _left,
    "wellbeing:ParticipantRejoined": _flag(left_on=None),
    "wellbeing:ParticipantPersonalDataErased": _erased,
    "wellbeing:SnapshotStarted": _snapshot_started,
    "wellbeing:SnapshotCompleted": _snapshot_completed,
    "wellbeing:SnapshotDiscarded": _status("export_snapshots", "discarded"),
    "wellbeing:ProgramStarted": _program_started,
    "wellbeing:ProgramClosed": _status("export_programs", "closed"),
}


class ExportProjection:
    """Facts for partner exports; personal fields stay sealed."""

    name: str = "exports"
    tables: tuple[Table, ...] = TABLES
    topics: frozenset[str] = frozenset(_HANDLERS)

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        rows = RowChanges(KEYS)
        erased: list[str] = []
        for notification in batch:
            event = notification.event
            _HANDLERS[type(event).TOPIC](rows, event, notification.position)
            if type(event).TOPIC == "wellbeing:ParticipantPersonalDataErased":
                erased.append(str(event.originator_id))
        rows.write(tx, names)
        for participant_id in erased:
            delete_participant_rows(tx, names, participant_id)


def delete_participant_rows(tx: Tx, names: dict[str, str], participant_id: str) -> None:
    for table in ("export_participants", "export_changes", "export_snapshots"):
        tx.execute(
            "DELETE FROM " + names[table] + " WHERE participant_id = %s",
            (participant_id,),
        )
    tx.execute(
        "DELETE FROM " + names["export_programs"] + " WHERE participant_id = %s",
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
    names = {t.name: t.name for t in TABLES}
    tx.execute("SELECT 1 FROM projection_positions WHERE name = %s", ("exports",))
    if tx.fetchone() is not None:
        delete_participant_rows(tx, names, str(subject_id))
