"""The team (a school or setting): members, sharing agreements and tags."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import Conflict, LedgerAggregate, NotFound
from wellbeing.aggregates.values import value_type

ADMIN = "admin"
PRACTITIONER = "practitioner"
TEAM_ROLES = (ADMIN, PRACTITIONER)
INVITATION_DAYS = 7
PARTNERS = ("headstart-kernow", "headstart-hq")


class LastAdmin(Conflict):
    """A team must keep at least one admin."""

    code = "last-admin"


class InvitationExpired(Conflict):
    """The invitation is more than seven days old; invite again."""

    code = "invitation-expired"


class UnknownRole(Conflict):
    """The role is not one a team member can have."""

    code = "unknown-role"


class UnknownPartner(Conflict):
    """The partner is not one the service knows."""

    code = "unknown-partner"


@value_type("team.member")
@dataclass(frozen=True)
class Member:
    """A user's place in a team; `joined` is false while invited."""

    role: str
    joined: bool
    invited_at: datetime


@value_type("team.agreement")
@dataclass(frozen=True)
class Agreement:
    """A sharing agreement with a partner, from a date, until an optional one."""

    partner: str
    starts: date
    ends: date | None

    def covers(self, day: date) -> bool:
        return self.starts <= day and (self.ends is None or day <= self.ends)


class Team(LedgerAggregate):
    """A school: name, DfE LA code and establishment number, and its people.

    Raises LastAdmin when a change would leave no admin.
    """

    TOPIC = "wellbeing:Team"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:Team.Event"

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:Team.Created"

    @event("Registered", topic="wellbeing:TeamRegistered")
    def __init__(self, actor_id: UUID, name: str, la_code: str, estab: str) -> None:
        self.name = name
        self.la_code = la_code
        self.estab = estab
        self.next_reference = 1
        self.members: dict[UUID, Member] = {}
        self.agreements: dict[str, Agreement] = {}
        self.taxonomies: dict[str, dict[str, bool]] = {}

    @event("Renamed", topic="wellbeing:TeamRenamed")
    def rename(self, actor_id: UUID, name: str) -> None:
        self.name = name

    @event("ReferencesReserved", topic="wellbeing:TeamReferencesReserved")
    def reserve_references(self, actor_id: UUID, count: int) -> None:
        """Hand out the next internal references for new participants."""
        self.next_reference += count

    # Members.

    def invite(self, actor_id: UUID, user_id: UUID, role: str, now: datetime) -> None:
        check_role(role)
        if user_id in self.members and self.members[user_id].joined:
            raise Conflict("the user is a member already")
        self._invite(actor_id=actor_id, user_id=user_id, role=role, invited_at=now)

    @event("MemberInvited", topic="wellbeing:TeamMemberInvited")
    def _invite(
        self, actor_id: UUID, user_id: UUID, role: str, invited_at: datetime
    ) -> None:
        self.members[user_id] = Member(role, False, invited_at)

    def add_founder(self, actor_id: UUID, user_id: UUID, now: datetime) -> None:
        """Make a user an admin at once, without an invitation."""
        self._join_as_admin(actor_id=actor_id, user_id=user_id, joined_at=now)

    @event("FounderJoined", topic="wellbeing:TeamFounderJoined")
    def _join_as_admin(
        self, actor_id: UUID, user_id: UUID, joined_at: datetime
    ) -> None:
        self.members[user_id] = Member(ADMIN, True, joined_at)

    def join(self, actor_id: UUID, user_id: UUID, now: datetime) -> None:
        """Accept an invitation; raises InvitationExpired after seven days."""
        member = self.members.get(user_id)
        if member is None:
            raise NotFound("no invitation for this user")
        if member.joined:
            return
        if now - member.invited_at > timedelta(days=INVITATION_DAYS):
            raise InvitationExpired("the invitation has expired")
        self._join(actor_id=actor_id, user_id=user_id)

    @event("MemberJoined", topic="wellbeing:TeamMemberJoined")
    def _join(self, actor_id: UUID, user_id: UUID) -> None:
        old = self.members[user_id]
        self.members[user_id] = Member(old.role, True, old.invited_at)

    def change_role(self, actor_id: UUID, user_id: UUID, role: str) -> None:
        check_role(role)
        member = self._member(user_id)
        if member.role == role:
            return
        if member.role == ADMIN and member.joined and self._admin_count() == 1:
            raise LastAdmin("the last admin cannot be demoted")
        self._change_role(actor_id=actor_id, user_id=user_id, role=role)

    @event("MemberRoleChanged", topic="wellbeing:TeamMemberRoleChanged")
    def _change_role(self, actor_id: UUID, user_id: UUID, role: str) -> None:
        old = self.members[user_id]
        self.members[user_id] = Member(role, old.joined, old.invited_at)

    def remove(self, actor_id: UUID, user_id: UUID) -> None:
        member = self._member(user_id)
        if member.role == ADMIN and member.joined and self._admin_count() == 1:
            raise LastAdmin("the last admin cannot leave")
        self._remove(actor_id=actor_id, user_id=user_id)

    @event("MemberRemoved", topic="wellbeing:TeamMemberRemoved")
    def _remove(self, actor_id: UUID, user_id: UUID) -> None:
        del self.members[user_id]

    def role_of(self, user_id: UUID) -> str | None:
        """The role of a joined member, or None."""
        member = self.members.get(user_id)
        return member.role if member is not None and member.joined else None

    def _member(self, user_id: UUID) -> Member:
        member = self.members.get(user_id)
        if member is None:
            raise NotFound("no such member")
        return member

    def _admin_count(self) -> int:
        return sum(1 for m in self.members.values() if m.joined and m.role == ADMIN)

    # Sharing agreements.

    def agree(
        self, actor_id: UUID, partner: str, starts: date, ends: date | None
    ) -> None:
        if partner not in PARTNERS:
            raise UnknownPartner("unknown partner")
        if ends is not None and ends < starts:
            raise Conflict("an agreement cannot end before it starts")
        self._agree(actor_id=actor_id, partner=partner, starts=starts, ends=ends)

    @event("SharingAgreed", topic="wellbeing:TeamSharingAgreed")
    def _agree(
        self, actor_id: UUID, partner: str, starts: date, ends: date | None
    ) -> None:
        self.agreements[partner] = Agreement(partner, starts, ends)

    def withdraw(self, actor_id: UUID, partner: str, on: date) -> None:
        agreement = self.agreements.get(partner)
        if agreement is None:
            raise NotFound("no agreement with that partner")
        self._withdraw(actor_id=actor_id, partner=partner, on=on)

    @event("SharingWithdrawn", topic="wellbeing:TeamSharingWithdrawn")
    def _withdraw(self, actor_id: UUID, partner: str, on: date) -> None:
        old = self.agreements[partner]
        self.agreements[partner] = Agreement(partner, old.starts, on)

    def shares_with(self, partner: str, day: date) -> bool:
        """Whether an agreement covering the partner is in force on day."""
        return any(a.covers(day) for a in self._agreements_for(partner))

    def has_agreement(self, partner: str) -> bool:
        """Whether the partner has, or had, an agreement with the team."""
        return bool(self._agreements_for(partner))

    def _agreements_for(self, partner: str) -> list[Agreement]:
        # HQ receives its subset through HeadStart Kernow, so the team's
        # agreement with Kernow covers HQ as well.
        names = [partner]
        if partner == "headstart-hq":
            names.append("headstart-kernow")
        return [self.agreements[n] for n in names if n in self.agreements]

    # Participant tag vocabularies.

    def define_tags(self, actor_id: UUID, taxonomy: str, tags: list[str]) -> None:
        """Define a taxonomy, or add tags to one; known tags are left alone."""
        known = self.taxonomies.get(taxonomy, {})
        # A retired tag defined again comes back into use.
        fresh = [t for t in dict.fromkeys(tags) if not known.get(t, False)]
        if fresh or taxonomy not in self.taxonomies:
            self._add_tags(actor_id=actor_id, taxonomy=taxonomy, tags=fresh)

    @event("TagsAdded", topic="wellbeing:TeamTagsAdded")
    def _add_tags(self, actor_id: UUID, taxonomy: str, tags: list[str]) -> None:
        vocabulary = self.taxonomies.setdefault(taxonomy, {})
        for tag in tags:
            vocabulary[tag] = True

    def retire_tag(self, actor_id: UUID, taxonomy: str, tag: str) -> None:
        if not self.taxonomies.get(taxonomy, {}).get(tag):
            raise NotFound("no such tag in use")
        self._retire_tag(actor_id=actor_id, taxonomy=taxonomy, tag=tag)

    @event("TagRetired", topic="wellbeing:TeamTagRetired")
    def _retire_tag(self, actor_id: UUID, taxonomy: str, tag: str) -> None:
        self.taxonomies[taxonomy][tag] = False

    def tag_in_use(self, taxonomy: str, tag: str) -> bool:
        return self.taxonomies.get(taxonomy, {}).get(tag, False)


def check_role(role: str) -> None:
    if role not in TEAM_ROLES:
        raise UnknownRole("role must be admin or practitioner")
