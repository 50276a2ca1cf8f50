"""Request ids, one access-log line per request, and Prometheus metrics.

Everything here is labelled by route template (`/participants/{id}`),
never by the path as sent, so no id or name from a URL reaches a log line
or a metric.
"""

import logging
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wellbeing.api.problems import MEDIA_TYPE, log_failure, problem_body

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("wellbeing.api.access")

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")

Labels = tuple[str, str, str]


@dataclass
class _Series:
    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))


class Metrics:
    """Request counts and latency histograms by method, route and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[Labels, _Series] = defaultdict(_Series)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            series = self._series[(method, route, str(status))]
            series.count += 1
            series.total += seconds
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series.buckets[index] += 1

    def render(self) -> str:
        """The Prometheus text exposition format, version 0.0.4."""
        with self._lock:
            items = sorted(
                (labels, _Series(s.count, s.total, list(s.buckets)))
                for labels, s in self._series.items()
            )
        lines = [
            "# HELP wellbeing_http_requests_total HTTP requests answered.",
            "# TYPE wellbeing_http_requests_total counter",
        ]
        lines += [
            f"wellbeing_http_requests_total{{{_labels(labels)}}} {s.count}"
            for labels, s in items
        ]
        lines += [
            "# HELP wellbeing_http_request_duration_seconds Time to answer.",
            "# TYPE wellbeing_http_request_duration_seconds histogram",
        ]
        for labels, s in items:
            lines += _histogram(labels, s)
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels, extra: str = "") -> str:
    method, route, status = labels
    text = (
        f'method="{_escape(method)}",route="{_escape(route)}",'
        f'status="{_escape(status)}"'
    )
    return text + extra


def _histogram(labels: Labels, series: _Series) -> list[str]:
    name = "wellbeing_http_request_duration_seconds"
    bounds = [str(bound) for bound in BUCKETS] + ["+Inf"]
    counts = [*series.buckets, series.count]
    lines = [
        name + "_bucket{" + _labels(labels, ',le="' + bound + '"') + "} " + str(count)
        for bound, count in zip(bounds, counts, strict=True)
    ]
    lines.append(f"{name}_sum{{{_labels(labels)}}} {series.total:.6f}")
    lines.append(f"{name}_count{{{_labels(labels)}}} {series.count}")
    return lines


def route_template(scope: Scope, fixed_paths: frozenset[str]) -> str:
    """The matched route's template; a path without parameters (the docs)
    may be named as sent, anything else unmatched is `unmatched`.
    """
    route: object = scope.get("route")
    path: object = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return scope["path"] if scope["path"] in fixed_paths else UNMATCHED


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _CLIENT_ID.match(text):
                return text
    return uuid.uuid4().hex


class RequestObserver:
    """Outermost middleware: request id, access log, metrics, last resort.

    An error that no handler turned into a response is logged once here
    and answered with a 500 problem, so nothing unexpected reaches the
    server's own logger with its message.
    """

    def __init__(
        self, app: ASGIApp, metrics: Metrics, fixed_paths: frozenset[str]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.fixed_paths = fixed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False

        async def sending(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # noqa: BLE001 (the last resort: logged once)
            log_failure(request_id, error)
            if not started:
                await _internal_error(sending, request_id)
        finally:
            seconds = time.perf_counter() - began
            template = route_template(scope, self.fixed_paths)
            self.metrics.observe(scope["method"], template, status, seconds)
            access_logger.info(
                "request request_id=%s method=%s route=%s status=%d ms=%.1f",
                request_id,
                scope["method"],
                template,
                status,
                seconds * 1000,
            )


async def _internal_error(send: Send, request_id: str) -> None:
    body = orjson.dumps(problem_body(500, "internal", "the request failed", request_id))
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
