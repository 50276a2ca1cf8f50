"""What every route reaches through dependencies: the runtime and the caller.

The caller comes from the bearer token alone; a path never says who is
acting. Tokens belong to staff users, so the operator has no way in.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wellbeing.api.import_runner import ImportRunner
from wellbeing.api.observability import Metrics
from wellbeing.api.problems import Unauthenticated
from wellbeing.commands.actor import Actor
from wellbeing.persistence import tokens
from wellbeing.persistence.runtime import Runtime


@dataclass
class Services:
    """The serving process's shared parts, opened once at start-up."""

    runtime: Runtime
    imports: ImportRunner
    metrics: Metrics
    upload_dir: Path


def services_of(request: Request) -> Services:
    found = getattr(request.app.state, "services", None)
    if not isinstance(found, Services):
        raise RuntimeError("the application was not started")
    return found


# FastAPI runs a plain function dependency in a worker thread, a hand-over
# to and from the thread on every request; these two do no I/O, so they
# run on the event loop instead.
async def services(request: Request) -> Services:
    return services_of(request)


async def runtime(request: Request) -> Runtime:
    return services_of(request).runtime


_bearer = HTTPBearer(
    auto_error=False,
    description="An opaque token from `wellbeing tokens create` or POST /tokens.",
)


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The token's user; raises Unauthenticated for no, unknown or revoked token.

    A token seen within the last second is answered from memory on the
    event loop; any other is looked up in a worker thread.
    """
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    secret = credentials.credentials
    user_id = tokens.remembered_user(secret)
    if user_id is None:
        database = services_of(request).runtime.database
        user_id = await run_in_threadpool(tokens.user_of, database, secret)
    if user_id is None:
        raise Unauthenticated("the token is unknown or revoked")
    return Actor(user_id)


ServicesDep = Annotated[Services, Depends(services)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
CallerDep = Annotated[Actor, Depends(caller)]
