"""The contract: OpenAPI with valid examples, problems with stable codes."""

from typing import Any

import jsonschema_rs
import pytest
from people import make_canary

from api.world import SQLITE_ONLY, Api, World

PROBLEM = "application/problem+json"


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    root = {**schema, "components": document.get("components", {})}
    return jsonschema_rs.Draft202012Validator(root)


def _examples(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            body = operation.get("requestBody", {}).get("content", {})
            found += [(where + " request", media) for media in body.values()]
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    for media in response.get("content", {}).values():
                        found.append((f"{where} {status}", media))
    return found


@SQLITE_ONLY
def test_every_operation_answers_with_an_example(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    missing = [
        where
        for where, media in _examples(document)
        if "example" not in media and "examples" not in media
    ]
    assert missing == []


@SQLITE_ONLY
def test_every_example_validates_against_its_own_schema(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    invalid = []
    for where, media in _examples(document):
        validator = _validator(document, media.get("schema", {}))
        if not validator.is_valid(media["example"]):
            invalid.append(where)
    assert invalid == []


@SQLITE_ONLY
def test_component_examples_validate_against_their_schemas(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    invalid = []
    for name, schema in document["components"]["schemas"].items():
        validator = _validator(document, {"$ref": f"#/components/schemas/{name}"})
        invalid += [
            name for e in schema.get("examples", []) if not validator.is_valid(e)
        ]
    assert invalid == []


@SQLITE_ONLY
def test_the_docs_page_is_served(api: Api) -> None:
    response = api.client.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


@SQLITE_ONLY
def test_a_missing_record_is_a_problem_with_a_stable_code(
    api: Api, world: World
) -> None:
    response = api.client.get(
        "/participants/00000000-0000-4000-8000-000000000000",
        headers=world.auth("admin"),
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "not-found"


@SQLITE_ONLY
def test_validation_names_the_field_and_never_echoes_the_value(
    api: Api, world: World
) -> None:
    canary = make_canary(7)
    body = {"name": canary.surname, "la_code": canary.forename, "estab": canary.upn}

    response = api.client.post("/teams", json=body, headers=world.auth("admin"))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.la_code", "body.estab"}
    for needle in (canary.surname, canary.forename, canary.upn):
        assert needle not in response.text


@SQLITE_ONLY
def test_malformed_json_is_a_problem_without_the_text(api: Api, world: World) -> None:
    canary = make_canary(8)
    response = api.client.post(
        "/teams",
        content=b'{"name": "' + canary.surname.encode() + b'",',
        headers={**world.auth("admin"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert canary.surname not in response.text


@SQLITE_ONLY
def test_a_domain_refusal_is_never_a_500(api: Api, world: World) -> None:
    response = api.client.post(
        f"/snapshots/{world.snapshot_id}/completion", headers=world.auth("admin")
    )

    assert response.status_code == 409
    assert response.json()["code"] == "snapshot-closed"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "not-found"),
        ("DELETE", "/health", 405, "method-not-allowed"),
    ],
)
def test_framework_errors_are_problems_too(
    api: Api, method: str, path: str, status: int, code: str
) -> None:
    response = api.client.request(method, path)

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code


@SQLITE_ONLY
def test_every_post_takes_an_idempotency_key(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    missing = [
        path
        for path, item in document["paths"].items()
        if "post" in item
        and "Idempotency-Key"
        not in {p["name"] for p in item["post"].get("parameters", [])}
    ]
    assert missing == []
