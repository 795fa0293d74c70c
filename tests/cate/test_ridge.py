"""GramRidgeCV (metarouter_stats/cate/ridge.py) against scikit-learn's RidgeCV and brute-force leave-one-out."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV

from metarouter_stats.cate import ridge as ridge_module
from metarouter_stats.cate.final_stage import FINAL_ALPHAS
from metarouter_stats.cate.ridge import GramRidgeCV


@pytest.mark.parametrize("n, d, weighted, intercept", [
    (300, 5, False, True), (2000, 40, True, True), (400, 30, True, False), (60, 80, False, True),
])
def test_same_penalty_and_fit_as_ridgecv(n, d, weighted, intercept, monkeypatch):
    monkeypatch.setattr(ridge_module, "BLOCK_ROWS", 97)  # several blocks, one ragged
    rng = np.random.default_rng(n + d)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 3.0, d) + 2.0
    y = 0.3 * X[:, 0] + rng.normal(size=n) * 2.0
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    ref = RidgeCV(alphas=FINAL_ALPHAS, fit_intercept=intercept).fit(X, y, sample_weight=w)
    fast = GramRidgeCV(alphas=FINAL_ALPHAS, fit_intercept=intercept).fit(X, y, sample_weight=w)
    assert fast.alpha_ == ref.alpha_
    np.testing.assert_allclose(fast.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.best_score_, ref.best_score_, rtol=1e-9)


def test_leave_one_out_predictions_are_refits_without_the_row():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] + rng.normal(size=40)
    w = rng.uniform(0.5, 2.0, 40)
    fast = GramRidgeCV(alphas=[0.5, 5.0, 50.0]).fit(X, y, sample_weight=w)
    brute = [Ridge(alpha=fast.alpha_).fit(np.delete(X, i, 0), np.delete(y, i), sample_weight=np.delete(w, i))
             .predict(X[i:i + 1])[0] for i in range(40)]
    np.testing.assert_allclose(fast.loo_predictions_, brute, rtol=1e-10, atol=1e-12)


def test_other_settings_are_scikit_learns_fit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    Y = np.column_stack([X[:, 0], X[:, 1]]) + rng.normal(size=(100, 2))
    fast = GramRidgeCV(alphas=FINAL_ALPHAS).fit(X, Y)  # two targets: scikit-learn's route
    assert not hasattr(fast, "loo_predictions_")
    np.testing.assert_allclose(fast.coef_, RidgeCV(alphas=FINAL_ALPHAS).fit(X, Y).coef_)
    with pytest.raises(ValueError):
        GramRidgeCV(alphas=[-1.0]).fit(X, Y[:, 0])  # scikit-learn's own message for a bad grid
