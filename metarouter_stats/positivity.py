r"""Positivity (overlap) diagnostics and trimming rules.

Identification of Delta(x) needs gold and preference queries to share support.
With scarce gold the propensity :math:`e(x) = P(t = 1 \mid x)` is about the gold
share p everywhere, so fixed cut-offs such as 0.05 / 0.95 say nothing (they would
flag every query). Overlap is judged instead on the **density ratio**

.. math::

    w(x) = \frac{f_G(x)}{f_P(x)} = \frac{e(x) / (1 - e(x))}{p / (1 - p)},

which is 1 everywhere when gold queries are drawn at random, whatever p is. A
preference query with small w(x) lies where gold labels are rare: its bias
correction is an extrapolation. Propensities are cross-fitted (out-of-fold), so
a flexible classifier cannot fake poor overlap by overfitting.

Trimming rules (for preference rows only; gold rows are never removed):

``None``
    keep everything.
``(low, high)``
    trim preference rows with w(x) outside ``[low, high]``.
``"crump"``
    Crump, Hotz, Imbens and Mitnik (2009), adapted to the ratio: with
    :math:`h(x) = 1 / w(x)` (preference rows per gold row, relative to the average),
    keep :math:`h \le \gamma` where :math:`\gamma` solves
    :math:`\gamma = 2\,E[h \mid h \le \gamma]` on the sample: with
    :math:`h_{(1)} \le \dots \le h_{(n)}` and :math:`\bar h_k` the mean of the k smallest,
    :math:`\gamma = 2 \bar h_k` for the largest k with :math:`h_{(k)} \le 2 \bar h_k`
    (no trimming when :math:`\max h \le 2 \bar h_n`). With a tiny gold share, Crump's original
    :math:`1/(e(1-e))` is proportional to this h, so the rule is the same one,
    stated without reference to p.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import check_cv
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval

from ._resampling import MIN_GOLD_ESS_SHARE, OVERLAP_BAND, POOR_OVERLAP_SHARE, cross_fit_splitter
from ._checks import as_2d_float, as_seed, as_source, check_known_propensity, check_positive_int
from ._threads import budgeted
from ._results import ResultMixin, new_axes

__all__ = [
    "BlockLogisticRegressionCV",
    "BlockStandardScaler",
    "PositivityReport",
    "check_trim_rule",
    "cross_fit_propensity",
    "default_propensity_model",
    "density_ratio",
    "neg_log_loss",
    "positivity_report",
    "trim_mask",
]

_EPS = 1e-6


def neg_log_loss(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
    """Scorer: minus the (weighted) mean log-loss of ``estimator.predict_proba(X)`` for labels ``y``.

    The quantity of scikit-learn's ``"neg_log_loss"`` scorer (probabilities clipped to
    ``[eps, 1 - eps]`` and renormalised, natural log), without its input validation, which
    took 40 % of a propensity fit: ``LogisticRegressionCV`` scores all 11 penalties on each
    of 3 folds, in each of 5 cross-fitting folds. Agrees with scikit-learn to 1e-12
    (``tests/test_positivity.py``).
    """
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    eps = np.finfo(proba.dtype).eps
    proba = np.clip(proba, eps, 1 - eps)
    proba = proba / proba.sum(axis=1, keepdims=True)
    col = np.searchsorted(estimator.classes_, np.asarray(y))
    return float(np.average(np.log(proba[np.arange(proba.shape[0]), col]), weights=sample_weight))


def default_propensity_model() -> BaseEstimator:
    """Default propensity model: L2-penalised logistic regression on standardised x.

    The penalty is chosen by 3-fold cross-validated log-loss over
    ``C in logspace(-4, 1, 11)``: when gold queries were drawn at random it shrinks
    to a near-constant propensity (the gold share), instead of fitting noise with a
    fixed penalty (with 100 gold rows and d = 50 a fixed C = 0.1 gave density ratios
    from 0.03 to 19 under random selection); under covariate-dependent selection it
    keeps the signal. Smooth and calibrated, where tree classifiers return
    near-0/1 probabilities from a few dozen gold rows.
    """
    kwargs: dict[str, Any] = {}
    params = inspect.signature(LogisticRegressionCV).parameters
    # scikit-learn >= 1.8 announces new defaults; pin today's behaviour where the options exist
    if "l1_ratios" in params:
        kwargs["l1_ratios"] = (0.0,)
    if "use_legacy_attributes" in params:
        kwargs["use_legacy_attributes"] = False
    return Pipeline([
        ("standardscaler", BlockStandardScaler()),
        ("logisticregressioncv", BlockLogisticRegressionCV(Cs=np.logspace(-4, 1, 11), cv=3, scoring=neg_log_loss,
                                                           max_iter=1000, random_state=0, **kwargs)),
    ])


class BlockLogisticRegressionCV(LogisticRegressionCV):
    """``LogisticRegressionCV`` whose penalty search on a large dense matrix copies no fold of it.

    scikit-learn's search copies each cross-validation fold (``X[train]`` and ``X[test]``, the
    size of the input, while the caller's own fold design is held): at a million rows of
    sentence embeddings that copy was the largest allocation of a Meta-router fit left after
    :class:`BlockStandardScaler` (0.8 times the data). Above one block (``block_bytes`` of
    features) the same search runs on the whole matrix instead: each fold's path is fitted by
    :class:`~sklearn.linear_model.LogisticRegression` with sample weight 1 on the fold's training
    rows and 0 on its held-out rows (the same objective, since scikit-learn's penalty is
    ``1 / (C * sum of weights)``: the fit on the training rows alone), warm-started along ``Cs``
    as scikit-learn's path is; the held-out rows are scored by :func:`neg_log_loss` one block at a
    time; the best C (summed score over folds) is refitted on every row from the folds' mean
    coefficients, as ``LogisticRegressionCV(refit=True)`` does. The folds are scikit-learn's
    (``check_cv``). The numbers agree with ``LogisticRegressionCV`` to the solver's tolerance, not
    to the last bit (``tests/test_positivity.py``). Matrices of one block or less, sample weights,
    sparse input, more than two classes, ``n_jobs``, other solvers, penalties or scorers than the
    default model's take ``LogisticRegressionCV.fit`` itself, so small fits are unchanged.
    The copy-free search writes the fitted attributes in scikit-learn's newer layout
    (``use_legacy_attributes=False``, scikit-learn >= 1.8, where this class makes it and
    ``l1_ratios=(0.0,)`` the defaults, as :func:`default_propensity_model` does); with the
    legacy layout, or before 1.8, the search is ``LogisticRegressionCV``'s own, with its copies.
    (scikit-learn offers no copy-free fold option; this class drives its public estimator.)

    Parameters
    ----------
    block_bytes : int, default 2**26
        Above this many bytes of features the copy-free search is used (64 MiB).
    **kwargs
        As :class:`sklearn.linear_model.LogisticRegressionCV`.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.positivity import BlockLogisticRegressionCV, neg_log_loss
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((600, 3)); y = (X[:, 0] + rng.standard_normal(600) > 0).astype(int)
    >>> a = BlockLogisticRegressionCV(Cs=[0.01, 1.0], cv=3, scoring=neg_log_loss, block_bytes=64).fit(X, y)
    >>> float(np.ravel(a.C_)[0])
    1.0
    """

    _parameter_constraints: dict = {
        **LogisticRegressionCV._parameter_constraints,
        "block_bytes": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, *, block_bytes: int = 1 << 26, **kwargs: Any) -> None:  # noqa: D107
        if "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters:
            # scikit-learn >= 1.8: today's behaviour pinned, and the layout the copy-free search writes
            kwargs.setdefault("use_legacy_attributes", False)
            kwargs.setdefault("l1_ratios", (0.0,))
        super().__init__(**kwargs)
        self.block_bytes = block_bytes

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(set(LogisticRegressionCV._get_param_names()) | {"block_bytes"})

    def _copy_free(self, X: Any, y: Any, sample_weight: Any, params: dict) -> bool:
        return (sample_weight is None and not params and isinstance(X, np.ndarray) and X.ndim == 2
                and X.dtype == np.float64 and X.flags.c_contiguous and X.nbytes > int(self.block_bytes)
                and np.unique(y).size == 2 and self.solver == "lbfgs" and self.scoring is neg_log_loss
                and self.n_jobs in (None, 1) and self.class_weight is None and not self.dual
                and self.penalty in ("deprecated", "l2") and self.refit
                and getattr(self, "use_legacy_attributes", None) is False
                and (self.l1_ratios is None or list(np.ravel(self.l1_ratios)) in ([0.0], ["warn"]))
                and np.ndim(self.Cs) == 1)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> BlockLogisticRegressionCV:
        """Fit as ``LogisticRegressionCV``, without copies of the folds above one block (class docstring)."""
        if not self._copy_free(X, y, sample_weight, params):
            return super().fit(X, y, sample_weight=sample_weight, **params)
        self._validate_params()
        classes, y01 = np.unique(np.asarray(y), return_inverse=True)
        Cs = np.asarray(self.Cs, dtype=float)
        folds = list(check_cv(self.cv, y01, classifier=True).split(X, y01))
        lr_kwargs: dict[str, Any] = {"l1_ratio": 0.0} if "l1_ratio" in LogisticRegression().get_params() else {}
        rows = max(1, int(self.block_bytes) // (X.itemsize * X.shape[1]))
        d = X.shape[1]
        paths = np.empty((len(folds), Cs.size, d + 1))
        scores = np.empty((len(folds), Cs.size))
        n_iter = np.empty((len(folds), Cs.size), dtype=int)
        for f, (train, test) in enumerate(folds):
            weight = np.zeros(X.shape[0])
            weight[train] = 1.0
            model = LogisticRegression(tol=self.tol, max_iter=self.max_iter, fit_intercept=self.fit_intercept,
                                       intercept_scaling=self.intercept_scaling, random_state=self.random_state,
                                       warm_start=True, **lr_kwargs)
            for k, C in enumerate(Cs):  # warm-started along the path, as scikit-learn's path is
                model.set_params(C=float(C)).fit(X, y01, sample_weight=weight)
                paths[f, k] = np.r_[model.coef_.ravel(), model.intercept_]
                n_iter[f, k] = int(np.max(model.n_iter_))
                scores[f, k] = _held_out_log_loss(X, y01, test, model.coef_.ravel(), float(model.intercept_[0]), rows)
        best = int(np.argmax(scores.sum(axis=0)))
        init = paths[:, best].mean(axis=0)
        final = LogisticRegression(C=float(Cs[best]), tol=self.tol, max_iter=self.max_iter,
                                   fit_intercept=self.fit_intercept, intercept_scaling=self.intercept_scaling,
                                   random_state=self.random_state, warm_start=True, **lr_kwargs)
        final.coef_, final.intercept_ = init[None, :d].copy(), init[d:].copy()
        final.classes_ = np.arange(2)
        final.fit(X, y01)
        self.classes_ = classes
        self.n_features_in_ = d
        self.Cs_ = Cs
        self.C_ = float(Cs[best])
        self.l1_ratio_ = 0.0
        self.l1_ratios_ = np.array([0.0])
        self.coef_ = final.coef_.copy()
        self.intercept_ = final.intercept_.copy()
        self.scores_ = scores[:, None, :]
        self.n_iter_ = n_iter[:, None, :]
        self.coefs_paths_ = paths[:, None, :, None, :]
        return self


def _held_out_log_loss(X: np.ndarray, y01: np.ndarray, test: np.ndarray, coef: np.ndarray, intercept: float,
                       rows: int) -> float:
    """:func:`neg_log_loss` of a binary logistic model on the rows ``test``, read one block of rows at a time."""
    eps = np.finfo(float).eps
    total = 0.0
    for a in range(0, test.size, rows):
        idx = test[a:a + rows]
        p1 = 1.0 / (1.0 + np.exp(-(X[idx] @ coef + intercept)))
        proba = np.clip(np.column_stack([1.0 - p1, p1]), eps, 1 - eps)
        proba /= proba.sum(axis=1, keepdims=True)
        total += float(np.sum(np.log(proba[np.arange(idx.size), y01[idx]])))
    return total / test.size


class BlockStandardScaler(StandardScaler):
    """``StandardScaler`` whose ``fit`` reads a large dense matrix in blocks of rows.

    scikit-learn's one-pass ``fit`` allocates temporaries the size of the input (a NaN-free
    copy for ``np.nansum`` and the centred matrix): with ``copy=False`` at a million rows of
    sentence embeddings that was the peak of a whole Meta-router fit (1.1 times the data on top
    of the design). Here the mean and variance are accumulated with scikit-learn's own
    ``partial_fit`` over blocks of about ``block_bytes`` (Chan's update, the algorithm
    ``partial_fit`` documents), so temporaries stay one block. Means and scales agree with
    ``StandardScaler`` to rounding (about 1e-14 relative, ``tests/test_positivity.py``).
    Sparse input, sample weights and matrices of one block fall back to ``StandardScaler.fit``.
    (scikit-learn has no chunked ``fit`` option; ``partial_fit`` is the documented streaming
    route, so this class only drives it.)

    Parameters
    ----------
    copy, with_mean, with_std
        As in :class:`sklearn.preprocessing.StandardScaler`.
    block_bytes : int, default 2**26
        Size of one block of rows in bytes (64 MiB).

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.positivity import BlockStandardScaler
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> BlockStandardScaler(block_bytes=32).fit(X).mean_
    array([5., 6.])
    """

    _parameter_constraints: dict = {
        **StandardScaler._parameter_constraints,
        "block_bytes": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True,
                 block_bytes: int = 1 << 26) -> None:  # noqa: D107
        super().__init__(copy=copy, with_mean=with_mean, with_std=with_std)
        self.block_bytes = block_bytes

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> BlockStandardScaler:
        """Compute the mean and scale, one block of rows at a time for a dense matrix."""
        if sample_weight is not None or not isinstance(X, np.ndarray) or X.ndim != 2:
            return super().fit(X, y, sample_weight)
        rows = max(1, int(self.block_bytes) // max(1, X.itemsize * X.shape[1]))
        if X.shape[0] <= rows:
            return super().fit(X, y)
        self._reset()
        for a in range(0, X.shape[0], rows):
            self.partial_fit(X[a:a + rows])
        return self


@budgeted
def cross_fit_propensity(
    X: np.ndarray, source: np.ndarray, *, model: Any = None, cv: int = 5, rng: Any = None, groups: Any = None
) -> np.ndarray:
    """Out-of-fold P(gold | x) from ``cv`` stratified folds.

    With ``groups`` (query ids), the rows of one query stay in one fold (``StratifiedGroupKFold``):
    on paired data, where a query carries both a gold and a preference label, an ungrouped fold
    would train on a row's twin with the opposite label and score it below chance.
    """
    model = default_propensity_model() if model is None else clone(model)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape[0] != X.shape[0]:
            raise ValueError(f"`groups` must have one query id per row of `X` ({X.shape[0]}); got {groups.shape[0]}.")
    folds = cross_fit_splitter(cv, as_seed(rng), grouped=groups is not None)
    proba = cross_val_predict(model, X, source, cv=folds, groups=groups, method="predict_proba")
    return np.clip(proba[:, 1], _EPS, 1 - _EPS)


def density_ratio(propensity: np.ndarray, share: float) -> np.ndarray:
    """w(x) = odds(e(x)) / odds(p): the gold-to-preference density ratio."""
    return (propensity / (1 - propensity)) / (share / (1 - share))


def _crump_gamma(h: np.ndarray) -> float:
    """Smallest gamma with gamma = 2 E[h | h <= gamma] (inf when no trimming is needed)."""
    hs = np.sort(h)
    if hs[-1] <= 2 * hs.mean():
        return float("inf")
    means = np.cumsum(hs) / np.arange(1, hs.size + 1)
    ok = hs <= 2 * means  # h_(k) still inside the set defined by its own conditional mean
    k = int(np.flatnonzero(ok)[-1]) if ok.any() else 0
    return float(2 * means[k])


def check_trim_rule(rule: Any) -> None:
    """Raise a clear error unless ``rule`` is None, a (low, high) band or "crump"."""
    if rule is None:
        return
    if isinstance(rule, str):
        if rule != "crump":
            raise ValueError(f"`trim` must be None, a (low, high) band or 'crump'; got {rule!r}.")
        return
    _band_iv(rule, "trim")


def trim_mask(ratio: np.ndarray, source: np.ndarray, rule: Any) -> np.ndarray:
    """Boolean mask of the **preference** rows a trimming rule removes.

    Parameters
    ----------
    ratio : ndarray
        Density ratio w(x) of every row.
    source : ndarray
        1 gold, 0 preference.
    rule : None, (low, high) or "crump"
        See the module docstring.

    Returns
    -------
    ndarray of bool
    """
    check_trim_rule(rule)
    pref = source == 0
    if rule is None:
        return np.zeros(ratio.shape[0], dtype=bool)
    if isinstance(rule, str):
        h = 1.0 / ratio
        gamma = _crump_gamma(h)
        return pref & (h > gamma)
    low, high = _band_iv(rule, "trim")
    return pref & ((ratio < low) | (ratio > high))


def _band_iv(band: Any, name: str) -> tuple[float, float]:
    try:
        low, high = band
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be None, a (low, high) band or 'crump'; got {band!r}.") from None
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(float(v)):
            raise ValueError(f"`{name}` must be a band of two finite numbers; got {band!r}.")
    if not 0 < low < 1 < high:
        raise ValueError(f"`{name}` must be a (low, high) band with 0 < low < 1 < high; got {band!r}.")
    return float(low), float(high)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PositivityReport(ResultMixin):
    """Overlap diagnostics of gold and preference queries (see :func:`positivity_report`).

    Attributes
    ----------
    propensity : ndarray
        Cross-fitted P(gold | x) of every row.
    ratio : ndarray
        Density ratio w(x) = f_G(x) / f_P(x).
    source : ndarray
        1 gold, 0 preference.
    gold_share : float
    band : tuple of float
        The band on w used for the "outside" shares.
    auc : float
        Cross-fitted two-sample AUC of gold vs preference (0.5 = perfect overlap).
    gold_ess : float
        Effective sample size of the gold rows when reweighted to the preference
        population (weights 1 / w): n_gold when overlap is perfect.
    smd_values : ndarray
        Standardised mean differences (gold - preference) of the leading covariates
        (read-only; ``smd`` gives them as a Series named by ``smd_names``).
    smd_names : tuple of str
    max_abs_smd : float
        Largest absolute SMD over all covariates.
    propensity_known : bool
        True when ``propensity`` holds probabilities known by design (given to
        :func:`positivity_report`), not cross-fitted estimates: the ratios are then exact and
        the share outside the band is the design's, with no model error.
    """

    propensity: np.ndarray
    ratio: np.ndarray
    source: np.ndarray
    gold_share: float
    band: tuple[float, float]
    auc: float
    gold_ess: float
    smd_values: np.ndarray
    smd_names: tuple[str, ...]
    max_abs_smd: float
    propensity_known: bool = False
    _title = "Positivity (overlap of gold and preference queries)"

    def __post_init__(self) -> None:
        for name in ("propensity", "ratio", "source"):
            arr = np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        smd = np.array(self.smd_values, dtype=float, copy=True)
        smd.setflags(write=False)
        object.__setattr__(self, "smd_values", smd)
        object.__setattr__(self, "smd_names", tuple(str(n) for n in self.smd_names))

    @property
    def smd(self) -> pd.Series:
        """Standardised mean differences of the leading covariates, as a Series (a copy)."""
        return pd.Series(np.array(self.smd_values), index=list(self.smd_names), name="smd")

    @property
    def n_gold(self) -> int:
        """Number of gold rows."""
        return int(self.source.sum())

    @property
    def outside(self) -> np.ndarray:
        """Rows with w(x) outside ``band``."""
        return (self.ratio < self.band[0]) | (self.ratio > self.band[1])

    @property
    def share_outside_preference(self) -> float:
        """Share of preference rows with w(x) outside the band."""
        return float(self.outside[self.source == 0].mean())

    def share_outside_lower_bound(self, confidence_level: float = 0.95) -> float:
        """One-sided lower confidence bound on the share of preference rows outside the band.

        A Wilson score bound on the ``n_preference`` rows, with the fitted ratio held fixed. It is
        a **lower** bound on purpose: the default propensity model is shrunk toward the gold
        share, which pulls ratios toward 1 and understates poor overlap, so no upper bound is
        claimed. The bound holds the fitted ratio fixed and so misses the propensity model's own
        sampling error, which matters once the estimate is close to the truth (large gold
        samples): read it as a floor when the estimate is far below 1 - it is not a calibrated
        interval. ``benchmarks/validity/run.py overlap`` checks how often it holds
        (``docs/benchmarks.md``).
        """
        from scipy import stats  # noqa: PLC0415

        level = float(confidence_level)
        if not 0 < level < 1:
            raise ValueError(f"`confidence_level` must be in (0, 1); got {confidence_level!r}.")
        n = int((self.source == 0).sum())
        p = self.share_outside_preference
        z = float(stats.norm.ppf(level))
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return float(max(0.0, centre - half))

    @property
    def share_outside_gold(self) -> float:
        """Share of gold rows with w(x) outside the band."""
        return float(self.outside[self.source == 1].mean())

    @property
    def auc_null_std_error(self) -> float:
        """Standard error of the AUC under perfect overlap, sqrt((n1 + n0 + 1) / (12 n1 n0))."""
        n1 = self.n_gold
        n0 = self.source.size - n1
        return float(np.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))

    @property
    def good_overlap(self) -> bool:
        """Verdict: fewer than 5 % of preference rows outside the band and a gold ESS of at least 25 %.

        The AUC is descriptive: with large samples a small, harmless covariate shift is
        significant, and support (what positivity needs) is judged by the ratio band.
        """
        return bool(self.share_outside_preference < POOR_OVERLAP_SHARE and self.gold_ess >= MIN_GOLD_ESS_SHARE * self.n_gold)

    def summary_frame(self) -> pd.DataFrame:
        """Metrics as a two-column frame (metric, value)."""
        q = np.quantile(self.ratio[self.source == 0], [0.01, 0.5, 0.99])
        items = {
            "n_gold": self.n_gold,
            "n_preference": int((self.source == 0).sum()),
            "gold_share": self.gold_share,
            "propensity_known": self.propensity_known,
            "two_sample_auc": self.auc,
            "gold_ess": self.gold_ess,
            "gold_ess_share": self.gold_ess / max(self.n_gold, 1),
            "ratio_band_low": self.band[0],
            "ratio_band_high": self.band[1],
            "share_outside_preference": self.share_outside_preference,
            "share_outside_preference_lower_95": self.share_outside_lower_bound(),
            "share_outside_gold": self.share_outside_gold,
            "ratio_preference_q01": q[0],
            "ratio_preference_median": q[1],
            "ratio_preference_q99": q[2],
            "max_abs_smd": self.max_abs_smd,
            "good_overlap": self.good_overlap,
        }
        return pd.DataFrame({"metric": list(items), "value": list(items.values())})

    def to_frame(self) -> pd.DataFrame:
        """One row per query: source, propensity, ratio, outside."""
        return pd.DataFrame(
            {"source": self.source, "propensity": self.propensity, "ratio": self.ratio, "outside": self.outside}
        )

    def _rows(self) -> list[tuple[str, str]]:
        verdict = (
            "good overlap" if self.good_overlap else "POOR OVERLAP: bias corrections extrapolate; consider trimming"
        )
        outside = f"{100 * self.share_outside_preference:.2f} %"
        if self.propensity_known:
            outside += " (probabilities known by design: exact)"
        else:
            outside += (f" (at least {100 * self.share_outside_lower_bound():.2f} %, 95 % lower bound; a shrunk "
                        "propensity understates it)")
        return [
            ("propensity", "known by design" if self.propensity_known else "cross-fitted estimate"),
            ("gold rows / share", f"{self.n_gold} / {self.gold_share:.4f}"),
            ("two-sample AUC (0.5 = ideal)", f"{self.auc:.3f} (sd under overlap {self.auc_null_std_error:.3f})"),
            ("gold effective sample size", f"{self.gold_ess:.1f} of {self.n_gold}"),
            ("density ratio band", f"[{self.band[0]:g}, {self.band[1]:g}]"),
            ("preference rows outside band", outside),
            ("gold rows outside band", f"{100 * self.share_outside_gold:.2f} %"),
            ("max |SMD| over covariates", f"{self.max_abs_smd:.3f}"),
            ("verdict", verdict),
        ]

    def plot(self, ax: Any = None) -> Any:
        """Histograms of log10 w(x) for gold and preference rows, with the band.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(6, 3.5))
        logw = np.log10(self.ratio)
        bins = np.linspace(logw.min(), logw.max(), 40) if np.ptp(logw) > 0 else 10
        ax.hist(logw[self.source == 0], bins=bins, density=True, alpha=0.55, label="preference")
        ax.hist(logw[self.source == 1], bins=bins, density=True, alpha=0.55, label="gold")
        for b in self.band:
            ax.axvline(np.log10(b), color="k", linestyle="--", linewidth=1)
        ax.set_xlabel("log10 density ratio f_G(x) / f_P(x)")
        ax.set_ylabel("density")
        ax.set_title(f"Overlap: two-sample AUC {self.auc:.2f}")
        ax.legend()
        return ax


@budgeted
def positivity_report(
    X: Any,
    source: Any,
    *,
    model: Any = None,
    cv: int = 5,
    band: tuple[float, float] = OVERLAP_BAND,
    n_covariates: int = 10,
    rng: Any = None,
    groups: Any = None,
    propensity: Any = None,
) -> PositivityReport:
    """Diagnose overlap of gold and preference queries from cross-fitted propensities.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Query embeddings.
    source : array-like of shape (n,)
        1 / "gold" or 0 / "preference".
    model : classifier, optional
        Propensity model (``predict_proba``). Default :func:`default_propensity_model`.
    cv : int, default 5
        Cross-fitting folds (stratified).
    band : (low, high), default (0.1, 10)
        Band on the density ratio w(x) outside which a query counts as lacking overlap.
    n_covariates : int, default 10
        Leading covariates whose standardised mean differences are listed.
    rng : None, int or numpy.random.Generator
        Seed of the folds.
    groups : array-like of shape (n,), optional
        Query ids: the rows of one query are kept in one cross-fitting fold. Pass them for
        paired data (a query with both a gold and a preference row, as in MT-Bench), where
        ungrouped folds give an AUC below 0.5. A RoutingData's ``query_ids``.
    propensity : array-like of shape (n,), optional
        Each row's probability of gold labelling known by design (a RoutingData's
        ``propensity``; :func:`~metarouter_stats.select_for_gold`). Used as it is: no model is
        fitted, ``model``, ``cv``, ``rng`` and ``groups`` are not used, and the report says so.

    Returns
    -------
    PositivityReport

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=200, n_preference=2000, n_test=1, rng=0)
    >>> rep = mrs.positivity_report(s.train.X, s.train.source, rng=0)
    >>> rep.good_overlap
    True
    """
    X = as_2d_float(X, "X")
    t = as_source(source, "source")
    if t.shape[0] != X.shape[0]:
        raise ValueError(f"`source` must have one entry per row of `X`; got {t.shape[0]} for {X.shape[0]} rows.")
    cv = check_positive_int(cv, "cv", minimum=2)
    n_gold = int(t.sum())
    known = propensity is not None
    if n_gold < 1 or n_gold == t.size:
        raise ValueError(f"`source` must hold gold and preference rows; got {n_gold} gold of {t.size}.")
    if not known and (n_gold < cv or t.size - n_gold < cv):
        raise ValueError(
            f"`cv` must not exceed the number of gold ({n_gold}) or preference ({t.size - n_gold}) rows; got {cv}."
        )
    low, high = _band_iv(band, "band")
    k = check_positive_int(n_covariates, "n_covariates")
    if known:
        e = check_known_propensity(propensity, t).copy()
    else:
        e = cross_fit_propensity(X, t, model=model, cv=cv, rng=rng, groups=groups)
    p = n_gold / t.size
    w = density_ratio(np.minimum(e, 1 - 1e-9), p)  # a take-all (pi = 1) gold row: a very large, finite ratio
    auc = float(roc_auc_score(t, e))
    v = 1.0 / w[t == 1]
    ess = float(v.sum() ** 2 / np.sum(v**2))
    g, q = X[t == 1], X[t == 0]
    pooled_sd = np.sqrt((g.var(axis=0, ddof=1) + q.var(axis=0, ddof=1)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd_all = np.where(pooled_sd > 0, (g.mean(axis=0) - q.mean(axis=0)) / pooled_sd, 0.0)
    names = [f"x{j}" for j in range(X.shape[1])]
    smd = pd.Series(smd_all[:k], index=names[:k], name="smd")
    for arr in (e, w, t):
        arr.setflags(write=False)
    report = PositivityReport(
        propensity=e,
        ratio=w,
        source=t,
        gold_share=p,
        band=(low, high),
        auc=auc,
        gold_ess=ess,
        smd_values=smd.to_numpy(),
        smd_names=tuple(str(i) for i in smd.index),
        max_abs_smd=float(np.max(np.abs(smd_all))),
        propensity_known=known,
    )
    if not report.good_overlap:
        warnings.warn(
            f"Poor overlap of gold and preference queries: {100 * report.share_outside_preference:.1f} % of "
            f"preference rows outside the density-ratio band [{low:g}, {high:g}], gold effective sample size "
            f"{ess:.0f} of {n_gold}, two-sample AUC {auc:.2f}. Consider MetaRouter(trim=...).",
            UserWarning,
            stacklevel=2,
        )
    return report
