"""Periods of the school calendar at their boundaries."""

from datetime import UTC, date, datetime

import pytest
from test_projections_world import new_pupil, new_snapshot, new_team

from wellbeing.commands.actor import Actor
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.periods import academic_year, month, school_day, term
from wellbeing.projections.usage_report import usage_report


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2024, 8, 31), "2023/24"),
        (date(2024, 9, 1), "2024/25"),
        (date(2024, 12, 31), "2024/25"),
        (date(2025, 1, 1), "2024/25"),
        (date(1999, 9, 1), "1999/00"),
    ],
)
def test_academic_year_starts_on_the_first_of_september(day: date, year: str) -> None:
    assert academic_year(day) == year


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 8, 31), "2023/24 summer"),
        (date(2024, 9, 1), "2024/25 autumn"),
        (date(2024, 12, 31), "2024/25 autumn"),
        (date(2025, 1, 1), "2024/25 spring"),
        (date(2025, 3, 31), "2024/25 spring"),
        (date(2025, 4, 1), "2024/25 summer"),
        (date(2025, 8, 31), "2024/25 summer"),
    ],
)
def test_terms_are_autumn_spring_and_summer(day: date, name: str) -> None:
    assert term(day) == name


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 8, 31), "2024-08"),
        (date(2024, 9, 1), "2024-09"),
        (date(2024, 12, 31), "2024-12"),
        (date(2025, 1, 1), "2025-01"),
    ],
)
def test_months_are_calendar_months(day: date, name: str) -> None:
    assert month(day) == name


def test_term_labels_sort_in_calendar_order() -> None:
    days = [date(2024, 9, 1), date(2025, 1, 1), date(2025, 4, 1), date(2025, 9, 1)]
    labels = [term(d) for d in days]

    assert sorted(labels) == labels


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2024, 8, 31, 23, 30, tzinfo=UTC), date(2024, 9, 1)),
        (datetime(2024, 8, 31, 22, 30, tzinfo=UTC), date(2024, 8, 31)),
        (datetime(2024, 12, 31, 23, 30, tzinfo=UTC), date(2024, 12, 31)),
        (datetime(2025, 3, 31, 23, 30, tzinfo=UTC), date(2025, 4, 1)),
    ],
)
def test_school_day_is_the_date_in_english_time(moment: datetime, day: date) -> None:
    assert school_day(moment) == day


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (date(2024, 8, 31), date(2024, 9, 1)),
        (date(2024, 12, 31), date(2025, 1, 1)),
        (date(2025, 3, 31), date(2025, 4, 1)),
    ],
)
def test_snapshots_either_side_of_a_boundary_fall_in_different_periods(
    runtime: Runtime, actor: Actor, first: date, second: date
) -> None:
    team_id = new_team(runtime, actor)
    pupil = new_pupil(runtime, actor, team_id, 1)
    new_snapshot(runtime, actor, pupil, first)
    new_snapshot(runtime, actor, pupil, second)

    periods = usage_report(runtime)["by_period"]

    for kind, name in (("month", month), ("term", term)):
        found = {r["period"]: r["snapshots"] for r in periods[kind] if r["snapshots"]}
        assert found == {name(first): 1, name(second): 1}
    years = {r["period"]: r["snapshots"] for r in periods["academic_year"]}
    expected = {academic_year(first): 0, academic_year(second): 0}
    for day in (first, second):
        expected[academic_year(day)] += 1
    assert {y: years[y] for y in expected} == expected
