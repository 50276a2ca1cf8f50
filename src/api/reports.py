"""Routes for usage figures and partner exports.

Exports are streamed as they are written. Every download is recorded as
an event naming the analyst before the first byte leaves, so a download
cut short is still on record.
"""

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from wellbeing.aggregates.disclosure import ExportDownload
from wellbeing.api.models import PROBLEMS, TEAM_ID, Partner, examples
from wellbeing.api.services import CallerDep, RuntimeDep
from wellbeing.commands.actor import Actor
from wellbeing.commands.reports import (
    downloadable,
    export_subdomains,
    partner_rows,
    usage_for,
)
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections import export_files
from wellbeing.projections.partner_export import HQ, export_columns

router = APIRouter(tags=["statistics and exports"], responses=PROBLEMS)

Format = Annotated[Literal["csv", "json"], Query(description="file format")]
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
EXPORT_CONTENT = {
    "text/csv": {
        "schema": {"type": "string"},
        "example": "\ufeffrecord,record_id,school,la_code\r\n",
    },
    "application/json": {
        "schema": {"type": "object"},
        "example": {"rows": [{"record": "snapshot", "la_code": "908"}]},
    },
}


class SnapshotCounts(BaseModel):
    model_config = examples(
        {
            "total": 3,
            "by_kind": {"universal": 2, "comprehensive": 1},
            "by_status": {"completed": 3},
        }
    )

    total: int
    by_kind: dict[str, int]
    by_status: dict[str, int]


class ProgramCounts(BaseModel):
    model_config = examples({"total": 1, "by_status": {"active": 1}})

    total: int
    by_status: dict[str, int]


class Row(BaseModel):
    """Figures for one team, LA, partner or period."""

    model_config = examples(
        {
            "team_id": TEAM_ID,
            "name": "Trelawny Primary",
            "la_code": "908",
            "teams": 1,
            "users": 2,
            "participants": 30,
            "snapshots": 3,
            "programs": 1,
            "snapshots_by_kind": {"universal": 2, "comprehensive": 1},
            "snapshots_by_status": {"completed": 3},
            "programs_by_status": {"active": 1},
        },
    )

    team_id: str | None = None
    name: str | None = None
    la_code: str | None = None
    partner: str | None = None
    period: str | None = None
    teams: int = 0
    users: int | None = None
    participants: int = 0
    snapshots: int = 0
    programs: int = 0
    snapshots_by_kind: dict[str, int] = {}
    snapshots_by_status: dict[str, int] = {}
    programs_by_status: dict[str, int] = {}


class Usage(BaseModel):
    """Usage figures for the teams the caller may see."""

    model_config = examples(
        {
            "teams": 1,
            "users": 2,
            "participants": 30,
            "snapshots": {
                "total": 3,
                "by_kind": {"universal": 2, "comprehensive": 1},
                "by_status": {"completed": 3},
            },
            "programs": {"total": 1, "by_status": {"active": 1}},
            "by_team": [
                {
                    "team_id": TEAM_ID,
                    "name": "Trelawny Primary",
                    "la_code": "908",
                    "teams": 1,
                    "participants": 30,
                    "snapshots": 3,
                    "programs": 1,
                }
            ],
            "by_la": [],
            "by_partner": [],
            "by_period": {"term": []},
        },
    )

    teams: int
    users: int | None = None
    participants: int
    snapshots: SnapshotCounts
    programs: ProgramCounts
    by_team: list[Row]
    by_la: list[Row]
    by_partner: list[Row]
    by_period: dict[str, list[Row]]


@router.get("/stats", summary="Usage figures (team admins, partner analysts)")
def stats(
    runtime: RuntimeDep,
    caller: CallerDep,
    la: Annotated[
        str | None,
        Query(pattern=r"^\d{3}$", description="only teams of this LA code"),
    ] = None,
    team: Annotated[
        UUID | None, Query(description="only this team, if the caller sees it")
    ] = None,
) -> Usage:
    return Usage.model_validate(usage_for(runtime, caller, la=la, team=team))


class Downloads(BaseModel):
    """The partner exports the caller may download."""

    model_config = examples({"partners": ["headstart-kernow"]})

    partners: list[str]


@router.get("/exports", summary="The partner exports this token may download")
def downloads(runtime: RuntimeDep, caller: CallerDep) -> Downloads:
    return Downloads(partners=downloadable(runtime, caller))


def _record(runtime: Runtime, caller: Actor, partner: str, file_format: str) -> None:
    runtime.writer.commit(
        ExportDownload(
            actor_id=caller.user_id, partner=partner, file_format=file_format
        )
    )


def _started(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Read the first row now, so a failure is answered before streaming."""
    first = list(itertools.islice(rows, 1))
    return itertools.chain(first, rows)


def _file_name(partner: str, suffix: str, file_format: str) -> str:
    day = datetime.now(UTC).date().isoformat()
    return f"{partner}{suffix}-{day}.{file_format}"


def _stream(
    chunks: Iterator[str] | Iterator[bytes], file_format: str, name: str
) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=MEDIA[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/exports/{partner}",
    summary="Download the partner's export (analysts of that partner)",
    response_class=StreamingResponse,
    responses={200: {"content": EXPORT_CONTENT, "description": "the export"}},
)
def export(
    partner: Partner,
    runtime: RuntimeDep,
    caller: CallerDep,
    file_format: Annotated[Format, Query(alias="format")] = "csv",
) -> StreamingResponse:
    rows = _started(partner_rows(runtime, caller, partner))
    _record(runtime, caller, partner, file_format)
    chunks: Iterator[str] | Iterator[bytes]
    if file_format == "csv":
        subdomains = export_subdomains()
        columns = export_columns(partner, subdomains)
        chunks = export_files.csv_chunks(rows, subdomains, columns)
    else:
        chunks = export_files.json_chunks(rows)
    return _stream(chunks, file_format, _file_name(partner, "", file_format))


@router.get(
    "/exports/{partner}/statistics",
    summary="Counts per LA and term, small cells suppressed (HQ)",
    response_class=StreamingResponse,
    responses={200: {"content": EXPORT_CONTENT, "description": "the statistics"}},
)
def export_statistics(
    partner: Literal["headstart-hq"],
    runtime: RuntimeDep,
    caller: CallerDep,
    file_format: Annotated[Format, Query(alias="format")] = "csv",
) -> StreamingResponse:
    figures = export_files.statistics(partner_rows(runtime, caller, HQ))
    _record(runtime, caller, partner, file_format)
    chunks: Iterator[str] | Iterator[bytes]
    if file_format == "csv":
        chunks = export_files.csv_chunks(figures, [], export_files.STATISTICS_COLUMNS)
    else:
        chunks = export_files.json_chunks(figures)
    return _stream(chunks, file_format, _file_name(partner, "-statistics", file_format))
