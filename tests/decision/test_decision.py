import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metarouter_stats as mrs
from metarouter_stats._resampling import bootstrap
from metarouter_stats.decision import calibrate_weight, choose_models, smallest_weight, smallest_weights, weight_for_budget
from metarouter_stats.decision.rule import choose_stacked, mean_cost

vals = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def gains_costs(draw, k_max=4):
    n = draw(st.integers(1, 25))
    K = draw(st.integers(2, k_max))
    g = np.array(draw(st.lists(vals, min_size=n * K, max_size=n * K))).reshape(n, K)
    g[:, 0] = 0.0
    c = np.round(np.array(draw(st.lists(st.floats(0, 10), min_size=n * K, max_size=n * K))), 6).reshape(n, K)
    return g, c


@given(st.lists(vals, min_size=1, max_size=40), vals)
def test_two_models_unit_cost_equals_binary_rule(psi, w):
    psi = np.array(psi)
    w = abs(w)
    gains = np.column_stack([np.zeros_like(psi), psi])
    costs = np.column_stack([np.zeros_like(psi), np.ones_like(psi)])
    chosen = choose_models(gains, costs, w)
    np.testing.assert_array_equal(chosen == 1, psi > w)


@given(gains_costs(), st.floats(0, 20))
def test_choice_is_brute_force_argmax(gc, w):
    g, c = gc
    k = choose_models(g, c, w)
    for i in range(g.shape[0]):
        util = g[i] - w * c[i]
        assert util[k[i]] >= util.max() - 1e-9 * max(1, abs(util.max()))


@given(gains_costs(), st.floats(0, 10), st.floats(0, 10))
def test_raising_weight_never_raises_cost(gc, w1, w2):
    g, c = gc
    lo, hi = sorted((w1, w2))
    rows = np.arange(g.shape[0])
    cost_lo = c[rows, choose_models(g, c, lo)]
    cost_hi = c[rows, choose_models(g, c, hi)]
    assert np.all(cost_hi <= cost_lo + 1e-12)  # per query, hence also on average


@given(gains_costs(), st.floats(0, 1))
def test_budget_is_met(gc, frac):
    g, c = gc
    floor, top = c.min(axis=1).mean(), c.max(axis=1).mean()
    budget = floor + frac * (top - floor)
    w = weight_for_budget(g, c, budget)
    rows = np.arange(g.shape[0])
    assert c[rows, choose_models(g, c, w)].mean() <= budget + 1e-9


def test_multimodel_router_matches_binary_meta_router():
    s = mrs.simulate(n_gold=60, n_preference=600, n_test=200, rng=2)
    t = s.train
    meta = mrs.MetaRouter(random_state=4).fit(t)
    mm = mrs.MultiModelRouter(["alt", "prim"], reference="alt", random_state=4)
    mm.fit(t.X, t.outcome, source=t.source, model=np.full(t.n, "prim"))
    np.testing.assert_allclose(mm.predict_gain(s.X_test)["prim"], meta.predict_gain(s.X_test))
    for w in (-0.5, 0.0, 0.7, 2.0):
        w = max(w, 0.0)
        np.testing.assert_array_equal(mm.route(s.X_test, weight=w) == "prim", meta.route(s.X_test, threshold=w))


def test_multimodel_token_costs_and_budget():
    s = mrs.simulate(n_gold=60, n_preference=400, n_test=150, rng=3)
    t = s.train
    rng = np.random.default_rng(0)
    X = np.vstack([t.X, t.X])
    y = np.concatenate([t.outcome, 0.5 * t.outcome + 0.1])
    src = np.concatenate([t.source, t.source])
    which = np.repeat(["mid", "big"], t.n)
    costs = {"small": mrs.TokenCost(0.15, 0.6), "mid": mrs.TokenCost(1.0, 4.0), "big": mrs.TokenCost(5.0, 15.0)}
    mm = mrs.MultiModelRouter(["small", "mid", "big"], reference="small", costs=costs, router=mrs.PooledRouter(), random_state=0)
    mm.fit(X, y, source=src, model=which)
    n_in = rng.integers(100, 2000, 150)
    n_out = pd.DataFrame({m: rng.integers(50, 800, 150) for m in ["small", "mid", "big"]})
    cm = mrs.cost_matrix(costs, ["small", "mid", "big"], n_in=n_in, n_out=n_out)
    budget = float(np.quantile(cm.mean(axis=0), 0.5))
    choice = mm.route(s.X_test, budget=budget, n_in=n_in, n_out=n_out)
    idx = pd.Index(["small", "mid", "big"]).get_indexer(choice)
    assert cm[np.arange(150), idx].mean() <= budget + 1e-12
    cal = mrs.calibrate_weight(mm.predict_gain(s.X_test).to_numpy(), cm, budget=budget, n_boot=100, rng=0)
    assert cal.achieved <= budget + 1e-12 and cal.achieved_std_error > 0
    rate = mrs.calibrate_weight(mm.predict_gain(s.X_test).to_numpy(), cm, rate=0.3, n_boot=50, rng=0)
    assert rate.achieved <= 0.3 + 1e-12 and rate.kind == "rate"


def test_frontier_oracle_dominates_and_random_is_a_line():
    rng = np.random.default_rng(1)
    n = 400
    g = np.column_stack([np.zeros(n), rng.normal(0.3, 1, n), rng.normal(0.8, 1.2, n)])
    c = np.column_stack([np.full(n, 0.1), rng.uniform(0.5, 1.5, n), rng.uniform(2, 4, n)])
    noisy = g + rng.normal(0, 1, g.shape)
    noisy[:, 0] = 0
    fr = mrs.cost_quality_frontier(g, c, {"noisy": noisy, "gains-only": g - 10 * c})
    df = fr.frame
    oracle = df[df.router == "oracle"].sort_values("mean_cost")
    hull_q = np.maximum.accumulate(oracle["mean_quality"].to_numpy())
    for name in ("noisy", "gains-only", "random"):
        pts = df[df.router == name]
        inside = pts["mean_cost"].between(oracle["mean_cost"].min(), oracle["mean_cost"].max())
        bound = np.interp(pts.loc[inside, "mean_cost"], oracle["mean_cost"], hull_q)
        assert np.all(pts.loc[inside, "mean_quality"].to_numpy() <= bound + 1e-9), name
        assert fr.areas["oracle"] >= fr.areas[name]
    rnd = df[df.router == "random"].sort_values("mean_cost")
    slope = np.diff(rnd["mean_quality"]) / np.diff(rnd["mean_cost"])
    np.testing.assert_allclose(slope, slope[0])
    ends = rnd.iloc[[0, -1]]
    assert ends["mean_cost"].tolist() == pytest.approx([c[:, 0].mean(), c[:, 2].mean()])
    assert ends["mean_quality"].tolist() == pytest.approx([0.0, g[:, 2].mean()])


def test_frontier_plot():
    import matplotlib

    matplotlib.use("Agg")
    g = np.column_stack([np.zeros(20), np.linspace(-1, 1, 20)])
    c = np.column_stack([np.zeros(20), np.ones(20)])
    ax = mrs.cost_quality_frontier(g, c, {"perfect": g}).plot()
    assert len(ax.get_lines()) == 3


def test_decision_errors():
    with pytest.raises(ValueError, match=r"`input_price` must be a finite price >= 0; got -1"):
        mrs.TokenCost(-1, 2)
    with pytest.raises(ValueError, match=r"`output_price` must be a finite price >= 0; got nan"):
        mrs.TokenCost(1, float("nan"))
    with pytest.raises(TypeError, match=r"`per_call` must be a number"):
        mrs.TokenCost(1, 1, "free")
    with pytest.raises(ValueError, match=r"`n_in` and `n_out` must have the same length; got 2 and 3"):
        mrs.TokenCost(1, 1).cost([1, 2], [1, 2, 3])
    costs = {"a": mrs.TokenCost.flat(0), "b": mrs.TokenCost.flat(1)}
    # a vector of output tokens is one count per query, used for every model (issue 17)
    np.testing.assert_allclose(mrs.cost_matrix(costs, ["a", "b"], n_in=[1, 2, 3], n_out=[10, 20, 30]),
                               mrs.cost_matrix(costs, ["a", "b"], n_in=[1, 2, 3], n_out=np.tile([[10], [20], [30]], 2)))
    with pytest.raises(ValueError, match=r"`n_out` must have one column per model \(2\); got shape \(3, 3\)"):
        mrs.cost_matrix(costs, ["a", "b"], n_in=[1, 2, 3], n_out=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"`n_out` must have one row per query \(2\); got 3"):
        mrs.cost_matrix(costs, ["a", "b"], n_in=[1, 2], n_out=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"`n_out` has columns for unknown model\(s\) \['c'\]"):
        mrs.cost_matrix(costs, ["a", "b"], n_out=pd.DataFrame({"c": [1.0]}))
    with pytest.raises(ValueError, match=r"`costs` has no price for model\(s\) \['c'\]"):
        mrs.cost_matrix(costs, ["a", "c"], n=2)
    with pytest.raises(ValueError, match=r"`budget` 0.1 is below the cheapest possible mean cost per query 0.5"):
        weight_for_budget(np.zeros((2, 2)), np.array([[0.5, 1.0], [0.5, 2.0]]), 0.1)
    with pytest.raises(ValueError, match=r"`weight` must be a finite number >= 0; got -1"):
        choose_models(np.zeros((2, 2)), np.zeros((2, 2)), -1)
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.random.default_rng(1).normal(size=8)
    t = [1, 1, 1, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match=r"`model` names unknown model\(s\) \['z'\]; models are \['a', 'b'\]"):
        mrs.MultiModelRouter(["a", "b"], reference="a").fit(X, y, t, model=["z"] * 8)
    with pytest.raises(ValueError, match=r"`reference` must be one of `models`"):
        mrs.MultiModelRouter(["a", "b"], reference="c").fit(X, y, t, model=["b"] * 8)
    with pytest.raises(ValueError, match=r"`model` must not contain the reference 'a'"):
        mrs.MultiModelRouter(["a", "b"], reference="a").fit(X, y, t, model=["a"] * 8)
    with pytest.raises(ValueError, match=r"`models` must be at least two distinct names"):
        mrs.MultiModelRouter(["a", "a"], reference="a").fit(X, y, t, model=["a"] * 8)
    with pytest.raises(ValueError, match=r"No labels for model\(s\) \['c'\]"):
        mrs.MultiModelRouter(["a", "b", "c"], reference="a", router=mrs.PooledRouter()).fit(X, y, t, model=["b"] * 8)
    with pytest.raises(TypeError, match=r"`costs\['b'\]` must be a TokenCost; got float"):
        mrs.MultiModelRouter(["a", "b"], reference="a", costs={"a": mrs.TokenCost.flat(0), "b": 1.0}).fit(X, y, t, model=["b"] * 8)
    mm = mrs.MultiModelRouter(["a", "b"], reference="a", router=mrs.PooledRouter()).fit(X, y, t, model=["b"] * 8)
    with pytest.raises(ValueError, match=r"Pass exactly one of `weight` and `budget`"):
        mm.route(X)
    with pytest.raises(ValueError, match=r"Pass exactly one of `rate` and `budget`"):
        mrs.calibrate_weight(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"`gold_gains` and `costs` must be \(n, K\) arrays of one shape"):
        mrs.cost_quality_frontier(np.zeros((2, 2)), np.zeros((2, 3)), {})


@given(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=8), st.floats(1e-3, 10))
def test_many_bisections_take_the_steps_of_one(targets, hi):
    """smallest_weights returns, problem by problem, the very number smallest_weight returns alone."""
    targets = np.array(targets)
    together = smallest_weights(lambda w, which: w >= targets[which], np.full(targets.size, hi))
    alone = [smallest_weight(lambda w, t=t: w >= t, hi=hi) for t in targets]
    np.testing.assert_array_equal(together, alone)


@given(gains_costs(), st.lists(st.floats(0, 50), min_size=1, max_size=5))
def test_stacked_choices_are_the_choices_problem_by_problem(gc, weights):
    g, c = gc
    stacked = choose_stacked(np.stack([g] * len(weights)), np.stack([c] * len(weights)), np.array(weights))
    for row, w in zip(stacked, weights, strict=True):
        np.testing.assert_array_equal(row, choose_models(g, c, w))


@pytest.mark.parametrize("target", [{"rate": 0.4}, {"budget": 2.5}])
def test_calibrate_weight_replicates_equal_the_one_at_a_time_loop(target):
    """The vectorised replicates (blocks of replicates bisected together) against the plain loop of the
    package's scalar rule over the same bootstrap draws: equal to the last bit."""
    rng = np.random.default_rng(0)
    n = 300
    g = np.column_stack([np.zeros(n), rng.normal(0.3, 1, n), rng.normal(0.5, 1, n)])
    c = np.column_stack([np.ones(n), 2 + rng.random(n), 4 * np.ones(n)])
    res = calibrate_weight(g, c, n_boot=40, rng=1, **target)

    def one(idx):
        gg, cc = g[idx], c[idx]
        if "rate" in target:
            solved = smallest_weight(lambda w: np.mean(choose_models(gg, cc, w) != 0) <= target["rate"])
            achieved = np.mean(choose_models(gg, cc, res.weight) != 0)
        else:
            solved = weight_for_budget(gg, cc, target["budget"])
            achieved = mean_cost(gg, cc, res.weight)
        return achieved, solved

    loop = bootstrap(one, n, 40, np.random.default_rng(1))
    np.testing.assert_array_equal(res.achieved_draws, loop[:, 0])
    np.testing.assert_array_equal(res.weight_draws, loop[:, 1])


def test_frontier_refuses_negative_weights_and_non_finite_scores():
    g = np.column_stack([np.zeros(5), np.arange(5.0)])
    c = np.column_stack([np.ones(5), 2 * np.ones(5)])
    with pytest.raises(ValueError, match="`weights` must be finite cost weights >= 0"):
        mrs.cost_quality_frontier(g, c, {"a": g}, weights=[0.0, -1.0])
    bad = g.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"`scores\['a'\]` must be finite"):
        mrs.cost_quality_frontier(g, c, {"a": bad})
