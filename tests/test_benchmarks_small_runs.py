"""The remaining benchmark scripts run end to end at a small size.

No timing is asserted: the figures belong in BENCHMARKS.md, measured on a
quiet machine; here each script must finish and print its figures.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import postgres_url

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=BENCHMARKS,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def figure(output: str, label: str) -> float:
    found = re.search(rf"^\s+{re.escape(label)}\s+([\d,.]+)", output, re.M)
    assert found is not None, f"no figure for {label}"
    return float(found.group(1).replace(",", ""))


@pytest.mark.usefixtures("postgres_available")
def test_crypto_shredding_benchmark_prints_its_figures() -> None:
    output = run(
        "crypto_shredding.py",
        "--pupils",
        "200",
        "--history",
        "20",
        "--repeats",
        "1",
        "--database-url",
        postgres_url(),
    )

    assert figure(output, "seal (product)") > 0
    assert output.count("1 event of history") == 2


@pytest.mark.usefixtures("postgres_available")
def test_partner_export_benchmark_prints_its_figures() -> None:
    output = run("partner_export.py", "--rows", "50", "--database-url", postgres_url())

    assert output.count("export written as CSV (product)") == 2
    assert figure(output, "export rows per second") > 0


@pytest.mark.usefixtures("postgres_available")
def test_http_benchmark_prints_its_figures() -> None:
    output = run(
        "http_commands.py",
        "--seconds",
        "2",
        "--pupils",
        "30",
        "--clients",
        "4",
        "--database-url",
        postgres_url(),
    )

    assert figure(output, "product over HTTP") > 0
    assert figure(output, "latency p99") > 0


def test_http_benchmark_runs_on_sqlite() -> None:
    output = run(
        "http_commands.py",
        "--seconds",
        "2",
        "--pupils",
        "30",
        "--clients",
        "4",
        "--store",
        "sqlite",
    )

    assert "SQLite, 4 clients" in output
    assert figure(output, "product over HTTP") > 0
    assert figure(output, "bare library, one aggregate per transaction") > 0
