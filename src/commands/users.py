"""Staff users: registering, roles, and erasure."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from wellbeing.aggregates.base import Conflict
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.erasure import destroy_subject
from wellbeing.commands.loading import load
from wellbeing.commands.retry import with_retries
from wellbeing.errors import InputError
from wellbeing.persistence.database import Tx, UniqueViolation
from wellbeing.persistence.email_index import EmailIndex
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)
Result = dict[str, str | bool]


class EmailTaken(Conflict):
    """Another user has that e-mail address."""

    code = "email-taken"


@dataclass(frozen=True)
class CreateUser:
    actor: Actor
    email: str
    name: str | None = None


@dataclass(frozen=True)
class GrantRole:
    actor: Actor
    user_id: UUID
    role: str
    partner: str | None = None


@dataclass(frozen=True)
class RevokeRole:
    actor: Actor
    user_id: UUID
    role: str
    partner: str | None = None


@dataclass(frozen=True)
class EraseUser:
    actor: Actor
    user_id: UUID


def check_email(email: str) -> str:
    text = email.strip()
    local, at, domain = text.partition("@")
    if not (local and at and "." in domain) or len(text) > 254 or " " in text:
        raise InputError("email: not an e-mail address")
    return text


def create_user(runtime: Runtime, command: CreateUser) -> Result:
    authorize(runtime, command.actor, "create-user")
    user_id = find_or_register_user(runtime, command.actor, command.email, command.name)
    return {"id": str(user_id)}


def find_or_register_user(
    runtime: Runtime, actor: Actor, email: str, name: str | None
) -> UUID:
    """The user with this e-mail, registered now if there is none.

    The user's key is made before the e-mail is stored, so the address is
    sealed from its first event; the index row commits with the event.
    """
    email = check_email(email)
    index = EmailIndex(runtime.keys)
    with runtime.database.transaction() as tx:
        known = index.find(tx, email)
    if known is not None:
        return known
    user = User(actor_id=actor.user_id, email=email, name=name)

    def add_row(tx: Tx) -> None:
        index.add(tx, email, user.id)

    try:
        runtime.writer.commit(user, extra=add_row)
    except UniqueViolation:
        with runtime.database.transaction() as tx:
            raced = index.find(tx, email)
        if raced is None:
            raise EmailTaken("that e-mail address is taken") from None
        return raced
    logger.info("user registered user_id=%s", user.id)
    return user.id


def grant_role(runtime: Runtime, command: GrantRole) -> Result:
    authorize(runtime, command.actor, "grant-role")
    return _change_user(
        runtime,
        command.user_id,
        lambda user: user.grant(command.actor.user_id, command.role, command.partner),
    )


def revoke_role(runtime: Runtime, command: RevokeRole) -> Result:
    authorize(runtime, command.actor, "revoke-role")
    return _change_user(
        runtime,
        command.user_id,
        lambda user: user.revoke(command.actor.user_id, command.role, command.partner),
    )


def _change_user(
    runtime: Runtime, user_id: UUID, change: Callable[[User], None]
) -> Result:
    """Load, change and store a user, retrying on conflicting writes."""

    def work() -> None:
        user = load(runtime, User, user_id)
        change(user)
        runtime.writer.commit(user)

    with_retries(work)
    return {"id": str(user_id)}


def erase_user(runtime: Runtime, command: EraseUser) -> Result:
    """Erase a staff user; their past actions stay attributed to their id."""
    authorize(runtime, command.actor, "erase-user")

    def append_event() -> bool:
        user = load(runtime, User, command.user_id)
        if user.erased:
            return True
        user.erase(actor_id=command.actor.user_id)
        runtime.writer.commit(user)
        return False

    already = with_retries(append_event)
    destroy_subject(runtime, command.user_id, "user")
    logger.info("user erased user_id=%s already=%s", command.user_id, already)
    return {"id": str(command.user_id), "already_erased": already}
