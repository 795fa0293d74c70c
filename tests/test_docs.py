"""The documentation site builds with warnings as errors (API pages from the docstrings)."""

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_build_with_warnings_as_errors(tmp_path):
    for mod in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(mod, reason='the docs tools come with the "test" (or "docs") extra')
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    for page in ("index.html", "method.html", "getting_started.html", "api.html", "howto/real_data.html",
                 "glossary.html", "howto/learners.html", "generated/metarouter_stats.cate.forest.CausalForestLearner.html",
                 "vignettes/mtbench_bias.html"):
        assert (out / page).is_file(), page
    meta = (out / "generated" / "metarouter_stats.MetaRouter.html").read_text(encoding="utf-8")
    assert "bias_interval" in meta and "predict_gain" in meta  # methods documented from their docstrings
    assert "-0.369" in (out / "vignettes" / "mtbench_bias.html").read_text(encoding="utf-8")
