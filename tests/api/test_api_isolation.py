"""Every route, walked with a token of another team and with each role that
must be refused: 404 or 403, and nothing written.

The list of routes comes from the app itself, and the table below must
name each of them, so a new route cannot be left out of the walk.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.world import ROLES, SQLITE_ONLY, Api, World, count_rows
from wellbeing.api.app import create_app
from wellbeing.settings import Settings

ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "practitioner"})
ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "practitioner", "auditor"})
PUBLIC = {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics")}

# Who may use each route on team A's records; everyone else is refused.
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): ALL,
    ("GET", "/ready"): ALL,
    ("GET", "/metrics"): ALL,
    ("GET", "/users/me"): ALL,
    ("GET", "/tokens"): ALL,
    ("POST", "/tokens"): ALL,
    ("DELETE", "/tokens/{token_id}"): ADMIN,
    ("GET", "/teams"): ALL,
    ("POST", "/teams"): ALL,
    ("GET", "/teams/{team_id}"): READERS,
    ("PATCH", "/teams/{team_id}"): ADMIN,
    ("GET", "/teams/{team_id}/members"): READERS,
    ("POST", "/teams/{team_id}/invitations"): ADMIN,
    ("POST", "/teams/{team_id}/invitations/accept"): STAFF,
    ("PATCH", "/teams/{team_id}/members/{user_id}"): ADMIN,
    ("DELETE", "/teams/{team_id}/members/{user_id}"): ADMIN,
    ("POST", "/teams/{team_id}/agreements"): ADMIN,
    ("POST", "/teams/{team_id}/agreements/{partner}/withdrawal"): ADMIN,
    ("GET", "/teams/{team_id}/tags"): READERS,
    ("POST", "/teams/{team_id}/tags"): ADMIN,
    ("DELETE", "/teams/{team_id}/tags/{taxonomy}/{tag}"): ADMIN,
    ("GET", "/teams/{team_id}/participants"): STAFF,
    ("POST", "/teams/{team_id}/participants"): STAFF,
    ("GET", "/participants/{participant_id}"): STAFF | {"auditor", "dpo"},
    ("PATCH", "/participants/{participant_id}"): STAFF,
    ("POST", "/participants/{participant_id}/tags"): STAFF,
    ("POST", "/participants/{participant_id}/tags/removal"): STAFF,
    ("POST", "/participants/{participant_id}/sharing-objection"): STAFF,
    ("POST", "/participants/{participant_id}/leaving"): STAFF,
    ("POST", "/teams/{team_id}/imports"): STAFF,
    ("GET", "/teams/{team_id}/imports"): STAFF,
    ("GET", "/teams/{team_id}/upn-template"): STAFF,
    ("GET", "/imports/{job_id}"): STAFF,
    ("GET", "/imports/{job_id}/rows"): STAFF,
    ("GET", "/instruments"): ALL,
    ("GET", "/instruments/{name}"): ALL,
    ("GET", "/catalogue"): ALL,
    ("POST", "/snapshots"): STAFF,
    ("POST", "/teams/{team_id}/snapshots/group"): STAFF,
    ("GET", "/snapshots/{snapshot_id}"): STAFF,
    ("POST", "/snapshots/{snapshot_id}/answers"): STAFF,
    ("POST", "/snapshots/{snapshot_id}/completion"): STAFF,
    ("POST", "/snapshots/{snapshot_id}/discarding"): STAFF,
    ("POST", "/programs"): STAFF,
    ("GET", "/programs/{program_id}"): STAFF,
    ("POST", "/programs/{program_id}/reviews"): STAFF,
    ("POST", "/programs/{program_id}/closing"): STAFF,
    ("GET", "/stats"): frozenset({"admin", "outsider", "analyst"}),
    ("GET", "/exports"): ALL,
    ("GET", "/exports/{partner}"): frozenset({"analyst"}),
    ("GET", "/exports/{partner}/statistics"): frozenset({"analyst"}),
    ("GET", "/audit/records/{record_id}/history"): frozenset({"auditor"}),
    ("GET", "/audit/records/{record_id}/state"): frozenset({"auditor"}),
    ("GET", "/audit/replay"): frozenset({"auditor"}),
    ("POST", "/participants/{participant_id}/erasure"): frozenset({"admin", "dpo"}),
    ("POST", "/users/{user_id}/erasure"): frozenset({"dpo"}),
    ("GET", "/participants/{participant_id}/subject-access"): frozenset({"dpo"}),
}
# Parameters that name a record of team A: another team's token must be
# told such a record does not exist.
TENANT_PARAMS = ("{team_id}", "{participant_id}", "{snapshot_id}", "{program_id}")
TENANT_PARAMS += ("{job_id}", "{token_id}")
TABLES = ("api_tokens", "import_jobs", "command_results", "participant_index")


def app_routes() -> list[tuple[str, str]]:
    settings = Settings(database_url="sqlite:///unused.db", data_dir=Path("unused"))
    app = create_app(settings)
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            found += [(method, context.path) for method in route.methods]
    return sorted(found)


ROUTES = app_routes()


def fill(path: str, world: World) -> str:
    values = {
        "team_id": world.team_a,
        "user_id": world.users["practitioner"],
        "participant_id": world.pupil_ids[0],
        "snapshot_id": world.snapshot_id,
        "program_id": world.program_id,
        "job_id": world.extra["job"],
        "token_id": world.token_ids["admin"],
        "record_id": world.pupil_ids[0],
        "partner": "headstart-hq"
        if path.endswith("statistics")
        else "headstart-kernow",
        "taxonomy": "sen-provision",
        "tag": "k",
        "name": "wellbeing-check",
    }
    return path.format(**{k: str(v) for k, v in values.items()})


def body_for(api: Api, world: World, method: str, path: str) -> dict[str, Any]:
    if method not in ("POST", "PATCH"):
        return {}
    if path.endswith("/imports"):
        return {
            "content": b"Surname,Forename,Date of birth\nA,B,01/01/2015\n",
            "headers": {"Content-Type": "text/csv"},
        }
    special: dict[str, Any] = {
        "/snapshots": {
            "participant_id": str(world.pupil_ids[0]),
            "instrument": "wellbeing-check",
            "kind": "universal",
        },
        "/programs": {"snapshot_id": str(world.snapshot_id)},
        "/teams/{team_id}/snapshots/group": {
            "participant_ids": [str(world.pupil_ids[0])],
            "instrument": "wellbeing-check",
            "kind": "universal",
        },
        "/tokens": {},
    }
    if path in special:
        return {"json": special[path]}
    operation = api.app.openapi()["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    example = content.get("application/json", {}).get("example")
    return {"json": example} if example is not None else {}


def call(api: Api, world: World, method: str, path: str, role: str | None) -> Any:
    headers = {} if role is None else world.auth(role)
    extra = body_for(api, world, method, path)
    headers.update(extra.pop("headers", {}))
    if method == "POST":
        headers["Idempotency-Key"] = f"walk-{role}-{path}"
    params = {"at": datetime.now(UTC).isoformat()} if path.endswith("/state") else {}
    return api.client.request(
        method,
        fill(path, world),
        headers=headers,
        params=params,
        **extra,
    )


def written(api: Api) -> tuple[int, ...]:
    return (api.events(), *(count_rows(api.runtime, t) for t in TABLES))


@pytest.fixture
def walked(api: Api, world: World) -> World:
    upload = api.client.post(
        f"/teams/{world.team_a}/imports",
        content=b"Surname,Forename,Date of birth\nA,B,01/01/2015\n",
        headers={**world.auth("admin"), "Content-Type": "text/csv"},
    )
    assert upload.status_code == 202, upload.text
    world.extra["job"] = UUID(upload.json()["id"])
    return world


def test_the_table_names_every_route_of_the_app() -> None:
    assert sorted(ALLOWED) == ROUTES


@SQLITE_ONLY
def test_every_route_needs_a_valid_token(api: Api, walked: World) -> None:
    failures = []
    for method, path in ROUTES:
        if (method, path) in PUBLIC:
            continue
        for headers in ({}, {"Authorization": "Bearer wbl_not-a-token"}):
            response = api.client.request(method, fill(path, walked), headers=headers)
            if response.status_code != 401:
                failures.append((method, path, response.status_code))
    assert failures == []


@SQLITE_ONLY
@pytest.mark.parametrize("role", ROLES)
def test_refused_roles_are_told_404_or_403_and_nothing_is_written(
    api: Api, walked: World, role: str
) -> None:
    failures = []
    for method, path in ROUTES:
        if role in ALLOWED[(method, path)]:
            continue
        before = written(api)
        response = call(api, walked, method, path, role)
        after = written(api)
        expected = {403, 404}
        tenant = any(p in path for p in TENANT_PARAMS) or path in (
            "/snapshots",
            "/programs",
        )
        if role == "outsider" and tenant:
            expected = {404}
        if response.status_code not in expected or before != after:
            failures.append((method, path, response.status_code, before, after))
    assert failures == []


@SQLITE_ONLY
def test_another_teams_admin_sees_nothing_of_team_a_where_allowed(
    api: Api, walked: World
) -> None:
    secrets = [str(walked.team_a), *(str(p) for p in walked.pupil_ids)]
    leaks = []
    for method, path in ROUTES:
        if "outsider" not in ALLOWED[(method, path)] or (method, path) in PUBLIC:
            continue
        response = call(api, walked, method, path, "outsider")
        if response.status_code >= 400 or any(s in response.text for s in secrets):
            leaks.append((method, path, response.status_code))
    assert leaks == []
