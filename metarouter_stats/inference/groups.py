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

Two refinements for gold queries selected on x (the positivity report's poor overlap):
``region="overlap"`` restricts the rows and the target to the queries inside the overlap
(density ratio of gold to preference queries in ``OVERLAP_BAND``), where the scores do not
extrapolate; ``method="both"`` (given the training data) takes, per split and group, the
larger of the scores' sandwich standard error and the weighted refit bootstrap's, whose
replicates re-estimate every nuisance with the groups held fixed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_rng, check_fraction, check_n_jobs, check_positive_int, check_resamples
from .._results import ResultMixin, frozen_array, new_axes
from .._threads import budgeted
from ..cate import require_capability
from ..routers import check_units
from .._resampling import OVERLAP_BAND, POOR_OVERLAP_SHARE, critical_value
from .band_engines import refit_bootstrap
from .overlap import outside_overlap_rows, overlap_check
from .heterogeneity import fitted_learner
from .split_bootstrap import (
    SplitProxies, group_statistics, halves, main_units, p_text, quantile_groups, refit_proxy, resolve_aggregation, wild_draws,
)

REGIONS = ("auto", "all", "overlap")
GROUP_METHODS = ("auto", "fast", "both")
MAX_GROUPS = 5  # CDDF's number of groups
# every group's average should rest on at least this many gold rows (main half, median over splits): groups with
# fewer under-covered on the selection benchmark (benchmarks/gates, docs/benchmarks.md); n_groups="auto" takes the
# most groups (up to 5) that keep every group at 4 or more, and fewer are flagged
FEW_GOLD = 4

__all__ = ["GroupBiasResult", "bias_by_group"]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class GroupBiasResult(ResultMixin):
    """Average bias by group of queries sorted by the predicted bias (see :func:`bias_by_group`).

    Attributes
    ----------
    estimate : ndarray of shape (n_groups,)
        Mean (``aggregation="bootstrap"``) or median (``"median"``) over the splits of each
        group's mean score: the average bias of the group (group 1: smallest predicted bias).
    split_estimates, split_std_errors : ndarray of shape (n_splits, n_groups)
        Per-split group means and their standard errors (read-only).
    difference_p_value : float
        Two-sided p-value of "last group = first group" (no heterogeneity the learner can
        sort): the wild bootstrap's or the median-adjusted one.
    units : {"gold", "preference"}
    scale : float
        The c used to state the bias in gold units (treated as known).
    n_splits : int
    overlap_note : str
        Empty, or a warning that many preference rows lie where gold queries are rare
        (see :func:`~metarouter_stats.inference.overlap.overlap_check`).
    region : {"all", "overlap"}
        The queries the groups and their targets are about: all of them, or those inside
        the overlap (density ratio in ``OVERLAP_BAND``).
    n_excluded_gold, n_excluded_preference : int
        Scored rows left out because they lie outside the overlap (0 for ``"all"``).
    method : {"fast", "both"}
        ``"fast"``: the scores' sandwich SE (nuisances held fixed); ``"both"``: per split
        and group the larger of it and the weighted refit bootstrap's SE.
    n_boot : int
        Refits of the weighted refit bootstrap (0 for ``"fast"``).
    gold_per_group : ndarray of shape (n_groups,)
        Median over the splits of the gold rows in each group of the main half. The scores
        of a group with few gold rows rest on the gold outcome model, whose extrapolation
        error no standard error sees: groups with fewer than ``FEW_GOLD`` (4) are flagged
        (summary note and a RuntimeWarning): such groups under-cover (``docs/benchmarks.md``,
        the ``selection`` benchmark of ``bias_by_group``).
    groups_rule : str
        How the number of groups was chosen: empty when ``n_groups`` was given, else what
        ``n_groups="auto"`` did.
    aggregation : {"bootstrap", "median"}
        How the splits were combined (see :func:`bias_by_group`).
    std_error : ndarray of shape (n_groups,)
        ``"bootstrap"``: the standard error of ``estimate`` (the wild bootstrap's, or the
        refits' when larger with ``method="both"``); NaN for ``"median"``.
    error_draws : ndarray of shape (n_wild, n_groups)
        ``"bootstrap"``: the wild bootstrap's errors of the split-averaged group means (empty
        for ``"median"``).
    """

    estimate: np.ndarray
    split_estimates: np.ndarray
    split_std_errors: np.ndarray
    difference_p_value: float
    units: str
    scale: float
    n_splits: int
    overlap_note: str = ""
    region: str = "all"
    n_excluded_gold: int = 0
    n_excluded_preference: int = 0
    method: str = "fast"
    n_boot: int = 0
    gold_per_group: np.ndarray | None = None
    groups_rule: str = ""
    aggregation: str = "median"
    std_error: np.ndarray | None = None
    error_draws: np.ndarray | None = None
    _title = "Average bias by group (sorted by the predicted bias; CDDF GATES)"

    @property
    def difference_pvalue(self) -> float:
        """Deprecated alias of ``difference_p_value`` (removed in the next release)."""
        warnings.warn("`difference_pvalue` is deprecated and will be removed in the next release; use `difference_p_value`.", FutureWarning,
                      stacklevel=2)
        return self.difference_p_value

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.estimate.size)

    def confidence_interval(self, confidence_level: float = 0.95, *, kind: str = "pointwise") -> tuple[np.ndarray, np.ndarray]:
        """Intervals of the group averages.

        ``kind="pointwise"``: each group's interval covers its average with probability
        ``confidence_level`` (at least that for ``aggregation="median"``); ``"uniform"``: all
        groups at once. ``"bootstrap"``: estimate +- z SE pointwise, +- the sup-t quantile of
        the wild bootstrap's standardised errors times SE uniformly. ``"median"``: CDDF's
        medians of per-split bounds at level ``1 - alpha / 2`` (uniform: Sidak over the
        groups, which are disjoint halves of independent rows in each split).
        """
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if kind not in ("pointwise", "uniform"):
            raise ValueError(f"`kind` must be 'pointwise' or 'uniform'; got {kind!r}.")
        if self.aggregation == "bootstrap" and self.std_error is not None and self.error_draws is not None:
            boot_se = self.error_draws.std(axis=0, ddof=1)
            crit = critical_value(np.zeros(self.n_groups), self.error_draws, boot_se, kind, level)
            return self.estimate - crit * self.std_error, self.estimate + crit * self.std_error
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
        rows.append((f"p (group {self.n_groups} = group 1)", p_text(self.difference_p_value,
                                                                         0 if self.error_draws is None
                                                                         else self.error_draws.shape[0])))
        rows.append(("units / splits", f"{self.units} (c = {self.scale:.4g}) / {self.n_splits}"))
        if self.gold_per_group is not None:
            rows.append(("gold rows per group (main half, median)", " ".join(f"{g:g}" for g in self.gold_per_group)))
        if self.groups_rule:
            rows.append(("groups", f"{self.n_groups} ({self.groups_rule})"))
        rows.append(("queries / standard errors", f"{self.region} / {self.method}"
                     + (f" ({self.n_boot} weighted refits)" if self.method == "both" else "")))
        if self.region == "overlap":
            rows.append(("rows left out (outside the overlap)",
                         f"{self.n_excluded_gold} gold, {self.n_excluded_preference} preference"))
        return rows

    def _notes(self) -> list[str]:
        low, high = OVERLAP_BAND
        who = ("the queries in each group" if self.region == "all" else
               f"the queries in each group that lie inside the overlap (density ratio of gold to preference queries "
               f"in [{low:g}, {high:g}] by the learner's propensity; {self.n_excluded_gold} gold and "
               f"{self.n_excluded_preference} preference rows outside were left out)")
        cond = ("conditional on the cross-fitted nuisances and on c" if self.method == "fast" else
                "c treated as known; standard error the larger of the scores' (nuisances held fixed) and the weighted "
                "refit bootstrap's (nuisances re-estimated, groups held fixed)")
        few = self._few_gold_note()
        return [
            f"Target: the average bias (gold - preference) of {who}, groups = quantile bins of "
            f"the learner's predicted bias; no model of Delta(x) is assumed. {cond[0].upper() + cond[1:]}; "
            + ("95% pointwise intervals for the mean over sample splits of each split's group average, standard "
               f"errors from a wild bootstrap rerunning every split ({0 if self.error_draws is None else self.error_draws.shape[0]} "
               "replicates)." if self.aggregation == "bootstrap" else
               "95% pointwise intervals, CDDF's median over sample splits (conservative).")
            + (f" {self.overlap_note}." if self.overlap_note else "")
            + (f" {few}" if few else ""),
        ]

    def _few_gold_note(self) -> str:
        if self.gold_per_group is None or not np.any(self.gold_per_group < FEW_GOLD):
            return ""
        few = ", ".join(str(k + 1) for k in np.flatnonzero(self.gold_per_group < FEW_GOLD))
        return (f"FEW GOLD ROWS: group(s) {few} rest on fewer than {FEW_GOLD} gold rows (main half, median over splits); "
                "there the average leans on the gold outcome model and its interval can miss (such groups "
                "under-covered in the package's selection benchmark, docs/benchmarks.md). Fewer groups "
                "(n_groups='auto' chooses them) put more gold rows in each.")

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


def _gold_per_group(scores: Any, splits: list[tuple[np.ndarray, np.ndarray]], n_groups: int) -> np.ndarray:
    """Median over the splits of each group's gold rows in the main half."""
    return np.median([np.bincount(group[scores.source[main] == 1], minlength=n_groups) for main, group in splits],
                     axis=0)


def _choose_groups(scores: Any, proxies: list[tuple[np.ndarray, np.ndarray]], most: int, auto: bool) -> tuple[int, str]:
    """``n_groups="auto"``: the most groups (up to ``most``) whose every group holds ``FEW_GOLD`` gold rows."""
    if not auto:
        return most, ""
    for k in range(most, 1, -1):
        gold = _gold_per_group(scores, [(main, quantile_groups(proxy, k)[:, 0]) for main, proxy in proxies], k)
        if np.all(gold >= FEW_GOLD):
            return k, (f"auto: the most groups, up to {most}, with at least {FEW_GOLD} gold rows each"
                       + ("" if k == most else f"; {most} would leave fewer in a group"))
    return 2, f"auto: even 2 groups leave fewer than {FEW_GOLD} gold rows in a group"


def _difference_t(means: np.ndarray, ses: np.ndarray) -> np.ndarray:
    """t statistic of last group - first group, column by column (the groups are disjoint sets of independent rows)."""
    diff_se = np.hypot(ses[:, -1], ses[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(diff_se > 0, (means[:, -1] - means[:, 0]) / diff_se, 0.0)


@budgeted
def bias_by_group(
    router: Any, *, n_groups: int | str = "auto", n_splits: int = 100, units: str = "gold", region: str = "auto",
    method: str = "auto", data: Any = None, n_boot: int = 50, aggregation: str = "auto", n_wild: int = 200,
    rng: Any = None, n_jobs: int | None = None, progress: bool = True,
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
    n_groups : int or "auto", default "auto"
        Groups (quantile bins of the predicted bias). ``"auto"``: the most groups, up to
        CDDF's 5, such that every group of the main half holds at least ``FEW_GOLD`` (4)
        gold rows (median over the splits; a group average resting on fewer leans on the
        gold outcome model, whose error no standard error sees); 2 groups, flagged, when
        even 2 cannot. The count depends on x and the source only, never on the labels.
        With random gold this keeps 5 groups from about 40 gold rows on; with gold selected
        on x it merges the groups where gold is rare. An int is used as given (groups with
        fewer than 4 gold rows are flagged).
    n_splits : int, default 100
        Random halvings of the rows (stratified by source).
    units : {"gold", "preference"}, default "gold"
        Gold units divide by the router's c (a bare learner has c = 1).
    region : {"auto", "all", "overlap"}, default "auto"
        ``"all"``: every scored row, and the target is the average bias of all the queries
        in a group. ``"overlap"``: only the rows whose density ratio of gold to preference
        queries lies in ``OVERLAP_BAND`` ([0.1, 10]; from the probabilities known by design
        or the learner's propensity, capability ``"propensity"``), and the target is the
        average bias of a group's queries inside the overlap; the rows left out are counted
        in the result. ``"auto"``: ``"overlap"`` when more than 5 % of the preference rows
        lie outside it (gold looks selected on x; the positivity report's rule), with a
        RuntimeWarning saying what was left out, else ``"all"``. Where gold is rare the
        scores extrapolate the gold outcome model: where gold is selected on x, the groups over
        all queries under-cover, and restricting them to the overlap with ``method="both"``
        restores the level except for groups resting on very few gold rows, whose error is the
        gold outcome model's extrapolation (``benchmarks/gates/run.py``; coverage by gold size
        in ``docs/benchmarks.md``).
    method : {"auto", "fast", "both"}, default "auto"
        ``"fast"``: each split's interval uses the sandwich SE of the group's mean score,
        conditional on the cross-fitted nuisances. ``"both"`` (needs ``data`` and the
        learner capability ``"sample_weight"``): per split and group, the larger of that SE
        and the SD of the group's mean score over ``n_boot`` weighted refits (Exp(1) row
        weights, every nuisance re-estimated, the splits and groups held fixed; see
        :func:`~metarouter_stats.inference.band_engines.refit_bootstrap`). ``"auto"``:
        ``"both"`` when ``data`` is given and gold looks selected on x (as for ``region``),
        else ``"fast"``.
    data : RoutingData or (X, y, source), optional
        The router's training data, for ``method="both"``.
    n_boot : int, default 50
        Weighted refits for ``method="both"``.
    aggregation : {"auto", "bootstrap", "median"}, default "auto"
        How the splits are combined. ``"bootstrap"``: the estimate of a group is the **mean**
        over the splits of its mean score; its standard error is the SD of the same average
        over ``n_wild`` wild-bootstrap replicates that rerun every split (proxies refitted,
        groups recut) on the scores' fit plus multiplied residuals; the uniform intervals use
        the replicates' sup-t quantile; the p-value of "last = first" is the wild bootstrap's
        under a constant bias (:mod:`.split_bootstrap`). ``"median"``: CDDF's rule (medians of
        per-split estimates and of per-split bounds at level ``1 - alpha/2``, p-value
        ``min(1, 2 median p)``), valid whatever the dependence between splits and
        conservative (coverage 0.995-1.000 at 95 % on the package's benchmark). ``"auto"``:
        ``"bootstrap"`` when the final stage is a linear smoother (the default's), else
        ``"median"``.
    n_wild : int, default 200
        Wild-bootstrap replicates for ``aggregation="bootstrap"`` (they give standard errors
        and a sup-t quantile, for which 200 suffice; about 4 s at 4,500 scored rows).
    rng : None, int or numpy.random.Generator
        Seed of the splits and of the refits; the same seed gives the same result for any
        ``n_jobs``.
    n_jobs : int or None
        joblib workers for the refits.
    progress : bool, default True
        A progress bar for the refits (on a terminal only).

    Returns
    -------
    GroupBiasResult

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=100, n_preference=1000, n_test=10, rng=0)
    >>> router = mrs.MetaRouter(random_state=0).fit(s.train)
    >>> res = mrs.bias_by_group(router, n_splits=20, rng=0)
    >>> res.n_groups, bool(res.estimate[-1] > res.estimate[0]), res.region, res.method
    (5, True, 'all', 'fast')
    """
    learner = fitted_learner(router, "bias_by_group")
    require_capability(learner, "scores", "bias_by_group")
    require_capability(learner, "refit_final", "bias_by_group")
    auto_groups = isinstance(n_groups, str) and n_groups == "auto"
    if not auto_groups:
        if isinstance(n_groups, str):
            raise ValueError(f"`n_groups` must be 'auto' or an int >= 2; got {n_groups!r}.")
        n_groups = check_positive_int(n_groups, "n_groups", minimum=2)
    n_splits = check_resamples(n_splits, "n_splits", minimum=1)
    n_wild = check_resamples(n_wild, "n_wild", minimum=19)
    units = check_units(units)
    if region not in REGIONS:
        raise ValueError(f"`region` must be one of {REGIONS}; got {region!r}.")
    if method not in GROUP_METHODS:
        raise ValueError(f"`method` must be one of {GROUP_METHODS}; got {method!r}.")
    scores = learner.scores_
    flagged = outside_overlap_rows(learner)
    outside = np.zeros(scores.n, dtype=bool) if flagged is None else flagged
    poor = float(outside[scores.source == 0].mean()) > POOR_OVERLAP_SHARE
    if region == "overlap" and flagged is None:
        raise ValueError(
            "region='overlap' needs the learner's propensity (capability 'propensity') or probabilities known by "
            f"design; {type(learner).__name__} has neither. Use region='all'.")
    chosen_region = ("overlap" if poor else "all") if region == "auto" else region
    chosen_method = ("both" if poor and data is not None else "fast") if method == "auto" else method
    if chosen_method == "both":
        if data is None:
            raise ValueError("method='both' needs the router's training data: pass `data=` (a RoutingData or (X, y, source)).")
        require_capability(learner, "sample_weight", "bias_by_group(method='both')")
        if not hasattr(router, "make_learner"):
            raise TypeError("method='both' refits the router: pass the fitted MetaRouter, not its bare learner.")
        n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    excluded = outside if chosen_region == "overlap" else np.zeros(scores.n, dtype=bool)
    rows = np.flatnonzero(~excluded)
    n_out_gold = int(np.sum(excluded & (scores.source == 1)))
    n_out_pref = int(np.sum(excluded & (scores.source == 0)))
    sub = scores if chosen_region == "all" else scores.take(rows)
    most = MAX_GROUPS if auto_groups else int(n_groups)
    fewest = 2 if auto_groups else most  # the fewest groups the call can end with
    if sub.n < 4 * fewest:
        raise ValueError(f"`n_groups` = {n_groups} needs at least {4 * fewest} scored rows; the learner has {sub.n}"
                         + (" inside the overlap (use region='all' or fewer groups)." if chosen_region == "overlap" else "."))
    if chosen_region == "overlap":
        overlap_note = ""
        if region == "auto":
            warnings.warn(
                f"bias_by_group: gold queries look selected on x ({100 * outside[scores.source == 0].mean():.1f} % of the "
                f"preference rows lie outside the overlap); the groups and their targets are restricted to the queries "
                f"inside it ({n_out_gold} gold and {n_out_pref} preference rows left out). region='all' keeps them, at "
                "the price of intervals that can miss there.", RuntimeWarning, stacklevel=3)
    else:
        _, overlap_note = overlap_check(learner, None, "bias_by_group")
    c = float(getattr(router, "scale_", 1.0))
    factor = c if units == "gold" else 1.0
    gen = as_rng(rng)
    split_proxies = SplitProxies(learner, sub, halves(sub, n_splits, gen))
    chosen_aggregation = resolve_aggregation(aggregation, split_proxies)
    phi_obs, w_sub = sub.pseudo_outcomes, sub.weights
    proxies = [(main, proxy) for main, proxy in split_proxies(phi_obs[:, None])]
    n_groups, groups_rule = _choose_groups(sub, proxies, most, auto_groups)
    splits = [(main, quantile_groups(proxy, n_groups)[:, 0]) for main, proxy in proxies]
    parts = [group_statistics(phi_obs[main][:, None], group[:, None], w_sub[main], n_groups, main_units(sub, main))
             for main, group in splits]
    est = np.array([p[0][0] for p in parts])
    se = np.array([p[1][0] for p in parts])
    refit_sd = None
    if chosen_method == "both":
        def statistic(replicate: Any, w: Any) -> np.ndarray:
            rs = replicate.scores_
            phi, ww = rs.pseudo_outcomes[rows], rs.weights[rows]
            return np.concatenate([group_statistics(phi[main][:, None], group[:, None], ww[main], n_groups,
                                                    std_errors=False)[0][0] for main, group in splits])

        draws, _ = refit_bootstrap(router, data, np.empty((0, scores.X.shape[1])), n_boot, gen, check_n_jobs(n_jobs),
                                   progress=progress, resampling="weights", statistic=statistic)
        # c is the router's, as for the point estimates: the refits' spread is on the preference scale
        draws = draws.reshape(n_boot, n_splits, n_groups)
        se = np.maximum(se, draws.std(axis=0, ddof=1))
        refit_sd = draws.mean(axis=1).std(axis=0, ddof=1)
    gold = _gold_per_group(sub, splits, n_groups)
    if np.any(gold < FEW_GOLD):
        warnings.warn(f"bias_by_group: groups {np.flatnonzero(gold < FEW_GOLD) + 1} rest on fewer than {FEW_GOLD} gold "
                      "rows each; their intervals lean on the gold outcome model and can miss (see the summary). "
                      + ("Even 2 groups cannot hold that many: read the group averages with care."
                         if auto_groups else "Use fewer groups (n_groups='auto' chooses them)."),
                      RuntimeWarning, stacklevel=3)
    t_diff = _difference_t(est, se)
    errors = np.empty((0, n_groups))
    if chosen_aggregation == "bootstrap":
        estimate = est.mean(axis=0)
        fitted = np.asarray(refit_proxy(learner, split_proxies.stage, sub.X, phi_obs, w_sub).predict(sub.X),
                            dtype=float).reshape(-1)

        def around_fit(main: np.ndarray, proxy: np.ndarray, phi: np.ndarray) -> np.ndarray:
            groups = quantile_groups(proxy, n_groups)
            star = group_statistics(phi, groups, w_sub[main], n_groups, std_errors=False)[0]
            truth = group_statistics(np.broadcast_to(fitted[main][:, None], phi.shape), groups, w_sub[main], n_groups,
                                     std_errors=False)[0]
            return star - truth

        errors = wild_draws(around_fit, split_proxies, fitted, n_wild, gen)
        std_error = errors.std(axis=0, ddof=1)
        if refit_sd is not None:
            std_error = np.maximum(std_error, refit_sd)
        # "last = first" by the bootstrap law of the difference's error (the interval for the difference, inverted)
        null = np.abs(errors[:, -1] - errors[:, 0])
        observed = abs(float(estimate[-1] - estimate[0]))
        p_value = float((1 + np.sum(null >= observed * (1 - 1e-12))) / (1 + n_wild))
    else:
        estimate = np.median(est, axis=0)
        std_error = np.full(n_groups, np.nan)
        p_value = float(min(1.0, 2 * np.median(2 * stats.norm.sf(np.abs(t_diff))))) if n_splits > 1 else \
            float(2 * stats.norm.sf(abs(t_diff[0])))
    est, se, estimate, std_error, errors = (v / factor for v in (est, se, estimate, std_error, errors))
    return GroupBiasResult(
        estimate=frozen_array(estimate),
        split_estimates=frozen_array(est),
        split_std_errors=frozen_array(se),
        difference_p_value=p_value,
        units=units,
        scale=c,
        n_splits=n_splits,
        overlap_note=overlap_note,
        region=chosen_region,
        n_excluded_gold=n_out_gold,
        n_excluded_preference=n_out_pref,
        method=chosen_method,
        n_boot=n_boot if chosen_method == "both" else 0,
        gold_per_group=frozen_array(gold),
        groups_rule=groups_rule,
        aggregation=chosen_aggregation,
        std_error=frozen_array(std_error),
        error_draws=frozen_array(errors),
    )
