r"""Is the bias heterogeneous? The best-linear-predictor calibration test.

It works on any fitted bias learner that declares the capabilities ``"scores"``
(cross-fitted pseudo-outcomes) and ``"refit_final"`` (see
:mod:`metarouter_stats.cate.protocol`), or on a fitted Meta-router holding one.
"""

from __future__ import annotations

import warnings

from dataclasses import dataclass, field
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_rng, check_fraction, check_resamples
from .._threads import budgeted
from .._results import ResultMixin, frozen_array
from ..cate import require_capability
from .split_bootstrap import (
    SplitProxies, blp_statistics, halves, main_units, p_text, proxy_stage, refit_proxy, resolve_aggregation, wild_draws,
)

__all__ = ["HeterogeneityTestResult", "bias_heterogeneity_test", "cddf_splits", "fitted_learner"]


def fitted_learner(obj: Any, what: str) -> Any:
    """The fitted bias learner of a fitted Meta-router, or ``obj`` itself if it is a learner."""
    learner = getattr(obj, "bias_learner_", None)
    if learner is not None:
        return learner
    if hasattr(obj, "effect") and hasattr(obj, "fit"):
        return obj
    raise TypeError(
        f"{what} needs a fitted MetaRouter or a fitted bias learner; got {type(obj).__name__} "
        "(call fit first)."
    )


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class HeterogeneityTestResult(ResultMixin):
    """Best-linear-predictor (BLP) test of a heterogeneous bias, over repeated sample splits.

    Each split s fits the proxy on an auxiliary half and regresses the scores of the main
    half on the proxy demeaned there; ``slope`` is the BLP loading :math:`\\beta_2`,
    ``mean_bias`` the intercept :math:`\\beta_1` (the average bias). With
    ``aggregation="bootstrap"`` the statistic, slope and mean bias are means over the splits
    and the p-value comes from the wild bootstrap of the mean t under a constant bias; with
    ``"median"`` they are medians and the p-value is the median-adjusted one of
    Chernozhukov, Demirer, Duflo and Fernandez-Val (CDDF): ``min(1, 2 * median p_s)``.

    Attributes
    ----------
    statistic : float
        Mean (``"bootstrap"``) or median (``"median"``) over the splits of the slope's t
        statistic (per split, asymptotically N(0, 1) under a constant bias).
    p_value : float
        One-sided, for slope > 0 (heterogeneity the learner detects).
    slope, slope_std_error : float
        Mean or median over the splits of the loading, and the median of its HC3 standard
        error (1 = the proxy is well calibrated, 0 = no heterogeneity).
    mean_bias, mean_bias_std_error : float
        Mean or median of the intercept, and the median of its standard error: the average
        bias on the scale the learner was fitted on (the preference scale for a Meta-router's
        learner).
    n : int
        Rows of the learner's scores.
    n_splits : int
    split_slopes, split_std_errors, split_statistics : ndarray of shape (n_splits,)
        The per-split values (read-only).
    split_proxy_sds : ndarray of shape (n_splits,)
        Weighted standard deviation of each split's proxy on its main half (learner's scale).
        The slope is measured per unit of the proxy, so a nearly constant proxy makes it
        large and hard to read; ``explained_sd`` is the scale-free summary.
    scores_fingerprint : str
        Digest of the learner's scores the test was run on (``CrossFitScores.fingerprint``).
    aggregation : {"bootstrap", "median"}
        How the splits were aggregated (see :func:`bias_heterogeneity_test`).
    null_statistics : ndarray of shape (n_wild,)
        The wild bootstrap's draws of the mean t under a constant bias (empty for
        ``"median"``): the test rejects at level a when ``statistic`` exceeds their
        ``1 - a`` quantile.
    """

    statistic: float
    p_value: float
    slope: float
    slope_std_error: float
    mean_bias: float
    mean_bias_std_error: float
    n: int
    n_splits: int = 1
    split_slopes: np.ndarray = field(default_factory=lambda: np.empty(0))
    split_std_errors: np.ndarray = field(default_factory=lambda: np.empty(0))
    split_statistics: np.ndarray = field(default_factory=lambda: np.empty(0))
    split_proxy_sds: np.ndarray = field(default_factory=lambda: np.empty(0))
    scores_fingerprint: str = ""
    aggregation: str = "median"
    null_statistics: np.ndarray = field(default_factory=lambda: np.empty(0))
    _title = "Heterogeneity of the bias (BLP calibration test)"

    @property
    def pvalue(self) -> float:
        """Deprecated alias of ``p_value`` (removed in the next release)."""
        warnings.warn("`pvalue` is deprecated and will be removed in the next release; use `p_value`.", FutureWarning,
                      stacklevel=2)
        return self.p_value

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """CDDF's median-adjusted interval for the slope :math:`\\beta_2`.

        The medians of the per-split intervals at level ``1 - (1 - confidence_level) / 2``
        cover :math:`\\beta_2` (the BLP loading of the bias on the proxy, conditional on
        the auxiliary halves) with probability at least ``confidence_level``.
        """
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if self.split_slopes.size == 0:
            return (float("nan"), float("nan"))
        z = float(stats.norm.ppf(1 - (1 - level) / 4))
        low = float(np.median(self.split_slopes - z * self.split_std_errors))
        high = float(np.median(self.split_slopes + z * self.split_std_errors))
        return (low, high)

    @property
    def explained_sd(self) -> float:
        """Standard deviation of the bias along the proxy: median over splits of slope x proxy SD.

        The SD over queries of the best linear predictor :math:`\beta_2 (S(x) - \bar S)` of
        the bias, on the learner's scale: 0 under a constant bias; the proxy's own SD when
        the proxy is calibrated (slope 1). Unlike the slope, it does not grow without bound
        when the proxy barely varies. A point summary (the test and the interval are the
        slope's).
        """
        if self.split_proxy_sds.size == 0:
            return float("nan")
        return float(np.median(np.abs(self.split_slopes) * self.split_proxy_sds))

    def _rows(self) -> list[tuple[str, str]]:
        low, high = self.confidence_interval()
        return [
            ("mean bias (learner's scale)", f"{self.mean_bias:.4f} (se {self.mean_bias_std_error:.4f})"),
            ("heterogeneity slope", f"{self.slope:.3f} (se {self.slope_std_error:.3f})"),
            ("SD of the proxy / of the bias along it", f"{float(np.median(self.split_proxy_sds)):.4g} / "
                                                        f"{self.explained_sd:.4g}"),
            ("95% CI of the slope", f"[{low:.3f}, {high:.3f}]"),
            (("mean t / wild-bootstrap one-sided p" if self.aggregation == "bootstrap" else
              "median t / adjusted one-sided p"), f"{self.statistic:.3f} / {p_text(self.p_value, self.null_statistics.size)}"),
            ("rows / sample splits", f"{self.n} / {self.n_splits}"),
        ]

    def _notes(self) -> list[str]:
        how = ("p-value from a wild bootstrap of the mean t over the sample splits under a constant bias (every split "
               f"rerun, {self.null_statistics.size} replicates); the slope's interval is CDDF's median-adjusted one"
               if self.aggregation == "bootstrap" else
               "p-value and interval are CDDF's median-adjusted ones over the sample splits (size at most the nominal "
               "level, often far below it)")
        return [
            "H0: the bias is constant in x (slope 0); a small p rejects a constant bias. Target: the loading of the "
            f"bias on the learner's proxy (best linear predictor), conditional on the fitted nuisances; {how}.",
        ]

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per coefficient (mean bias, slope)."""
        low, high = self.confidence_interval()
        return pd.DataFrame(
            {"estimate": [self.mean_bias, self.slope], "std_error": [self.mean_bias_std_error, self.slope_std_error],
             "statistic": [np.nan, self.statistic], "p_value": [np.nan, self.p_value],
             "ci_low": [np.nan, low], "ci_high": [np.nan, high]},
            index=["mean bias", "heterogeneity slope"],
        )


def cddf_splits(learner: Any, n_splits: int, rng: Any, scores: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """CDDF's sample splits of a learner's scored rows: (main-half rows, proxy on them) per split.

    Each split halves the rows (stratified by source; the queries, stratified by whether they carry
    gold, when the scores pair rows by query; :func:`.split_bootstrap.halves`); the proxy is the
    learner's final stage refitted on the auxiliary half's scores and predicted on the main half.
    ``scores`` (default ``learner.scores_``) may be a subset of them, e.g. the rows inside the overlap.
    """
    scores = learner.scores_ if scores is None else scores
    X, phi, w = scores.X, scores.pseudo_outcomes, scores.weights
    stage = proxy_stage(learner)
    for aux, main in halves(scores, n_splits, rng):
        model = refit_proxy(learner, stage, X[aux], phi[aux], w[aux])
        yield main, np.asarray(model.predict(X[main]), dtype=float).reshape(-1)


@budgeted
def bias_heterogeneity_test(router: Any, *, n_splits: int = 100, aggregation: str = "auto", n_wild: int = 500,
                            rng: Any = None) -> HeterogeneityTestResult:
    r"""Test that the bias is not constant: the BLP test of CDDF on a learner's cross-fitted scores.

    The best-linear-predictor test of Chernozhukov, Demirer, Duflo and
    Fernandez-Val (2018, "Generic machine learning inference on heterogeneous treatment
    effects"), on doubly robust (or R-learner) scores :math:`\phi_i` (the learner's
    cross-fitted pseudo-outcomes, weights :math:`w_i`). For each of ``n_splits`` random
    halvings of the rows (stratified by source) into an auxiliary half A and a main half M:

    1. the proxy :math:`S(x)` is the learner's final stage refitted on A's scores;
    2. on M, regress :math:`\phi_i = \beta_1 + \beta_2 (S(x_i) - \bar S_M) + u_i` by weighted
       least squares with HC3 standard errors (clustered by query on paired scores;
       :math:`\bar S_M` the weighted mean on M).

    Given A the proxy is a fixed function, so each split's t statistic of :math:`\beta_2` is
    asymptotically N(0, 1) under a constant bias. The splits are aggregated in one of two ways:

    ``"bootstrap"``
        The statistic is the **mean** over the splits of the t statistics, and its null law
        comes from a wild bootstrap that reruns every split (proxies refitted, regressions
        recomputed) on scores :math:`\bar\phi + v_{u(i)} (\phi_i - \bar\phi)`, a constant
        bias, with Exp(1) - 1 multipliers per query (:mod:`.split_bootstrap`, where the
        validity argument is). p-value: ``(1 + #{T* >= T}) / (1 + n_wild)``. Size close to
        the level where the median rule's is near 0, hence more power
        (``benchmarks/validity/run.py fits``).
    ``"median"``
        CDDF's rule: ``min(1, 2 * median p_s)``, which keeps its level whatever the
        dependence between splits and is conservative (size 0.00-0.01 at 5 % on the package's
        benchmark).

    Parameters
    ----------
    router : fitted MetaRouter or fitted bias learner
        The learner must declare the capabilities ``"scores"`` and ``"refit_final"``.
    n_splits : int, default 100
        Random halvings (CDDF use 100). One split gives a valid but split-dependent test.
    aggregation : {"auto", "bootstrap", "median"}, default "auto"
        ``"auto"``: ``"bootstrap"`` when the final stage is a linear smoother (ridge or least
        squares with a fixed penalty, possibly on a spline basis: the default's), whose
        bootstrap refits are one multi-output fit per split and block of replicates; else
        ``"median"`` (``"bootstrap"`` then refits the final stage ``n_splits * n_wild`` times).
    n_wild : int, default 500
        Wild-bootstrap replicates for ``"bootstrap"`` (the p-value's resolution is
        ``1 / (n_wild + 1)``).
    rng : None, int or numpy.random.Generator
        Seed of the splits and of the multipliers.

    Returns
    -------
    HeterogeneityTestResult

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=10, rng=0)
    >>> router = mrs.MetaRouter(random_state=0).fit(s.train)
    >>> res = mrs.bias_heterogeneity_test(router, n_splits=20, n_wild=100, rng=0)
    >>> res.n, res.n_splits, res.aggregation
    (660, 20, 'bootstrap')
    """
    learner = fitted_learner(router, "bias_heterogeneity_test")
    require_capability(learner, "scores", "bias_heterogeneity_test")
    require_capability(learner, "refit_final", "bias_heterogeneity_test")
    n_splits = check_resamples(n_splits, "n_splits", minimum=1)
    scores = learner.scores_
    gen = as_rng(rng)
    proxies = SplitProxies(learner, scores, halves(scores, n_splits, gen))
    chosen = resolve_aggregation(aggregation, proxies)
    w = scores.weights

    def statistic(main: np.ndarray, proxy: np.ndarray, phi: np.ndarray) -> np.ndarray:
        return blp_statistics(phi, proxy, w[main], main_units(scores, main))[0][:, None]

    per_split = np.array([[v[0] for v in blp_statistics(scores.pseudo_outcomes[main][:, None], proxy, w[main],
                                                        main_units(scores, main))]
                          for main, proxy in proxies(scores.pseudo_outcomes[:, None])])
    t, slopes, ses, icpt, icpt_se, proxy_sds = per_split.T
    null = np.empty(0)
    if chosen == "bootstrap":
        n_wild = check_resamples(n_wild, "n_wild", minimum=19)
        centre = np.full(scores.n, float(np.average(scores.pseudo_outcomes, weights=w)))
        null = wild_draws(statistic, proxies, centre, n_wild, gen)[:, 0]
        stat = float(np.mean(t))
        p_value = float((1 + np.sum(null >= stat - 1e-12 * max(1.0, abs(stat)))) / (1 + n_wild))
        pick: Any = np.mean
    else:
        stat = float(np.median(t))
        p_value = float(min(1.0, 2 * np.median(stats.norm.sf(t)))) if n_splits > 1 else float(stats.norm.sf(t[0]))
        pick = np.median
    return HeterogeneityTestResult(
        statistic=stat,
        p_value=p_value,
        slope=float(pick(slopes)),
        slope_std_error=float(np.median(ses)),
        mean_bias=float(pick(icpt)),
        mean_bias_std_error=float(np.median(icpt_se)),
        n=int(scores.n),
        n_splits=n_splits,
        split_slopes=frozen_array(slopes),
        split_std_errors=frozen_array(ses),
        split_statistics=frozen_array(t),
        split_proxy_sds=frozen_array(proxy_sds),
        scores_fingerprint=scores.fingerprint(),
        aggregation=chosen,
        null_statistics=frozen_array(null),
    )
