import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

import metarouter_stats as mrs
from metarouter_stats.scaling import resolve_scale, wasserstein2

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
samples = st.lists(finite, min_size=3, max_size=30)


def _spread(values):
    return np.ptp(values) > 1e-3


def test_variance_by_hand():
    g = np.array([1.0, 3.0, 5.0, 9.0])
    p = np.array([0.5, -0.5, 0.2])
    assert mrs.estimate_scale(g, p, "variance") == pytest.approx(np.std(p, ddof=1) / np.std(g, ddof=1), rel=1e-12)


def test_amplitude_by_hand():
    assert mrs.estimate_scale([-2.0, 8.0, 1.0], [0.3, -0.4, 0.1], "amplitude") == pytest.approx(0.4 / 8.0)


def test_wasserstein_equal_sizes_matches_sorted_least_squares():
    rng = np.random.default_rng(1)
    g, p = rng.normal(size=40) * 3 + 1, rng.normal(size=40)
    gs, ps = np.sort(g), np.sort(p)
    expected = gs @ ps / (gs @ gs)  # least squares of matched order statistics
    assert mrs.estimate_scale(g, p, "wasserstein") == pytest.approx(expected, rel=1e-12)


def test_wasserstein_unequal_sizes_minimises_distance():
    rng = np.random.default_rng(2)
    g, p = rng.gamma(2.0, size=37) * 4, rng.gamma(2.0, size=53)
    c = mrs.estimate_scale(g, p, "wasserstein")
    # independent check: numerically minimise W2 computed on a fine quantile grid
    u = (np.arange(200_000) + 0.5) / 200_000
    qg = np.sort(g)[np.minimum((u * g.size).astype(int), g.size - 1)]
    qp = np.sort(p)[np.minimum((u * p.size).astype(int), p.size - 1)]
    best = optimize.minimize_scalar(lambda k: np.mean((k * qg - qp) ** 2), bounds=(1e-3, 10), method="bounded")
    assert c == pytest.approx(best.x, rel=1e-4)


def test_wasserstein2_matches_scipy_w1_on_two_points():
    # for two-point laws shifted by a constant, W1 = W2 = shift
    from scipy.stats import wasserstein_distance

    a, b = np.array([0.0, 1.0, 4.0]), np.array([2.0, 3.0, 6.0])
    assert wasserstein2(a, b) == pytest.approx(wasserstein_distance(a, b)) == pytest.approx(2.0)


@pytest.mark.parametrize("method", ["amplitude", "variance", "wasserstein"])
@given(g=samples, p=samples, a=st.floats(0.01, 100))
def test_scale_equivariance(method, g, p, a):
    g, p = np.array(g), np.array(p)
    try:
        c = mrs.estimate_scale(g, p, method)
    except ValueError:
        return  # degenerate inputs (no spread, c <= 0) are rejected consistently
    assert mrs.estimate_scale(a * g, p, method) == pytest.approx(c / a, rel=1e-9)


def test_simulation_scale_is_recovered_roughly():
    s = mrs.simulate(n_gold=2000, n_preference=2000, n_test=1, scenario="no_bias", rng=3)
    g = s.train.outcome[s.train.is_gold]
    p = s.train.outcome[~s.train.is_gold]
    # identical mechanisms: c is 1 up to sampling error (sd of a variance ratio ~ sqrt(2/n))
    for method in ("variance", "wasserstein"):
        assert mrs.estimate_scale(g, p, method) == pytest.approx(1.0, abs=0.1)


def test_resolve_scale():
    assert resolve_scale(None, np.ones(3), np.ones(3)) == 1.0
    assert resolve_scale(2.5, np.ones(3), np.ones(3)) == 2.5
    with pytest.raises(ValueError, match="positive finite"):
        resolve_scale(-1.0, np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="`scale` must be None"):
        resolve_scale([1], np.ones(3), np.ones(3))


@pytest.mark.parametrize("method", ["variance", "wasserstein"])
def test_scale_influence_gives_the_sampling_sd_of_c(method):
    """Delta-method SE of c against its Monte Carlo SD (skewed labels, unequal sizes)."""
    from metarouter_stats.scaling import scale_influence

    def draw(seed):
        rng = np.random.default_rng(seed)
        return rng.exponential(1.0, 150), 0.4 * rng.exponential(1.0, 400) + 0.05 * rng.normal(size=400)

    g, p = draw(0)
    ig, ip = scale_influence(g, p, method)
    assert abs(ig.mean()) < 1e-10 and abs(ip.mean()) < 1e-10
    se = np.sqrt(ig.var() / g.size + ip.var() / p.size)
    mc = np.std([mrs.estimate_scale(*draw(s), method=method) for s in range(1, 801)])
    # 800 replications: MC SD known to about 2.5 %; one sample's SE varies by about 10 %
    assert se == pytest.approx(mc, rel=0.25)


def test_scale_influence_refuses_amplitude():
    from metarouter_stats.scaling import scale_influence

    with pytest.raises(ValueError, match="extreme-value"):
        scale_influence([1.0, 2.0, 3.0], [0.5, 1.0, 2.0], "amplitude")


# --------------------------------------------------------------------------- the choice of c
def _paired_selected(n, c0, rng, *, select=True):
    """Judge labels on n queries, gold on a subset selected on x (weights exp(1.5 x)).

    y = c0 * (f + e_y) + 0.3 and r = f + e_r with sd(e_y) = sd(e_r): the judge is the gold label
    up to the scale c0, a constant and an equally reliable noise. Variance matching on the same
    queries is then consistent for c0 whatever the selection; on all labels it is not.
    """
    x = rng.normal(size=n)
    f = x + 0.5 * np.sin(2 * x)
    y = c0 * (f + 0.5 * rng.normal(size=n)) + 0.3
    w = np.exp(1.5 * x) if select else np.ones(n)
    gold = rng.choice(n, size=n // 5, replace=False, p=w / w.sum())
    r = f[gold] + 0.5 * rng.normal(size=gold.size)
    outcome = np.r_[y, r]
    source = np.r_[np.zeros(n, int), np.ones(gold.size, int)]
    ids = np.r_[np.arange(n), gold]
    return outcome, source, ids


def test_auto_is_one_when_declared_paired_on_pairs_variance_otherwise():
    from metarouter_stats.scaling import choose_scale

    y, t, q = _paired_selected(500, 2.0, np.random.default_rng(0))
    declared = choose_scale("auto", y, t, query_ids=q, shared_scale=True)
    assert (declared.value, declared.method, declared.estimated) == (1.0, "declared", False)
    assert "declared on one scale" in declared.describe()
    paired = choose_scale("auto", y, t, query_ids=q)
    assert paired.method == "paired" and paired.n_pairs == 100 and "100 pairs" in paired.reason
    g, p = y[t == 1], y[:500][q[t == 1]]  # the pairs, aligned
    assert paired.value == pytest.approx(np.std(p, ddof=1) / np.std(g, ddof=1), rel=1e-12)
    unpaired = choose_scale("auto", y, t)  # no query ids: no pairs
    assert unpaired.method == "variance"
    assert unpaired.value == pytest.approx(mrs.estimate_scale(y[t == 1], y[t == 0]), rel=1e-12)
    for given_ in (1, 2.5, None):
        ch = choose_scale(given_, y, t, query_ids=q)
        assert ch.method == "given" and ch.value == (1.0 if given_ is None else given_)
    with pytest.raises(ValueError, match="needs at least 3 queries labelled by both"):
        choose_scale("paired", y, t)
    with pytest.raises(ValueError, match="one of"):
        choose_scale("var", y, t)


def test_paired_scale_is_consistent_under_selection_where_variance_matching_is_not():
    # 40,000 judge-labelled queries, 8,000 gold: sampling SDs of c about 0.01
    y, t, q = _paired_selected(40_000, 2.0, np.random.default_rng(1))
    from metarouter_stats.scaling import choose_scale

    assert choose_scale("paired", y, t, query_ids=q).value == pytest.approx(2.0, abs=0.05)
    # gold selected on x has a smaller spread: variance matching on every label is far off
    assert abs(choose_scale("variance", y, t).value - 2.0) > 0.2


def test_paired_scale_standard_error_matches_its_monte_carlo_spread():
    # the t-test's delta-method SE of the paired c against the SD of c over 400 draws of 150 pairs
    rng = np.random.default_rng(2)
    cs, ses = [], []
    for _ in range(400):
        y, t, q = _paired_selected(150, 2.0, rng, select=False)
        g, p = y[150:], y[:150][q[150:]]
        res = mrs.bias_ttest(g, p, paired=True, scale="paired")
        cs.append(res.scale)
        ses.append(res.scale_std_error)
    ratio = np.mean(ses) / np.std(cs, ddof=1)
    assert 0.85 < ratio < 1.15  # MC SE of the SD over 400 draws: about 3.5 %


def test_parse_scale_spellings():
    from metarouter_stats.scaling import parse_scale

    assert parse_scale("1") == 1.0 and parse_scale("none") == 1.0 and parse_scale("2.5") == 2.5
    assert parse_scale("Auto") == "auto" and parse_scale("paired") == "paired"
    for bad in ("-1", "0", "nan", "varience"):
        with pytest.raises(ValueError, match="scale"):
            parse_scale(bad)


def test_one_default_everywhere():
    import inspect

    from metarouter_stats.experiment import StudyConfig
    from metarouter_stats.scaling import SCALE_DEFAULT

    assert SCALE_DEFAULT == "auto"
    for fn in (mrs.MetaRouter, mrs.PooledRouter, mrs.MeanShiftRouter, mrs.PreferenceOnlyRouter, mrs.bias_ttest,
               mrs.plan_gold, mrs.build_report):
        assert inspect.signature(fn).parameters["scale"].default == SCALE_DEFAULT, fn
    assert StudyConfig().scale == SCALE_DEFAULT


def test_routers_use_c_one_on_data_declared_on_one_scale():
    s = mrs.simulate(n_gold=40, n_preference=300, n_test=5, d=6, rng=0)
    d = s.train
    shared = mrs.RoutingData(d.X, d.outcome, d.source, query_ids=d.query_ids, shared_scale=True)
    r = mrs.MetaRouter(random_state=0).fit(shared)
    assert r.scale_ == 1.0 and r.scale_choice_.method == "declared"
    assert mrs.MeanShiftRouter(random_state=0).fit(shared).scale_ == 1.0
    r2 = mrs.MetaRouter(random_state=0).fit(d)
    assert r2.scale_choice_.method == "variance"
    assert r2.scale_ == pytest.approx(mrs.estimate_scale(d.outcome[d.is_gold], d.outcome[~d.is_gold]))
    assert mrs.bias_ttest(shared).scale == 1.0 and "declared" in mrs.bias_ttest(shared).scale_reason
