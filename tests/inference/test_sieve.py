"""The closed-form ridge of the fast sieve bands, its sandwich SE and the studentised uniform band."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import Ridge

import metarouter_stats as mrs
from metarouter_stats._resampling import RowSampler, index_draws, make_band
from metarouter_stats.inference.sieve import LinearBasis, RidgeSandwich, Sieve


def _design(n: int = 300, p: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, p))
    y = 0.5 + B @ np.arange(1, p + 1) + (1 + np.abs(B[:, 0])) * rng.normal(size=n)
    return B, y, rng.normal(size=(7, p))


def test_ridge_sandwich_fits_scikit_learns_ridge_with_weights_and_copies():
    """The closed form is Ridge(alpha).fit(B, y, sample_weight=w * counts), and a replicate's counts are its
    duplicated rows: to rounding."""
    B, y, Be = _design()
    w = np.random.default_rng(1).uniform(0.2, 2.0, size=y.size)
    ridge = RidgeSandwich(B, y, w, Be, 3.0, np.arange(y.size), np.zeros(y.size, dtype=int))
    pred, _ = ridge.fit()
    np.testing.assert_allclose(pred, Ridge(alpha=3.0).fit(B, y, sample_weight=w).predict(Be), rtol=1e-10)
    rows = np.random.default_rng(2).integers(0, y.size, y.size)
    boot, _ = ridge.fit(np.bincount(rows, minlength=y.size).astype(float))
    np.testing.assert_allclose(boot, Ridge(alpha=3.0).fit(B[rows], y[rows], sample_weight=w[rows]).predict(Be),
                               rtol=1e-10)


def test_sandwich_is_statsmodels_hc0_and_cluster_covariance_without_penalty():
    """With a negligible penalty and one stratum, the SE is statsmodels' WLS HC0 (rows) or cluster-robust (queries)
    prediction SE, times the stratum's n / (n - 1) (G / (G - 1) for G clusters)."""
    B, y, Be = _design()
    n = y.size
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=n)
    X, Xe = sm.add_constant(B), sm.add_constant(Be)
    _, se = RidgeSandwich(B, y, w, Be, 1e-10, np.arange(n), np.zeros(n, dtype=int)).fit()
    cov = sm.WLS(y, X, weights=w).fit(cov_type="HC0").cov_params()
    np.testing.assert_allclose(se, np.sqrt(np.einsum("ij,jk,ik->i", Xe, cov, Xe) * n / (n - 1)), rtol=1e-7)
    groups = np.arange(n) // 3  # queries of three rows
    G = n // 3
    _, se_c = RidgeSandwich(B, y, w, Be, 1e-10, groups, np.zeros(G, dtype=int)).fit()
    cov_c = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    np.testing.assert_allclose(
        se_c, np.sqrt(np.einsum("ij,jk,ik->i", Xe, cov_c.cov_params(), Xe) * G / (G - 1)), rtol=1e-7)


def test_sandwich_matches_the_stratified_bootstrap_it_stands_for():
    """Two strata of very different noise, resampled within stratum (as the fast bootstrap draws gold and
    preference rows): the sandwich SE equals the SD of 4,000 bootstrap refits (Monte Carlo error of an SD from 4,000
    draws: about 1.1 %; tolerance 5 %), and pooling the strata would not (it centres at the pooled mean)."""
    rng = np.random.default_rng(4)
    n = 400
    B = rng.normal(size=(n, 3))
    gold = np.arange(n) < 60
    y = np.where(gold, 4.0 + 10 * rng.normal(size=n), rng.normal(size=n)) + B[:, 0]
    Be = rng.normal(size=(5, 3))
    ridge = RidgeSandwich(B, y, np.ones(n), Be, 1.0, np.arange(n), np.where(gold, 0, 1))
    _, se = ridge.fit()
    sampler = RowSampler([np.flatnonzero(gold), np.flatnonzero(~gold)])
    draws = np.array([ridge.fit(np.bincount(r, minlength=n).astype(float))[0]
                      for r in index_draws(sampler, 4000, np.random.default_rng(5))])
    np.testing.assert_allclose(se, draws.std(axis=0, ddof=1), rtol=0.05)


def test_studentised_uniform_band_covers_a_linear_truth_at_its_level():
    """Seeded small version of benchmarks/uniform_bands: 300 data sets from a linear model with heteroskedastic,
    skewed noise (n = 120, 6 coefficients, 15 points); the studentised sup-t band from 200 replicates covers the true
    line at all 15 points in 0.95 of them up to Monte Carlo error (binomial SE 0.013 at 300 data sets; the bounds
    are about 3 SE), and its critical value is above the plain sup-t's on average (the SE's own noise)."""
    rng = np.random.default_rng(6)
    n, p, m = 120, 5, 15
    Be = rng.normal(size=(m, p))
    beta = rng.normal(size=p)
    truth = 1.0 + Be @ beta
    covered, crit_s, crit_p = [], [], []
    for _ in range(300):
        B = rng.normal(size=(n, p))
        y = 1.0 + B @ beta + (0.5 + np.abs(B[:, 0])) * (rng.exponential(size=n) - 1.0)
        ridge = RidgeSandwich(B, y, np.ones(n), Be, 1e-8, np.arange(n), np.zeros(n, dtype=int))
        est, se = ridge.fit()
        out = [ridge.fit(np.bincount(r, minlength=n).astype(float)) for r in index_draws(RowSampler(n), 200, rng)]
        draws, draw_se = np.array([d for d, _ in out]), np.array([e for _, e in out])
        band = make_band(est, draws, kind="uniform", confidence_level=0.95, method="test", std_error=se,
                         draw_std_errors=draw_se)
        covered.append(bool(np.all(band.covers(truth))))
        crit_s.append(band.critical_value)
        crit_p.append(make_band(est, draws, kind="uniform", confidence_level=0.95, method="test").critical_value)
    assert 0.91 <= np.mean(covered) <= 0.99
    assert np.mean(crit_s) > np.mean(crit_p)


@pytest.fixture(scope="module")
def fitted():
    s = mrs.simulate(n_gold=80, n_preference=500, n_test=8, d=6, rng=3)
    return s, mrs.MetaRouter(random_state=0).fit(s.train)


def _sandwich(router, X):
    """The fast band's ridge on the learner's scores, as bias_interval sets it up (linear basis, penalty x 0.1)."""
    learner = router.bias_learner_
    sc = learner.scores_
    sieve = Sieve(learner, LinearBasis(), X)
    alpha = sieve.tuned_alpha(learner, sieve.basis(sc.X)) * 0.1
    unit, gold = sc.units()
    return RidgeSandwich(sc.X, sc.pseudo_outcomes, sc.weights, sieve.B_eval, alpha, unit, np.where(gold, 0, 1))


def test_bias_interval_studentises_the_fast_refitted_uniform_band_by_default(fitted):
    """Default fast band (final_stage 'auto' -> linear refit): same draws, same SE (their SD) and same pointwise band
    as studentize=False; the uniform critical value is the sup-t of the draws each divided by its own sandwich SE,
    rescaled so that the replicates' mean SE is the draws' SD (an independent re-computation from RidgeSandwich and
    the same row draws)."""
    s, router = fitted
    band = mrs.bias_interval(router, s.X_test, n_boot=40, kind="uniform", rng=0)
    plain = mrs.bias_interval(router, s.X_test, n_boot=40, kind="uniform", rng=0, studentize=False)
    np.testing.assert_array_equal(band.draws, plain.draws)
    np.testing.assert_array_equal(band.std_error, plain.std_error)
    assert band.draw_std_errors.shape == band.draws.shape and plain.draw_std_errors.size == 0
    c = router.scale_
    ridge = _sandwich(router, s.X_test)
    est, _ = ridge.fit()
    sc = router.bias_learner_.scores_
    sampler = RowSampler([np.flatnonzero(sc.source == 1), np.flatnonzero(sc.source == 0)])
    reps = [ridge.fit(np.bincount(r, minlength=sc.n).astype(float)) for r in index_draws(sampler, 40, 0)]
    draws, draw_se = np.array([d for d, _ in reps]) / c, np.array([e for _, e in reps]) / c
    np.testing.assert_allclose(draws, band.draws, rtol=1e-9, atol=1e-12)
    sd = draws.std(axis=0, ddof=1)
    t = np.max(np.abs(draws - est / c) / (draw_se * sd / draw_se.mean(axis=0)), axis=1)
    assert band.critical_value == pytest.approx(np.quantile(t, 0.95), rel=1e-9)
    np.testing.assert_allclose(band.high - band.estimate, band.critical_value * band.std_error)
    low, high = band.confidence_interval(0.95)  # the same band again from its draws
    np.testing.assert_allclose(low, band.low)
    np.testing.assert_allclose(high, band.high)
    assert "studentised" in band.target and "studentised" in band.summary()
    pointwise = mrs.bias_interval(router, s.X_test, n_boot=40, rng=0)
    pointwise_plain = mrs.bias_interval(router, s.X_test, n_boot=40, rng=0, studentize=False)
    np.testing.assert_array_equal(pointwise.low, pointwise_plain.low)
    np.testing.assert_array_equal(pointwise.high, pointwise_plain.high)


def test_studentised_band_clusters_a_paired_query(fitted):
    """On paired data with the DR-learner (a score per row, rows grouped by query) the sandwich sums a query's rows
    before squaring, as the fast bootstrap draws whole queries. (The paired learner scores each query once.)"""
    s = mrs.simulate(n_gold=60, n_preference=400, n_test=5, d=6, design="paired", rng=2)
    router = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    band = mrs.bias_interval(router, s.X_test, n_boot=30, rng=0)
    sc = router.bias_learner_.scores_
    assert sc.groups is not None
    by_query = _sandwich(router, s.X_test)
    by_row = RidgeSandwich(by_query.B, by_query.phi, by_query.w, by_query.B_eval, by_query.alpha, np.arange(sc.n),
                           np.where(sc.source == 1, 0, 1))
    np.testing.assert_array_equal(by_query.unit, np.unique(sc.groups, return_inverse=True)[1])
    assert not np.allclose(by_query.fit()[1], by_row.fit()[1], rtol=1e-3)
    assert band.draw_std_errors.shape == band.draws.shape


def test_studentize_errors_name_the_argument(fitted):
    s, router = fitted
    with pytest.raises(ValueError, match="`studentize=True` needs method='fast'"):
        mrs.bias_interval(router, s.X_test, n_boot=5, method="refit", data=s.train, studentize=True)
    with pytest.raises(ValueError, match="`studentize` must be True, False or None"):
        mrs.bias_interval(router, s.X_test, n_boot=5, studentize="yes")
    with pytest.raises(ValueError, match="go together"):
        make_band(np.zeros(2), np.zeros((3, 2)), kind="uniform", confidence_level=0.9, method="x",
                  std_error=np.ones(2))
