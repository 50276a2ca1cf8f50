"""Routes for participants: the roster, one registration, corrections, tags.

A UPN is accepted on write and never returned: views say only whether one
is held. A tag given to a pupil is personal data, so tags travel in
bodies, never in a URL that a proxy might log.
"""

import csv
import os
import tempfile
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from wellbeing.aggregates.participant import Participant
from wellbeing.api import paging
from wellbeing.api.models import (
    PARTICIPANT_ID,
    PROBLEMS,
    TEAM_ID,
    IdAnswer,
    Withheld,
    body_examples,
    examples,
)
from wellbeing.api.once import KeyHeader, once
from wellbeing.api.services import CallerDep, RuntimeDep, ServicesDep
from wellbeing.commands import participant_life as life
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.loading import load
from wellbeing.commands.participants import describe, show_participant
from wellbeing.commands.teams import load_team
from wellbeing.errors import InputError
from wellbeing.persistence.pages import roster_page
from wellbeing.persistence.runtime import Runtime

router = APIRouter(tags=["participants"], responses=PROBLEMS)

TeamId = Annotated[UUID, Path(description="the team's id", examples=[TEAM_ID])]
ParticipantId = Annotated[
    UUID, Path(description="the participant's id", examples=[PARTICIPANT_ID])
]
# Names and codes from an MIS: printable, one line, bounded.
Line = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*\S")
]
Short = Annotated[
    str, Field(min_length=1, max_length=16, pattern=r"^[^\x00-\x1f\x7f]*\S")
]


class ParticipantRejected(InputError):
    """The details failed the import's checks; names codes and columns."""

    code = "participant-rejected"


class ParticipantView(BaseModel):
    """A pupil for a screen: whether a UPN is held, never the UPN."""

    model_config = examples(
        {
            "id": PARTICIPANT_ID,
            "team_id": TEAM_ID,
            "reference": 12,
            "surname": "Penrose",
            "forename": "Tamsin",
            "middle_names": None,
            "date_of_birth": "2016-03-14",
            "sex": "F",
            "year_group": "4",
            "has_upn": True,
            "erased": False,
        },
        {
            "id": PARTICIPANT_ID,
            "team_id": TEAM_ID,
            "reference": 13,
            "surname": {"erased": True},
            "forename": {"erased": True},
            "middle_names": {"erased": True},
            "date_of_birth": {"erased": True},
            "sex": {"erased": True},
            "year_group": {"erased": True},
            "has_upn": None,
            "erased": True,
        },
    )

    id: UUID
    team_id: UUID
    reference: int
    surname: str | Withheld
    forename: str | Withheld
    middle_names: str | Withheld | None = None
    date_of_birth: date | Withheld
    sex: str | Withheld | None = None
    year_group: str | Withheld | None = None
    has_upn: bool | None = None
    erased: bool


class ParticipantCreate(BaseModel):
    """One pupil; checked exactly as a row of an imported file."""

    model_config = body_examples(
        {
            "surname": "Penrose",
            "forename": "Tamsin",
            "date_of_birth": "2016-03-14",
            "sex": "F",
            "year_group": "4",
            "upn": "A123456789012",
        }
    )

    surname: Line
    forename: Line
    middle_names: Line | None = None
    date_of_birth: date
    sex: Short | None = None
    year_group: Short | None = None
    upn: str | None = Field(default=None, min_length=1, max_length=32)


class Registered(BaseModel):
    """`new`, or the existing pupil with the same UPN, updated or unchanged."""

    model_config = examples({"id": PARTICIPANT_ID, "outcome": "new"})

    id: UUID
    outcome: Literal["new", "updated", "unchanged"]


class Correction(BaseModel):
    """Fields to correct; an absent or null field is left as it is."""

    model_config = body_examples({"year_group": "5"})

    surname: Line | None = None
    forename: Line | None = None
    middle_names: Line | None = None
    date_of_birth: date | None = None
    sex: Short | None = None
    year_group: Short | None = None


class TagChoice(BaseModel):
    model_config = body_examples({"taxonomy": "sen-provision", "tag": "k"})

    taxonomy: str = Field(min_length=1, max_length=64)
    tag: str = Field(min_length=1, max_length=64)


class Objection(BaseModel):
    model_config = body_examples({"objects": True})

    objects: bool


class Leaving(BaseModel):
    model_config = body_examples({"on": "2025-07-23"})

    on: date


def view(found: dict[str, Any]) -> ParticipantView:
    return ParticipantView.model_validate(found)


@router.get("/teams/{team_id}/participants", summary="The team's roster")
def roster(
    team_id: TeamId,
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[ParticipantView]:
    key = paging.decode("roster", cursor, 2)
    authorize(runtime, caller, "list-participants", load_team(runtime, team_id))
    after = (int(key[0]), UUID(str(key[1]))) if key else (-1, UUID(int=0))
    rows = roster_page(runtime.database, team_id, after, limit + 1)
    shown, next_cursor = paging.cut("roster", rows, limit, lambda r: [r[0], str(r[1])])
    runtime.keys.prefetch(pid for _, pid in shown)
    items = [view(describe(load(runtime, Participant, pid))) for _, pid in shown]
    return paging.Page[ParticipantView](items=items, next_cursor=next_cursor)


@router.post(
    "/teams/{team_id}/participants",
    status_code=201,
    summary="Register one pupil, checked as an imported row",
)
def register(
    team_id: TeamId,
    body: ParticipantCreate,
    services: ServicesDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> Registered:
    runtime = services.runtime

    def work() -> Registered:
        return _register(runtime, services.upload_dir, caller, team_id, body)

    request = {"op": "register", "team": team_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, Registered, work)


def _register(
    runtime: Runtime,
    folder: FilePath,
    caller: Actor,
    team_id: UUID,
    body: ParticipantCreate,
) -> Registered:
    """Write the pupil as a one-row file in the private upload folder and
    import it, so one pupil meets every check a file's row meets.
    """
    authorize(runtime, caller, "import-participants", load_team(runtime, team_id))
    descriptor, name = tempfile.mkstemp(suffix=".csv", dir=folder)
    path = FilePath(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(_HEADERS)
            writer.writerow(
                [
                    body.surname,
                    body.forename,
                    body.middle_names or "",
                    body.date_of_birth.isoformat(),
                    body.sex or "",
                    body.year_group or "",
                    body.upn or "",
                ]
            )
        command = ImportParticipants(
            caller, team_id, path, commit=True, allow_missing_upn=body.upn is None
        )
        report = import_participants(runtime, command)
    finally:
        path.unlink(missing_ok=True)
    row = report.rows[0]
    if row.status not in ("new", "updated", "unchanged") or not row.participant_id:
        raise ParticipantRejected("rejected: " + ", ".join(row.reasons))
    return Registered.model_validate({"id": row.participant_id, "outcome": row.status})


_HEADERS = (
    "Surname",
    "Forename",
    "Middle names",
    "Date of birth",
    "Sex",
    "Year group",
    "UPN",
)


@router.get("/participants/{participant_id}", summary="One pupil")
def show(
    participant_id: ParticipantId, runtime: RuntimeDep, caller: CallerDep
) -> ParticipantView:
    return view(show_participant(runtime, caller, participant_id))


@router.patch("/participants/{participant_id}", summary="Correct a pupil's details")
def correct(
    participant_id: ParticipantId,
    body: Correction,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> IdAnswer:
    changes = body.model_dump(exclude_none=True)
    life.correct_details(runtime, life.CorrectDetails(caller, participant_id, changes))
    return IdAnswer(id=participant_id)


@router.post("/participants/{participant_id}/tags", summary="Tag a pupil")
def tag(
    participant_id: ParticipantId,
    body: TagChoice,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    return _tagging(runtime, caller, key, participant_id, body, remove=False)


@router.post(
    "/participants/{participant_id}/tags/removal", summary="Take a tag off a pupil"
)
def untag(
    participant_id: ParticipantId,
    body: TagChoice,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    return _tagging(runtime, caller, key, participant_id, body, remove=True)


def _tagging(
    runtime: Runtime,
    caller: Actor,
    key: str | None,
    participant_id: UUID,
    body: TagChoice,
    *,
    remove: bool,
) -> IdAnswer:
    command = life.TagParticipant(
        caller, participant_id, body.taxonomy, body.tag, remove=remove
    )

    def work() -> IdAnswer:
        life.tag_participant(runtime, command)
        return IdAnswer(id=participant_id)

    request = {
        "op": "untag" if remove else "tag",
        "id": participant_id,
        "body": body.model_dump(),
    }
    return once(
        runtime, caller, key, request, IdAnswer, work, subjects=[participant_id]
    )


@router.post(
    "/participants/{participant_id}/sharing-objection",
    summary="Record or withdraw an objection to partner sharing",
)
def object_to_sharing(
    participant_id: ParticipantId,
    body: Objection,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    command = life.SetSharingObjection(caller, participant_id, body.objects)

    def work() -> IdAnswer:
        life.set_sharing_objection(runtime, command)
        return IdAnswer(id=participant_id)

    request = {"op": "objection", "id": participant_id, "objects": body.objects}
    return once(runtime, caller, key, request, IdAnswer, work)


@router.post(
    "/participants/{participant_id}/leaving",
    summary="Archive a pupil who left; nothing is erased",
)
def leave(
    participant_id: ParticipantId,
    body: Leaving,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> IdAnswer:
    command = life.LeaveTeam(caller, participant_id, body.on)

    def work() -> IdAnswer:
        life.leave_team(runtime, command)
        return IdAnswer(id=participant_id)

    request = {"op": "leave", "id": participant_id, "on": body.on}
    return once(runtime, caller, key, request, IdAnswer, work)
