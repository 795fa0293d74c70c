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
