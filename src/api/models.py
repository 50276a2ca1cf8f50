"""Shapes shared by several route modules, and the problems every route
may answer with.
"""

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from wellbeing.api.problems import documented


def examples(*found: dict[str, Any]) -> ConfigDict:
    """An answer's config with OpenAPI examples. Fields a command adds to
    its result are dropped, so an answer holds its documented fields only.
    """
    return ConfigDict(extra="ignore", json_schema_extra={"examples": list(found)})


def body_examples(*found: dict[str, Any]) -> ConfigDict:
    """A request body's config with OpenAPI examples; unknown fields are refused."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(found)})


ANY_ID = "7d0f4a52-3c1e-4b8a-9f6d-2e5c8b1a0d93"
TEAM_ID = "0b6f9a3e-51c2-4d7e-8a90-3f1b2c4d5e6f"
USER_ID = "5e2d8c1b-7a3f-4e69-b0d4-9c8a7f6e5d4c"
PARTICIPANT_ID = "c3a1e5f7-2b4d-4c6e-8f0a-1b3d5f7a9c2e"

Partner = Literal["headstart-kernow", "headstart-hq"]
TeamRole = Literal["admin", "practitioner"]


class IdAnswer(BaseModel):
    """The id of the record the request created or changed."""

    model_config = examples({"id": ANY_ID})

    id: UUID


class Erased(BaseModel):
    """Stands for a personal value whose key was destroyed."""

    model_config = examples({"erased": True})

    erased: Literal[True]


class Sealed(BaseModel):
    """Stands for a personal value this process cannot open."""

    model_config = examples({"sealed": True})

    sealed: Literal[True]


Withheld = Erased | Sealed

# Every route requires a token and may be refused, not find its record, be
# unreadable, too large, invalid, conflicting, or meet a busy database.
PROBLEMS = documented(400, 401, 403, 404, 409, 413, 422, 503)
OPEN_PROBLEMS = documented(503)
