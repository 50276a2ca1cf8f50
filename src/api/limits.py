"""A ceiling on request bodies, counted on the bytes actually received.

A declared Content-Length over the limit is refused before the body is
read; a body that runs past the limit while streaming (chunked, or lying
about its length) is stopped at the first chunk that crosses it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wellbeing.api.problems import MEDIA_TYPE, problem_body


@dataclass(frozen=True)
class Limits:
    """Body ceilings in bytes: JSON requests, and uploaded pupil files."""

    body_bytes: int = 1 << 20
    upload_bytes: int = 20 << 20


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes its ceiling.

    An HTTPException, because the framework passes those through its body
    parsing unchanged, where any other error would become a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")


class BodyLimit:
    """Pure ASGI middleware wrapping `receive` to count the body's bytes."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Limits,
        is_upload: Callable[[str, str], bool],
    ) -> None:
        self.app = app
        self.limits = limits
        self.is_upload = is_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)

    def _limit_for(self, scope: Scope) -> int:
        if self.is_upload(scope["method"], scope["path"]):
            return self.limits.upload_bytes
        return self.limits.body_bytes


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    state = scope.get("state") or {}
    request_id = state.get("request_id") if isinstance(state, dict) else None
    body = orjson.dumps(
        problem_body(
            413, "too-large", f"the request body is over {limit} bytes", request_id
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
