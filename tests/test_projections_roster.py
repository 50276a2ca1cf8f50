"""The roster view: a team's pupils for the web app, never the UPN."""

from datetime import date

from conftest import StoreFactory
from people import make_canary
from test_projections_world import new_pupil, new_team

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.personal import SEALED
from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.loading import load
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections.roster import team_roster


def test_roster_lists_a_teams_pupils_by_reference(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    other_team = new_team(runtime, actor, name="Porthleven")
    new_pupil(runtime, actor, team_id, 2, surname="Second")
    new_pupil(runtime, actor, other_team, 1, surname="Elsewhere")
    new_pupil(runtime, actor, team_id, 1, surname="First", middle_names="Jory")

    roster = team_roster(runtime, team_id)

    assert [(p["reference"], p["surname"]) for p in roster] == [
        (1, "First"),
        (2, "Second"),
    ]
    assert roster[0]["middle_names"] == "Jory"
    assert roster[0]["date_of_birth"] == date(2014, 5, 17)
    assert roster[0]["team_id"] == str(team_id)


def test_roster_says_whether_a_upn_is_held_and_never_shows_it(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    canary = make_canary(3)
    new_pupil(runtime, actor, team_id, 1, upn=canary.upn)
    new_pupil(runtime, actor, team_id, 2)

    roster = team_roster(runtime, team_id)

    assert [p["has_upn"] for p in roster] == [True, False]
    assert canary.upn not in repr(roster)


def test_roster_follows_corrections_upns_objections_and_leaving(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    pupil = new_pupil(runtime, actor, team_id, 1)
    team_roster(runtime, team_id)
    changed = load(runtime, Participant, pupil.id)
    changed.correct(actor.user_id, surname="Trevithick", year_group="6")
    changed.assign_upn(actor.user_id, make_canary(4).upn)
    changed.object_to_sharing(actor.user_id)
    changed.leave(actor.user_id, date(2025, 7, 18))
    runtime.writer.commit(changed)

    (entry,) = team_roster(runtime, team_id)

    assert entry["surname"] == "Trevithick"
    assert entry["year_group"] == "6"
    assert entry["forename"] == "Tamsin"
    assert entry["has_upn"] is True
    assert entry["objects_to_sharing"] is True
    assert entry["left_on"] == "2025-07-18"


def test_erased_pupil_leaves_the_roster(runtime: Runtime, actor: Actor) -> None:
    team_id = new_team(runtime, actor)
    gone = new_pupil(runtime, actor, team_id, 1)
    new_pupil(runtime, actor, team_id, 2, surname="Kept")
    team_roster(runtime, team_id)

    erase_participant(runtime, EraseParticipant(actor, gone.id))

    assert [p["surname"] for p in team_roster(runtime, team_id)] == ["Kept"]


def test_roster_without_a_kek_shows_sealed_markers(
    stores: StoreFactory, actor: Actor
) -> None:
    writing = open_runtime(stores.settings())
    team_id = new_team(writing, actor)
    new_pupil(writing, actor, team_id, 1)
    writing.close()
    reading = open_runtime(stores.settings(without_kek=True), need_kek=False)
    try:
        (entry,) = team_roster(reading, team_id)
    finally:
        reading.close()

    assert entry["surname"] is SEALED
    assert entry["reference"] == 1
    assert entry["has_upn"] is False
