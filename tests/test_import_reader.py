"""What the pupil-file reader adds for imports: references and quoted formulas."""

from datetime import date
from pathlib import Path

from wellbeing.commands.pupil_file import PupilRow, read_pupil_file

TODAY = date(2026, 3, 2)


def _only_row(path: Path, column_map: dict[str, str] | None = None) -> PupilRow:
    (row,) = read_pupil_file(path, column_map=column_map, today=TODAY).rows()
    return row


def test_reference_column_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    path.write_text(
        "Reference,Surname,Forename,Date of birth,has_upn,UPN\n"
        "0012,Fictionalsurname,Fictionalforename,2015-02-03,false,\n",
        encoding="utf-8",
    )

    row = _only_row(path)

    assert (row.reference, row.upn) == ("0012", None)


def test_reference_column_can_be_mapped(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    path.write_text(
        "Ref no,Surname,Forename,DOB\n"
        "7,Fictionalsurname,Fictionalforename,03/02/2015\n",
        encoding="utf-8",
    )

    row = _only_row(path, {"reference": "Ref no"})

    assert row.reference == "7"


def test_census_file_has_no_reference(tmp_path: Path) -> None:
    path = tmp_path / "census.csv"
    path.write_text(
        "Surname,Forename,DOB\nFictionalsurname,Fictionalforename,03/02/2015\n",
        encoding="utf-8",
    )

    assert "reference" not in read_pupil_file(path, today=TODAY).columns


def test_apostrophe_guarding_a_formula_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "guarded.csv"
    path.write_text(
        "Surname,Forename,DOB\n'=Fictionalsurname,O'Fictional,03/02/2015\n",
        encoding="utf-8",
    )

    row = _only_row(path)

    assert (row.surname, row.forename) == ("=Fictionalsurname", "O'Fictional")
