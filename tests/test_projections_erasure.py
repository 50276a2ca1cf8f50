"""Canary: after erasure no view keeps the participant's id or sealed copies.

Every table of every registered projection is read as text, live and any
rebuild under way, and searched for the erased pupil's ids, for the sealed
values the views held for them, and for their names and UPN.
"""

from datetime import date
from uuid import UUID

from people import make_canary
from test_projections_world import (
    Pupil,
    new_program,
    new_pupil,
    new_snapshot,
    new_team,
    scores,
)

from wellbeing.aggregates.participant import Participant
from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.loading import load
from wellbeing.persistence.erasure import ERASERS
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import (
    REBUILD_SUFFIX,
    catch_up,
    create_tables,
    existing_tables,
    identifier,
    rebuild_names,
    start_tracking,
)
from wellbeing.projections.exports import DETAIL_FIELDS
from wellbeing.projections.registry import all_projections, catch_up_all
from wellbeing.projections.roster import SEALED_FIELDS

SEALED_COLUMNS = {
    "export_participants": DETAIL_FIELDS,
    "export_changes": ("sealed",),
    "export_snapshots": ("scores",),
    "roster_participants": SEALED_FIELDS,
}


def view_tables(runtime: Runtime) -> list[str]:
    names = [t.name for p in all_projections().values() for t in p.tables]
    names += [n + REBUILD_SUFFIX for n in names]
    with runtime.database.transaction() as tx:
        return existing_tables(tx, names)


def view_text(runtime: Runtime) -> str:
    """Every cell of every view table, as text."""
    cells: list[str] = []
    tables = view_tables(runtime)
    with runtime.database.transaction() as tx:
        for table in tables:
            tx.execute("SELECT * FROM " + identifier(table))
            cells += [str(v) for row in tx.fetchall() for v in row if v is not None]
    return "\n".join(cells)


def sealed_copies(runtime: Runtime, participant_id: UUID) -> list[str]:
    """The sealed values the views hold for one participant."""
    copies: list[str] = []
    with runtime.database.transaction() as tx:
        for table in existing_tables(tx, list(SEALED_COLUMNS)):
            columns = ", ".join(SEALED_COLUMNS[table])
            tx.execute(
                "SELECT " + columns + " FROM " + table + " WHERE participant_id = %s",
                (str(participant_id),),
            )
            copies += [str(v) for row in tx.fetchall() for v in row if v]
    return copies


def two_pupils(runtime: Runtime, actor: Actor) -> tuple[Pupil, Pupil, list[str]]:
    """A pupil to erase and one to keep, each in every view."""
    kernow = ("headstart-kernow", date(2024, 9, 1), None)
    team_id = new_team(runtime, actor, agreements=[kernow])
    canary = make_canary(7)
    gone = new_pupil(
        runtime,
        actor,
        team_id,
        1,
        surname=canary.surname,
        forename=canary.forename,
        upn=canary.upn,
        tags={"sen": ["support"]},
    )
    kept = new_pupil(runtime, actor, team_id, 2, surname="Keeper")
    for pupil in (gone, kept):
        tagged = load(runtime, Participant, pupil.id)
        tagged.tag(actor.user_id, "fsm", "yes")
        runtime.writer.commit(tagged)
        done = new_snapshot(
            runtime, actor, pupil, date(2024, 10, 1), completed=scores(2)
        )
        new_program(runtime, actor, pupil, done)
    needles = [str(gone.id), gone.id.hex, canary.surname, canary.forename, canary.upn]
    return gone, kept, needles


def erase(runtime: Runtime, actor: Actor, pupil: Pupil) -> None:
    erase_participant(runtime, EraseParticipant(actor, pupil.id))


def test_no_view_holds_an_erased_pupil_after_catching_up(
    runtime: Runtime, actor: Actor
) -> None:
    gone, kept, needles = two_pupils(runtime, actor)
    catch_up_all(runtime)
    needles += sealed_copies(runtime, gone.id)

    erase(runtime, actor, gone)
    catch_up_all(runtime)

    text = view_text(runtime)
    assert [n for n in needles if n in text] == []
    assert str(kept.id) in text


def test_erasure_clears_the_views_before_they_see_the_event(
    runtime: Runtime, actor: Actor
) -> None:
    gone, _, needles = two_pupils(runtime, actor)
    catch_up_all(runtime)
    needles += sealed_copies(runtime, gone.id)

    erase(runtime, actor, gone)

    text = view_text(runtime)
    assert [n for n in needles if n in text] == []


def test_erasure_clears_a_rebuild_under_way(runtime: Runtime, actor: Actor) -> None:
    gone, _, needles = two_pupils(runtime, actor)
    for projection in all_projections().values():
        fresh = rebuild_names(projection)
        with runtime.database.transaction() as tx:
            create_tables(tx, projection, fresh)
            start_tracking(tx, projection.name + "#rebuild")
        catch_up(
            runtime,
            projection,
            tracking_name=projection.name + "#rebuild",
            names=fresh,
        )
    needles += sealed_copies(runtime, gone.id)

    erase(runtime, actor, gone)

    text = view_text(runtime)
    assert [n for n in needles if n in text] == []


def test_views_that_never_saw_the_pupil_end_without_them(
    runtime: Runtime, actor: Actor
) -> None:
    gone, kept, needles = two_pupils(runtime, actor)

    erase(runtime, actor, gone)
    catch_up_all(runtime)

    text = view_text(runtime)
    assert [n for n in needles if n in text] == []
    assert str(kept.id) in text


def test_every_view_with_sealed_copies_has_an_eraser() -> None:
    assert {"export-view", "roster-view"} <= set(ERASERS)
    erased = {t for eraser in ERASERS.values() for t in eraser.tables}
    assert set(SEALED_COLUMNS) <= erased
