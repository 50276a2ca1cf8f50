"""Partner export files, read back cell by cell, through `wellbeing export`."""

import csv
import hashlib
import hmac
import io
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import StoreFactory
from test_projections_world import (
    SUBDOMAINS,
    Pupil,
    new_program,
    new_pupil,
    new_snapshot,
    new_team,
    scores,
)

from wellbeing.aggregates.participant import Participant
from wellbeing.cli.main import main
from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.loading import load
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.partner_export import HQ, KERNOW, partner_key_subject

HOSTILE = {
    "surname": '=HYPERLINK("http://example.org/x","click")',
    "forename": "+1",
    "middle_names": "-2",
    "year_group": "@x",
    "sex": "\tF",
}
UPN = "H801200001001"
KERNOW_HEADER = [
    "record",
    "record_id",
    "school",
    "la_code",
    "upn",
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
    "tags",
    "snapshot_date",
    "instrument",
    *(f"score_{name}" for name in SUBDOMAINS),
    "program_status",
]
HQ_HEADER = [
    "record",
    "record_id",
    "school",
    "la_code",
    "pseudonym",
    "pseudonym_basis",
    "age_months",
    "sex",
    "year_group",
    "tags",
    "snapshot_date",
    "instrument",
    *(f"score_{name}" for name in SUBDOMAINS),
    "program_status",
]


@dataclass
class Exported:
    """The records a partner should receive, in the order of the file."""

    hostile: Pupil
    plain: Pupil
    ended: Pupil
    first: Any
    ended_snapshot: Any
    second: Any
    program: Any
    spring: list[Any]


def build(runtime: Runtime, actor: Actor) -> Exported:
    """Teams with and without agreements, and pupils who must not appear."""
    kernow = (KERNOW, date(2024, 9, 1), None)
    trelawny = new_team(runtime, actor, "Trelawny", "908", [kernow])
    mousehole = new_team(
        runtime,
        actor,
        "Mousehole",
        "908",
        [(KERNOW, date(2024, 9, 1), date(2024, 12, 31))],
    )
    porthleven = new_team(runtime, actor, "Porthleven", "909")
    hostile = new_pupil(
        runtime, actor, trelawny, 1, upn=UPN, tags={"sen": ["support"]}, **HOSTILE
    )
    plain = new_pupil(runtime, actor, trelawny, 2, surname="Nance", forename="Jory")
    objecting = new_pupil(runtime, actor, trelawny, 3, surname="Objector")
    gone = new_pupil(runtime, actor, trelawny, 4, surname="Gone")
    ended = new_pupil(runtime, actor, mousehole, 1, surname="Ended")
    elsewhere = new_pupil(runtime, actor, porthleven, 1, surname="Elsewhere")
    changed = load(runtime, Participant, objecting.id)
    changed.object_to_sharing(actor.user_id)
    runtime.writer.commit(changed)

    first = new_snapshot(
        runtime, actor, hostile, date(2024, 10, 3), completed=scores(2)
    )
    new_snapshot(
        runtime,
        actor,
        hostile,
        date(2024, 10, 4),
        kind="universal",
        completed=scores(1),
    )
    new_snapshot(runtime, actor, hostile, date(2024, 8, 20), completed=scores(1))
    ended_snapshot = new_snapshot(
        runtime, actor, ended, date(2024, 10, 10), completed=scores(3)
    )
    new_snapshot(runtime, actor, ended, date(2025, 2, 1), completed=scores(3))
    second = new_snapshot(runtime, actor, plain, date(2024, 11, 5), completed=scores(4))
    new_snapshot(runtime, actor, plain, date(2024, 11, 6))
    spring = [
        new_snapshot(runtime, actor, plain, date(2025, 1, 10 + n), completed=scores(n))
        for n in range(5)
    ]
    for other in (objecting, gone, elsewhere):
        new_snapshot(runtime, actor, other, date(2024, 10, 1), completed=scores(1))
    program = new_program(runtime, actor, hostile, first, closed=True)
    new_program(runtime, actor, ended, ended_snapshot)
    erase_participant(runtime, EraseParticipant(actor, gone.id))
    return Exported(
        hostile, plain, ended, first, ended_snapshot, second, program, spring
    )


@pytest.fixture
def exported(
    runtime: Runtime,
    actor: Actor,
    stores: StoreFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Exported:
    made = build(runtime, actor)
    settings = stores.settings()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WELLBEING_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WELLBEING_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WELLBEING_KEK", stores.kek.to_text())
    return made


def export(tmp_path: Path, partner: str, name: str, *options: str) -> Path:
    out = tmp_path / name
    assert main(["export", partner, "--out", str(out), *options]) == 0
    return out


def read_csv(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def score_cells(base: float) -> list[str]:
    return [repr(value) for value in scores(base).values()]


def test_kernow_csv_holds_each_record_cell_by_cell(
    exported: Exported, tmp_path: Path
) -> None:
    made = exported

    rows = read_csv(export(tmp_path, KERNOW, "kernow.csv"))

    hostile_cells = [
        UPN,
        "'" + HOSTILE["surname"],
        "'+1",
        "'-2",
        "2014-05-17",
        "'\tF",
        "'@x",
        "sen:support",
    ]
    assert rows[0] == KERNOW_HEADER
    assert rows[1:] == [
        ["snapshot", str(made.first), "Trelawny", "908", *hostile_cells,
         "2024-10-03", "wellbeing-check", *score_cells(2), ""],
        ["snapshot", str(made.ended_snapshot), "Mousehole", "908", "", "Ended",
         "Tamsin", "", "2014-05-17", "F", "5", "", "2024-10-10", "wellbeing-check",
         *score_cells(3), ""],
        ["snapshot", str(made.second), "Trelawny", "908", "", "Nance", "Jory", "",
         "2014-05-17", "F", "5", "", "2024-11-05", "wellbeing-check",
         *score_cells(4), ""],
        *[
            ["snapshot", str(s), "Trelawny", "908", "", "Nance", "Jory", "",
             "2014-05-17", "F", "5", "", f"2025-01-{10 + n}", "wellbeing-check",
             *score_cells(n), ""]
            for n, s in enumerate(made.spring)
        ],
        ["program", str(made.program), "Trelawny", "908", *hostile_cells,
         "2024-10-03", "wellbeing-check", *score_cells(2), "closed"],
    ]  # fmt: skip


def test_csv_is_utf8_with_a_bom_and_crlf_lines(
    exported: Exported, tmp_path: Path
) -> None:
    raw = export(tmp_path, KERNOW, "kernow.csv").read_bytes()

    assert raw.startswith(b"\xef\xbb\xbfrecord,record_id,")
    assert raw.count(b"\r\n") == 10


def test_numbers_are_written_as_plain_numbers(
    exported: Exported, tmp_path: Path
) -> None:
    text = export(tmp_path, HQ, "hq.csv").read_text("utf-8")

    first = text.splitlines()[1]
    assert ",124,F," in first.replace("'\tF", "F")
    assert ",2.0,2.25,2.5,2.75,3.0,3.25,3.5,3.75," in first


def test_hq_csv_leaves_out_names_upn_and_birth_date(
    exported: Exported, tmp_path: Path
) -> None:
    path = export(tmp_path, HQ, "hq.csv")

    rows = read_csv(path)
    text = path.read_text("utf-8")
    assert rows[0] == HQ_HEADER
    assert UPN not in text
    assert "2014-05-17" not in text
    assert "Nance" not in text and "HYPERLINK" not in text
    assert [r[0] for r in rows[1:]] == ["snapshot"] * 8 + ["program"]


def test_hq_pseudonym_is_an_hmac_of_the_upn_or_the_participant_id(
    exported: Exported, runtime: Runtime, tmp_path: Path
) -> None:
    made = exported
    key = runtime.keys.for_writing(partner_key_subject(HQ), "partner-key")

    rows = read_csv(export(tmp_path, HQ, "hq.csv"))

    def expected(message: str) -> str:
        return "hq-" + hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]

    by_record = {r[1]: r for r in rows[1:]}
    assert by_record[str(made.first)][4:7] == [expected(UPN), "upn", "124"]
    assert by_record[str(made.program)][4:7] == [expected(UPN), "upn", "124"]
    assert by_record[str(made.second)][4:7] == [
        expected(str(made.plain.id)),
        "participant",
        "125",
    ]


def test_a_pupil_who_moved_school_keeps_one_hq_pseudonym(
    runtime: Runtime, actor: Actor, exported: Exported, tmp_path: Path
) -> None:
    kernow = (KERNOW, date(2024, 9, 1), None)
    new_school = new_team(runtime, actor, "Penzance", "908", [kernow])
    moved = new_pupil(runtime, actor, new_school, 1, upn=" h801200001001 ")
    again = new_snapshot(runtime, actor, moved, date(2025, 3, 3), completed=scores(1))

    rows = read_csv(export(tmp_path, HQ, "hq.csv"))

    by_record = {r[1]: r for r in rows[1:]}
    assert by_record[str(again)][4] == by_record[str(exported.first)][4]


def test_hq_statistics_suppress_every_cell_under_five(
    exported: Exported, tmp_path: Path
) -> None:
    export(tmp_path, HQ, "hq.csv")

    rows = read_csv(tmp_path / "hq-statistics.csv")

    assert rows == [
        ["la_code", "term", "snapshots", "programs"],
        ["908", "2024/25 autumn", "<5", "<5"],
        ["908", "2024/25 spring", "5", "<5"],
    ]


def test_json_export_by_file_extension(exported: Exported, tmp_path: Path) -> None:
    made = exported

    rows = orjson.loads(export(tmp_path, KERNOW, "kernow.json").read_bytes())["rows"]

    first = rows[0]
    assert first["record_id"] == str(made.first)
    assert first["surname"] == HOSTILE["surname"]
    assert first["scores"] == scores(2)
    assert first["program_status"] is None
    assert [r["record"] for r in rows] == ["snapshot"] * 8 + ["program"]


def test_hq_json_statistics_keep_numbers_as_numbers(
    exported: Exported, tmp_path: Path
) -> None:
    export(tmp_path, HQ, "hq.json")

    figures = orjson.loads((tmp_path / "hq-statistics.json").read_bytes())
    rows = orjson.loads((tmp_path / "hq.json").read_bytes())["rows"]

    assert figures["statistics"][1]["snapshots"] == 5
    assert figures["statistics"][0]["snapshots"] == "<5"
    assert rows[0]["age_months"] == 124


def test_format_option_overrides_the_extension(
    exported: Exported, tmp_path: Path
) -> None:
    out = export(tmp_path, KERNOW, "kernow.txt", "--format", "json")

    assert orjson.loads(out.read_bytes())["rows"][0]["record"] == "snapshot"


def test_unknown_extension_without_format_is_refused(
    exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", KERNOW, "--out", str(tmp_path / "kernow.xlsx")])

    assert code == 2
    assert "format" in capsys.readouterr().err
    assert not (tmp_path / "kernow.xlsx").exists()


def test_export_files_are_readable_by_their_owner_only(
    exported: Exported, tmp_path: Path
) -> None:
    export(tmp_path, HQ, "hq.csv")

    for name in ("hq.csv", "hq-statistics.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".partial") == []


def test_export_with_no_records_still_has_its_header(
    stores: StoreFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    runtime: Runtime,
    actor: Actor,
) -> None:
    new_team(runtime, actor)
    settings = stores.settings()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WELLBEING_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WELLBEING_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WELLBEING_KEK", stores.kek.to_text())

    rows = read_csv(export(tmp_path, KERNOW, "kernow.csv"))

    assert rows == [KERNOW_HEADER]
