"""Matching checked rows to a team's participants, and planning the changes.

A row finds its pupil by the blind index of its UPN, or of its former UPN
(a temporary UPN replaced by a permanent one), or, without a UPN, by the
blind index of names and date of birth when exactly one pupil has them. A
back-fill row finds its pupil by internal reference. Nothing here writes:
the plan is stored by the caller in one transaction.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from wellbeing.aggregates.base import NotFound
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.team import Team
from wellbeing.commands.import_report import (
    AMBIGUOUS,
    NEW,
    REJECTED,
    UNCHANGED,
    UPDATED,
)
from wellbeing.commands.import_rows import Candidate
from wellbeing.commands.loading import load
from wellbeing.persistence.blind_index import BlindIndex
from wellbeing.persistence.runtime import Runtime
from wellbeing.persistence.team_roll import by_reference

PENDING = "pending"
# Rows with these outcomes stand for their pupil: a later row naming the
# same pupil is rejected, and under --full-roster the pupil stays.
_CLAIMING = frozenset({NEW, UPDATED, UNCHANGED})


@dataclass(frozen=True)
class MatchContext:
    """What matching needs besides the rows; `claimed` is the file so far."""

    actor_id: UUID
    team_id: UUID
    index: BlindIndex
    backfill: bool
    full_roster: bool
    claimed: Mapping[UUID, int]
    # Whether the team may hold a pupil without a UPN: only then can a row
    # whose UPN is new belong to a pupil already registered by names.
    upnless_pupils: bool = True


@dataclass
class BatchPlan:
    """The changes one batch makes, and the index rows that go with them."""

    team: Team
    fresh: list[Participant] = field(default_factory=list)
    changed: dict[UUID, Participant] = field(default_factory=dict)
    upn_rows: list[tuple[bytes, UUID]] = field(default_factory=list)
    name_rows: list[tuple[bytes, UUID]] = field(default_factory=list)
    renamed: list[tuple[UUID, bytes]] = field(default_factory=list)
    rejoined: list[UUID] = field(default_factory=list)
    claimed: dict[UUID, int] = field(default_factory=dict)
    present: set[UUID] = field(default_factory=set)

    def aggregates(self) -> list[Aggregate]:
        team: list[Aggregate] = [self.team] if self.team.pending_events else []
        return [*team, *self.changed.values(), *self.fresh]


@dataclass
class _Found:
    upns: dict[bytes, UUID]
    names: dict[bytes, list[UUID]]
    references: dict[int, UUID]
    participants: dict[UUID, Participant] = field(default_factory=dict)


def names_digest_of(index: BlindIndex, participant: Participant) -> bytes | None:
    """The digest a participant's current names and birth date index under.

    None when they cannot be read: erased, or sealed in this process.
    """
    # Typed loosely on purpose: a stored value may be a Redacted marker.
    values: tuple[object, ...] = (
        participant.surname,
        participant.forename,
        participant.date_of_birth,
    )
    surname, forename, born = values
    readable = isinstance(surname, str) and isinstance(forename, str)
    if readable and isinstance(born, date) and not participant.erased:
        return index.names_digest(str(surname), str(forename), born)
    return None


def plan_batch(
    runtime: Runtime, context: MatchContext, candidates: list[Candidate], team: Team
) -> BatchPlan:
    """Decide every pending row of the batch; rows already settled only
    count as present and claim their pupil.

    New pupils take the next internal references of `team`, which must be
    as current as the caller can know: storing the plan fails with
    VersionConflict if another writer moved the team on.
    """
    plan = BatchPlan(team)
    found = _look_up(runtime, context, candidates)
    planner = _Planner(context, plan, found)
    for candidate in candidates:
        if candidate.outcome.status == PENDING:
            planner.settle(candidate)
        elif candidate.outcome.status in _CLAIMING:
            planner.claim(candidate)
        planner.note_presence(candidate)
    if plan.fresh:
        plan.team.reserve_references(context.actor_id, count=len(plan.fresh))
    return plan


def _look_up(
    runtime: Runtime, context: MatchContext, candidates: list[Candidate]
) -> _Found:
    pending = [c for c in candidates if c.outcome.status == PENDING]
    # Under --full-roster every row, even a rejected one, keeps its pupil
    # from being marked as having left, so every row is looked up.
    looked = candidates if context.full_roster else pending
    upn_digests = [
        d for c in looked for d in (c.upn_digest, c.former_digest) if d is not None
    ]
    references = [c.reference for c in pending if c.reference is not None]
    with runtime.database.transaction() as tx:
        upns = context.index.find_upns(tx, upn_digests) if upn_digests else {}
        wanted = [
            c.names_digest
            for c in looked
            if c.names_digest is not None
            and (context.full_roster or _needs_names(context, c, upns))
        ]
        names = context.index.find_names(tx, wanted) if wanted else {}
        by_ref = by_reference(tx, context.team_id, references) if references else {}
    found = _Found(upns, names, by_ref)
    found.participants = _load_many(runtime, _wanted_ids(pending, found))
    return found


def _needs_names(
    context: MatchContext, candidate: Candidate, upns: dict[bytes, UUID]
) -> bool:
    if context.backfill:
        return False
    if candidate.upn is None:
        return True
    unmatched = candidate.upn_digest not in upns and candidate.former_digest not in upns
    return unmatched and context.upnless_pupils


def _wanted_ids(pending: list[Candidate], found: _Found) -> list[UUID]:
    ids: dict[UUID, None] = {}
    for candidate in pending:
        for digest in (candidate.upn_digest, candidate.former_digest):
            if digest is not None and digest in found.upns:
                ids[found.upns[digest]] = None
        if candidate.names_digest is not None:
            ids.update(dict.fromkeys(found.names.get(candidate.names_digest, [])))
        if candidate.reference in found.references:
            ids[found.references[candidate.reference]] = None
    return list(ids)


def _load_many(runtime: Runtime, ids: list[UUID]) -> dict[UUID, Participant]:
    runtime.keys.prefetch(ids)
    loaded: dict[UUID, Participant] = {}
    for participant_id in ids:
        try:
            loaded[participant_id] = load(runtime, Participant, participant_id)
        except NotFound:
            # An index row whose participant is gone matches nobody.
            continue
    return loaded


class _Planner:
    """Settles pending rows one by one into the plan."""

    def __init__(self, context: MatchContext, plan: BatchPlan, found: _Found) -> None:
        self._context = context
        self._plan = plan
        self._found = found

    def claim(self, candidate: Candidate) -> None:
        participant_id = candidate.outcome.participant_id
        if participant_id is not None:
            self._plan.claimed.setdefault(participant_id, candidate.row.number)

    def note_presence(self, candidate: Candidate) -> None:
        if not self._context.full_roster:
            return
        present = self._plan.present
        for digest in (candidate.upn_digest, candidate.former_digest):
            if digest is not None and digest in self._found.upns:
                present.add(self._found.upns[digest])
        if candidate.names_digest is not None:
            present.update(self._found.names.get(candidate.names_digest, []))
        if candidate.outcome.participant_id is not None:
            present.add(candidate.outcome.participant_id)

    def settle(self, candidate: Candidate) -> None:
        if self._context.backfill:
            self._by_reference(candidate)
        elif candidate.upn is not None:
            self._by_upn(candidate)
        else:
            self._by_names(candidate)

    # Census and template rows.

    def _by_upn(self, candidate: Candidate) -> None:
        upns = self._found.upns
        holder = upns.get(candidate.upn_digest or b"")
        former_holder = upns.get(candidate.former_digest or b"")
        if holder and former_holder and holder != former_holder:
            # The permanent UPN belongs to one pupil and the temporary one to
            # another: a person must decide, never an automatic merge.
            _settle(candidate, REJECTED, "upn-of-other-participant:upn", holder)
            return
        if holder is not None:
            self._update(candidate, holder, "upn")
            return
        if former_holder is not None:
            self._update(candidate, former_holder, "former_upn", replace=True)
            return
        # A pupil registered without a UPN gets it from the first file that
        # carries one, instead of being registered a second time.
        matches = self._by_names_digest(candidate, lambda p: p.upn is None)
        if len(matches) > 1:
            _settle(candidate, AMBIGUOUS, "several-pupils-match:surname")
        elif matches:
            self._update(candidate, matches[0], "surname", assign=True)
        else:
            self._register(candidate)

    def _by_names(self, candidate: Candidate) -> None:
        matches = self._by_names_digest(candidate, lambda p: True)
        if len(matches) > 1:
            _settle(candidate, AMBIGUOUS, "several-pupils-match:surname")
        elif matches:
            self._update(candidate, matches[0], "surname")
        else:
            self._register(candidate)

    def _by_names_digest(
        self, candidate: Candidate, accept: Callable[[Participant], bool]
    ) -> list[UUID]:
        # A digest is checked against the pupil as now loaded, so that an
        # index row that no longer holds the pupil's names matches nobody.
        digest = candidate.names_digest
        matches = []
        for participant_id in self._found.names.get(digest or b"", []):
            participant = self._found.participants.get(participant_id)
            if participant is None or participant.erased:
                continue
            current = names_digest_of(self._context.index, participant)
            if current == digest and accept(participant):
                matches.append(participant_id)
        return matches

    def _update(
        self,
        candidate: Candidate,
        participant_id: UUID,
        column: str,
        *,
        replace: bool = False,
        assign: bool = False,
    ) -> None:
        participant = self._claimed_participant(candidate, participant_id, column)
        if participant is None:
            return
        if replace and not self._replace_upn(candidate, participant):
            return
        if assign:
            self._assign_upn(candidate, participant)
        before = names_digest_of(self._context.index, participant)
        self._correct(candidate, participant)
        self._retag(candidate, participant)
        if self._context.full_roster and participant.left_on is not None:
            participant.rejoin(self._context.actor_id)
            self._plan.rejoined.append(participant.id)
        after = names_digest_of(self._context.index, participant)
        if after is not None and after != before:
            self._plan.renamed.append((participant.id, after))
        self._keep(candidate, participant)

    def _claimed_participant(
        self, candidate: Candidate, participant_id: UUID, column: str
    ) -> Participant | None:
        participant = self._found.participants.get(participant_id)
        if participant is None or participant.erased:
            _settle(candidate, REJECTED, f"participant-erased:{column}")
            return None
        first = self._context.claimed.get(participant_id)
        first = first or self._plan.claimed.get(participant_id)
        if first is not None:
            reason = f"same-pupil-as-row-{first}:{column}"
            _settle(candidate, REJECTED, reason, participant_id)
            return None
        self._plan.claimed[participant_id] = candidate.row.number
        return participant

    def _replace_upn(self, candidate: Candidate, participant: Participant) -> bool:
        upn, former = candidate.upn, candidate.former
        assert upn is not None and former is not None and candidate.upn_digest
        if participant.upn != former.value:
            # The pupil's UPN was replaced by another one since.
            reason = "former-upn-superseded:former_upn"
            _settle(candidate, REJECTED, reason, participant.id)
            return False
        if upn.temporary and not former.temporary:
            reason = "permanent-upn-kept:upn"
            _settle(candidate, REJECTED, reason, participant.id)
            return False
        participant.replace_upn(self._context.actor_id, upn.value)
        self._plan.upn_rows.append((candidate.upn_digest, participant.id))
        return True

    def _assign_upn(self, candidate: Candidate, participant: Participant) -> None:
        assert candidate.upn is not None and candidate.upn_digest is not None
        participant.assign_upn(self._context.actor_id, candidate.upn.value)
        self._plan.upn_rows.append((candidate.upn_digest, participant.id))

    def _correct(self, candidate: Candidate, participant: Participant) -> None:
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
        changes = {k: v for k, v in supplied.items() if v is not None}
        participant.correct(self._context.actor_id, **changes)

    def _retag(self, candidate: Candidate, participant: Participant) -> None:
        # The file's value for a taxonomy is the pupil's one tag in it now.
        actor_id = self._context.actor_id
        for taxonomy, tag in candidate.tags.items():
            for held in list(participant.tags.get(taxonomy, [])):
                if held != tag:
                    participant.untag(actor_id, taxonomy, held)
            participant.tag(actor_id, taxonomy, tag)

    def _keep(self, candidate: Candidate, participant: Participant) -> None:
        if participant.pending_events:
            self._plan.changed[participant.id] = participant
            _settle(candidate, UPDATED, None, participant.id)
        else:
            _settle(candidate, UNCHANGED, None, participant.id)

    def _register(self, candidate: Candidate) -> None:
        row, plan = candidate.row, self._plan
        assert row.surname and row.forename and row.date_of_birth
        upn, former = candidate.upn, candidate.former
        participant = Participant(
            actor_id=self._context.actor_id,
            team_id=self._context.team_id,
            reference=plan.team.next_reference + len(plan.fresh),
            surname=row.surname,
            forename=row.forename,
            middle_names=row.middle_names,
            date_of_birth=row.date_of_birth,
            sex=row.sex,
            year_group=row.year_group,
            upn=None if upn is None else upn.value,
            former_upns=[] if former is None else [former.value],
            tags={taxonomy: [tag] for taxonomy, tag in candidate.tags.items()},
        )
        plan.fresh.append(participant)
        plan.claimed[participant.id] = row.number
        for digest in (candidate.upn_digest, candidate.former_digest):
            if digest is not None:
                plan.upn_rows.append((digest, participant.id))
        if candidate.names_digest is not None:
            plan.name_rows.append((candidate.names_digest, participant.id))
        _settle(candidate, NEW, None, participant.id)

    # Back-fill rows.

    def _by_reference(self, candidate: Candidate) -> None:
        assert candidate.reference is not None
        participant_id = self._found.references.get(candidate.reference)
        if participant_id is None:
            _settle(candidate, REJECTED, "unknown-reference:reference")
            return
        participant = self._claimed_participant(candidate, participant_id, "reference")
        if participant is None:
            return
        current = names_digest_of(self._context.index, participant)
        if current != candidate.names_digest:
            # The names beside the reference are not this pupil's: rows were
            # probably moved against each other in a spreadsheet.
            _settle(candidate, REJECTED, "details-differ:reference", participant.id)
            return
        self._attach_upn(candidate, participant)

    def _attach_upn(self, candidate: Candidate, participant: Participant) -> None:
        if candidate.upn is None or candidate.upn_digest is None:
            _settle(candidate, UNCHANGED, None, participant.id)
            return
        holder = self._found.upns.get(candidate.upn_digest)
        if holder == participant.id:
            _settle(candidate, UNCHANGED, None, participant.id)
        elif holder is not None:
            _settle(candidate, REJECTED, "upn-of-other-participant:upn", participant.id)
        elif participant.upn is not None:
            reason = "participant-has-other-upn:upn"
            _settle(candidate, REJECTED, reason, participant.id)
        else:
            self._assign_upn(candidate, participant)
            self._keep(candidate, participant)


def _settle(
    candidate: Candidate,
    status: str,
    reason: str | None,
    participant_id: UUID | None = None,
) -> None:
    outcome = candidate.outcome
    outcome.status = status
    outcome.reasons = [] if reason is None else [reason]
    outcome.participant_id = participant_id


def claimed_by(candidates: Iterable[Candidate]) -> dict[UUID, int]:
    """Pupils that settled rows stand for, by the first row naming each."""
    claimed: dict[UUID, int] = {}
    for candidate in candidates:
        outcome = candidate.outcome
        if outcome.status in _CLAIMING and outcome.participant_id is not None:
            claimed.setdefault(outcome.participant_id, candidate.row.number)
    return claimed
