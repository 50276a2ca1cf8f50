"""End-to-end flows over HTTP: teams, pupils, imports, assessments, exports."""

from uuid import UUID

from people import make_canary, write_template_file

from api.world import SQLITE_ONLY, Api, World, count_rows
from wellbeing.cli.main import main


def _events_of(api: Api, topic: str) -> int:
    table = "stored_events" if api.runtime.database.dialect == "sqlite" else None
    table = table or "wellbeing_events"
    with api.runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM " + table + " WHERE topic = %s", (topic,))
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def test_a_user_registers_a_school_invites_and_the_colleague_joins(
    api: Api, world: World
) -> None:
    stranger = world.auth("stranger")
    created = api.client.post(
        "/teams",
        json={"name": "New", "la_code": "908", "estab": "2001"},
        headers=stranger,
    )
    team_id = created.json()["id"]
    invited = api.client.post(
        f"/teams/{team_id}/invitations",
        json={"email": "colleague@school.example", "role": "practitioner"},
        headers=stranger,
    )
    colleague = invited.json()["user_id"]
    with api.runtime.database.transaction() as tx:
        from wellbeing.persistence import tokens

        _, secret = tokens.issue(tx, UUID(colleague), UUID(colleague))
    joined = api.client.post(
        f"/teams/{team_id}/invitations/accept",
        headers={"Authorization": f"Bearer {secret}"},
    )
    members = api.client.get(f"/teams/{team_id}/members", headers=stranger).json()

    assert created.status_code == 201
    assert invited.status_code == 201
    assert "colleague@" not in invited.text
    assert joined.status_code == 200
    assert {m["user_id"]: m["joined"] for m in members["items"]}[colleague] is True


@SQLITE_ONLY
def test_team_admin_manages_agreements_tags_and_roles(api: Api, world: World) -> None:
    admin, team = world.auth("admin"), world.team_a
    practitioner = world.users["practitioner"]

    agreed = api.client.post(
        f"/teams/{team}/agreements",
        json={"partner": "headstart-hq", "from": "2024-09-01"},
        headers=admin,
    )
    tagged = api.client.post(
        f"/teams/{team}/tags", json={"taxonomy": "fsm", "tags": ["yes"]}, headers=admin
    )
    promoted = api.client.patch(
        f"/teams/{team}/members/{practitioner}", json={"role": "admin"}, headers=admin
    )
    view = api.client.get(f"/teams/{team}", headers=admin).json()

    assert (agreed.status_code, tagged.status_code, promoted.status_code) == (
        201,
        200,
        200,
    )
    assert {a["partner"] for a in view["agreements"]} >= {"headstart-hq"}
    assert view["tags"]["fsm"] == ["yes"]
    assert view["admins"] == 2


@SQLITE_ONLY
def test_a_pupil_registered_over_http_shows_whether_a_upn_is_held_never_it(
    api: Api, world: World
) -> None:
    canary = make_canary(21)
    body = {
        "surname": canary.surname,
        "forename": canary.forename,
        "date_of_birth": canary.date_of_birth.isoformat(),
        "upn": canary.upn,
    }
    created = api.client.post(
        f"/teams/{world.team_a}/participants", json=body, headers=world.auth("admin")
    )
    shown = api.client.get(
        f"/participants/{created.json()['id']}", headers=world.auth("admin")
    )

    assert created.status_code == 201
    assert created.json()["outcome"] == "new"
    assert shown.json()["has_upn"] is True
    assert canary.upn not in shown.text


@SQLITE_ONLY
def test_a_bad_upn_is_refused_naming_the_column_not_the_value(
    api: Api, world: World
) -> None:
    canary = make_canary(22)
    body = {
        "surname": canary.surname,
        "forename": canary.forename,
        "date_of_birth": canary.date_of_birth.isoformat(),
        "upn": canary.upn[:-1] + ("A" if canary.upn[-1] != "A" else "B"),
    }
    response = api.client.post(
        f"/teams/{world.team_a}/participants", json=body, headers=world.auth("admin")
    )

    assert response.status_code == 422
    assert "upn" in response.json()["detail"]
    assert canary.upn[:-1] not in response.text
    assert canary.surname not in response.text


def test_an_upload_becomes_a_job_with_a_row_report(api: Api, world: World) -> None:
    people = [make_canary(31), make_canary(32)]
    path = write_template_file(api.folder / "upload.csv", people)

    started = api.client.post(
        f"/teams/{world.team_a}/imports?commit=true",
        content=path.read_bytes(),
        headers={**world.auth("practitioner"), "Content-Type": "text/csv"},
    )
    api.app.state.services.imports.wait()
    job = api.client.get(
        f"/imports/{started.json()['id']}", headers=world.auth("practitioner")
    ).json()
    rows = api.client.get(
        f"/imports/{started.json()['id']}/rows", headers=world.auth("practitioner")
    ).json()

    assert started.status_code == 202
    assert job["status"] == "finished"
    assert job["summary"]["counts"]["new"] == 2
    assert [r["status"] for r in rows["items"]] == ["new", "new"]
    assert list((api.runtime.settings.data_dir / "uploads").iterdir()) == []


def test_a_malformed_upload_fails_naming_the_line_and_reason(
    api: Api, world: World
) -> None:
    people = [make_canary(33), make_canary(34)]
    path = write_template_file(api.folder / "upload.csv", people)
    lines = path.read_text("utf-8").splitlines()
    broken = "\n".join([*lines[:2], lines[2] + ",extra", *lines[3:]]) + "\n"

    started = api.client.post(
        f"/teams/{world.team_a}/imports?commit=true",
        content=broken.encode(),
        headers={**world.auth("practitioner"), "Content-Type": "text/csv"},
    )
    api.app.state.services.imports.wait()
    job = api.client.get(
        f"/imports/{started.json()['id']}", headers=world.auth("practitioner")
    ).json()

    assert job["status"] == "failed"
    assert job["error"] == "pupil-file-malformed:line-3:wrong-field-count"
    assert people[1].surname not in str(job)


@SQLITE_ONLY
def test_an_upload_of_another_type_is_refused(api: Api, world: World) -> None:
    response = api.client.post(
        f"/teams/{world.team_a}/imports",
        json={"rows": []},
        headers=world.auth("admin"),
    )

    assert response.status_code == 415


@SQLITE_ONLY
def test_a_snapshot_is_answered_in_two_saves_completed_and_planned(
    api: Api, world: World
) -> None:
    staff = world.auth("practitioner")
    pupil = str(world.pupil_ids[1])
    items = api.client.get("/instruments/wellbeing-check", headers=staff).json()
    universal = [i["id"] for i in items["items"] if i["universal"]]
    started = api.client.post(
        "/snapshots",
        json={
            "participant_id": pupil,
            "instrument": "wellbeing-check",
            "kind": "universal",
        },
        headers=staff,
    )
    snapshot = started.json()["id"]
    half = len(universal) // 2
    for chunk in (universal[:half], universal[half:]):
        saved = api.client.post(
            f"/snapshots/{snapshot}/answers",
            json={"answers": dict.fromkeys(chunk, 1)},
            headers=staff,
        )
    completed = api.client.post(f"/snapshots/{snapshot}/completion", headers=staff)
    program = api.client.post(
        "/programs", json={"snapshot_id": snapshot}, headers=staff
    )
    reviewed = api.client.post(
        f"/programs/{program.json()['id']}/reviews", json={"note": "ok"}, headers=staff
    )
    closed = api.client.post(
        f"/programs/{program.json()['id']}/closing", json={}, headers=staff
    )
    view = api.client.get(f"/snapshots/{snapshot}", headers=staff).json()

    assert saved.json()["answered"] == len(universal)
    assert completed.json()["status"] == "completed"
    assert view["scores"]
    assert reviewed.json()["reviews"] == 1
    assert closed.json()["status"] == "closed"


@SQLITE_ONLY
def test_group_start_reports_a_pupil_of_another_team_as_not_found(
    api: Api, world: World
) -> None:
    outsider_pupil = "00000000-0000-4000-8000-000000000001"
    response = api.client.post(
        f"/teams/{world.team_a}/snapshots/group",
        json={
            "participant_ids": [str(world.pupil_ids[1]), outsider_pupil],
            "instrument": "wellbeing-check",
            "kind": "universal",
        },
        headers=world.auth("admin"),
    )

    outcomes = {o["participant_id"]: o for o in response.json()["outcomes"]}
    assert response.status_code == 201
    assert outcomes[outsider_pupil]["error"] == "not-found"
    assert outcomes[str(world.pupil_ids[1])]["snapshot_id"]


def test_the_analyst_streams_the_export_and_the_download_is_recorded(
    api: Api, world: World
) -> None:
    before = _events_of(api, "wellbeing:ExportDownloaded")

    response = api.client.get(
        "/exports/headstart-kernow?format=csv", headers=world.auth("analyst")
    )

    assert response.status_code == 200
    assert response.text.startswith("\ufeff")
    assert "attachment" in response.headers["content-disposition"]
    assert _events_of(api, "wellbeing:ExportDownloaded") == before + 1


@SQLITE_ONLY
def test_hq_statistics_suppress_small_cells(api: Api, world: World) -> None:
    response = api.client.get(
        "/exports/headstart-hq/statistics?format=json", headers=world.auth("analyst")
    )

    cells = response.json()["rows"]
    assert response.status_code == 200
    assert cells
    assert all(c["snapshots"] == "<5" or c["snapshots"] >= 5 for c in cells)


@SQLITE_ONLY
def test_stats_cover_the_callers_teams_only(api: Api, world: World) -> None:
    admin = api.client.get("/stats", headers=world.auth("admin")).json()
    analyst = api.client.get("/stats", headers=world.auth("analyst")).json()

    assert [row["team_id"] for row in admin["by_team"]] == [str(world.team_a)]
    assert str(world.team_b) not in str(analyst)
    assert analyst["participants"] == 2


@SQLITE_ONLY
def test_a_revoked_token_is_refused(api: Api, world: World) -> None:
    issued = api.client.post("/tokens", json={}, headers=world.auth("stranger")).json()
    mine = {"Authorization": f"Bearer {issued['token']}"}

    before = api.client.get("/users/me", headers=mine)
    revoked = api.client.delete(f"/tokens/{issued['id']}", headers=mine)
    after = api.client.get("/users/me", headers=mine)

    assert before.status_code == 200
    assert revoked.status_code == 200
    assert after.status_code == 401


@SQLITE_ONLY
def test_an_admin_issues_a_token_for_a_practitioner_only_of_their_teams(
    api: Api, world: World
) -> None:
    for_member = api.client.post(
        "/tokens",
        json={"user_id": str(world.users["practitioner"])},
        headers=world.auth("admin"),
    )
    for_auditor = api.client.post(
        "/tokens",
        json={"user_id": str(world.users["auditor"])},
        headers=world.auth("admin"),
    )

    assert for_member.status_code == 201
    assert for_auditor.status_code == 404


@SQLITE_ONLY
def test_erasing_a_user_ends_their_tokens(api: Api, world: World) -> None:
    erased = api.client.post(
        f"/users/{world.users['stranger']}/erasure", headers=world.auth("dpo")
    )
    after = api.client.get("/users/me", headers=world.auth("stranger"))

    assert erased.status_code == 200
    assert after.status_code == 401


@SQLITE_ONLY
def test_tokens_create_prints_a_token_once_that_opens_the_api(
    api: Api, world: World, capsys: object, monkeypatch: object
) -> None:
    settings = api.runtime.settings
    env = {
        "WELLBEING_DATABASE_URL": settings.database_url,
        "WELLBEING_DATA_DIR": str(settings.data_dir),
        "WELLBEING_KEK": str(settings.kek),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # type: ignore[attr-defined]

    code = main(["tokens", "create", "--user", str(world.users["stranger"])])
    printed = capsys.readouterr()  # type: ignore[attr-defined]
    secret = printed.out.strip()
    response = api.client.get(
        "/users/me", headers={"Authorization": f"Bearer {secret}"}
    )

    assert code == 0
    assert response.json()["id"] == str(world.users["stranger"])
    assert count_rows(api.runtime, "api_tokens") == len(world.tokens) + 1
    assert printed.err.startswith("token id ")
    assert secret not in printed.err


@SQLITE_ONLY
def test_the_upn_template_lists_the_roll_without_a_upn_and_leaves_no_file(
    api: Api, world: World
) -> None:
    response = api.client.get(
        f"/teams/{world.team_a}/upn-template", headers=world.auth("practitioner")
    )

    assert response.status_code == 200
    assert response.text.splitlines()[0].endswith("has_upn,UPN")
    assert len(response.text.splitlines()) == 1 + len(world.pupil_ids)
    assert all(p.upn not in response.text for p in world.pupils)
    assert list((api.runtime.settings.data_dir / "uploads").iterdir()) == []
