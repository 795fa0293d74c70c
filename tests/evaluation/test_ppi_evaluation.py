"""Prediction-powered router evaluation (inference/router_value.py)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metarouter_stats as mrs
from metarouter_stats.evaluation import evaluate_routers, pseudo_gold


def _population(n, rng, shift=0.5, noise=0.5):
    """Scores of two routers, gold gains, and a biased but informative pseudo-gold."""
    psi = rng.normal(size=n) + 0.2
    g = psi + rng.normal(size=n)
    f = psi + noise * rng.normal(size=n) + shift
    good = psi + 0.7 * rng.normal(size=n)
    weak = psi + 2.5 * rng.normal(size=n)
    return psi, g, f, good, weak


@given(
    n=st.integers(min_value=5, max_value=60),
    seed=st.integers(min_value=0, max_value=10_000),
    ties=st.booleans(),
)
def test_full_gold_without_pseudo_gold_is_efficiency_gain(n, seed, ties):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=n)
    s = rng.normal(size=n)
    if ties:
        s = np.round(s)
    rates = [0.0, 0.1, 0.33, 0.5, 0.7, 1.0]
    ev = evaluate_routers({"r": s}, g, rates=rates, n_boot=5, rng=seed)
    np.testing.assert_allclose(ev.estimate[0], mrs.efficiency_gain(g, s, rates=rates).per_query, atol=1e-12)
    # with gold everywhere a pseudo-gold cannot change the estimate (pi = 1: nothing to rectify)
    ev2 = evaluate_routers({"r": s}, g, pseudo_gold=g + 1.0, rates=rates, n_boot=5, rng=seed)
    np.testing.assert_allclose(ev2.estimate, ev.estimate, atol=1e-12)


def test_permutation_invariance_and_same_seed_same_numbers():
    rng = np.random.default_rng(0)
    _, g, f, good, weak = _population(800, rng)
    gold = np.where(rng.random(800) < 0.1, g, np.nan)
    ev = evaluate_routers({"good": good, "weak": weak}, gold, pseudo_gold=f, n_boot=100, rng=3)
    perm = rng.permutation(800)
    evp = evaluate_routers({"good": good[perm], "weak": weak[perm]}, gold[perm], pseudo_gold=f[perm], n_boot=100, rng=3)
    np.testing.assert_allclose(evp.estimate, ev.estimate, atol=1e-12)
    np.testing.assert_allclose(evp.power, ev.power, atol=1e-10)
    again = evaluate_routers({"good": good, "weak": weak}, gold, pseudo_gold=f, n_boot=100, rng=3)
    np.testing.assert_array_equal(again.std_error, ev.std_error)
    np.testing.assert_array_equal(again.band("good", "uniform").low, ev.band("good", "uniform").low)


def test_gold_only_is_lambda_zero_and_differences_are_linear():
    rng = np.random.default_rng(1)
    _, g, f, good, weak = _population(600, rng)
    gold = np.where(rng.random(600) < 0.2, g, np.nan)
    plain = evaluate_routers({"good": good, "weak": weak}, gold, n_boot=50, rng=0)
    ppi = evaluate_routers({"good": good, "weak": weak}, gold, pseudo_gold=f, n_boot=50, rng=0)
    assert np.all(plain.power == 0)
    np.testing.assert_allclose(plain.estimate, plain.gold_only_estimate)
    np.testing.assert_allclose(ppi.gold_only_estimate, plain.estimate, atol=1e-12)
    np.testing.assert_allclose(ppi.gold_only_std_error, plain.std_error, atol=1e-12)
    full = evaluate_routers({"good": good, "weak": weak}, g, n_boot=50, rng=0)  # pi = 1: no tuning, linear
    comp = full.compare("good", "weak")
    np.testing.assert_allclose(comp.estimate, full.estimate[0] - full.estimate[1], atol=1e-12)
    # the small-sample rule: df from the gold rows with a non-zero contrast, minus the tuned coefficients
    n_gold = ppi.n_gold
    mid = ppi.rates == 0.5
    np.testing.assert_allclose(ppi.df[:, mid], n_gold - 1 - 2)
    np.testing.assert_allclose(plain.df[:, mid], n_gold - 1 - 1)
    diff = ppi.compare("good", "weak")
    assert np.all(np.isinf(full.df))  # gold everywhere: nothing estimated from a subset
    assert diff.area.df < ppi.df.max()
    same = plain.compare("good", "good")
    assert np.all(same.estimate == 0) and np.all(same.std_error == 0)


def test_power_tuning_gains_with_a_good_prediction_and_costs_little_with_a_useless_one():
    rng = np.random.default_rng(2)
    psi, g, f, good, _ = _population(4000, rng, noise=0.3)
    gold = np.where(rng.random(4000) < 0.03, g, np.nan)
    ev = evaluate_routers({"good": good}, gold, pseudo_gold=f, n_boot=400, rng=0)
    mid = (ev.rates > 0.15) & (ev.rates < 0.85)
    # the gold labels' own noise (variance 1 here) bounds the gain: SE ratio about sqrt(1.09 / 2) at best
    ratio = ev.std_error[0, mid] / ev.gold_only_std_error[0, mid]
    assert np.mean(ratio) < 0.85 and np.all(ratio < 0.95), ratio
    assert np.all(ev.effective_gold[0, mid] > 1.1 * ev.n_gold)
    # two predictions with independent errors: one lambda each, better than either alone
    f2 = psi + 0.3 * rng.normal(size=4000)
    both = evaluate_routers({"good": good}, gold, pseudo_gold=np.column_stack([f, f2]), n_boot=400, rng=0)
    second = evaluate_routers({"good": good}, gold, pseudo_gold=f2, n_boot=400, rng=0)
    assert both.power.shape == (1, ev.rates.size, 2)
    assert np.mean(both.std_error[0, mid]) < min(np.mean(ev.std_error[0, mid]), np.mean(second.std_error[0, mid]))
    useless = evaluate_routers({"good": good}, gold, pseudo_gold=rng.normal(size=4000), n_boot=400, rng=0)
    # lambda estimated near 0: at most a few per cent wider than gold-only (finite-sample noise of lambda)
    assert np.all(useless.std_error[0, mid] < 1.1 * useless.gold_only_std_error[0, mid])


def _truth(rates, rng, n=400_000):
    psi, _, _, good, weak = _population(n, rng)
    out = {}
    for name, s in (("good", good), ("weak", weak)):
        out[name] = mrs.efficiency_gain(psi, s, rates=rates).per_query  # E[g | x] = psi: population value
    return out


@pytest.mark.slow
def test_coverage_of_the_fixed_routers_value_small_seeded_check():
    """40 replications (wide tolerance): pointwise 95 % intervals of EG(0.3), EG(0.5), the area and the
    difference cover the population value; the benchmark (router_value/run.py) runs 200+."""
    rates = np.round(np.linspace(0, 1, 11), 10)
    # the routers are fixed functions of (psi, noise): draw them with the same law on a big population
    truth = _truth(rates, np.random.default_rng(123))
    k = [3, 5]
    hits = {"good": 0, "weak": 0, "diff": 0, "area": 0}
    reps = 40
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        _, g, f, good, weak = _population(2000, rng)
        gold = np.where(rng.random(2000) < 0.05, g, np.nan)
        ev = evaluate_routers({"good": good, "weak": weak}, gold, pseudo_gold=f, rates=rates, n_boot=300, rng=rep)
        lo, hi = ev.confidence_interval()
        for name, i in (("good", 0), ("weak", 1)):
            hits[name] += np.mean((lo[i, k] <= truth[name][k]) & (truth[name][k] <= hi[i, k]))
        comp = ev.compare("good", "weak")
        d = truth["good"] - truth["weak"]
        hits["diff"] += np.mean((comp.pointwise.low[k] <= d[k]) & (d[k] <= comp.pointwise.high[k]))
        area = ev.area("good")
        w = np.zeros(rates.size)
        inside = np.flatnonzero((rates >= 0.2 - 1e-12) & (rates <= 0.8 + 1e-12))
        true_area = np.trapezoid(truth["good"][inside], rates[inside])
        hits["area"] += area.low <= true_area <= area.high
        del w
    cover = {key: v / reps for key, v in hits.items()}
    assert all(v >= 0.85 for v in cover.values()), cover


def test_known_probabilities_remove_the_selection_bias():
    """Gold labels requested more often where g is large: the design probabilities make the estimate
    unbiased; treating the subset as random does not (averaged over 30 seeded replications)."""
    rates = np.array([0.0, 0.3, 0.5, 1.0])
    truth = _truth(rates, np.random.default_rng(7))["good"][2]
    errs_known, errs_naive = [], []
    for rep in range(30):
        rng = np.random.default_rng(rep)
        psi, g, f, good, weak = _population(3000, rng)
        pi = np.clip(0.02 + 0.15 / (1 + np.exp(-2 * psi)), 0.02, 0.2)
        gold = np.where(rng.random(3000) < pi, g, np.nan)
        known = evaluate_routers({"good": good}, gold, pseudo_gold=f, gold_probability=pi, rates=rates, n_boot=20, rng=0)
        naive = evaluate_routers({"good": good}, gold, rates=rates, n_boot=20, rng=0)
        errs_known.append(known.estimate[0, 2] - truth)
        errs_naive.append(naive.estimate[0, 2] - truth)
    mean_known, se_known = np.mean(errs_known), np.std(errs_known, ddof=1) / np.sqrt(30)
    assert abs(mean_known) < 3 * se_known + 0.005
    assert abs(np.mean(errs_naive)) > 3 * np.std(errs_naive, ddof=1) / np.sqrt(30)


def test_scalar_summaries():
    rng = np.random.default_rng(4)
    psi, g, f, good, weak = _population(3000, rng)
    g = g + 1.0  # primary clearly better on average: PGR is well defined
    f = f + 1.0
    gold = np.where(rng.random(3000) < 0.1, g, np.nan)
    ev = evaluate_routers({"good": good, "weak": weak}, gold, pseudo_gold=f, n_boot=300, rng=0)
    ap_good, ap_weak = ev.apgr("good"), ev.apgr("weak")
    assert 0.5 < ap_weak.estimate < ap_good.estimate < 1.0
    cpt = ev.cpt("good", 0.8)
    assert 0 < cpt.low <= cpt.estimate <= cpt.high < 1
    assert ev.mean_gain().low > 0.5
    area = ev.area("good")
    assert area.low < area.estimate < area.high and "target" in area.summary()
    table = ev.compare_all("weak")
    assert list(table["router"]) == ["good"] and table.loc[0, "p_value_area"] < 0.05


def test_pseudo_gold_corrects_preference_labels_and_falls_back_to_the_prediction():
    s = mrs.simulate(n_gold=60, n_preference=600, n_test=40, rng=0)
    router = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    y = s.eta(s.X_test) + 0.1
    y[::4] = np.nan
    out = pseudo_gold(router, s.X_test, y)
    has = ~np.isnan(y)
    expected = (y[has] + router.predict_bias(s.X_test[has], units="preference")) / router.scale_
    np.testing.assert_allclose(out[has], expected)
    np.testing.assert_allclose(out[~has], router.predict_gain(s.X_test[~has]))
    with pytest.raises(ValueError, match="preference"):
        pseudo_gold(router, s.X_test, y[:-1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gold": np.full(50, np.nan)}, "at least 2 gold"),
        ({"gold": np.r_[1.0, 2.0, np.full(48, np.nan)], "pseudo_gold": np.r_[np.nan, np.zeros(49)]}, "pseudo_gold"),
        ({"pseudo_gold": np.zeros(49)}, "pseudo_gold"),
        ({"gold_probability": 0.0}, "gold_probability"),
        ({"gold_probability": np.ones(10)}, "gold_probability"),
        ({"scores": {"a": np.zeros(49)}}, "scores"),
        ({"scores": {}}, "scores"),
        ({"n_boot": 1}, "n_boot"),
        ({"rates": [0.5, 0.2]}, "increasing"),
        ({"confidence_level": 1.0}, "confidence_level"),
    ],
)
def test_input_errors_name_the_argument(kwargs, match):
    rng = np.random.default_rng(0)
    base = {"scores": {"a": rng.normal(size=50)}, "gold": np.where(np.arange(50) < 10, rng.normal(size=50), np.nan),
            "n_boot": 5}
    base.update(kwargs)
    scores, gold = base.pop("scores"), base.pop("gold")
    with pytest.raises((ValueError, TypeError), match=match):
        evaluate_routers(scores, gold, **base)


def test_result_errors_name_the_fix():
    rng = np.random.default_rng(0)
    ev = evaluate_routers({"a": rng.normal(size=50)}, np.where(np.arange(50) < 10, rng.normal(size=50), np.nan),
                          rates=[0.0, 0.5, 1.0], n_boot=5, rng=0)
    with pytest.raises(ValueError, match="Unknown router"):
        ev.area("b")
    with pytest.raises(ValueError, match="rate grid"):
        ev.area("a", 0.2, 0.8)
    with pytest.raises(ValueError, match="kind"):
        ev.band("a", "simultaneous")


def test_cost_quality_interval_covers_the_population_aiq():
    """16 seeded replications (wide tolerance): the percentile interval of AIQ covers the value of the
    fixed router computed on 200,000 queries; quality at a budget rises with the budget."""
    def draw(n, rng):
        g = np.column_stack([np.zeros(n), rng.normal(0.3, 1.0, n)])
        c = np.column_stack([np.ones(n), 1 + np.exp(rng.normal(0, 0.3, n))])
        return g, c, {"meta": g + rng.normal(size=g.shape)}

    g, c, s = draw(200_000, np.random.default_rng(0))
    truth = mrs.cost_quality_frontier(g, c, s).areas["meta"]
    hits = 0
    for rep in range(16):
        g, c, s = draw(300, np.random.default_rng(100 + rep))
        tab = mrs.cost_quality_interval(g, c, s, budget=1.5, n_boot=80, rng=rep).to_frame().set_index("router")
        hits += tab.loc["meta", "aiq_low"] <= truth <= tab.loc["meta", "aiq_high"]
        assert tab.loc["oracle", "aiq"] >= tab.loc["meta", "aiq"] >= tab.loc["random", "aiq"] - 0.05
    assert hits >= 13, hits  # nominal 0.95 of 16; 13 allows for Monte Carlo error
    low = mrs.cost_quality_interval(g, c, s, budget=1.2, n_boot=20, rng=0).to_frame().set_index("router")
    assert low.loc["meta", "quality_at_budget"] <= tab.loc["meta", "quality_at_budget"]
    with pytest.raises(ValueError, match="n_boot"):
        mrs.cost_quality_interval(g, c, s, n_boot=1)


def test_cost_quality_interval_replicates_are_the_frontier_of_each_resample():
    """The vectorised replicate (frontier_traces, no frames) against cost_quality_frontier itself on the
    same bootstrap draws: AIQs and qualities at the budget equal to the last bit; the point estimates too."""
    from metarouter_stats._resampling import bootstrap
    from metarouter_stats.evaluation.cost_quality import _value_at_budget

    rng = np.random.default_rng(4)
    n = 150
    g = np.column_stack([np.zeros(n), rng.normal(0.3, 1, n), rng.normal(0.5, 1, n)])
    c = np.column_stack([np.ones(n), 2 + rng.random(n), 4 * np.ones(n)])
    s = {"a": g + rng.normal(size=g.shape), 7: g + 2 * rng.normal(size=g.shape)}
    res = mrs.cost_quality_interval(g, c, s, budget=2.5, n_boot=25, rng=3)
    names = ["a", "7", "oracle", "random"]

    def one(idx):
        fr = mrs.cost_quality_frontier(g[idx], c[idx], {k: v[idx] for k, v in s.items()})
        return np.r_[fr.areas.reindex(names).to_numpy(), _value_at_budget(fr.frame, 2.5).reindex(names).to_numpy()]

    loop = bootstrap(one, n, 25, np.random.default_rng(3))
    draws = np.column_stack([e.draws for e in res.aiq + res.quality_at_budget])
    np.testing.assert_array_equal(draws, loop)
    full = mrs.cost_quality_frontier(g, c, s)
    np.testing.assert_array_equal([e.estimate for e in res.aiq], full.areas.reindex(names).to_numpy())


def test_cross_fit_scores_for_one_data_set():
    s = mrs.simulate(n_gold=80, n_preference=400, n_test=1, d=6, rng=0)
    routers = {"meta": mrs.MetaRouter(random_state=0), "pooled": mrs.PooledRouter(random_state=0)}
    out = mrs.cross_fit_scores(routers, s.train, folds=3, rng=0)
    assert set(out["scores"]) == {"meta", "pooled"} and out["scores"]["meta"].shape == (480,)
    np.testing.assert_array_equal(out["pseudo_gold"], out["scores"]["meta"])
    assert np.isnan(out["gold"]).sum() == 400 and set(out["fold"]) == {0, 1, 2}
    ev = mrs.evaluate_routers(out["scores"], out["gold"], pseudo_gold=out["pseudo_gold"], n_boot=50, rng=0)
    assert ev.n_gold == 80 and np.all(np.isfinite(ev.estimate))
    again = mrs.cross_fit_scores(routers, s.train, folds=3, rng=0)
    np.testing.assert_array_equal(again["scores"]["pooled"], out["scores"]["pooled"])
    with pytest.raises(TypeError, match="RoutingData"):
        mrs.cross_fit_scores(routers, s.train.X)


def test_bootstrap_components_match_a_direct_weighted_computation():
    """One multiplier draw computed by brute force: weighted top-rho inclusion query by query."""
    from metarouter_stats.evaluation import ppi as rv

    rng = np.random.default_rng(5)
    n = 300
    s = rng.normal(size=n)
    gold = rng.random(n) < 0.2
    ip = np.where(gold, 1 / rng.uniform(0.1, 0.3, n), 0.0)
    g = rng.normal(size=n)
    F = rng.normal(size=(n, 1))
    W = rng.standard_exponential((1, n))
    rho = np.array([0.1, 0.37, 0.5, 0.9])
    order, starts = rv._blocks(s)
    comp = rv._components(order, starts, W, F, np.where(gold, ip * g, 0), ip[:, None] * F, ip, rho)
    w = W[0]
    for k, r in enumerate(rho):
        a = np.zeros(n)
        cum = 0.0
        for i in order:  # highest score first: include while the weighted share is below rho
            take = min(max(r * w.sum() - cum, 0.0) / w[i], 1.0)
            a[i] = take
            cum += w[i]
        z = a - r
        assert comp[0, 0, k] == pytest.approx(np.sum(w * ip * z * g) / np.sum(w * ip), abs=1e-12)
        assert comp[1, 0, k] == pytest.approx(np.sum(w * ip * z) / np.sum(w * ip), abs=1e-12)
        assert comp[2, 0, k] == pytest.approx(np.sum(w * z * F[:, 0]) / np.sum(w), abs=1e-12)
        assert comp[3, 0, k] == pytest.approx(np.sum(w * ip * z * F[:, 0]) / np.sum(w * ip), abs=1e-12)


def test_pseudo_gold_keeps_feature_names_of_a_frame():
    import warnings

    s = mrs.simulate(n_gold=60, n_preference=300, n_test=20, d=6, rng=0)
    named = mrs.RoutingData(s.train.X, s.train.outcome, s.train.source, feature_names=tuple(f"e{j}" for j in range(6)))
    router = mrs.MetaRouter(random_state=0).fit(named)
    X = named.with_feature_names(s.X_test)
    y = np.where(np.arange(20) < 10, s.eta(s.X_test), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        f = mrs.pseudo_gold(router, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same numbers from a bare array (with sklearn's warning)
        np.testing.assert_allclose(f, mrs.pseudo_gold(router, s.X_test, y))
    with pytest.raises(ValueError, match="must have 6 columns like the data"):
        named.with_feature_names(np.zeros((2, 3)))


def _multi(n=400, seed=0):
    rng = np.random.default_rng(seed)
    g = np.column_stack([np.zeros(n), rng.normal(0.5, 1, n), rng.normal(0.2, 1, n)])
    c = np.tile([1.0, 3.0, 2.0], (n, 1)) * (1 + 0.1 * rng.random((n, 1)))
    f = g + np.column_stack([np.zeros(n), rng.normal(scale=0.3, size=(n, 2))])
    return g, c, f, {"r": f + rng.normal(size=g.shape)}


def test_cost_quality_with_every_gold_label_is_the_frontier():
    g, c, _, scores = _multi()
    tab = mrs.evaluate_cost_quality(g, c, scores, budget=2.0, n_boot=200, rng=0).to_frame()
    full = mrs.cost_quality_frontier(g, c, scores)
    assert tab.loc[0, "aiq"] == pytest.approx(full.areas["r"], abs=1e-12)
    d = full.frame[full.frame.router == "r"]
    assert tab.loc[0, "quality_at_budget"] == pytest.approx(d.mean_quality[d.mean_cost <= 2.0].max(), abs=1e-12)
    assert tab.loc[0, "aiq_low"] < tab.loc[0, "aiq"] < tab.loc[0, "aiq_high"] and tab.loc[0, "lambda_mean"] == 0
    again = mrs.evaluate_cost_quality(g, c, scores, budget=2.0, n_boot=200, rng=0).to_frame()
    pd.testing.assert_frame_equal(tab, again)  # same seed, same intervals


def test_cost_quality_pseudo_gold_narrows_the_interval_and_errors_name_the_argument():
    g, c, f, scores = _multi(n=1000)
    g_obs = np.where((np.arange(1000) % 10 == 0)[:, None], g, np.nan)  # gold on 100 of 1,000 queries
    ppi = mrs.evaluate_cost_quality(g_obs, c, scores, pseudo_gold=f, n_boot=300, rng=0).to_frame()
    gold_only = mrs.evaluate_cost_quality(g_obs, c, scores, n_boot=300, rng=0).to_frame()
    assert ppi.loc[0, "gold_rows"] == 100 and 0.5 < ppi.loc[0, "lambda_mean"] <= 1
    assert ppi.loc[0, "aiq_se"] < 0.8 * gold_only.loc[0, "aiq_se"]
    bad = g_obs.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="row 0 is partly NaN"):
        mrs.evaluate_cost_quality(bad, c, scores)
    with pytest.raises(ValueError, match=r"`pseudo_gold` must have shape \(1000, 3\)"):
        mrs.evaluate_cost_quality(g_obs, c, scores, pseudo_gold=f[:, :2])
    with pytest.raises(ValueError, match="`propensity` must hold one probability"):
        mrs.evaluate_cost_quality(g_obs, c, scores, propensity=np.zeros(1000))
    with pytest.raises(ValueError, match="at least 2 gold-labelled"):
        mrs.evaluate_cost_quality(np.full_like(g, np.nan), c, scores)
    with pytest.raises(TypeError, match="non-empty dict"):
        mrs.evaluate_cost_quality(g, c, {})


def test_small_sample_dof_is_the_regression_rule_for_equal_weights_and_smaller_for_skewed_ones():
    """Satterthwaite df: n_e - 1 - k when every informative row weighs the same; fewer when a few rows dominate."""
    from metarouter_stats._resampling import small_sample_rule as _dof

    n, k = 40, 2
    z = np.r_[np.ones(n // 2), -np.ones(n // 2), np.zeros(10)]  # a paired difference: rows routed alike carry 0
    ip = np.full(z.size, 4.0)  # random gold, pi = 1/4
    infl, df = _dof(z, ip, k)
    assert df == pytest.approx(n - 1 - k)
    assert infl == pytest.approx(np.sqrt(n / (n - 1 - k)))
    # skewed 1/pi (a few rows with large weights) shrink n_e, and df by more
    ip_skew = np.r_[np.full(4, 40.0), np.full(n - 4, 2.0), np.full(10, 2.0)]
    infl_s, df_s = _dof(z, ip_skew, k)
    w = ip_skew[: n]
    n_e = w.sum() ** 2 / np.sum(w**2)
    a2 = w**2
    n_s = a2.sum() ** 2 / np.sum(a2**2)
    assert df_s == pytest.approx(n_s * (n_e - 1 - k) / n_e)
    assert df_s < n_e - 1 - k
    # gold on every query: nothing tuned, normal quantiles
    assert _dof(z, np.ones(z.size), k) == (1.0, np.inf)


def test_small_sample_guard_never_gives_a_longer_interval_than_gold_only():
    """Few effective gold rows and a useless pseudo-gold: where the tuned coefficients' degrees of freedom
    cost more than they gain, the gold-only estimate is used, so no interval is longer than gold-only's."""
    from metarouter_stats._resampling import t_quantile as _tq

    rng = np.random.default_rng(5)
    n = 3000
    psi, g, _, good, weak = _population(n, rng)
    tilt = np.exp(2.0 * psi)
    pi = np.minimum(1.0, 40 * tilt / tilt.sum())  # about 40 gold rows, probabilities unequal by orders of magnitude
    gold = np.where(rng.random(n) < pi, g, np.nan)
    noise = rng.normal(size=(n, 3))  # three useless columns: three tuned coefficients on a handful of rows
    ev = evaluate_routers({"good": good, "weak": weak}, gold, pseudo_gold=noise, gold_probability=pi, n_boot=300, rng=1)
    level = ev.confidence_level
    half = _tq(level, ev.df) * ev.std_error
    half0 = _tq(level, ev.gold_only_df) * ev.gold_only_std_error
    assert np.all(half <= half0 * (1 + 1e-9))
    fell = np.all(ev.power == 0.0, axis=2)
    assert fell.any()  # the guard acted somewhere ...
    np.testing.assert_allclose(ev.estimate[fell], ev.gold_only_estimate[fell], rtol=0, atol=1e-12)  # ... exactly
    np.testing.assert_array_equal(ev.df[fell], ev.gold_only_df[fell])
    comp = ev.compare("good", "weak")
    area = comp.area
    half_area0 = _tq(level, ev._contrast_dof(np.vstack([ev._trapezoid(0.2, 0.8), -ev._trapezoid(0.2, 0.8)]))[3]) \
        * area.gold_only_std_error
    assert (area.high - area.low) / 2 <= half_area0 * (1 + 1e-9)
    # plenty of random gold and a good pseudo-gold: the guard leaves the tuned estimates alone
    gold2 = np.where(rng.random(n) < 0.1, g, np.nan)
    ev2 = evaluate_routers({"good": good}, gold2, pseudo_gold=psi + 0.3 * rng.normal(size=n), n_boot=300, rng=1)
    mid = (ev2.rates > 0.15) & (ev2.rates < 0.85)
    assert np.all(np.any(ev2.power[0, mid] != 0.0, axis=-1))


class _SpyMeta(mrs.MetaRouter):
    """Records the query ids each fit saw and the embeddings each prediction was asked for."""

    fits: list = []

    def fit(self, X, y=None, source=None, **kw):
        _SpyMeta.fits.append(set(np.asarray(X.query_ids).tolist()))
        return super().fit(X, y, source, **kw)


def test_cross_fit_scores_on_paired_data_scores_queries_never_seen_with_their_judge_labels():
    s = mrs.simulate(n_gold=60, n_preference=300, n_test=2, d=6, design="paired", rng=0)
    _SpyMeta.fits.clear()
    out = mrs.cross_fit_scores({"meta": _SpyMeta(random_state=0), "gold-only": mrs.GoldOnlyRouter(random_state=0)},
                               s.train, folds=3, rng=0)
    assert out["unit"] == "query" and out["scores"]["meta"].shape == (300,)
    assert np.sum(~np.isnan(out["gold"])) == 60
    ids = out["query_id"]
    for k, seen in enumerate(_SpyMeta.fits):
        scored = set(ids[out["fold"] == k].tolist())
        assert not scored & seen, "a router scored a query whose rows it was fitted on"
    # the pseudo-gold is the query's own judge label corrected: it tracks the judge label across queries
    judge = s.train.outcome[~s.train.is_gold]
    assert np.corrcoef(out["pseudo_gold"], judge)[0, 1] > 0.5
    ev = mrs.evaluate_routers(out["scores"], out["gold"], pseudo_gold=out["pseudo_gold"], n_boot=100, rng=0)
    assert ev.n_gold == 60 and np.all(np.isfinite(ev.estimate))


def test_pseudo_gold_built_from_the_gold_labels_is_refused():
    rng = np.random.default_rng(0)
    psi = rng.normal(size=400)
    gold = np.where(rng.random(400) < 0.2, psi + rng.normal(size=400), np.nan)
    filled = np.where(np.isnan(gold), psi, gold)  # gold copied in where present: not a prediction
    with pytest.raises(ValueError, match="equals the gold label on every one of the"):
        mrs.evaluate_routers({"a": psi, "b": -psi}, gold, pseudo_gold=filled, n_boot=20, rng=0)
    with pytest.raises(ValueError, match="read alike as router names"):
        mrs.evaluate_routers({1: psi, "1": -psi}, gold, n_boot=20, rng=0)
    g2 = np.column_stack([np.zeros(400), psi])
    c2 = np.column_stack([np.ones(400), 3 * np.ones(400)])
    with pytest.raises(ValueError, match="read alike as router names"):
        mrs.evaluate_cost_quality(g2, c2, {1: g2, "1": g2})
    with pytest.raises(ValueError, match="read alike as router names"):
        mrs.cost_quality_interval(g2, c2, {1: g2, "1": g2}, n_boot=5, rng=0)


def test_cross_fit_scores_says_which_fold_and_router_could_not_be_fitted():
    s = mrs.simulate(n_gold=5, n_preference=100, n_test=1, d=6, rng=0)
    with pytest.raises(ValueError, match=r"router 'm' could not be fitted without fold \d of 5 .* lower `folds`"):
        mrs.cross_fit_scores({"m": mrs.MetaRouter(random_state=0)}, s.train, folds=5, rng=0)


def test_cross_fit_scores_gives_one_pseudo_gold_column_per_judge():
    """Paired multi-judge data with a MultiJudgeRouter first: one pseudo-gold column per judge, each query's
    label from that judge corrected by the judge's bias fitted without the query's fold (checked by refitting
    fold 0 by hand); the evaluation uses them together, and with a MetaRouter first the single column is kept."""
    sim = mrs.simulate_judges(n_gold=60, n_queries=300, n_test=1, d=6, rng=1)
    data = sim.train
    out = mrs.cross_fit_scores({"multi": mrs.MultiJudgeRouter(random_state=0)}, data, folds=3, rng=0)
    F = out["pseudo_gold"]
    assert out["unit"] == "query" and F.shape == (300, 3) and out["pseudo_gold_judges"] == ("strong", "cheap", "twin")
    assert np.all(np.isfinite(F))
    ids = np.asarray(data.query_ids)
    held = set(out["query_id"][out["fold"] == 0])
    r = mrs.MultiJudgeRouter(random_state=0).fit(data.subset(~np.isin(ids, list(held))))
    units = np.flatnonzero(out["fold"] == 0)
    rows = (data.mechanism == "cheap")
    label = dict(zip(ids[rows], data.outcome[rows], strict=True))
    y = np.array([label[q] for q in out["query_id"][units]])
    X0 = data.X[[int(np.flatnonzero(ids == q)[0]) for q in out["query_id"][units]]]
    np.testing.assert_allclose(F[units, 1], mrs.pseudo_gold(r.judge_routers_["cheap"], X0, y), rtol=1e-10)
    ev = mrs.evaluate_routers(out["scores"], out["gold"], pseudo_gold=F, n_boot=100, rng=0)
    assert ev.area("multi").std_error < ev.area("multi").gold_only_std_error
    single = mrs.cross_fit_scores({"meta": mrs.MetaRouter(random_state=0)}, data, folds=3, rng=0)
    assert single["pseudo_gold"].shape == (300,) and single["pseudo_gold_judges"] is None
