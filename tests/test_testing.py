"""metarouter_stats.testing: the conformance check passes the package's learners and names what broken ones break."""

import numpy as np
import pytest
from hypothesis import given, settings

import metarouter_stats as mrs
from metarouter_stats.testing import check_bias_learner, routing_data

ALL = ["protocol", "output shape and finiteness", "seeded reproducibility", "gold shift equivariance", "row order",
       "declared capabilities"]


@pytest.mark.parametrize("spec", ["dr", "r", "forest", "paired"])
def test_the_package_learners_pass(spec):
    assert check_bias_learner(spec) == ALL


def test_an_econml_xlearner_passes():
    from econml.metalearners import XLearner
    from sklearn.ensemble import HistGradientBoostingRegressor

    from metarouter_stats.cate import EconMLLearner

    assert check_bias_learner(EconMLLearner(XLearner(models=HistGradientBoostingRegressor()))) == ALL


class _Broken:
    """A learner broken in one way (``how``), otherwise the difference of means plus a slope in x0."""

    def __init__(self, how=None, random_state=None):
        self.how, self.random_state = how, random_state

    def get_params(self, deep=False):
        return {"how": self.how, "random_state": self.random_state}

    def set_params(self, **p):
        for k, v in p.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y, t):
        X, y, t = np.asarray(X), np.asarray(y), np.asarray(t)
        self.mean_ = float(y[t == 1].mean() - y[t == 0].mean())
        if self.how == "ignores gold shift":
            self.mean_ = float(np.median(y[t == 0]))
        if self.how == "row order":
            self.mean_ += 0.3 * float(X[0, 0])  # depends on which row comes first
        if self.how == "unseeded":
            self.mean_ += np.random.default_rng().normal()
        return None if self.how == "fit returns None" else self

    def effect(self, X):
        n = np.asarray(X).shape[0]
        if self.how == "scalar":
            return self.mean_
        if self.how == "nan":
            return np.full(n, np.nan)
        return np.full(n, self.mean_)


@pytest.mark.parametrize("how, prop", [
    ("fit returns None", "protocol"), ("scalar", "output shape and finiteness"),
    ("nan", "output shape and finiteness"), ("unseeded", "seeded reproducibility"),
    ("ignores gold shift", "gold shift equivariance"), ("row order", "row order"),
])
def test_broken_learners_fail_with_the_property_named(how, prop):
    with pytest.raises(AssertionError, match=f"property '{prop}' broke for _Broken"):
        check_bias_learner(_Broken(how))


def test_a_false_capability_claim_is_caught():
    class Claims(_Broken):
        capabilities = frozenset({"scores"})  # but no scores_

    with pytest.raises(AssertionError, match="'declared capabilities'.*no CrossFitScores"):
        check_bias_learner(Claims())
    assert check_bias_learner(_Broken()) == ALL  # the unbroken one passes


@settings(max_examples=25, deadline=None)
@given(routing_data(paired=True, propensity=False))
def test_strategy_draws_valid_paired_data(data):
    pairs = data.paired()
    assert len(pairs) == data.n_gold  # every gold row pairs with a preference row of its query
    assert data.n_gold >= 2 and data.n_preference >= 2


@settings(max_examples=15, deadline=None)
@given(routing_data(paired=False, propensity=True))
def test_strategy_draws_known_propensities(data):
    assert data.propensity is not None and np.all((data.propensity > 0) & (data.propensity < 1))
    assert len(data.paired()) == 0
