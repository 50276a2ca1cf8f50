"""Keyset pages over the lookup tables: a team's roster, a user's teams.

Each page is ordered by a unique key and starts strictly after the last
key of the page before, so rows added meanwhile never shift a page.
"""

from typing import Any
from uuid import UUID

from wellbeing.persistence.database import Database, Tx

NIL = UUID(int=0)


def _param(tx: Tx, value: UUID) -> Any:
    return str(value) if tx.dialect == "sqlite" else value


def roster_page(
    database: Database, team_id: UUID, after: tuple[int, UUID], limit: int
) -> list[tuple[int, UUID]]:
    """(reference, participant id) of a team's participants after a key."""
    reference, participant_id = after
    with database.transaction() as tx:
        tx.execute(
            "SELECT reference, participant_id FROM participant_index"
            " WHERE team_id = %s AND (reference > %s"
            " OR (reference = %s AND participant_id > %s))"
            " ORDER BY reference, participant_id LIMIT %s",
            (
                _param(tx, team_id),
                reference,
                reference,
                _param(tx, participant_id),
                limit,
            ),
        )
        return [(int(ref), UUID(str(pid))) for ref, pid in tx.fetchall()]


def team_of_participant(database: Database, participant_id: UUID) -> UUID | None:
    with database.transaction() as tx:
        tx.execute(
            "SELECT team_id FROM participant_index WHERE participant_id = %s",
            (_param(tx, participant_id),),
        )
        row = tx.fetchone()
    return None if row is None else UUID(str(row[0]))


def memberships_page(
    database: Database, user_id: UUID, after: UUID, limit: int, *, joined: bool
) -> list[tuple[UUID, str]]:
    """(team id, role) of the user's joined teams, or pending invitations."""
    with database.transaction() as tx:
        tx.execute(
            "SELECT team_id, role FROM team_members WHERE user_id = %s"
            " AND joined = %s AND team_id > %s ORDER BY team_id LIMIT %s",
            (_param(tx, user_id), joined, _param(tx, after), limit),
        )
        return [(UUID(str(team)), str(role)) for team, role in tx.fetchall()]
