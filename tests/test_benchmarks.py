"""Every benchmark script runs: ``--help`` for each, and a tiny run for those that take seconds.

The scripts are copied into a temporary folder first, so that a tiny run writes its chunks,
results and summary there and never into the repository. Nothing asserts on a number or a time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.parent.name for p in BENCHMARKS.glob("*/run.py"))
TINY = {
    "cost_value": ["--reps", "2", "--gold", "50"],
    "frontier": ["--n", "3000", "--models", "3", "--repeats", "1"],
}


@pytest.fixture(scope="module")
def copied(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchmarks")
    for name in SCRIPTS:
        (root / name).mkdir()
        shutil.copy(BENCHMARKS / name / "run.py", root / name / "run.py")
    return root


def test_every_benchmark_is_a_folder_with_a_script_and_a_summary():
    assert len(SCRIPTS) >= 15
    loose = [p.name for p in BENCHMARKS.iterdir() if p.is_file() and p.name != "README.md"]
    assert not loose, f"benchmark files outside a benchmark folder: {loose}"
    missing = [n for n in SCRIPTS if not (BENCHMARKS / n / "summary.md").is_file()]
    assert not missing, f"benchmarks without a summary.md: {missing}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, copied):
    proc = subprocess.run([sys.executable, str(copied / name / "run.py"), "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage" in proc.stdout


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_run_writes_its_summary(name, copied):
    proc = subprocess.run([sys.executable, str(copied / name / "run.py"), *TINY[name]], capture_output=True,
                          text=True, timeout=300, cwd=copied)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (copied / name / "summary.md").read_text().strip()
