"""Partner exports: rows for HeadStart Kernow and the HQ subset."""

import base64
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson

from wellbeing.aggregates.personal import Redacted
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.upn import canonical_upn
from wellbeing.crypto import open_sealed
from wellbeing.persistence.runtime import Runtime
from wellbeing.persistence.transcoder import untag
from wellbeing.projections.engine import catch_up, live_names
from wellbeing.projections.exports import DETAIL_FIELDS, ExportProjection

KERNOW = "headstart-kernow"
HQ = "headstart-hq"
PARTNERS = (KERNOW, HQ)
SMALL_CELL = 5
PSEUDONYM_PREFIX = "hq-"


class UnknownPartner(ValueError):
    """No export is defined for that partner."""


@dataclass
class Person:
    """A participant's opened details; filled only while writing an export."""

    team_id: str
    objects: bool
    details: dict[str, Any]
    tags: dict[str, list[str]]
    erased: bool


def _rows(runtime: Runtime, statement: str, params: Any = None) -> list[Any]:
    with runtime.database.transaction() as tx:
        tx.execute(statement, params)
        found: list[Any] = tx.fetchall()
    return found


def _teams(runtime: Runtime, names: dict[str, str]) -> dict[str, Team]:
    rows = _rows(runtime, "SELECT DISTINCT team_id FROM " + names["export_snapshots"])
    rows += _rows(runtime, "SELECT DISTINCT team_id FROM " + names["export_programs"])
    teams: dict[str, Team] = {}
    for (team_id,) in rows:
        found: object = runtime.ledger.repository.get(UUID(str(team_id)))
        if isinstance(found, Team):
            teams[str(team_id)] = found
    return teams


def _open(runtime: Runtime, subject: UUID, field_id: str, text: str | None) -> Any:
    if text is None:
        return None
    key = runtime.keys.for_reading(subject)
    if isinstance(key, Redacted):
        return key
    plain = open_sealed(key, subject, field_id, base64.b64decode(text))
    return untag(orjson.loads(plain))


def _people(
    runtime: Runtime, names: dict[str, str], ids: set[str]
) -> dict[str, Person]:
    runtime.keys.prefetch(UUID(i) for i in ids)
    columns = ", ".join(DETAIL_FIELDS)
    people: dict[str, Person] = {}
    rows = _rows(
        runtime,
        "SELECT participant_id, team_id, objects, "
        + columns
        + " FROM "
        + names["export_participants"],
    )
    for participant_id, team_id, objects, *sealed in rows:
        if participant_id not in ids:
            continue
        subject = UUID(participant_id)
        details = {
            name: _open(runtime, subject, f"participant.{name}", text)
            for name, text in zip(DETAIL_FIELDS, sealed, strict=True)
        }
        erased = any(isinstance(v, Redacted) for v in details.values())
        tags = details.pop("tags") or {}
        people[participant_id] = Person(team_id, bool(objects), details, tags, erased)
    _apply_changes(runtime, names, people)
    return people


def _apply_changes(
    runtime: Runtime, names: dict[str, str], people: dict[str, Person]
) -> None:
    rows = _rows(
        runtime,
        "SELECT participant_id, kind, taxonomy, sealed FROM "
        + names["export_changes"]
        + " ORDER BY change_id",
    )
    for participant_id, kind, taxonomy, sealed in rows:
        person = people.get(participant_id)
        if person is None or person.erased:
            continue
        subject = UUID(participant_id)
        if kind == "former-upn":
            continue
        tag = _open(runtime, subject, "participant.tag", sealed)
        current = [t for t in person.tags.get(taxonomy, []) if t != tag]
        person.tags[taxonomy] = [*current, tag] if kind == "tagged" else current


def export_rows(runtime: Runtime, partner: str) -> Iterator[dict[str, Any]]:
    """One row per completed comprehensive snapshot and per program.

    Only teams whose agreement covering the partner is in force on the
    record's date, and participants who have not objected or been erased.
    """
    if partner not in PARTNERS:
        raise UnknownPartner(partner)
    projection = ExportProjection()
    catch_up(runtime, projection)
    names = live_names(projection)
    teams = _teams(runtime, names)
    snapshots = {
        row[0]: row
        for row in _rows(
            runtime,
            "SELECT snapshot_id, participant_id, team_id, kind, status, taken_on,"
            " instrument, scores FROM " + names["export_snapshots"],
        )
    }
    programs = _rows(
        runtime,
        "SELECT program_id, participant_id, team_id, snapshot_id, status, started_on"
        " FROM " + names["export_programs"] + " ORDER BY started_on, program_id",
    )
    wanted = [
        s for s in snapshots.values() if s[3] == "comprehensive" and s[4] == "completed"
    ]
    ids = {s[1] for s in wanted} | {p[1] for p in programs}
    people = _people(runtime, names, ids)
    writer = _RowMaker(runtime, partner, teams, people)
    for snapshot in sorted(wanted, key=lambda s: (s[5], s[0])):
        row = writer.snapshot_row(snapshot)
        if row is not None:
            yield row
    for program in programs:
        snapshot = snapshots.get(program[3])
        if snapshot is not None:
            row = writer.program_row(program, snapshot)
            if row is not None:
                yield row


class _RowMaker:
    def __init__(
        self,
        runtime: Runtime,
        partner: str,
        teams: dict[str, Team],
        people: dict[str, Person],
    ) -> None:
        self.runtime = runtime
        self.partner = partner
        self.teams = teams
        self.people = people
        self._pseudonym_key = (
            runtime.keys.for_writing(
                uuid5(NAMESPACE_URL, f"urn:wellbeing-ledger:partner-key:{partner}"),
                "partner-key",
            )
            if partner == HQ
            else b""
        )

    def _base(
        self, participant_id: str, team_id: str, day: date
    ) -> dict[str, Any] | None:
        team = self.teams.get(team_id)
        person = self.people.get(participant_id)
        if team is None or person is None or person.erased or person.objects:
            return None
        if not team.shares_with(self.partner, day):
            return None
        details = person.details
        row: dict[str, Any] = {"school": team.name, "la_code": team.la_code}
        if self.partner == KERNOW:
            row.update(
                upn=details["upn"],
                surname=details["surname"],
                forename=details["forename"],
                middle_names=details["middle_names"],
                date_of_birth=_iso(details["date_of_birth"]),
            )
        else:
            basis, pseudonym = self._pseudonym(participant_id, details["upn"])
            row.update(
                pseudonym=pseudonym,
                pseudonym_basis=basis,
                age_months=_months(details["date_of_birth"], day),
            )
        row.update(
            sex=details["sex"],
            year_group=details["year_group"],
            tags="; ".join(
                f"{taxonomy}:{tag}"
                for taxonomy, tags in sorted(person.tags.items())
                for tag in tags
            ),
        )
        return row

    def _pseudonym(self, participant_id: str, upn: Any) -> tuple[str, str]:
        # A UPN follows the pupil between schools, so the evaluation links
        # the records of a pupil who moved; without one, the participant id.
        if isinstance(upn, str) and upn:
            basis, message = "upn", b"upn\x00" + canonical_upn(upn).encode()
        else:
            basis, message = "participant", b"participant\x00" + participant_id.encode()
        digest = hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()
        return basis, PSEUDONYM_PREFIX + digest[:32]

    def snapshot_row(self, snapshot: tuple[Any, ...]) -> dict[str, Any] | None:
        snapshot_id, participant_id, team_id, _, _, taken_on, instrument, scores = (
            snapshot
        )
        day = date.fromisoformat(taken_on)
        row = self._base(participant_id, team_id, day)
        if row is None:
            return None
        return {
            "record": "snapshot",
            "record_id": snapshot_id,
            **row,
            "snapshot_date": taken_on,
            "instrument": instrument,
            "scores": self._scores(participant_id, scores),
            "program_status": None,
        }

    def program_row(
        self, program: tuple[Any, ...], snapshot: tuple[Any, ...]
    ) -> dict[str, Any] | None:
        program_id, participant_id, team_id, _, status, started_on = program
        row = self._base(participant_id, team_id, date.fromisoformat(started_on))
        if row is None:
            return None
        return {
            "record": "program",
            "record_id": program_id,
            **row,
            "snapshot_date": snapshot[5],
            "instrument": snapshot[6],
            "scores": self._scores(participant_id, snapshot[7]),
            "program_status": status,
        }

    def _scores(self, participant_id: str, sealed: str | None) -> dict[str, float]:
        opened = _open(self.runtime, UUID(participant_id), "snapshot.scores", sealed)
        return opened if isinstance(opened, dict) else {}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _months(born: Any, day: date) -> int | None:
    if not isinstance(born, date):
        return None
    months = (day.year - born.year) * 12 + day.month - born.month
    return months - (1 if day.day < born.day else 0)
