"""The benchmark scripts run end to end at a small size (no timing asserted)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import postgres_url

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.usefixtures("postgres_available")
def test_import_benchmark_runs_with_500_pupils() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "import_pupils.py"),
            "--pupils",
            "500",
            "--database-url",
            postgres_url(),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    figures = re.findall(
        r"^(postgres|sqlite)\s+product import\s+([\d,]+)", done.stdout, re.M
    )
    assert [store for store, _ in figures] == ["postgres", "sqlite"]
    assert all(int(rate.replace(",", "")) > 0 for _, rate in figures)
    assert "bare eventsourcing" in done.stdout
