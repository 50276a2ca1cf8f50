"""A live server with three fictional schools, and headless Chromium.

Chromium is Debian's package, driven by Playwright from PyPI; Playwright's
own browser download cannot run here. With CI=true a missing browser fails
the run instead of skipping it.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from people import make_canary, write_template_file

from wellbeing.commands import programs, snapshots, teams, users
from wellbeing.commands.actor import Actor, operator
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.crypto import Kek
from wellbeing.persistence import tokens
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(os.environ.get("WELLBEING_TEST_OUTPUT", "test-output")) / "e2e"


@dataclass
class Site:
    """The served dashboard and the tokens of the people who use it."""

    base: str
    admin_token: str
    analyst_token: str
    agreed_teams: set[str]
    all_teams: set[str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _school(
    runtime: Runtime, admin: Actor, name: str, la: str, estab: str, pupils: int
) -> UUID:
    team_id = teams.register_team(runtime, teams.RegisterTeam(admin, name, la, estab))
    people = [make_canary(n) for n in range(1, pupils + 1)]
    path = write_template_file(runtime.settings.data_dir / f"{estab}.csv", people)
    report = import_participants(
        runtime,
        ImportParticipants(
            admin, team_id, path, commit=True, allow_other_establishments=True
        ),
    )
    instrument = load_instruments()["wellbeing-check"]
    for number, row in enumerate(report.rows):
        assert row.participant_id is not None
        kind = "comprehensive" if number % 2 else "universal"
        taken = date(2025, 9 + number % 4, 10)
        started = snapshots.start_snapshot(
            runtime,
            snapshots.StartSnapshot(
                admin, row.participant_id, instrument.name, kind, taken
            ),
        )
        snapshot_id = UUID(str(started["id"]))
        answers = {item.id: 2 for item in instrument.items_for(kind)}
        snapshots.record_answers(
            runtime, snapshots.RecordAnswers(admin, snapshot_id, answers)
        )
        snapshots.complete_snapshot(
            runtime, snapshots.CompleteSnapshot(admin, snapshot_id)
        )
        if kind == "comprehensive" and number < 4:
            programs.start_program(runtime, programs.StartProgram(admin, snapshot_id))
    return team_id


def _world(runtime: Runtime) -> tuple[str, str, set[str], set[str]]:
    op = operator()
    admin = UUID(
        str(users.create_user(runtime, users.CreateUser(op, "a@e2e.test"))["id"])
    )
    analyst = UUID(
        str(users.create_user(runtime, users.CreateUser(op, "h@e2e.test"))["id"])
    )
    users.grant_role(
        runtime, users.GrantRole(op, analyst, "analyst", "headstart-kernow")
    )
    acting = Actor(admin)
    first = _school(runtime, acting, "Fictional School One", "908", "2101", 12)
    second = _school(runtime, acting, "Fictional School Two", "830", "2102", 7)
    third = _school(runtime, acting, "Fictional School Three", "908", "2103", 9)
    for team_id in (first, second):
        teams.agree_sharing(
            runtime,
            teams.AgreeSharing(acting, team_id, "headstart-kernow", date(2024, 9, 1)),
        )
    with runtime.database.transaction() as tx:
        _, admin_token = tokens.issue(tx, admin, op.user_id)
        _, analyst_token = tokens.issue(tx, analyst, op.user_id)
    everyone = {str(first), str(second), str(third)}
    return admin_token, analyst_token, {str(first), str(second)}, everyone


def _wait(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("the server stopped while starting")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start in time")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("dashboard")
    kek = Kek.generate().to_text()
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    runtime = open_runtime(Settings(database_url=url, data_dir=folder, kek=kek))
    try:
        admin_token, analyst_token, agreed, everyone = _world(runtime)
    finally:
        runtime.close()
    port = _free_port()
    env = {
        **os.environ,
        "WELLBEING_DATABASE_URL": url,
        "WELLBEING_DATA_DIR": str(folder),
        "WELLBEING_KEK": kek,
    }
    command = [sys.executable, "-m", "wellbeing.cli.main", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base + "/health", server)
            yield Site(base, admin_token, analyst_token, agreed, everyone)
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing in CI: apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    # The page's policy forbids evaluated script; the test's waits are such
    # script, so the policy is lifted for the test's own calls only.
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def screenshot(page: object, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
