"""The package is mypy clean (the style guide's typing habit, checked in CI)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_clean(tmp_path):
    pytest.importorskip("mypy", reason='mypy comes with the "test" extra')
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "metarouter_stats", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
