"""Fictional pupil files for the demo; every name here is made up."""

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from wellbeing.aggregates.upn import check_letter

# Syllables, not a list of real names: the pupils are invented and their
# names are meant to look invented.
_SYLLABLES = ("ab", "el", "ori", "tan", "vex", "mu", "zor", "quil", "py", "dra")
CENSUS_COLUMNS = [
    "LEA",
    "Estab",
    "UPN",
    "Surname",
    "Forename",
    "Middlenames",
    "Sex",
    "DOB",
    "NCyearActual",
    "EnrolStatus",
    "FSMeligible",
    "Language",
    "SENProvision",
]


def fictional_name(rng: random.Random) -> str:
    parts = rng.randint(2, 3)
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def fictional_upn(la_code: str, estab: str, serial: int) -> str:
    body = f"{la_code}{estab}{serial % 100000:05d}"
    return check_letter(body) + body


def write_census(
    path: Path, la_code: str, estab: str, count: int, seed: int = 7
) -> Path:
    """A census-shaped file of invented pupils, dates written day-first."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CENSUS_COLUMNS)
        for number in range(1, count + 1):
            born = date(2014, 9, 1) + timedelta(days=rng.randint(0, 364 * 4))
            writer.writerow(
                [
                    la_code,
                    estab,
                    fictional_upn(la_code, estab, number),
                    fictional_name(rng),
                    fictional_name(rng),
                    "",
                    rng.choice("MF"),
                    born.strftime("%d/%m/%Y"),
                    year_group(born, date(2026, 9, 1)),
                    "C",
                    rng.choice("01"),
                    "ENG",
                    rng.choice("NNNNKE"),
                ]
            )
    return path


def year_group(born: date, year_starts: date) -> str:
    """The National Curriculum year of a pupil in the year starting then."""
    cohort = born.year if born.month >= 9 else born.year - 1
    return str(year_starts.year - cohort - 5)


def write_school_export(
    path: Path, la_code: str, estab: str, count: int, seed: int = 11
) -> Path:
    """An upload-template export with the mess a real MIS file has.

    A byte-order mark, day-first dates, some temporary UPNs (a final letter),
    and a few rows a school would need to fix: a wrong check letter, a
    missing date of birth and an impossible date.
    """
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Surname", "Forename", "Middle name(s)", "Date of birth"]
            + ["Gender", "UPN", "Year"]
        )
        for number in range(1, count + 1):
            born = date(2014, 9, 1) + timedelta(days=rng.randint(0, 364 * 6))
            writer.writerow(
                [
                    fictional_name(rng),
                    fictional_name(rng),
                    fictional_name(rng) if number % 9 == 0 else "",
                    _messy_date(born, number),
                    rng.choice(["M", "F", "m", "f"]),
                    _messy_upn(la_code, estab, number),
                    year_group(born, date(2025, 9, 1)),
                ]
            )
    return path


def _messy_date(born: date, number: int) -> str:
    if number % 997 == 0:
        return ""
    if number % 991 == 0:
        return f"31/02/{born.year}"
    return born.strftime("%d/%m/%Y" if number % 2 else "%-d/%-m/%Y")


def _messy_upn(la_code: str, estab: str, number: int) -> str:
    upn = fictional_upn(la_code, estab, number)
    if number % 83 == 0:
        # A temporary UPN ends in a letter that counts by its table place.
        body = upn[1:-1] + "A"
        return check_letter(body) + body
    if number % 499 == 0:
        wrong = "B" if upn[0] != "B" else "C"
        return wrong + upn[1:]
    return upn
