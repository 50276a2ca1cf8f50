"""Fictional pupils and the files schools would send about them, for import tests."""

import csv
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.upn import CHECK_LETTERS, check_letter
from wellbeing.commands.actor import Actor
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.import_report import ImportReport
from wellbeing.commands.loading import load
from wellbeing.commands.teams import (
    DefineTags,
    RegisterTeam,
    define_tags,
    register_team,
)
from wellbeing.persistence.participants import team_participants
from wellbeing.persistence.runtime import Runtime

LA, ESTAB = "999", "1001"
CENSUS = ("UPN", "Former UPN", "Surname", "Forename", "Middlenames", "Sex", "DOB")
CENSUS += ("NCyearActual", "FSMeligible", "SENProvision")


def permanent_upn(serial: int, la: str = LA) -> str:
    body = f"{la}{serial:09d}"
    return check_letter(body) + body


def temporary_upn(serial: int, la: str = LA) -> str:
    body = f"{la}{serial:08d}{CHECK_LETTERS[serial % len(CHECK_LETTERS)]}"
    return check_letter(body) + body


@dataclass(frozen=True)
class Pupil:
    """A fictional pupil as one row of a census export."""

    serial: int
    surname: str
    forename: str
    date_of_birth: date
    upn: str | None
    former_upn: str | None = None
    middle_names: str | None = None
    sex: str = "F"
    year_group: str = "5"
    fsm: str | None = None
    sen: str | None = None

    def cells(self) -> dict[str, str]:
        return {
            "UPN": self.upn or "",
            "Former UPN": self.former_upn or "",
            "Surname": self.surname,
            "Forename": self.forename,
            "Middlenames": self.middle_names or "",
            "Sex": self.sex,
            "DOB": self.date_of_birth.strftime("%d/%m/%Y"),
            "NCyearActual": self.year_group,
            "FSMeligible": self.fsm or "",
            "SENProvision": self.sen or "",
        }

    def but(self, **changes: Any) -> "Pupil":
        return replace(self, **changes)


def pupil(serial: int, *, upn: bool = True, **changes: Any) -> Pupil:
    """Fictional pupil number serial, with a permanent UPN unless told."""
    made = Pupil(
        serial=serial,
        surname=f"Fictionalsurname{serial}",
        forename=f"Fictionalforename{serial}",
        date_of_birth=date(2015, 1 + serial % 12, 1 + serial % 28),
        upn=permanent_upn(serial) if upn else None,
    )
    return made.but(**changes)


def pupils(count: int, start: int = 1, **changes: Any) -> list[Pupil]:
    return [pupil(n, **changes) for n in range(start, start + count)]


def write_census(
    path: Path,
    people: Sequence[Pupil],
    columns: Sequence[str] = CENSUS,
    *,
    encoding: str = "utf-8",
) -> Path:
    """A census-shaped export with the given columns, in the given order."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for person in people:
            cells = person.cells()
            writer.writerow([cells[column] for column in columns])
    return path


def school(runtime: Runtime, actor: Actor, *, tags: bool = False) -> UUID:
    """A team of LA 999, optionally with FSM and SEN provision vocabularies."""
    team_id = register_team(
        runtime, RegisterTeam(actor, "Fictional Primary", LA, ESTAB)
    )
    if tags:
        define_tags(runtime, DefineTags(actor, team_id, "FSM", ("1",)))
        define_tags(runtime, DefineTags(actor, team_id, "SEN provision", ("K", "E")))
    return team_id


def run_import(
    runtime: Runtime,
    actor: Actor,
    team_id: UUID,
    path: Path,
    **options: Any,
) -> ImportReport:
    options.setdefault("commit", True)
    return import_participants(
        runtime, ImportParticipants(actor, team_id, path, **options)
    )


def roll(runtime: Runtime, team_id: UUID) -> list[Participant]:
    """Every participant of the team, in order of internal reference."""
    ids = team_participants(runtime.database, team_id)
    return [load(runtime, Participant, pid) for pid in ids]


def statuses(report: ImportReport) -> dict[int, str]:
    return {row.number: row.status for row in report.rows}


def reasons(report: ImportReport) -> dict[int, list[str]]:
    return {row.number: row.reasons for row in report.rows if row.reasons}


def event_count(runtime: Runtime) -> int:
    table = (
        "wellbeing_events"
        if runtime.database.dialect == "postgres"
        else ("stored_events")
    )
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM " + table)
        row = tx.fetchone()
    return int(row[0]) if row else 0
