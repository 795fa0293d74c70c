r"""The bias Delta(x) as a CATE: EconML's DR-learner and R-learner.

This is the only module that imports EconML. With treatment t = 1 (gold) and
t = 0 (preference), covariates x and outcome o (gold rescaled to the preference
scale), the bias is the conditional average treatment effect

.. math:: \Delta(x) = E[o \mid t = 1, x] - E[o \mid t = 0, x]

(Meta-Router paper, Sec. 3). Two learners are offered:

``"dr"``
    :class:`econml.dr.DRLearner` (Kennedy, 2023): cross-fitted outcome model
    mu(x, t) and propensity e(x), doubly-robust pseudo-outcomes
    :math:`\mu(x,1) - \mu(x,0) + t (o - \mu(x,1))/e(x) - (1-t)(o - \mu(x,0))/(1-e(x))`,
    regressed on x by the final model.
``"r"``
    :class:`econml.dml.NonParamDML` (Nie and Wager, 2021): cross-fitted
    m(x) = E[o | x] and e(x); the final model minimises
    :math:`\sum_i (t_i - e(x_i))^2 \{(o_i - m(x_i))/(t_i - e(x_i)) - \tau(x_i)\}^2`.

Scarce gold
-----------
With a gold share p of a few percent the propensity is tiny everywhere. Two
consequences are handled here deliberately:

* propensities are clipped relative to the gold share, to ``[p / 20, 20 p]``
  (intersected with ``[1e-4, 1 - 1e-4]``), never to fixed cut-offs like 0.05, which
  would exceed p itself and erase the information in the weights;
* for the R-learner the residualised treatment ``t - e(x)`` is nearly the same
  value (about ``-p``) for every preference row: the preference rows carry almost no
  weight in the final stage and identification rests on the gold rows. The
  final-stage weights are therefore those rows' ``(t - e)^2``, and a warning is
  issued when the residual treatment variance falls below ``1e-3`` (fewer than
  about 0.1 % gold), where the R-learner's final stage is unstable.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.utils.validation import check_is_fitted

from ._checks import as_1d_float, as_2d_float, as_rng, as_source, check_positive_int
from .positivity import default_propensity_model

__all__ = [
    "CATE_METHODS",
    "BiasModel",
    "ClippedPropensity",
    "ConstantPropensity",
    "default_final_model",
    "default_outcome_model",
    "default_propensity_model",
]

CATE_METHODS = ("dr", "r")
_CLIP_RATIO = 20.0
_MIN_T_RESIDUAL_VAR = 1e-3


def default_outcome_model(random_state: int | None = None) -> BaseEstimator:
    """Default nuisance outcome model: gradient-boosted trees.

    ``HistGradientBoostingRegressor(learning_rate=0.05, max_iter=200, max_leaf_nodes=15,
    min_samples_leaf=20, l2_regularization=1.0)``: chosen from the benchmark in
    ``benchmarks/bench_defaults.py`` (see ``docs/defaults.md``).
    """
    return HistGradientBoostingRegressor(
        learning_rate=0.05,
        max_iter=200,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=random_state,
    )


def default_final_model() -> BaseEstimator:
    """Default final (CATE) model: ridge regression with leave-one-out choice of penalty.

    The DR pseudo-outcomes of gold rows have variance of order 1 / p; a regularised
    linear final stage is what keeps Delta_hat stable with 100 gold rows. Features
    are not standardised: on PCA-like embeddings the ridge penalty then shrinks
    low-variance (noise) directions most, a sensible prior for embeddings.
    """
    return RidgeCV(alphas=np.logspace(-1, 5, 31))


class ConstantPropensity(ClassifierMixin, BaseEstimator):
    """Propensity known by design: P(gold | x) = ``propensity`` for every x.

    With ``propensity=None`` the share of gold rows in the training fold is used
    (the right choice when gold queries were drawn at random from the pool).

    Parameters
    ----------
    propensity : float in (0, 1) or None
        Known probability of being gold-labelled.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.cate import ConstantPropensity
    >>> m = ConstantPropensity(0.1).fit(np.zeros((4, 1)), [0, 0, 0, 1])
    >>> m.predict_proba(np.zeros((2, 1)))
    array([[0.9, 0.1],
           [0.9, 0.1]])
    """

    def __init__(self, propensity: float | None = None) -> None:
        self.propensity = propensity

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ConstantPropensity:
        y = np.asarray(y).ravel()
        self.classes_ = np.array([0, 1])
        if self.propensity is None:
            w = np.ones(y.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
            self.p_ = float(np.sum(w * (y == 1)) / np.sum(w))
        else:
            self.p_ = float(self.propensity)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "p_")
        n = np.asarray(X).shape[0]
        return np.column_stack([np.full(n, 1.0 - self.p_), np.full(n, self.p_)])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


class ClippedPropensity(ClassifierMixin, BaseEstimator):
    """Wrap a classifier and clip P(gold | x) relative to the gold share.

    Probabilities are clipped to ``[p / ratio, p * ratio]`` intersected with
    ``[1e-4, 1 - 1e-4]``, where p is the gold share of the training fold.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
    ratio : float > 1, default 20
    """

    def __init__(self, estimator: Any = None, ratio: float = _CLIP_RATIO) -> None:
        self.estimator = estimator
        self.ratio = ratio

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ClippedPropensity:
        y = np.asarray(y).ravel().astype(int)
        base = default_propensity_model() if self.estimator is None else self.estimator
        self.estimator_ = clone(base)
        if sample_weight is None:
            self.estimator_.fit(X, y)
        else:
            self.estimator_.fit(X, y, sample_weight=sample_weight)
        self.classes_ = np.array([0, 1])
        p = float(np.mean(y == 1))
        self.low_ = max(1e-4, p / self.ratio)
        self.high_ = min(1 - 1e-4, p * self.ratio)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        proba = self.estimator_.predict_proba(X)
        classes = list(self.estimator_.classes_)
        p1 = proba[:, classes.index(1)] if 1 in classes else np.zeros(proba.shape[0])
        p1 = np.clip(p1, self.low_, self.high_)
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def _propensity_model(propensity: Any, model: Any) -> BaseEstimator:
    if isinstance(propensity, str):
        if propensity == "estimate":
            return ClippedPropensity(model)
        if propensity == "share":
            return ConstantPropensity(None)
        raise ValueError(
            f"`propensity` must be 'estimate', 'share' or a number in (0, 1); got {propensity!r}."
        )
    if isinstance(propensity, numbers.Real) and not isinstance(propensity, bool):
        if not 0.0 < float(propensity) < 1.0:
            raise ValueError(f"`propensity` must be in (0, 1) when a number; got {propensity!r}.")
        return ConstantPropensity(float(propensity))
    raise TypeError(
        f"`propensity` must be 'estimate', 'share' or a number in (0, 1); got {propensity!r}."
    )


class BiasModel(BaseEstimator):
    """Estimate the preference-label bias Delta(x) with EconML (DR- or R-learner).

    Parameters
    ----------
    method : {"dr", "r"}, default "dr"
        DR-learner (:class:`econml.dr.DRLearner`) or R-learner
        (:class:`econml.dml.NonParamDML`).
    model_outcome : regressor, optional
        Nuisance outcome model: mu(x, t) for DR (fitted on ``[x, t]``), m(x) for R.
        Default :func:`default_outcome_model`.
    model_propensity : classifier, optional
        Model of P(gold | x) when ``propensity="estimate"``. Default
        :func:`default_propensity_model`.
    model_final : regressor, optional
        Final CATE model (must accept ``sample_weight`` for R). Default
        :func:`default_final_model`.
    propensity : "estimate", "share" or float, default "estimate"
        Estimated (clipped relative to the gold share), the gold share of each
        fold (known by design when gold queries were drawn at random), or a known
        constant.
    cv : int, default 5
        Cross-fitting folds (stratified by source).
    random_state : int or None
        Seed of the folds and the default models.

    Attributes
    ----------
    estimator_ : econml estimator
        The fitted EconML learner.
    pseudo_outcomes_ : ndarray of shape (n,)
        DR: the doubly-robust pseudo-outcomes. R: ``(o - m) / (t - e)``.
    final_weights_ : ndarray of shape (n,)
        Weights of the final stage (ones for DR, ``(t - e)^2`` for R).

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> from metarouter_stats.cate import BiasModel
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=10, rng=0)
    >>> m = BiasModel(method="dr", random_state=0).fit(s.train.X, s.train.outcome, s.train.source)
    >>> m.effect(s.X_test).shape
    (10,)
    """

    def __init__(
        self,
        method: str = "dr",
        *,
        model_outcome: Any = None,
        model_propensity: Any = None,
        model_final: Any = None,
        propensity: Any = "estimate",
        cv: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.method = method
        self.model_outcome = model_outcome
        self.model_propensity = model_propensity
        self.model_final = model_final
        self.propensity = propensity
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any, source: Any) -> BiasModel:
        """Fit the learner on outcomes already on one scale.

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : array-like of shape (n,)
            Outcomes, gold already rescaled to the preference scale.
        source : array-like of shape (n,)
            1 = gold (treated), 0 = preference.

        Returns
        -------
        self
        """
        from econml.dml import NonParamDML  # noqa: PLC0415 - heavy import, deferred
        from econml.dr import DRLearner  # noqa: PLC0415

        X = as_2d_float(X, "X")
        y = as_1d_float(y, "y")
        t = as_source(source, "source")
        if not (X.shape[0] == y.shape[0] == t.shape[0]):
            raise ValueError(
                f"`X`, `y` and `source` must have the same length; got {X.shape[0]}, "
                f"{y.shape[0]} and {t.shape[0]}."
            )
        if self.method not in CATE_METHODS:
            raise ValueError(f"`cate` must be one of {CATE_METHODS}; got {self.method!r}.")
        cv = check_positive_int(self.cv, "cv", minimum=2)
        n_gold = int(t.sum())
        if n_gold < cv or t.size - n_gold < cv:
            raise ValueError(
                f"`cv` must not exceed the number of gold ({n_gold}) or preference "
                f"({t.size - n_gold}) rows; got cv={cv}. Lower `cv` or add gold labels."
            )
        rs = self.random_state
        outcome = clone(self.model_outcome) if self.model_outcome is not None else default_outcome_model(rs)
        final = clone(self.model_final) if self.model_final is not None else default_final_model()
        prop = _propensity_model(self.propensity, self.model_propensity)

        with warnings.catch_warnings():
            # EconML warns that a non-linear final model has no analytic inference; we
            # never ask it for inference (our bootstrap lives in `inference.py`).
            warnings.filterwarnings("ignore", message=".*[Cc]o-variance matrix is underdetermined.*")
            if self.method == "dr":
                est = DRLearner(
                    model_propensity=prop,
                    model_regression=outcome,
                    model_final=final,
                    cv=cv,
                    min_propensity=1e-6,
                    random_state=rs,
                )
                est.fit(y, t, X=X, cache_values=True, inference=None)
                y_pred = est._cached_values.nuisances[0]
                y_pred = np.asarray(y_pred).reshape(t.size, -1)
                self.pseudo_outcomes_ = y_pred[:, 1] - y_pred[:, 0]
                self.final_weights_ = np.ones(t.size)
            else:
                est = NonParamDML(
                    model_y=outcome,
                    model_t=prop,
                    model_final=final,
                    discrete_treatment=True,
                    cv=cv,
                    random_state=rs,
                )
                est.fit(y, t, X=X, cache_values=True, inference=None)
                y_res, t_res = est._cached_values.nuisances[:2]
                y_res = np.asarray(y_res).reshape(-1)
                t_res = np.asarray(t_res).reshape(-1)
                if np.var(t_res) < _MIN_T_RESIDUAL_VAR:
                    warnings.warn(
                        f"The residualised treatment t - e(x) has variance {np.var(t_res):.2e}: "
                        "with so few gold rows the R-learner's final stage is unstable. "
                        "Prefer cate='dr' or add gold labels.",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                self.pseudo_outcomes_ = y_res / t_res
                self.final_weights_ = t_res**2
        self.estimator_ = est
        self.n_features_in_ = X.shape[1]
        self.X_ = X
        self.source_ = t
        return self

    def effect(self, X: Any) -> np.ndarray:
        """Delta_hat(x) on the scale of the fitted outcomes (gold minus preference)."""
        check_is_fitted(self, "estimator_")
        X = as_2d_float(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"`X` must have {self.n_features_in_} columns, as in fit; got {X.shape[1]}."
            )
        return np.asarray(self.estimator_.effect(X)).reshape(-1)

    @property
    def final_model_(self) -> BaseEstimator:
        """The fitted final-stage model."""
        check_is_fitted(self, "estimator_")
        if self.method == "dr":
            return self.estimator_.fitted_models_final[0]
        return self.estimator_.model_final_

    def _final_template(self, penalty_factor: float = 1.0) -> BaseEstimator:
        """Unfitted final model for bootstrap refits.

        A ``RidgeCV`` final stage is refitted as ``Ridge`` with the penalty it chose
        on the full data (times ``penalty_factor``): the resampling then measures the
        estimator's sampling variability at the tuned penalty, 20 times faster than
        re-tuning each time.
        """
        fitted = self.final_model_
        if isinstance(fitted, RidgeCV):
            return Ridge(alpha=float(fitted.alpha_) * penalty_factor, fit_intercept=fitted.fit_intercept)
        if penalty_factor != 1.0:
            raise ValueError(
                "`undersmooth` needs the default ridge final stage (RidgeCV); this router's final model is "
                f"{type(fitted).__name__}. Use undersmooth=1."
            )
        return clone(self.model_final) if self.model_final is not None else default_final_model()

    def fit_final(self, X: Any, pseudo_outcomes: Any, weights: Any, penalty_factor: float = 1.0) -> BaseEstimator:
        """Fit a fresh final model (penalty fixed, see ``_final_template``) on given pseudo-outcomes."""
        check_is_fitted(self, "estimator_")
        model = self._final_template(penalty_factor)
        if self.method == "dr":
            model.fit(X, pseudo_outcomes)
        else:
            _fit_weighted(model, X, pseudo_outcomes, weights)
        return model


    def bootstrap_effects(
        self, X_eval: Any, n_boot: int, rng: Any = None, n_jobs: int | None = None, penalty_factor: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bootstrap draws of Delta_hat at ``X_eval`` by resampling the final stage only.

        Rows are resampled with replacement within each source (the number of gold
        rows is kept fixed); the cross-fitted nuisances, hence the pseudo-outcomes
        and weights, are reused, and only the final model is refitted. By Neyman
        orthogonality the nuisance estimation error is of second order, so this
        captures the first-order sampling variability of Delta_hat at a fraction
        of the cost of refitting everything.

        With ``penalty_factor < 1`` (ridge final stage only) the final stage is
        refitted with a smaller penalty (undersmoothing): less shrinkage bias, more
        variance, and the band is centred at that less-biased fit.

        Returns
        -------
        estimate : ndarray of shape (n_eval,)
            The final-stage fit at ``penalty_factor`` on the full data.
        draws : ndarray of shape (n_boot, n_eval)
            Both on the scale of the fitted outcomes.
        """
        from joblib import Parallel, delayed  # noqa: PLC0415

        check_is_fitted(self, "estimator_")
        X_eval = as_2d_float(X_eval, "X")
        n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
        gen = as_rng(rng)
        gold = np.flatnonzero(self.source_ == 1)
        pref = np.flatnonzero(self.source_ == 0)
        # all indices drawn up front, in order: the draws do not depend on n_jobs
        idx = [np.concatenate((gen.choice(gold, gold.size), gen.choice(pref, pref.size))) for _ in range(n_boot)]

        def one(rows: np.ndarray) -> np.ndarray:
            model = self.fit_final(self.X_[rows], self.pseudo_outcomes_[rows], self.final_weights_[rows], penalty_factor)
            return np.asarray(model.predict(X_eval), dtype=float).reshape(-1)

        if penalty_factor == 1.0:
            estimate = self.effect(X_eval)
        else:
            estimate = one(np.arange(self.source_.size))
        out = Parallel(n_jobs=n_jobs)(delayed(one)(rows) for rows in idx)
        return estimate, np.vstack(out)


def _fit_weighted(model: Any, X: Any, y: Any, w: Any) -> None:
    """Fit with sample weights, routing them through a Pipeline's last step."""
    if hasattr(model, "steps"):
        model.fit(X, y, **{f"{model.steps[-1][0]}__sample_weight": w})
    else:
        model.fit(X, y, sample_weight=w)
