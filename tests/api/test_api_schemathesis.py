"""Schemathesis against a live `wellbeing serve` on 127.0.0.1: no 500, and no
answer that breaks the OpenAPI document. Bounded to a few examples per
operation so the run takes about a minute.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.world import SQLITE_ONLY, World, build_world
from wellbeing.commands import users
from wellbeing.commands.actor import operator
from wellbeing.persistence.runtime import Runtime

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
MAX_EXAMPLES = "10"
STARTUP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("the server stopped while starting")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start in time")


@pytest.fixture
def served(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, World]]:
    world = build_world(runtime, tmp_path)
    # The caller is also an auditor, so the audit routes are reached too.
    grant = users.GrantRole(operator(), world.users["admin"], "auditor")
    users.grant_role(runtime, grant)
    settings = runtime.settings
    port = _free_port()
    env = {
        **os.environ,
        "WELLBEING_DATABASE_URL": settings.database_url,
        "WELLBEING_DATA_DIR": str(settings.data_dir),
        "WELLBEING_KEK": str(settings.kek),
        "WELLBEING_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "wellbeing.cli.main", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(base + "/health", server)
            yield base, world
        finally:
            server.terminate()
            server.wait(timeout=30)


@SQLITE_ONLY
@pytest.mark.slow
def test_no_answer_is_a_500_or_breaks_the_schema(
    served: tuple[str, World], tmp_path: Path
) -> None:
    base, world = served
    command = [sys.executable, "-m", "schemathesis.cli", "run", base + "/openapi.json"]
    command += ["--header", f"Authorization: Bearer {world.tokens['admin']}"]
    command += ["--checks", CHECKS, "--max-examples", MAX_EXAMPLES]
    command += ["--phases", "examples,coverage,fuzzing", "--workers", "1"]
    command += ["--seed", "1", "--generation-database", "none", "--no-color"]
    command += ["--request-timeout", "20"]
    command += ["--generation-with-security-parameters", "false"]
    # Schemathesis reuses ids it has seen, so it would revoke its own token
    # through DELETE /tokens/{token_id} and spend the rest of the run on 401s.
    command += ["--exclude-path-regex", "^/tokens/"]

    finished = subprocess.run(  # noqa: S603 (our own command line)
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )

    (tmp_path / "schemathesis.txt").write_text(finished.stdout + finished.stderr)
    me = httpx.get(
        base + "/users/me", headers={"Authorization": f"Bearer {world.tokens['admin']}"}
    )
    assert me.status_code == 200, me.text
    assert finished.returncode == 0, finished.stdout[-6000:] + finished.stderr[-2000:]
