"""Errors as application/problem+json: one status and one code per kind.

The product's errors are mapped to HTTP here and nowhere else. Details are
the errors' own messages, which never carry personal data; a validation
error names the field and the rule, never the value that was sent.
"""

import logging
import traceback
from collections.abc import Mapping
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from wellbeing.aggregates.base import Conflict, DomainError, NotAllowed, NotFound
from wellbeing.errors import InputError, WellbeingError
from wellbeing.persistence.database import DatabaseBusy, UniqueViolation

logger = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = "2"

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    500: "Internal error",
    503: "Service busy",
}
HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


class Unauthenticated(WellbeingError):
    """No bearer token, or one that is unknown or revoked."""

    code = "unauthenticated"


class UnsupportedMediaType(WellbeingError):
    """The request body is of a type this route does not take."""

    code = "unsupported-media-type"


class FieldError(BaseModel):
    """One rule a request broke: the field and the rule, never the value."""

    field: str
    code: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document with the product's stable error code."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:wellbeing-ledger:problem:not-found",
                    "title": "Not found",
                    "status": 404,
                    "code": "not-found",
                    "detail": "team not found",
                    "request_id": "3f2c1d0e9b8a47f6a5b4c3d2e1f00a1b",
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    code: str
    detail: str
    request_id: str | None = None
    errors: list[FieldError] | None = None


# Order matters: the first class an error is an instance of decides.
_STATUS_OF: tuple[tuple[type[WellbeingError], int], ...] = (
    (Unauthenticated, 401),
    (UnsupportedMediaType, 415),
    (DatabaseBusy, 503),
    (UniqueViolation, 409),
    (NotFound, 404),
    (NotAllowed, 403),
    (Conflict, 409),
    (InputError, 422),
    (DomainError, 422),
)


def status_of(error: WellbeingError) -> int:
    for kind, status in _STATUS_OF:
        if isinstance(error, kind):
            return status
    return 500


def request_id_of(request: Request) -> str | None:
    found = getattr(request.state, "request_id", None)
    return found if isinstance(found, str) else None


def problem_body(
    status: int,
    code: str,
    detail: str,
    request_id: str | None,
    errors: list[FieldError] | None = None,
) -> dict[str, Any]:
    problem = Problem(
        type=f"urn:wellbeing-ledger:problem:{code}",
        title=TITLES.get(status, "Error"),
        status=status,
        code=code,
        detail=detail,
        request_id=request_id,
        errors=errors,
    )
    return problem.model_dump(mode="json", exclude_none=True)


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(status, code, detail, request_id_of(request), errors)
    return JSONResponse(body, status, headers=headers, media_type=MEDIA_TYPE)


def _headers_for(status: int) -> Mapping[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status == 503:
        return {"Retry-After": RETRY_AFTER_SECONDS}
    return None


async def on_wellbeing_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, WellbeingError)
    status = status_of(error)
    if status == 500:
        log_failure(request_id_of(request), error)
        return problem_response(request, 500, "internal", "the request failed")
    return problem_response(
        request, status, error.code, str(error), headers=_headers_for(status)
    )


async def on_persistence_error(request: Request, error: Exception) -> JSONResponse:
    # The event store library wraps psycopg's pool timeout in its own error;
    # that is the same "busy" as our own pool's, so it is told the same way.
    if isinstance(error.__cause__, PoolTimeout):
        busy = DatabaseBusy("no database connection was free in time")
        return await on_wellbeing_error(request, busy)
    log_failure(request_id_of(request), error)
    return problem_response(request, 500, "internal", "the request failed")


async def on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = HTTP_CODES.get(status, "error")
    detail = error.detail if isinstance(error.detail, str) else TITLES.get(status, "")
    return problem_response(request, status, code, detail, headers=error.headers)


async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    found = [_field_error(e) for e in error.errors()]
    return problem_response(
        request,
        422,
        "invalid-request",
        "the request is invalid; see errors",
        errors=found,
    )


def _field_error(error: Any) -> FieldError:
    location = [str(part) for part in error.get("loc", ())]
    kind = str(error.get("type", "invalid"))
    if kind == "json_invalid":
        location = location[:1]
    elif kind == "extra_forbidden" and location:
        # The unknown name is the client's own text, which may be anything,
        # a pupil's UPN included: it is not repeated.
        location[-1] = "*"
    return FieldError(
        field=".".join(location) or "request",
        code=kind,
        message=_rule(kind, error.get("ctx") or {}),
    )


def _rule(kind: str, context: dict[str, Any]) -> str:
    """The broken rule in words; built from the schema, not from the input."""
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "not a known field"
    for key in ("max_length", "min_length", "ge", "le", "gt", "lt", "pattern"):
        if key in context and isinstance(context[key], int | float | str):
            return f"must satisfy {key} {context[key]}"
    if "expected" in context and isinstance(context["expected"], str):
        return f"expected {context['expected']}"
    return kind.replace("_", " ")


def log_failure(request_id: str | None, error: BaseException) -> None:
    """Log an unexpected failure by type and frames, never by its message:
    a driver's message can quote the values of a statement.
    """
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error(
        "request failed request_id=%s error=%s\n%s",
        request_id,
        type(error).__name__,
        frames,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(WellbeingError, on_wellbeing_error)
    app.add_exception_handler(PersistenceError, on_persistence_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may answer with."""
    return {
        status: {"model": Problem, "description": TITLES[status]} for status in statuses
    }
