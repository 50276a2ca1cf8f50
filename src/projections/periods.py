"""Periods of the school calendar: month, academic term, academic year."""

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

# Schools keep English time: an event at 23:30 UTC on 31 August in summer
# time happened on 1 September at the school.
SCHOOL_TIME = ZoneInfo("Europe/London")

# The academic year starts on 1 September; its terms are autumn (September to
# December), spring (January to March) and summer (April to August).
_TERMS = {
    **dict.fromkeys(range(9, 13), "autumn"),
    **dict.fromkeys(range(1, 4), "spring"),
    **dict.fromkeys(range(4, 9), "summer"),
}


def school_day(moment: datetime) -> date:
    """The date at the school of a moment with a time zone."""
    return moment.astimezone(SCHOOL_TIME).date()


def academic_year(day: date) -> str:
    """The academic year, written `2024/25`, that `day` falls in."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def term(day: date) -> str:
    """The term, written `2024/25 autumn`; labels sort in calendar order."""
    return f"{academic_year(day)} {_TERMS[day.month]}"


def month(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


PERIODS: dict[str, Callable[[date], str]] = {
    "month": month,
    "term": term,
    "academic_year": academic_year,
}
