"""Reading a pupil file exported from a school's MIS into checked rows."""

import codecs
import csv
import re
import unicodedata
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from wellbeing.errors import InputError

Encoding = Literal["utf-8", "utf-8-sig", "windows-1252"]
ProblemCode = Literal["missing-value", "invalid-date", "bad-encoding"]

TAGS = ("fsm", "sen-provision", "pupil-premium", "looked-after")
REQUIRED = ("surname", "forename", "date_of_birth")

# Headers are compared as lower-case letters and digits only, so "Middle
# name(s)", "MiddleNames" and "middle_names" are one header.
_ALIASES = {
    "surname": ("surname", "lastname", "familyname", "legalsurname"),
    "forename": ("forename", "forenames", "firstname", "givenname", "legalforename"),
    "middle_names": ("middlenames", "middlename"),
    "date_of_birth": ("dob", "dateofbirth", "birthdate"),
    "sex": ("sex", "gender"),
    "year_group": ("ncyearactual", "yeargroup", "year", "ncyear"),
    "upn": ("upn", "uniquepupilnumber"),
    "former_upn": ("formerupn", "previousupn", "oldupn"),
    "lea": ("lea", "la", "lacode", "leacode"),
    "estab": ("estab", "establishment", "dfenumber", "establishmentnumber"),
    "fsm": ("fsmeligible", "fsm"),
    "sen-provision": ("senprovision", "sen"),
    "pupil-premium": ("pupilpremium",),
    "looked-after": ("lookedafter", "lookedafterchild", "cla"),
    # The back-fill template's internal reference; a file with this column
    # attaches UPNs to pupils the team already has.
    "reference": ("reference", "internalreference"),
}
_SEXES = {"m": "M", "male": "M", "boy": "M", "f": "F", "female": "F", "girl": "F"}

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EDGES = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
_INVISIBLE_SET = frozenset(_INVISIBLE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_SEPARATED_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})", re.ASCII)
# Only five-digit serials (1927 to 2173) are read as Excel dates: a shorter
# whole number in a date of birth is far more likely a bare year or a slip.
_EXCEL_SERIAL = re.compile(r"(\d{5})(?:\.0+)?", re.ASCII)
# Excel's 1900 date system counts a 29 February 1900 that never was, so every
# serial from 61 on is one day ahead of a plain count from 31 December 1899.
_EXCEL_EPOCH = date(1899, 12, 30)
_CHUNK = 1 << 16
_FORMULA_STARTS = ("=", "+", "-", "@")


class PupilFileInvalid(InputError):  # noqa: N818 (named for what went wrong)
    """The file as a whole cannot be read as a pupil file; names the column."""

    code = "pupil-file-invalid"

    def __init__(self, reason: str, column: str | None = None) -> None:
        where = f" ({column})" if column else ""
        super().__init__(f"pupil file is invalid: {reason}{where}")
        self.reason = reason
        self.column = column


class PupilFileMalformed(InputError):  # noqa: N818 (named for what went wrong)
    """A record breaks the CSV structure; names the physical line it starts on."""

    code = "pupil-file-malformed"

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"pupil file is malformed at line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class FileWarning:
    """Something true of the whole file that the person importing should see."""

    code: str
    line: int | None = None


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one value of a row, by code and canonical column."""

    code: ProblemCode
    column: str


@dataclass(frozen=True)
class PupilRow:
    """One pupil as the file gives it; the repr shows only the row number."""

    number: int
    line: int = field(repr=False)
    surname: str | None = field(repr=False)
    forename: str | None = field(repr=False)
    middle_names: str | None = field(repr=False)
    date_of_birth: date | None = field(repr=False)
    sex: str | None = field(repr=False)
    year_group: str | None = field(repr=False)
    upn: str | None = field(repr=False)
    former_upn: str | None = field(repr=False)
    lea: str | None = field(repr=False)
    estab: str | None = field(repr=False)
    tags: dict[str, str] = field(repr=False)
    problems: list[RowProblem] = field(repr=False)
    reference: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Layout:
    """Where each canonical field sits, and how the file's dates read."""

    positions: dict[str, int]
    month_first: bool
    today: date


@dataclass(frozen=True)
class PupilFile:
    """A checked pupil file; `rows()` reads it again, one row at a time."""

    source: Path = field(repr=False)
    encoding: Encoding
    warnings: list[FileWarning]
    columns: dict[str, str]
    blank_lines: int
    row_count: int
    _layout: _Layout = field(repr=False)

    def rows(self) -> Iterator[PupilRow]:
        """Stream the rows; raises `PupilFileMalformed` if the file has changed."""
        with closing(_Records(self.source, self.encoding).stream()) as records:
            _header(records)
            for number, record in enumerate(records, start=1):
                yield _build_row(self._layout, number, record)


def read_pupil_file(
    source: Path,
    *,
    column_map: Mapping[str, str] | None = None,
    today: date | None = None,
) -> PupilFile:
    """Check a pupil file's encoding, columns, structure and date order.

    Raises `PupilFileInvalid` or `PupilFileMalformed`; problems with single
    values are left to each row.
    """
    encoding = _detect_encoding(source)
    records = _Records(source, encoding)
    with closing(records.stream()) as stream:
        header = _header(stream)
        positions = _match_columns(header.cells, column_map or {})
        survey = _survey(stream, positions["date_of_birth"])

    warnings = []
    if encoding == "windows-1252":
        warnings.append(FileWarning("windows-1252-fallback"))
    warnings.extend(survey.warnings)
    layout = _Layout(positions, survey.month_first, today or date.today())
    return PupilFile(
        source=source,
        encoding=encoding,
        warnings=warnings,
        columns={name: _clean(header.cells[at]) for name, at in positions.items()},
        blank_lines=records.blank_lines,
        row_count=survey.rows,
        _layout=layout,
    )


def _detect_encoding(source: Path) -> Encoding:
    # Decoding in chunks keeps memory bounded however large the file.
    decoder = codecs.getincrementaldecoder("utf-8")()
    with source.open("rb") as stream:
        first = stream.read(_CHUNK)
        if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise PupilFileInvalid("unsupported-encoding")
        chunk = first
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = stream.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "windows-1252"
    return "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"


@dataclass(frozen=True)
class _Record:
    line: int
    cells: list[str]


class _Records:
    """The file's non-blank records, each with the physical line it starts on."""

    def __init__(self, source: Path, encoding: Encoding) -> None:
        self._source = source
        self._encoding = encoding
        self.blank_lines = 0

    def stream(self) -> Generator[_Record, None, None]:
        # Every record must be as wide as the header: a short or long one means
        # a stray comma or quote, and guessing which cell moved would put a
        # value in the wrong column.
        self.blank_lines = 0
        width = None
        for record in self._parsed():
            if not any(_clean(cell) for cell in record.cells):
                self.blank_lines += 1
                continue
            if width is None:
                width = len(record.cells)
            elif len(record.cells) != width:
                raise PupilFileMalformed(record.line, "wrong-field-count")
            yield record

    def _parsed(self) -> Iterator[_Record]:
        # errors="replace" turns a byte that is not text into U+FFFD, which the
        # row then reports as bad-encoding instead of failing the whole file.
        with self._source.open(
            encoding=self._encoding, errors="replace", newline=""
        ) as stream:
            lines = _Lines(stream)
            reader = csv.reader(lines, strict=True)
            start = 1
            try:
                for cells in reader:
                    yield _Record(start, cells)
                    start = reader.line_num + 1
            except csv.Error as error:
                reason = "unclosed-quote" if lines.exhausted else "bad-quote"
                raise PupilFileMalformed(start, reason) from error


class _Lines:
    """Physical lines, noting when the reader asked for more than there are."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._lines)
        except StopIteration:
            # The csv reader only asks past the end while inside a quote.
            self.exhausted = True
            raise


def _header(records: Iterator[_Record]) -> _Record:
    header = next(records, None)
    if header is None:
        raise PupilFileInvalid("empty-file")
    return header


def _match_columns(header: list[str], column_map: Mapping[str, str]) -> dict[str, int]:
    keys = [_header_key(cell) for cell in header]
    positions = _mapped_columns(keys, column_map)
    claimed = set(positions.values())
    for name, aliases in _ALIASES.items():
        if name in positions:
            continue
        found = [
            at for at, key in enumerate(keys) if key in aliases and at not in claimed
        ]
        if len(found) > 1:
            raise PupilFileInvalid("duplicate-column", name)
        if found:
            positions[name] = found[0]
    for name in REQUIRED:
        if name not in positions:
            raise PupilFileInvalid("missing-column", name)
    return positions


def _mapped_columns(keys: list[str], column_map: Mapping[str, str]) -> dict[str, int]:
    positions = {}
    for name, header in column_map.items():
        if name not in _ALIASES:
            raise PupilFileInvalid("unknown-field", name)
        wanted = _header_key(header)
        if wanted not in keys:
            raise PupilFileInvalid("missing-column", name)
        positions[name] = keys.index(wanted)
    return positions


def _header_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(character for character in folded if character.isalnum())


@dataclass(frozen=True)
class _DateSurvey:
    rows: int
    month_first: bool
    warnings: list[FileWarning]


def _survey(records: Iterator[_Record], position: int) -> _DateSurvey:
    # A date such as 1/13/05 can only be month-first and 13/1/05 only
    # day-first; the rest (1/2/05) read either way and follow the file.
    rows = 0
    month_first_line = day_first_line = None
    for record in records:
        rows += 1
        order = _date_order(_clean(record.cells[position]))
        if order == "month-first" and month_first_line is None:
            month_first_line = record.line
        elif order == "day-first" and day_first_line is None:
            day_first_line = record.line
    if month_first_line is None:
        return _DateSurvey(rows, False, [])
    if day_first_line is None:
        return _DateSurvey(
            rows, True, [FileWarning("month-first-dates", month_first_line)]
        )
    # Both orders in one file: read day-first, as the UK does, and let the rows
    # that only make sense month-first come back as invalid dates.
    return _DateSurvey(
        rows, False, [FileWarning("mixed-date-orders", month_first_line)]
    )


def _date_order(text: str) -> Literal["month-first", "day-first"] | None:
    match = _SEPARATED_DATE.fullmatch(text)
    if match is None:
        return None
    first, second = int(match[1]), int(match[3])
    if first <= 12 < second <= 31:
        return "month-first"
    if second <= 12 < first <= 31:
        return "day-first"
    return None


def _build_row(layout: _Layout, number: int, record: _Record) -> PupilRow:
    problems: list[RowProblem] = []
    values = {
        name: _value(record.cells[at], name, problems)
        for name, at in layout.positions.items()
    }
    date_of_birth = _date_of_birth(values.get("date_of_birth"), layout, problems)
    for name in REQUIRED:
        if values.get(name) is None and not _has_problem(problems, name):
            problems.append(RowProblem("missing-value", name))

    return PupilRow(
        number=number,
        line=record.line,
        surname=values.get("surname"),
        forename=values.get("forename"),
        middle_names=values.get("middle_names"),
        date_of_birth=date_of_birth,
        sex=_sex(values.get("sex")),
        year_group=values.get("year_group"),
        upn=values.get("upn"),
        former_upn=values.get("former_upn"),
        lea=values.get("lea"),
        estab=values.get("estab"),
        tags={name: text for name in TAGS if (text := values.get(name)) is not None},
        problems=problems,
        reference=values.get("reference"),
    )


def _value(cell: str, name: str, problems: list[RowProblem]) -> str | None:
    text = _clean(cell)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "\ufffd" in text:
        # U+FFFD stands for characters already lost; keeping it would store a
        # name that is silently wrong.
        problems.append(RowProblem("bad-encoding", name))
        return None
    return text or None


def _clean(cell: str) -> str:
    text = _EDGES.sub("", cell) if _has_edges(cell) else cell
    # Files written for spreadsheets (the back-fill template among them) put
    # an apostrophe before a cell that would otherwise run as a formula.
    if text.startswith("'") and text[1:2] in _FORMULA_STARTS:
        return text[1:]
    return text


def _has_edges(cell: str) -> bool:
    # Most cells have nothing to strip; looking at both ends first saves a
    # regular-expression pass per cell on files of a hundred thousand rows.
    first, last = cell[:1], cell[-1:]
    if first.isspace() or last.isspace():
        return True
    return first in _INVISIBLE_SET or last in _INVISIBLE_SET


def _has_problem(problems: list[RowProblem], column: str) -> bool:
    return any(problem.column == column for problem in problems)


def _sex(text: str | None) -> str | None:
    if text is None:
        return None
    return _SEXES.get(text.casefold(), text.upper())


def _date_of_birth(
    text: str | None, layout: _Layout, problems: list[RowProblem]
) -> date | None:
    if text is None:
        return None
    parsed = parse_date(text, month_first=layout.month_first, today=layout.today)
    # A date of birth after today cannot be right, however well formed.
    if parsed is None or parsed > layout.today:
        problems.append(RowProblem("invalid-date", "date_of_birth"))
        return None
    return parsed


def parse_date(text: str, *, month_first: bool, today: date) -> date | None:
    """Read a date as MIS exports write it, or None if it is not a real date."""
    if match := _ISO_DATE.fullmatch(text):
        return _make_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _SEPARATED_DATE.fullmatch(text):
        first, second, year = int(match[1]), int(match[3]), match[4]
        month, day = (first, second) if month_first else (second, first)
        if len(year) == 2:
            return _resolve_century(int(year), month, day, today)
        return _make_date(int(year), month, day)
    if match := _EXCEL_SERIAL.fullmatch(text):
        return _EXCEL_EPOCH + timedelta(days=int(match[1]))
    return None


def _resolve_century(two_digits: int, month: int, day: int, today: date) -> date | None:
    # The latest date with these two year digits that is not after today: a
    # pupil's birthday in '24 is 2024 in 2025, but 1924 if it would be ahead.
    year = today.year - (today.year - two_digits) % 100
    candidate = _make_date(year, month, day)
    if candidate is not None and candidate > today:
        return _make_date(year - 100, month, day)
    return candidate


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
