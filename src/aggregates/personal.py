"""Marking of personal fields, and the markers read in place of their values."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, get_args, get_origin, get_type_hints


@dataclass(frozen=True)
class Personal:
    """Marks an annotated field as personal data of the event's subject.

    The field id is stable: it goes into the sealed value's associated data,
    so it must never change, even when the attribute is renamed.
    """

    field_id: str


class Redacted:
    """Read in place of a personal value that cannot be shown."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<{self.reason}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_marker, (self.reason,))


def _marker(reason: str) -> "Redacted":
    return ERASED if reason == "erased" else SEALED


ERASED: Final = Redacted("erased")
"""The subject's key was destroyed: the value is gone for good."""

SEALED: Final = Redacted("sealed")
"""This process has no KEK, so the value stays sealed."""


_FIELDS: dict[type, dict[str, str]] = {}


def personal_fields(cls: type) -> dict[str, str]:
    """Map each personal attribute of an event class to its stable field id."""
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = _find_personal(cls)
    return known


def _find_personal(cls: type) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, hint in get_type_hints(cls, include_extras=True).items():
        if get_origin(hint) is Annotated:
            for extra in get_args(hint)[1:]:
                if isinstance(extra, Personal):
                    found[name] = extra.field_id
    return found


def merged(old: Any, new: Any, merge: Callable[[Any, Any], Any]) -> Any:
    """Combine two personal values, or keep the marker if either is one.

    Replaying a history whose key is gone must never fail: a marker met on
    either side makes the result the marker.
    """
    if isinstance(new, Redacted):
        return new
    if isinstance(old, Redacted):
        return old
    return merge(old, new)
