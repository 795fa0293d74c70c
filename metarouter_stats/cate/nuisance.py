"""Nuisance and final-stage models of the bias learners, and propensities for scarce gold.

With a gold share p of a few percent the propensity is tiny everywhere. Estimated
propensities are therefore clipped *relative to the gold share*, to ``[p / 20, 20 p]``
(intersected with ``[1e-4, 1 - 1e-4]``), never to fixed cut-offs like 0.05, which would
exceed p itself and erase the information in the weights.
"""

from __future__ import annotations

import copy
import numbers
import threading
from collections import OrderedDict
from typing import Any

import joblib

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._checks import check_known_propensity
from .final_stage import SelectedFinalStage
from ..positivity import default_propensity_model

__all__ = [
    "CLIP_RATIO",
    "ClippedPropensity",
    "ConstantPropensity",
    "DropColumn",
    "KnownPropensity",
    "QuantileBinned",
    "check_known_propensity",
    "check_propensity",
    "default_final_model",
    "default_outcome_model",
    "default_propensity_model",
    "fit_weighted",
    "propensity_model",
]

CLIP_RATIO = 20.0


def fit_weighted(model: Any, X: Any, y: Any, w: Any) -> Any:
    """Fit with sample weights (none when ``w`` is None), routing them through a Pipeline's last step.

    Returns the fitted model.
    """
    if w is None:
        return model.fit(X, y)
    if hasattr(model, "steps"):
        import sklearn  # noqa: PLC0415

        # the weights go to the last step by name, as without metadata routing: a caller's routing (e.g. a
        # grid search routing `source` to the router) is switched off for this internal fit
        with sklearn.config_context(enable_metadata_routing=False):
            return model.fit(X, y, **{f"{model.steps[-1][0]}__sample_weight": w})
    return model.fit(X, y, sample_weight=w)


def default_outcome_model(random_state: int | None = None) -> BaseEstimator:
    """Default nuisance outcome model: gradient-boosted trees.

    ``HistGradientBoostingRegressor(learning_rate=0.1, max_iter=100, max_leaf_nodes=15,
    min_samples_leaf=20, l2_regularization=1.0)``: chosen from the benchmark in
    ``benchmarks/defaults/run.py`` (see ``docs/defaults.md``, which also compares it with the
    earlier 200 iterations at learning rate 0.05: half the time, the same EG share).

    Examples
    --------
    >>> from metarouter_stats.cate import default_outcome_model
    >>> default_outcome_model(0).max_leaf_nodes
    15
    """
    return HistGradientBoostingRegressor(
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=random_state,
    )


def default_final_model() -> BaseEstimator:
    """Default final (CATE) model: ridge on x and on spline bases, stacked by leave-one-out loss.

    A :class:`~metarouter_stats.cate.final_stage.SelectedFinalStage` (super learner) over three
    ridge regressions of the pseudo-outcomes, each with a leave-one-out penalty: on x (the
    earlier default, ``RidgeCV(alphas=np.logspace(-1, 5, 31))``), on an additive cubic-spline
    basis, and on that basis plus pairwise interactions of the 5 leading coordinates. The DR
    pseudo-outcomes of gold rows have variance of order 1 / p: with 50-100 gold rows the blend
    leans on the linear ridge, and it takes the spline fits as the data show a non-linear bias.
    On ``benchmarks/final_stage/run.py`` it captured within 0.02 of the best of the three on
    every scenario and gold size, and up to 0.07 more of the oracle's efficiency gain than the
    linear ridge where the bias is not linear (``docs/defaults.md``). Features are not
    standardised: on PCA-like embeddings the ridge penalty then shrinks low-variance (noise)
    directions most, a sensible prior for embeddings.

    Examples
    --------
    >>> from metarouter_stats.cate import default_final_model
    >>> default_final_model().rule
    'stack'
    """
    return SelectedFinalStage()


class ConstantPropensity(ClassifierMixin, BaseEstimator):
    """Propensity known by design and constant: P(gold | x) = ``propensity`` for every x.

    (For "the gold share of each fold" use ``DummyClassifier(strategy="prior")``, which
    is what ``propensity="share"`` builds.)

    Parameters
    ----------
    propensity : float in (0, 1)
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

    def __init__(self, propensity: float = 0.5) -> None:
        self.propensity = propensity

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ConstantPropensity:
        """Record the classes; the propensity is known, nothing is estimated."""
        self.classes_ = np.array([0, 1])
        self.p_ = float(self.propensity)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[1 - p, p]`` for every row."""
        check_is_fitted(self, "p_")
        n = np.asarray(X).shape[0]
        return np.column_stack([np.full(n, 1.0 - self.p_), np.full(n, self.p_)])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class (0 unless p > 0.5)."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


class KnownPropensity(ClassifierMixin, BaseEstimator):
    """Propensity known by design, query by query, read from a column of the input.

    EconML passes its nuisance models ``hstack([X, W])``; with the known probabilities as
    the single column of ``W`` this classifier returns that column as P(gold | x) and
    estimates nothing. (EconML has no argument for known propensities; this is the
    documented ``W`` route, kept inside this package.)

    Parameters
    ----------
    column : int, default -1
        Column of the input holding the probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.cate import KnownPropensity
    >>> XW = np.array([[0.3, 0.2], [1.5, 0.05]])
    >>> KnownPropensity().fit(XW, [1, 0]).predict_proba(XW)[:, 1]
    array([0.2 , 0.05])
    """

    def __init__(self, column: int = -1) -> None:
        self.column = column

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KnownPropensity:
        """Record the classes; the probabilities are known, nothing is estimated."""
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``[1 - pi, pi]`` with pi the known column."""
        check_is_fitted(self, "classes_")
        p1 = np.asarray(X, dtype=float)[:, self.column]
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


class DropColumn(BaseEstimator):
    """Fit and predict a model without one column of the input (the known propensities).

    EconML hands the outcome model ``[X, W, T]``; with ``W`` the known probabilities the
    outcome model must not see them (they describe the design, not the query), so this
    wrapper deletes that column before the wrapped model sees the data.

    Parameters
    ----------
    estimator : regressor
    column : int
        Column to delete (negative counts from the end).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from metarouter_stats.cate import DropColumn
    >>> X = np.c_[np.arange(5.0), np.full(5, 0.3)]
    >>> m = DropColumn(LinearRegression(), column=1).fit(X, 2 * np.arange(5.0))
    >>> m.estimator_.n_features_in_
    1
    """

    def __init__(self, estimator: Any = None, column: int = -1) -> None:
        self.estimator = estimator
        self.column = column

    def _drop(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.delete(X, self.column % X.shape[1], axis=1)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DropColumn:
        """Fit the wrapped model on the input without the column."""
        self.estimator_ = clone(self.estimator)
        fit_weighted(self.estimator_, self._drop(X), y, sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the wrapped model."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(self._drop(X))


class QuantileBinned(BaseEstimator):
    """Bin each column at its unweighted quantiles, then fit a model on the bin numbers.

    scikit-learn's histogram gradient boosting bins its input before it grows trees;
    given ``sample_weight`` it places the 255 bin edges of every column at *weighted*
    percentiles, one ``_weighted_percentile`` call per edge, which made one fit of a bias
    learner 16 times slower (41 s against 2.5 s, ``docs/benchmarks.md``). The weighted
    (Bayesian) bootstrap of :func:`~metarouter_stats.inference.refit_bootstrap` only
    reweights the rows; where the bins fall is a matter of the embeddings, not of the
    weights. This wrapper places the edges at the unweighted quantiles (the rule the
    booster uses without weights: ``np.percentile(..., method="averaged_inverted_cdf")``
    at ``max_bins - 1`` equally spaced levels) and hands the model the bin numbers; a
    column with at most ``max_bins`` distinct values keeps them. With at most 255
    distinct values per column the booster takes them as they are, so the trees, and the
    predictions, are those of the booster fitted without weights on the raw input, and
    the weights enter the loss only. (No public scikit-learn option separates the two.)

    Parameters
    ----------
    estimator : regressor
        The model fitted on the bin numbers (default: the default outcome model).
    max_bins : int, default 255
        Bins per column (at most 255 for a histogram booster).

    Attributes
    ----------
    thresholds_ : list of ndarray
        Bin edges of each column (x goes to bin i when ``edges[i - 1] < x <= edges[i]``).
    estimator_ : regressor

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.cate import QuantileBinned, default_outcome_model
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(600, 3)), rng.normal(size=600)
    >>> plain = default_outcome_model(0).fit(X, y).predict(X)
    >>> binned = QuantileBinned(default_outcome_model(0)).fit(X, y).predict(X)
    >>> bool(np.allclose(plain, binned))
    True
    """

    def __init__(self, estimator: Any = None, max_bins: int = 255) -> None:
        self.estimator = estimator
        self.max_bins = max_bins

    def _bin(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.column_stack([
            np.searchsorted(edges, X[:, j], side="left") if edges is not None else X[:, j]
            for j, edges in enumerate(self.thresholds_)
        ]).astype(float)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> QuantileBinned:
        """Find the unweighted bin edges, then fit the model on the bin numbers with the weights."""
        X = np.asarray(X, dtype=float)
        levels = np.linspace(0, 100, self.max_bins + 1)[1:-1]
        self.thresholds_: list[np.ndarray | None] = []
        for j in range(X.shape[1]):
            column = X[:, j]
            if np.unique(column).size <= self.max_bins:
                self.thresholds_.append(None)  # few distinct values: the booster keeps them as they are
            else:
                self.thresholds_.append(np.unique(np.percentile(column, levels, method="averaged_inverted_cdf")))
        base = default_outcome_model() if self.estimator is None else self.estimator
        self.estimator_ = clone(base)
        fit_weighted(self.estimator_, self._bin(X), y, sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the model at the bin numbers of ``X``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(self._bin(X))


class _FittedModels:
    """A small memo of fitted propensity classifiers, keyed by model and training rows.

    The DR and R Meta-routers of one Monte Carlo round (or a user fitting both on one data
    set) cross-fit the same propensity model on the same folds: EconML's cross-fitting
    draws the same stratified folds from the same ``random_state``. Fitting is
    deterministic given (model parameters, X, y, sample weights), so the second fit returns
    a copy of the first (same numbers; ``benchmarks/round/run.py`` measures the time saved).
    Keys are ``joblib.hash`` digests of the unfitted estimator and the data; the memo keeps
    the last ``maxsize`` fits of this process (a few kB each for the default logistic model).
    Only classifiers whose parameters fix their randomness are memoised: a parameter
    ``random_state=None`` means "a fresh draw", so such models are always refitted.
    (functools.lru_cache cannot key on arrays, and joblib.Memory caches to disk.)
    """

    def __init__(self, maxsize: int = 16) -> None:
        self.maxsize = maxsize
        self._store: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def _deterministic(model: BaseEstimator) -> bool:
        return all(v is not None for k, v in model.get_params(deep=True).items()
                   if k == "random_state" or k.endswith("__random_state"))

    def fit(self, model: BaseEstimator, X: Any, y: np.ndarray, sample_weight: Any) -> BaseEstimator:
        if self.maxsize <= 0 or not self._deterministic(model):
            return fit_weighted(model, X, y, sample_weight)
        key = joblib.hash((model, np.asarray(X), y, None if sample_weight is None else np.asarray(sample_weight)))
        with self._lock:
            if key in self._store:
                self._store.move_to_end(key)
                self.hits += 1
                return copy.deepcopy(self._store[key])
        fitted = fit_weighted(model, X, y, sample_weight)
        with self._lock:
            self._store[key] = copy.deepcopy(fitted)
            while len(self._store) > self.maxsize:
                self._store.popitem(last=False)
        return fitted


_FITTED = _FittedModels()


class ClippedPropensity(ClassifierMixin, BaseEstimator):
    """Wrap a classifier and clip P(gold | x) relative to the gold share.

    Probabilities are clipped to ``[p / ratio, p * ratio]`` intersected with
    ``[1e-4, 1 - 1e-4]``, where p is the gold share of the training fold.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, optional
        Default :func:`~metarouter_stats.positivity.default_propensity_model`.
    ratio : float > 1, default 20

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from metarouter_stats.cate import ClippedPropensity
    >>> X = np.r_[np.zeros((95, 1)), np.ones((5, 1))]
    >>> y = np.r_[np.zeros(95), np.ones(5)]
    >>> m = ClippedPropensity(LogisticRegression(C=1e6), ratio=2).fit(X, y)
    >>> m.predict_proba([[1.0]])[:, 1]
    array([0.1])
    """

    def __init__(self, estimator: Any = None, ratio: float = CLIP_RATIO) -> None:
        self.estimator = estimator
        self.ratio = ratio

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ClippedPropensity:
        """Fit the wrapped classifier and record the clipping bounds."""
        y = np.asarray(y).ravel().astype(int)
        base = default_propensity_model() if self.estimator is None else self.estimator
        self.estimator_ = _FITTED.fit(clone(base), X, y, sample_weight)
        self.classes_ = np.array([0, 1])
        p = float(np.average(y == 1, weights=sample_weight))  # the (weighted) gold share of the fold
        self.low_ = max(1e-4, p / self.ratio)
        self.high_ = min(1 - 1e-4, p * self.ratio)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Clipped ``[1 - e(x), e(x)]``."""
        check_is_fitted(self, "estimator_")
        proba = self.estimator_.predict_proba(X)
        classes = list(self.estimator_.classes_)
        p1 = proba[:, classes.index(1)] if 1 in classes else np.zeros(proba.shape[0])
        p1 = np.clip(p1, self.low_, self.high_)
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def check_propensity(propensity: Any) -> None:
    """Validate a ``propensity`` setting ("estimate", "share" or a number in (0, 1))."""
    if isinstance(propensity, str):
        if propensity not in ("estimate", "share"):
            raise ValueError(
                f"`propensity` must be 'estimate', 'share' or a number in (0, 1); got {propensity!r}."
            )
        return
    if isinstance(propensity, numbers.Real) and not isinstance(propensity, bool):
        if not 0.0 < float(propensity) < 1.0:
            raise ValueError(f"`propensity` must be in (0, 1) when a number; got {propensity!r}.")
        return
    raise TypeError(f"`propensity` must be 'estimate', 'share' or a number in (0, 1); got {propensity!r}.")


def propensity_model(propensity: Any, model: Any = None) -> BaseEstimator:
    """The propensity classifier for a ``propensity`` setting.

    ``"estimate"``: ``model`` (default logistic) clipped relative to the gold share;
    ``"share"``: the gold share of each fold (``DummyClassifier(strategy="prior")``), known
    by design when gold queries were drawn at random; a number: that known constant.
    """
    check_propensity(propensity)
    if propensity == "estimate":
        return ClippedPropensity(model)
    if propensity == "share":
        return DummyClassifier(strategy="prior")
    return ConstantPropensity(float(propensity))
