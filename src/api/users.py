"""Routes for the calling user and for API tokens.

A user may hold tokens for themselves. A team admin may issue tokens for
colleagues, but only for one whose every team the admin administers and
who holds no service or partner role: a token acts with all of its user's
rights, so issuing one must never hand the issuer rights they lack.
"""

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.user import User
from wellbeing.api import paging
from wellbeing.api.models import (
    PROBLEMS,
    TEAM_ID,
    USER_ID,
    IdAnswer,
    body_examples,
    examples,
)
from wellbeing.api.once import KeyHeader, once
from wellbeing.api.services import CallerDep, RuntimeDep
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize, roles_of
from wellbeing.commands.loading import load
from wellbeing.commands.teams import load_team
from wellbeing.persistence import tokens
from wellbeing.persistence.email_index import teams_of
from wellbeing.persistence.pages import NIL, memberships_page
from wellbeing.persistence.runtime import Runtime

router = APIRouter(tags=["users and tokens"], responses=PROBLEMS)

TOKEN_ID = "4c3b2a19-0f8e-4d7c-b6a5-948372615a0b"  # noqa: S105 (an id)
TokenId = Annotated[UUID, Path(description="the token's id", examples=[TOKEN_ID])]
MEMBERSHIPS_SHOWN = 500


class Membership(BaseModel):
    model_config = examples({"team_id": TEAM_ID, "role": "admin"})

    team_id: UUID
    role: Literal["admin", "practitioner"]


class Me(BaseModel):
    """The caller's id and roles; no e-mail or name."""

    model_config = examples(
        {
            "id": USER_ID,
            "service_roles": [],
            "partner_roles": ["headstart-kernow"],
            "teams": [{"team_id": TEAM_ID, "role": "admin"}],
            "invitations": [],
        }
    )

    id: UUID
    service_roles: list[str]
    partner_roles: list[str]
    teams: list[Membership]
    invitations: list[Membership]


class TokenRequest(BaseModel):
    """The user the token acts for; the caller when absent."""

    model_config = body_examples({"user_id": USER_ID}, {})

    user_id: UUID | None = None


class TokenIssued(BaseModel):
    """The secret is shown in this answer only; a retry gets null."""

    model_config = examples(
        {
            "id": TOKEN_ID,
            "user_id": USER_ID,
            "token": "wbl_4hP0c2yX9aQeL1sV7mN3bR8tK5wZ6uJ0dF2gH4jIaBc",
        }
    )

    id: UUID
    user_id: UUID
    token: str | None = None


class TokenView(BaseModel):
    model_config = examples(
        {
            "id": TOKEN_ID,
            "user_id": USER_ID,
            "issued_by": USER_ID,
            "created_at": "2025-01-13T09:30:00+00:00",
            "revoked": False,
        }
    )

    id: UUID
    user_id: UUID
    issued_by: UUID
    created_at: str
    revoked: bool


def _memberships(runtime: Runtime, user_id: UUID, *, joined: bool) -> list[Membership]:
    rows = memberships_page(
        runtime.database, user_id, NIL, MEMBERSHIPS_SHOWN, joined=joined
    )
    return [Membership.model_validate({"team_id": t, "role": r}) for t, r in rows]


@router.get("/users/me", summary="The caller: id, roles, teams, invitations")
def me(runtime: RuntimeDep, caller: CallerDep) -> Me:
    roles_of(runtime, caller)
    user = load(runtime, User, caller.user_id)
    return Me(
        id=caller.user_id,
        service_roles=list(user.service_roles),
        partner_roles=list(user.partner_roles),
        teams=_memberships(runtime, caller.user_id, joined=True),
        invitations=_memberships(runtime, caller.user_id, joined=False),
    )


def check_may_issue(runtime: Runtime, caller: Actor, user_id: UUID) -> None:
    """Raise NotFound unless the caller administers every team of the user."""
    if user_id == caller.user_id:
        roles_of(runtime, caller)
        return
    user = load(runtime, User, user_id)
    with runtime.database.transaction() as tx:
        team_ids = teams_of(tx, user_id)
    if user.erased or not team_ids:
        raise NotFound("user not found")
    for team_id in team_ids:
        try:
            authorize(
                runtime, caller, "change-member-role", load_team(runtime, team_id)
            )
        except NotFound:
            raise NotFound("user not found") from None
    if user.service_roles or user.partner_roles:
        raise NotAllowed("tokens for users with service roles come from the operator")


@router.post("/tokens", status_code=201, summary="Issue a token")
def issue_token(
    body: TokenRequest, runtime: RuntimeDep, caller: CallerDep, key: KeyHeader = None
) -> TokenIssued:
    user_id = body.user_id or caller.user_id

    def work() -> TokenIssued:
        check_may_issue(runtime, caller, user_id)
        with runtime.database.transaction() as tx:
            token_id, secret = tokens.issue(tx, user_id, caller.user_id)
        return TokenIssued(id=token_id, user_id=user_id, token=secret)

    request = {"op": "issue-token", "user": user_id}
    return once(
        runtime, caller, key, request, TokenIssued, work, secret=frozenset({"token"})
    )


@router.get("/tokens", summary="Tokens for the caller or issued by the caller")
def list_tokens(
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[TokenView]:
    key = paging.decode("tokens", cursor, 1)
    after = int(key[0]) if key else 0
    with runtime.database.transaction() as tx:
        rows = tokens.page(tx, caller.user_id, after, limit + 1)
    shown, next_cursor = paging.cut("tokens", rows, limit, lambda r: [r.seq])
    items = [
        TokenView(
            id=r.token_id,
            user_id=r.user_id,
            issued_by=r.issued_by,
            created_at=r.created_at,
            revoked=r.revoked,
        )
        for r in shown
    ]
    return paging.Page[TokenView](items=items, next_cursor=next_cursor)


@router.delete("/tokens/{token_id}", summary="Revoke a token")
def revoke_token(token_id: TokenId, runtime: RuntimeDep, caller: CallerDep) -> IdAnswer:
    with runtime.database.transaction() as tx:
        row = tokens.find(tx, token_id)
        if row is None or caller.user_id not in (row.user_id, row.issued_by):
            raise NotFound("token not found")
        tokens.revoke(tx, token_id)
    tokens.remembered.forget_all()
    return IdAnswer(id=token_id)
