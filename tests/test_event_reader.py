"""Aggregates rebuilt in one query each, and small commits in one round trip."""

from pathlib import Path
from uuid import uuid4

import pytest
from pupil_files import pupils, roll, run_import, school, write_census

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.teams import (
    RegisterTeam,
    RenameTeam,
    register_team,
    rename_team,
)
from wellbeing.persistence.event_store import VersionConflict
from wellbeing.persistence.runtime import Runtime


def test_reader_rebuilds_an_aggregate_as_the_library_does(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = register_team(runtime, RegisterTeam(actor, "Oak School", "999", "1001"))
    rename_team(runtime, RenameTeam(actor, team_id, "Oak Academy"))

    ours = runtime.reader.aggregate(team_id)
    library = runtime.ledger.repository.get(team_id)

    assert isinstance(ours, Team)
    assert (ours.version, ours.name) == (library.version, library.name)


def test_reader_loads_several_aggregates_in_one_call(
    runtime: Runtime, actor: Actor
) -> None:
    first = register_team(runtime, RegisterTeam(actor, "Oak School", "999", "1001"))
    second = register_team(runtime, RegisterTeam(actor, "Elm School", "999", "1002"))
    rename_team(runtime, RenameTeam(actor, second, "Elm Academy"))

    found = runtime.reader.aggregates([first, second, uuid4()])

    assert set(found) == {first, second}
    names = {i: getattr(a, "name", None) for i, a in found.items()}
    assert names == {first: "Oak School", second: "Elm Academy"}


def test_reader_answers_none_for_an_id_without_events(runtime: Runtime) -> None:
    assert runtime.reader.aggregate(uuid4()) is None
    assert runtime.reader.aggregates([]) == {}


def test_commit_of_a_stale_version_is_a_conflict_and_stores_nothing(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = register_team(runtime, RegisterTeam(actor, "Oak School", "999", "1001"))
    stale = runtime.reader.aggregate(team_id)
    assert isinstance(stale, Team)
    rename_team(runtime, RenameTeam(actor, team_id, "Oak Academy"))

    stale.rename(actor.user_id, "Oak Free School")
    with pytest.raises(VersionConflict):
        runtime.writer.commit(stale)

    current = runtime.reader.aggregate(team_id)
    assert isinstance(current, Team)
    assert (current.version, current.name) == (2, "Oak Academy")


def test_reader_finds_a_pupil_with_their_team_in_one_call(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    other = register_team(runtime, RegisterTeam(actor, "Elm School", "999", "1002"))
    run_import(runtime, actor, team_id, write_census(tmp_path / "c.csv", pupils(2)))
    pupil_id = roll(runtime, team_id)[0].id

    found = runtime.reader.with_team(pupil_id, other)

    assert set(found) == {pupil_id, team_id, other}
    assert isinstance(found[pupil_id], Participant)
    assert isinstance(found[team_id], Team)


def test_reader_with_team_of_an_unknown_pupil_is_empty(
    runtime: Runtime, actor: Actor
) -> None:
    assert runtime.reader.with_team(uuid4()) == {}


class Refused(Exception):
    """Stands for a side row the database would not take."""


def test_a_commit_whose_side_rows_fail_stores_no_event(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = register_team(runtime, RegisterTeam(actor, "Oak School", "999", "1001"))
    team = runtime.reader.aggregate(team_id)
    assert isinstance(team, Team)
    team.rename(actor.user_id, "Oak Academy")

    def refuse(tx: object) -> None:
        raise Refused

    with pytest.raises(Refused):
        runtime.writer.commit(team, extra=refuse)

    current = runtime.reader.aggregate(team_id)
    assert isinstance(current, Team)
    assert (current.version, current.name) == (1, "Oak School")
