"""Routes that need no token: liveness, readiness, and metrics."""

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from wellbeing.api.models import OPEN_PROBLEMS, examples
from wellbeing.api.services import RuntimeDep, ServicesDep

router = APIRouter(tags=["service"])


class Health(BaseModel):
    model_config = examples({"status": "ok"})

    status: str


@router.get("/health", summary="The process is up")
def health() -> Health:
    return Health(status="ok")


@router.get("/ready", summary="The database answers", responses=OPEN_PROBLEMS)
def ready(runtime: RuntimeDep) -> Health:
    with runtime.database.transaction() as tx:
        tx.execute("SELECT 1")
        tx.fetchone()
    return Health(status="ready")


@router.get(
    "/metrics",
    summary="Request counts and latencies, Prometheus text format",
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "wellbeing_http_requests_total"
                    '{method="GET",route="/teams",status="200"} 3\n',
                }
            }
        }
    },
)
def metrics(services: ServicesDep) -> PlainTextResponse:
    return PlainTextResponse(
        services.metrics.render(), media_type="text/plain; version=0.0.4"
    )
