"""The staff user: a data subject whose name and e-mail are sealed."""

from typing import Annotated
from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import Conflict, LedgerAggregate
from wellbeing.aggregates.personal import ERASED, Personal, Redacted
from wellbeing.aggregates.team import PARTNERS

AUDITOR = "auditor"
DATA_PROTECTION_OFFICER = "data-protection-officer"
ANALYST = "analyst"
SERVICE_ROLES = (AUDITOR, DATA_PROTECTION_OFFICER)


class UserErased(Conflict):
    """The user's personal data was erased."""

    code = "user-erased"


class User(LedgerAggregate):
    """A member of staff; service and partner roles are held here."""

    TOPIC = "wellbeing:User"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:User.Event"
        subject_kind = "user"

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:User.Created"

    @event("Registered", topic="wellbeing:UserRegistered")
    def __init__(
        self,
        actor_id: UUID,
        email: Annotated[str, Personal("user.email")],
        name: Annotated[str | None, Personal("user.name")],
    ) -> None:
        self.email: str | Redacted = email
        self.name: str | Redacted | None = name
        self.service_roles: list[str] = []
        self.partner_roles: list[str] = []
        self.erased = False

    def grant(self, actor_id: UUID, role: str, partner: str | None = None) -> None:
        """Grant a service role, or `analyst` of a partner."""
        self.check_not_erased()
        if role == ANALYST:
            if partner not in PARTNERS:
                raise Conflict("an analyst role needs a known partner")
            if partner not in self.partner_roles:
                self._grant(actor_id=actor_id, role=role, partner=partner)
            return
        if role not in SERVICE_ROLES:
            raise Conflict("unknown role")
        if role not in self.service_roles:
            self._grant(actor_id=actor_id, role=role, partner=None)

    @event("RoleGranted", topic="wellbeing:UserRoleGranted")
    def _grant(self, actor_id: UUID, role: str, partner: str | None) -> None:
        if partner is None:
            self.service_roles.append(role)
        else:
            self.partner_roles.append(partner)

    def revoke(self, actor_id: UUID, role: str, partner: str | None = None) -> None:
        held = (
            partner in self.partner_roles
            if role == ANALYST
            else (role in self.service_roles)
        )
        if held:
            self._revoke(actor_id=actor_id, role=role, partner=partner)

    @event("RoleRevoked", topic="wellbeing:UserRoleRevoked")
    def _revoke(self, actor_id: UUID, role: str, partner: str | None) -> None:
        if role == ANALYST:
            self.partner_roles.remove(str(partner))
        else:
            self.service_roles.remove(role)

    @event("Renamed", topic="wellbeing:UserRenamed")
    def rename(
        self, actor_id: UUID, name: Annotated[str, Personal("user.name")]
    ) -> None:
        self.name = name

    @event("PersonalDataErased", topic="wellbeing:UserPersonalDataErased")
    def erase(self, actor_id: UUID) -> None:
        """Roles go with the data: an erased user can no longer act."""
        self.email = ERASED
        self.name = ERASED
        self.service_roles = []
        self.partner_roles = []
        self.erased = True

    def check_not_erased(self) -> None:
        if self.erased:
            raise UserErased("user was erased")
