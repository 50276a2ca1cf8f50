"""Partner exports: rows for HeadStart Kernow and the HQ subset."""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Iterator
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
# 128 bits of the HMAC: no collision among any number of pupils a partner
# will see, and a cell short enough to read.
PSEUDONYM_HEX_DIGITS = 32
_IDENTIFYING = ("upn", "surname", "forename", "middle_names", "date_of_birth")
_PSEUDONYMOUS = ("pseudonym", "pseudonym_basis", "age_months")


class UnknownPartner(ValueError):
    """No export is defined for that partner."""


def export_columns(partner: str, subdomains: Iterable[str] = ()) -> list[str]:
    """The columns of a partner's export as written to CSV, scores flattened."""
    if partner not in PARTNERS:
        raise UnknownPartner(partner)
    who = _IDENTIFYING if partner == KERNOW else _PSEUDONYMOUS
    return [
        "record",
        "record_id",
        "school",
        "la_code",
        *who,
        "sex",
        "year_group",
        "tags",
        "snapshot_date",
        "instrument",
        *(f"score_{name}" for name in subdomains),
        "program_status",
    ]


def partner_key_subject(partner: str) -> UUID:
    """The subject id under which a partner's pseudonym key is kept."""
    return uuid5(NAMESPACE_URL, f"urn:wellbeing-ledger:partner-key:{partner}")


def pseudonym(key: bytes, participant_id: str, upn: str | None) -> tuple[str, str]:
    """The partner-scoped pseudonym and what it was made from.

    A UPN follows the pupil between schools, so the evaluation links the
    records of a pupil who moved; a pupil without one gets an HMAC of the
    participant id.
    """
    if upn:
        basis, message = "upn", canonical_upn(upn)
    else:
        basis, message = "participant", participant_id
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS], basis


def age_in_months(born: date, day: date) -> int:
    """Whole months from birth to `day`; a month counts on its day-of-month."""
    months = (day.year - born.year) * 12 + day.month - born.month
    return months - (1 if day.day < born.day else 0)


@dataclass
class Person:
    """A participant's opened details; filled only while writing an export."""

    team_id: str
    objects: bool
    details: dict[str, Any]
    tags: dict[str, list[str]]
    erased: bool


def _rows(runtime: Runtime, statement: str) -> list[tuple[Any, ...]]:
    with runtime.database.transaction() as tx:
        tx.execute(statement)
        found: list[tuple[Any, ...]] = tx.fetchall()
    return found


def _teams(runtime: Runtime, team_ids: set[str]) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for team_id in sorted(team_ids):
        found: object = runtime.ledger.repository.get(UUID(team_id))
        if isinstance(found, Team):
            teams[team_id] = found
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
    people: dict[str, Person] = {}
    rows = _rows(
        runtime,
        "SELECT participant_id, team_id, objects, "
        + ", ".join(DETAIL_FIELDS)
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
    _apply_tag_changes(runtime, names, people)
    return people


def _apply_tag_changes(
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
        tag = _open(runtime, subject, "participant.tag", sealed)
        taxonomy = _open(runtime, subject, "participant.tag_taxonomy", taxonomy)
        if isinstance(tag, Redacted) or isinstance(taxonomy, Redacted):
            person.erased = True
            continue
        current = [t for t in person.tags.get(taxonomy, []) if t != tag]
        person.tags[taxonomy] = [*current, tag] if kind == "tagged" else current


def export_rows(runtime: Runtime, partner: str) -> Iterator[dict[str, Any]]:
    """One row per completed comprehensive snapshot and per program.

    Only teams whose agreement covering the partner is in force on the
    record's date, and participants who have neither objected nor been
    erased. Rows carry the columns of export_columns, with the scores as
    one mapping under "scores". Raises UnknownPartner.
    """
    if partner not in PARTNERS:
        raise UnknownPartner(partner)
    projection = ExportProjection()
    catch_up(runtime, projection)
    names = live_names(projection)
    snapshots = {
        str(row[0]): row
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
    teams = _teams(runtime, {s[2] for s in wanted} | {p[2] for p in programs})
    maker = _RowMaker(runtime, partner, teams, _people(runtime, names, ids))
    made = [maker.snapshot_row(s) for s in sorted(wanted, key=lambda s: (s[5], s[0]))]
    for program in programs:
        built_from = snapshots.get(str(program[3]))
        if built_from is not None:
            made.append(maker.program_row(program, built_from))
    yield from (row for row in made if row is not None)


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
        self._key = (
            runtime.keys.for_writing(partner_key_subject(partner), "partner-key")
            if partner == HQ
            else b""
        )

    def _who(
        self, participant_id: str, team_id: str, shared_on: date, taken_on: date
    ) -> dict[str, Any] | None:
        team = self.teams.get(team_id)
        person = self.people.get(participant_id)
        if team is None or person is None or person.erased or person.objects:
            return None
        if not team.shares_with(self.partner, shared_on):
            return None
        details = person.details
        row: dict[str, Any] = {"school": team.name, "la_code": team.la_code}
        if self.partner == KERNOW:
            row.update({name: details[name] for name in _IDENTIFYING})
            row["date_of_birth"] = _iso(details["date_of_birth"])
        else:
            made, basis = pseudonym(self._key, participant_id, details["upn"])
            born = details["date_of_birth"]
            row.update(
                pseudonym=made,
                pseudonym_basis=basis,
                age_months=age_in_months(born, taken_on)
                if isinstance(born, date)
                else None,
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

    def snapshot_row(self, snapshot: tuple[Any, ...]) -> dict[str, Any] | None:
        snapshot_id, participant_id, team_id, _, _, taken_on, instrument, scores = (
            snapshot
        )
        day = date.fromisoformat(taken_on)
        who = self._who(participant_id, team_id, day, day)
        if who is None:
            return None
        return {
            "record": "snapshot",
            "record_id": snapshot_id,
            **who,
            "snapshot_date": taken_on,
            "instrument": instrument,
            "scores": self._scores(participant_id, scores),
            "program_status": None,
        }

    def program_row(
        self, program: tuple[Any, ...], snapshot: tuple[Any, ...]
    ) -> dict[str, Any] | None:
        program_id, participant_id, team_id, _, status, started_on = program
        taken_on = date.fromisoformat(snapshot[5])
        who = self._who(
            participant_id, team_id, date.fromisoformat(started_on), taken_on
        )
        if who is None:
            return None
        return {
            "record": "program",
            "record_id": program_id,
            **who,
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
