import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import metarouter_stats as mrs
from sklearn.dummy import DummyClassifier

from metarouter_stats.cate import ClippedPropensity, ConstantPropensity, DRBiasLearner, RBiasLearner


def _dr_pseudo(y, t, mu0, mu1, e):
    return mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)


def test_dr_recovers_linear_bias():
    s = mrs.simulate(n_gold=500, n_preference=4000, n_test=500, rng=0)
    t = s.train
    o = np.where(t.is_gold, s.scale * t.outcome, t.outcome)
    m = DRBiasLearner(propensity="share", random_state=0).fit(t.X, o, t.source)
    truth = s.delta(s.X_test, scale="preference")
    est = m.effect(s.X_test)
    assert np.corrcoef(est, truth)[0, 1] > 0.9
    assert abs(est.mean() - truth.mean()) < 0.1


def test_dr_pseudo_outcomes_match_independent_formula():
    """With known propensity and linear outcome models, re-derive the pseudo-outcomes by hand."""
    rng = np.random.default_rng(5)
    n = 400
    X = rng.normal(size=(n, 3))
    t = (rng.random(n) < 0.2).astype(int)
    y = X[:, 0] + t * (1 + X[:, 1]) + rng.normal(size=n)
    m = DRBiasLearner(model_outcome=LinearRegression(), propensity=0.2, cv=2, random_state=0).fit(X, y, t)
    est = m.estimator_
    # rebuild with the fitted fold models: each row's pseudo-outcome must use a model not fitted on it
    mu = np.column_stack([
        np.mean([mod.predict(np.column_stack([X, np.full(n, k)])) for mod in est.models_regression[0]], axis=0)
        for k in (0, 1)
    ])
    direct = _dr_pseudo(y, t, mu[:, 0], mu[:, 1], 0.2)
    # cross-fitted values differ from fold-averaged ones only through fold noise
    assert np.corrcoef(direct, m.scores_.pseudo_outcomes)[0, 1] > 0.99


def test_r_learner_weights_are_squared_residuals():
    s = mrs.simulate(n_gold=100, n_preference=900, n_test=10, rng=1)
    t = s.train
    m = RBiasLearner(propensity="share", random_state=0).fit(t.X, t.outcome, t.source)
    p = t.gold_share
    # with the known share, t - e is 1 - p (gold) or -p (preference), up to fold shares
    np.testing.assert_allclose(np.sqrt(m.scores_.weights[t.is_gold]), 1 - p, atol=0.01)
    np.testing.assert_allclose(np.sqrt(m.scores_.weights[~t.is_gold]), p, atol=0.01)


def test_propensity_clipped_relative_to_share():
    X = np.linspace(-5, 5, 200).reshape(-1, 1)
    y = (X[:, 0] > 4.5).astype(int)
    clf = ClippedPropensity(ratio=20).fit(X, y)
    p = y.mean()
    proba = clf.predict_proba(X)[:, 1]
    assert proba.min() >= p / 20 - 1e-12 and proba.max() <= p * 20 + 1e-12
    np.testing.assert_allclose(proba + clf.predict_proba(X)[:, 0], 1.0)


def test_constant_and_share_propensities():
    assert ConstantPropensity(0.3).fit(np.zeros((10, 1)), [0] * 10).predict_proba(np.zeros((2, 1)))[0, 1] == 0.3
    # propensity="share" is scikit-learn's prior classifier: the gold share of the fold
    m = DummyClassifier(strategy="prior").fit(np.zeros((10, 1)), [1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert m.predict_proba(np.zeros((1, 1)))[0, 1] == pytest.approx(0.2)


def test_r_learner_warns_when_gold_is_vanishing():
    rng = np.random.default_rng(0)
    n = 6000
    X = rng.normal(size=(n, 2))
    t = np.zeros(n, dtype=int)
    t[:3] = 1
    y = rng.normal(size=n)
    with pytest.warns(RuntimeWarning, match="residualised treatment"):
        RBiasLearner(propensity="share", cv=2, random_state=0).fit(X, y, t)


def test_propensity_memo_reuses_identical_fits_and_changes_nothing():
    """DR and R cross-fit the same propensity on the same folds: the second fit is a memo hit."""
    from sklearn.linear_model import LogisticRegression

    from metarouter_stats.cate import nuisance

    s = mrs.simulate(n_gold=40, n_preference=400, n_test=5, rng=11)
    before = nuisance._FITTED.hits
    dr = mrs.MetaRouter(cate="dr", random_state=4).fit(s.train)
    r = mrs.MetaRouter(cate="r", random_state=4).fit(s.train)
    assert nuisance._FITTED.hits - before >= 5  # one per cross-fitting fold
    np.testing.assert_array_equal(dr.bias_learner_.predict_propensity(s.X_test), r.bias_learner_.predict_propensity(s.X_test))
    # the memo off gives the same numbers
    saved, nuisance._FITTED.maxsize = nuisance._FITTED.maxsize, 0
    try:
        r0 = mrs.MetaRouter(cate="r", random_state=4).fit(s.train)
    finally:
        nuisance._FITTED.maxsize = saved
    np.testing.assert_array_equal(r.predict_gain(s.X_test), r0.predict_gain(s.X_test))
    # a model with random_state=None is never memoised (its randomness is "a fresh draw")
    assert not nuisance._FittedModels._deterministic(LogisticRegression(solver="saga"))


def _selected_on_x(n=20000, seed=0):
    """Gold drawn with known probabilities exp(x0)-tilted; the outcome is non-linear in x0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    pi = np.clip(0.08 * np.exp(X[:, 0]) / np.exp(0.5), 0.005, 0.9)
    t = (rng.random(n) < pi).astype(int)
    y = np.abs(X[:, 0]) + t * (1.0 + X[:, 0] ** 2) + rng.normal(size=n)  # Delta(x) = 1 + x0^2, mean 2
    return X, y, t, pi


def test_known_propensity_makes_dr_consistent_with_a_useless_outcome_model():
    """With mu = a constant the DR mean is pure IPW: only the known design's probabilities can unbias it."""
    from sklearn.dummy import DummyRegressor

    X, y, t, pi = _selected_on_x()
    kw = dict(model_outcome=DummyRegressor(), cv=2, random_state=0)
    known = DRBiasLearner(**kw).fit(X, y, t, propensity=pi)
    share = DRBiasLearner(propensity="share", **kw).fit(X, y, t)
    phi = known.scores_.pseudo_outcomes
    se = phi.std() / np.sqrt(phi.size)
    assert abs(phi.mean() - 2.0) < 4 * se  # truth E[Delta] = 1 + E[x0^2] = 2
    assert abs(share.scores_.pseudo_outcomes.mean() - 2.0) > 6 * se  # ignoring the design: biased (+1.36)
    assert known.known_propensity_ is not None and "propensity" not in known.capabilities
    with pytest.raises(TypeError, match="known by design"):
        known.predict_propensity(X[:2])


def test_known_propensity_is_not_a_feature_of_the_outcome_model():
    X, y, t, pi = _selected_on_x(n=3000)
    m = DRBiasLearner(model_outcome=LinearRegression(), cv=2, random_state=0).fit(X, y, t, propensity=pi)
    for fold_model in m.estimator_.models_regression[0]:
        assert fold_model.estimator_.n_features_in_ == X.shape[1] + 1  # x and t, not the probability
    r = RBiasLearner(model_outcome=LinearRegression(), cv=2, random_state=0).fit(X, y, t, propensity=pi)
    for fold_model in r.estimator_.models_y[0]:
        assert fold_model.estimator_.n_features_in_ == X.shape[1]
    _, t_res = r.estimator_.residuals_[:2]
    np.testing.assert_allclose(np.ravel(t_res), t - pi)  # t - e(x) with e the design's, exactly


def test_constant_known_propensity_equals_the_constant_setting():
    X, y, t, _ = _selected_on_x(n=3000)
    a = DRBiasLearner(propensity=0.1, random_state=0).fit(X, y, t)
    b = DRBiasLearner(random_state=0).fit(X, y, t, propensity=np.full(t.size, 0.1))
    np.testing.assert_allclose(a.scores_.pseudo_outcomes, b.scores_.pseudo_outcomes, rtol=1e-12)
    np.testing.assert_allclose(a.effect(X[:20]), b.effect(X[:20]), rtol=1e-12)


@pytest.mark.parametrize(
    ("pi", "match"),
    [
        (lambda n: np.zeros(n), r"\(0, 1\]"),
        (lambda n: np.full(n, 1.5), r"\(0, 1\]"),
        (lambda n: np.full(n, np.nan), r"\(0, 1\]"),
        (lambda n: np.full(n - 1, 0.1), "one entry per row"),
        (lambda n: np.ones(n), "preference row"),
        (lambda n: "share", "1-D array"),
    ],
)
def test_known_propensity_input_errors(pi, match):
    X, y, t, _ = _selected_on_x(n=400)
    with pytest.raises(ValueError, match=match):
        DRBiasLearner(random_state=0).fit(X, y, t, propensity=pi(t.size))
    with pytest.raises(ValueError, match=match):
        mrs.RoutingData(X, y, t, propensity=pi(t.size))


def test_r_learner_refuses_certain_gold_and_other_learners_refuse_known_propensities():
    from econml.metalearners import TLearner

    from metarouter_stats.cate import EconMLLearner

    X, y, t, pi = _selected_on_x(n=2000)
    pi = np.where(t == 1, 1.0, pi)
    with pytest.raises(ValueError, match="below 1 on every row for the R-learner"):
        RBiasLearner(random_state=0).fit(X, y, t, propensity=pi)
    DRBiasLearner(random_state=0).fit(X, y, t, propensity=pi)  # take-all gold rows are fine for DR
    router = mrs.MetaRouter(cate=EconMLLearner(TLearner(models=LinearRegression())), scale=1.0, random_state=0)
    with pytest.raises(TypeError, match="known_propensity"):
        router.fit(X, y, t, propensity=pi)


class _Plain:
    """Follows the documented protocol and nothing else (no get_params): the mean difference."""

    def __init__(self, out=None, fit_returns_self=True):
        self.out, self.fit_returns_self = out, fit_returns_self

    def fit(self, X, y, t):
        self.mean_ = float(np.mean(y[t == 1]) - np.mean(y[t == 0]))
        return self if self.fit_returns_self else None

    def effect(self, X):
        n = np.asarray(X).shape[0]
        if self.out == "scalar":
            return self.mean_
        if self.out == "huge":
            return np.full(n, 1e308)
        if self.out == "nan":
            return np.full(n, np.nan)
        if self.out == "none":
            return None
        if self.out == "short":
            return np.full(n - 1, self.mean_)
        return np.full(n, self.mean_)


def test_a_learners_outputs_are_checked_where_they_enter_and_name_the_learner():
    s = mrs.simulate(n_gold=30, n_preference=200, n_test=60, d=6, rng=0)
    ok = mrs.MetaRouter(cate=_Plain(), scale=1.0, random_state=0).fit(s.train)  # no get_params: copied, not refused
    assert ok.predict_bias(s.X_test).shape == (60,)
    for out, message in [("scalar", r"_Plain.effect\(\) returned shape \(\) for 230 queries"),
                         ("huge", "non-finite or overflowing"), ("nan", "non-finite or overflowing"),
                         ("none", r"_Plain.effect\(\) returned None"), ("short", r"returned shape \(229,\)")]:
        with pytest.raises((ValueError, TypeError), match=message):
            mrs.MetaRouter(cate=_Plain(out), scale=1.0, random_state=0).fit(s.train)
    with pytest.raises(TypeError, match=r"_Plain.fit\(\) returned None.*return self"):
        mrs.MetaRouter(cate=_Plain(fit_returns_self=False), scale=1.0, random_state=0).fit(s.train)
