"""Importing the DfE sample census files into a team, on both stores."""

from pathlib import Path

from wellbeing.commands.actor import Actor
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.participants import list_participants
from wellbeing.commands.teams import RegisterTeam, register_team
from wellbeing.persistence.runtime import Runtime


def _team(runtime: Runtime, actor: Actor) -> object:
    return register_team(runtime, RegisterTeam(actor, "Test School", "999", "1001"))


def test_census_file_gives_44_pupils_of_the_team(
    runtime: Runtime, actor: Actor, dfe_data: Path
) -> None:
    team_id = _team(runtime, actor)
    command = ImportParticipants(
        actor, team_id, dfe_data / "pupil-census-data.csv", commit=True
    )

    report = import_participants(runtime, command)

    pupils = list_participants(runtime, actor, team_id)
    births = sorted(p["date_of_birth"] for p in pupils)
    assert report.summary() == {
        "new": 44,
        "updated": 0,
        "unchanged": 0,
        "rejected": 35,
    }
    assert len(pupils) == 44
    assert (births[0], births[-1]) == ("2005-01-14", "2005-02-27")
    assert "month-first-dates" in report.warnings


def test_census_rejections_name_row_and_reason(
    runtime: Runtime, actor: Actor, dfe_data: Path
) -> None:
    team_id = _team(runtime, actor)
    command = ImportParticipants(actor, team_id, dfe_data / "pupil-census-data.csv")

    report = import_participants(runtime, command)

    rejected = {r.number: r.reasons for r in report.rows if r.status == "rejected"}
    assert rejected[1] == ["wrong-check-letter:upn"]
    assert rejected[59] == ["other-establishment:estab"]
    assert sum("wrong-check-letter:upn" in r for r in rejected.values()) == 15


def test_dry_run_stores_nothing(runtime: Runtime, actor: Actor, dfe_data: Path) -> None:
    team_id = _team(runtime, actor)
    command = ImportParticipants(actor, team_id, dfe_data / "pupil-census-data.csv")

    report = import_participants(runtime, command)

    assert report.summary()["new"] == 44
    assert list_participants(runtime, actor, team_id) == []


def test_importing_again_changes_nothing(
    runtime: Runtime, actor: Actor, dfe_data: Path
) -> None:
    team_id = _team(runtime, actor)
    path = dfe_data / "pupil-census-data.csv"
    import_participants(runtime, ImportParticipants(actor, team_id, path, commit=True))

    again = import_participants(
        runtime, ImportParticipants(actor, team_id, path, commit=True)
    )

    assert again.summary()["unchanged"] == 44
    assert again.summary()["new"] == 0
    assert len(list_participants(runtime, actor, team_id)) == 44


def test_other_establishments_allowed_by_option(
    runtime: Runtime, actor: Actor, dfe_data: Path
) -> None:
    team_id = _team(runtime, actor)
    command = ImportParticipants(
        actor,
        team_id,
        dfe_data / "pupil-census-data.csv",
        commit=True,
        allow_other_establishments=True,
    )

    report = import_participants(runtime, command)

    assert report.summary()["new"] == 79 - 15


def test_short_census_file_reads_month_first(
    runtime: Runtime, actor: Actor, dfe_data: Path
) -> None:
    team_id = _team(runtime, actor)
    command = ImportParticipants(
        actor, team_id, dfe_data / "Pupil-Census-Data.csv", commit=True
    )

    report = import_participants(runtime, command)

    pupils = list_participants(runtime, actor, team_id)
    assert report.summary()["rejected"] == 4
    # The one valid row is written 1/4/05: 4 January once read month-first.
    assert [p["date_of_birth"] for p in pupils] == ["2005-01-04"]
    assert "month-first-dates" in report.warnings


def test_template_files_report_bad_and_duplicate_upns(
    runtime: Runtime, actor: Actor, dfe_data: Path
) -> None:
    team_id = _team(runtime, actor)

    def run(name: str) -> dict[int, list[str]]:
        report = import_participants(
            runtime, ImportParticipants(actor, team_id, dfe_data / name)
        )
        return {r.number: r.reasons for r in report.rows if r.status == "rejected"}

    assert run("multiple_pupils_column_order.csv") == {}
    assert run("multiple_pupils_duplicate_upn.csv") == {
        2: ["duplicate-upn-of-row-1:upn"]
    }
    assert run("multiple_pupils_wrong_check_letter.csv") == {2: ["bad-character:upn"]}
