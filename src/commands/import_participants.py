"""Importing pupils from a school's MIS export into one team."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from uuid import UUID

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.upn import InvalidUpn, canonical_upn, validate_upn
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.loading import load
from wellbeing.commands.pupil_file import PupilRow, read_pupil_file
from wellbeing.commands.retry import with_retries
from wellbeing.persistence.blind_index import BlindIndex
from wellbeing.persistence.database import Tx, UniqueViolation
from wellbeing.persistence.event_store import VersionConflict
from wellbeing.persistence.participants import add_to_team_index
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)
BATCH_SIZE = 500


@dataclass(frozen=True)
class ImportParticipants:
    """Import a pupil file; a dry run unless commit is set."""

    actor: Actor
    team_id: UUID
    path: Path
    commit: bool = False
    allow_other_establishments: bool = False
    today: date | None = None


@dataclass
class RowOutcome:
    """What became of one row; codes and columns only, never a value."""

    number: int
    status: str
    reasons: list[str] = field(default_factory=list)
    participant_id: UUID | None = None


@dataclass
class ImportReport:
    """Counts and per-row outcomes of one import; free of personal data."""

    encoding: str
    warnings: list[str]
    blank_lines: int
    committed: bool
    rows: list[RowOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def summary(self) -> dict[str, int]:
        statuses = ("new", "updated", "unchanged", "rejected")
        return {status: self.count(status) for status in statuses}


@dataclass
class _Candidate:
    row: PupilRow
    outcome: RowOutcome
    upn: str | None
    digest: bytes | None = None


def import_participants(runtime: Runtime, command: ImportParticipants) -> ImportReport:
    """Validate every row and, with commit, store the good ones in batches.

    Each batch commits the new participants, their blind-index rows and the
    team's reference counter together, so a pupil is never created twice.
    """
    team = load(runtime, Team, command.team_id)
    authorize(runtime, command.actor, "import-participants", team)
    pupil_file = read_pupil_file(command.path, today=command.today)
    report = ImportReport(
        encoding=pupil_file.encoding,
        warnings=[w.code for w in pupil_file.warnings],
        blank_lines=pupil_file.blank_lines,
        committed=command.commit,
    )
    index = BlindIndex(runtime.keys, team.id)
    seen: dict[bytes, int] = {}
    for batch in _batches(pupil_file.rows(), BATCH_SIZE):
        candidates = [_check(row, team, command, report) for row in batch]
        usable = [c for c in candidates if c.outcome.status != "rejected"]
        _mark_duplicates(usable, index, seen)
        storable = [c for c in usable if c.outcome.status != "rejected"]
        if storable:
            with_retries(partial(_store_batch, runtime, command, index, storable))
    logger.info(
        "import finished team_id=%s committed=%s rows=%d",
        team.id,
        command.commit,
        len(report.rows),
    )
    return report


def _batches(rows: Iterator[PupilRow], size: int) -> Iterator[list[PupilRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def _check(
    row: PupilRow, team: Team, command: ImportParticipants, report: ImportReport
) -> _Candidate:
    outcome = RowOutcome(row.number, "pending")
    report.rows.append(outcome)
    reasons = [f"{p.code}:{p.column}" for p in row.problems]
    upn = None
    if row.upn is not None:
        try:
            upn = validate_upn(row.upn).value
        except InvalidUpn as error:
            reasons.append(f"{error.reason}:upn")
    if not command.allow_other_establishments and _other_school(row, team):
        reasons.append("other-establishment:estab")
    if reasons:
        outcome.status = "rejected"
        outcome.reasons = reasons
    return _Candidate(row, outcome, upn)


def _other_school(row: PupilRow, team: Team) -> bool:
    if row.lea is None or row.estab is None:
        return False
    return (row.lea, row.estab) != (team.la_code, team.estab)


def _mark_duplicates(
    candidates: list[_Candidate], index: BlindIndex, seen: dict[bytes, int]
) -> None:
    for candidate in candidates:
        if candidate.upn is None:
            continue
        candidate.digest = index.upn_digest(canonical_upn(candidate.upn))
        first = seen.setdefault(candidate.digest, candidate.row.number)
        if first != candidate.row.number:
            candidate.outcome.status = "rejected"
            candidate.outcome.reasons = [f"duplicate-upn-of-row-{first}:upn"]


def _store_batch(
    runtime: Runtime,
    command: ImportParticipants,
    index: BlindIndex,
    candidates: list[_Candidate],
) -> None:
    team = load(runtime, Team, command.team_id)
    digests = [c.digest for c in candidates if c.digest is not None]
    with runtime.database.transaction() as tx:
        known = index.find_upns(tx, digests)
    fresh: list[tuple[_Candidate, Participant]] = []
    changed: list[Participant] = []
    for candidate in candidates:
        existing = known.get(candidate.digest) if candidate.digest else None
        if existing is None:
            fresh.append((candidate, _new(command, team, candidate, len(fresh))))
        else:
            _update(runtime, command, candidate, existing, changed)
    if fresh:
        team.reserve_references(actor_id=command.actor.user_id, count=len(fresh))
    if not command.commit:
        _settle(fresh, "new")
        return

    def rows(tx: Tx) -> None:
        for _, participant in fresh:
            add_to_team_index(tx, participant.id, team.id, participant.reference)
        index.add_upns(tx, [(c.digest, p.id) for c, p in fresh if c.digest is not None])

    try:
        runtime.writer.commit(team, *changed, *(p for _, p in fresh), extra=rows)
    except UniqueViolation:
        # Another import registered one of these pupils a moment ago: load
        # afresh and match them as existing pupils.
        raise VersionConflict("blind index changed during the batch") from None
    _settle(fresh, "new")


def _new(
    command: ImportParticipants, team: Team, candidate: _Candidate, offset: int
) -> Participant:
    row = candidate.row
    assert row.surname and row.forename and row.date_of_birth
    return Participant(
        actor_id=command.actor.user_id,
        team_id=team.id,
        reference=team.next_reference + offset,
        surname=row.surname,
        forename=row.forename,
        middle_names=row.middle_names,
        date_of_birth=row.date_of_birth,
        sex=row.sex,
        year_group=row.year_group,
        upn=candidate.upn,
        former_upns=[],
        tags={},
    )


def _update(
    runtime: Runtime,
    command: ImportParticipants,
    candidate: _Candidate,
    participant_id: UUID,
    changed: list[Participant],
) -> None:
    participant = load(runtime, Participant, participant_id)
    row = candidate.row
    supplied = {
        "surname": row.surname,
        "forename": row.forename,
        "middle_names": row.middle_names,
        "date_of_birth": row.date_of_birth,
        "sex": row.sex,
        "year_group": row.year_group,
    }
    # A blank cell means "not supplied", never "clear the value".
    participant.correct(
        command.actor.user_id, **{k: v for k, v in supplied.items() if v is not None}
    )
    candidate.outcome.participant_id = participant.id
    if participant.pending_events:
        candidate.outcome.status = "updated"
        changed.append(participant)
    else:
        candidate.outcome.status = "unchanged"


def _settle(fresh: list[tuple[_Candidate, Participant]], status: str) -> None:
    for candidate, participant in fresh:
        candidate.outcome.status = status
        candidate.outcome.participant_id = participant.id
