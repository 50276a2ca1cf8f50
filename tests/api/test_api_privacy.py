"""No UPN and no canary name where they must not be; erasure over HTTP;
subject access and downloads on record; logs and metrics by template.
"""

import logging
import re
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from api.world import SQLITE_ONLY, Api, World
from wellbeing.persistence.event_store import EVENTS_TABLE

# Routes whose answers show a pupil's details to those allowed to see them:
# staff, the DPO's subject access, an auditor's history, the Kernow export.
SHOWS_NAMES = re.compile(
    r"^/(participants/[^/]+(/subject-access)?|teams/[^/]+/participants"
    r"|audit/records/[^/]+/history|exports/headstart-kernow)$"
)
# The one answer that may carry a UPN: the Kernow partner's export.
SHOWS_UPN = re.compile(r"^/exports/headstart-kernow$")


def _walk(api: Api, world: World) -> None:
    pupil, team = world.pupil_ids[0], world.team_a
    staff, dpo, auditor = world.auth("admin"), world.auth("dpo"), world.auth("auditor")
    gets = [
        (staff, f"/teams/{team}/participants"),
        (staff, f"/participants/{pupil}"),
        (staff, f"/snapshots/{world.snapshot_id}"),
        (staff, f"/programs/{world.program_id}"),
        (staff, f"/teams/{team}"),
        (staff, "/stats"),
        (dpo, f"/participants/{pupil}/subject-access"),
        (auditor, f"/audit/records/{pupil}/history"),
        (world.auth("analyst"), "/exports/headstart-kernow?format=json"),
        (world.auth("analyst"), "/exports/headstart-hq?format=csv"),
        (world.auth("outsider"), f"/participants/{pupil}"),
    ]
    for headers, path in gets:
        api.client.get(path, headers=headers)
    canary = world.pupils[0]
    api.client.patch(
        f"/participants/{pupil}",
        json={"surname": canary.surname, "sex": 7},
        headers=staff,
    )
    api.client.post(
        f"/teams/{team}/participants",
        json={
            "surname": canary.surname,
            "forename": canary.forename,
            "upn": canary.upn,
        },
        headers=staff,
    )


def _scan(api: Api, needles: list[str], allowed: re.Pattern[str]) -> list[str]:
    found = []
    for response in api.client.seen:
        path = response.request.url.path
        if response.status_code < 400 and allowed.match(path):
            continue
        found += [
            f"{path} {response.status_code}" for n in needles if n in response.text
        ]
    return found


@SQLITE_ONLY
def test_answers_carry_no_upn_and_names_only_where_pupils_are_shown(
    api: Api, world: World
) -> None:
    _walk(api, world)
    upns = [p.upn for p in world.pupils]
    names = [n for p in world.pupils for n in (p.surname, p.forename)]

    assert _scan(api, upns, SHOWS_UPN) == []
    assert _scan(api, names, SHOWS_NAMES) == []


@SQLITE_ONLY
def test_logs_carry_no_upn_no_name_and_no_path_value(
    api: Api, world: World, access_log: pytest.LogCaptureFixture
) -> None:
    _walk(api, world)
    text = "\n".join(record.getMessage() for record in access_log.records)
    access = [r for r in access_log.records if r.name == "wellbeing.api.access"]
    canaries = [n for p in world.pupils for n in (p.surname, p.forename, p.upn)]

    assert [n for n in canaries if n in text] == []
    assert str(world.pupil_ids[0]) not in text
    assert len(access) == len(api.client.seen)
    assert all(
        "request_id=" in r.getMessage() and "route=/" in r.getMessage() for r in access
    )


@SQLITE_ONLY
def test_a_request_id_is_echoed_and_metrics_use_route_templates(
    api: Api, world: World
) -> None:
    pupil = world.pupil_ids[0]
    answered = api.client.get(
        f"/participants/{pupil}",
        headers={**world.auth("admin"), "X-Request-ID": "client-chosen-id-1"},
    )
    metrics = api.client.get("/metrics")

    assert answered.headers["x-request-id"] == "client-chosen-id-1"
    assert 'route="/participants/{participant_id}",status="200"' in metrics.text
    assert str(pupil) not in metrics.text
    assert "wellbeing_http_request_duration_seconds_bucket" in metrics.text


def _events(api: Api, topic: str) -> list[Any]:
    table = EVENTS_TABLE[api.runtime.database.dialect]
    with api.runtime.database.transaction() as tx:
        tx.execute(
            "SELECT originator_id, originator_version, topic, state FROM "
            + table
            + " WHERE topic = %s",
            (topic,),
        )
        rows = tx.fetchall()
    return [
        api.runtime.mapper.to_domain_event(
            StoredEvent(
                originator_id=row[0],
                originator_version=int(row[1]),
                topic=str(row[2]),
                state=bytes(row[3]),
            )
        )
        for row in rows
    ]


def test_subject_access_and_downloads_are_recorded_with_their_actor(
    api: Api, world: World
) -> None:
    pupil = world.pupil_ids[0]

    report = api.client.get(
        f"/participants/{pupil}/subject-access", headers=world.auth("dpo")
    )
    api.client.get("/exports/headstart-kernow", headers=world.auth("analyst"))

    provided = _events(api, "wellbeing:SubjectAccessProvided")
    downloaded = _events(api, "wellbeing:ExportDownloaded")
    assert report.status_code == 200
    assert world.pupils[0].upn not in report.text
    assert [(e.actor_id, e.participant_id) for e in provided] == [
        (world.users["dpo"], pupil)
    ]
    assert [(e.actor_id, e.partner) for e in downloaded] == [
        (world.users["analyst"], "headstart-kernow")
    ]


def _history(api: Api, world: World, record: UUID) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.client.get(
            f"/audit/records/{record}/history",
            params=params,
            headers=world.auth("auditor"),
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def _personal_values(history: list[dict[str, Any]]) -> list[Any]:
    names = ("surname", "forename", "date_of_birth", "sex", "year_group", "tags")
    # A field never supplied is a clear null: there was nothing to seal.
    found = [e["fields"].get(n) for e in history for n in names]
    return [value for value in found if value is not None]


def test_an_auditor_replays_an_erased_history_and_sees_only_markers(
    api: Api, world: World
) -> None:
    pupil, auditor = world.pupil_ids[0], world.auth("auditor")
    before = _history(api, world, pupil)
    replay_before = api.client.get("/audit/replay", headers=auditor).json()
    stats_before = api.client.get("/stats", headers=world.auth("admin")).json()

    erased = api.client.post(
        f"/participants/{pupil}/erasure", headers=world.auth("admin")
    )
    after = _history(api, world, pupil)
    replay_after = api.client.get("/audit/replay", headers=auditor).json()
    stats_after = api.client.get("/stats", headers=world.auth("admin")).json()

    assert erased.status_code == 200
    assert [e["event"] for e in after[:-1]] == [e["event"] for e in before]
    assert after[-1]["event"].endswith("PersonalDataErased")
    assert all(v == {"erased": True} for v in _personal_values(after))
    assert _personal_values(after)
    assert world.pupils[0].surname not in str(after)
    assert replay_after["aggregates"] == replay_before["aggregates"]
    assert replay_after["failures"] == []
    assert all(view["equal"] for view in replay_after["views"].values())
    assert stats_after["participants"] == stats_before["participants"]
    assert stats_after["snapshots"] == stats_before["snapshots"]


@SQLITE_ONLY
def test_after_erasure_no_answer_shows_the_pupil(
    api: Api, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    pupil, canary = world.pupil_ids[0], world.pupils[0]
    api.client.post(f"/participants/{pupil}/erasure", headers=world.auth("dpo"))
    api.client.seen.clear()

    _walk(api, world)
    shown = api.client.get(f"/participants/{pupil}", headers=world.auth("admin"))

    assert shown.json()["surname"] == {"erased": True}
    for response in api.client.seen:
        for needle in (canary.surname, canary.forename, canary.upn):
            assert needle not in response.text
