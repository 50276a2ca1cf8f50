"""Routes for importing pupil files: an upload becomes a job with a report.

The body is the file itself (text/csv), streamed to a private temporary
file as it arrives, so a large file is never held in memory; the body
limit counts its bytes on the way in.
"""

import hashlib
import os
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from wellbeing.aggregates.base import NotFound
from wellbeing.api import paging
from wellbeing.api.models import PARTICIPANT_ID, PROBLEMS, TEAM_ID, examples
from wellbeing.api.once import KeyHeader, once
from wellbeing.api.problems import UnsupportedMediaType, documented
from wellbeing.api.services import CallerDep, RuntimeDep, ServicesDep
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.teams import load_team
from wellbeing.commands.upn_template import WriteUpnTemplate, write_upn_template
from wellbeing.persistence import import_jobs
from wellbeing.persistence.runtime import Runtime

router = APIRouter(tags=["imports"], responses=PROBLEMS)
UPLOAD_PROBLEMS = documented(415)

JOB_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
UPLOAD_TYPES = ("text/csv", "application/octet-stream", "text/plain")
TeamId = Annotated[UUID, Path(description="the team's id", examples=[TEAM_ID])]
JobId = Annotated[UUID, Path(description="the import job's id", examples=[JOB_ID])]
Status = Literal["queued", "running", "finished", "failed", "interrupted"]


class JobStarted(BaseModel):
    model_config = examples({"id": JOB_ID, "status": "queued"})

    id: UUID
    status: Status


class Summary(BaseModel):
    model_config = examples(
        {
            "encoding": "utf-8",
            "warnings": [],
            "blank_lines": 0,
            "counts": {"new": 28, "updated": 1, "unchanged": 0, "rejected": 1},
        }
    )

    encoding: str
    warnings: list[str]
    blank_lines: int
    counts: dict[str, int]


class Job(BaseModel):
    """An import job; the summary and rows exist once it has finished."""

    model_config = examples(
        {
            "id": JOB_ID,
            "team_id": TEAM_ID,
            "commit": True,
            "status": "finished",
            "summary": {
                "encoding": "utf-8",
                "warnings": [],
                "blank_lines": 0,
                "counts": {"new": 28, "updated": 1, "unchanged": 0, "rejected": 1},
            },
            "error": None,
            "created_at": "2025-01-13T09:30:00.000000+00:00",
            "finished_at": "2025-01-13T09:30:02.000000+00:00",
        }
    )

    id: UUID
    team_id: UUID
    commit: bool
    status: Status
    summary: Summary | None = None
    error: str | None = Field(
        None,
        description="why a failed job failed: a code, and for a malformed file"
        " `pupil-file-malformed:line-N:reason`",
    )
    created_at: str
    finished_at: str | None = None


class RowOutcome(BaseModel):
    """One row's outcome: codes and columns only, never a value."""

    model_config = examples(
        {
            "row": 7,
            "status": "rejected",
            "reasons": ["invalid-check-letter:upn"],
            "participant_id": None,
        },
        {"row": 8, "status": "new", "reasons": [], "participant_id": PARTICIPANT_ID},
    )

    row: int
    status: str
    reasons: list[str]
    participant_id: UUID | None = None


def _job_view(job: import_jobs.JobRow) -> Job:
    return Job.model_validate(
        {
            "id": job.job_id,
            "team_id": job.team_id,
            "commit": job.commit,
            "status": job.status,
            "summary": job.summary,
            "error": job.error,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
        }
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _receive_file(request: Request, folder: FilePath) -> tuple[FilePath, str]:
    """Stream the body to a private file; returns it and its SHA-256."""
    descriptor, name = tempfile.mkstemp(suffix=".upload", dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(descriptor, "wb") as handle:
            async for chunk in request.stream():
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        FilePath(name).unlink(missing_ok=True)
        raise
    return FilePath(name), digest.hexdigest()


@router.post(
    "/teams/{team_id}/imports",
    status_code=202,
    summary="Upload a pupil file; it is imported as a background job",
    responses=UPLOAD_PROBLEMS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "Surname,Forename,Date of birth,Sex,UPN\n"
                    "Penrose,Tamsin,14/03/2016,F,A123456789012\n",
                }
            },
        }
    },
)
async def upload(
    request: Request,
    team_id: TeamId,
    services: ServicesDep,
    caller: CallerDep,
    commit: Annotated[
        bool, Query(description="store the result; a dry run otherwise")
    ] = False,
    key: KeyHeader = None,
) -> JobStarted:
    if _media_type(request) not in UPLOAD_TYPES:
        raise UnsupportedMediaType("send the file as text/csv")
    runtime = services.runtime
    await run_in_threadpool(_check_may_import, runtime, caller, team_id)
    path, digest = await _receive_file(request, services.upload_dir)
    started = False

    def work() -> JobStarted:
        nonlocal started
        _check_may_import(runtime, caller, team_id)
        job_id = services.imports.start(caller, team_id, path, commit)
        started = True
        return JobStarted(id=job_id, status="queued")

    request_key = {"op": "import", "team": team_id, "commit": commit, "file": digest}
    try:
        return await run_in_threadpool(
            once, runtime, caller, key, request_key, JobStarted, work
        )
    finally:
        if not started:
            path.unlink(missing_ok=True)


def _check_may_import(runtime: Runtime, caller: Actor, team_id: UUID) -> None:
    authorize(runtime, caller, "import-participants", load_team(runtime, team_id))


def _visible_job(runtime: Runtime, caller: Actor, job_id: UUID) -> import_jobs.JobRow:
    with runtime.database.transaction() as tx:
        job = import_jobs.find(tx, job_id)
    if job is None:
        raise NotFound("import job not found")
    try:
        _check_may_import(runtime, caller, job.team_id)
    except NotFound:
        raise NotFound("import job not found") from None
    return job


@router.get("/teams/{team_id}/imports", summary="The team's import jobs")
def list_jobs(
    team_id: TeamId,
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[Job]:
    key = paging.decode("imports", cursor, 1)
    _check_may_import(runtime, caller, team_id)
    after = int(key[0]) if key else 0
    with runtime.database.transaction() as tx:
        rows = import_jobs.page(tx, team_id, after, limit + 1)
    shown, next_cursor = paging.cut("imports", rows, limit, lambda r: [r.seq])
    return paging.Page[Job](
        items=[_job_view(j) for j in shown], next_cursor=next_cursor
    )


@router.get("/imports/{job_id}", summary="An import job's status and summary")
def show_job(job_id: JobId, runtime: RuntimeDep, caller: CallerDep) -> Job:
    return _job_view(_visible_job(runtime, caller, job_id))


@router.get("/imports/{job_id}/rows", summary="An import job's row report")
def job_rows(
    job_id: JobId,
    runtime: RuntimeDep,
    caller: CallerDep,
    cursor: paging.CursorQuery = None,
    limit: paging.LimitQuery = 50,
) -> paging.Page[RowOutcome]:
    key = paging.decode("import-rows", cursor, 1)
    _visible_job(runtime, caller, job_id)
    after = int(key[0]) if key else 0
    with runtime.database.transaction() as tx:
        rows = import_jobs.row_page(tx, job_id, after, limit + 1)
    shown, next_cursor = paging.cut("import-rows", rows, limit, lambda r: [r.number])
    items = [
        RowOutcome(
            row=r.number,
            status=r.status,
            reasons=r.reasons,
            participant_id=r.participant_id,
        )
        for r in shown
    ]
    return paging.Page[RowOutcome](items=items, next_cursor=next_cursor)


@router.get(
    "/teams/{team_id}/upn-template",
    summary="The UPN back-fill template: the roll with an empty UPN column",
    response_class=FileResponse,
    responses={
        200: {
            "description": "the template; fill in UPNs and upload it as an import",
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "\ufeffReference,Surname,Forename,Date of birth,"
                    "has_upn,UPN\r\n12,Penrose,Tamsin,2016-03-14,false,\r\n",
                }
            },
        }
    },
)
def upn_template(
    team_id: TeamId, services: ServicesDep, caller: CallerDep
) -> FileResponse:
    # The template holds names and dates of birth: it is written to the
    # private upload folder and deleted once sent.
    descriptor, name = tempfile.mkstemp(suffix=".csv", dir=services.upload_dir)
    os.close(descriptor)
    path = FilePath(name)
    try:
        write_upn_template(services.runtime, WriteUpnTemplate(caller, team_id, path))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename="upn-template.csv",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
