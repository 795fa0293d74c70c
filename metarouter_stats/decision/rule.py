"""The decision rule: the model of highest utility psi_k(q) - w C_k(q), and the cost weight w for a budget.

Ties are broken towards the cheaper model, then towards the earlier column, so that raising w never
raises the cost of any query's choice.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._checks import as_2d_float

__all__ = ["choose_models", "smallest_weight", "weight_for_budget"]

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
    util = g - float(weight) * c
    best = util.max(axis=1, keepdims=True)
    tied = util == best
    cost_of_tied = np.where(tied, c, np.inf)
    return np.argmin(cost_of_tied, axis=1)  # first index among the cheapest tied


def mean_cost(gains: np.ndarray, costs: np.ndarray, weight: float) -> float:
    k = choose_models(gains, costs, weight)
    return float(costs[np.arange(costs.shape[0]), k].mean())


def smallest_weight(ok: Any, *, hi: float = 1.0, tol: float = 1e-10, max_iter: int = 200) -> float:
    """Smallest w >= 0 with ``ok(w)`` True, for a predicate that is monotone in w: the one bisection.

    ``ok(0)`` True gives 0. Otherwise ``hi`` is doubled until ``ok(hi)`` (a ValueError if no
    finite weight qualifies), then [lo, hi] is halved until ``hi - lo <= tol * max(1, hi)``
    or ``max_iter`` halvings; the returned ``hi`` always satisfies ``ok``.
    """
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"`tol` must be a finite number > 0; got {tol!r}.")
    if ok(0.0):
        return 0.0
    hi = float(hi)
    for _ in range(2100):  # 2**2100 > float max: the loop ends on overflow at the latest
        if ok(hi):
            break
        hi *= 2
        if not np.isfinite(hi):
            raise ValueError("No finite weight meets the target: costs differ by less than float precision.")
    lo = 0.0
    for _ in range(max_iter):
        if hi - lo <= tol * max(1.0, hi):
            break
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
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
    floor = float(c.min(axis=1).mean())
    if budget < floor - 1e-15:
        raise ValueError(
            f"`budget` {budget:g} is below the cheapest possible mean cost per query {floor:g} "
            "(every query on its cheapest model); raise the budget."
        )
    spread_g = float(np.ptp(g)) + 1.0
    dc = np.abs(np.diff(np.sort(np.unique(c.ravel()))))
    min_dc = float(dc[dc > 0].min()) if np.any(dc > 0) else 1.0
    hi = min(2 * spread_g / min_dc, 1e300)
    return smallest_weight(lambda w: mean_cost(g, c, w) <= budget, hi=hi, tol=tol)
