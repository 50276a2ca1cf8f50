"""The application factory: routes, error handling, limits and metrics."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from psycopg_pool import ConnectionPool

from wellbeing.api import (
    assessments,
    audit,
    dashboard,
    health,
    imports,
    participants,
    privacy,
    problems,
    reports,
    teams,
    users,
)
from wellbeing.api.import_runner import ImportRunner
from wellbeing.api.limits import BodyLimit, Limits
from wellbeing.api.observability import Metrics, RequestObserver
from wellbeing.api.services import Services
from wellbeing.persistence.database import PostgresDatabase
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.settings import Settings, load_settings

TITLE = "Wellbeing Ledger"
VERSION = "1"
# A request waits this long for a database connection before it is told
# the service is busy (503): failing fast beats queueing behind a full pool.
POOL_WAIT_SECONDS = 2.0
ROUTERS = (
    health.router,
    users.router,
    teams.router,
    participants.router,
    imports.router,
    assessments.router,
    reports.router,
    audit.router,
    privacy.router,
)
_UPLOAD_PATH = re.compile(r"^/teams/[^/]+/imports$")
DESCRIPTION = """Staff of a school (a *team*) register pupils, record snapshots
and build programs; partners read figures and exports; auditors and
data-protection officers read history and erase. Every route but /health,
/ready and /metrics takes an opaque bearer token. A UPN is accepted on
write and never returned. Errors are `application/problem+json` with a
stable `code`. Every POST takes an `Idempotency-Key`."""


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    limits: Limits | None = None,
    pool_wait_seconds: float = POOL_WAIT_SECONDS,
) -> FastAPI:
    """The API over the store the settings name; `runtime` lends an open one,
    which the app then leaves open when it stops.
    """
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = runtime or open_runtime(settings)
        # Handlers are synchronous and share one interpreter lock: measured
        # with 16 concurrent clients, 4 threads answered about 40% more
        # requests than the default 40, which spent their time handing the
        # lock to one another.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = opened.settings.request_threads
        shorten_pool_waits(opened, pool_wait_seconds)
        upload_dir = opened.settings.data_dir / "uploads"
        runner = ImportRunner(opened, upload_dir)
        runner.recover()
        app.state.services = Services(opened, runner, metrics, upload_dir)
        try:
            yield
        finally:
            runner.close()
            if runtime is None:
                opened.close()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    dashboard.install(app)
    app.add_middleware(BodyLimit, limits=limits or Limits(), is_upload=is_upload)
    fixed = frozenset(
        path
        for route in app.routes
        if isinstance(path := getattr(route, "path", None), str) and "{" not in path
    )
    app.add_middleware(RequestObserver, metrics=metrics, fixed_paths=fixed)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """The app for one of several server processes, from the environment."""
    return create_app(load_settings())


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and _UPLOAD_PATH.match(path) is not None


def shorten_pool_waits(runtime: Runtime, seconds: float) -> None:
    """Make both PostgreSQL pools (ours and the event store library's) give
    up after `seconds`; their own defaults wait 10 and 30 seconds.
    """
    if not isinstance(runtime.database, PostgresDatabase):
        return
    runtime.database.pool.timeout = seconds
    datastore = getattr(runtime.ledger.recorder, "datastore", None)
    pool = getattr(datastore, "pool", None)
    if isinstance(pool, ConnectionPool):
        pool.timeout = seconds


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The framework's document, with problems under their own media type
    and an example on every operation's request and answer.
    """
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.get("components", {}).get("schemas", {})
    for path_item in document["paths"].values():
        for operation in path_item.values():
            _problem_media(operation)
            _examples(operation, schemas)
    return document


def _problem_media(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if int(status) >= 400 and "application/json" in content:
            content[problems.MEDIA_TYPE] = content.pop("application/json")


def _examples(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    media: list[dict[str, Any]] = []
    body = operation.get("requestBody", {}).get("content", {})
    media.extend(body.values())
    for status, response in operation.get("responses", {}).items():
        if int(status) < 400:
            media.extend(response.get("content", {}).values())
    for entry in media:
        if "example" not in entry:
            found = _example_of(entry.get("schema", {}), schemas)
            if found is not None:
                entry["example"] = found


def _example_of(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return None
    name = ref.rsplit("/", 1)[-1]
    component = schemas.get(name, {})
    if component.get("examples"):
        return component["examples"][0]
    if name.startswith("Page_"):
        item = _example_of(component["properties"]["items"]["items"], schemas)
        return {"items": [] if item is None else [item], "next_cursor": None}
    return None
