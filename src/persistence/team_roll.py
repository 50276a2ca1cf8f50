"""A team's roll as imports need it: many rows at once, by reference, on roll."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from wellbeing.persistence.bulk import BulkInsert
from wellbeing.persistence.database import Tx

_ROLL_ROWS = BulkInsert(
    "participant_index",
    (("participant_id", "uuid"), ("team_id", "uuid"), ("reference", "integer")),
)


def _param(tx: Tx, value: UUID) -> Any:
    return str(value) if tx.dialect == "sqlite" else value


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def add_to_roll(tx: Tx, team_id: UUID, rows: Sequence[tuple[UUID, int]]) -> None:
    """Index new participants by team and internal reference.

    Raises UniqueViolation when another writer took one of the references.
    """
    team = _param(tx, team_id)
    _ROLL_ROWS.run(tx, [(_param(tx, pid), team, ref) for pid, ref in rows])


def by_reference(tx: Tx, team_id: UUID, references: Sequence[int]) -> dict[int, UUID]:
    """The team's participants with these internal references."""
    found: dict[int, UUID] = {}
    for start in range(0, len(references), 500):
        chunk = list(references[start : start + 500])
        marks = ",".join(["%s"] * len(chunk))
        tx.execute(
            "SELECT reference, participant_id FROM participant_index"
            " WHERE team_id = %s AND reference IN (" + marks + ")",
            [_param(tx, team_id), *chunk],
        )
        found.update((int(ref), _uuid(pid)) for ref, pid in tx.fetchall())
    return found


def on_roll(tx: Tx, team_id: UUID) -> list[UUID]:
    """Participants who have not left and were not erased, by reference."""
    tx.execute(
        "SELECT participant_id FROM participant_index p WHERE team_id = %s"
        " AND left_on IS NULL AND NOT EXISTS (SELECT 1 FROM erased_subjects e"
        " WHERE e.subject_id = p.participant_id) ORDER BY reference",
        (_param(tx, team_id),),
    )
    return [_uuid(row[0]) for row in tx.fetchall()]


def without_names_digest(tx: Tx, team_id: UUID) -> list[UUID]:
    """Participants not erased who have no row in the names blind index.

    Pupils registered before that index was kept have none; matching by
    names would miss them and register them a second time.
    """
    tx.execute(
        "SELECT participant_id FROM participant_index p WHERE team_id = %s"
        " AND NOT EXISTS (SELECT 1 FROM name_index n"
        " WHERE n.participant_id = p.participant_id)"
        " AND NOT EXISTS (SELECT 1 FROM erased_subjects e"
        " WHERE e.subject_id = p.participant_id) ORDER BY reference",
        (_param(tx, team_id),),
    )
    return [_uuid(row[0]) for row in tx.fetchall()]


def with_upn(tx: Tx, team_id: UUID) -> set[UUID]:
    """Participants of the team that hold a UPN, read from the blind index."""
    tx.execute(
        "SELECT DISTINCT participant_id FROM upn_index WHERE team_id = %s",
        (_param(tx, team_id),),
    )
    return {_uuid(row[0]) for row in tx.fetchall()}


def has_pupils_without_upn(tx: Tx, team_id: UUID) -> bool:
    """Whether a participant of the team, not erased, holds no UPN."""
    tx.execute(
        "SELECT 1 FROM participant_index p WHERE team_id = %s"
        " AND NOT EXISTS (SELECT 1 FROM upn_index u"
        " WHERE u.participant_id = p.participant_id)"
        " AND NOT EXISTS (SELECT 1 FROM erased_subjects e"
        " WHERE e.subject_id = p.participant_id) LIMIT 1",
        (_param(tx, team_id),),
    )
    return tx.fetchone() is not None
