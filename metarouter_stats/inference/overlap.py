"""Overlap diagnostics of a fitted bias learner: which points of a band lie where gold queries are rare.

The rule itself (the density-ratio band and the share that makes overlap poor) is stated once in
the resampling layer (``OVERLAP_BAND``, ``POOR_OVERLAP_SHARE``); this module applies it to a
learner's training rows and evaluation points.
"""

from __future__ import annotations


import warnings
from typing import Any

import numpy as np

from ..cate import has_capability
from .._resampling import OVERLAP_BAND, POOR_OVERLAP_SHARE

__all__ = ["outside_overlap_rows", "overlap_check", "poor_overlap_share"]

def _training_propensity(learner: Any) -> np.ndarray | None:
    """P(gold) of the learner's training rows: known by design, or its cross-fitted estimate (else None)."""
    if not has_capability(learner, "scores"):
        return None
    known = getattr(learner, "known_propensity_", None)
    if known is not None:
        return np.asarray(known, dtype=float)
    if not has_capability(learner, "propensity"):
        return None
    return np.asarray(learner.predict_propensity(learner.scores_.X), dtype=float)


def outside_overlap_rows(learner: Any) -> np.ndarray | None:
    """Which of the learner's scored rows lie outside ``OVERLAP_BAND`` (None without the capabilities).

    The density ratio ``(e / (1 - e)) / (p / (1 - p))`` of each training row, from the
    probabilities known by design or the learner's propensity (``predict_propensity``,
    the average of its cross-fitted models), against the gold share p.
    """
    from ..positivity import density_ratio  # noqa: PLC0415

    e = _training_propensity(learner)
    if e is None:
        return None
    w = density_ratio(e, float(learner.scores_.source.mean()))
    low, high = OVERLAP_BAND
    return np.asarray((w < low) | (w > high))


def poor_overlap_share(learner: Any) -> float:
    """Share of the learner's preference rows outside ``OVERLAP_BAND`` (0 without the capabilities)."""
    outside = outside_overlap_rows(learner)
    if outside is None:
        return 0.0
    return float(outside[learner.scores_.source == 0].mean())


def overlap_check(learner: Any, X: np.ndarray | None, what: str) -> tuple[np.ndarray | None, str]:
    """Points of ``X`` (if given) outside the overlap of gold and preference queries, and a target note.

    Uses the learner's own cross-fitted propensity (capability ``"propensity"``), or the
    probabilities known by design it was fitted with (then no point of ``X`` is flagged:
    the design's probabilities are known at the training rows only): the
    density ratio ``w(x) = (e / (1 - e)) / (p / (1 - p))`` outside ``OVERLAP_BAND`` marks
    a point where gold queries are rare. When more than 5 % of the learner's preference rows
    lie there (the positivity report's rule), a RuntimeWarning says that estimates there
    extrapolate: where gold is selected on x, the DR scores are biased toward the average
    bias in the region without gold, and neither the fast band nor the group averages over
    all queries keep their level with little gold (``benchmarks/validity/run.py``,
    ``docs/benchmarks.md``); :func:`bias_by_group` then restricts itself to the overlap
    instead (``benchmarks/gates/run.py``).
    """
    from ..positivity import density_ratio  # noqa: PLC0415

    outside_train = outside_overlap_rows(learner)
    if outside_train is None:
        return None, ""
    source = learner.scores_.source
    p = float(source.mean())
    low, high = OVERLAP_BAND
    share = float(outside_train[source == 0].mean())
    flags = None
    if X is not None and getattr(learner, "known_propensity_", None) is None:
        w_at = density_ratio(np.asarray(learner.predict_propensity(X), dtype=float), p)
        flags = (w_at < low) | (w_at > high)
    if share <= POOR_OVERLAP_SHARE:
        return flags, ""
    note = (f"POOR OVERLAP: {100 * share:.1f} % of the preference rows lie where gold queries are rare (density "
            f"ratio outside [{low:g}, {high:g}]), where the estimate extrapolates and the interval can miss its target")
    warnings.warn(
        f"{what}: {100 * share:.1f} % of the preference rows lie where gold queries are rare (density ratio "
        f"outside [{low:g}, {high:g}]): gold queries look selected on x. There the estimate extrapolates and its "
        "fast interval under-covers with little gold (the package's selection benchmark, docs/benchmarks.md). "
        "bias_interval adds the refit bootstrap here when given the training data (`data=`: method='both', the "
        "larger of the two SEs, which keeps the level there); otherwise read "
        f"`outside_overlap`, label gold queries there, or trim (MetaRouter(trim=({low:g}, {high:g}))).",
        RuntimeWarning,
        stacklevel=4,  # the user's call (overlap_check <- inference function <- thread-budget wrapper)
    )
    return flags, note
