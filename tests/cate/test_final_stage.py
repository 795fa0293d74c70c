"""Final stages: exact leave-one-out predictions, stacking, the one-SE rule, fixed-penalty refits."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV
from sklearn.pipeline import Pipeline

import metarouter_stats as mrs
from metarouter_stats.cate import DRBiasLearner
from metarouter_stats.cate import final_stage as fs
from metarouter_stats.inference.split_bootstrap import is_linear_smoother


@pytest.fixture(scope="module")
def step_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    return X, np.sign(X[:, 0]) + rng.normal(size=600), rng.uniform(0.5, 2.0, 600)


@pytest.mark.parametrize("name", ["linear", "spline", "spline_pairs"])
def test_leave_one_out_predictions_equal_scikit_learns_stored_errors(step_data, name):
    X, y, w = step_data
    model = clone(fs.final_stage_candidates()[name])
    ridge = model.steps[-1][1] if isinstance(model, Pipeline) else model
    ridge.set_params(store_cv_results=True)
    fs._fit(model, X, y, w)
    ridge = model.steps[-1][1] if isinstance(model, Pipeline) else model
    column = list(ridge.alphas).index(ridge.alpha_)
    loo = fs.ridge_loo_predictions(model, X, y, w)
    np.testing.assert_allclose(w * (y - loo) ** 2, ridge.cv_results_[:, column], rtol=1e-8, atol=1e-12)


def test_leave_one_out_predictions_equal_refits_without_the_row():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    model = Ridge(alpha=2.0).fit(X, y)
    loo = fs.ridge_loo_predictions(model, X, y, None)
    for i in (0, 17, 39):
        keep = np.arange(40) != i
        assert loo[i] == pytest.approx(Ridge(alpha=2.0).fit(X[keep], y[keep]).predict(X[i:i + 1])[0], rel=1e-9)


def test_stacking_weights_are_a_convex_combination_that_beats_each_candidate_out_of_fold(step_data):
    X, y, w = step_data
    stage = fs.SelectedFinalStage().fit(X, y, w)
    weights = np.array(list(stage.weights_.values()))
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    assert stage.cv_loss_["blend"] <= min(stage.cv_loss_[n] for n in stage.weights_) + 1e-12
    assert stage.chosen_ != "linear"  # a step: the spline bases carry the weight
    # the prediction is the weighted sum of the candidates refitted on all rows
    parts = [fs._fit(clone(fs.final_stage_candidates()[n]), X, y, w).predict(X[:5]) for n in stage.weights_]
    np.testing.assert_allclose(stage.predict(X[:5]), sum(a * p for a, p in zip(weights, parts)), rtol=1e-9)


def test_one_se_keeps_the_linear_stage_when_the_truth_is_linear_and_equals_it_exactly():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 4))
    y = X[:, 1] + rng.normal(size=500)
    stage = fs.SelectedFinalStage(rule="one_se").fit(X, y)
    assert stage.chosen_ == "linear" and stage.weights_["linear"] == 1.0
    # the linear candidate is a GramRidgeCV: scikit-learn's RidgeCV fit, to rounding
    np.testing.assert_allclose(stage.predict(X), RidgeCV(alphas=fs.FINAL_ALPHAS).fit(X, y).predict(X), rtol=1e-12,
                               atol=1e-12)


def test_other_candidates_are_cross_validated_and_errors_name_the_argument(step_data):
    X, y, _ = step_data
    stage = fs.SelectedFinalStage(candidates={"ols": LinearRegression(), "ridge": Ridge(alpha=1.0)}).fit(X, y)
    assert set(stage.weights_) == {"ols", "ridge"}
    with pytest.raises(ValueError, match="`rule` must be one of"):
        fs.SelectedFinalStage(rule="best").fit(X, y)
    with pytest.raises(ValueError, match="`candidates` must hold"):
        fs.SelectedFinalStage(candidates={}).fit(X, y)


def test_spline_candidates_too_large_for_memory_are_skipped(step_data, monkeypatch):
    X, y, _ = step_data
    monkeypatch.setattr(fs, "MAX_BASIS_CELLS", 600 * 10)
    stage = fs.SelectedFinalStage().fit(X, y)
    assert stage.skipped_ == ["spline", "spline_pairs"] and stage.weights_ == {"linear": 1.0}


def test_fixed_penalty_refits_hold_the_chosen_penalties_and_weights(step_data):
    X, y, w = step_data
    stage = fs.SelectedFinalStage().fit(X, y, w)
    fixed = fs.fixed_penalty(stage)
    assert isinstance(fixed, fs.Blend) and is_linear_smoother(fixed)
    np.testing.assert_allclose(fs._fit(fixed, X, y, w).predict(X[:7]), stage.predict(X[:7]), rtol=1e-8)
    # undersmoothing multiplies every component's penalty
    half = fs.fixed_penalty(stage, 0.5)
    alphas = [est.steps[-1][1].alpha if isinstance(est, Pipeline) else est.alpha for _, est in half.estimators]
    full = [est.steps[-1][1].alpha if isinstance(est, Pipeline) else est.alpha for _, est in fixed.estimators]
    np.testing.assert_allclose(alphas, 0.5 * np.array(full))
    assert fs.is_penalised(fs.SelectedFinalStage()) and not fs.is_penalised(LinearRegression())


def test_a_learner_with_the_selected_stage_refits_and_undersmooths():
    s = mrs.simulate(n_gold=80, n_preference=400, n_test=20, d=6, scenario="step_bias", rng=3)
    learner = DRBiasLearner(model_final=fs.SelectedFinalStage(), random_state=0)
    learner.fit(s.train.X, np.where(s.train.source == 1, s.scale * s.train.outcome, s.train.outcome), s.train.source)
    assert "undersmooth" in learner.capabilities
    sc = learner.scores_
    again = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights)
    np.testing.assert_allclose(again.predict(s.X_test), learner.effect(s.X_test), rtol=1e-8, atol=1e-10)
    assert is_linear_smoother(again)
    band = mrs.bias_interval(mrs.MetaRouter(cate=learner, scale=s.scale, random_state=0).fit(s.train), s.X_test,
                             n_boot=20, rng=0)
    assert np.all(band.low <= band.high)
