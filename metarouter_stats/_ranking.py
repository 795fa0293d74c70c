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

__all__ = ["decide", "k_for_rate", "top_k_mask"]


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
