"""The split-aggregation engine: its statistics against statsmodels and loops, its refits, and its calibration."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import Ridge

import metarouter_stats as mrs
from metarouter_stats.cate import CrossFitScores
from metarouter_stats.inference import split_bootstrap as sb


class ScoreLearner:
    """A bias learner reduced to given scores and a ridge final stage (the protocol's two capabilities)."""

    capabilities = frozenset({"scores", "refit_final"})

    def __init__(self, X, phi, groups=None, source=None, alpha=10.0):
        n = X.shape[0]
        source = np.zeros(n, dtype=int) if source is None else source
        if source.sum() == 0:
            source[: n // 5] = 1
        self.scores_ = CrossFitScores(X=X, pseudo_outcomes=phi, weights=np.ones(n), source=source, groups=groups)
        self.alpha = alpha

    def fit(self, *args, **kwargs):  # pragma: no cover - the scores are given
        return self

    def effect(self, X):
        return self.refit_final(self.scores_.X, self.scores_.pseudo_outcomes, self.scores_.weights).predict(X)

    def refit_final(self, X, phi, w):
        return Ridge(alpha=self.alpha).fit(X, phi, sample_weight=w)


def test_blp_statistics_equal_statsmodels_wls_hc3_and_clustered():
    rng = np.random.default_rng(0)
    n, b = 200, 3
    phi, proxy, w = rng.normal(size=(n, b)), rng.normal(size=(n, b)), rng.uniform(0.2, 2.0, n)
    unit = rng.integers(0, 80, n)
    for cluster in (None, unit):
        t, slope, se, icpt, icpt_se, _ = sb.blp_statistics(phi, proxy, w, cluster)
        for j in range(b):
            c = proxy[:, j] - np.average(proxy[:, j], weights=w)
            kw = {"cov_type": "HC3"} if cluster is None else {"cov_type": "cluster", "cov_kwds": {"groups": cluster}}
            fit = sm.WLS(phi[:, j], np.column_stack([np.ones(n), c]), weights=w).fit(**kw)
            np.testing.assert_allclose([icpt[j], slope[j]], fit.params, rtol=1e-10)
            np.testing.assert_allclose([icpt_se[j], se[j]], fit.bse, rtol=1e-10)
            assert t[j] == pytest.approx(fit.tvalues[1], rel=1e-10)
    # a constant proxy carries no heterogeneity
    t, slope, se, *_ = sb.blp_statistics(phi[:, :1], np.ones((n, 1)), w)
    assert (t[0], slope[0], se[0]) == (0.0, 0.0, np.inf)


def test_group_statistics_equal_a_loop_over_groups():
    rng = np.random.default_rng(1)
    n, b, k = 150, 4, 5
    phi, proxy, w = rng.normal(size=(n, b)), rng.normal(size=(n, b)), rng.uniform(0.5, 1.5, n)
    unit = rng.integers(0, 60, n)
    groups = sb.quantile_groups(proxy, k)
    for cluster in (None, unit):
        means, ses = sb.group_statistics(phi, groups, w, k, cluster)
        for j in range(b):
            ranks = np.empty(n, dtype=int)
            ranks[np.argsort(proxy[:, j])] = np.arange(n)
            g = ranks * k // n
            np.testing.assert_array_equal(groups[:, j], g)
            for q in range(k):
                rows = g == q
                mean = np.average(phi[rows, j], weights=w[rows])
                infl = w[rows] * (phi[rows, j] - mean)
                if cluster is not None:
                    infl = np.bincount(np.unique(cluster[rows], return_inverse=True)[1], weights=infl)
                m = infl.size
                se = np.sqrt(np.sum(infl**2) / np.sum(w[rows]) ** 2 * m / (m - 1))
                assert means[j, q] == pytest.approx(mean, rel=1e-12)
                assert ses[j, q] == pytest.approx(se, rel=1e-10)


def test_multi_output_refits_equal_column_by_column_refits():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 4))
    learner = ScoreLearner(X, rng.normal(size=120))
    splits = sb.halves(learner.scores_, 3, 0)
    fast = sb.SplitProxies(learner, learner.scores_, splits)
    slow = sb.SplitProxies(learner, learner.scores_, splits)
    slow.linear = False
    assert fast.linear
    phi = rng.normal(size=(120, 5))
    for (m1, p1), (m2, p2) in zip(fast(phi), slow(phi), strict=True):
        np.testing.assert_array_equal(m1, m2)
        np.testing.assert_allclose(p1, p2, rtol=1e-9, atol=1e-12)


def test_linear_smoothers_are_recognised():
    from sklearn.linear_model import LinearRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer
    from sklearn.ensemble import RandomForestRegressor

    assert sb.is_linear_smoother(Ridge()) and sb.is_linear_smoother(LinearRegression())
    assert sb.is_linear_smoother(make_pipeline(SplineTransformer(), Ridge()))
    assert not sb.is_linear_smoother(RidgeCV())  # re-tunes its penalty on the targets
    assert not sb.is_linear_smoother(RandomForestRegressor())


def test_wild_draws_do_not_depend_on_the_block_size(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    learner = ScoreLearner(X, rng.normal(size=80))
    proxies = sb.SplitProxies(learner, learner.scores_, sb.halves(learner.scores_, 4, 0))
    w = learner.scores_.weights

    def stat(main, proxy, phi):
        return sb.blp_statistics(phi, proxy, w[main])[0][:, None]

    centre = np.zeros(80)
    a = sb.wild_draws(stat, proxies, centre, 30, 5)
    monkeypatch.setattr(sb, "BLOCK", 7)
    b = sb.wild_draws(stat, proxies, centre, 30, 5)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def _null_and_alternative(rep, slope, paired=False):
    """Scores with a constant (slope 0) or linear bias in x0, noise N(0, 1); paired: two rows per query."""
    rng = np.random.default_rng(rep)
    n_q = 150 if paired else 300
    X = rng.normal(size=(n_q, 3))
    if paired:
        X = np.repeat(X, 2, axis=0)
    phi = 0.3 + slope * X[:, 0] + rng.normal(size=X.shape[0])
    groups = np.repeat(np.arange(n_q), 2) if paired else None
    source = np.tile([1, 0], n_q) if paired else None
    return ScoreLearner(X, phi, groups=groups, source=source)


@pytest.mark.parametrize("paired", [False, True])
def test_the_bootstrap_test_holds_its_level_where_the_median_rule_is_far_below(paired):
    # 80 data sets under a constant bias: rejections at 10 % (binomial SE 0.034), against the median rule's
    boot, med = [], []
    for rep in range(80):
        learner = _null_and_alternative(rep, 0.0, paired)
        boot.append(mrs.bias_heterogeneity_test(learner, n_splits=10, n_wild=99, rng=rep).p_value < 0.10)
        med.append(mrs.bias_heterogeneity_test(learner, n_splits=10, aggregation="median", rng=rep).p_value < 0.10)
    assert 0.02 <= np.mean(boot) <= 0.20
    assert np.mean(med) <= np.mean(boot)


def test_the_bootstrap_test_has_more_power_than_the_median_rule():
    boot, med = [], []
    for rep in range(40):
        learner = _null_and_alternative(100 + rep, 0.12)
        boot.append(mrs.bias_heterogeneity_test(learner, n_splits=10, n_wild=99, rng=rep).p_value < 0.05)
        med.append(mrs.bias_heterogeneity_test(learner, n_splits=10, aggregation="median", rng=rep).p_value < 0.05)
    assert np.mean(boot) > np.mean(med) + 0.1


def test_group_intervals_cover_the_split_averaged_group_means_of_the_true_bias():
    # target: the mean over the splits of each group's average true bias over its main-half rows; 90 % pointwise
    covered, widths = [], []
    for rep in range(60):
        learner = _null_and_alternative(200 + rep, 0.5)
        sc = learner.scores_
        res = mrs.bias_by_group(learner, n_groups=3, n_splits=10, n_wild=99, rng=rep)
        truth_x = 0.3 + 0.5 * sc.X[:, 0]
        # the package's splits and groups, recomputed: same seed, same halves, proxies by a fresh ridge
        gen = np.random.default_rng(rep)
        target = np.zeros(3)
        for aux, main in sb.halves(sc, 10, gen):
            proxy = Ridge(alpha=10.0).fit(sc.X[aux], sc.pseudo_outcomes[aux]).predict(sc.X[main])
            g = sb.quantile_groups(proxy[:, None], 3)[:, 0]
            target += np.array([truth_x[main][g == k].mean() for k in range(3)]) / 10
        low, high = res.confidence_interval(0.90)
        covered.append((low <= target) & (target <= high))
        widths.append(np.mean(high - low))
        assert res.aggregation == "bootstrap"
    rate = np.mean(covered)
    assert 0.80 <= rate <= 0.97  # 180 correlated group-fits: MC SE about 0.03
