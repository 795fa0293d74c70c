"""Cross-fitting on row numbers (metarouter_stats/cate/rows.py): the same fits as EconML on the features.

The reference is EconML's own DRLearner / NonParamDML fitted on the feature matrix with the
same models, folds and seed (the path the learners took before), so the comparison is with
an independent route through EconML, not with the wrapper itself.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression

import metarouter_stats as mrs
from metarouter_stats.cate import DRBiasLearner, RBiasLearner
from metarouter_stats.cate.nuisance import (
    ClippedPropensity, DropColumn, KnownPropensity, default_final_model, default_outcome_model,
)
from metarouter_stats.cate.ridge import GramRidgeCV
from metarouter_stats.cate.rows import RowIndexed, SharedRows, release, row_numbers
from metarouter_stats.positivity import default_propensity_model


@pytest.fixture(scope="module")
def data():
    s = mrs.simulate(n_gold=80, n_preference=900, n_test=50, d=6, rng=3)
    return s.train.X, s.train.outcome, s.train.source, s.X_test


def _plain_dr(X, y, t, W=None, prop=None, outcome=None):
    from econml.dr import DRLearner

    est = DRLearner(
        model_propensity=prop if prop is not None else ClippedPropensity(default_propensity_model()),
        model_regression=outcome if outcome is not None else default_outcome_model(0),
        model_final=default_final_model(), cv=5, min_propensity=1e-6, random_state=0,
    )
    est.fit(y, t, X=X, W=W, cache_values=True, inference=None)
    return est


def test_dr_on_row_numbers_equals_econml_on_the_features(data):
    X, y, t, X_test = data
    ours = DRBiasLearner(random_state=0).fit(X, y, t)
    plain = _plain_dr(X, y, t)
    np.testing.assert_allclose(ours.estimator_._cached_values.nuisances[0], plain._cached_values.nuisances[0],
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.effect(X_test), plain.effect(X_test), rtol=1e-10, atol=1e-12)
    # after the fit the EconML estimator works on features, with the plain fit's models in it
    np.testing.assert_allclose(ours.estimator_.effect(X_test), plain.effect(X_test), rtol=1e-10, atol=1e-12)
    for fold in ours.estimator_.models_regression[0] + ours.estimator_.models_propensity[0]:
        assert not isinstance(fold, RowIndexed)
    assert not isinstance(ours.estimator_.fitted_models_final[0], RowIndexed)
    np.testing.assert_allclose(ours.predict_propensity(X_test),
                               np.mean([m.predict_proba(X_test)[:, 1] for m in plain.models_propensity[0]], axis=0),
                               rtol=1e-12)


def test_r_on_row_numbers_equals_econml_on_the_features(data):
    from econml.dml import NonParamDML

    X, y, t, X_test = data
    ours = RBiasLearner(random_state=0).fit(X, y, t)
    plain = NonParamDML(model_y=default_outcome_model(0), model_t=ClippedPropensity(default_propensity_model()),
                        model_final=default_final_model(), discrete_treatment=True, cv=5, random_state=0)
    plain.fit(y, t, X=X, cache_values=True, inference=None)
    for a, b in zip(ours.estimator_.residuals_[:2], plain.residuals_[:2], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.effect(X_test), plain.effect(X_test).reshape(-1), rtol=1e-10, atol=1e-12)


def test_known_propensity_column_reaches_the_models_as_before(data):
    X, y, t, _ = data
    pi = np.where(t == 1, 0.2, 0.1)
    ours = DRBiasLearner(model_outcome=LinearRegression(), random_state=0).fit(X, y, t, propensity=pi)
    plain = _plain_dr(X, y, t, W=pi[:, None], prop=KnownPropensity(column=X.shape[1]),
                      outcome=DropColumn(LinearRegression(), column=X.shape[1]))
    np.testing.assert_allclose(ours.scores_.pseudo_outcomes,
                               np.diff(plain._cached_values.nuisances[0].reshape(t.size, -1), axis=1)[:, 0],
                               rtol=1e-12, atol=1e-12)


def test_the_fitted_learner_holds_no_second_matrix_and_pickles(data):
    X, y, t, X_test = data
    m = DRBiasLearner(random_state=0).fit(X, y, t)
    assert m.scores_.X.base is X or np.shares_memory(m.scores_.X, X)  # a read-only view, not a copy
    assert not m.scores_.X.flags.writeable
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(back.effect(X_test), m.effect(X_test))


def test_shared_rows_survive_clone_and_deepcopy_and_build_the_design():
    X = np.arange(12.0).reshape(4, 3)
    rows = SharedRows(X)
    wrapper = RowIndexed(LinearRegression(), rows)
    assert clone(wrapper).rows is rows and copy.deepcopy(wrapper).rows is rows
    Z = np.column_stack([row_numbers(4)[[2, 0], 0], [7.0, 8.0]])
    np.testing.assert_array_equal(rows.design(Z), [[6.0, 7.0, 8.0, 7.0], [0.0, 1.0, 2.0, 8.0]])
    assert rows.design(row_numbers(4)) is X  # every row in order: no copy
    release(rows)
    assert rows.X is None and not rows.indexed
    with pytest.raises(RuntimeError, match="released"):
        rows.design(Z)


def test_predict_proba_only_where_the_model_has_it_and_blocks_are_seamless(monkeypatch):
    import metarouter_stats.cate.rows as rows_module

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    rows = SharedRows(X)
    assert not hasattr(RowIndexed(LinearRegression(), rows), "predict_proba")
    clf = RowIndexed(LogisticRegression(), rows).fit(row_numbers(300), y)
    whole = clf.predict_proba(row_numbers(300))
    monkeypatch.setattr(rows_module, "BLOCK", 7)
    np.testing.assert_array_equal(clf.predict_proba(row_numbers(300)), whole)
    np.testing.assert_allclose(whole, LogisticRegression().fit(X, y).predict_proba(X), rtol=1e-12)


def test_standardisation_in_place_only_on_the_wrappers_own_design():
    rng = np.random.default_rng(1)
    X = rng.normal(loc=3.0, size=(200, 3))
    before = X.copy()
    y = (X[:, 0] > 3).astype(int)
    rows = SharedRows(X)
    fitted = RowIndexed(default_propensity_model(), rows).fit(row_numbers(200), y)
    np.testing.assert_array_equal(X, before)  # the shared matrix is never written
    release(rows)
    query = X[:5].copy()
    fitted.predict_proba(query)
    np.testing.assert_array_equal(query, X[:5])  # after the fit the scaler copies again
    assert fitted.estimator_.steps[0][1].copy is True


def test_a_dr_fit_holds_one_training_design_at_a_time(monkeypatch, traced_peak):
    """Peak traced memory of a DR fit beyond the data (allocations, not time): one fold's design
    (0.8 times the data) plus the propensity model's own folds (0.8) and small arrays; about 2.3
    measured here, where EconML on the same models and features takes 5.0 (``docs/benchmarks.md``, "Scale")."""
    from metarouter_stats.cate import ridge as ridge_module

    monkeypatch.setattr(ridge_module, "BLOCK_ROWS", 1024)  # the final stage's blocks, as at scale (a small share)
    rng = np.random.default_rng(0)
    n, d = 20_000, 60
    X = rng.normal(size=(n, d))
    t = (rng.random(n) < 0.05).astype(int)
    y = X[:, 0] + rng.normal(size=n)
    DRBiasLearner(cv=2, random_state=0).fit(X[:400], y[:400], t[:400])  # imports, compiled code: not the fit's
    learner = DRBiasLearner(model_final=GramRidgeCV(alphas=np.logspace(-1, 5, 31)), cv=5, random_state=0)
    _, peak = traced_peak(lambda: learner.fit(X, y, t))
    assert peak / X.nbytes < 2.6


def test_econml_reaches_a_wrapped_models_cv_for_grouped_splits():
    from sklearn.linear_model import RidgeCV

    rows = SharedRows(np.zeros((4, 1)))
    assert not hasattr(RowIndexed(LinearRegression(), rows), "cv")
    wrapped = RowIndexed(RidgeCV(cv=3), rows)
    wrapped.cv = [([0, 1], [2, 3])]
    assert wrapped.estimator.cv == [([0, 1], [2, 3])] and wrapped.cv == wrapped.estimator.cv


def test_a_design_is_built_without_a_second_copy_of_itself(monkeypatch, traced_peak):
    """The design of some rows (with or without appended columns) is filled by blocks: the traced peak of its
    build is the design plus one block, not two designs (``np.take(..., out=)`` buffered the whole result)."""
    import metarouter_stats.cate.rows as rows_module

    monkeypatch.setattr(rows_module, "BLOCK_BYTES", 1 << 18)  # 256 KiB blocks: 655 rows at d = 50
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 50))
    rows = SharedRows(X)
    picked = rng.permutation(20_000)[:16_000]
    for rest in (np.empty((16_000, 0)), rng.integers(0, 2, (16_000, 1)).astype(float)):
        Z = np.column_stack([picked.astype(float), rest])
        design, peak = traced_peak(lambda: rows.design(Z))  # noqa: B023 (called at once)
        np.testing.assert_array_equal(design, np.column_stack([X[picked], rest]))
        assert peak < 1.2 * design.nbytes, (peak / design.nbytes, rest.shape)
