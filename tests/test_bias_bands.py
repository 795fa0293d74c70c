"""Bands for Delta_hat(x) (inference/bias_bands.py): the spline sieve whose target is Delta(x) itself.

The fast and refit bands' other checks live in test_inference.py.
"""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

import metarouter_stats as mrs


def test_spline_sieve_band_covers_a_nonlinear_delta_where_the_linear_band_does_not():
    """Seeded small version of bench_validity.py's sieve part (nonlinear_bias, 400 gold rows).

    The linear band's target is the best linear predictor, so it misses the non-linear Delta(x)
    (0.65-0.82 at 60 points over seeds 0-5, here 0.75); the sieve's target is Delta(x) itself
    (0.90-0.98 over the same seeds, 0.95 here; its RMS error / mean SE 0.93-1.21).
    """
    s = mrs.simulate(n_gold=400, n_preference=2000, n_test=60, scenario="nonlinear_bias", rng=0)
    router = mrs.MetaRouter(scale=s.scale, random_state=0).fit(s.train)
    truth = s.delta(s.X_test)
    sieve = mrs.bias_interval(router, s.X_test, n_boot=100, final_stage="spline", rng=0)
    linear = mrs.bias_interval(router, s.X_test, n_boot=100, rng=0)

    def cover(b):
        return np.mean((b.low <= truth) & (truth <= b.high))

    assert cover(sieve) >= 0.85 and cover(linear) <= 0.8, (cover(sieve), cover(linear))
    assert "Delta(x) itself" in sieve.target and "best linear predictor" in linear.target
    np.testing.assert_allclose(sieve.prediction, router.predict_bias(s.X_test))  # the point prediction, carried
    assert 0.7 < np.sqrt(np.mean((sieve.estimate - truth) ** 2)) / np.mean(sieve.std_error) < 1.5
    # any transformer is a basis; the same seed gives the same band for any n_jobs
    from sklearn.preprocessing import SplineTransformer

    a = mrs.bias_interval(router, s.X_test[:5], n_boot=20, final_stage=SplineTransformer(n_knots=3), rng=1)
    b = mrs.bias_interval(router, s.X_test[:5], n_boot=20, final_stage=SplineTransformer(n_knots=3), rng=1, n_jobs=2)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert "3 knots" in a.target


def test_sieve_band_input_errors():
    s = mrs.simulate(n_gold=60, n_preference=400, n_test=10, rng=3)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    with pytest.raises(ValueError, match="`final_stage` must be 'learner'"):
        mrs.bias_interval(router, s.X_test, final_stage="splines")
    with pytest.raises(ValueError, match="`final_stage` must be"):
        mrs.bias_interval(router, s.X_test, final_stage=3)
    with pytest.raises(ValueError, match="needs method='fast' or 'refit'"):
        mrs.bias_interval(router, s.X_test, final_stage="spline", method="learner")
    with pytest.raises(ValueError, match="`penalty_factor` must be 1 when `model` is given"):
        sc = router.bias_learner_.scores_
        router.bias_learner_.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, 0.5, model=Ridge())


def test_spline_basis_with_pairs_spans_products_of_the_leading_coordinates():
    """Piecewise-linear hats with linear extrapolation span x_j, so their products span x_j x_k exactly."""
    from metarouter_stats.inference import spline_basis

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)) * np.array([1.0, 0.3, 0.3, 2.0, 0.3, 0.3])  # columns 3 and 0 lead
    f = X[:, 0] * X[:, 3]

    def residual(basis, y):
        B = np.column_stack([np.ones(len(X)), basis.fit_transform(X)])
        return np.std(y - B @ np.linalg.lstsq(B, y, rcond=None)[0]) / np.std(y)

    assert residual(spline_basis(pairs=2), f) < 1e-8
    assert residual(spline_basis(), f) > 0.9  # an additive basis cannot represent a product
    assert residual(spline_basis(pairs=2), X[:, 1] * X[:, 2]) > 0.9  # the trailing coordinates are not paired
    with pytest.raises(ValueError, match="`pairs` must be 0"):
        spline_basis(pairs=1)
    with pytest.raises(ValueError, match="`pairs` must be 0"):
        spline_basis(pairs=-2)
    s = mrs.simulate(n_gold=80, n_preference=400, n_test=5, scenario="nonlinear_bias", rng=1)
    router = mrs.MetaRouter(scale=s.scale, random_state=0).fit(s.train)
    band = mrs.bias_interval(router, s.X_test, n_boot=20, final_stage="spline_pairs", rng=0)
    assert "pairs among its 5 highest-variance coordinates" in band.target
    # its column selector travels to joblib workers: same seed, same band for any n_jobs
    twin = mrs.bias_interval(router, s.X_test, n_boot=20, final_stage="spline_pairs", rng=0, n_jobs=2)
    np.testing.assert_array_equal(band.draws, twin.draws)
