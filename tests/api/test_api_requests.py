"""Idempotent retries, cursor pages, body limits and a busy database."""

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from people import make_canary
from raw_scan import found, raw_bytes

from api.world import SQLITE_ONLY, Api, RecordingClient, World, count_rows
from wellbeing.api.app import create_app
from wellbeing.api.limits import Limits
from wellbeing.persistence.runtime import Runtime, open_runtime

TEAM = {"name": "Retry School", "la_code": "908", "estab": "2002"}


def test_a_retry_gets_the_first_answer_and_does_nothing_twice(
    api: Api, world: World
) -> None:
    headers = {**world.auth("stranger"), "Idempotency-Key": "team-1"}
    first = api.client.post("/teams", json=TEAM, headers=headers)
    events = api.events()

    again = api.client.post("/teams", json=TEAM, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert api.events() == events


@SQLITE_ONLY
def test_the_same_key_with_another_body_is_refused(api: Api, world: World) -> None:
    headers = {**world.auth("stranger"), "Idempotency-Key": "team-2"}
    api.client.post("/teams", json=TEAM, headers=headers)
    events = api.events()

    reused = api.client.post("/teams", json={**TEAM, "name": "Other"}, headers=headers)

    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency-key-reused"
    assert api.events() == events


@SQLITE_ONLY
def test_keys_of_two_users_never_collide(api: Api, world: World) -> None:
    key = {"Idempotency-Key": "shared"}
    mine = api.client.post("/teams", json=TEAM, headers={**world.auth("admin"), **key})
    theirs = api.client.post(
        "/teams", json=TEAM, headers={**world.auth("stranger"), **key}
    )

    assert mine.status_code == theirs.status_code == 201
    assert mine.json() != theirs.json()


@SQLITE_ONLY
def test_a_failed_request_gives_its_key_back(api: Api, world: World) -> None:
    headers = {**world.auth("outsider"), "Idempotency-Key": "close-1"}
    path = f"/programs/{world.program_id}/closing"

    first = api.client.post(path, json={}, headers=headers)
    again = api.client.post(path, json={}, headers=headers)

    assert first.status_code == again.status_code == 404
    assert count_rows(api.runtime, "command_results") == 0


@SQLITE_ONLY
def test_a_retried_token_answer_never_repeats_the_secret(
    api: Api, world: World
) -> None:
    headers = {**world.auth("stranger"), "Idempotency-Key": "token-1"}
    first = api.client.post("/tokens", json={}, headers=headers).json()

    again = api.client.post("/tokens", json={}, headers=headers).json()

    assert first["token"] and again["token"] is None
    assert again["id"] == first["id"]
    assert found(raw_bytes(api.runtime), [first["token"].encode()]) == []


@SQLITE_ONLY
def test_stored_answers_hold_no_personal_data(api: Api, world: World) -> None:
    canary = make_canary(41)
    body = {
        "surname": canary.surname,
        "forename": canary.forename,
        "date_of_birth": canary.date_of_birth.isoformat(),
        "upn": canary.upn,
    }
    headers = {**world.auth("admin"), "Idempotency-Key": "pupil-1"}
    api.client.post(f"/teams/{world.team_a}/participants", json=body, headers=headers)

    with api.runtime.database.transaction() as tx:
        tx.execute("SELECT result FROM command_results")
        stored = b"".join(bytes(row[0]) for row in tx.fetchall())
    assert found(stored, [n for n in canary.needles()]) == []


def _roster(api: Api, world: World, cursor: str | None) -> tuple[list[str], str | None]:
    params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
    page = api.client.get(
        f"/teams/{world.team_a}/participants",
        params=params,
        headers=world.auth("admin"),
    ).json()
    return [item["id"] for item in page["items"]], page["next_cursor"]


def _register(api: Api, world: World, serial: int) -> str:
    canary = make_canary(serial)
    body = {
        "surname": canary.surname,
        "forename": canary.forename,
        "date_of_birth": canary.date_of_birth.isoformat(),
    }
    created = api.client.post(
        f"/teams/{world.team_a}/participants", json=body, headers=world.auth("admin")
    )
    return str(created.json()["id"])


def test_pages_never_repeat_or_skip_while_pupils_are_added(
    api: Api, world: World
) -> None:
    for serial in range(50, 55):
        _register(api, world, serial)
    present = _roster(api, world, None)[0]
    seen, cursor = _roster(api, world, None)
    added = []

    while cursor:
        added.append(_register(api, world, 60 + len(added)))
        page, cursor = _roster(api, world, cursor)
        seen += page

    assert len(seen) == len(set(seen))
    assert set(present) <= set(seen)
    assert len(seen) >= 7


@SQLITE_ONLY
@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJ0ZWFtcyIsIngiXQ"])
def test_a_foreign_or_broken_cursor_is_refused(
    api: Api, world: World, cursor: str
) -> None:
    response = api.client.get(
        f"/teams/{world.team_a}/participants",
        params={"cursor": cursor},
        headers=world.auth("admin"),
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid-cursor"


@pytest.fixture
def small(runtime: Runtime) -> Iterator[RecordingClient]:
    limits = Limits(body_bytes=2_000, upload_bytes=4_000)
    app = create_app(runtime.settings, runtime=runtime, limits=limits)
    with RecordingClient(app) as client:
        yield client


@SQLITE_ONLY
def test_a_declared_length_over_the_limit_is_refused(
    small: RecordingClient, world: World
) -> None:
    response = small.post(
        "/teams", json={**TEAM, "name": "x" * 3_000}, headers=world.auth("admin")
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too-large"


@SQLITE_ONLY
def test_a_streamed_body_is_counted_as_it_arrives(
    small: RecordingClient, world: World
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(30):
            yield b"x" * 100
        yield b'", "la_code": "908", "estab": "2002"}'

    response = small.post(
        "/teams",
        content=chunks(),
        headers={**world.auth("admin"), "Content-Type": "application/json"},
    )

    assert response.status_code == 413


@SQLITE_ONLY
def test_an_upload_over_its_limit_leaves_no_file(
    small: RecordingClient, world: World, runtime: Runtime
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"Surname,Forename,Date of birth\n"
        for _ in range(300):
            yield b"Abc,Def,01/01/2015\n"

    response = small.post(
        f"/teams/{world.team_a}/imports",
        content=chunks(),
        headers={**world.auth("admin"), "Content-Type": "text/csv"},
    )

    assert response.status_code == 413
    assert list((runtime.settings.data_dir / "uploads").iterdir()) == []
    assert count_rows(runtime, "import_jobs") == 0


@pytest.mark.postgres_only
@pytest.mark.parametrize("stores", ["postgres"], indirect=True)
def test_an_exhausted_pool_answers_503_at_once(stores: object, world: World) -> None:
    settings = stores.settings(pool_size=1)  # type: ignore[attr-defined]
    tiny = open_runtime(settings)
    app = create_app(settings, runtime=tiny, pool_wait_seconds=0.5)
    try:
        with RecordingClient(app) as client, tiny.database.transaction():
            started = time.perf_counter()
            response = client.get("/users/me", headers=world.auth("admin"))
            seconds = time.perf_counter() - started
    finally:
        tiny.close()

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["code"] == "database-busy"
    assert seconds < 3


@pytest.mark.postgres_only
@pytest.mark.parametrize("stores", ["postgres"], indirect=True)
def test_no_connection_is_left_idle_in_a_transaction(api: Api, world: World) -> None:
    def walk() -> None:
        for path in ("/users/me", "/teams", f"/teams/{world.team_a}/participants"):
            api.client.get(path, headers=world.auth("admin"))
        api.client.get("/exports/headstart-kernow", headers=world.auth("analyst"))

    threads = [threading.Thread(target=walk) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    database = api.runtime.database
    # Other test runs may share the server, so only backends holding a lock
    # on a table of this test's schema count.
    with psycopg.connect(database.url) as connection:  # type: ignore[attr-defined]
        rows = connection.execute(
            "SELECT DISTINCT a.pid FROM pg_stat_activity a"
            " JOIN pg_locks l ON l.pid = a.pid"
            " JOIN pg_class c ON c.oid = l.relation"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE a.state LIKE 'idle in transaction%%' AND n.nspname = %s",
            (database.schema,),  # type: ignore[attr-defined]
        ).fetchall()
    assert rows == []


@SQLITE_ONLY
def test_an_unknown_field_is_refused_without_repeating_its_name(
    api: Api, world: World
) -> None:
    canary = make_canary(72)
    body = {**TEAM, canary.upn: "x"}

    refused = api.client.post("/teams", json=body, headers=world.auth("stranger"))

    assert refused.status_code == 422
    assert canary.upn not in refused.text
    errors = refused.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("body.*", "extra_forbidden")]
