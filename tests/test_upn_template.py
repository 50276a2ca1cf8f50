"""The UPN back-fill template: written, filled in and imported, on both stores."""

import csv
import stat
from pathlib import Path
from uuid import UUID

from pupil_files import (
    permanent_upn,
    pupil,
    pupils,
    reasons,
    roll,
    run_import,
    school,
    statuses,
    write_census,
)

from wellbeing.aggregates.participant import Participant
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
from wellbeing.commands.upn_template import WriteUpnTemplate, write_upn_template
from wellbeing.persistence.runtime import Runtime


def _mixed_school(runtime: Runtime, actor: Actor, folder: Path) -> UUID:
    """Pupils 1 to 3 without UPNs, then pupil 4 with one, in that order."""
    team_id = school(runtime, actor)
    run_import(
        runtime, actor, team_id, write_census(folder / "a.csv", pupils(3, upn=False))
    )
    run_import(
        runtime,
        actor,
        team_id,
        write_census(folder / "b.csv", [pupil(4)]),
        allow_missing_upn=True,
    )
    return team_id


def _template(runtime: Runtime, actor: Actor, team_id: UUID, folder: Path) -> Path:
    out = folder / "template.csv"
    write_upn_template(runtime, WriteUpnTemplate(actor, team_id, out))
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _fill(path: Path, upns: dict[str, str]) -> Path:
    """Fill the UPN column by reference, as a school would in a spreadsheet."""
    rows = _read(path)
    for row in rows:
        row["UPN"] = upns.get(row["Reference"], "")
    filled = path.with_name("filled.csv")
    with filled.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return filled


def test_template_lists_pupils_without_a_upn_first(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", [pupil(1)]))
    run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", [pupil(2, upn=False)]),
        allow_missing_upn=True,
    )

    rows = _read(_template(runtime, actor, team_id, tmp_path))

    assert [(r["Reference"], r["has_upn"]) for r in rows] == [
        ("2", "false"),
        ("1", "true"),
    ]
    assert rows[0]["Surname"] == pupil(2).surname
    assert rows[0]["Date of birth"] == pupil(2).date_of_birth.isoformat()
    assert {r["UPN"] for r in rows} == {""}


def test_template_never_holds_a_upn(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(3)))

    text = _template(runtime, actor, team_id, tmp_path).read_text("utf-8")

    assert not any(str(p.upn) in text for p in pupils(3))


def test_template_is_utf8_with_bom_and_private(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)

    out = _template(runtime, actor, team_id, tmp_path)

    assert out.read_bytes().startswith(b"\xef\xbb\xbfReference,")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_template_cells_cannot_run_as_formulas(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "a.csv", [pupil(1, surname="=Fictionalsum(1)")]),
    )

    rows = _read(_template(runtime, actor, team_id, tmp_path))

    assert rows[0]["Surname"] == "'=Fictionalsum(1)"


def test_filled_template_attaches_upns_by_reference(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)
    template = _template(runtime, actor, team_id, tmp_path)
    filled = _fill(template, {"1": permanent_upn(1), "3": permanent_upn(3)})

    report = run_import(runtime, actor, team_id, filled)

    assert report.upn_backfill
    by_reference = {p.reference: p for p in roll(runtime, team_id)}
    assert [by_reference[r].upn for r in (1, 2, 3)] == [
        permanent_upn(1),
        None,
        permanent_upn(3),
    ]
    assert report.summary() == {"new": 0, "updated": 2, "unchanged": 2, "rejected": 0}


def test_back_filled_upn_is_an_assignment_event(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)
    filled = _fill(
        _template(runtime, actor, team_id, tmp_path), {"1": permanent_upn(1)}
    )

    report = run_import(runtime, actor, team_id, filled)

    participant_id = next(
        r.participant_id for r in report.rows if r.status == "updated"
    )
    assert participant_id is not None
    events = list(runtime.ledger.events.get(participant_id))
    assert type(events[-1]).__name__ == "UpnAssigned"
    assert load(runtime, Participant, participant_id).upn == permanent_upn(1)


def test_back_filled_upn_then_matches_census_rows(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)
    filled = _fill(
        _template(runtime, actor, team_id, tmp_path), {"2": permanent_upn(2)}
    )
    run_import(runtime, actor, team_id, filled)

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "c.csv", [pupil(2)])
    )

    assert statuses(report) == {1: "unchanged"}
    assert len(roll(runtime, team_id)) == 4


def test_back_fill_conflicts_are_left_for_a_person(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)
    template = _template(runtime, actor, team_id, tmp_path)
    upns = {"1": permanent_upn(4), "4": permanent_upn(9), "2": "A123"}

    report = run_import(runtime, actor, team_id, _fill(template, upns))

    by_row = {row.number: row for row in report.rows}
    order = [r["Reference"] for r in _read(template)]
    row_of = {reference: order.index(reference) + 1 for reference in order}
    assert by_row[row_of["1"]].reasons == ["upn-of-other-participant:upn"]
    assert by_row[row_of["4"]].reasons == ["participant-has-other-upn:upn"]
    assert by_row[row_of["2"]].reasons == ["wrong-length:upn"]
    assert [p.upn for p in roll(runtime, team_id)][:3] == [None, None, None]


def test_back_fill_refuses_unknown_and_mismatched_references(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)
    template = _template(runtime, actor, team_id, tmp_path)
    rows = _read(template)
    rows[0]["Reference"], rows[1]["Reference"] = "99", rows[2]["Reference"]
    for number, row in enumerate(rows, start=50):
        row["UPN"] = permanent_upn(number)
    with template.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    report = run_import(runtime, actor, team_id, template)

    assert reasons(report)[1] == ["unknown-reference:reference"]
    assert reasons(report)[2] == ["details-differ:reference"]
    assert reasons(report)[3] == ["duplicate-reference-of-row-2:reference"]


def test_duplicate_upn_in_a_filled_template_names_the_first_row(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = _mixed_school(runtime, actor, tmp_path)
    template = _template(runtime, actor, team_id, tmp_path)

    report = run_import(
        runtime,
        actor,
        team_id,
        _fill(template, {"1": permanent_upn(1), "2": permanent_upn(1)}),
    )

    assert reasons(report) == {2: ["duplicate-upn-of-row-1:upn"]}
