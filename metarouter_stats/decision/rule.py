"""The decision rule: the model of highest utility psi_k(q) - w C_k(q), and the cost weight w for a budget.

Ties are broken towards the cheaper model, then towards the earlier column, so that raising w never
raises the cost of any query's choice.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._checks import as_2d_float

__all__ = ["choose_models", "smallest_weight", "smallest_weights", "weight_for_budget"]

def choose_models(gains: Any, costs: Any, weight: float) -> np.ndarray:
    """Index of argmax_k [gains_k - weight * costs_k] per row; ties to the cheaper, then earlier model.

    Parameters
    ----------
    gains, costs : array-like of shape (n, K)
    weight : float >= 0

    Returns
    -------
    ndarray of int, shape (n,)
    """
    g = as_2d_float(gains, "gains")
    c = as_2d_float(costs, "costs")
    if g.shape != c.shape:
        raise ValueError(f"`gains` and `costs` must have the same shape; got {g.shape} and {c.shape}.")
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not np.isfinite(weight) or weight < 0:
        raise ValueError(f"`weight` must be a finite number >= 0; got {weight!r}.")
    return choose_stacked(g[None], c[None], np.array([float(weight)]))[0]


def choose_stacked(gains: np.ndarray, costs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`choose_models` for B problems at once: (B, n, K) gains and costs, one weight each.

    The same arithmetic and tie rule as :func:`choose_models` (so the same choices); no input
    checks (for the package's vectorised resampling loops). Returns (B, n) model indices.
    """
    util = gains - np.asarray(weights, dtype=float)[:, None, None] * costs
    # one pass per model over (B, n) slices: numpy's reductions along a last axis of a few models
    # are slow (a reduction per element); max and "first cheapest among the tied" are exact either way
    K = util.shape[2]
    best = util[..., 0].copy()
    for k in range(1, K):
        np.maximum(best, util[..., k], out=best)
    choice = np.zeros(best.shape, dtype=np.intp)
    cheapest = np.where(util[..., 0] == best, costs[..., 0], np.inf)
    for k in range(1, K):
        cand = np.where(util[..., k] == best, costs[..., k], np.inf)
        better = cand < cheapest  # strict: the earlier model keeps a tie in cost
        choice[better] = k
        np.minimum(cheapest, cand, out=cheapest)
    return choice


def budget_bracket(g: np.ndarray, c: np.ndarray, budget: float) -> float:
    """A first upper bracket of :func:`weight_for_budget`'s search (a ValueError below the cheapest cost).

    At this weight every query takes its cheapest utility-maximising model.
    """
    floor = float(c.min(axis=1).mean())
    if budget < floor - 1e-15:
        raise ValueError(
            f"`budget` {budget:g} is below the cheapest possible mean cost per query {floor:g} "
            "(every query on its cheapest model); raise the budget."
        )
    spread_g = float(np.ptp(g)) + 1.0
    dc = np.abs(np.diff(np.sort(np.unique(c.ravel()))))
    min_dc = float(dc[dc > 0].min()) if np.any(dc > 0) else 1.0
    return min(2 * spread_g / min_dc, 1e300)


def mean_cost(gains: np.ndarray, costs: np.ndarray, weight: float) -> float:
    k = choose_models(gains, costs, weight)
    return float(costs[np.arange(costs.shape[0]), k].mean())


def smallest_weight(ok: Any, *, hi: float = 1.0, tol: float = 1e-10, max_iter: int = 200) -> float:
    """Smallest w >= 0 with ``ok(w)`` True, for a predicate that is monotone in w: the one bisection.

    ``ok(0)`` True gives 0. Otherwise ``hi`` is doubled until ``ok(hi)`` (a ValueError if no
    finite weight qualifies), then [lo, hi] is halved until ``hi - lo <= tol * max(1, hi)``
    or ``max_iter`` halvings; the returned ``hi`` always satisfies ``ok``. One problem of
    :func:`smallest_weights`.

    Examples
    --------
    >>> from metarouter_stats.decision import smallest_weight
    >>> round(smallest_weight(lambda w: w >= 0.3), 8)
    0.3
    """
    return float(smallest_weights(lambda w, which: np.array([bool(ok(float(w[0])))]), [hi], tol=tol,
                                  max_iter=max_iter)[0])


def smallest_weights(ok: Any, hi: Any, *, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """:func:`smallest_weight` for many problems at once (e.g. one per bootstrap replicate).

    Parameters
    ----------
    ok : callable
        ``ok(w, which) -> bool array``: the predicate of problems ``which`` (integer indices)
        at their weights ``w`` (same length); monotone in w for each problem.
    hi : array-like of float
        Each problem's first upper bracket (one per problem).
    tol, max_iter
        As in :func:`smallest_weight`.

    Returns
    -------
    ndarray of float
        Each problem's weight: the very number :func:`smallest_weight` returns for it alone,
        since every problem takes the same steps (tested); the predicate is evaluated on all
        unfinished problems together.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.decision import smallest_weights
    >>> targets = np.array([0.0, 0.3, 5.0])
    >>> np.round(smallest_weights(lambda w, which: w >= targets[which], np.ones(3)), 8)
    array([0. , 0.3, 5. ])
    """
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"`tol` must be a finite number > 0; got {tol!r}.")
    hi = np.array(hi, dtype=float).ravel()
    lo = np.zeros_like(hi)
    everyone = np.arange(hi.size)
    done = np.asarray(ok(np.zeros(hi.size), everyone), dtype=bool)
    hi[done] = 0.0
    todo = everyone[~done]
    for _ in range(2100):  # 2**2100 > float max: the loop ends on overflow at the latest
        if todo.size == 0:
            break
        met = np.asarray(ok(hi[todo], todo), dtype=bool)
        todo = todo[~met]
        hi[todo] *= 2
        if not np.all(np.isfinite(hi[todo])):
            raise ValueError("No finite weight meets the target: costs differ by less than float precision.")
    active = everyone[~done]
    for _ in range(max_iter):
        active = active[hi[active] - lo[active] > tol * np.maximum(1.0, hi[active])]
        if active.size == 0:
            break
        mid = (lo[active] + hi[active]) / 2
        met = np.asarray(ok(mid, active), dtype=bool)
        hi[active[met]] = mid[met]
        lo[active[~met]] = mid[~met]
    return hi


def weight_for_budget(gains: Any, costs: Any, budget: float, *, tol: float = 1e-10) -> float:
    """Smallest weight w whose mean chosen cost is at most ``budget``.

    The mean cost is non-increasing in w (see the module docstring), so w is found by
    :func:`smallest_weight`, started at a weight at which every query takes its cheapest
    utility-maximising model.

    Raises
    ------
    ValueError
        If the budget is below the mean cost of always choosing each query's cheapest model,
        or ``tol`` is not a positive number.
    """
    g = as_2d_float(gains, "gains")
    c = as_2d_float(costs, "costs")
    if g.shape != c.shape:
        raise ValueError(f"`gains` and `costs` must have the same shape; got {g.shape} and {c.shape}.")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not np.isfinite(budget):
        raise ValueError(f"`budget` must be a finite number; got {budget!r}.")
    hi = budget_bracket(g, c, budget)
    return smallest_weight(lambda w: mean_cost(g, c, w) <= budget, hi=hi, tol=tol)
