"""What every route reaches through dependencies: the runtime and the caller.

The caller comes from the bearer token alone; a path never says who is
acting. Tokens belong to staff users, so the operator has no way in.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
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


def services(request: Request) -> Services:
    found = getattr(request.app.state, "services", None)
    if not isinstance(found, Services):
        raise RuntimeError("the application was not started")
    return found


def runtime(request: Request) -> Runtime:
    return services(request).runtime


_bearer = HTTPBearer(
    auto_error=False,
    description="An opaque token from `wellbeing tokens create` or POST /tokens.",
)


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The token's user; raises Unauthenticated for no, unknown or revoked token."""
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    user_id = tokens.user_of(runtime(request).database, credentials.credentials)
    if user_id is None:
        raise Unauthenticated("the token is unknown or revoked")
    return Actor(user_id)


ServicesDep = Annotated[Services, Depends(services)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
CallerDep = Annotated[Actor, Depends(caller)]
