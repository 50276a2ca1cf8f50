"""Routes for erasure and subject access; each leaves an event with its actor."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, JsonValue

from wellbeing.aggregates.disclosure import SubjectAccess
from wellbeing.api.models import PARTICIPANT_ID, PROBLEMS, USER_ID, examples
from wellbeing.api.once import KeyHeader, once
from wellbeing.api.participants import ParticipantView
from wellbeing.api.services import CallerDep, RuntimeDep
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.subject_access import subject_access_report
from wellbeing.commands.users import EraseUser, erase_user

router = APIRouter(tags=["data protection"], responses=PROBLEMS)

ParticipantId = Annotated[
    UUID, Path(description="the participant's id", examples=[PARTICIPANT_ID])
]
UserId = Annotated[UUID, Path(description="the user's id", examples=[USER_ID])]


class Erasure(BaseModel):
    model_config = examples({"id": PARTICIPANT_ID, "already_erased": False})

    id: UUID
    already_erased: bool


class HistoryEvent(BaseModel):
    """One event with its actor and time; personal fields as markers once
    erased, and a UPN always withheld.
    """

    model_config = examples(
        {
            "event": "wellbeing:ParticipantDetailsCorrected",
            "version": 2,
            "at": "2025-01-13T09:30:00+00:00",
            "actor_id": USER_ID,
            "fields": {"year_group": {"erased": True}},
        }
    )

    event: str
    version: int
    at: datetime
    actor_id: UUID
    fields: dict[str, JsonValue]


class RecordHistory(BaseModel):
    """One snapshot or program of the pupil, with its full history."""

    id: UUID
    history: list[HistoryEvent]


class SubjectAccessReport(BaseModel):
    """Everything held about a pupil, the UPN withheld."""

    model_config = examples(
        {
            "generated_at": "2025-01-13T09:30:00+00:00",
            "generated_by": USER_ID,
            "participant": {
                "id": PARTICIPANT_ID,
                "team_id": USER_ID,
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
            "history": [
                {
                    "event": "wellbeing:ParticipantRegistered",
                    "version": 1,
                    "at": "2025-01-13T09:30:00+00:00",
                    "actor_id": USER_ID,
                    "fields": {"surname": "Penrose", "upn": {"withheld": True}},
                }
            ],
            "snapshots": [
                {
                    "id": "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9",
                    "history": [
                        {
                            "event": "wellbeing:SnapshotAnswered",
                            "version": 2,
                            "at": "2025-01-20T10:05:00+00:00",
                            "actor_id": USER_ID,
                            "fields": {"answers": {"mood-1": 2}},
                        }
                    ],
                }
            ],
            "programs": [],
        }
    )

    generated_at: datetime
    generated_by: UUID
    participant: ParticipantView
    history: list[HistoryEvent]
    snapshots: list[RecordHistory] = []
    programs: list[RecordHistory] = []


@router.post(
    "/participants/{participant_id}/erasure",
    summary="Erase a pupil from the whole history (team admin or DPO)",
)
def erase_pupil(
    participant_id: ParticipantId,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> Erasure:
    def work() -> Erasure:
        result = erase_participant(runtime, EraseParticipant(caller, participant_id))
        return Erasure(id=result.subject_id, already_erased=result.already_erased)

    request = {"op": "erase-participant", "id": participant_id}
    return once(runtime, caller, key, request, Erasure, work)


@router.post(
    "/users/{user_id}/erasure",
    summary="Erase a member of staff (data-protection officer)",
)
def erase_staff(
    user_id: UserId, runtime: RuntimeDep, caller: CallerDep, key: KeyHeader = None
) -> Erasure:
    def work() -> Erasure:
        result = erase_user(runtime, EraseUser(caller, user_id))
        return Erasure(id=user_id, already_erased=bool(result["already_erased"]))

    request = {"op": "erase-user", "id": user_id}
    return once(runtime, caller, key, request, Erasure, work)


@router.get(
    "/participants/{participant_id}/subject-access",
    summary="The subject-access report of a pupil; the request is recorded",
)
def subject_access(
    participant_id: ParticipantId, runtime: RuntimeDep, caller: CallerDep
) -> SubjectAccessReport:
    report = subject_access_report(runtime, caller, participant_id)
    runtime.writer.commit(
        SubjectAccess(actor_id=caller.user_id, participant_id=participant_id)
    )
    return SubjectAccessReport.model_validate(report)
