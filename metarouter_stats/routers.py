r"""Routers: the Meta-router and the baselines, one scikit-learn interface.

Every router is a scikit-learn estimator (``get_params``, ``clone``) with

* ``fit(X, y, source=t)`` -- t = 1 gold, 0 preference (or pass a
  :class:`~metarouter_stats.RoutingData` as ``X``);
* ``predict_gain(X)`` -- the predicted gold quality gain psi_hat(x), **on the gold
  scale**;
* ``route(X, threshold=w)`` -- True (primary model) where psi_hat(x) > w, or
  ``route(X, rate=rho)`` -- the share rho of queries with the highest psi_hat.

Routers that use preference labels first put gold labels on the preference scale,
``r -> c r`` (:mod:`metarouter_stats.scaling`), fit on that scale and divide
their predictions by c on the way out.

The Meta-router (paper, Algorithm 1):

1. c from the gold and preference labels;
2. Delta_hat(x) by a DR- or R-learner on ``(x, t, o)`` with ``o = c r`` for gold
   rows and ``o = y`` for preference rows (:class:`~metarouter_stats.cate.BiasModel`);
3. corrected preference labels ``y' = y + Delta_hat(x)``;
4. psi_hat regressed on gold (``c r``) together with corrected preference rows;
5. ``predict_gain = psi_hat / c``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import RidgeCV
from sklearn.utils.validation import check_is_fitted

import numbers
import warnings

from ._bands import Band, make_band
from ._checks import as_1d_float, as_2d_float, as_rng, as_source, check_fraction, check_positive_int
from ._ranking import decide
from .cate import CATE_METHODS, BiasModel, default_outcome_model
from .data import RoutingData
from .positivity import check_trim_rule, cross_fit_propensity, density_ratio, trim_mask
from .scaling import resolve_scale

_UNDERSMOOTH = 0.1  # default ridge penalty factor of the fast bias band (see bias_interval)

__all__ = [
    "GoldOnlyRouter",
    "MeanShiftRouter",
    "MetaRouter",
    "OracleRouter",
    "PooledRouter",
    "PreferenceOnlyRouter",
    "RandomRouter",
]


def _unpack(X: Any, y: Any, source: Any, *, need_source: bool = True) -> tuple[np.ndarray, ...]:
    """Validate fit arguments; a RoutingData may be passed as X."""
    if isinstance(X, RoutingData):
        if y is not None or source is not None:
            raise ValueError("Pass either a RoutingData as `X` alone, or `X`, `y` and `source`.")
        return X.X, X.outcome, X.source
    X = as_2d_float(X, "X")
    if y is None:
        raise ValueError("`y` is required unless `X` is a RoutingData.")
    y = as_1d_float(y, "y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"`y` must have one entry per row of `X`; got {y.shape[0]} for {X.shape[0]} rows.")
    if source is None:
        if need_source:
            raise ValueError("`source` is required: 1 for gold rows, 0 for preference rows.")
        return X, y, np.ones(X.shape[0], dtype=int)
    t = as_source(source, "source")
    if t.shape[0] != X.shape[0]:
        raise ValueError(
            f"`source` must have one entry per row of `X`; got {t.shape[0]} for {X.shape[0]} rows."
        )
    return X, y, t


def _require(t: np.ndarray, *, gold: int = 0, preference: int = 0) -> None:
    n_gold, n_pref = int(t.sum()), int(t.size - t.sum())
    if n_gold < gold or n_pref < preference:
        raise ValueError(
            f"`source` must contain at least {gold} gold and {preference} preference rows for this "
            f"router; got {n_gold} gold and {n_pref} preference."
        )


class _Router(BaseEstimator):
    """Shared predict / route logic. Subclasses set ``regressor_`` and ``scale_``."""

    def _regressor(self) -> Any:
        reg = getattr(self, "regressor", None)
        return clone(reg) if reg is not None else default_outcome_model(getattr(self, "random_state", None))

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        X = as_2d_float(X.X if isinstance(X, RoutingData) else X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"`X` must have {self.n_features_in_} columns, as in fit; got {X.shape[1]}.")
        return X

    def predict_gain(self, X: Any) -> np.ndarray:
        """Predicted gold quality gain psi_hat(x), on the gold scale.

        Parameters
        ----------
        X : array-like of shape (n, d)

        Returns
        -------
        ndarray of shape (n,)
        """
        X = self._check_X(X)
        return np.asarray(self.regressor_.predict(X), dtype=float).reshape(-1) / self.scale_

    def route(self, X: Any, threshold: float | None = None, *, rate: float | None = None) -> np.ndarray:
        """Binary routing decisions: True sends the query to the primary model.

        Parameters
        ----------
        X : array-like of shape (n, d)
        threshold : float, optional
            Send to the primary model where psi_hat(x) > threshold (gold scale).
        rate : float in [0, 1], optional
            Send the ``round(rate * n)`` queries with the highest psi_hat (ties by position).

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        return decide(self.predict_gain(X), threshold, rate)


TRIM_FALLBACKS = ("drop", "extrapolate", "mean")
_FALLBACK_WORDS = {
    "drop": "they are left out of the regression of psi",
    "extrapolate": "they are corrected by Delta_hat fitted on the overlap",
    "mean": "they are corrected by the mean estimated bias of the kept rows",
}


class MetaRouter(_Router):
    """The Meta-router: debias preference labels by a CATE learner, then regress.

    Parameters
    ----------
    cate : {"dr", "r"}, default "dr"
        DR-learner (EconML ``DRLearner``) or R-learner (EconML ``NonParamDML``).
    scale : {"variance", "amplitude", "wasserstein"}, float or None, default "variance"
        How to put gold labels on the preference scale (:func:`~metarouter_stats.estimate_scale`),
        a known constant c, or None when both are already on one scale.
    regressor : regressor, optional
        Model of psi on gold and corrected preference rows. Default: the gradient-boosted
        trees of :func:`~metarouter_stats.cate.default_outcome_model`.
    model_outcome, model_propensity, model_final : estimators, optional
        Nuisance and final models of the CATE learner (see :class:`~metarouter_stats.cate.BiasModel`).
    propensity : "estimate", "share" or float, default "estimate"
        Propensity of being gold-labelled: estimated, the gold share (known by design
        for randomly drawn gold queries), or a known constant.
    cv : int, default 5
        Cross-fitting folds.
    trim : None, (low, high) or "crump", default None
        Positivity trimming of preference rows by the cross-fitted density ratio
        w(x) = f_G(x) / f_P(x) (:mod:`metarouter_stats.positivity`). Trimmed rows are
        excluded from the CATE fit. A warning states how many rows were trimmed.
    trim_fallback : {"drop", "extrapolate", "mean"}, default "drop"
        What happens to the trimmed preference rows in the regression of psi:
        ``"drop"`` leaves them out (psi is learned from gold rows and the corrected
        preference rows inside the overlap); ``"extrapolate"`` corrects them with
        Delta_hat fitted on the overlap; ``"mean"`` corrects them by the mean estimated
        bias of the kept preference rows (a mean shift). Every query is routed in each
        case. In the selection scenario (200 gold, 4,400 preference, 20 seeds;
        ``python vignettes/positivity_trimming.py``) the share of the oracle's EG area was
        0.58 / 0.58 / 0.47 for drop / extrapolate / mean with the band (0.1, 10), and
        0.65 / 0.72 with Crump's rule (drop / extrapolate), against 0.53 without trimming:
        "mean" misranks exactly the trimmed rows; "drop" is the default because it never extrapolates the bias outside the overlap.
    random_state : int or None
        Seed of folds and default models.

    Attributes
    ----------
    scale_ : float
        The constant c (``c * gold`` is on the preference scale).
    bias_model_ : BiasModel
        Fitted CATE learner.
    regressor_ : regressor
        Fitted model of ``c * psi``.
    n_gold_, n_preference_ : int
    trimmed_ : ndarray of bool
        Training rows removed from the CATE fit (all False without trimming).
    n_trimmed_ : int
    density_ratio_ : ndarray or None
        Cross-fitted w(x) of the training rows (None without trimming).

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=100, rng=0)
    >>> router = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    >>> router.route(s.X_test, rate=0.4).mean()
    np.float64(0.4)
    """

    def __init__(
        self,
        cate: str = "dr",
        scale: Any = "variance",
        *,
        regressor: Any = None,
        model_outcome: Any = None,
        model_propensity: Any = None,
        model_final: Any = None,
        propensity: Any = "estimate",
        cv: int = 5,
        trim: Any = None,
        trim_fallback: str = "drop",
        random_state: int | None = None,
    ) -> None:
        self.cate = cate
        self.scale = scale
        self.regressor = regressor
        self.model_outcome = model_outcome
        self.model_propensity = model_propensity
        self.model_final = model_final
        self.propensity = propensity
        self.cv = cv
        self.trim = trim
        self.trim_fallback = trim_fallback
        self.random_state = random_state

    def _bias_model(self, random_state: int | None) -> BiasModel:
        return BiasModel(
            self.cate,
            model_outcome=self.model_outcome,
            model_propensity=self.model_propensity,
            model_final=self.model_final,
            propensity=self.propensity,
            cv=self.cv,
            random_state=random_state,
        )

    def fit(self, X: Any, y: Any = None, source: Any = None) -> MetaRouter:
        """Fit the Meta-router.

        Parameters
        ----------
        X : array-like of shape (n, d) or RoutingData
        y : array-like of shape (n,)
            Observed gains, each on its mechanism's scale.
        source : array-like of shape (n,)
            1 / "gold" or 0 / "preference".

        Returns
        -------
        self
        """
        if self.cate not in CATE_METHODS:
            raise ValueError(f"`cate` must be one of {CATE_METHODS}; got {self.cate!r}.")
        X, y, t = _unpack(X, y, source)
        _require(t, gold=2, preference=2)
        gold = t == 1
        c = resolve_scale(self.scale, y[gold], y[~gold])
        o = np.where(gold, c * y, y)
        trimmed = np.zeros(t.size, dtype=bool)
        self.density_ratio_ = None
        if self.trim_fallback not in TRIM_FALLBACKS:
            raise ValueError(f"`trim_fallback` must be one of {TRIM_FALLBACKS}; got {self.trim_fallback!r}.")
        if self.trim is not None:
            check_trim_rule(self.trim)  # before any fitting
            e = cross_fit_propensity(
                X, t, model=self.model_propensity, cv=check_positive_int(self.cv, "cv", minimum=2),
                random_state=self.random_state,
            )
            self.density_ratio_ = density_ratio(e, gold.mean())
            trimmed = trim_mask(self.density_ratio_, t, self.trim)
            if trimmed.any():
                warnings.warn(
                    f"Trimmed {int(trimmed.sum())} of {int((~gold).sum())} preference rows "
                    f"({100 * trimmed.sum() / (~gold).sum():.1f} %) outside the overlap of gold and preference "
                    f"queries (trim={self.trim!r}); trim_fallback={self.trim_fallback!r}: "
                    + _FALLBACK_WORDS[self.trim_fallback] + ".",
                    UserWarning,
                    stacklevel=2,
                )
        keep = ~trimmed
        _require(t[keep], gold=2, preference=2)
        self.bias_model_ = self._bias_model(self.random_state).fit(X[keep], o[keep], t[keep])
        delta = self.bias_model_.effect(X)
        if trimmed.any() and self.trim_fallback == "mean":
            delta[trimmed] = delta[keep & ~gold].mean()
        corrected = np.where(gold, o, o + delta)
        rows = keep if self.trim_fallback == "drop" else np.ones(t.size, dtype=bool)
        self.regressor_ = self._regressor().fit(X[rows], corrected[rows])
        self.scale_ = c
        self.trimmed_ = trimmed
        self.n_trimmed_ = int(trimmed.sum())
        self.n_gold_, self.n_preference_ = int(gold.sum()), int((~gold).sum())
        self.n_features_in_ = X.shape[1]
        self._train = (X, y, t)
        return self

    def predict_bias(self, X: Any, *, scale: str = "gold") -> np.ndarray:
        """Estimated bias Delta_hat(x), gold minus preference.

        Parameters
        ----------
        X : array-like of shape (n, d)
        scale : {"gold", "preference"}, default "gold"
            ``"gold"``: psi(x) - eta(x) / c, the bias in gold units; ``"preference"``:
            c psi(x) - eta(x), the correction added to preference labels.

        Returns
        -------
        ndarray of shape (n,)
        """
        X = self._check_X(X)
        if scale not in ("gold", "preference"):
            raise ValueError(f"`scale` must be 'gold' or 'preference'; got {scale!r}.")
        delta = self.bias_model_.effect(X)
        return delta / self.scale_ if scale == "gold" else delta

    def bias_interval(
        self,
        X: Any,
        confidence_level: float = 0.95,
        *,
        n_boot: int = 200,
        kind: str = "pointwise",
        method: str = "fast",
        scale: str = "gold",
        undersmooth: float | None = None,
        rng: Any = None,
        n_jobs: int | None = None,
    ) -> Band:
        """Bootstrap confidence band for Delta_hat(x) at the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (m, d)
            Evaluation points.
        confidence_level : float in (0, 1), default 0.95
        n_boot : int, default 200
            Bootstrap replicates.
        kind : {"pointwise", "uniform"}, default "pointwise"
            Pointwise normal band with bootstrap standard errors, or a uniform band
            over the m points by the sup-t construction.
        method : {"fast", "refit"}, default "fast"
            ``"fast"`` resamples the final stage only, reusing the cross-fitted
            nuisances (DR pseudo-outcomes; R residual pairs with their weights);
            ``"refit"`` resamples rows (within source) and refits every stage,
            scale constant included, in parallel over ``n_jobs``.
        scale : {"gold", "preference"}, default "gold"
        undersmooth : float in (0, 1] or None, default None
            ``method="fast"`` with a ridge final stage: multiply the chosen ridge penalty
            by this factor for the band, which is then centred at that less-shrunk fit
            (so ``estimate`` differs slightly from ``predict_bias``). The leave-one-out
            penalty is tuned for prediction; its shrinkage bias made 95 % bands cover
            Delta only 82 % (pointwise) and 55 % (uniform) of the time with 100 gold rows,
            and 0.1 restored 94 % / 93 % (``benchmarks/bench_coverage.py``, docs/benchmarks.md).
            None (default) means 0.1 for ``method="fast"`` with the default ridge final
            stage and 1 (no change) otherwise; pass 1 for the band of the fitted estimator.
        rng : None, int or numpy.random.Generator
            Seed of the resampling; the same seed gives the same band for any ``n_jobs``.
        n_jobs : int or None
            joblib workers.

        Returns
        -------
        Band
            ``estimate``, ``low``, ``high``, ``std_error`` and the bootstrap ``draws``.

        Notes
        -----
        The band is for the estimand the learner targets, the projection of Delta on
        the final model's class (linear in x for the default ridge final stage).
        Where Delta is not in that class the band can under-cover the true Delta;
        see ``benchmarks/bench_coverage.py``.
        """
        X = self._check_X(X)
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
        if scale not in ("gold", "preference"):
            raise ValueError(f"`scale` must be 'gold' or 'preference'; got {scale!r}.")
        if method not in ("fast", "refit"):
            raise ValueError(f"`method` must be 'fast' or 'refit'; got {method!r}.")
        if kind not in ("pointwise", "uniform"):
            raise ValueError(f"`kind` must be 'pointwise' or 'uniform'; got {kind!r}.")
        if undersmooth is None:
            ridge = method == "fast" and isinstance(self.bias_model_.final_model_, RidgeCV)
            undersmooth = _UNDERSMOOTH if ridge else 1.0
        if isinstance(undersmooth, bool) or not isinstance(undersmooth, numbers.Real) or not 0 < undersmooth <= 1:
            raise ValueError(f"`undersmooth` must be in (0, 1]; got {undersmooth!r}.")
        if method == "refit" and undersmooth != 1:
            raise ValueError("`undersmooth` applies to method='fast' only; got method='refit'.")
        gen = as_rng(rng)
        estimate = self.predict_bias(X, scale="preference")
        if method == "fast":
            estimate, draws = self.bias_model_.bootstrap_effects(
                X, n_boot, gen, n_jobs=n_jobs, penalty_factor=float(undersmooth)
            )
            factor = np.full(n_boot, self.scale_)
        else:
            draws, factor = self._refit_draws(X, n_boot, gen, n_jobs)
        if scale == "gold":
            estimate = estimate / self.scale_
            draws = draws / factor[:, None]
        return make_band(estimate, draws, kind=kind, confidence_level=level, method=method)

    def _refit_draws(
        self, X_eval: np.ndarray, n_boot: int, gen: np.random.Generator, n_jobs: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Full refit bootstrap: (draws on the preference scale, c of each replicate)."""
        from joblib import Parallel, delayed  # noqa: PLC0415

        X, y, t = self._train
        keep = ~self.trimmed_
        X, y, t = X[keep], y[keep], t[keep]
        gold, pref = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
        seeds = np.random.SeedSequence(int(gen.integers(2**63))).spawn(n_boot)

        def one(seed: np.random.SeedSequence) -> tuple[np.ndarray, float]:
            g = np.random.default_rng(seed)
            rows = np.concatenate((g.choice(gold, gold.size), g.choice(pref, pref.size)))
            Xb, yb, tb = X[rows], y[rows], t[rows]
            c = resolve_scale(self.scale, yb[tb == 1], yb[tb == 0])
            ob = np.where(tb == 1, c * yb, yb)
            model = self._bias_model(int(g.integers(2**31 - 1))).fit(Xb, ob, tb)
            return model.effect(X_eval), c

        out = Parallel(n_jobs=n_jobs)(delayed(one)(seed) for seed in seeds)
        return np.vstack([d for d, _ in out]), np.array([c for _, c in out])


class GoldOnlyRouter(_Router):
    """Regress psi on the gold rows only (preference rows ignored).

    Parameters
    ----------
    regressor : regressor, optional
        Default: gradient-boosted trees (as for every router).
    random_state : int or None

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=200, n_test=10, rng=0)
    >>> mrs.GoldOnlyRouter(random_state=0).fit(s.train).predict_gain(s.X_test).shape
    (10,)
    """

    def __init__(self, *, regressor: Any = None, random_state: int | None = None) -> None:
        self.regressor = regressor
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, source: Any = None) -> GoldOnlyRouter:
        """Fit on the rows with ``source == 1``; returns self."""
        X, y, t = _unpack(X, y, source)
        _require(t, gold=2)
        gold = t == 1
        self.regressor_ = self._regressor().fit(X[gold], y[gold])
        self.scale_ = 1.0
        self.n_features_in_ = X.shape[1]
        return self


class _ScaledRouter(_Router):
    """Routers fitted on the preference scale (gold rescaled by c)."""

    def __init__(self, *, scale: Any = "variance", regressor: Any = None, random_state: int | None = None) -> None:
        self.scale = scale
        self.regressor = regressor
        self.random_state = random_state

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        """(row mask, targets on the preference scale) used for the regression."""
        raise NotImplementedError

    def fit(self, X: Any, y: Any = None, source: Any = None) -> _ScaledRouter:
        """Fit the router; returns self. See the class docstring for the targets."""
        X, y, t = _unpack(X, y, source)
        _require(t, gold=2, preference=2)
        gold = t == 1
        c = resolve_scale(self.scale, y[gold], y[~gold])
        rows, target = self._targets(y, gold, c)
        self.regressor_ = self._regressor().fit(X[rows], target[rows])
        self.scale_ = c
        self.n_features_in_ = X.shape[1]
        return self


class PreferenceOnlyRouter(_ScaledRouter):
    """Regress on preference rows only; predictions divided by c to the gold scale.

    Gold rows are used only to estimate c (with ``scale=None`` they are not used at all).

    Parameters
    ----------
    scale : str, float or None, default "variance"
    regressor : regressor, optional
    random_state : int or None
    """

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        return ~gold, y


class PooledRouter(_ScaledRouter):
    """Regress on gold (rescaled, ``c r``) and raw preference rows together.

    What RouteLLM-style predictive routers do: the preference bias is ignored.

    Parameters
    ----------
    scale : str, float or None, default "variance"
    regressor : regressor, optional
    random_state : int or None
    """

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        return np.ones_like(gold), np.where(gold, c * y, y)


class MeanShiftRouter(_ScaledRouter):
    """Pool gold with preference labels shifted by the global mean difference.

    ``y' = y + (mean(c r) - mean(y))``: removes a constant bias, not a
    heterogeneous one. The fitted shift (preference scale) is ``shift_``.

    Parameters
    ----------
    scale : str, float or None, default "variance"
    regressor : regressor, optional
    random_state : int or None
    """

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        self.shift_ = float(np.mean(c * y[gold]) - np.mean(y[~gold]))
        return np.ones_like(gold), np.where(gold, c * y, y + self.shift_)


class OracleRouter(_Router):
    """Regress on gold labels for *every* training query (an upper reference).

    ``fit(X, gold_labels)``: ``source`` may be omitted; if given, it must be all gold.

    Parameters
    ----------
    regressor : regressor, optional
    random_state : int or None
    """

    def __init__(self, *, regressor: Any = None, random_state: int | None = None) -> None:
        self.regressor = regressor
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, source: Any = None) -> OracleRouter:
        """Fit on gold labels of all rows; returns self."""
        if isinstance(X, RoutingData):
            raise TypeError(
                "`OracleRouter.fit` needs gold labels for every query: call fit(X, gold_labels), "
                "e.g. fit(study.train.X, study.gold_train)."
            )
        X, y, t = _unpack(X, y, source, need_source=False)
        if not np.all(t == 1):
            raise ValueError(
                "`source` must be all gold (1) for OracleRouter: the oracle is given gold labels "
                "for every training query."
            )
        self.regressor_ = self._regressor().fit(X, y)
        self.scale_ = 1.0
        self.n_features_in_ = X.shape[1]
        return self


class RandomRouter(_Router):
    """Route at random: the reference every efficiency gain is measured against.

    ``predict_gain`` returns i.i.d. uniform scores drawn from ``random_state``
    (the same X size gives the same scores on every call).

    Parameters
    ----------
    random_state : int or None
    """

    def __init__(self, *, random_state: int | None = None) -> None:
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, source: Any = None) -> RandomRouter:
        """Record the number of features; returns self."""
        X = as_2d_float(X.X if isinstance(X, RoutingData) else X, "X")
        self.n_features_in_ = X.shape[1]
        self.scale_ = 1.0
        return self

    def predict_gain(self, X: Any) -> np.ndarray:
        """Uniform random scores (no information about the gain)."""
        X = self._check_X(X)
        return as_rng(self.random_state, "random_state").random(X.shape[0])
