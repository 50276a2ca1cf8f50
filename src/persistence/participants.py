"""The lookup of a team's participants by id and internal reference."""

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


def participant_count(database: Database) -> int:
    with database.transaction() as tx:
        tx.execute("SELECT count(*) FROM participant_index")
        row = tx.fetchone()
    return int(row[0]) if row else 0
