"""Periods of the school calendar: month, academic term, academic year."""

from datetime import date

# The academic year starts on 1 September; its terms are autumn (September to
# December), spring (January to March) and summer (April to August).
_TERMS = {
    **dict.fromkeys(range(9, 13), "autumn"),
    **dict.fromkeys(range(1, 4), "spring"),
}


def academic_year(day: date) -> str:
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def term(day: date) -> str:
    return f"{academic_year(day)} {_TERMS.get(day.month, 'summer')}"


def month(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


PERIODS = {"month": month, "term": term, "academic_year": academic_year}
