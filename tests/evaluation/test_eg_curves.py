import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metarouter_stats as mrs
from metarouter_stats._ranking import topk_gain

vals = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def gold_and_scores(draw):
    n = draw(st.integers(2, 40))
    gold = np.array(draw(st.lists(vals, min_size=n, max_size=n)))
    # few distinct values to exercise ties
    scores = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), dtype=float)
    return gold, scores


def brute_force(gold, scores, k, rng, draws=2000):
    """Monte Carlo over random tie-breaking (independent of the implementation)."""
    tot = 0.0
    for _ in range(draws):
        order = np.lexsort((rng.random(gold.size), -scores))
        tot += gold[order[:k]].sum()
    return tot / draws


def test_hand_example():
    eg = mrs.efficiency_gain([3.0, -1.0, 0.0, 2.0], [0.9, 0.1, 0.2, 0.5], rates=[0.25, 0.5, 0.75])
    mean = 1.0
    assert eg.gain.tolist() == pytest.approx([3 - mean, 5 - 2 * mean, 5 - 3 * mean])
    assert eg.oracle_gain.tolist() == pytest.approx([2.0, 3.0, 2.0])
    assert eg.relative.tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert eg.reference.tolist() == pytest.approx(eg.gain / 4.0)
    assert eg.auc == pytest.approx(np.trapezoid(eg.gain, [0.25, 0.5, 0.75]))


def test_ties_resolved_in_expectation():
    rng = np.random.default_rng(0)
    gold = np.array([5.0, 1.0, -2.0, 0.5, 3.0])
    scores = np.array([1.0, 1.0, 1.0, 0.0, 2.0])
    got = topk_gain(gold, scores, np.array([2]))[0]
    assert got == pytest.approx(3.0 + (5 + 1 - 2) / 3)
    assert got == pytest.approx(brute_force(gold, scores, 2, rng), abs=0.15)


@given(gold_and_scores())
def test_zero_at_rates_zero_and_one(gs):
    gold, scores = gs
    eg = mrs.efficiency_gain(gold, scores, rates=[0.0, 1.0])
    assert eg.gain == pytest.approx([0.0, 0.0], abs=1e-9)


@given(gold_and_scores(), st.lists(st.floats(0, 1), min_size=1, max_size=8, unique=True))
def test_oracle_bounds_every_curve(gs, rates):
    gold, scores = gs
    eg = mrs.efficiency_gain(gold, scores, rates=sorted(rates))
    assert np.all(eg.gain <= eg.oracle_gain + 1e-9)
    assert np.all(eg.oracle_gain >= -1e-9)


@given(gold_and_scores(), st.randoms(use_true_random=False))
def test_permutation_invariance(gs, rnd):
    gold, scores = gs
    perm = np.array(rnd.sample(range(gold.size), gold.size))
    a = mrs.efficiency_gain(gold, scores, rates=np.linspace(0, 1, 11))
    b = mrs.efficiency_gain(gold[perm], scores[perm], rates=np.linspace(0, 1, 11))
    np.testing.assert_allclose(a.gain, b.gain, atol=1e-9)


def test_reversed_ranking_is_negative_and_random_router_is_near_zero():
    rng = np.random.default_rng(4)
    gold = rng.normal(size=2000)
    assert np.all(mrs.efficiency_gain(gold, -gold).gain < 0)
    eg = mrs.efficiency_gain(gold, rng.random(2000))
    # sd of EG(rho) for a random router ~ sqrt(k (1 - rho)) * sd(gold) ~ 20; allow 4 sd
    assert np.all(np.abs(eg.gain) < 4 * np.sqrt(2000 * 0.25))


def test_to_frame_and_default_rates():
    eg = mrs.efficiency_gain(np.arange(10.0), np.arange(10.0))
    df = eg.to_frame()
    assert list(df.columns) == ["rate", "gain", "per_query", "relative", "reference", "oracle_gain"]
    assert df["rate"].tolist() == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    assert eg.auc_relative == pytest.approx(1.0)
    with pytest.raises(ValueError):
        eg.gain[0] = 1.0  # read-only


def test_k_for_rate_is_exact_decimal_rounding():
    """round(rho * n) in exact arithmetic, halves up; the binary product gave 31 for 0.7 * 45."""
    from decimal import ROUND_HALF_UP, Decimal

    from metarouter_stats._ranking import k_for_rate

    assert k_for_rate(0.7, 45) == 32
    for n in range(1, 120):
        for hundredths in range(0, 101):
            rate = hundredths / 100
            ref = int((Decimal(repr(rate)) * n).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            assert k_for_rate(rate, n) == ref, (rate, n)


def test_relative_eg_is_nan_at_the_ends_in_curve_and_bootstrap():
    rng = np.random.default_rng(0)
    g = rng.normal(size=60)
    s = g + rng.normal(size=60)
    curve = mrs.efficiency_gain(g, s, rates=[0.0, 0.5, 1.0])
    assert curve.gain[0] == curve.gain[2] == 0.0 and curve.oracle_gain[2] == 0.0
    assert np.isnan(curve.relative[[0, 2]]).all() and np.isfinite(curve.relative[1])
    band = mrs.efficiency_gain_interval(g, s, rates=[0.0, 0.5, 1.0], normalise="relative", n_boot=40, rng=0)
    assert np.isnan(band.band.draws[:, [0, 2]]).all() and np.isfinite(band.band.draws[:, 1]).all()


def _naive_oracle(g, c):
    """The frontier's oracle before the sweep: every query re-decided at every breakpoint weight."""
    from metarouter_stats.decision import choose_models

    K = g.shape[1]
    ws = [0.0]
    for a in range(K):
        for b in range(a + 1, K):
            dc = c[:, a] - c[:, b]
            ok = np.abs(dc) > 0
            w = (g[ok, a] - g[ok, b]) / dc[ok]
            ws.append(w[w > 0])
    w = np.unique(np.concatenate([np.atleast_1d(v) for v in ws]))
    grid = np.unique(np.concatenate((w, w * (1 + 1e-9), [w.max() * 2 + 1])))
    idx = np.arange(g.shape[0])
    out = []
    for ww in grid:
        k = choose_models(g, c, float(ww))
        out.append((ww, c[idx, k].mean(), g[idx, k].mean()))
    return np.array(out)


@pytest.mark.parametrize("seed", range(8))
def test_frontier_oracle_sweep_equals_the_naive_oracle(seed):
    rng = np.random.default_rng(seed)
    n, K = int(rng.integers(1, 60)), int(rng.integers(2, 6))
    if seed % 2:  # discrete gains and shared prices: many exact ties
        g = rng.integers(-2, 3, (n, K)).astype(float)
        c = np.tile(rng.integers(0, 4, K).astype(float), (n, 1)) * rng.integers(1, 3, (n, 1))
    else:
        g, c = rng.normal(size=(n, K)), rng.exponential(size=(n, K))
    g[:, 0] = 0.0
    fr = mrs.cost_quality_frontier(g, c, {"r": g + rng.normal(size=g.shape)}).frame
    mine = fr[fr["router"] == "oracle"][["weight", "mean_cost", "mean_quality"]].to_numpy()
    ref = _naive_oracle(g, c)
    assert mine.shape == ref.shape
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-12)


def test_gold_scorer_scores_gold_rows_only_and_drives_a_grid_search_over_learners():
    import sklearn
    from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

    from metarouter_stats._ranking import eg_area

    s = mrs.simulate(n_gold=90, n_preference=400, n_test=1, d=6, rng=1)
    X, y, t = s.train.X, s.train.outcome, s.train.source
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    gold = t == 1
    scorer = mrs.gold_scorer()
    # without routing the scorer sees every row; with `source` it keeps the gold ones
    assert scorer._score_func(y, router.predict_gain(X), source=t) == pytest.approx(eg_area(y[gold], router.predict_gain(X[gold])))
    assert router.score(X, y, source=t) == pytest.approx(eg_area(y[gold], router.predict_gain(X[gold])))
    assert router.score(X[gold], y[gold]) == router.score(X, y, source=t)
    rho = mrs.gold_scorer("spearman")._score_func(y, router.predict_gain(X), source=t)
    assert 0 < rho <= 1
    with pytest.raises(ValueError, match="metric"):
        mrs.gold_scorer("auc")
    with sklearn.config_context(enable_metadata_routing=True):
        cv = KFold(3, shuffle=True, random_state=0)
        search = GridSearchCV(
            mrs.MetaRouter(random_state=0).set_fit_request(source=True),
            {"cate": ["dr", "r"]}, scoring=mrs.gold_scorer(), cv=cv,
        ).fit(X, y, source=t)
        assert search.best_params_["cate"] in ("dr", "r")
        assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
        # the estimator's own score, with source routed to it
        est = mrs.MetaRouter(random_state=0).set_fit_request(source=True).set_score_request(source=True)
        scores = cross_val_score(est, X, y, cv=cv, params={"source": t})
        assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_curve_summary_is_per_query_throughout():
    eg = mrs.efficiency_gain([3.0, -1.0, 0.0, 2.0], [0.9, 0.1, 0.2, 0.5], rates=[0.25, 0.5, 0.75])
    assert eg.auc_per_query == pytest.approx(eg.auc / 4)
    assert f"area per query, rates 0.25-0.75        {eg.auc_per_query:.4g}" in eg.summary()
