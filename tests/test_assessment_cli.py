"""The console script's assessment and pupil-life verbs, in a subprocess on SQLite.

Each call starts a Python process (about 0.3 s here). Tests that only add
snapshots share one school built once for the module; tests that archive,
correct or erase a pupil build their own.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from people import Canary, make_canary, write_template_file

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.upn import check_letter
from wellbeing.commands.loading import load
from wellbeing.persistence.runtime import open_runtime
from wellbeing.settings import load_settings

UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
INSTRUMENT = "wellbeing-check"
# The universal items of the wellbeing-check on its 0-3 scale; calm-1 is the
# only reverse item among them and counts as 3 - 1 = 2.
UNIVERSAL = {
    "mood-1": 2,
    "calm-1": 1,
    "temper-1": 3,
    "friends-1": 0,
    "adults-1": 1,
    "belonging-1": 2,
    "confidence-1": 3,
    "coping-1": 0,
}
UNIVERSAL_SCORES = {
    "mood": 2.0,
    "calm": 2.0,
    "temper": 3.0,
    "friends": 0.0,
    "adults": 1.0,
    "belonging": 2.0,
    "confidence": 3.0,
    "coping": 0.0,
}


def wellbeing(
    folder: Path, *args: str, stdin: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run the console script in folder, which holds its data (no .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLBEING_")}
    env["WELLBEING_DATA_DIR"] = str(folder)
    env.update({f"WELLBEING_{name.upper()}": v for name, v in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "wellbeing.cli.main", *args],
        cwd=folder,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def json_of(folder: Path, *args: str, **settings: str) -> Any:
    """Run a command with --json that must succeed; parse what it prints."""
    done = wellbeing(folder, *args, "--json", **settings)
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def loaded(folder: Path, participant_id: str) -> Participant:
    """The pupil as stored, read in this process from the same files."""
    settings = load_settings({"WELLBEING_DATA_DIR": str(folder)}, folder / ".env")
    runtime = open_runtime(settings)
    try:
        return load(runtime, Participant, UUID(participant_id))
    finally:
        runtime.close()


@dataclass
class School:
    folder: Path
    team_id: str
    pupils: list[Canary]
    ids: list[str]


def open_school(folder: Path) -> School:
    pupils = [make_canary(1), make_canary(2)]
    census = write_template_file(folder / "pupils.csv", pupils)
    created = json_of(
        folder, "teams", "create", "Tregony", "--la", "908", "--estab", "3001"
    )
    team_id = str(created["id"])
    report = json_of(folder, "import", str(census), "--team", team_id, "--commit")
    ids = [str(row["participant_id"]) for row in report["rows"]]
    return School(folder, team_id, pupils, ids)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    """A school whose pupils only ever gain snapshots and programs."""
    yield open_school(tmp_path_factory.mktemp("assessments"))


@pytest.fixture
def own_school(tmp_path: Path) -> School:
    """A school for one test that changes or erases a pupil."""
    return open_school(tmp_path)


def start(school: School, kind: str = "universal", pupil: int = 0) -> str:
    started = json_of(
        school.folder,
        "snapshots",
        "start",
        school.ids[pupil],
        "--instrument",
        INSTRUMENT,
        "--kind",
        kind,
    )
    return str(started["id"])


def answers_file(folder: Path, answers: dict[str, int]) -> str:
    path = folder / f"answers-{len(list(folder.glob('answers-*')))}.json"
    path.write_bytes(orjson.dumps(answers))
    return str(path)


def answer(school: School, snapshot_id: str, answers: dict[str, int]) -> Any:
    path = answers_file(school.folder, answers)
    return json_of(school.folder, "snapshots", "answer", snapshot_id, "--answers", path)


def completed(school: School) -> str:
    snapshot_id = start(school)
    answer(school, snapshot_id, UNIVERSAL)
    json_of(school.folder, "snapshots", "complete", snapshot_id)
    return snapshot_id


def test_instruments_list_names_the_shipped_instrument(school: School) -> None:
    listed = json_of(school.folder, "instruments", "list")

    assert [item["name"] for item in listed["items"]] == [INSTRUMENT]


def test_instruments_show_gives_each_items_subdomain_kind_and_scale(
    school: School,
) -> None:
    shown = json_of(school.folder, "instruments", "show", INSTRUMENT)

    first = shown["items"][0]
    assert {"id", "subdomain", "universal", "scale"} <= set(first)
    assert (first["id"], first["subdomain"], first["universal"]) == (
        "mood-1",
        "mood",
        True,
    )
    assert all(item["scale"] == [0, 1, 2, 3] for item in shown["items"])
    assert sum(item["universal"] is True for item in shown["items"]) == len(UNIVERSAL)


def test_instruments_show_of_an_unknown_name_fails_naming_the_field(
    school: School,
) -> None:
    done = wellbeing(school.folder, "instruments", "show", "no-such-check", "--json")

    assert done.returncode == 2
    assert done.stderr.startswith("wellbeing: invalid-input: name:")


def test_snapshots_start_prints_the_new_id(school: School) -> None:
    started = json_of(
        school.folder,
        "snapshots",
        "start",
        school.ids[0],
        "--instrument",
        INSTRUMENT,
        "--kind",
        "comprehensive",
    )

    assert UUID_PATTERN.match(started["id"])


def test_snapshots_start_for_two_pupils_reports_each_outcome(school: School) -> None:
    started = json_of(
        school.folder,
        "snapshots",
        "start",
        *school.ids,
        "--instrument",
        INSTRUMENT,
        "--kind",
        "universal",
    )

    outcomes = started["outcomes"]
    assert [o["participant_id"] for o in outcomes] == school.ids
    assert all(UUID_PATTERN.match(o["snapshot_id"]) for o in outcomes)


def test_snapshots_answer_in_two_saves_counts_every_answer(school: School) -> None:
    snapshot_id = start(school)
    answer(school, snapshot_id, {"mood-1": 2, "calm-1": 1})

    recorded = answer(school, snapshot_id, {"temper-1": 3})

    assert (recorded["answered"], recorded["of"]) == (3, len(UNIVERSAL))


def test_snapshots_answer_off_the_scale_fails_naming_the_item(school: School) -> None:
    snapshot_id = start(school)
    path = answers_file(school.folder, {"mood-1": 9})

    done = wellbeing(
        school.folder, "snapshots", "answer", snapshot_id, "--answers", path
    )

    assert done.returncode == 2
    assert "mood-1" in done.stderr
    assert done.stdout == ""


def test_snapshots_complete_prints_the_scores_by_subdomain(school: School) -> None:
    snapshot_id = start(school)
    answer(school, snapshot_id, UNIVERSAL)

    done = json_of(school.folder, "snapshots", "complete", snapshot_id)

    assert done["scores"] == UNIVERSAL_SCORES
    assert done["status"] == "completed"


def test_snapshots_complete_repeated_with_a_key_prints_the_same_scores(
    school: School,
) -> None:
    snapshot_id = start(school)
    answer(school, snapshot_id, UNIVERSAL)
    key = ("--idempotency-key", f"complete-{snapshot_id}")
    first = json_of(school.folder, "snapshots", "complete", snapshot_id, *key)

    again = json_of(school.folder, "snapshots", "complete", snapshot_id, *key)

    assert again == first
    assert again["scores"] == UNIVERSAL_SCORES


def test_snapshots_discard_prints_the_status(school: School) -> None:
    snapshot_id = start(school)

    done = json_of(school.folder, "snapshots", "discard", snapshot_id)

    assert done["status"] == "discarded"


def test_programs_start_prints_the_new_id(school: School) -> None:
    snapshot_id = completed(school)

    started = json_of(school.folder, "programs", "start", snapshot_id)

    assert UUID_PATTERN.match(started["id"])


def test_programs_start_from_an_open_snapshot_fails(school: School) -> None:
    snapshot_id = start(school)

    done = wellbeing(school.folder, "programs", "start", snapshot_id, "--json")

    assert done.returncode == 2
    assert "snapshot-not-completed" in done.stderr


def test_programs_start_for_another_pupils_snapshot_fails(school: School) -> None:
    snapshot_id = completed(school)
    other = ("--participant", school.ids[1])

    done = wellbeing(school.folder, "programs", "start", snapshot_id, *other)

    assert done.returncode == 2
    assert "snapshot-of-another-participant" in done.stderr


def test_participants_show_never_prints_the_upn(school: School) -> None:
    shown = wellbeing(school.folder, "participants", "show", school.ids[0], "--json")

    details = orjson.loads(shown.stdout)
    assert details["surname"] == school.pupils[0].surname
    assert details["has_upn"] is True
    assert all(p.upn not in shown.stdout + shown.stderr for p in school.pupils)


def test_participants_correct_changes_what_show_prints(own_school: School) -> None:
    pupil = own_school.ids[0]
    json_of(own_school.folder, "participants", "correct", pupil, "--surname", "Pascoe")

    shown = json_of(own_school.folder, "participants", "show", pupil)

    assert shown["surname"] == "Pascoe"


def test_participants_replace_upn_reads_it_from_stdin_and_never_prints_it(
    own_school: School,
) -> None:
    body = "999300000001"
    upn = check_letter(body) + body
    pupil = own_school.ids[0]

    done = wellbeing(
        own_school.folder, "participants", "replace-upn", pupil, "--json", stdin=upn
    )

    assert done.returncode == 0, done.stderr
    assert upn not in done.stdout + done.stderr
    assert loaded(own_school.folder, pupil).upn == upn


def test_participants_tag_from_the_vocabulary_is_kept(own_school: School) -> None:
    folder, pupil = own_school.folder, own_school.ids[0]
    json_of(folder, "tags", "define", own_school.team_id, "FSM", "eligible")

    json_of(folder, "participants", "tag", pupil, "FSM", "eligible")

    assert loaded(folder, pupil).tags == {"FSM": ["eligible"]}


def test_participants_untag_takes_the_tag_off(own_school: School) -> None:
    folder, pupil = own_school.folder, own_school.ids[0]
    json_of(folder, "tags", "define", own_school.team_id, "FSM", "eligible")
    json_of(folder, "participants", "tag", pupil, "FSM", "eligible")

    json_of(folder, "participants", "untag", pupil, "FSM", "eligible")

    assert loaded(folder, pupil).tags == {"FSM": []}


def test_participants_tag_outside_the_vocabulary_fails(school: School) -> None:
    done = wellbeing(school.folder, "participants", "tag", school.ids[0], "FSM", "no")

    assert done.returncode == 2
    assert done.stderr.startswith("wellbeing: invalid-input: tag:")


def test_participants_object_records_the_objection(own_school: School) -> None:
    folder, pupil = own_school.folder, own_school.ids[0]

    json_of(folder, "participants", "object", pupil)

    assert loaded(folder, pupil).objects_to_sharing is True


def test_participants_withdraw_objection_clears_it(own_school: School) -> None:
    folder, pupil = own_school.folder, own_school.ids[0]
    json_of(folder, "participants", "object", pupil)

    json_of(folder, "participants", "withdraw-objection", pupil)

    assert loaded(folder, pupil).objects_to_sharing is False


def test_participants_leave_stops_new_snapshots(own_school: School) -> None:
    json_of(
        own_school.folder,
        "participants",
        "leave",
        own_school.ids[0],
        "--on",
        "2026-07-20",
    )

    done = wellbeing(
        own_school.folder,
        "snapshots",
        "start",
        own_school.ids[0],
        "--instrument",
        INSTRUMENT,
        "--kind",
        "universal",
    )

    assert done.returncode == 2
    assert "participant-left" in done.stderr


def test_retention_run_erases_a_pupil_who_left_long_ago(own_school: School) -> None:
    folder, (gone, kept) = own_school.folder, own_school.ids
    json_of(folder, "participants", "leave", gone, "--on", "2019-07-19")

    result = json_of(folder, "retention", "run", retention_years="3")

    assert (result["erased"], result["already_erased"]) == (1, 0)
    assert json_of(folder, "participants", "show", gone)["erased"] is True
    assert json_of(folder, "participants", "show", kept)["erased"] is False


def test_retention_run_again_erases_nothing_new(own_school: School) -> None:
    folder = own_school.folder
    json_of(folder, "participants", "leave", own_school.ids[0], "--on", "2019-07-19")
    json_of(folder, "retention", "run", retention_years="3")

    again = wellbeing(folder, "retention", "run", retention_years="3")

    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("erased 0 participants")
