"""API fixtures: an app over the shared `runtime` fixture, and a small world.

The world is described in `api.world`; every fixture here builds on the
`runtime` fixture of the suite's top-level conftest.
"""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.world import Api, RecordingClient, World, build_world
from wellbeing.api.app import create_app
from wellbeing.persistence.runtime import Runtime


@pytest.fixture
def api(runtime: Runtime, tmp_path: Path) -> Iterator[Api]:
    app = create_app(runtime.settings, runtime=runtime)
    with RecordingClient(app) as client:
        yield Api(client, runtime, app, tmp_path)


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="wellbeing")
    return caplog


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api.runtime, api.folder)
