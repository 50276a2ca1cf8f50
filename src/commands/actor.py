"""Who is acting: a staff user, or the operator at the command line."""

import getpass
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

_OPERATOR_NAMESPACE = uuid5(NAMESPACE_URL, "urn:wellbeing-ledger:operator")


@dataclass(frozen=True)
class Actor:
    """The acting user's id; the operator may do everything."""

    user_id: UUID
    is_operator: bool = False


def operator_id(login: str) -> UUID:
    """A stable id for an OS login, recorded on every event it causes."""
    return uuid5(_OPERATOR_NAMESPACE, login)


def operator() -> Actor:
    return Actor(operator_id(getpass.getuser()), is_operator=True)
