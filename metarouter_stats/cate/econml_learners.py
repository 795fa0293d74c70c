r"""Bias learners over EconML: the DR-learner, the R-learner, and any EconML CATE estimator.

With treatment t = 1 (gold) and t = 0 (preference), covariates x and outcome o (gold
rescaled to the preference scale), the bias is the CATE
:math:`\Delta(x) = E[o \mid t = 1, x] - E[o \mid t = 0, x]` (Meta-Router paper, Sec. 3).

:class:`DRBiasLearner` (``cate="dr"``)
    :class:`econml.dr.DRLearner` (Kennedy, 2023): cross-fitted outcome model
    mu(x, t) and propensity e(x), doubly-robust pseudo-outcomes
    :math:`\mu(x,1) - \mu(x,0) + t (o - \mu(x,1))/e(x) - (1-t)(o - \mu(x,0))/(1-e(x))`,
    regressed on x by the final model.
:class:`RBiasLearner` (``cate="r"``)
    :class:`econml.dml.NonParamDML` (Nie and Wager, 2021): cross-fitted
    m(x) = E[o | x] and e(x); the final model minimises
    :math:`\sum_i (t_i - e(x_i))^2 \{(o_i - m(x_i))/(t_i - e(x_i)) - \tau(x_i)\}^2`.
    With scarce gold, ``t - e(x)`` is nearly the same value (about ``-p``) for every
    preference row: identification rests on the gold rows, and a warning is issued when
    the residual treatment variance falls below ``1e-3`` (fewer than about 0.1 % gold).
:class:`EconMLLearner`
    wraps any EconML estimator fitted as ``fit(Y, T, X=X)`` with ``effect(X)`` (e.g.
    ``econml.dr.ForestDRLearner``, ``econml.dml.CausalForestDML``,
    ``econml.metalearners.XLearner``); it declares ``"intervals"`` when the estimator
    offers ``effect_interval``, and ``"scores"`` (R-learner scores from the public
    ``residuals_``) for DML estimators.

This package is the only place that imports EconML, and this module the only one that
reads an EconML private attribute (the DR-learner's cached nuisance predictions, which
EconML exposes no public accessor for).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._checks import as_1d_float, as_2d_float, as_source, check_fraction, check_positive_int, check_random_state
from .._threads import budgeted
from .nuisance import (
    ConstantPropensity,
    DropColumn,
    KnownPropensity,
    QuantileBinned,
    fit_weighted,
    check_known_propensity,
    check_propensity,
    default_final_model,
    default_outcome_model,
    default_propensity_model,
    propensity_model,
)
from .final_stage import fixed_penalty, is_penalised
from .protocol import CrossFitScores, register_learner
from .rows import RowIndexed, SharedRows, release, row_numbers

__all__ = ["CrossFitLearner", "DRBiasLearner", "EconMLLearner", "RBiasLearner", "fit_weighted"]

MIN_T_RESIDUAL_VAR = 1e-3


def check_fit_args(X: Any, y: Any, t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``(X, y, t)`` of a learner's fit: finite, aligned, t in {0, 1}."""
    X = as_2d_float(X, "X")
    y = as_1d_float(y, "y")
    t = as_source(t, "t")
    if not (X.shape[0] == y.shape[0] == t.shape[0]):
        raise ValueError(
            f"`X`, `y` and `t` must have the same length; got {X.shape[0]}, {y.shape[0]} and {t.shape[0]}."
        )
    return X, y, t


class _EffectMixin:
    """``effect`` with the column check shared by every learner here."""

    n_features_in_: int
    estimator_: Any

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        X = as_2d_float(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input: `X` must have {self.n_features_in_} columns, "
                             "as in fit.")
        return X

    @budgeted
    def effect(self, X: Any) -> np.ndarray:
        """Delta_hat(x) on the scale of the fitted outcomes (gold minus preference)."""
        X = self._check_X(X)
        return np.asarray(self.estimator_.effect(X)).astype(float).reshape(-1)


class CrossFitLearner(_EffectMixin, BaseEstimator):
    """Cross-fitted learners (DR, R, paired): shared parameters, checks, scores and final-stage refits."""

    static_capabilities = frozenset({"scores", "refit_final", "propensity", "known_propensity", "groups", "sample_weight"})
    known_propensity_: np.ndarray | None = None

    def __init__(
        self,
        *,
        model_outcome: Any = None,
        model_propensity: Any = None,
        model_final: Any = None,
        propensity: Any = "estimate",
        cv: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.model_outcome = model_outcome
        self.model_propensity = model_propensity
        self.model_final = model_final
        self.propensity = propensity
        self.cv = cv
        self.random_state = random_state

    @property
    def capabilities(self) -> frozenset[str]:
        """Declared capabilities; ``"undersmooth"`` when the final stage tunes a ridge penalty (the default's)."""
        final = self.model_final if self.model_final is not None else default_final_model()
        extra = {"undersmooth"} if is_penalised(final) else set()
        caps = self.static_capabilities | extra
        if self.known_propensity_ is not None:  # fitted with probabilities known by design
            caps = caps - {"propensity"}
        return caps

    def _setup(self, X: Any, y: Any, t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        X, y, t = check_fit_args(X, y, t)
        check_random_state(self.random_state)
        check_propensity(self.propensity)
        cv = check_positive_int(self.cv, "cv", minimum=2)
        n_gold = int(t.sum())
        if n_gold < cv or t.size - n_gold < cv:
            raise ValueError(
                f"`cv` must not exceed the number of gold ({n_gold}) or preference "
                f"({t.size - n_gold}) rows; got cv={cv}. Lower `cv` or add gold labels."
            )
        return X, y, t, cv

    @staticmethod
    def _groups(groups: Any, t: np.ndarray) -> np.ndarray | None:
        """Query ids for grouped folds; None when absent or all distinct (grouping would change nothing)."""
        if groups is None:
            return None
        g = np.asarray(groups)
        if g.ndim != 1 or g.shape[0] != t.shape[0]:
            raise ValueError(f"`groups` must be 1-D with one entry per row ({t.shape[0]}); got shape {g.shape}.")
        return g if np.unique(g).size < g.size else None

    @staticmethod
    def _sample_weight(sample_weight: Any, t: np.ndarray) -> np.ndarray | None:
        """Checked row weights (non-negative, finite, positive in each source), or None."""
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight, dtype=float)
        if w.ndim != 1 or w.shape[0] != t.shape[0]:
            raise ValueError(f"`sample_weight` must be 1-D with one entry per row ({t.shape[0]}); got shape {w.shape}.")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("`sample_weight` must be finite and non-negative; drop rows instead of giving them NaN.")
        if not (w[t == 1].sum() > 0 and w[t == 0].sum() > 0):
            raise ValueError("`sample_weight` must give positive total weight to the gold and to the preference rows.")
        return w

    def _models(
        self, known: np.ndarray | None, rows: SharedRows, weighted: bool = False
    ) -> tuple[Any, Any, Any, np.ndarray | None]:
        """Outcome, propensity and final models, and EconML's ``W`` (the known probabilities, or None).

        EconML is handed row numbers as ``X`` (:mod:`~metarouter_stats.cate.rows`): every
        model that reads the features is wrapped in :class:`~metarouter_stats.cate.rows.RowIndexed`,
        which builds the design EconML would have built from ``rows``. With known
        probabilities, ``W`` is their one column: the nuisance models see ``[X, W]`` (and the
        DR outcome model ``[X, W, T]``), so the propensity model reads the last column and the
        outcome model is fitted without column d. A weighted fit (``weighted``) wraps a
        histogram-boosting outcome model in :class:`QuantileBinned` (bins at unweighted
        quantiles: same trees, 10 times faster than weighted binning).
        """
        column = rows.n_features
        outcome = clone(self.model_outcome) if self.model_outcome is not None else default_outcome_model(self.random_state)
        if weighted and isinstance(outcome, HistGradientBoostingRegressor):
            outcome = QuantileBinned(outcome, max_bins=int(outcome.max_bins))
        final = clone(self.model_final) if self.model_final is not None else default_final_model()
        self.known_propensity_ = known
        if known is None:
            # the default logistic model given explicitly, so that the wrapper reaches its scaler
            prop = propensity_model(self.propensity, self.model_propensity if self.model_propensity is not None
                                    else default_propensity_model())
            if not isinstance(prop, (DummyClassifier, ConstantPropensity)):  # these two never read x
                prop = RowIndexed(prop, rows)
            return RowIndexed(outcome, rows), prop, RowIndexed(final, rows), None
        return (RowIndexed(DropColumn(outcome, column=column), rows), KnownPropensity(column=-1),
                RowIndexed(final, rows), known[:, None])

    @staticmethod
    def _released(est: Any, rows: SharedRows, X: np.ndarray) -> None:
        """After EconML's fit on row numbers: wrappers take features, EconML records the real width."""
        release(rows, est._models_nuisance, est.ortho_learner_model_final_)
        est._d_x = X.shape[1:]
        est._cached_values = est._cached_values._replace(X=X)  # fitted with cache_values=True

    @property
    def final_model_(self) -> BaseEstimator:
        """The fitted final-stage model."""
        raise NotImplementedError

    def refit_final(
        self, X: Any, pseudo_outcomes: Any, weights: Any, penalty_factor: float = 1.0, model: Any = None
    ) -> BaseEstimator:
        """A fresh final stage fitted on given scores, tuning fixed at the fitted values.

        A ``RidgeCV`` final stage (alone, at the end of a basis Pipeline, or the candidate a
        :class:`~metarouter_stats.cate.final_stage.SelectedFinalStage` chose) is refitted as
        ``Ridge`` with the penalty it chose on the full data times ``penalty_factor`` (``< 1``
        undersmooths), and a selected stage is not re-selected: resampling then measures the
        sampling variability at the tuned penalty, 20 times faster than re-tuning each time
        (:func:`~metarouter_stats.cate.final_stage.fixed_penalty`). Other final stages are
        cloned and refitted as given.

        ``model`` (an unfitted regressor) replaces the learner's final stage: it is fitted
        on the scores the way this learner's final stage is (the DR-learner unweighted,
        the R-learner with its weights), e.g. a richer basis for a band on Delta(x) itself
        (:func:`~metarouter_stats.bias_interval`'s ``final_stage``); ``penalty_factor``
        must then be 1 (set the model's own penalty).
        """
        check_is_fitted(self, "estimator_")
        if model is not None:
            if penalty_factor != 1.0:
                raise ValueError("`penalty_factor` must be 1 when `model` is given: set the model's own penalty.")
            return self._fit_final(clone(model), X, pseudo_outcomes, weights)
        fitted = self.final_model_
        model = fixed_penalty(fitted, penalty_factor)
        if model is None:
            if penalty_factor != 1.0:
                raise ValueError(
                    "`undersmooth` needs a final stage that tunes a ridge penalty (the default's); this learner's final "
                    f"model is {type(fitted).__name__}. Use undersmooth=1."
                )
            model = clone(self.model_final) if self.model_final is not None else default_final_model()
        return self._fit_final(model, X, pseudo_outcomes, weights)

    def _fit_final(self, model: Any, X: Any, phi: Any, w: Any) -> Any:
        return fit_weighted(model, X, phi, w)

    def _propensity_models(self) -> list[Any]:
        raise NotImplementedError

    @budgeted
    def predict_propensity(self, X: Any) -> np.ndarray:
        """P(gold | x) at the rows of ``X``: the mean of the cross-fitted propensity models (as clipped in fit).

        Not available after a fit with probabilities known by design (they belong to the
        training rows; ``known_propensity_`` holds them).
        """
        X = self._check_X(X)
        if self.known_propensity_ is not None:
            raise TypeError(
                "This learner was fitted with propensities known by design (`known_propensity_`); they are not a "
                "function of x, so there is no P(gold | x) to predict at new queries."
            )
        models = self._propensity_models()
        return np.mean([np.asarray(m.predict_proba(X))[:, 1] for m in models], axis=0)

    def _finish(self, est: Any, X: np.ndarray, t: np.ndarray, phi: np.ndarray, w: np.ndarray,
                groups: np.ndarray | None = None) -> None:
        self.estimator_ = est
        self.n_features_in_ = X.shape[1]
        self.scores_ = CrossFitScores(X=X, pseudo_outcomes=phi, weights=w, source=t, groups=groups)


@register_learner("dr")
class DRBiasLearner(CrossFitLearner):
    """DR-learner of the bias (EconML ``DRLearner``), with cross-fitting.

    Parameters
    ----------
    model_outcome : regressor, optional
        mu(x, t), fitted on ``[x, t]``. Default
        :func:`~metarouter_stats.cate.default_outcome_model`.
    model_propensity : classifier, optional
        Model of P(gold | x) when ``propensity="estimate"``. Default
        :func:`~metarouter_stats.positivity.default_propensity_model`.
    model_final : regressor, optional
        Final CATE model. Default :func:`~metarouter_stats.cate.default_final_model`.
    propensity : "estimate", "share" or float, default "estimate"
        Estimated (clipped relative to the gold share), the gold share of each fold
        (known by design when gold queries were drawn at random), or a known constant.
        Per-query probabilities known by design are given to ``fit(..., propensity=pi)``
        (or as :class:`~metarouter_stats.RoutingData`'s ``propensity``) and replace this setting.
    cv : int, default 5
        Cross-fitting folds (stratified by source).
    random_state : int or None
        Seed of the folds and the default models.

    Attributes
    ----------
    estimator_ : econml.dr.DRLearner
    scores_ : CrossFitScores
        Doubly robust pseudo-outcomes of the training rows, weights 1 (the row weights when
        fitted with ``sample_weight``).
    n_features_in_ : int

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> from metarouter_stats.cate import DRBiasLearner
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=10, rng=0)
    >>> m = DRBiasLearner(random_state=0).fit(s.train.X, s.train.outcome, s.train.source)
    >>> m.effect(s.X_test).shape, sorted(m.capabilities)
    ((10,), ['groups', 'known_propensity', 'propensity', 'refit_final', 'sample_weight', 'scores', 'undersmooth'])
    """

    @budgeted
    def fit(
        self, X: Any, y: Any, t: Any, *, propensity: Any = None, groups: Any = None, sample_weight: Any = None
    ) -> DRBiasLearner:
        """Fit on outcomes already on one scale (t = 1 gold); returns self.

        ``propensity``: per-row P(gold) known by design (capability ``"known_propensity"``),
        used exactly in the DR scores in place of the ``propensity`` setting. ``groups``:
        query ids; the rows of one query stay in one cross-fitting fold (EconML's
        ``StratifiedGroupKFold``), so that a query's gold row is never predicted by a model
        fitted on its own preference row. ``sample_weight``: non-negative row weights
        (capability ``"sample_weight"``), handed to EconML, which weights every nuisance model
        and the final stage by them; ``scores_.weights`` are then these weights.
        """
        from econml.dr import DRLearner  # noqa: PLC0415 - heavy import, deferred

        X, y, t, cv = self._setup(X, y, t)
        known = None if propensity is None else check_known_propensity(propensity, t)
        sw = self._sample_weight(sample_weight, t)
        rows = SharedRows(X)
        outcome, prop, final, W = self._models(known, rows, weighted=sw is not None)
        est = DRLearner(
            model_propensity=prop, model_regression=outcome, model_final=final, cv=cv,
            min_propensity=1e-6, random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # no analytic inference is asked of EconML: the bands live in `inference`
            warnings.filterwarnings("ignore", message=".*[Cc]o-variance matrix is underdetermined.*")
            est.fit(y, t, X=row_numbers(t.size), W=W, groups=self._groups(groups, t), sample_weight=sw,
                    cache_values=True, inference=None)
        self._released(est, rows, X)
        # EconML's DRLearner caches the cross-fitted pseudo-outcome pieces privately
        y_pred = np.asarray(est._cached_values.nuisances[0]).reshape(t.size, -1)
        self._finish(est, X, t, y_pred[:, 1] - y_pred[:, 0], np.ones(t.size) if sw is None else sw,
                     self._groups(groups, t))
        return self

    @property
    def final_model_(self) -> BaseEstimator:
        """The fitted final-stage model."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.fitted_models_final[0]

    def _fit_final(self, model: Any, X: Any, phi: Any, w: Any) -> Any:
        # unweighted, as EconML's DR final stage; with sample weights (a weighted fit), weighted by them
        w = np.asarray(w, dtype=float)
        return model.fit(X, phi) if np.all(w == 1.0) else fit_weighted(model, X, phi, w)

    def _propensity_models(self) -> list[Any]:
        return [m for fold_models in self.estimator_.models_propensity for m in fold_models]


@register_learner("r")
class RBiasLearner(CrossFitLearner):
    """R-learner of the bias (EconML ``NonParamDML``), with cross-fitting.

    Parameters are those of :class:`DRBiasLearner`; ``model_outcome`` models
    m(x) = E[o | x] here, and ``model_final`` must accept ``sample_weight``.

    Attributes
    ----------
    estimator_ : econml.dml.NonParamDML
    scores_ : CrossFitScores
        ``(o - m) / (t - e)`` with weights ``(t - e)^2``.
    n_features_in_ : int

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> from metarouter_stats.cate import RBiasLearner
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=10, rng=0)
    >>> RBiasLearner(random_state=0).fit(s.train.X, s.train.outcome, s.train.source).effect(s.X_test).shape
    (10,)
    """

    @budgeted
    def fit(
        self, X: Any, y: Any, t: Any, *, propensity: Any = None, groups: Any = None, sample_weight: Any = None
    ) -> RBiasLearner:
        """Fit on outcomes already on one scale (t = 1 gold); returns self.

        ``propensity``: per-row P(gold) known by design, below 1 on every row (a row with
        t - e = 0 carries no weight in the R-loss). ``groups``: query ids kept in one fold.
        ``sample_weight``: non-negative row weights for every stage (the final stage's
        weights become ``sample_weight * (t - e)^2``).
        """
        from econml.dml import NonParamDML  # noqa: PLC0415 - heavy import, deferred

        X, y, t, cv = self._setup(X, y, t)
        known = None if propensity is None else check_known_propensity(propensity, t)
        if known is not None and np.any(known >= 1):
            raise ValueError(
                "`propensity` must be below 1 on every row for the R-learner (t - e(x) = 0 there, a zero weight in "
                "the R-loss); use cate='dr', which accepts gold queries labelled with certainty."
            )
        sw = self._sample_weight(sample_weight, t)
        rows = SharedRows(X)
        outcome, prop, final, W = self._models(known, rows, weighted=sw is not None)
        est = NonParamDML(
            model_y=outcome, model_t=prop, model_final=final, discrete_treatment=True, cv=cv,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Cc]o-variance matrix is underdetermined.*")
            est.fit(y, t, X=row_numbers(t.size), W=W, groups=self._groups(groups, t), sample_weight=sw,
                    cache_values=True, inference=None)
        self._released(est, rows, X)
        y_res, t_res = (np.asarray(a, dtype=float).reshape(-1) for a in est.residuals_[:2])
        if np.var(t_res) < MIN_T_RESIDUAL_VAR:
            warnings.warn(
                f"The residualised treatment t - e(x) has variance {np.var(t_res):.2e}: "
                "with so few gold rows the R-learner's final stage is unstable. "
                "Prefer cate='dr' or add gold labels.",
                RuntimeWarning,
                stacklevel=2,
            )
        self._finish(est, X, t, y_res / t_res, t_res**2 if sw is None else sw * t_res**2, self._groups(groups, t))
        return self

    @property
    def final_model_(self) -> BaseEstimator:
        """The fitted final-stage model."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.model_final_

    def _propensity_models(self) -> list[Any]:
        return [m for fold_models in self.estimator_.models_t for m in fold_models]


class EconMLLearner(_EffectMixin, BaseEstimator):
    """Adapter for any EconML CATE estimator fitted as ``fit(Y, T, X=X)``.

    Parameters
    ----------
    estimator : EconML estimator
        Unfitted; cloned at fit. Examples: ``econml.dml.CausalForestDML(discrete_treatment=True)``,
        ``econml.dr.ForestDRLearner()``, ``econml.metalearners.XLearner(models=...)``.
    inference : str, bool or None, default "auto"
        Passed to the estimator's ``fit`` as ``inference=``: "auto" passes nothing (the
        estimator's default), None asks for none.
    random_state : int or None
        Set on the cloned estimator when it has a ``random_state`` parameter that is None.

    Attributes
    ----------
    estimator_ : fitted EconML estimator
    scores_ : CrossFitScores
        Only for estimators with EconML's public ``residuals_`` (the DML family):
        ``(o - m) / (t - e)`` with weights ``(t - e)^2``.
    intervals_ : bool
        Whether the fitted estimator gives effect intervals (it was fitted with inference).
    capabilities : frozenset of str
        ``"intervals"`` when the fitted estimator gives ``effect_interval``; ``"scores"`` for
        the DML family when every residual treatment is non-zero (known after fit).

    Examples
    --------
    >>> from econml.metalearners import TLearner
    >>> from sklearn.linear_model import LinearRegression
    >>> import metarouter_stats as mrs
    >>> from metarouter_stats.cate import EconMLLearner
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=5, rng=0)
    >>> learner = EconMLLearner(TLearner(models=LinearRegression()))
    >>> router = mrs.MetaRouter(cate=learner, random_state=0).fit(s.train)
    >>> router.predict_bias(s.X_test).shape
    (5,)
    """

    scores_: CrossFitScores

    def __init__(self, estimator: Any = None, *, inference: Any = "auto", random_state: int | None = None) -> None:
        self.estimator = estimator
        self.inference = inference
        self.random_state = random_state

    @property
    def capabilities(self) -> frozenset[str]:
        """Declared capabilities (see the class docstring); after fit, what the fitted estimator offers."""
        caps = set()
        if hasattr(self, "intervals_"):
            if self.intervals_:
                caps.add("intervals")
        elif hasattr(self.estimator, "effect_interval") and self.inference is not None:
            caps.add("intervals")
        if hasattr(self, "scores_"):
            caps.add("scores")
        return frozenset(caps)

    @budgeted
    def fit(self, X: Any, y: Any, t: Any) -> EconMLLearner:
        """Fit the wrapped estimator on ``(Y=y, T=t, X=X)``; returns self."""
        if self.estimator is None or not hasattr(self.estimator, "fit") or not hasattr(self.estimator, "effect"):
            raise TypeError(
                "`estimator` must be an EconML CATE estimator with fit(Y, T, X=...) and effect(X); "
                f"got {type(self.estimator).__name__}."
            )
        X, y, t = check_fit_args(X, y, t)
        check_random_state(self.random_state)
        # EconML estimators have no get_params (scikit-learn's clone refuses them): a deep copy
        # of the unfitted template keeps the caller's object unfitted
        est = clone(self.estimator) if hasattr(self.estimator, "get_params") else copy.deepcopy(self.estimator)
        if getattr(est, "random_state", 0) is None and self.random_state is not None:
            est.random_state = self.random_state
        kwargs: dict[str, Any] = {"X": X}
        if "cache_values" in _fit_parameters(est):
            kwargs["cache_values"] = True
        if self.inference != "auto":
            kwargs["inference"] = self.inference
        est.fit(y, t, **kwargs)
        self.estimator_ = est
        self.n_features_in_ = X.shape[1]
        self.intervals_ = _has_intervals(est, X[:2])
        if hasattr(self, "scores_"):
            del self.scores_
        residuals = _public_residuals(est)
        if residuals is not None:
            y_res, t_res = residuals
            self.scores_ = CrossFitScores(X=X, pseudo_outcomes=y_res / t_res, weights=t_res**2, source=t)
        return self

    def effect_interval(self, X: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """The estimator's own pointwise ``1 - alpha`` interval for Delta(x) (capability "intervals")."""
        X = self._check_X(X)
        alpha = check_fraction(alpha, "alpha", closed=False)
        if "intervals" not in self.capabilities:
            raise TypeError(f"{type(self.estimator_).__name__} offers no effect intervals.")
        low, high = self.estimator_.effect_interval(X, alpha=alpha)
        return np.asarray(low, dtype=float).reshape(-1), np.asarray(high, dtype=float).reshape(-1)


def _has_intervals(est: Any, X: np.ndarray) -> bool:
    """Whether the fitted estimator gives effect intervals (EconML raises when fitted without inference)."""
    if not hasattr(est, "effect_interval"):
        return False
    try:
        est.effect_interval(X)
    except (AttributeError, ValueError, NotImplementedError, TypeError):
        return False
    return True


def _fit_parameters(est: Any) -> set[str]:
    import inspect  # noqa: PLC0415

    return set(inspect.signature(est.fit).parameters)


def _public_residuals(est: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(y_res, t_res)`` from EconML's public ``residuals_`` (DML family), else None."""
    try:
        res = est.residuals_
    except (AttributeError, ValueError, AssertionError):
        return None
    y_res = np.asarray(res[0], dtype=float).reshape(-1)
    t_res = np.asarray(res[1], dtype=float)
    if t_res.ndim == 2 and t_res.shape[1] == 1:
        t_res = t_res.reshape(-1)
    if t_res.ndim != 1 or t_res.shape != y_res.shape or np.any(t_res == 0):
        return None
    return y_res, t_res
