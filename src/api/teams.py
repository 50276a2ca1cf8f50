"""Routes for teams: registering, members and invitations, sharing, tags."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from wellbeing.aggregates.team import Team
from wellbeing.api import paging
from wellbeing.api.models import (
    PROBLEMS,
    TEAM_ID,
    USER_ID,
    IdAnswer,
    Partner,
    TeamRole,
    body_examples,
    examples,
)
from wellbeing.api.once import KeyHeader, once
from wellbeing.api.services import CallerDep, RuntimeDep
from wellbeing.commands import teams
from wellbeing.commands.authorization import authorize
from wellbeing.persistence.pages import NIL, memberships_page

router = APIRouter(tags=["teams"], responses=PROBLEMS)

TeamId = Annotated[UUID, Path(description="the team's id", examples=[TEAM_ID])]
UserId = Annotated[UUID, Path(description="a member's user id", examples=[USER_ID])]
TagText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]


class TeamCreate(BaseModel):
    model_config = body_examples(
        {"name": "Trelawny Primary", "la_code": "908", "estab": "2001"}
    )

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    la_code: str = Field(pattern=r"^[0-9]{3}$", description="three-digit LA code")
    estab: str = Field(pattern=r"^[0-9]{4}$", description="DfE establishment number")


class TeamRename(BaseModel):
    model_config = body_examples({"name": "Trelawny Academy"})

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")


class TeamListing(BaseModel):
    """A team the caller belongs to, with the caller's role in it."""

    model_config = examples(
        {
            "id": TEAM_ID,
            "name": "Trelawny Primary",
            "la_code": "908",
            "estab": "2001",
            "role": "admin",
        }
    )

    id: UUID
    name: str
    la_code: str
    estab: str
    role: TeamRole


class Member(BaseModel):
    model_config = examples(
        {"user_id": USER_ID, "role": "practitioner", "joined": True}
    )

    user_id: UUID
    role: TeamRole
    joined: bool


class Agreement(BaseModel):
    model_config = examples(
        {"partner": "headstart-kernow", "from": "2024-09-01", "until": None}
    )

    partner: Partner
    starts: date = Field(alias="from")
    until: date | None = None


class TeamView(BaseModel):
    """A team as its members see it: ids and roles, no personal field."""

    model_config = examples(
        {
            "id": TEAM_ID,
            "name": "Trelawny Primary",
            "la_code": "908",
            "estab": "2001",
            "members": [{"user_id": USER_ID, "role": "admin", "joined": True}],
            "agreements": [
                {"partner": "headstart-kernow", "from": "2024-09-01", "until": None}
            ],
            "tags": {"sen-provision": ["k", "e"]},
            "admins": 1,
        }
    )

    id: UUID
    name: str
    la_code: str
    estab: str
    members: list[Member]
    agreements: list[Agreement]
    tags: dict[str, list[str]]
    admins: int


class Invitation(BaseModel):
    model_config = body_examples(
        {"email": "teacher@school.example", "role": "practitioner"}
    )

    email: str = Field(min_length=3, max_length=254)
    role: TeamRole


class Invited(BaseModel):
    """The invited user's id; the address is never repeated."""

    model_config = examples({"user_id": USER_ID, "team_id": TEAM_ID})

    user_id: UUID
    team_id: UUID


class RoleChange(BaseModel):
    model_config = body_examples({"role": "admin"})

    role: TeamRole


class AgreementCreate(BaseModel):
    model_config = body_examples(
        {"partner": "headstart-kernow", "from": "2024-09-01", "until": "2027-08-31"}
    )

    partner: Partner
    starts: date = Field(alias="from")
    until: date | None = None


class Withdrawal(BaseModel):
    model_config = body_examples({"on": "2025-07-31"})

    on: date


class TagsDefine(BaseModel):
    model_config = body_examples({"taxonomy": "sen-provision", "tags": ["k", "e"]})

    taxonomy: TagText
    tags: list[TagText] = Field(max_length=200)


class Vocabulary(BaseModel):
    """The tags in use, by taxonomy."""

    model_config = examples({"taxonomies": {"sen-provision": ["e", "k"]}})

    taxonomies: dict[str, list[str]]


@router.get("/teams", summary="The teams the caller belongs to")
def list_teams(
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[TeamListing]:
    key = paging.decode("teams", cursor, 1)
    after = UUID(str(key[0])) if key else NIL
    rows = memberships_page(
        runtime.database, caller.user_id, after, limit + 1, joined=True
    )
    shown, next_cursor = paging.cut("teams", rows, limit, lambda r: [str(r[0])])
    items = [
        _listing(teams.load_team(runtime, team_id), role) for team_id, role in shown
    ]
    return paging.Page[TeamListing](items=items, next_cursor=next_cursor)


def _listing(team: Team, role: str) -> TeamListing:
    return TeamListing.model_validate(
        {
            "id": team.id,
            "name": team.name,
            "la_code": team.la_code,
            "estab": team.estab,
            "role": role,
        }
    )


@router.post("/teams", status_code=201, summary="Register a school")
def create_team(
    body: TeamCreate, runtime: RuntimeDep, caller: CallerDep, key: KeyHeader = None
) -> IdAnswer:
    command = teams.RegisterTeam(caller, body.name, body.la_code, body.estab)
    return once(
        runtime,
        caller,
        key,
        {"op": "create-team", "body": body.model_dump()},
        IdAnswer,
        lambda: IdAnswer(id=teams.register_team(runtime, command)),
    )


@router.get("/teams/{team_id}", summary="A team's members, agreements and tags")
def show_team(team_id: TeamId, runtime: RuntimeDep, caller: CallerDep) -> TeamView:
    team = teams.load_team(runtime, team_id)
    authorize(runtime, caller, "read-team", team)
    return TeamView.model_validate(teams.team_summary(team))


@router.patch("/teams/{team_id}", summary="Rename a team")
def rename_team(
    team_id: TeamId, body: TeamRename, runtime: RuntimeDep, caller: CallerDep
) -> IdAnswer:
    teams.rename_team(runtime, teams.RenameTeam(caller, team_id, body.name))
    return IdAnswer(id=team_id)


@router.get("/teams/{team_id}/members", summary="A team's members, by user id")
def list_members(
    team_id: TeamId,
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[Member]:
    key = paging.decode("members", cursor, 1)
    team = teams.load_team(runtime, team_id)
    authorize(runtime, caller, "read-team", team)
    after = str(key[0]) if key else ""
    rows = sorted(
        (str(user_id), member)
        for user_id, member in team.members.items()
        if str(user_id) > after
    )[: limit + 1]
    shown, next_cursor = paging.cut("members", rows, limit, lambda r: [r[0]])
    items = [
        Member.model_validate({"user_id": user_id, "role": m.role, "joined": m.joined})
        for user_id, m in shown
    ]
    return paging.Page[Member](items=items, next_cursor=next_cursor)


@router.post(
    "/teams/{team_id}/invitations", status_code=201, summary="Invite by e-mail"
)
def invite(
    team_id: TeamId,
    body: Invitation,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> Invited:
    command = teams.InviteMember(caller, team_id, body.email, body.role)

    def work() -> Invited:
        result = teams.invite_member(runtime, command)
        return Invited(user_id=UUID(result["id"]), team_id=team_id)

    request = {"op": "invite", "team": team_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, Invited, work)


@router.post(
    "/teams/{team_id}/invitations/accept",
    summary="Accept the caller's invitation to a team",
)
def accept_invitation(
    team_id: TeamId, runtime: RuntimeDep, caller: CallerDep, key: KeyHeader = None
) -> IdAnswer:
    def work() -> IdAnswer:
        teams.join_team(runtime, teams.JoinTeam(caller, team_id))
        return IdAnswer(id=team_id)

    request = {"op": "accept", "team": team_id}
    return once(runtime, caller, key, request, IdAnswer, work)


@router.patch("/teams/{team_id}/members/{user_id}", summary="Change a member's role")
def change_role(
    team_id: TeamId,
    user_id: UserId,
    body: RoleChange,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> IdAnswer:
    command = teams.ChangeMemberRole(caller, team_id, user_id, body.role)
    teams.change_member_role(runtime, command)
    return IdAnswer(id=user_id)


@router.delete("/teams/{team_id}/members/{user_id}", summary="Remove a member")
def remove_member(
    team_id: TeamId, user_id: UserId, runtime: RuntimeDep, caller: CallerDep
) -> IdAnswer:
    teams.remove_member(runtime, teams.RemoveMember(caller, team_id, user_id))
    return IdAnswer(id=user_id)


@router.post(
    "/teams/{team_id}/agreements",
    status_code=201,
    summary="Agree to share with a partner",
)
def agree(
    team_id: TeamId,
    body: AgreementCreate,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    command = teams.AgreeSharing(caller, team_id, body.partner, body.starts, body.until)

    def work() -> IdAnswer:
        teams.agree_sharing(runtime, command)
        return IdAnswer(id=team_id)

    request = {"op": "agree", "team": team_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, IdAnswer, work)


@router.post(
    "/teams/{team_id}/agreements/{partner}/withdrawal",
    summary="End an agreement on a date",
)
def withdraw(
    team_id: TeamId,
    partner: Partner,
    body: Withdrawal,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    command = teams.WithdrawSharing(caller, team_id, partner, body.on)

    def work() -> IdAnswer:
        teams.withdraw_sharing(runtime, command)
        return IdAnswer(id=team_id)

    request = {"op": "withdraw", "team": team_id, "partner": partner, "on": body.on}
    return once(runtime, caller, key, request, IdAnswer, work)


@router.get("/teams/{team_id}/tags", summary="The team's tag vocabulary")
def show_tags(team_id: TeamId, runtime: RuntimeDep, caller: CallerDep) -> Vocabulary:
    team = teams.load_team(runtime, team_id)
    authorize(runtime, caller, "read-team", team)
    summary = teams.team_summary(team)
    return Vocabulary.model_validate({"taxonomies": summary["tags"]})


@router.post("/teams/{team_id}/tags", summary="Define a taxonomy or add tags")
def define_tags(
    team_id: TeamId,
    body: TagsDefine,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    command = teams.DefineTags(caller, team_id, body.taxonomy, tuple(body.tags))

    def work() -> IdAnswer:
        teams.define_tags(runtime, command)
        return IdAnswer(id=team_id)

    request = {"op": "define-tags", "team": team_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, IdAnswer, work)


@router.delete(
    "/teams/{team_id}/tags/{taxonomy}/{tag}",
    summary="Retire a tag; kept in history, no longer offered",
)
def retire_tag(
    team_id: TeamId,
    taxonomy: Annotated[str, Path(max_length=64, examples=["sen-provision"])],
    tag: Annotated[str, Path(max_length=64, examples=["k"])],
    runtime: RuntimeDep,
    caller: CallerDep,
) -> IdAnswer:
    teams.retire_tag(runtime, teams.RetireTag(caller, team_id, taxonomy, tag))
    return IdAnswer(id=team_id)
