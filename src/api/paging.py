"""Cursor pagination: opaque cursors over a unique, stable sort key.

A cursor is the sort key of the last item served, so the next page starts
strictly after it: no item repeats or is skipped, whatever is added in
between. The cursor names its list, so one list's cursor is refused by
another.
"""

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from wellbeing.errors import InputError

T = TypeVar("T")
R = TypeVar("R")
Key = list[str | int]

CursorQuery = Annotated[
    str | None,
    Query(
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="next_cursor of the page before; omit for the first page",
    ),
]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="items per page")]


class InvalidCursor(InputError):
    """The cursor was not made by this list."""

    code = "invalid-cursor"


class Page(BaseModel, Generic[T]):
    """One page of a list and the cursor of the next, or null at the end."""

    items: list[T]
    next_cursor: str | None = None


def encode(kind: str, key: Key) -> str:
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(kind: str, cursor: str | None, size: int) -> Key | None:
    """The key in a cursor of this list, or None for the first page."""
    if cursor is None:
        return None
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        values = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: not a cursor of this list") from None
    if not (isinstance(values, list) and len(values) == size + 1):
        raise InvalidCursor("cursor: not a cursor of this list")
    if values[0] != kind or not all(isinstance(v, str | int) for v in values[1:]):
        raise InvalidCursor("cursor: not a cursor of this list")
    return list(values[1:])


def cut(
    kind: str, rows: list[R], limit: int, key: Callable[[R], Key]
) -> tuple[list[R], str | None]:
    """A page from up to limit + 1 rows, and the cursor if more follow."""
    shown = rows[:limit]
    if len(rows) <= limit or not shown:
        return shown, None
    return shown, encode(kind, key(shown[-1]))
