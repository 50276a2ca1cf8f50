"""The roster view: a team's participants for the web app, never the UPN.

Names and the other personal fields are kept as the sealed bytes the events
hold, as in the export view; the UPN is reduced to whether one is held.
Erasure deletes a participant's row, live and in any rebuild under way.
"""

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson

from wellbeing.aggregates.personal import ERASED, Redacted
from wellbeing.crypto import open_sealed
from wellbeing.persistence.database import Tx
from wellbeing.persistence.erasure import register_eraser
from wellbeing.persistence.transcoder import SealedBytes, untag
from wellbeing.projections.engine import (
    Table,
    catch_up,
    every_name,
    existing_tables,
    live_names,
    view_table,
)
from wellbeing.projections.exports import sealed_text
from wellbeing.projections.log import Notification
from wellbeing.projections.rows import RowChanges

if TYPE_CHECKING:
    from wellbeing.persistence.runtime import Runtime

SEALED_FIELDS = (
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
)
TABLE = "roster_participants"
TABLES = (
    view_table(
        TABLE,
        "participant_id TEXT, team_id TEXT, reference INTEGER, "
        + ", ".join(f"{name} TEXT" for name in SEALED_FIELDS)
        + ", has_upn INTEGER, objects INTEGER, left_on TEXT",
        "participant_id",
        "team_id",
    ),
)
Handler = Callable[[RowChanges, Any], None]


def _registered(rows: RowChanges, e: Any) -> None:
    row: dict[str, Any] = {
        "participant_id": str(e.originator_id),
        "team_id": str(e.team_id),
        "reference": e.reference,
    }
    row.update({name: sealed_text(getattr(e, name, None)) for name in SEALED_FIELDS})
    row.update(has_upn=int(e.upn is not None), objects=0, left_on=None)
    rows.put(TABLE, row)


def _corrected(rows: RowChanges, e: Any) -> None:
    changes = {
        name: sealed_text(getattr(e, name))
        for name in SEALED_FIELDS
        if isinstance(getattr(e, name, None), SealedBytes)
    }
    if changes:
        rows.update(TABLE, str(e.originator_id), **changes)


def _set(**changes: Any) -> Handler:
    def change(rows: RowChanges, e: Any) -> None:
        rows.update(TABLE, str(e.originator_id), **changes)

    return change


def _left(rows: RowChanges, e: Any) -> None:
    rows.update(TABLE, str(e.originator_id), left_on=e.on.isoformat())


def _erased(rows: RowChanges, e: Any) -> None:
    rows.delete(TABLE, str(e.originator_id))


_HANDLERS: dict[str, Handler] = {
    "wellbeing:ParticipantRegistered": _registered,
    "wellbeing:ParticipantDetailsCorrected": _corrected,
    "wellbeing:ParticipantUpnAssigned": _set(has_upn=1),
    "wellbeing:ParticipantUpnReplaced": _set(has_upn=1),
    "wellbeing:ParticipantObjectedToSharing": _set(objects=1),
    "wellbeing:ParticipantObjectionWithdrawn": _set(objects=0),
    "wellbeing:ParticipantLeft": _left,
    "wellbeing:ParticipantRejoined": _set(left_on=None),
    "wellbeing:ParticipantPersonalDataErased": _erased,
}


class RosterProjection:
    """A team's pupils with internal reference; personal fields sealed."""

    name: str = "roster"
    version: int = 1
    tables: tuple[Table, ...] = TABLES
    topics: frozenset[str] = frozenset(_HANDLERS)

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        rows = RowChanges(TABLES)
        for notification in batch:
            event = notification.event
            _HANDLERS[type(event).TOPIC](rows, event)
        rows.write(tx, names)


@register_eraser("roster-view", TABLE)
def erase_roster_rows(tx: Tx, subject_id: UUID) -> None:
    for table in existing_tables(tx, every_name(TABLES)):
        tx.execute(
            "DELETE FROM " + table + " WHERE participant_id = %s", (str(subject_id),)
        )


def team_roster(runtime: "Runtime", team_id: UUID) -> list[dict[str, Any]]:
    """A team's participants in order of internal reference.

    Personal fields are opened with the subject's key; a process without a
    KEK reads them as SEALED. Authorisation is the caller's.
    """
    projection = RosterProjection()
    catch_up(runtime, projection)
    with runtime.database.transaction() as tx:
        tx.execute(
            "SELECT participant_id, reference, "
            + ", ".join(SEALED_FIELDS)
            + ", has_upn, objects, left_on FROM "
            + live_names(projection)[TABLE]
            + " WHERE team_id = %s ORDER BY reference",
            (str(team_id),),
        )
        rows = tx.fetchall()
    runtime.keys.prefetch(UUID(str(row[0])) for row in rows)
    return [_entry(runtime, team_id, row) for row in rows]


def _entry(runtime: "Runtime", team_id: UUID, row: tuple[Any, ...]) -> dict[str, Any]:
    participant_id, reference, *sealed = row[: 2 + len(SEALED_FIELDS)]
    has_upn, objects, left_on = row[2 + len(SEALED_FIELDS) :]
    subject = UUID(str(participant_id))
    key = runtime.keys.for_reading(subject)
    entry: dict[str, Any] = {
        "id": str(subject),
        "team_id": str(team_id),
        "reference": int(reference),
    }
    for name, text in zip(SEALED_FIELDS, sealed, strict=True):
        entry[name] = _opened(key, subject, name, text)
    entry["has_upn"] = bool(has_upn)
    entry["objects_to_sharing"] = bool(objects)
    entry["left_on"] = left_on
    entry["erased"] = key is ERASED
    return entry


def _opened(key: bytes | Redacted, subject: UUID, name: str, text: Any) -> Any:
    if text is None:
        return None
    if isinstance(key, Redacted):
        return key
    field_id = f"participant.{name}"
    plain = open_sealed(key, subject, field_id, base64.b64decode(text))
    return untag(orjson.loads(plain))
