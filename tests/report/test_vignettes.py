"""Every vignette runs end to end on small settings and renders HTML with its figures."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from test_report import embedded_images


def _subdir(data_dir, name):
    path = Path(data_dir) / name
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


VIGNETTES = Path(__file__).resolve().parents[2] / "vignettes"


def _load(name):
    return runpy.run_path(str(VIGNETTES / f"{name}.py"), run_name=f"vignette_{name}")


def _check_html(path, n_figures):
    images, tags = embedded_images(path.read_text(encoding="utf-8"))
    assert len(images) == n_figures and "script" not in tags


def test_paper_study(tmp_path):
    rep = _load("paper_study")["run"](tmp_path, small=True)
    _check_html(tmp_path / "paper_study.html", len(rep.figures))
    areas = rep.results["study"]["area_summary"].set_index("router")["mean"]
    assert areas["oracle"] > areas["random"] and areas["meta-dr"] > areas["preference-only"]
    assert len(rep.figures) == 2 + 4  # study curves (absolute, relative) + one round's analysis (with the scale sensitivity)


@pytest.mark.filterwarnings("ignore:Poor overlap:UserWarning")  # the vignette shows this warning on purpose
def test_positivity_trimming(tmp_path):
    rep = _load("positivity_trimming")["run"](tmp_path, small=True)
    _check_html(tmp_path / "positivity_trimming.html", 3)
    pos = rep.results["positivity"]
    assert not pos["selection"].good_overlap and pos["paper"].good_overlap
    res = rep.results["comparison"]
    # random selection: the band trims (almost) nothing; selection: it trims a visible share
    trimmed = res.groupby(["scenario", "rule"])["trimmed_share"].mean()
    assert trimmed[("paper", "band, drop")] < 0.02 < trimmed[("selection", "band, drop")]


@pytest.mark.realdata
def test_mtbench_bias(tmp_path, data_dir):
    root = _subdir(data_dir, "mtbench")
    rep = _load("mtbench_bias")["run"](root, tmp_path, small=True)
    _check_html(tmp_path / "mtbench_bias.html", len(rep.figures))
    res = rep.results["bias_ttest"]
    low, high = res.confidence_interval()
    # the number the vignette states
    assert (round(res.estimate, 3), round(low, 3), round(high, 3), res.n_gold) == (-0.369, -0.512, -0.226, 130)
    assert "-0.369 (95 % CI -0.512 to -0.226" in (tmp_path / "mtbench_bias.html").read_text()
    assert (rep.results["bias_tests"]["bias"] < 0).all() and len(rep.results["bias_tests"]) == 5
    assert np.isfinite(rep.results["eg_table"]["share of test-label oracle area"]).all()


@pytest.mark.realdata
def test_mtbench_multimodel(tmp_path, data_dir):
    root = _subdir(data_dir, "mtbench")
    rep = _load("mtbench_multimodel")["run"](root, tmp_path, small=True)
    _check_html(tmp_path / "mtbench_multimodel.html", 1)
    areas = rep.results["frontier"].areas
    assert rep.results["n_items"] > 30
    assert areas["oracle"] >= areas.drop("oracle").max()


def test_gold_budget(tmp_path):
    rep = _load("gold_budget")["run"](tmp_path, small=True)
    _check_html(tmp_path / "gold_budget.html", 3)
    plan, curve, sel = rep.results["plan"], rep.results["curve"], rep.results["selection"]
    assert np.all(np.diff(plan.half_width) < 0) and plan.n_for_half_width[1] <= plan.n_for_half_width[0]
    assert curve.sizes.size == 12 and sel.n_labelled == 40 and rep.results["positivity"].propensity_known  # 4 sizes x 3 repeats
