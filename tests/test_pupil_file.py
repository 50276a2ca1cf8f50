"""Tests of reading a pupil file exported from a school's MIS."""

import os
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import pytest

from wellbeing.aggregates.upn import InvalidUpn, validate_upn
from wellbeing.commands.pupil_file import (
    PupilFile,
    PupilFileInvalid,
    PupilFileMalformed,
    PupilRow,
    RowProblem,
    parse_date,
    read_pupil_file,
)
from wellbeing.errors import InputError

TODAY = date(2025, 6, 1)
HEADER = "Surname,Forename,DOB\n"
CENSUS_HEADER = (
    "LEA,Estab,UPN,Surname,Forename,Middlenames,Sex,DOB,NCyearActual,"
    "EnrolStatus,FSMeligible,Language,SENProvision\n"
)
# Canary values: fictional, and searched for in every message and repr.
CANARIES = ("Testsurname", "Canary", "Zoë", "07/03/2015", "2015-03-07", "C999000000001")


@pytest.fixture
def dfe_data() -> Path:
    folder = os.environ.get("WELLBEING_DFE_DATA")
    if not folder:
        pytest.skip("WELLBEING_DFE_DATA is not set")
    return Path(folder)


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "pupils.csv"
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, column_map: Mapping[str, str] | None = None) -> PupilFile:
    return read_pupil_file(path, column_map=column_map, today=TODAY)


def rows_of(path: Path, column_map: Mapping[str, str] | None = None) -> list[PupilRow]:
    return list(read(path, column_map).rows())


def only_row(path: Path, column_map: Mapping[str, str] | None = None) -> PupilRow:
    (row,) = rows_of(path, column_map)
    return row


def warning_codes(pupil_file: PupilFile) -> list[str]:
    return [warning.code for warning in pupil_file.warnings]


def assert_no_canary(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text


# Encodings


def test_utf8_without_bom(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Zoë,07/03/2015\n")

    pupil_file = read(path)

    assert pupil_file.encoding == "utf-8"
    assert pupil_file.warnings == []
    assert only_row(path).forename == "Zoë"


def test_utf8_with_bom_keeps_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff" + HEADER + "Testsurname,Zoë,07/03/2015\n")

    pupil_file = read(path)

    assert pupil_file.encoding == "utf-8-sig"
    assert pupil_file.columns["surname"] == "Surname"
    assert only_row(path).surname == "Testsurname"


def test_windows_1252_fallback_is_a_file_warning(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Zoë,07/03/2015\n", "cp1252")

    pupil_file = read(path)

    assert pupil_file.encoding == "windows-1252"
    assert warning_codes(pupil_file) == ["windows-1252-fallback"]
    assert only_row(path).forename == "Zoë"


def test_names_are_normalised_to_nfc(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Zoe\u0308,07/03/2015\n")

    assert only_row(path).forename == "Zo\u00eb"


def test_replacement_character_in_utf8_is_a_bad_encoding_problem(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Zo\ufffd,07/03/2015\n")

    row = only_row(path)

    assert row.forename is None
    assert row.problems == [RowProblem("bad-encoding", "forename")]


def test_byte_undefined_in_windows_1252_is_a_bad_encoding_problem(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pupils.csv"
    path.write_bytes(HEADER.encode() + b"Test\x81surname,Canary,07/03/2015\n")

    row = only_row(path)

    assert row.surname is None
    assert row.problems == [RowProblem("bad-encoding", "surname")]


def test_utf16_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff" + HEADER, "utf-16-le")

    with pytest.raises(PupilFileInvalid) as caught:
        read(path)

    assert caught.value.reason == "unsupported-encoding"


# Columns


@pytest.mark.parametrize(
    "header",
    [
        "Surname,Forename,DOB",
        "Last name,First name,Date of birth",
        "Family name,Given name,date_of_birth",
        "SURNAME,FORENAME,D.O.B.",
        " surname , forename , Date Of Birth ",
    ],
)
def test_header_aliases_ignore_case_spaces_and_punctuation(
    tmp_path: Path, header: str
) -> None:
    path = write(tmp_path, header + "\nTestsurname,Canary,07/03/2015\n")

    row = only_row(path)

    assert (row.surname, row.forename) == ("Testsurname", "Canary")
    assert row.date_of_birth == date(2015, 3, 7)


def test_upload_template_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Surname,Forename,Middle name(s),Date of birth,Sex,UPN,Former UPN\n"
        "Testsurname,Canary,Middlecanary,07/03/2015,f,upn-text,old-text\n",
    )

    row = only_row(path)

    assert row.middle_names == "Middlecanary"
    assert (row.upn, row.former_upn) == ("upn-text", "old-text")
    assert row.sex == "F"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Gender", "sex"),
        ("Year group", "year_group"),
        ("Year", "year_group"),
        ("LA code", "lea"),
        ("LA", "lea"),
        ("Establishment", "estab"),
        ("DfE number", "estab"),
        ("Previous UPN", "former_upn"),
        ("FSM", "fsm"),
        ("SEN", "sen-provision"),
    ],
)
def test_other_aliases(tmp_path: Path, header: str, field: str) -> None:
    path = write(tmp_path, f"{HEADER.strip()},{header}\nTestsurname,Canary,1/1/15,x\n")

    assert read(path).columns[field] == header


def test_census_columns_are_found(tmp_path: Path) -> None:
    path = write(
        tmp_path, CENSUS_HEADER + "999,1001,,Testsurname,Canary,,M,1/1/15,6,C,1,ENG,K\n"
    )

    columns = read(path).columns

    assert set(columns) == {
        "lea",
        "estab",
        "upn",
        "surname",
        "forename",
        "middle_names",
        "sex",
        "date_of_birth",
        "year_group",
        "fsm",
        "sen-provision",
    }


def test_census_tags_use_the_taxonomy_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path, CENSUS_HEADER + "999,1001,,Testsurname,Canary,,M,1/1/15,6,C,1,ENG,K\n"
    )

    assert only_row(path).tags == {"fsm": "1", "sen-provision": "K"}


def test_blank_tag_is_left_out(tmp_path: Path) -> None:
    path = write(
        tmp_path, CENSUS_HEADER + "999,1001,,Testsurname,Canary,,M,1/1/15,6,C, ,ENG,K\n"
    )

    assert only_row(path).tags == {"sen-provision": "K"}


def test_any_column_order(tmp_path: Path) -> None:
    path = write(
        tmp_path, "DOB,Sex,Forename,Surname\n07/03/2015,M,Canary,Testsurname\n"
    )

    row = only_row(path)

    assert (row.surname, row.forename, row.sex) == ("Testsurname", "Canary", "M")
    assert row.date_of_birth == date(2015, 3, 7)


def test_column_map_names_other_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "Nom,Prénom,Né le,Ref\nTestsurname,Canary,07/03/2015,x\n")
    column_map = {"surname": "Nom", "forename": "Prénom", "date_of_birth": "Né le"}

    row = only_row(path, column_map)

    assert (row.surname, row.forename) == ("Testsurname", "Canary")
    assert row.date_of_birth == date(2015, 3, 7)


def test_column_map_overrides_an_alias(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Surname,Forename,DOB,UPN,Current UPN\nTestsurname,Canary,1/1/15,a,b\n",
    )

    row = only_row(path, {"upn": "Current UPN", "former_upn": "UPN"})

    assert (row.upn, row.former_upn) == ("b", "a")


def test_column_map_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,07/03/2015\n")

    with pytest.raises(PupilFileInvalid) as caught:
        read(path, {"shoe_size": "DOB"})

    assert (caught.value.reason, caught.value.column) == ("unknown-field", "shoe_size")


def test_column_map_to_an_absent_header_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,07/03/2015\n")

    with pytest.raises(PupilFileInvalid) as caught:
        read(path, {"upn": "Pupil number"})

    assert (caught.value.reason, caught.value.column) == ("missing-column", "upn")


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Forename,DOB", "surname"),
        ("Surname,DOB", "forename"),
        ("Surname,Forename,Birthday", "date_of_birth"),
    ],
)
def test_missing_required_column_is_refused(
    tmp_path: Path, header: str, missing: str
) -> None:
    path = write(tmp_path, header + "\nCanary,Testsurname,x\n")

    with pytest.raises(PupilFileInvalid) as caught:
        read(path)

    assert caught.value.reason == "missing-column"
    assert caught.value.column == missing
    assert missing in str(caught.value)


def test_two_columns_for_one_field_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "Surname,Forename,DOB,Sex,Gender\nA,B,1/1/15,M,M\n")

    with pytest.raises(PupilFileInvalid) as caught:
        read(path)

    assert (caught.value.reason, caught.value.column) == ("duplicate-column", "sex")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "\n \n")

    with pytest.raises(PupilFileInvalid) as caught:
        read(path)

    assert caught.value.reason == "empty-file"


# Values


def test_surrounding_white_space_is_stripped(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER + "\u00a0Testsurname\u200b ,\t Canary\ufeff, 07/03/2015 \n"
    )

    row = only_row(path)

    assert (row.surname, row.forename) == ("Testsurname", "Canary")
    assert row.date_of_birth == date(2015, 3, 7)


def test_white_space_only_cell_is_not_supplied(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Surname,Forename,Middlenames,DOB\nTestsurname,Canary, \u00a0,07/03/2015\n",
    )

    assert only_row(path).middle_names is None


@pytest.mark.parametrize(
    ("line", "column"),
    [
        (",Canary,07/03/2015", "surname"),
        ("Testsurname,  ,07/03/2015", "forename"),
        ("Testsurname,Canary,", "date_of_birth"),
    ],
)
def test_missing_required_value_is_a_row_problem(
    tmp_path: Path, line: str, column: str
) -> None:
    path = write(tmp_path, HEADER + line + "\n")

    assert only_row(path).problems == [RowProblem("missing-value", column)]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("f", "F"), ("M", "M"), ("Male", "M"), ("female", "F"), ("x", "X"), (" ", None)],
)
def test_sex_is_normalised(tmp_path: Path, given: str, expected: str | None) -> None:
    path = write(tmp_path, "Surname,Forename,DOB,Sex\n" + f"A,B,1/1/15,{given}\n")

    assert only_row(path).sex == expected


def test_codes_keep_their_leading_zeros(tmp_path: Path) -> None:
    path = write(tmp_path, CENSUS_HEADER + "009,0042,,A,B,,M,1/1/15,06,C,0,ENG,N\n")

    row = only_row(path)

    assert (row.lea, row.estab, row.year_group) == ("009", "0042", "06")


def test_year_group_is_kept_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "Surname,Forename,DOB,Year group\nA,B,1/1/15,R\n")

    assert only_row(path).year_group == "R"


def test_absent_optional_columns_read_as_not_supplied(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,07/03/2015\n")

    row = only_row(path)

    assert (row.upn, row.sex, row.lea, row.tags) == (None, None, None, {})


# Structure


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "\n" + HEADER + "A,One,1/1/15\n\n  \n,,\nB,Two,2/1/15\n\n")

    pupil_file = read(path)
    rows = list(pupil_file.rows())

    assert pupil_file.blank_lines == 5
    assert pupil_file.row_count == 2
    assert [(row.number, row.line) for row in rows] == [(1, 3), (2, 7)]


def test_quoted_comma_and_line_break_are_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + '"Testsurname, Jr",Canary,1/1/15\r\n"Two\r\nLines",B,1/1/15\r\n'
        "C,D,1/1/15\r\n",
    )

    rows = rows_of(path)

    assert rows[0].surname == "Testsurname, Jr"
    assert rows[1].surname == "Two\r\nLines"
    assert [row.line for row in rows] == [2, 3, 5]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER.replace("\n", "\r\n") + "A,B,1/1/15\r\nC,D,2/1/15\r\n"
    )

    assert [row.forename for row in rows_of(path)] == ["B", "D"]


@pytest.mark.parametrize("line", ["A,B", "A,B,1/1/15,extra"])
def test_wrong_field_count_names_the_line(tmp_path: Path, line: str) -> None:
    path = write(tmp_path, HEADER + "\nC,D,1/1/15\n" + line + "\nE,F,1/1/15\n")

    with pytest.raises(PupilFileMalformed) as caught:
        read(path)

    assert (caught.value.line, caught.value.reason) == (4, "wrong-field-count")
    assert "line 4" in str(caught.value)


def test_unclosed_quote_names_the_line_it_opens_on(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'A,B,1/1/15\n"Testsurname,Canary,1/1/15\nC,D,2\n')

    with pytest.raises(PupilFileMalformed) as caught:
        read(path)

    assert (caught.value.line, caught.value.reason) == (3, "unclosed-quote")


def test_text_after_a_closing_quote_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '"Testsurname"x,Canary,1/1/15\nA,B,1/1/15\n')

    with pytest.raises(PupilFileMalformed) as caught:
        read(path)

    assert (caught.value.line, caught.value.reason) == (2, "bad-quote")


def test_rows_stream_and_can_be_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "A,B,1/1/15\nC,D,2/1/15\n")
    pupil_file = read(path)

    stream = pupil_file.rows()

    assert isinstance(stream, Iterator)
    assert next(stream).forename == "B"
    assert [row.forename for row in pupil_file.rows()] == ["B", "D"]


# Dates of birth


@pytest.mark.parametrize(
    "text",
    [
        "03/12/2009",
        "3/12/2009",
        "03-12-2009",
        "03.12.2009",
        "3/12/09",
        "2009-12-03",
        "40150",
        "40150.0",
    ],
)
def test_date_forms(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, HEADER + f"Testsurname,Canary,{text}\n")

    born = only_row(path).date_of_birth

    assert type(born) is date
    assert born == date(2009, 12, 3)


def test_excel_serial_counts_past_the_1900_leap_day() -> None:
    assert parse_date("38353", month_first=False, today=TODAY) == date(2005, 1, 1)


def test_short_whole_number_is_not_an_excel_date(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,2005\n")

    assert only_row(path).problems == [RowProblem("invalid-date", "date_of_birth")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/12/09", date(2009, 12, 3)),
        ("3/12/30", date(1930, 12, 3)),
        ("01/06/25", date(2025, 6, 1)),
        ("02/06/25", date(1925, 6, 2)),
        ("29/02/00", date(2000, 2, 29)),
    ],
)
def test_two_digit_year_is_the_latest_not_after_today(
    text: str, expected: date
) -> None:
    assert parse_date(text, month_first=False, today=TODAY) == expected


@pytest.mark.parametrize(
    "text", ["31/02/2005", "29/02/2005", "00/01/2005", "13/13/2005", "soon", "1/2"]
)
def test_impossible_date_is_a_row_problem(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, HEADER + f"Testsurname,Canary,{text}\n")

    row = only_row(path)

    assert row.date_of_birth is None
    assert row.problems == [RowProblem("invalid-date", "date_of_birth")]


def test_date_of_birth_after_today_is_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,02/06/2025\n")

    assert only_row(path).problems == [RowProblem("invalid-date", "date_of_birth")]


def test_leap_day_of_a_leap_year_is_valid(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,29/02/2004\n")

    assert only_row(path).date_of_birth == date(2004, 2, 29)


def test_ambiguous_dates_read_day_first(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "A,B,01/02/2005\nC,D,2005-03-04\n")

    pupil_file = read(path)

    assert pupil_file.warnings == []
    assert next(pupil_file.rows()).date_of_birth == date(2005, 2, 1)


def test_month_first_file_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "A,B,01/02/2005\nC,D,1/13/05\n")

    pupil_file = read(path)
    rows = list(pupil_file.rows())

    assert warning_codes(pupil_file) == ["month-first-dates"]
    assert pupil_file.warnings[0].line == 3
    assert [row.date_of_birth for row in rows] == [date(2005, 1, 2), date(2005, 1, 13)]


def test_both_orders_in_one_file_read_day_first(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "A,B,13/01/2005\nC,D,1/13/05\nE,F,01/02/05\n")

    pupil_file = read(path)
    rows = list(pupil_file.rows())

    assert warning_codes(pupil_file) == ["mixed-date-orders"]
    assert rows[0].date_of_birth == date(2005, 1, 13)
    assert rows[1].problems == [RowProblem("invalid-date", "date_of_birth")]
    assert rows[2].date_of_birth == date(2005, 2, 1)


# Personal data stays out of reprs and errors


def test_row_repr_shows_only_the_number(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Surname,Forename,DOB,UPN\nTestsurname,Canary,07/03/2015,C999000000001\n",
    )

    shown = repr(only_row(path))

    assert shown == "PupilRow(number=1)"
    assert_no_canary(shown)


def test_file_repr_has_no_personal_data(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "Testsurname,Canary,07/03/2015\n")

    assert_no_canary(repr(read(path)))


@pytest.mark.parametrize(
    "text",
    [
        HEADER + "Testsurname,Canary\n",
        HEADER + '"Testsurname,Canary,07/03/2015\n',
        HEADER + '"Testsurname"Canary,Zoë,07/03/2015\n',
        "Testsurname,Canary,07/03/2015\n",
    ],
)
def test_errors_never_echo_the_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(InputError) as caught:
        read(path)

    assert_no_canary(str(caught.value))
    assert_no_canary(repr(caught.value))


# The DfE's files, as real input


def test_census_file_reads_every_row_month_first(dfe_data: Path) -> None:
    pupil_file = read(dfe_data / "pupil-census-data.csv")
    rows = list(pupil_file.rows())

    assert pupil_file.row_count == len(rows) == 79
    assert warning_codes(pupil_file) == ["month-first-dates"]
    assert all(row.problems == [] for row in rows)
    assert rows[1].date_of_birth == date(2005, 1, 2)


def test_census_file_valid_upns_of_one_school(dfe_data: Path) -> None:
    rows = rows_of(dfe_data / "pupil-census-data.csv")

    school = [row for row in rows if row.estab == "1001" and has_valid_upn(row)]
    births = [row.date_of_birth for row in school if row.date_of_birth]

    assert len(school) == len(births) == 44
    assert (min(births), max(births)) == (date(2005, 1, 14), date(2005, 2, 27))


def test_short_census_file_reads_month_first(dfe_data: Path) -> None:
    pupil_file = read(dfe_data / "Pupil-Census-Data.csv")
    rows = list(pupil_file.rows())

    assert len(rows) == 5
    assert warning_codes(pupil_file) == ["month-first-dates"]
    assert rows[1].date_of_birth == date(2005, 1, 2)


def test_upload_template_in_another_order(dfe_data: Path) -> None:
    rows = rows_of(dfe_data / "multiple_pupils_column_order.csv")

    assert [row.sex for row in rows] == ["F", "F"]
    assert {row.date_of_birth for row in rows} == {date(2009, 12, 3)}


def has_valid_upn(row: PupilRow) -> bool:
    try:
        validate_upn(row.upn or "")
    except InvalidUpn:
        return False
    return True
