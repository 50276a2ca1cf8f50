"""Retention erases exactly the pupils who left more than N years ago."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from conftest import StoreFactory
from erasure_fixtures import Pair, import_pair

from wellbeing.aggregates.base import NotAllowed
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.personal import ERASED
from wellbeing.aggregates.team import PRACTITIONER
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
from wellbeing.commands.participant_life import (
    LeaveTeam,
    RejoinTeam,
    leave_team,
    rejoin_team,
)
from wellbeing.commands.retention import retention_cutoff, run_retention
from wellbeing.commands.teams import InviteMember, JoinTeam, invite_member, join_team
from wellbeing.errors import ConfigurationError
from wellbeing.persistence.participants import add_to_team_index, set_left_on
from wellbeing.persistence.runtime import Runtime, open_runtime

# With three years kept, a run on this day erases those who left before
# 1 December 2023.
TODAY = date(2026, 12, 1)
CUTOFF = date(2023, 12, 1)


@pytest.fixture
def retaining(stores: StoreFactory) -> Iterator[Runtime]:
    """A runtime whose settings keep the records of leavers for three years."""
    opened = open_runtime(stores.settings(retention_years=3))
    yield opened
    opened.close()


@pytest.fixture
def pair(retaining: Runtime, actor: Actor, tmp_path: Path) -> Pair:
    return import_pair(retaining, actor, tmp_path)


def leave(runtime: Runtime, actor: Actor, participant_id: UUID, on: date) -> None:
    leave_team(runtime, LeaveTeam(actor, participant_id, on))


def erased(runtime: Runtime, participant_id: UUID) -> bool:
    return load(runtime, Participant, participant_id).erased


def test_cutoff_is_the_same_day_years_earlier() -> None:
    assert retention_cutoff(TODAY, 3) == CUTOFF


def test_cutoff_from_29_february_falls_on_28_february() -> None:
    assert retention_cutoff(date(2028, 2, 29), 3) == date(2025, 2, 28)


def test_pupil_who_left_before_the_cutoff_is_erased(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    leave(retaining, actor, pair.gone_id, date(2023, 11, 30))

    run_retention(retaining, actor, today=TODAY)

    assert erased(retaining, pair.gone_id)
    assert load(retaining, Participant, pair.gone_id).surname is ERASED


def test_pupil_who_left_after_the_cutoff_is_kept(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    leave(retaining, actor, pair.kept_id, date(2024, 7, 19))

    run_retention(retaining, actor, today=TODAY)

    assert load(retaining, Participant, pair.kept_id).surname == pair.kept.surname


def test_pupil_who_left_on_the_cutoff_day_is_kept(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    leave(retaining, actor, pair.gone_id, CUTOFF)

    run_retention(retaining, actor, today=TODAY)

    assert not erased(retaining, pair.gone_id)


def test_current_pupil_is_kept(retaining: Runtime, actor: Actor, pair: Pair) -> None:
    leave(retaining, actor, pair.gone_id, date(2020, 7, 17))

    run_retention(retaining, actor, today=TODAY)

    assert not erased(retaining, pair.kept_id)


def test_run_counts_exactly_the_pupils_it_erased(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    leave(retaining, actor, pair.gone_id, date(2020, 7, 17))
    leave(retaining, actor, pair.kept_id, date(2024, 7, 19))

    result = run_retention(retaining, actor, today=TODAY)

    assert (result.cutoff, result.erased, result.already_erased) == (CUTOFF, 1, 0)


def test_second_run_erases_nothing_new(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    leave(retaining, actor, pair.gone_id, date(2020, 7, 17))
    run_retention(retaining, actor, today=TODAY)

    again = run_retention(retaining, actor, today=TODAY)

    assert (again.erased, again.already_erased) == (0, 1)
    assert not erased(retaining, pair.kept_id)


def test_rejoined_pupil_is_kept(retaining: Runtime, actor: Actor, pair: Pair) -> None:
    leave(retaining, actor, pair.gone_id, date(2020, 7, 17))
    rejoin_team(retaining, RejoinTeam(actor, pair.gone_id))

    result = run_retention(retaining, actor, today=TODAY)

    assert result.erased == 0
    assert not erased(retaining, pair.gone_id)


def test_run_without_a_retention_setting_is_refused_naming_it(
    runtime: Runtime, actor: Actor
) -> None:
    with pytest.raises(ConfigurationError, match="WELLBEING_RETENTION_YEARS"):
        run_retention(runtime, actor, today=TODAY)


def test_practitioner_may_not_run_retention(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    invited = invite_member(
        retaining,
        InviteMember(
            actor, pair.team_id, f"staff-{uuid4().hex[:8]}@example.org", PRACTITIONER
        ),
    )
    practitioner = Actor(UUID(invited["id"]))
    join_team(retaining, JoinTeam(practitioner, pair.team_id))
    leave(retaining, actor, pair.gone_id, date(2020, 7, 17))

    with pytest.raises(NotAllowed):
        run_retention(retaining, practitioner, today=TODAY)

    assert not erased(retaining, pair.gone_id)


def test_failed_erasure_of_one_pupil_stops_no_other(
    retaining: Runtime, actor: Actor, pair: Pair
) -> None:
    damaged = uuid4()
    _index_without_history(retaining, damaged, pair.team_id, date(2019, 7, 19))
    leave(retaining, actor, pair.gone_id, date(2020, 7, 17))

    result = run_retention(retaining, actor, today=TODAY)

    assert (result.erased, result.failed) == (1, 1)
    assert erased(retaining, pair.gone_id)


def _index_without_history(
    runtime: Runtime, participant_id: UUID, team_id: UUID, left_on: date
) -> None:
    """A leaver in the lookup table whose events are missing: a damaged store."""
    with runtime.database.transaction() as tx:
        add_to_team_index(tx, participant_id, team_id, 999)
        set_left_on(tx, participant_id, left_on)
