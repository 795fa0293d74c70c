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
Their intervals come from a multiplier bootstrap of the per-query influence values (Gaussian
multipliers; every weight's estimate perturbed by the same multipliers, so the envelope and
the area are recomputed on each draw), percentile intervals.

Target: the value of the **fixed** routers on the evaluation-query population, conditional on
them and on the pseudo-gold function (which must not have been fitted on these gold rows); the
costs are treated as known. With gold labels on every query and no pseudo-gold the point
estimates equal :func:`~metarouter_stats.cost_quality_frontier`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_rng, check_fraction, check_names, check_resamples

__all__ = ["evaluate_cost_quality"]


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
) -> pd.DataFrame:
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
    pandas.DataFrame
        One row per router: ``aiq``, ``aiq_se``, ``aiq_low``, ``aiq_high`` and, with a budget,
        ``quality_at_budget`` with its SE and interval; ``gold_rows`` and ``lambda_mean`` (the mean
        power-tuning coefficient over the weights: 0 without pseudo-gold).

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(0)
    >>> g = np.column_stack([np.zeros(400), rng.normal(0.5, 1, 400), rng.normal(0.2, 1, 400)])
    >>> c = np.tile([1.0, 3.0, 2.0], (400, 1))
    >>> f = g + rng.normal(scale=0.3, size=g.shape)               # a good pseudo-gold
    >>> g_obs = np.where((np.arange(400) % 4 == 0)[:, None], g, np.nan)   # gold on 100 queries
    >>> tab = mrs.evaluate_cost_quality(g_obs, c, {"r": f + rng.normal(size=g.shape)}, pseudo_gold=f, rng=0)
    >>> list(tab.columns[:5])
    ['router', 'aiq', 'aiq_se', 'aiq_low', 'aiq_high']
    """
    from ..decision import choose_models  # noqa: PLC0415
    from ..evaluation import frontier_area  # noqa: PLC0415 - the frontier's own area rule

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
    if budget is not None and not (np.isfinite(budget) and budget >= 0):
        raise ValueError(f"`budget` must be a mean cost >= 0; got {budget!r}.")
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
    xi = gen.standard_normal((n_boot, n))  # one set of multipliers for every router and weight
    hw = np.where(labelled, 1.0 / pi, 0.0)
    hw_sum = float(hw.sum())
    idx = np.arange(n)
    q_lo, q_hi = 0.5 - level / 2, 0.5 + level / 2
    rows = []
    for name, s in s_arr.items():
        k = np.column_stack([choose_models(s, c, float(ww)) for ww in w])      # (n, J)
        m_cost = c[idx[:, None], k].mean(axis=0)                               # known: no labels needed
        y = np.nan_to_num(g[idx[:, None], k])  # gold gain of the chosen model; 0 where unlabelled (weight 0)
        if f is None:
            fj, lam = np.zeros_like(y), np.zeros(w.size)
        else:
            fj = f[idx[:, None], k]
            lam = _tuned_lambda(y[labelled], fj[labelled], fj, hw[labelled], n_g / n)
        f_mean = fj.mean(axis=0)
        rect = (hw[:, None] * (y - lam * fj)).sum(axis=0) / hw_sum
        q = lam * f_mean + rect
        # influence of each query on each Q_j (mean zero), and the multiplier draws of Q
        infl = lam * (fj - f_mean) / n + hw[:, None] * ((y - lam * fj) - rect) / hw_sum
        q_draws = q + xi @ infl                                                 # (B, J)
        aiq = frontier_area(m_cost, q, lo, hi)
        aiq_d = np.array([frontier_area(m_cost, qd, lo, hi) for qd in q_draws])
        row = {"router": name, "aiq": aiq, "aiq_se": float(np.std(aiq_d, ddof=1)),
               "aiq_low": float(np.quantile(aiq_d, q_lo)), "aiq_high": float(np.quantile(aiq_d, q_hi))}
        if budget is not None:
            ok = m_cost <= budget + 1e-12
            if ok.any():
                best, best_d = float(q[ok].max()), q_draws[:, ok].max(axis=1)
                row.update(quality_at_budget=best, quality_at_budget_se=float(np.std(best_d, ddof=1)),
                           quality_at_budget_low=float(np.quantile(best_d, q_lo)),
                           quality_at_budget_high=float(np.quantile(best_d, q_hi)))
            else:
                row.update(quality_at_budget=np.nan, quality_at_budget_se=np.nan, quality_at_budget_low=np.nan,
                           quality_at_budget_high=np.nan)
        row.update(gold_rows=n_g, lambda_mean=float(lam.mean()))
        rows.append(row)
    return pd.DataFrame(rows)


def _tuned_lambda(y_g: np.ndarray, f_g: np.ndarray, f_all: np.ndarray, hw_g: np.ndarray, ratio: float) -> np.ndarray:
    """PPI++ power tuning per column: lambda = Cov_G(y, f) / ((1 + n/N) Var_N(f)), clipped to [0, 1]."""
    wts = hw_g / hw_g.sum()
    yc = y_g - (wts @ y_g)
    fc = f_g - (wts @ f_g)
    cov = (wts[:, None] * yc * fc).sum(axis=0)
    var = f_all.var(axis=0) * (1.0 + ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(var > 1e-15, cov / var, 0.0)
    return np.clip(lam, 0.0, 1.0)
