"""Routes for auditors: any record's history, its state as at a time, and a
replay of the whole store compared with the live views.
"""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, JsonValue

from wellbeing.api import paging
from wellbeing.api.models import PARTICIPANT_ID, PROBLEMS, examples
from wellbeing.api.privacy import HistoryEvent
from wellbeing.api.services import CallerDep, RuntimeDep
from wellbeing.commands import audit

router = APIRouter(tags=["audit"], responses=PROBLEMS)

RecordId = Annotated[
    UUID, Path(description="any record's id", examples=[PARTICIPANT_ID])
]


class RecordState(BaseModel):
    model_config = examples(
        {
            "id": PARTICIPANT_ID,
            "type": "Participant",
            "version": 3,
            "state": {"surname": {"erased": True}, "upn": {"withheld": True}},
        }
    )

    id: UUID
    type: str
    version: int
    state: dict[str, JsonValue]


class Failure(BaseModel):
    model_config = examples({"id": PARTICIPANT_ID, "error": "not-found"})

    id: UUID
    error: str


class ViewCheck(BaseModel):
    model_config = examples({"equal": True, "differing_rows": {}})

    equal: bool
    differing_rows: dict[str, int]


class Replay(BaseModel):
    """Every record replayed, and every view rebuilt aside and compared."""

    model_config = examples(
        {
            "aggregates": 42,
            "failures": [],
            "views": {"usage": {"equal": True, "differing_rows": {}}},
        }
    )

    aggregates: int
    failures: list[Failure]
    views: dict[str, ViewCheck]


@router.get(
    "/audit/records/{record_id}/history",
    summary="A record's events with actor and time, oldest first",
)
def history(
    record_id: RecordId,
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[HistoryEvent]:
    key = paging.decode("history", cursor, 1)
    after = int(key[0]) if key else 0
    # Versions only grow, so a page after a version never changes.
    events = [
        e
        for e in audit.audit_history(runtime, caller, record_id)
        if e["version"] > after
    ][: limit + 1]
    shown, next_cursor = paging.cut("history", events, limit, lambda e: [e["version"]])
    items = [HistoryEvent.model_validate(e) for e in shown]
    return paging.Page[HistoryEvent](items=items, next_cursor=next_cursor)


@router.get("/audit/records/{record_id}/state", summary="A record as at a time")
def state(
    record_id: RecordId,
    at: Annotated[
        datetime,
        Query(description="ISO 8601 with a zone", examples=["2025-01-13T09:30:00Z"]),
    ],
    runtime: RuntimeDep,
    caller: CallerDep,
) -> RecordState:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return RecordState.model_validate(audit.state_at(runtime, caller, record_id, at))


@router.get(
    "/audit/replay",
    summary="Replay every record and rebuild every view aside, then compare",
)
def replay(runtime: RuntimeDep, caller: CallerDep) -> Replay:
    return Replay.model_validate(audit.verify(runtime, caller))
