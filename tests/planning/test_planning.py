import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metarouter_stats as mrs
from metarouter_stats.planning import systematic_pps
from metarouter_stats.planning.selection import capped_probabilities


def test_systematic_pps_has_the_stated_inclusion_probabilities():
    rng = np.random.default_rng(0)
    pi = np.r_[1.0, rng.uniform(0.02, 0.9, 29)]
    pi = capped_probabilities(pi, 8)[0]
    reps = 20000
    counts = np.zeros(pi.size)
    for r in range(reps):
        idx = systematic_pps(pi, rng)
        assert idx.size == 8 and np.unique(idx).size == 8
        counts[idx] += 1
    freq = counts / reps
    se = np.sqrt(pi * (1 - pi) / reps) + 1e-12
    assert np.all(np.abs(freq - pi) <= 4.5 * se + 1e-9)  # all 30 within 4.5 MC SEs (Bonferroni-safe)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=2, max_size=60), st.integers(1, 60))
def test_capped_probabilities_sum_to_n_and_stay_in_unit_interval(q, n):
    q = np.asarray(q)
    n = min(n, q.size)
    pi, kappa = capped_probabilities(q, n)
    assert abs(pi.sum() - n) < 1e-9 and np.all(pi <= 1 + 1e-12) and np.all(pi > 0)
    free = pi < 1
    np.testing.assert_allclose(pi[free], kappa * q[free])


@pytest.fixture(scope="module")
def pool():
    s = mrs.simulate(n_gold=60, n_preference=540, n_test=5, d=8, rng=2)
    X = s.train.X
    return s, X, s.draw_preference(X, rng=3), np.asarray(s.gold_train)


def test_uniform_batches_accumulate_to_the_exact_inclusion_probability(pool):
    s, X, pref, gold = pool
    a = mrs.select_for_gold(None, X, 30, strategy="uniform", rng=0)
    b = mrs.select_for_gold(None, X, 45, strategy="uniform", previous=a, rng=1)
    np.testing.assert_allclose(b.propensity, 75 / 600)  # simple random sample of 75 of 600
    assert b.n_labelled == 75 and not np.isin(b.indices, a.indices).any()
    assert set(np.unique(b.batch)) == {0, 1, 2}
    data = b.routing_data(X, pref, gold)
    assert data.n_gold == 75 and np.all(data.propensity == b.propensity)


def test_active_batch_keeps_every_query_positive_and_is_reproducible(pool):
    s, X, pref, gold = pool
    first = mrs.select_for_gold(None, X, 40, strategy="uniform", rng=0)
    router = mrs.MetaRouter(random_state=0).fit(first.routing_data(X, pref, gold))
    kw = dict(previous=first, n_boot=50, uniform_share=0.5)
    a = mrs.select_for_gold(router, X, 30, rng=5, **kw)
    b = mrs.select_for_gold(router, X, 30, rng=5, n_jobs=2, **kw)
    np.testing.assert_array_equal(a.indices, b.indices)
    free = ~first.labelled
    assert abs(a.batch_probability[free].sum() - 30) < 1e-9
    assert a.batch_probability[free].min() >= 0.5 * 30 / free.sum() - 1e-12  # the uniform floor
    assert a.batch_probability[free].max() > a.batch_probability[free].min()  # the score matters
    d = mrs.select_for_gold(router, X, 30, strategy="decision", rng=5, **kw)
    assert d.batch_probability[free].max() > 2 * d.batch_probability[free].min()
    u = mrs.select_for_gold(router, X, 30, strategy="uncertainty", rng=5, **kw)
    assert u.indices.size == 30 and "uncertainty" in u.summary()
    mrs.MetaRouter(random_state=0).fit(a.routing_data(X, pref, gold))  # the design fits as data


def test_select_for_gold_input_errors(pool):
    s, X, pref, gold = pool
    first = mrs.select_for_gold(None, X, 10, strategy="uniform", rng=0)
    with pytest.raises(ValueError, match="must not exceed the 600"):
        mrs.select_for_gold(None, X, 601, strategy="uniform")
    with pytest.raises(ValueError, match="must not exceed the 590"):
        mrs.select_for_gold(None, X, 591, strategy="uniform", previous=first)
    with pytest.raises(ValueError, match="gold-labelled row"):
        mrs.select_for_gold(None, s.train, 5, strategy="uniform")
    with pytest.raises(ValueError, match="pool of 600"):
        mrs.select_for_gold(None, X[:500], 5, strategy="uniform", previous=first)
    with pytest.raises(ValueError, match="uniform_share"):
        mrs.select_for_gold(None, X, 5, strategy="uniform", uniform_share=0.0)
    with pytest.raises(ValueError, match="uniform_share"):
        mrs.select_for_gold(None, X, 5, strategy="uniform", uniform_share=1.5)
    with pytest.raises(ValueError, match="strategy"):
        mrs.select_for_gold(None, X, 5, strategy="greedy")
    with pytest.raises(TypeError, match="fitted MetaRouter"):
        mrs.select_for_gold(None, X, 5)
    with pytest.raises(ValueError, match="rates"):
        mrs.select_for_gold(None, X, 5, strategy="uniform", rates=[0.0, 0.5])
    with pytest.raises(TypeError, match="`rates` must hold numbers"):
        mrs.select_for_gold(None, X, 5, strategy="uniform", rates=["a"])
    with pytest.raises(ValueError, match="integer >= 1"):
        mrs.select_for_gold(None, X, 0, strategy="uniform")
    with pytest.raises(ValueError, match="finite label for every labelled"):
        first.routing_data(X, pref, np.full(600, np.nan))
    with pytest.raises(ValueError, match="sum to an integer"):
        systematic_pps(np.array([0.5, 0.7]))


def _pilot(n_gold=80, n_pref=3000, seed=0, shift=0.3):
    rng = np.random.default_rng(seed)
    gold = shift + rng.normal(size=n_gold) * 1.5
    pref = rng.normal(size=n_pref)
    y = np.r_[gold, pref]
    t = np.r_[np.ones(n_gold, int), np.zeros(n_pref, int)]
    return mrs.RoutingData(rng.normal(size=(y.size, 2)), y, t)


def test_plan_half_width_at_the_pilot_size_is_the_welch_interval():
    data = _pilot()
    plan = mrs.plan_gold(data, scale=1.0, sizes=[40, 80, 160])
    res = mrs.bias_ttest(data.outcome[data.is_gold], data.outcome[~data.is_gold], paired=False, scale=1.0)
    low, high = res.confidence_interval()
    np.testing.assert_allclose(plan.half_width[1], (high - low) / 2, rtol=1e-10)
    assert plan.half_width_low[1] < plan.half_width[1] < plan.half_width_high[1]
    assert np.all(np.diff(plan.half_width) < 0)


def test_plan_power_matches_the_noncentral_t_and_a_simulation():
    from scipy import stats

    data = _pilot()
    plan = mrs.plan_gold(data, scale=1.0, effect=0.4, sizes=[30, 60])
    # independent re-implementation: Welch noncentral t
    sg2, sp2 = data.outcome[data.is_gold].var(ddof=1), data.outcome[~data.is_gold].var(ddof=1)
    for m, pw in zip(plan.sizes, plan.power):
        a, b = sg2 / m, sp2 / 3000
        df = (a + b) ** 2 / (a**2 / (m - 1) + b**2 / 2999)
        nc, crit = 0.4 / np.sqrt(a + b), stats.t.ppf(0.975, df)
        direct = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
        np.testing.assert_allclose(pw, direct, rtol=1e-6)
    # simulated power of the actual test with those variances (2,000 draws: MC SE <= 0.011)
    rng = np.random.default_rng(1)
    m = 60
    rej = [mrs.bias_ttest(0.4 + rng.normal(size=m) * np.sqrt(sg2), rng.normal(size=3000) * np.sqrt(sp2),
                          paired=False, scale=1.0).p_value < 0.05 for _ in range(2000)]
    assert abs(np.mean(rej) - plan.power[1]) < 0.035


def test_plan_sizes_for_targets_and_errors():
    data = _pilot()
    plan = mrs.plan_gold(data, scale=1.0, target_half_width=0.3, target_power=0.9)
    n, lo, hi = plan.n_for_half_width
    assert lo <= n <= hi
    assert "gold labels for half-width 0.3" in plan.summary()
    tiny = mrs.plan_gold(data, scale=1.0, target_half_width=1e-4)
    assert np.isinf(tiny.n_for_half_width[0]) and "not reachable" in tiny.summary()
    with pytest.raises(TypeError, match="RoutingData"):
        mrs.plan_gold(np.zeros(5))
    with pytest.raises(ValueError, match="sizes"):
        mrs.plan_gold(data, sizes=[1, 5])
    with pytest.raises(ValueError, match="target_half_width"):
        mrs.plan_gold(data, target_half_width=-1.0)
    with pytest.raises(ValueError, match="paired=True"):
        mrs.plan_gold(data, paired=True)


def test_plan_with_estimated_scale_matches_the_delta_method_test_at_the_pilot_size():
    s = mrs.simulate(n_gold=80, n_preference=2000, n_test=2, scenario="nonlinear_bias", rng=3)
    y = s.train.outcome
    # the plan's half-width is the delta method's (the test's own reference law is the bootstrap-t by default)
    res = mrs.bias_ttest(y[s.train.is_gold], y[~s.train.is_gold], paired=False, scale="variance", inference="delta")
    plan = mrs.plan_gold(s.train, scale="variance", sizes=[80])
    low, high = res.confidence_interval()
    np.testing.assert_allclose(plan.half_width[0], (high - low) / 2, rtol=1e-9)


def test_learning_curve_is_reproducible_and_checks_its_input():
    s = mrs.simulate(n_gold=40, n_preference=200, n_test=2, d=6, rng=1)
    kw = dict(sizes=[12, 20], n_repeats=3, n_boot=50, rng=3)
    a = mrs.gold_learning_curve(s.train, **kw)
    b = mrs.gold_learning_curve(s.train, n_jobs=2, **kw)
    np.testing.assert_array_equal(a.areas, b.areas)
    assert a.n_for_target == b.n_for_target
    lo, hi = a.confidence_interval(0.9)
    assert lo <= hi and "target" in a.summary()
    m = np.unique(a.sizes)
    np.testing.assert_allclose(a.predict(m), a.asymptote / np.sqrt(1 + a.coefficient / m))
    p = mrs.gold_learning_curve(s.train, method="power", **kw)
    np.testing.assert_array_equal(p.areas, a.areas)  # the shape changes the fit, not the refits
    np.testing.assert_allclose(p.predict(m), p.asymptote - p.coefficient / m)
    with pytest.raises(ValueError, match="sizes"):
        mrs.gold_learning_curve(s.train, sizes=[12, 35])  # leaves fewer than 10 gold rows out
    with pytest.raises(ValueError, match="sizes"):
        mrs.gold_learning_curve(s.train, sizes=[20])
    with pytest.raises(TypeError, match="RoutingData"):
        mrs.gold_learning_curve(s.train.X)
    with pytest.raises(ValueError, match="target_share"):
        mrs.gold_learning_curve(s.train, target_share=1.0)
    with pytest.raises(ValueError, match="exponent"):
        mrs.gold_learning_curve(s.train, exponent=0.0)
    with pytest.raises(ValueError, match="method"):
        mrs.gold_learning_curve(s.train, method="logistic")
    with pytest.raises(ValueError, match="n_repeats"):
        mrs.gold_learning_curve(s.train, sizes=[12, 20], n_repeats=2)  # the jackknife needs 3
    design = mrs.RoutingData(s.train.X, s.train.outcome, s.train.source,
                             propensity=np.where(np.arange(240) % 2 == 0, 0.1, 0.3))
    with pytest.raises(ValueError, match="unequal known probabilities"):
        mrs.gold_learning_curve(design)
    tiny = mrs.simulate(n_gold=15, n_preference=100, n_test=2, d=6, rng=1)
    with pytest.raises(ValueError, match="too few"):
        mrs.gold_learning_curve(tiny.train)


def test_fit_curve_recovers_an_exact_power_law():
    from metarouter_stats.planning.curves import fit_curve, n_for_share

    sizes = np.repeat([20, 40, 80], 3)
    areas = 2.0 - 30.0 / sizes
    a, b = fit_curve(sizes, areas, np.full(sizes.size, 0.1), 1.0, "power")
    np.testing.assert_allclose([a, b], [2.0, 30.0])
    np.testing.assert_allclose(n_for_share("power", np.array([a]), np.array([b]), 1.0, 0.9), [150.0])  # 2 - 30/150


def test_noise_to_signal_recovers_kappa_from_subset_refits():
    """Scores psi + noise with variance V (1/m - 1/n) across m-subsets: kappa = V / Var(psi) is recovered."""
    from metarouter_stats.planning.curves import fit_curve, n_for_share, _noise_to_signal

    rng = np.random.default_rng(0)
    n, m, reps, q = 100, np.array([30.0, 43.0, 57.0, 70.0]), 40, 3000
    psi = rng.normal(0, 2.0, q)  # Var(psi) = 4
    pilot_error = rng.normal(0, np.sqrt(120.0 / n), q)  # the pilot's own fit: V / n about psi, V = 120
    sd = np.sqrt(120.0 * (1 / m - 1 / n))
    preds = psi + pilot_error + rng.normal(size=(reps, m.size, q)) * sd[None, :, None]
    kappa = _noise_to_signal(preds, m, n, 1.0)
    np.testing.assert_allclose(kappa, 120.0 / 4.0, rtol=0.1)  # kappa = V / Var(psi) = 30
    # the plan is kappa / (1 / 0.81 - 1), where the curve's correlation falls to 90 % of its limit
    plan = float(n_for_share("variance", np.array([1.0]), np.array([kappa]), 1.0, 0.9)[0])
    np.testing.assert_allclose((1 + kappa / plan) ** -0.5, 0.9, rtol=1e-9)
    sizes = np.repeat(m.astype(int), 2)
    areas = 0.8 / np.sqrt(1 + 30.0 / sizes)
    np.testing.assert_allclose(fit_curve(sizes, areas, np.full(sizes.size, 0.05), 1.0, "variance", 30.0),
                               [0.8, 30.0])
    noise_only = rng.normal(size=(reps, m.size, q)) * sd[None, :, None]  # no signal: no plan
    assert _noise_to_signal(noise_only, m, n, 1.0) == np.inf
    assert n_for_share("variance", np.array([1.0]), np.array([np.inf]), 1.0, 0.9)[0] == np.inf


def test_neyman_score_is_the_influence_on_delta_hat_at_decision_points(pool):
    """Independent check: a_i^2 = sum_0 w_0 h(x_0, x_i)^2 with h the ridge smoother weight, by brute force."""
    from scipy import stats

    from metarouter_stats.planning.selection import EG_RATES

    s, X, pref, gold = pool
    first = mrs.select_for_gold(None, X, 60, strategy="uniform", rng=0)
    router = mrs.MetaRouter(random_state=0).fit(first.routing_data(X, pref, gold))
    sel = mrs.select_for_gold(router, X, 20, previous=first, n_boot=40, rng=2)
    band = mrs.bias_interval(router, X, method="fast", n_boot=40, rng=np.random.default_rng(2))
    # (select_for_gold draws the band from its own generator first; rebuild the same draws)
    se = np.asarray(band.std_error)
    psi = router.predict_gain(X)
    z = np.abs(psi[:, None] - np.quantile(psi, 1 - EG_RATES)[None]) / se[:, None]
    w0 = stats.norm.pdf(z).mean(axis=1)
    train = np.asarray(router.bias_learner_.scores_.X)
    c = train.mean(axis=0)
    # the band's linear ridge on the learner's scores (the default final stage is a stacked blend)
    from sklearn.linear_model import RidgeCV
    from metarouter_stats.cate.final_stage import FINAL_ALPHAS
    sc = router.bias_learner_.scores_
    alpha = RidgeCV(alphas=FINAL_ALPHAS).fit(sc.X, sc.pseudo_outcomes).alpha_
    H = (X - c) @ np.linalg.solve((train - c).T @ (train - c) + alpha * np.eye(X.shape[1]), (X - c).T)  # h(x0, xi)
    direct = np.sqrt((w0[:, None] * H**2).sum(axis=0))
    np.testing.assert_allclose(sel.score, direct, rtol=1e-6)


def test_neyman_with_gold_noise_allocates_in_proportion_to_a_times_sigma(pool):
    """Neyman with stratum SDs: a query with noise sigma gets score a * sigma (same band, same seed)."""
    s, X, pref, gold = pool
    first = mrs.select_for_gold(None, X, 60, strategy="uniform", rng=0)
    router = mrs.MetaRouter(random_state=0).fit(first.routing_data(X, pref, gold))
    sigma = np.where(np.arange(600) % 2 == 0, 1.0, 3.0)
    plain = mrs.select_for_gold(router, X, 20, previous=first, n_boot=20, rng=2)
    noisy = mrs.select_for_gold(router, X, 20, previous=first, n_boot=20, rng=2, gold_noise=sigma)
    np.testing.assert_allclose(noisy.score, plain.score * sigma, rtol=1e-12)
    # the objective sum a^2 sigma^2 / pi over the remaining pool is smaller under the noise-aware design
    free = ~first.labelled
    a2s2 = (plain.score * sigma)[free] ** 2
    assert np.sum(a2s2 / noisy.batch_probability[free]) < np.sum(a2s2 / plain.batch_probability[free])
    with pytest.raises(ValueError, match="strategy='neyman' only"):
        mrs.select_for_gold(router, X, 5, previous=first, strategy="uncertainty", gold_noise=sigma, n_boot=10)
    for bad in (sigma[:10], -sigma, np.where(sigma > 2, np.nan, sigma)):
        with pytest.raises(ValueError, match="`gold_noise` must"):
            mrs.select_for_gold(router, X, 5, previous=first, gold_noise=bad, n_boot=10)


def test_neyman_falls_back_for_a_nonlinear_final_stage(pool):
    from sklearn.ensemble import RandomForestRegressor

    from metarouter_stats.cate import DRBiasLearner

    s, X, pref, gold = pool
    first = mrs.select_for_gold(None, X, 60, strategy="uniform", rng=0)
    learner = DRBiasLearner(model_final=RandomForestRegressor(n_estimators=20, random_state=0))
    router = mrs.MetaRouter(cate=learner, random_state=0).fit(first.routing_data(X, pref, gold))
    with pytest.warns(UserWarning, match="ridge final stage"):
        mrs.select_for_gold(router, X, 10, previous=first, n_boot=20, rng=0)


@pytest.fixture(scope="module")
def pilot_router():
    s = mrs.simulate(n_gold=100, n_preference=1000, n_test=1, d=6, rng=0)
    return mrs.MetaRouter(scale=0.25, random_state=0).fit(s.train)


def test_heterogeneity_plan_is_the_median_t_scaled_by_sqrt_of_the_gold_size(pilot_router):
    from scipy import stats

    test = mrs.bias_heterogeneity_test(pilot_router, n_splits=30, aggregation="median", rng=0)
    plan = mrs.plan_heterogeneity(pilot_router, sizes=[25, 100, 400], test=test)
    mu = test.statistic
    assert plan.noncentrality == mu and plan.n_gold_pilot == 100
    # statsmodels' NormalIndPower equals the direct formula
    expected = stats.norm.cdf(mu * np.sqrt(np.array([25, 100, 400]) / 100) - stats.norm.ppf(0.975))
    np.testing.assert_allclose(plan.power, expected, rtol=1e-10)
    # at the pilot size: the chance that the median t clears the test's critical value under N(mu, 1)
    assert plan.power[1] == pytest.approx(stats.norm.sf(stats.norm.ppf(0.975) - mu))
    assert np.all(plan.power_low <= plan.power) and np.all(plan.power <= plan.power_high)
    # the size for the target is the first one whose power reaches it
    n_est = plan.n_for_power[0]
    p_at = mrs.plan_heterogeneity(pilot_router, sizes=[n_est - 1, n_est], test=test).power
    assert p_at[0] < 0.8 <= p_at[1] + 1e-12
    assert plan.n_for_power[1] <= n_est <= plan.n_for_power[2]
    assert "heterogeneity" in plan.summary() and plan.to_frame().shape == (3, 4)
    assert "median" in plan.summary()


def test_heterogeneity_plan_of_the_bootstrap_test_uses_its_null_law(pilot_router):
    from scipy import stats

    plan = mrs.plan_heterogeneity(pilot_router, sizes=[25, 100, 400], n_splits=30, rng=0)
    test = mrs.bias_heterogeneity_test(pilot_router, n_splits=30, rng=0)
    assert test.aggregation == "bootstrap" and plan.noncentrality == test.statistic
    sd0 = np.std(test.null_statistics, ddof=1)
    q = np.quantile(test.null_statistics, 0.95)
    # power: the chance that T ~ N(mu(m), sd0) clears the bootstrap critical value q
    expected = stats.norm.cdf((test.statistic * np.sqrt(np.array([25, 100, 400]) / 100) - q) / sd0)
    np.testing.assert_allclose(plan.power, expected, rtol=1e-10)
    n_est = plan.n_for_power[0]
    p_at = mrs.plan_heterogeneity(pilot_router, sizes=[n_est - 1, n_est], test=test).power
    assert p_at[0] < 0.8 <= p_at[1] + 1e-12
    assert "wild-bootstrap" in plan.summary()


def test_heterogeneity_plan_errors(pilot_router):
    with pytest.raises(ValueError, match="`sizes` must be gold sizes of at least 2"):
        mrs.plan_heterogeneity(pilot_router, sizes=[1, 10])
    with pytest.raises(ValueError, match="target_power"):
        mrs.plan_heterogeneity(pilot_router, target_power=1.5)
    with pytest.raises(ValueError, match="n_splits"):
        mrs.plan_heterogeneity(pilot_router, n_splits=1)
    forest = mrs.MetaRouter(cate="forest", random_state=0).fit(
        mrs.simulate(n_gold=60, n_preference=300, n_test=1, d=6, rng=1).train)
    with pytest.raises(Exception, match="scores"):
        mrs.plan_heterogeneity(forest)


class _SpyRouter(mrs.MetaRouter):
    """A MetaRouter that records the query ids of every fit (class-level: clones share the log)."""

    log: list = []

    def fit(self, X, y=None, source=None, **kw):
        _SpyRouter.log.append((np.asarray(X.query_ids[X.is_gold]), np.asarray(X.query_ids[~X.is_gold])))
        return super().fit(X, y, source, **kw)


def test_learning_curve_never_fits_on_a_label_of_a_held_out_query():
    # paired pilot: the judge labels every query, 60 of them also have gold. In the refits with the most gold
    # labels, every gold query left out is held out for scoring: none of its rows (its judge row included)
    # may be in the fit.
    s = mrs.simulate(n_gold=60, n_preference=300, n_test=5, d=6, design="paired", rng=0)
    _SpyRouter.log.clear()
    curve = mrs.gold_learning_curve(s.train, router=_SpyRouter(), sizes=[25, 40], n_repeats=3, n_boot=20, rng=0)
    assert curve.sizes.size == 6 and len(_SpyRouter.log) == 6
    all_gold = set(s.train.query_ids[s.train.is_gold])
    largest = [(g, p) for g, p in _SpyRouter.log if g.size == 40]
    assert len(largest) == 3
    for gold_ids, pref_ids in largest:
        held = all_gold - set(gold_ids)
        assert len(held) == 20
        assert not held & set(pref_ids), "a held-out query's judge row was in the fit"
    # the rows not held out are all used: judge rows of the other queries, including not-yet-added gold queries
    for gold_ids, pref_ids in _SpyRouter.log:
        assert len(pref_ids) == 300 - 20


def test_degenerate_pilots_are_refused_never_planned():
    s = mrs.simulate(n_gold=40, n_preference=300, n_test=2, d=6, rng=0)
    d = s.train
    flat = mrs.RoutingData(d.X, np.where(d.is_gold, 1.0, d.outcome), d.source, query_ids=d.query_ids)
    with pytest.raises(ValueError, match="gold labels are all equal"):
        mrs.plan_gold(flat, target_half_width=0.1)
    with pytest.raises(ValueError, match="gold labels are all equal"):
        mrs.gold_learning_curve(flat, n_repeats=3, rng=0)
    with pytest.raises(TypeError, match="`paired` must be True, False or None"):
        mrs.plan_gold(d, paired="no")  # a truthy string must not plan the paired test


def test_results_from_other_fits_or_data_are_refused():
    s = mrs.simulate(n_gold=30, n_preference=200, n_test=60, d=6, rng=0)
    other = mrs.simulate(n_gold=200, n_preference=400, n_test=2, d=6, rng=1)
    R = mrs.MetaRouter(random_state=0).fit(s.train)
    R2 = mrs.MetaRouter(random_state=0).fit(other.train)
    with pytest.raises(ValueError, match="another learner's scores"):
        mrs.plan_heterogeneity(R, test=mrs.bias_heterogeneity_test(R2, n_splits=5, rng=0))
    mrs.plan_heterogeneity(R, test=mrs.bias_heterogeneity_test(R, n_splits=5, rng=0))  # its own: accepted
    same_size = mrs.simulate(n_gold=30, n_preference=200, n_test=2, d=6, rng=5).train
    with pytest.raises(ValueError, match="not the router's training data"):
        mrs.bias_interval(R, s.X_test[:3], n_boot=2, method="refit", data=same_size, rng=0, progress=False)


def test_a_selection_refuses_another_pool_or_order(pool):
    X_pool = pool[1]
    first = mrs.select_for_gold(None, X_pool, 10, strategy="uniform", rng=0)
    with pytest.raises(ValueError, match="another pool"):
        mrs.select_for_gold(None, X_pool[::-1], 10, strategy="uniform", previous=first, rng=1)
    n = X_pool.shape[0]
    with pytest.raises(ValueError, match="not the pool this selection was drawn from"):
        first.routing_data(X_pool[::-1], np.zeros(n), np.ones(n))
    assert first.routing_data(X_pool, np.zeros(n), np.ones(n)).n_gold == 10
