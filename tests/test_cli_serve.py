"""`wellbeing serve` says where it listens before it starts serving."""

import os
import socket
import subprocess
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_names_its_address_on_standard_error(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "WELLBEING_DATA_DIR": str(tmp_path)}
    env.pop("WELLBEING_DATABASE_URL", None)
    command = [sys.executable, "-m", "wellbeing.cli.main", "serve", "--port"]
    server = subprocess.Popen(  # noqa: S603 (our own command line)
        [*command, str(port)], env=env, cwd=tmp_path, stderr=subprocess.PIPE
    )
    expected = f"wellbeing: serving on http://127.0.0.1:{port}"
    lines: list[str] = []
    try:
        assert server.stderr is not None
        # The first start also announces the KEK it generated; the address
        # follows within a line or two.
        while len(lines) < 3 and not any(x.startswith(expected) for x in lines):
            lines.append(server.stderr.readline().decode())
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()

    assert any(line.startswith(expected) for line in lines), lines
