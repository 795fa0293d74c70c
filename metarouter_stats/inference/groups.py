r"""Where is the judge biased? Average bias by group, with valid intervals (CDDF's GATES).

A band for :math:`\Delta(x)` at single queries covers, with a linear final stage, the best
linear predictor of the bias, not :math:`\Delta(x)` itself (:func:`bias_interval`). The
*sorted group average* bias needs no model of :math:`\Delta`: queries are grouped by the
learner's prediction of the bias, and the target of each group is the true average bias
of its queries,

.. math:: \gamma_k = E[\Delta(X) \mid X \in G_k],

estimated by the mean of the doubly robust scores in the group. This is the GATES of
Chernozhukov, Demirer, Duflo and Fernandez-Val (2018/2023), with their inference: in each
of ``n_splits`` halvings of the rows, the proxy (the final stage) is fitted on an
auxiliary half A and the main half M is cut at the quantiles of the proxy on M; the
estimates, intervals and the p-value of :math:`\gamma_K - \gamma_1` are aggregated over the
splits by medians (per-split intervals at level :math:`1 - \alpha/2`, p-value
``min(1, 2 * median p)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_fraction, check_positive_int
from .._results import ResultMixin, frozen_array, new_axes
from .._threads import budgeted
from ..cate import require_capability
from ..routers import check_units
from .bias_bands import overlap_check
from .heterogeneity import cddf_splits, fitted_learner

__all__ = ["GroupBiasResult", "bias_by_group"]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class GroupBiasResult(ResultMixin):
    """Average bias by group of queries sorted by the predicted bias (see :func:`bias_by_group`).

    Attributes
    ----------
    estimate : ndarray of shape (n_groups,)
        Median over the splits of each group's mean score: the average bias of the group
        (group 1: smallest predicted bias).
    split_estimates, split_std_errors : ndarray of shape (n_splits, n_groups)
        Per-split group means and their standard errors (read-only).
    difference_pvalue : float
        Median-adjusted two-sided p-value of "last group = first group" (no heterogeneity
        the learner can sort).
    units : {"gold", "preference"}
    scale : float
        The c used to state the bias in gold units (treated as known).
    n_splits : int
    overlap_note : str
        Empty, or a warning that many preference rows lie where gold queries are rare
        (see :func:`~metarouter_stats.inference.bias_bands.overlap_check`).
    """

    estimate: np.ndarray
    split_estimates: np.ndarray
    split_std_errors: np.ndarray
    difference_pvalue: float
    units: str
    scale: float
    n_splits: int
    overlap_note: str = ""
    _title = "Average bias by group (sorted by the predicted bias; CDDF GATES)"

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.estimate.size)

    def confidence_interval(self, confidence_level: float = 0.95, *, kind: str = "pointwise") -> tuple[np.ndarray, np.ndarray]:
        """Median-adjusted intervals of the group averages.

        ``kind="pointwise"``: each group's interval covers its average with probability at
        least ``confidence_level``; ``"uniform"``: all groups at once (Sidak over the
        groups, which are disjoint halves of independent rows in each split).
        """
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if kind not in ("pointwise", "uniform"):
            raise ValueError(f"`kind` must be 'pointwise' or 'uniform'; got {kind!r}.")
        per_group = level if kind == "pointwise" else level ** (1.0 / self.n_groups)
        # CDDF: per-split intervals at level 1 - alpha / 2, medians of the bounds
        z = float(stats.norm.ppf(1 - (1 - per_group) / 4))
        low = np.median(self.split_estimates - z * self.split_std_errors, axis=0)
        high = np.median(self.split_estimates + z * self.split_std_errors, axis=0)
        return low, high

    def to_frame(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """One row per group: estimate, ci_low, ci_high (pointwise), uniform_low, uniform_high."""
        low, high = self.confidence_interval(confidence_level)
        ulow, uhigh = self.confidence_interval(confidence_level, kind="uniform")
        return pd.DataFrame(
            {"group": np.arange(1, self.n_groups + 1), "estimate": self.estimate, "ci_low": low, "ci_high": high,
             "uniform_low": ulow, "uniform_high": uhigh}
        )

    def _rows(self) -> list[tuple[str, str]]:
        low, high = self.confidence_interval()
        rows = [(f"group {k + 1}", f"{e:.4g}  [{lo:.4g}, {hi:.4g}]")
                for k, (e, lo, hi) in enumerate(zip(self.estimate, low, high, strict=True))]
        rows.append((f"p (group {self.n_groups} = group 1)", f"{self.difference_pvalue:.3g}"))
        rows.append(("units / splits", f"{self.units} (c = {self.scale:.4g}) / {self.n_splits}"))
        return rows

    def _notes(self) -> list[str]:
        return [
            "Target: the average bias (gold - preference) of the queries in each group, groups = quantile bins of "
            "the learner's predicted bias; no model of Delta(x) is assumed. Conditional on the cross-fitted "
            "nuisances and on c; 95% pointwise intervals, CDDF's median over sample splits."
            + (f" {self.overlap_note}." if self.overlap_note else ""),
        ]

    def plot(self, ax: Any = None) -> Any:
        """Group averages with pointwise (bars) and uniform (caps) intervals; returns the Axes."""
        ax = new_axes(ax)
        k = np.arange(1, self.n_groups + 1)
        low, high = self.confidence_interval()
        ulow, uhigh = self.confidence_interval(kind="uniform")
        ax.errorbar(k, self.estimate, yerr=[self.estimate - ulow, uhigh - self.estimate], fmt="none",
                    ecolor="grey", capsize=6, label="uniform 95%")
        ax.errorbar(k, self.estimate, yerr=[self.estimate - low, high - self.estimate], fmt="o", color="C0",
                    capsize=0, linewidth=3, label="pointwise 95%")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xticks(k)
        ax.set_xlabel("group (by predicted bias, low to high)")
        ax.set_ylabel(f"average bias ({self.units} scale)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return ax


def _group_split(scores: Any, main: np.ndarray, proxy: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Group means of the main half's scores, their SEs, and the p-value of last - first."""
    phi, w = scores.pseudo_outcomes, scores.weights
    # quantile bins of the proxy on the main half (ties by rank, so that every group is filled)
    ranks = np.argsort(np.argsort(proxy, kind="stable"), kind="stable")
    group = (ranks * n_groups) // main.size
    est, se = np.empty(n_groups), np.empty(n_groups)
    for k in range(n_groups):
        ph, ww = phi[main][group == k], w[main][group == k]
        mean = float(np.average(ph, weights=ww))
        # weighted mean's sandwich variance (HC0 with the small-sample factor m / (m - 1))
        m = ph.size
        var = float(np.sum(ww**2 * (ph - mean) ** 2) / np.sum(ww) ** 2) * m / max(m - 1, 1)
        est[k], se[k] = mean, np.sqrt(var)
    diff = est[-1] - est[0]
    diff_se = float(np.hypot(se[-1], se[0]))
    p = 2 * float(stats.norm.sf(abs(diff) / diff_se)) if diff_se > 0 else 1.0
    return est, se, p


@budgeted
def bias_by_group(
    router: Any, *, n_groups: int = 5, n_splits: int = 100, units: str = "gold", rng: Any = None
) -> GroupBiasResult:
    """Average bias of groups of queries sorted by the predicted bias, with valid intervals.

    See the module docstring for the method (CDDF's GATES on the learner's cross-fitted
    scores). The target needs no model of the bias: it is the true average bias of the
    queries in each group, so the intervals keep their level when the bias is not linear
    in x, where a band for Delta(x) at single queries covers only its best linear predictor.

    Parameters
    ----------
    router : fitted MetaRouter or fitted bias learner
        The learner must declare ``"scores"`` and ``"refit_final"``.
    n_groups : int, default 5
        Groups (quantile bins of the predicted bias).
    n_splits : int, default 100
        Random halvings of the rows (stratified by source).
    units : {"gold", "preference"}, default "gold"
        Gold units divide by the router's c (a bare learner has c = 1).
    rng : None, int or numpy.random.Generator
        Seed of the splits.

    Returns
    -------
    GroupBiasResult

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=100, n_preference=1000, n_test=10, rng=0)
    >>> router = mrs.MetaRouter(random_state=0).fit(s.train)
    >>> res = mrs.bias_by_group(router, n_splits=20, rng=0)
    >>> res.n_groups, bool(res.estimate[-1] > res.estimate[0])
    (5, True)
    """
    learner = fitted_learner(router, "bias_by_group")
    require_capability(learner, "scores", "bias_by_group")
    require_capability(learner, "refit_final", "bias_by_group")
    n_groups = check_positive_int(n_groups, "n_groups", minimum=2)
    n_splits = check_positive_int(n_splits, "n_splits", minimum=1)
    units = check_units(units)
    scores = learner.scores_
    if scores.n < 4 * n_groups:
        raise ValueError(f"`n_groups` = {n_groups} needs at least {4 * n_groups} scored rows; the learner has {scores.n}.")
    _, overlap_note = overlap_check(learner, None, "bias_by_group")
    c = float(getattr(router, "scale_", 1.0))
    factor = c if units == "gold" else 1.0
    parts = [_group_split(scores, main, proxy, n_groups) for main, proxy in cddf_splits(learner, n_splits, rng)]
    est = np.array([p[0] for p in parts]) / factor
    se = np.array([p[1] for p in parts]) / factor
    pvals = np.array([p[2] for p in parts])
    return GroupBiasResult(
        estimate=frozen_array(np.median(est, axis=0)),
        split_estimates=frozen_array(est),
        split_std_errors=frozen_array(se),
        difference_pvalue=float(min(1.0, 2 * np.median(pvals))) if n_splits > 1 else float(pvals[0]),
        units=units,
        scale=c,
        n_splits=n_splits,
        overlap_note=overlap_note,
    )
