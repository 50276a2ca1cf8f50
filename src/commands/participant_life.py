"""A participant's life in a team: corrections, UPNs, tags, objection, leaving."""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from wellbeing.aggregates.base import Conflict
from wellbeing.aggregates.participant import CORRECTABLE, Participant, UpnConflict
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.upn import validate_upn
from wellbeing.commands.actor import Actor
from wellbeing.commands.import_matching import names_digest_of
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible
from wellbeing.commands.retry import with_retries
from wellbeing.commands.snapshots import check_not_future
from wellbeing.errors import InputError
from wellbeing.persistence.blind_index import BlindIndex
from wellbeing.persistence.database import Tx, UniqueViolation
from wellbeing.persistence.event_store import Extra
from wellbeing.persistence.participants import set_left_on
from wellbeing.persistence.runtime import Runtime

Result = dict[str, object]
Change = Callable[[Participant], None]
Mirror = Callable[[Participant], Extra | None]
# The fields the names blind index is a digest of.
_INDEXED_NAMES = frozenset({"surname", "forename", "date_of_birth"})


class UpnTaken(Conflict):
    """Another participant of the team holds this UPN, now or formerly."""

    code = "upn-taken"


@dataclass(frozen=True)
class CorrectDetails:
    """Correct names, date of birth, sex or year group; None leaves a field."""

    actor: Actor
    participant_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssignUpn:
    """Give a pupil without a UPN its first one."""

    actor: Actor
    participant_id: UUID
    upn: str = field(repr=False)


@dataclass(frozen=True)
class ReplaceUpn:
    """Replace a UPN (a temporary one by a permanent one); the former stays."""

    actor: Actor
    participant_id: UUID
    upn: str = field(repr=False)


@dataclass(frozen=True)
class TagParticipant:
    actor: Actor
    participant_id: UUID
    taxonomy: str
    tag: str
    remove: bool = False


@dataclass(frozen=True)
class SetSharingObjection:
    """Record that the pupil (or family) objects to partner sharing, or not."""

    actor: Actor
    participant_id: UUID
    objects: bool


@dataclass(frozen=True)
class LeaveTeam:
    """Archive a pupil who left; nothing is erased until retention runs."""

    actor: Actor
    participant_id: UUID
    on: date


@dataclass(frozen=True)
class RejoinTeam:
    """Undo leaving: the pupil is current again and out of retention's reach."""

    actor: Actor
    participant_id: UUID


def _change(
    runtime: Runtime,
    actor: Actor,
    participant_id: UUID,
    change: Change,
    mirror: Mirror | None = None,
) -> Result:
    """Load, change and store a participant; rows mirror only a real change."""

    def work() -> Result:
        participant = load_visible(
            runtime, actor, participant_id, "correct-participant"
        )
        change(participant)
        if participant.pending_events:
            extra = mirror(participant) if mirror is not None else None
            runtime.writer.commit(participant, extra=extra)
        return {"id": str(participant.id)}

    return with_retries(work)


def correct_details(runtime: Runtime, command: CorrectDetails) -> Result:
    """Raises InputError naming the first field that is wrong."""
    unknown = sorted(set(command.changes) - set(CORRECTABLE))
    if unknown:
        raise InputError(f"{unknown[0]}: cannot be corrected here")
    changes = {
        name: _corrected_value(name, value)
        for name, value in command.changes.items()
        if value is not None
    }
    mirror = _names_index_row(runtime) if _INDEXED_NAMES & changes.keys() else None
    return _change(
        runtime,
        command.actor,
        command.participant_id,
        lambda p: p.correct(command.actor.user_id, **changes),
        mirror,
    )


def _names_index_row(runtime: Runtime) -> Mirror:
    # A file row without a UPN finds its pupil by this digest, so it must be
    # the digest of the names the pupil holds from the moment they are held;
    # otherwise that row would register the pupil a second time.
    def mirror(participant: Participant) -> Extra | None:
        index = BlindIndex(runtime.keys, participant.team_id)
        digest = names_digest_of(index, participant)
        if digest is None:
            return None

        def write(tx: Tx) -> None:
            index.replace_names(tx, participant.id, digest)

        return write

    return mirror


def _corrected_value(name: str, value: object) -> object:
    if name == "date_of_birth":
        if not isinstance(value, date):
            raise InputError("date_of_birth: must be a date")
        return check_not_future(value, "date_of_birth")
    if not isinstance(value, str):
        raise InputError(f"{name}: must be text")
    text = unicodedata.normalize("NFC", value.strip())
    if name == "middle_names":
        # Empty text clears middle names; None would leave them as they are.
        return text
    if not text:
        raise InputError(f"{name}: must not be empty")
    return text.upper() if name == "sex" else text


def assign_upn(runtime: Runtime, command: AssignUpn) -> Result:
    """Raises InvalidUpn, UpnConflict when one is held, UpnTaken."""
    upn = validate_upn(command.upn)

    def change(participant: Participant) -> None:
        participant.assign_upn(command.actor.user_id, upn.value)

    return _set_upn(runtime, command.actor, command.participant_id, upn.value, change)


def replace_upn(runtime: Runtime, command: ReplaceUpn) -> Result:
    """Raises InvalidUpn, UpnConflict (no UPN, or a permanent one replaced
    by a temporary one) and UpnTaken. The former UPN still matches later
    files."""
    upn = validate_upn(command.upn)

    def change(participant: Participant) -> None:
        held = participant.upn
        downgrade = isinstance(held, str) and not validate_upn(held).temporary
        if downgrade and upn.temporary:
            raise UpnConflict("a permanent UPN is not replaced by a temporary one")
        participant.replace_upn(command.actor.user_id, upn.value)

    return _set_upn(runtime, command.actor, command.participant_id, upn.value, change)


def _set_upn(
    runtime: Runtime, actor: Actor, participant_id: UUID, upn: str, change: Change
) -> Result:
    def checked(participant: Participant) -> None:
        participant.check_readable()
        change(participant)

    def index_rows(participant: Participant) -> Extra:
        index = BlindIndex(runtime.keys, participant.team_id)
        digest = index.upn_digest(upn)

        def write(tx: Tx) -> None:
            holder = index.find_upns(tx, [digest]).get(digest)
            if holder is None:
                index.add_upns(tx, [(digest, participant.id)])
            elif holder != participant.id:
                raise UpnTaken("another participant of the team holds this UPN")

        return write

    try:
        return _change(runtime, actor, participant_id, checked, index_rows)
    except UniqueViolation:
        # Two writers gave the same UPN at the same moment; the loser is
        # told as if it had looked a moment later.
        raise UpnTaken("another participant of the team holds this UPN") from None


def tag_participant(runtime: Runtime, command: TagParticipant) -> Result:
    """Tag from the team's vocabulary; a retired or unknown tag is refused.

    Removing a tag needs no vocabulary, so a retired tag can still be taken
    off.
    """

    def change(participant: Participant) -> None:
        if command.remove:
            participant.untag(command.actor.user_id, command.taxonomy, command.tag)
            return
        team = load(runtime, Team, participant.team_id)
        if not team.tag_in_use(command.taxonomy, command.tag):
            raise InputError("tag: not in the team's vocabulary")
        participant.tag(command.actor.user_id, command.taxonomy, command.tag)

    return _change(runtime, command.actor, command.participant_id, change)


def set_sharing_objection(runtime: Runtime, command: SetSharingObjection) -> Result:
    def change(participant: Participant) -> None:
        if command.objects:
            participant.object_to_sharing(command.actor.user_id)
        else:
            participant.withdraw_objection(command.actor.user_id)

    return _change(runtime, command.actor, command.participant_id, change)


def leave_team(runtime: Runtime, command: LeaveTeam) -> Result:
    """Archive the pupil on a date no later than today; leaving again keeps
    the first date."""
    on = check_not_future(command.on, "on")
    return _change(
        runtime,
        command.actor,
        command.participant_id,
        lambda p: p.leave(command.actor.user_id, on),
        _mirror_left_on,
    )


def rejoin_team(runtime: Runtime, command: RejoinTeam) -> Result:
    return _change(
        runtime,
        command.actor,
        command.participant_id,
        lambda p: p.rejoin(command.actor.user_id),
        _mirror_left_on,
    )


def _mirror_left_on(participant: Participant) -> Extra:
    # Retention selects by the mirrored date, so it must be the one the
    # participant holds, never the one a repeated request asked for.
    left_on = participant.left_on

    def write(tx: Tx) -> None:
        set_left_on(tx, participant.id, left_on)

    return write
