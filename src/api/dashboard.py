"""Serving the usage dashboard: one page and its assets, no token needed.

The page holds no figures: its script asks the API for them with the token
the person types in, so nothing here needs authorising.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

ASSETS = Path(str(files("wellbeing.dashboard")))
# The page may load only its own files, and talk only to this service.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:;"
    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


async def page(request: Request) -> FileResponse:
    return FileResponse(
        ASSETS / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-store"},
    )


def install(app: FastAPI) -> None:
    app.add_route("/dashboard", page, methods=["GET"], include_in_schema=False)
    app.mount("/dashboard/static", StaticFiles(directory=ASSETS), name="dashboard")
