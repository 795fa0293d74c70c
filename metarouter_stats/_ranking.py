"""Ranking primitives shared by routers, decisions and evaluation.

Routing sends the k queries with the highest scores to the primary model. When
scores tie at the cut-off, a *decision* must still be made: ties are broken by
position (the earlier query first), which is reproducible. Evaluation, by
contrast, uses the exact expectation over random tie-breaking (see
:func:`metarouter_stats.evaluation.efficiency_gain`), so that it does not depend on
the order of the test set.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from ._checks import check_fraction

__all__ = ["block_starts", "decide", "eg_area", "eg_core", "k_for_rate", "top_k_mask", "topk_gain", "trapezoid_weights"]


def k_for_rate(rate: float, n: int) -> int:
    """Number of queries sent to the primary model at usage rate ``rate``: round(rate * n).

    The product is exact: ``rate`` is read as the decimal it prints as (``repr``), so
    ``k_for_rate(0.7, 45) == 32`` (31.5 rounded), where the binary product 31.4999...
    would give 31. Halves round up (not Python's half-to-even): ``k_for_rate(0.5, 5) == 3``.
    """
    exact = Fraction(repr(float(rate))) * int(n)
    return int(math.floor(exact + Fraction(1, 2)))


def top_k_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k highest scores; ties broken by position (earlier first)."""
    order = np.argsort(-scores, kind="stable")
    mask = np.zeros(scores.shape[0], dtype=bool)
    mask[order[:k]] = True
    return mask


def decide(scores: np.ndarray, threshold: float | None, rate: float | None) -> np.ndarray:
    """Binary routing rule: ``scores > threshold``, or the top ``rate`` share."""
    if (threshold is None) == (rate is None):
        raise ValueError("Pass exactly one of `threshold` and `rate`.")
    if rate is not None:
        rate = check_fraction(rate, "rate")
        return top_k_mask(scores, k_for_rate(rate, scores.shape[0]))
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"`threshold` must be a number; got {threshold!r}.")
    if not np.isfinite(threshold):
        raise ValueError(f"`threshold` must be finite; got {threshold!r}.")
    return scores > float(threshold)


def block_starts(sorted_scores: np.ndarray) -> np.ndarray:
    """Start of each block of tied scores in scores sorted in descending order (the one tie-block rule)."""
    s = sorted_scores
    return np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))


def topk_gain(gold: np.ndarray, scores: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Expected total gold gain of the top-k queries for each k, ties resolved in expectation."""
    order = np.lexsort((gold, -scores))  # by score descending; within ties any order works
    s, g = scores[order], gold[order]
    cum = np.concatenate(([0.0], np.cumsum(g)))
    starts = block_starts(s)  # tie blocks: [start, end) of equal scores
    ends = np.concatenate((starts[1:], [s.size]))
    out = np.empty(ks.shape[0])
    for j, k in enumerate(ks):
        if k <= 0:
            out[j] = 0.0
            continue
        b = np.searchsorted(starts, k, side="right") - 1  # block containing position k-1
        a0, a1 = starts[b], ends[b]
        taken = k - a0
        out[j] = cum[a0] + taken * (cum[a1] - cum[a0]) / (a1 - a0)
    return out


def eg_core(gold: np.ndarray, scores: np.ndarray, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(EG of the scores, EG of the oracle ranking) at top-k counts ``ks``: the one EG computation.

    Both are the expected top-k gold gain (ties in expectation) minus k times the mean gold gain.
    """
    mean = float(np.mean(gold))
    gain, oracle = topk_gain(gold, scores, ks) - ks * mean, topk_gain(gold, gold, ks) - ks * mean
    # no query or every query routed: EG is 0 by definition; the floating-point sum minus
    # k * mean leaves about 1e-14 there, which a relative EG would turn into any number
    ends = (ks <= 0) | (ks >= gold.size)
    gain[ends], oracle[ends] = 0.0, 0.0
    return gain, oracle


def trapezoid_weights(rates: np.ndarray, low: float, high: float) -> np.ndarray:
    """Weights w with ``w @ f(rates)`` the trapezoidal area of f from ``low`` to ``high`` (both on the grid)."""
    inside = (rates >= low - 1e-12) & (rates <= high + 1e-12)
    if inside.sum() < 2 or abs(rates[inside][0] - low) > 1e-9 or abs(rates[inside][-1] - high) > 1e-9:
        raise ValueError(
            f"The area from {low} to {high} needs both ends on the rate grid and at least two rates; "
            f"the rates are {np.asarray(rates).tolist()}. Evaluate with `rates` that include them."
        )
    w = np.zeros(rates.size)
    idx = np.flatnonzero(inside)
    for i0, i1 in zip(idx[:-1], idx[1:], strict=True):
        h = rates[i1] - rates[i0]
        w[i0] += h / 2
        w[i1] += h / 2
    return w


def eg_area(gold: np.ndarray, scores: np.ndarray, low: float = 0.2, high: float = 0.8, step: float = 0.1) -> float:
    """Area under the per-query efficiency gain from ``low`` to ``high`` (trapezoid, rates ``step`` apart).

    The same numbers as ``efficiency_gain(gold, scores, rates).auc / n`` on that grid.
    """
    n = gold.shape[0]
    rates = np.round(np.arange(low, high + step / 2, step), 10)
    ks = np.array([k_for_rate(float(r), n) for r in rates])
    eg = (topk_gain(gold, scores, ks) - ks * float(np.mean(gold))) / n
    eg[(ks <= 0) | (ks >= n)] = 0.0
    return float(np.trapezoid(eg, rates)) if rates.size > 1 else 0.0
