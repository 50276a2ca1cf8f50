"""The lookup of a team's participants by id and internal reference."""

from datetime import date
from typing import Any
from uuid import UUID

from wellbeing.persistence.database import Database, Tx


def _param(dialect: str, value: UUID) -> Any:
    return str(value) if dialect == "sqlite" else value


def add_to_team_index(tx: Tx, participant_id: UUID, team_id: UUID, ref: int) -> None:
    tx.execute(
        "INSERT INTO participant_index (participant_id, team_id, reference)"
        " VALUES (%s, %s, %s)",
        (_param(tx.dialect, participant_id), _param(tx.dialect, team_id), ref),
    )


def team_participants(database: Database, team_id: UUID) -> list[UUID]:
    """The ids of a team's participants in order of internal reference."""
    with database.transaction() as tx:
        tx.execute(
            "SELECT participant_id FROM participant_index WHERE team_id = %s"
            " ORDER BY reference",
            (_param(tx.dialect, team_id),),
        )
        return [UUID(str(row[0])) for row in tx.fetchall()]


def set_left_on(tx: Tx, participant_id: UUID, left_on: date | None) -> None:
    """Mirror the date a pupil left; None when the pupil rejoined."""
    value: Any = left_on
    if tx.dialect == "sqlite" and left_on is not None:
        value = left_on.isoformat()
    tx.execute(
        "UPDATE participant_index SET left_on = %s WHERE participant_id = %s",
        (value, _param(tx.dialect, participant_id)),
    )


def left_before(database: Database, cutoff: date) -> list[UUID]:
    """Participants who left before the cutoff date, oldest first."""
    with database.transaction() as tx:
        bound: Any = cutoff.isoformat() if tx.dialect == "sqlite" else cutoff
        tx.execute(
            "SELECT participant_id FROM participant_index"
            " WHERE left_on IS NOT NULL AND left_on < %s ORDER BY left_on",
            (bound,),
        )
        return [UUID(str(row[0])) for row in tx.fetchall()]
