"""compare_judges and gold_worth: the PPI++ worth against a direct Monte Carlo of the estimator, the
comparison's numbers against the single-judge tools, prices, errors."""

from __future__ import annotations

import numpy as np
import pytest

import metarouter_stats as mrs
from metarouter_stats.planning.judges import gold_worth


@pytest.mark.parametrize("rho", [0.3, 0.7, 0.9])
def test_worth_is_the_sample_size_of_the_ppi_variance(rho):
    """Independent check: PPI++ with the optimal power, simulated 20,000 times with n = 50 gold and N = 500
    judge labels; its variance expressed as a gold-only sample size equals n + gold_worth (MC error of a
    variance from 20,000 draws: about 1 %; tolerance 5 %)."""
    rng = np.random.default_rng(1)
    n, N, reps = 50, 500, 20_000
    lam = rho / (1 + n / N)  # Cov / ((1 + n/N) Var f) with unit variances
    y = rng.standard_normal((reps, n))
    f = rho * y + np.sqrt(1 - rho**2) * rng.standard_normal((reps, n))
    f_unl = rng.standard_normal((reps, N))  # judge labels on other queries: same law as f
    est = y.mean(axis=1) - lam * (f.mean(axis=1) - f_unl.mean(axis=1))
    n_eff = 1.0 / est.var()
    assert n_eff == pytest.approx(n + float(gold_worth(rho, n, N)), rel=0.05)
    assert float(gold_worth(-rho, n, N)) == float(gold_worth(rho, n, N))  # a negative correlation serves as well


@pytest.fixture(scope="module")
def sim():
    return mrs.simulate_judges(n_gold=80, n_queries=500, n_test=10, d=8, rng=2)


@pytest.fixture(scope="module")
def cmp(sim):
    return mrs.compare_judges(sim.train, costs={"strong": 1.0, "cheap": 0.1, "twin": 0.3}, gold_cost=10, cv=None,
                              heterogeneity=False, n_boot=300, rng=0)


def test_comparison_numbers_are_those_of_the_single_judge_tools(sim, cmp):
    f = cmp.to_frame().set_index("judge")
    assert list(f.index) == ["strong", "cheap", "twin", "all judges"]
    for j in ("strong", "cheap", "twin"):
        t = mrs.bias_ttest(sim.train.for_judge(j))
        assert f.loc[j, "mean_bias"] == pytest.approx(t.estimate)
        assert (f.loc[j, "mean_bias_low"], f.loc[j, "mean_bias_high"]) == pytest.approx(t.confidence_interval())
        assert f.loc[j, "n_paired"] == 80 and f.loc[j, "n_labels"] == 500
        assert f.loc[j, "worth"] == pytest.approx(float(gold_worth(f.loc[j, "corr_corrected"], 80, 1000)))
        assert f.loc[j, "worth_low"] <= f.loc[j, "worth"] <= f.loc[j, "worth_high"]
        assert f.loc[j, "worth_per_cost"] == pytest.approx(f.loc[j, "worth"] / (1000 * f.loc[j, "cost"]))
        assert f.loc[j, "value_vs_gold"] == pytest.approx(10 * f.loc[j, "worth_per_cost"])
    assert f.loc["all judges", "cost"] == pytest.approx(1.4)
    assert f.loc["all judges", "worth"] >= f.loc[["strong", "cheap", "twin"], "worth"].max() - 5
    assert cmp.best() in ("strong", "cheap", "twin")
    text = cmp.summary()
    assert "1000 labels are worth" in text and "conditional on the fitted corrections" in text


def test_the_correction_raises_the_correlation_where_the_bias_varies(cmp):
    """strong and twin have the heterogeneous paper bias: correcting it raises their correlation with gold."""
    f = cmp.to_frame().set_index("judge")
    for j in ("strong", "twin"):
        assert f.loc[j, "corr_corrected"] > f.loc[j, "corr_raw"]


def test_same_seed_same_comparison(sim, cmp):
    again = mrs.compare_judges(sim.train, costs={"strong": 1.0, "cheap": 0.1, "twin": 0.3}, gold_cost=10, cv=None,
                               heterogeneity=False, n_boot=300, rng=0)
    np.testing.assert_array_equal(again.to_frame()["worth_low"], cmp.to_frame()["worth_low"])


def test_cross_fitted_corrections_are_fitted_without_the_gold_label_they_meet(sim, cmp):
    """cv=3 by hand: for each fold of gold queries, each judge's MetaRouter refitted without the fold's gold
    rows corrects the fold's judge rows; the correlation over gold queries is the comparison's. The
    in-sample correlation (cv=None, the router's own corrections) is the larger, as it should be: those
    corrections were fitted on the gold labels they are compared with."""
    from sklearn.model_selection import KFold

    data = sim.train
    crossed = mrs.compare_judges(data, cv=3, heterogeneity=False, n_boot=50, rng=0)
    assert crossed.corrections.startswith("cross-fitted (3 folds")
    seed = int(np.random.default_rng(0).integers(2**31 - 1))  # what compare_judges draws first from rng=0
    ids = data.query_ids.astype(str)
    gold = data.source == 1
    gold_q = np.unique(ids[gold])
    g = dict(zip(ids[gold], data.outcome[gold], strict=True))
    for j in ("strong", "cheap"):
        pairs = []
        for _, test in KFold(3, shuffle=True, random_state=seed).split(gold_q):
            held = set(gold_q[test])
            train = data.subset(~(gold & np.isin(ids, list(held))))
            r = mrs.MetaRouter(random_state=seed).fit(train.for_judge(j))
            rows = np.flatnonzero((data.mechanism == j) & np.isin(ids, list(held)))
            cor = data.outcome[rows] + r.predict_bias(data.X[rows], units="preference")
            pairs += [(g[ids[i]], c) for i, c in zip(rows, cor, strict=True)]
        y, f = np.array(pairs).T
        row = crossed.to_frame().set_index("judge").loc[j]
        assert row["corr_corrected"] == pytest.approx(np.corrcoef(y, f)[0, 1], rel=1e-10)
    insample = cmp.to_frame().set_index("judge")["corr_corrected"]
    assert (crossed.to_frame().set_index("judge")["corr_corrected"].loc[["strong", "twin"]] < insample.loc[["strong", "twin"]]).all()


def test_unpaired_judges_have_no_worth_but_a_bias():
    sim = mrs.simulate_judges(n_gold=40, n_queries=200, n_test=5, d=8, design="unpaired", rng=0)
    f = mrs.compare_judges(sim.train, heterogeneity=False, n_boot=50, rng=0).to_frame()
    assert f["worth"].isna().all() and f["mean_bias"].iloc[:3].notna().all()
    cmp = mrs.compare_judges(sim.train, heterogeneity=False, n_boot=50, rng=0)
    assert "not estimable" in cmp.summary()
    with pytest.raises(ValueError, match="No judge's worth is estimable"):
        cmp.best()
    from metarouter_stats.report import judges_report

    assert "worth in gold labels is estimable" in judges_report(cmp).to_html()


def test_errors_name_the_argument(sim):
    with pytest.raises(TypeError, match="`data` must be a RoutingData"):
        mrs.compare_judges(sim.train.X)
    with pytest.raises(ValueError, match="`costs` must give a price for every judge"):
        mrs.compare_judges(sim.train, costs={"strong": 1.0}, heterogeneity=False)
    with pytest.raises(ValueError, match="`costs` must be positive prices"):
        mrs.compare_judges(sim.train, costs={"strong": 1.0, "cheap": 0, "twin": 1}, heterogeneity=False)
    with pytest.raises(ValueError, match="`gold_cost` must be a positive price"):
        mrs.compare_judges(sim.train, gold_cost=0, heterogeneity=False)
    with pytest.raises(TypeError, match="fitted MultiJudgeRouter"):
        mrs.compare_judges(sim.train, router=mrs.MultiJudgeRouter(), heterogeneity=False)


def test_judge_report_renders_every_section(cmp, tmp_path):
    from metarouter_stats.report import judges_report

    rep = judges_report(cmp, description="simulated panel")
    html = rep.to_html()
    for heading in ("Summary", "Bias of each judge", "Worth in gold labels", "Reproduction"):
        assert f"<h2>{heading}</h2>" in html
    assert "Best single judge per unit of cost" in html and len(rep.figures) == 1
    assert rep.save(tmp_path / "j.html").stat().st_size > 10_000
