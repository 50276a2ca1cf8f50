"""Routes for instruments, the catalogue, snapshots and programs.

Answers, scores, chosen items and notes are the child's health data: they
are shown to the team's staff on GET, and never kept in a stored answer
to a POST, which holds ids, statuses and counts only.
"""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from wellbeing.aggregates.base import NotFound
from wellbeing.aggregates.program import Program
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
from wellbeing.api.services import CallerDep, RuntimeDep
from wellbeing.commands import programs, snapshots
from wellbeing.commands.authorization import authorize
from wellbeing.commands.instrument_files import load_catalogue, load_instruments
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible
from wellbeing.commands.teams import load_team

router = APIRouter(tags=["assessments"], responses=PROBLEMS)

SNAPSHOT_ID = "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9"
PROGRAM_ID = "f0e1d2c3-b4a5-4697-8877-695a4b3c2d1e"
INSTRUMENT = "wellbeing-check"
Kind = Literal["universal", "comprehensive"]
SnapshotId = Annotated[
    UUID, Path(description="the snapshot's id", examples=[SNAPSHOT_ID])
]
ProgramId = Annotated[UUID, Path(description="the program's id", examples=[PROGRAM_ID])]
TeamId = Annotated[UUID, Path(description="the team's id", examples=[TEAM_ID])]
Name = Annotated[str, Path(max_length=64, examples=[INSTRUMENT])]
EntryId = Annotated[str, Field(min_length=1, max_length=64)]
Items = dict[Literal["safety", "advice", "activities"], list[EntryId]]
Note = Annotated[str, Field(max_length=4000)]


class InstrumentSummary(BaseModel):
    model_config = examples(
        {"name": INSTRUMENT, "version": 1, "title": "Wellbeing check", "items": 27}
    )

    name: str
    version: int
    title: str
    items: int


class Instruments(BaseModel):
    model_config = examples(
        {
            "items": [
                {
                    "name": INSTRUMENT,
                    "version": 1,
                    "title": "Wellbeing check",
                    "items": 27,
                }
            ]
        }
    )

    items: list[InstrumentSummary]


class InstrumentItem(BaseModel):
    model_config = examples(
        {
            "id": "mood-1",
            "subdomain": "mood",
            "universal": True,
            "scale": [0, 1, 2, 3],
            "labels": ["Never", "Sometimes", "Often", "Always"],
            "text": "Most days have at least one part that I enjoy.",
        }
    )

    id: str
    subdomain: str
    universal: bool
    scale: list[int]
    labels: list[str]
    text: str


class InstrumentView(BaseModel):
    model_config = examples(
        {
            "name": INSTRUMENT,
            "version": 1,
            "title": "Wellbeing check",
            "items": [
                {
                    "id": "mood-1",
                    "subdomain": "mood",
                    "universal": True,
                    "scale": [0, 1, 2, 3],
                    "labels": ["Never", "Sometimes", "Often", "Always"],
                    "text": "Most days have at least one part that I enjoy.",
                }
            ],
        }
    )

    name: str
    version: int
    title: str
    items: list[InstrumentItem]


class Entry(BaseModel):
    model_config = examples(
        {
            "id": "safety-calm-space",
            "part": "safety",
            "title": "Agree a quiet space the child may go to",
            "subdomains": ["temper", "calm"],
        }
    )

    id: str
    part: str
    title: str
    subdomains: list[str]


class CatalogueView(BaseModel):
    model_config = examples(
        {
            "name": "programme-catalogue",
            "version": 1,
            "title": "Programme catalogue",
            "entries": [
                {
                    "id": "safety-calm-space",
                    "part": "safety",
                    "title": "Agree a quiet space the child may go to",
                    "subdomains": ["temper", "calm"],
                }
            ],
        }
    )

    name: str
    version: int
    title: str
    entries: list[Entry]


class SnapshotStart(BaseModel):
    model_config = body_examples(
        {
            "participant_id": PARTICIPANT_ID,
            "instrument": INSTRUMENT,
            "kind": "universal",
            "taken_on": "2025-01-13",
        }
    )

    participant_id: UUID
    instrument: str = Field(min_length=1, max_length=64)
    kind: Kind
    taken_on: date | None = None


class GroupStart(BaseModel):
    model_config = body_examples(
        {
            "participant_ids": [PARTICIPANT_ID],
            "instrument": INSTRUMENT,
            "kind": "universal",
            "taken_on": None,
        }
    )

    participant_ids: list[UUID] = Field(min_length=1, max_length=200)
    instrument: str = Field(min_length=1, max_length=64)
    kind: Kind
    taken_on: date | None = None


class GroupOutcome(BaseModel):
    """A started snapshot's id, or the error code that stopped it."""

    model_config = examples(
        {"participant_id": PARTICIPANT_ID, "snapshot_id": SNAPSHOT_ID, "error": None},
        {"participant_id": PARTICIPANT_ID, "snapshot_id": None, "error": "not-found"},
    )

    participant_id: UUID
    snapshot_id: UUID | None = None
    error: str | None = None


class GroupStarted(BaseModel):
    model_config = examples(
        {"outcomes": [{"participant_id": PARTICIPANT_ID, "snapshot_id": SNAPSHOT_ID}]}
    )

    outcomes: list[GroupOutcome]


class Answers(BaseModel):
    """Some answers, item id to value; a later save overwrites an item."""

    model_config = body_examples({"answers": {"mood-1": 2, "mood-2": 3}})

    answers: dict[Annotated[str, Field(max_length=64)], int] = Field(max_length=500)


class Answered(BaseModel):
    model_config = examples({"id": SNAPSHOT_ID, "answered": 2, "of": 9})

    id: UUID
    answered: int
    of: int


class SnapshotStatus(BaseModel):
    model_config = examples({"id": SNAPSHOT_ID, "status": "completed"})

    id: UUID
    status: Literal["started", "completed", "discarded"]


class SnapshotView(BaseModel):
    model_config = examples(
        {
            "id": SNAPSHOT_ID,
            "participant_id": PARTICIPANT_ID,
            "team_id": TEAM_ID,
            "instrument": INSTRUMENT,
            "instrument_version": 1,
            "kind": "universal",
            "taken_on": "2025-01-13",
            "status": "completed",
            "scores": {"mood": 2.5},
            "answers": {"mood-1": 2, "mood-2": 3},
        }
    )

    id: UUID
    participant_id: UUID
    team_id: UUID
    instrument: str
    instrument_version: int
    kind: Kind
    taken_on: date
    status: Literal["started", "completed", "discarded"]
    scores: dict[str, float] | Withheld | None = None
    answers: dict[str, int] | Withheld


class ProgramStart(BaseModel):
    """Without items, the catalogue's suggestions for the lowest scores."""

    model_config = body_examples(
        {"snapshot_id": SNAPSHOT_ID, "items": None, "note": "Agreed with parent."}
    )

    snapshot_id: UUID
    items: Items | None = None
    note: Note | None = None


class ProgramReview(BaseModel):
    model_config = body_examples(
        {"items": {"safety": ["safety-calm-space"]}, "note": "Settling well."}
    )

    items: Items | None = None
    note: Note | None = None


class ProgramClose(BaseModel):
    model_config = body_examples({"note": "Goals met."})

    note: Note | None = None


class ProgramStatus(BaseModel):
    model_config = examples({"id": PROGRAM_ID, "status": "active", "reviews": 1})

    id: UUID
    status: Literal["active", "closed"]
    reviews: int


class ProgramView(BaseModel):
    model_config = examples(
        {
            "id": PROGRAM_ID,
            "participant_id": PARTICIPANT_ID,
            "snapshot_id": SNAPSHOT_ID,
            "status": "active",
            "reviews": 0,
            "items": {"safety": ["safety-calm-space"], "advice": [], "activities": []},
            "notes": ["Agreed with parent."],
        }
    )

    id: UUID
    participant_id: UUID
    snapshot_id: UUID
    status: Literal["active", "closed"]
    reviews: int
    items: dict[str, list[str]] | Withheld
    notes: list[str | Withheld] | Withheld


@router.get("/instruments", summary="The shipped instruments")
def list_instruments(caller: CallerDep) -> Instruments:
    found = [
        InstrumentSummary(
            name=i.name, version=i.version, title=i.title, items=len(i.items)
        )
        for i in load_instruments().values()
    ]
    return Instruments(items=found)


@router.get("/instruments/{name}", summary="One instrument's items")
def show_instrument(name: Name, caller: CallerDep) -> InstrumentView:
    instrument = load_instruments().get(name)
    if instrument is None:
        raise NotFound("instrument not found")
    items = [
        InstrumentItem(
            id=item.id,
            subdomain=item.subdomain,
            universal=item.universal,
            scale=list(instrument.scales[item.scale].values),
            labels=list(instrument.scales[item.scale].labels),
            text=item.text,
        )
        for item in instrument.items
    ]
    return InstrumentView(
        name=instrument.name,
        version=instrument.version,
        title=instrument.title,
        items=items,
    )


@router.get("/catalogue", summary="The programme catalogue")
def show_catalogue(caller: CallerDep) -> CatalogueView:
    catalogue = load_catalogue(load_instruments())
    entries = [
        Entry(id=e.id, part=e.part, title=e.title, subdomains=list(e.subdomains))
        for e in catalogue.entries
    ]
    return CatalogueView(
        name=catalogue.name,
        version=catalogue.version,
        title=catalogue.title,
        entries=entries,
    )


@router.post("/snapshots", status_code=201, summary="Start a snapshot")
def start_snapshot(
    body: SnapshotStart, runtime: RuntimeDep, caller: CallerDep, key: KeyHeader = None
) -> IdAnswer:
    command = snapshots.StartSnapshot(
        caller, body.participant_id, body.instrument, body.kind, body.taken_on
    )

    def work() -> IdAnswer:
        return IdAnswer.model_validate(snapshots.start_snapshot(runtime, command))

    request = {"op": "start-snapshot", "body": body.model_dump()}
    return once(
        runtime, caller, key, request, IdAnswer, work, subjects=[body.participant_id]
    )


@router.post(
    "/teams/{team_id}/snapshots/group",
    status_code=201,
    summary="Start one snapshot per participant of the team",
)
def start_group(
    team_id: TeamId,
    body: GroupStart,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> GroupStarted:
    authorize(runtime, caller, "record-snapshot", load_team(runtime, team_id))

    def work() -> GroupStarted:
        outcomes: list[GroupOutcome] = []
        members = []
        for participant_id in dict.fromkeys(body.participant_ids):
            found = _in_team(runtime, caller, participant_id, team_id)
            if found:
                members.append(participant_id)
            else:
                outcomes.append(
                    GroupOutcome(participant_id=participant_id, error="not-found")
                )
        command = snapshots.StartGroupSnapshots(
            caller, tuple(members), body.instrument, body.kind, body.taken_on
        )
        started = GroupStarted.model_validate(snapshots.start_group(runtime, command))
        return GroupStarted(outcomes=outcomes + started.outcomes)

    request = {"op": "group", "team": team_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, GroupStarted, work)


def _in_team(runtime: RuntimeDep, caller: CallerDep, pid: UUID, team_id: UUID) -> bool:
    try:
        participant = load_visible(runtime, caller, pid, "record-snapshot")
    except NotFound:
        return False
    return participant.team_id == team_id


@router.get("/snapshots/{snapshot_id}", summary="A snapshot with answers and scores")
def show_snapshot(
    snapshot_id: SnapshotId, runtime: RuntimeDep, caller: CallerDep
) -> SnapshotView:
    snapshot = snapshots.load_snapshot(runtime, caller, snapshot_id)
    return SnapshotView.model_validate(
        snapshots.snapshot_view(snapshot, with_answers=True)
    )


@router.post("/snapshots/{snapshot_id}/answers", summary="Save some answers")
def answer(
    snapshot_id: SnapshotId,
    body: Answers,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> Answered:
    command = snapshots.RecordAnswers(caller, snapshot_id, dict(body.answers))

    def work() -> Answered:
        return Answered.model_validate(snapshots.record_answers(runtime, command))

    request = {"op": "answer", "id": snapshot_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, Answered, work)


@router.post("/snapshots/{snapshot_id}/completion", summary="Complete and score")
def complete(
    snapshot_id: SnapshotId,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> SnapshotStatus:
    command = snapshots.CompleteSnapshot(caller, snapshot_id)

    def work() -> SnapshotStatus:
        result = snapshots.complete_snapshot(runtime, command)
        return SnapshotStatus.model_validate(
            {"id": result["id"], "status": result["status"]}
        )

    request = {"op": "complete", "id": snapshot_id}
    return once(runtime, caller, key, request, SnapshotStatus, work)


@router.post("/snapshots/{snapshot_id}/discarding", summary="Discard a snapshot")
def discard(
    snapshot_id: SnapshotId,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> SnapshotStatus:
    command = snapshots.DiscardSnapshot(caller, snapshot_id)

    def work() -> SnapshotStatus:
        return SnapshotStatus.model_validate(
            snapshots.discard_snapshot(runtime, command)
        )

    request = {"op": "discard", "id": snapshot_id}
    return once(runtime, caller, key, request, SnapshotStatus, work)


@router.post("/programs", status_code=201, summary="Start a program from a snapshot")
def start_program(
    body: ProgramStart, runtime: RuntimeDep, caller: CallerDep, key: KeyHeader = None
) -> IdAnswer:
    command = programs.StartProgram(
        caller, body.snapshot_id, _items(body.items), body.note
    )

    def work() -> IdAnswer:
        return IdAnswer.model_validate(programs.start_program(runtime, command))

    request = {"op": "start-program", "body": body.model_dump()}
    return once(runtime, caller, key, request, IdAnswer, work)


def _items(items: Items | None) -> dict[str, list[str]] | None:
    return None if items is None else {str(k): list(v) for k, v in items.items()}


@router.get("/programs/{program_id}", summary="A program with its items and notes")
def show_program(
    program_id: ProgramId, runtime: RuntimeDep, caller: CallerDep
) -> ProgramView:
    program = load(runtime, Program, program_id)
    load_visible(runtime, caller, program.participant_id, "manage-program")
    return ProgramView.model_validate(programs.program_view(program))


@router.post("/programs/{program_id}/reviews", summary="Record a review")
def review(
    program_id: ProgramId,
    body: ProgramReview,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> ProgramStatus:
    command = programs.ReviewProgram(caller, program_id, _items(body.items), body.note)

    def work() -> ProgramStatus:
        result = programs.review_program(runtime, command)
        return ProgramStatus.model_validate({**result, "status": "active"})

    request = {"op": "review", "id": program_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, ProgramStatus, work)


@router.post("/programs/{program_id}/closing", summary="Close a program")
def close(
    program_id: ProgramId,
    body: ProgramClose,
    runtime: RuntimeDep,
    caller: CallerDep,
    key: KeyHeader = None,
) -> ProgramStatus:
    command = programs.CloseProgram(caller, program_id, body.note)

    def work() -> ProgramStatus:
        programs.close_program(runtime, command)
        program = load(runtime, Program, program_id)
        return ProgramStatus.model_validate(
            {"id": program.id, "status": program.status, "reviews": program.reviews}
        )

    request = {"op": "close", "id": program_id, "body": body.model_dump()}
    return once(runtime, caller, key, request, ProgramStatus, work)
