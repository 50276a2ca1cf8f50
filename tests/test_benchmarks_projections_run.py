"""The projection benchmark runs to the end on a small history, as in CI.

Only that it runs and prints its figures is checked; timings on a shared CI
machine say nothing, so none is asserted.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import postgres_url

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "projections.py"


def test_projection_benchmark_runs_and_prints_its_figures(
    postgres_available: None,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLBEING_")}
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--events",
            "2000",
            "--library-events",
            "300",
            "--database-url",
            postgres_url(),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert re.search(r"catch-up +[\d,]+ events +[\d.]+ s +[\d,]+ events/s", done.stdout)
    assert re.search(r"rebuild +[\d,]+ events", done.stdout)
    assert "cores" in done.stdout
