"""`wellbeing import`, `import runs` and `upn-template` as a school runs them.

Each call is a real process on the embedded store, so the tests share one
team where they can.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from pupil_files import CENSUS, Pupil, pupil, pupils, temporary_upn, write_census


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLBEING_")}
    env["WELLBEING_DATA_DIR"] = str(folder / "data")
    return subprocess.run(
        [sys.executable, "-m", "wellbeing.cli.main", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_json(folder: Path, *args: str) -> Any:
    done = cli(folder, *args, "--json")
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def personal(people: list[Pupil]) -> list[str]:
    """Every name and UPN of these pupils: none may appear in any output."""
    values = [v for p in people for v in (p.surname, p.forename, p.upn, p.former_upn)]
    return [v for v in values if v]


@dataclass
class Team:
    folder: Path
    team_id: str


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("cli-school")
    created = cli_json(
        folder, "teams", "create", "Fictional Primary", "--la", "999", "--estab", "1001"
    )
    yield Team(folder, created["id"])


def test_dry_run_prints_every_row_and_no_personal_value(team: Team) -> None:
    people = [*pupils(2, start=1), pupil(3).but(upn="A123")]
    path = write_census(team.folder / "dry.csv", people)

    done = cli(team.folder, "import", str(path), "--team", team.team_id)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("dry run")
    assert "row 1: new" in lines and "row 2: new" in lines
    assert "row 3: rejected (wrong-length:upn)" in lines
    assert not any(v in done.stdout + done.stderr for v in personal(people))


def test_commit_then_runs_lists_the_finished_run(team: Team) -> None:
    path = write_census(team.folder / "commit.csv", pupils(2, start=11))

    report = cli_json(
        team.folder, "import", str(path), "--team", team.team_id, "--commit"
    )
    runs = cli_json(team.folder, "import", "runs", "--team", team.team_id)

    assert report["summary"]["new"] == 2
    listed = {run["run_id"]: run for run in runs["items"]}
    assert listed[report["run_id"]]["status"] == "finished"
    assert listed[report["run_id"]]["new"] == 2


def test_map_option_reads_another_header(team: Team) -> None:
    path = write_census(team.folder / "mapped.csv", pupils(1, start=21))
    path.write_text(path.read_text().replace("Surname", "Family"), "utf-8")

    done = cli(
        team.folder,
        "import",
        str(path),
        "--team",
        team.team_id,
        "--map",
        "surname=Family",
    )

    assert done.returncode == 0, done.stderr
    assert "row 1: new" in done.stdout


def test_malformed_map_option_is_refused(team: Team) -> None:
    path = write_census(team.folder / "nomap.csv", pupils(1, start=25))

    done = cli(team.folder, "import", str(path), "--team", team.team_id, "--map", "x")

    assert done.returncode == 2
    assert "map" in done.stderr


def test_strict_refusal_exits_non_zero_and_stores_nothing(team: Team) -> None:
    people = [pupil(31), pupil(32).but(upn="A123")]
    path = write_census(team.folder / "strict.csv", people)

    done = cli(
        team.folder, "import", str(path), "--team", team.team_id, "--commit", "--strict"
    )

    assert done.returncode == 2
    assert done.stdout.startswith("refused (--strict)")


def test_full_roster_refuses_without_yes_and_proceeds_with_it(tmp_path: Path) -> None:
    created = cli_json(
        tmp_path,
        "teams",
        "create",
        "Fictional Infants",
        "--la",
        "999",
        "--estab",
        "1001",
    )
    team_id = created["id"]
    everyone = write_census(tmp_path / "all.csv", pupils(4, start=41))
    cli_json(tmp_path, "import", str(everyone), "--team", team_id, "--commit")
    half = write_census(tmp_path / "half.csv", pupils(2, start=41))
    options = ("import", str(half), "--team", team_id, "--commit", "--full-roster")

    refused = cli(tmp_path, *options)
    confirmed = cli_json(tmp_path, *options, "--yes")

    assert refused.returncode == 2
    assert "confirmation-required" in refused.stderr
    assert len(confirmed["leavers"]) == 2


def test_windows_1252_file_is_named_in_the_report(team: Team) -> None:
    path = write_census(
        team.folder / "cp1252.csv",
        [pupil(51, forename="Zoë")],
        CENSUS,
        encoding="windows-1252",
    )

    done = cli(team.folder, "import", str(path), "--team", team.team_id)

    assert "encoding: windows-1252" in done.stdout
    assert "windows-1252-fallback" in done.stdout


def test_upn_template_then_back_fill(tmp_path: Path) -> None:
    created = cli_json(
        tmp_path,
        "teams",
        "create",
        "Fictional Juniors",
        "--la",
        "999",
        "--estab",
        "1001",
    )
    team_id = created["id"]
    people = pupils(2, start=61, upn=False)
    first = write_census(tmp_path / "names.csv", people)
    cli_json(tmp_path, "import", str(first), "--team", team_id, "--commit")
    out = tmp_path / "template.csv"

    written = cli_json(tmp_path, "upn-template", "--team", team_id, "--out", str(out))
    filled = (
        out.read_bytes()
        .decode("utf-8-sig")
        .replace(",false,\r\n", ",false," + temporary_upn(61) + "\r\n", 1)
    )
    (tmp_path / "filled.csv").write_bytes(filled.encode())
    report = cli_json(
        tmp_path, "import", str(tmp_path / "filled.csv"), "--team", team_id, "--commit"
    )
    listing = cli_json(tmp_path, "participants", "list", "--team", team_id)

    assert (written["pupils"], written["without_upn"]) == (2, 2)
    assert report["upn_backfill"] and report["summary"]["updated"] == 1
    assert [p["has_upn"] for p in listing["items"]] == [True, False]
