r"""What a multi-model router is worth under token costs, from few gold labels (prediction-powered).

For fixed routers (score matrices :math:`s_{ik}`: predicted gain of model k over the reference on
query i) and known costs :math:`C_{ik}`, a cost weight w routes query i to
:math:`k_i(w) = \arg\max_k s_{ik} - w C_{ik}`. Over a grid of weights the router traces mean cost
:math:`M(w) = \bar C_{\cdot k(w)}`, known on every evaluation query without labels, and mean gold
quality :math:`Q(w) = E[g_{k(w)}]`, which needs gold labels. With gold labels on a random
subset G of the N evaluation queries (or on queries labelled with known probabilities
:math:`\pi_i`) and a pseudo-gold :math:`f_{ik}` (a prediction of every model's gain, e.g. the
corrected preference labels) on all of them, each :math:`Q(w_j)` is estimated by PPI++:

.. math:: \hat Q_j = \lambda_j \bar f_{\cdot j} + \frac{\sum_{i \in G} \pi_i^{-1}(y_{ij} - \lambda_j f_{ij})}{\sum_{i \in G}\pi_i^{-1}},
          \qquad y_{ij} = g_{i k_i(w_j)},\ f_{ij} = f_{i k_i(w_j)},

with the power-tuning :math:`\lambda_j` of Angelopoulos et al. (2024) (:math:`\lambda = 0`, the
gold-only estimate, without a pseudo-gold). The frontier's summaries are functions of the
:math:`\hat Q_j`: RouterBench's AIQ (area under the upper envelope of quality against cost,
over the cost range of the cheapest and dearest models, as
:func:`~metarouter_stats.cost_quality_frontier`) and the best quality at mean cost <= a budget.
Their intervals follow the same theory as the router evaluation of
:func:`~metarouter_stats.evaluation.evaluate_routers`: :math:`\lambda_j` from the package's one PPI++
tuner (the variance-minimising coefficient for gold rows that are part of the evaluation
queries, not clipped); an Exp(1) multiplier bootstrap over the evaluation queries that
re-estimates every :math:`\hat Q_j` under the weights (the same multipliers for every weight
and router, so the envelope and the area are recomputed on each draw) with :math:`\lambda` held
at its estimate; and Student-t intervals with the bootstrap SE under the small-sample rule
(SE inflation and Satterthwaite degrees of freedom from the gold rows' weights), with the
small-sample guard that falls back to the gold-only estimate of a :math:`Q_j` where that
interval is shorter. ``docs/benchmarks.md`` reports their coverage.

Target: the value of the **fixed** routers on the evaluation-query population, conditional on
them and on the pseudo-gold function (which must not have been fitted on these gold rows); the
costs are treated as known. With gold labels on every query and no pseudo-gold the point
estimates equal :func:`~metarouter_stats.cost_quality_frontier`'s.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_rng, check_budget, check_fraction, check_names, check_resamples
from .._resampling import (
    bootstrap, multiplier_draws, prefer_gold_only, small_sample_rule, t_quantile, tune_power,
)
from .._results import ResultMixin, frozen_array, new_axes
from .curves import cost_quality_frontier, frontier_area, frontier_traces
from .results import ScalarEstimate

__all__ = ["CostQualityEvaluation", "cost_quality_interval", "evaluate_cost_quality"]

_PPI_TARGET = ("the value of each fixed router on the evaluation-query population, conditional on the routers, "
               "the pseudo-gold function and the known costs")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CostQualityEvaluation(ResultMixin):
    """AIQ and the quality at a budget of several fixed multi-model routers, each with an interval.

    Returned by :func:`evaluate_cost_quality` (prediction-powered, from partly gold-labelled
    queries) and :func:`cost_quality_interval` (a test set with every gold gain).

    Attributes
    ----------
    routers : tuple of str
    aiq : tuple of ScalarEstimate
        Per router, RouterBench's AIQ (area under the upper envelope of mean quality against mean
        cost, over the cost range of the cheapest and dearest models).
    quality_at_budget : tuple of ScalarEstimate
        Per router, the best mean quality at mean cost <= ``budget`` (empty without a budget).
    budget : float or None
    gold_rows : int
        Gold-labelled queries used.
    lambda_mean : ndarray of shape (n_routers,)
        Mean power-tuning coefficient over the cost weights (0 without a pseudo-gold).
    method : str
    confidence_level : float
    target : str
        What the intervals cover.

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(1)
    >>> gains = np.column_stack([np.zeros(500), rng.normal(0.4, 1, 500)])
    >>> gold = np.where((np.arange(500) < 100)[:, None], gains, np.nan)       # gold on 100 of 500 queries
    >>> res = mrs.evaluate_cost_quality(gold, np.tile([1.0, 2.0], (500, 1)), {"r": gains + rng.normal(size=(500, 2))},
    ...                                 pseudo_gold=gains + 0.5 * rng.normal(size=(500, 2)), rng=0)
    >>> res.routers, res.gold_rows
    (('r',), 100)
    >>> res.aiq_of("r").interval
    'normal'
    """

    routers: tuple[str, ...]
    aiq: tuple[ScalarEstimate, ...]
    quality_at_budget: tuple[ScalarEstimate, ...]
    budget: float | None
    gold_rows: int
    lambda_mean: np.ndarray
    method: str
    confidence_level: float
    target: str
    _title = "Cost-quality evaluation: AIQ per router"

    def _index(self, router: str) -> int:
        if router not in self.routers:
            raise ValueError(f"Unknown router {router!r}; this evaluation has {list(self.routers)}.")
        return self.routers.index(router)

    def aiq_of(self, router: str) -> ScalarEstimate:
        """The AIQ estimate of one router."""
        return self.aiq[self._index(router)]

    def to_frame(self) -> pd.DataFrame:
        """One row per router: ``aiq``, ``aiq_se``, ``aiq_low``, ``aiq_high`` (and ``quality_at_budget_*``), ..."""
        out = pd.DataFrame({"router": list(self.routers), "aiq": [e.estimate for e in self.aiq],
                            "aiq_se": [e.std_error for e in self.aiq], "aiq_low": [e.low for e in self.aiq],
                            "aiq_high": [e.high for e in self.aiq]})
        if self.quality_at_budget:
            q = self.quality_at_budget
            out["quality_at_budget"] = [e.estimate for e in q]
            out["quality_at_budget_se"] = [e.std_error for e in q]
            out["quality_at_budget_low"] = [e.low for e in q]
            out["quality_at_budget_high"] = [e.high for e in q]
        if not self.method.startswith("test-set"):  # prediction-powered: how many gold rows, how much tuning
            out["gold_rows"] = self.gold_rows
            out["lambda_mean"] = self.lambda_mean
        return out

    def __getitem__(self, key: Any) -> Any:
        """Deprecated: the result was a DataFrame; use ``to_frame()[key]``."""
        warnings.warn("Indexing a cost-quality result like a DataFrame is deprecated and will be removed in the "
                      "next release; use `.to_frame()[key]`.", FutureWarning, stacklevel=2)
        return self.to_frame()[key]

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``: each router's AIQ interval at another level, from the same draws (in ``routers`` order)."""
        lo_hi = [e.confidence_interval(confidence_level) for e in self.aiq]
        return np.array([a for a, _ in lo_hi]), np.array([b for _, b in lo_hi])

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("target", self.target), ("method", self.method), ("gold-labelled queries", f"{self.gold_rows}")]
        pct = f"{100 * self.confidence_level:g} %"
        for i, name in enumerate(self.routers):
            e = self.aiq[i]
            rows.append((f"AIQ {name}", f"{e.estimate:.4g} [{e.low:.4g}, {e.high:.4g}] ({pct})"))
            if self.quality_at_budget:
                q = self.quality_at_budget[i]
                rows.append((f"quality at cost <= {self.budget:g}, {name}", f"{q.estimate:.4g} [{q.low:.4g}, {q.high:.4g}]"))
        return rows

    def plot(self, ax: Any = None) -> Any:
        """AIQ per router with its interval; returns the Axes."""
        ax = new_axes(ax)
        est = np.array([e.estimate for e in self.aiq])
        lo, hi = np.array([e.low for e in self.aiq]), np.array([e.high for e in self.aiq])
        ax.errorbar(np.arange(est.size), est, yerr=[est - lo, hi - est], fmt="o", capsize=3)
        ax.set_xticks(np.arange(est.size), list(self.routers), rotation=30, ha="right")
        ax.set_ylabel("AIQ")
        return ax


def _matrix(values: Any, name: str, shape: tuple[int, ...] | None = None, allow_nan: bool = False) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"`{name}` must be an (n, K) array with K >= 2 models; got shape {arr.shape}.")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape} like `costs`; got {arr.shape}.")
    bad = ~np.isfinite(arr) if not allow_nan else np.isinf(arr)
    if bad.any():
        raise ValueError(f"`{name}` must be finite{' or NaN' if allow_nan else ''}; got {int(bad.sum())} bad values.")
    return arr


def evaluate_cost_quality(
    gold_gains: Any,
    costs: Any,
    scores: dict[str, Any],
    *,
    pseudo_gold: Any = None,
    propensity: Any = None,
    weights: Any = None,
    budget: float | None = None,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> CostQualityEvaluation:
    """AIQ and quality at a budget of fixed multi-model routers from partly gold-labelled queries.

    Parameters
    ----------
    gold_gains : array-like of shape (n, K)
        Gold gain of each model over the reference (column 0: the reference, 0) on each
        evaluation query; a row of NaN where the query has no gold labels.
    costs : array-like of shape (n, K)
        Cost of each model on each query (known for every query).
    scores : dict name -> array-like of shape (n, K)
        Each fixed router's predicted gains.
    pseudo_gold : array-like of shape (n, K), optional
        A prediction of every model's gold gain on every query, not fitted on these gold rows.
        None: gold-only estimates.
    propensity : array-like of shape (n,), optional
        Each query's known probability of gold labelling (default: the gold share, labels at random).
    weights : array-like, optional
        Cost weights of the frontier (default as :func:`~metarouter_stats.cost_quality_frontier`,
        from the labelled rows' gain range).
    budget : float, optional
        Mean cost per query; adds each router's best quality at mean cost <= budget.
    n_boot : int, default 1000
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator
        Seed of the multipliers: same seed, same intervals.

    Returns
    -------
    CostQualityEvaluation
        Per router the AIQ and, with a budget, the quality at the budget, each a
        :class:`~metarouter_stats.evaluation.ScalarEstimate` (Student-t interval); ``to_frame()``
        gives ``aiq``, ``aiq_se``, ``aiq_low``, ``aiq_high`` (and ``quality_at_budget_*``),
        ``gold_rows`` and ``lambda_mean`` (the mean power-tuning coefficient over the weights: 0
        without pseudo-gold).

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(0)
    >>> g = np.column_stack([np.zeros(400), rng.normal(0.5, 1, 400), rng.normal(0.2, 1, 400)])
    >>> c = np.tile([1.0, 3.0, 2.0], (400, 1))
    >>> f = g + rng.normal(scale=0.3, size=g.shape)               # a good pseudo-gold
    >>> g_obs = np.where((np.arange(400) % 4 == 0)[:, None], g, np.nan)   # gold on 100 queries
    >>> res = mrs.evaluate_cost_quality(g_obs, c, {"r": f + rng.normal(size=g.shape)}, pseudo_gold=f, rng=0)
    >>> est = res.aiq_of("r")
    >>> bool(est.low < est.estimate < est.high)
    True
    """
    from ..decision import choose_models  # noqa: PLC0415

    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    c = _matrix(costs, "costs")
    n, K = c.shape
    g = _matrix(gold_gains, "gold_gains", (n, K), allow_nan=True)
    labelled = np.all(np.isfinite(g), axis=1)
    partial = np.any(np.isfinite(g), axis=1) & ~labelled
    if partial.any():
        raise ValueError(f"`gold_gains` row {int(np.flatnonzero(partial)[0])} is partly NaN: give a gold gain for every "
                         "model of a labelled query, or NaN for all of an unlabelled one.")
    n_g = int(labelled.sum())
    if n_g < 2:
        raise ValueError(f"`gold_gains` needs at least 2 gold-labelled queries; got {n_g}.")
    f = None if pseudo_gold is None else _matrix(pseudo_gold, "pseudo_gold", (n, K))
    if not isinstance(scores, dict) or not scores:
        raise TypeError("`scores` must be a non-empty dict router name -> (n, K) predicted gains.")
    check_names(scores, "scores")
    s_arr = {str(k): _matrix(v, f"scores[{k!r}]", (n, K)) for k, v in scores.items()}
    if propensity is None:
        pi = np.full(n, n_g / n)
    else:
        pi = np.asarray(propensity, dtype=float).reshape(-1)
        if pi.shape != (n,) or not np.all((pi > 0) & (pi <= 1)):
            raise ValueError(f"`propensity` must hold one probability in (0, 1] per query ({n}).")
    if budget is not None:
        budget = check_budget(budget, c)
    if weights is None:
        gl = g[labelled]
        ratio = np.ptp(gl) / max(float(np.ptp(c)), 1e-12)
        weights = np.concatenate(([0.0], np.logspace(-3, 2, 60) * ratio))
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.size < 1 or not np.all(np.isfinite(w) & (w >= 0)):
        raise ValueError("`weights` must be finite cost weights >= 0.")

    mean_cost = c.mean(axis=0)
    lo, hi = float(mean_cost.min()), float(mean_cost.max())
    gen = as_rng(rng)
    hw = np.where(labelled, 1.0 / pi, 0.0)
    ip_gold = hw[labelled]
    ones = np.ones(n_g)
    idx = np.arange(n)
    chosen = {name: np.column_stack([choose_models(s, c, float(ww)) for ww in w]) for name, s in s_arr.items()}
    # per router: the weights' mean cost (known, no labels needed), the chosen model's gold gain (0 where
    # unlabelled: weight 0) and pseudo-gold, the tuned lambda per weight
    parts = []
    for name, k in chosen.items():
        y = np.nan_to_num(g[idx[:, None], k])
        fj = np.zeros_like(y) if f is None else f[idx[:, None], k]
        lam = np.zeros(w.size) if f is None else tune_power(
            np.ones((n_g, w.size)), fj[labelled][:, :, None], y[labelled], ip_gold, fj.mean(axis=0)[:, None],
            n_g / n, use_z=False)[0][:, 0]
        parts.append((name, c[idx[:, None], k].mean(axis=0), y, fj, lam))
    # the point (unit multipliers) and the Exp(1) multiplier draws of every Q_j, tuned and gold-only, in blocks
    # (the same multipliers for every router and weight): Q_j = lambda_j mean_w(f_j) + Hajek_w(y_j - lambda_j f_j)
    q_all = np.empty((len(parts), 2, 1 + n_boot, w.size))
    row = 0
    for W in multiplier_draws(gen, n_boot, n, point=True):
        rows = slice(row, row + W.shape[0])
        Wh = W * hw
        wsum, hsum = W.sum(axis=1, keepdims=True), Wh.sum(axis=1, keepdims=True)
        for i, (_, _, y, fj, lam) in enumerate(parts):
            q_all[i, 0, rows] = lam * (W @ fj) / wsum + (Wh @ (y - lam * fj)) / hsum
            q_all[i, 1, rows] = (Wh @ y) / hsum
        row += W.shape[0]
    # the small-sample rule of a mean (contrast 1 on every gold row): k = 1 tuned coefficient, or none
    infl, df = small_sample_rule(ones, ip_gold, 1 if f is not None else 0)
    infl0, df0 = small_sample_rule(ones, ip_gold, 0)
    aiqs, at_budget, lam_mean = [], [], []
    for i, (name, m_cost, _, _, lam) in enumerate(parts):
        tuned, gold_only = q_all[i, 0], q_all[i, 1]
        use, fall = tuned, np.zeros(w.size, dtype=bool)
        if f is not None:  # small-sample guard, per weight: the gold-only Q_j where its interval is shorter
            fall = prefer_gold_only(tuned[1:].std(axis=0, ddof=1), infl, df, gold_only[1:].std(axis=0, ddof=1),
                                    infl0, df0, level)
            use = np.where(fall[None], gold_only, tuned)
            lam = np.where(fall, 0.0, lam)
        i_, d_ = (infl, df) if f is not None else (infl0, df0)
        aiq_d = np.array([frontier_area(m_cost, qd, lo, hi) for qd in use])
        aiqs.append(_t_estimate(f"AIQ of {name}", aiq_d, i_, d_, level, f is not None))
        if budget is not None:
            ok = m_cost <= budget + 1e-12
            best_d = use[:, ok].max(axis=1) if ok.any() else np.full(use.shape[0], np.nan)
            j = int(np.argmax(np.where(ok, use[0], -np.inf))) if ok.any() else 0
            used = f is not None and not fall[j]
            at_budget.append(_t_estimate(f"quality at mean cost <= {budget:g} of {name}", best_d,
                                         i_ if used else infl0, d_ if used else df0, level, used, float(lam[j])))
        lam_mean.append(float(lam.mean()))
    return CostQualityEvaluation(
        routers=tuple(s_arr), aiq=tuple(aiqs), quality_at_budget=tuple(at_budget), budget=budget, gold_rows=n_g,
        lambda_mean=frozen_array(lam_mean),
        method=("prediction-powered (PPI++), Exp(1) multiplier bootstrap, Student-t" if f is not None else
                "gold labels only, Exp(1) multiplier bootstrap, Student-t"),
        confidence_level=level, target=_PPI_TARGET)


def _t_estimate(name: str, values: np.ndarray, infl: float, df: float, level: float, pseudo: bool,
                power: float = float("nan")) -> ScalarEstimate:
    """A ScalarEstimate from the point (values[0]) and the multiplier draws (values[1:]): Student-t, inflated SE."""
    est, draws = float(values[0]), values[1:]
    se = float(np.std(draws, ddof=1)) * infl if np.all(np.isfinite(draws)) else float("nan")
    z = float(t_quantile(level, df))
    return ScalarEstimate(
        name=name, estimate=est, std_error=se, low=est - z * se, high=est + z * se, confidence_level=level,
        gold_only_std_error=float("nan"), p_value=float("nan"), draws=frozen_array(draws), target=_PPI_TARGET,
        interval="normal", df=df, used_pseudo_gold=pseudo, power=power,
    )
# --------------------------------------------------------------------------- several models under costs


def _value_at_budget(frame: pd.DataFrame, budget: float) -> pd.Series:
    """Best mean quality each router reaches at mean cost <= budget (its frontier's upper envelope)."""
    return pd.Series({str(name): _best_within(d["mean_cost"].to_numpy(), d["mean_quality"].to_numpy(), budget)
                      for name, d in frame.groupby("router", sort=False)})


def _best_within(cost: np.ndarray, quality: np.ndarray, budget: float) -> float:
    """Best quality among a trace's points of mean cost <= budget (NaN when none)."""
    ok = cost <= budget + 1e-12
    return float(quality[ok].max()) if ok.any() else float("nan")


def cost_quality_interval(
    gold_gains: Any,
    costs: Any,
    scores: dict[str, Any],
    *,
    budget: float | None = None,
    n_boot: int = 500,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> CostQualityEvaluation:
    """AIQ (area under the cost-quality frontier) and the quality at a budget, with percentile intervals.

    A query bootstrap around :func:`~metarouter_stats.cost_quality_frontier` on a test set where
    every query has a gold gain for every model: each replicate resamples the queries, re-traces
    every router's frontier, the oracle's and the random reference's, and recomputes the cost
    range of the AIQ. Target: the value of these **fixed** routers (their score functions) on the
    test-query population, conditional on them (RouterBench's AIQ, with its sampling error).

    Parameters
    ----------
    gold_gains, costs : array-like of shape (n, K)
    scores : dict name -> array-like of shape (n, K)
    budget : float, optional
        Mean cost per query; also report each router's best mean quality at mean cost <= budget.
    n_boot : int, default 500
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator

    Returns
    -------
    CostQualityEvaluation
        Per router (with ``oracle`` and ``random``) the AIQ and, with a budget, the quality at
        the budget, each a :class:`~metarouter_stats.evaluation.ScalarEstimate` with a percentile
        interval; ``to_frame()`` gives ``aiq``, ``aiq_se``, ``aiq_low``, ``aiq_high`` (and
        ``quality_at_budget_*``).

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(0)
    >>> g = np.column_stack([np.zeros(300), rng.normal(0.5, 1, 300)])
    >>> c = np.column_stack([np.ones(300), 3 * np.ones(300)])
    >>> res = mrs.cost_quality_interval(g, c, {"good": g + rng.normal(size=g.shape)}, n_boot=50, rng=0)
    >>> list(res.to_frame().columns[:4])
    ['router', 'aiq', 'aiq_se', 'aiq_low']
    """
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    g = np.asarray(gold_gains, dtype=float)
    c = np.asarray(costs, dtype=float)
    full = cost_quality_frontier(g, c, scores)
    if budget is not None:
        budget = check_budget(budget, c)
    names = list(full.areas.index)
    point = full.areas
    at_budget = _value_at_budget(full.frame, budget) if budget is not None else None
    n = g.shape[0]
    s_arr = {k: np.asarray(v, dtype=float) for k, v in scores.items()}

    def statistic(idx: np.ndarray) -> np.ndarray:
        # the frontier's own numbers (frontier_traces, which cost_quality_frontier frames), without its frames
        gi, ci = g[idx], c[idx]
        traces, (lo, hi) = frontier_traces(gi, ci, {k: v[idx] for k, v in s_arr.items()})
        out = np.array([frontier_area(mc, mq, lo, hi) for _, mc, mq in traces.values()])
        if budget is None:
            return out
        return np.r_[out, [_best_within(mc, mq, budget) for _, mc, mq in traces.values()]]

    boot = bootstrap(statistic, n, n_boot, as_rng(rng), progress=True, desc="cost-quality bootstrap")
    k = len(names)
    target = ("the AIQ of each fixed router on the test-query population, conditional on the routers "
              "(every query gold-labelled)")
    aiq = tuple(_percentile(f"AIQ of {nm}", float(point.iloc[i]), boot[:, i], level, target)
                for i, nm in enumerate(names))
    at_b: tuple[ScalarEstimate, ...] = ()
    if at_budget is not None:
        at_b = tuple(_percentile(f"quality at mean cost <= {budget:g} of {nm}", float(at_budget.reindex(names).iloc[i]),
                                 boot[:, k + i], level, target) for i, nm in enumerate(names))
    return CostQualityEvaluation(
        routers=tuple(str(nm) for nm in names), aiq=aiq, quality_at_budget=at_b, budget=budget, gold_rows=n,
        lambda_mean=frozen_array(np.zeros(k)), method="test-set bootstrap over queries, percentile intervals",
        confidence_level=level, target=target)


def _percentile(name: str, estimate: float, draws: np.ndarray, level: float, target: str) -> ScalarEstimate:
    """A ScalarEstimate with the percentile interval of its bootstrap draws (NaN draws ignored)."""
    lo, hi = np.nanquantile(draws, [0.5 - level / 2, 0.5 + level / 2])
    return ScalarEstimate(
        name=name, estimate=estimate, std_error=float(np.nanstd(draws, ddof=1)), low=float(lo), high=float(hi),
        confidence_level=level, gold_only_std_error=float("nan"), p_value=float("nan"), draws=frozen_array(draws),
        target=target, interval="percentile",
    )
