"""The UPN back-fill template: a team's roll with an empty UPN column.

The school fills in the UPN column and imports the file again; its
Reference column tells the importer to attach UPNs by internal reference.
The file holds names and dates of birth, so it is created readable by its
owner only; it never holds a UPN, only whether a pupil has one.
"""

import csv
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.loading import load
from wellbeing.persistence.runtime import Runtime
from wellbeing.persistence.team_roll import on_roll, with_upn
from wellbeing.projections.export_files import BOM, safe_cell

logger = logging.getLogger(__name__)
COLUMNS = ("Reference", "Surname", "Forename", "Date of birth", "has_upn", "UPN")
_CHUNK = 500


@dataclass(frozen=True)
class WriteUpnTemplate:
    """Write the team's back-fill template to `out`, replacing any file."""

    actor: Actor
    team_id: UUID
    out: Path


@dataclass(frozen=True)
class TemplateWritten:
    pupils: int
    without_upn: int


def write_upn_template(runtime: Runtime, command: WriteUpnTemplate) -> TemplateWritten:
    """Pupils on roll, those without a UPN first, each in reference order."""
    team = load(runtime, Team, command.team_id)
    authorize(runtime, command.actor, "list-participants", team)
    with runtime.database.transaction() as tx:
        roll = on_roll(tx, team.id)
        holders = with_upn(tx, team.id)
    ordered = [p for p in roll if p not in holders] + [p for p in roll if p in holders]
    without = 0
    with _private_file(command.out) as handle:
        handle.write(BOM)
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for participant in _participants(runtime, ordered):
            without += participant.upn is None
            writer.writerow([safe_cell(value) for value in _row(participant)])
    logger.info("upn template written team_id=%s pupils=%d", team.id, len(ordered))
    return TemplateWritten(len(ordered), without)


def _participants(runtime: Runtime, ids: list[UUID]) -> Iterator[Participant]:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        runtime.keys.prefetch(chunk)
        for participant_id in chunk:
            yield load(runtime, Participant, participant_id)


def _row(participant: Participant) -> list[Any]:
    born: object = participant.date_of_birth
    return [
        participant.reference,
        participant.surname,
        participant.forename,
        born.isoformat() if isinstance(born, date) else born,
        participant.upn is not None,
        "",
    ]


@contextmanager
def _private_file(path: Path) -> Iterator[TextIO]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # A file that existed keeps its mode through O_CREAT; narrow it too.
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        yield handle
