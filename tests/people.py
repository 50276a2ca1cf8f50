"""Fictional people for tests, each with unique canary values to search for."""

import csv
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from wellbeing.aggregates.upn import check_letter


@dataclass(frozen=True)
class Canary:
    """A fictional pupil whose values appear nowhere else."""

    surname: str
    forename: str
    date_of_birth: date
    upn: str

    def needles(self) -> list[bytes]:
        return [
            self.surname.encode(),
            self.forename.encode(),
            self.upn.encode(),
        ]


def make_canary(serial: int) -> Canary:
    tag = uuid.uuid4().hex[:10]
    body = f"9991001{serial:05d}"
    return Canary(
        surname=f"Canarysur{tag}",
        forename=f"Canaryfore{tag}",
        date_of_birth=date(2015, 1 + serial % 12, 1 + serial % 28),
        upn=check_letter(body) + body,
    )


def write_template_file(path: Path, people: list[Canary]) -> Path:
    """The common upload template with these people, dates day-first."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Surname", "Forename", "Date of birth", "Sex", "UPN"])
        for person in people:
            writer.writerow(
                [
                    person.surname,
                    person.forename,
                    person.date_of_birth.strftime("%d/%m/%Y"),
                    "F",
                    person.upn,
                ]
            )
    return path
