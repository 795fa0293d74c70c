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


HOWTOS_WITH_EXAMPLES = sorted(p.name for p in (DOCS / "howto").glob("*.md") if ">>> " in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", HOWTOS_WITH_EXAMPLES)
def test_howto_examples_run_and_print_what_the_page_shows(page):
    """The ``>>>`` examples of a how-to page run, and print exactly the outputs the page shows."""
    import doctest
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are part of what a page may show, not of its output
        result = doctest.testfile(str(DOCS / "howto" / page), module_relative=False, verbose=False, report=True,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_every_howto_carries_executed_examples():
    pages = {p.name for p in (DOCS / "howto").glob("*.md")} - {"index.md"}
    assert pages == set(HOWTOS_WITH_EXAMPLES), sorted(pages - set(HOWTOS_WITH_EXAMPLES))


def test_docs_and_code_speak_of_the_package_not_of_its_issue_numbers():
    """Issue numbers go stale and mean nothing to a reader; the closing notes hold them."""
    import re

    root = DOCS.parent
    paths = [*root.joinpath("metarouter_stats").rglob("*.py"), *DOCS.rglob("*.md"), root / "README.md"]
    hits = [f"{p.relative_to(root)}:{i}" for p in paths if "generated" not in p.parts and "_build" not in p.parts
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"\bissues? #?\d+", line, flags=re.IGNORECASE)]
    assert not hits, "issue numbers in docs or code: " + ", ".join(hits)
