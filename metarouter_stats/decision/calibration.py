"""Calibrating the cost weight w to a target usage rate or mean cost, with a bootstrap of what it delivers."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._resampling import bootstrap
from .._checks import as_2d_float, as_rng, check_budget, check_fraction, check_resamples
from .._results import ResultMixin, frozen_array
from .rule import budget_bracket, choose_stacked, smallest_weights

__all__ = ["CalibrationResult", "calibrate_weight"]

_BATCH_VALUES = 1 << 15  # gains per block of replicates (B x n x K): cache-sized, twice as fast as 2**20 at n = 2,000 (benchmarks/vectorised); never the numbers


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CalibrationResult(ResultMixin):
    """A calibrated cost weight and what it achieves (see :func:`calibrate_weight`).

    Attributes
    ----------
    weight : float
        Calibrated weight on the full calibration set.
    target : float
    kind : {"rate", "cost"}
    achieved : float
        Primary-usage rate (share of queries not on the reference) or mean cost at ``weight``.
    achieved_std_error : float
        Bootstrap standard deviation of ``achieved`` over resampled calibration queries
        at the fixed weight: how far a new batch of queries may drift from the target.
    weight_std_error : float
        Bootstrap standard deviation of the calibrated weight.
    achieved_interval : tuple of float
        Percentile interval (``confidence_level``) of ``achieved``.
    confidence_level : float
    achieved_draws, weight_draws : ndarray
        The bootstrap draws (read-only).
    """

    weight: float
    target: float
    kind: str
    achieved: float
    achieved_std_error: float
    weight_std_error: float
    achieved_interval: tuple[float, float]
    confidence_level: float
    achieved_draws: np.ndarray
    weight_draws: np.ndarray
    _title = "Calibrated cost weight"

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Percentile interval of what the weight achieves on a new batch of queries like these.

        It covers the usage rate (or mean cost) that the fixed ``weight`` gives on a fresh
        calibration-sized batch from the same query population (bootstrap over queries).
        """
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        alpha = 1 - level
        return (float(np.quantile(self.achieved_draws, alpha / 2)), float(np.quantile(self.achieved_draws, 1 - alpha / 2)))

    def _rows(self) -> list[tuple[str, str]]:
        what = "usage rate" if self.kind == "rate" else "mean cost"
        low, high = self.achieved_interval
        return [
            ("weight", f"{self.weight:.6g} (bootstrap se {self.weight_std_error:.3g})"),
            (f"target {what}", f"{self.target:.6g}"),
            (f"achieved {what}", f"{self.achieved:.6g} (se {self.achieved_std_error:.3g})"),
            (f"{self.confidence_level:.0%} interval on a new batch", f"[{low:.6g}, {high:.6g}]"),
        ]

    def to_frame(self) -> pd.DataFrame:
        """One-row frame: weight, target, kind, achieved, their standard errors and interval."""
        low, high = self.achieved_interval
        return pd.DataFrame([{
            "weight": self.weight, "weight_std_error": self.weight_std_error, "target": self.target,
            "kind": self.kind, "achieved": self.achieved, "achieved_std_error": self.achieved_std_error,
            "ci_low": low, "ci_high": high, "confidence_level": self.confidence_level,
        }])


def calibrate_weight(
    gains: Any,
    costs: Any,
    *,
    rate: float | None = None,
    budget: float | None = None,
    reference: int = 0,
    n_boot: int = 500,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> CalibrationResult:
    """Find the cost weight w that meets a usage-rate or mean-cost target on calibration queries.

    What RouteLLM's ``calibrate_threshold`` does, with uncertainty: the weight is
    found on the calibration set, then calibration queries are resampled to give the
    sampling spread of the achieved rate / cost at that weight, and of the weight.

    Parameters
    ----------
    gains, costs : array-like of shape (n, K)
        Predicted gains (reference column 0) and costs on calibration queries.
    rate : float in [0, 1], optional
        Target share of queries sent to a non-reference model.
    budget : float, optional
        Target mean cost per query.
    reference : int, default 0
        Column of the reference model.
    n_boot : int, default 500
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator

    Returns
    -------
    CalibrationResult
    """
    g = as_2d_float(gains, "gains")
    c = as_2d_float(costs, "costs")
    if g.shape != c.shape:
        raise ValueError(f"`gains` and `costs` must have the same shape; got {g.shape} and {c.shape}.")
    if (rate is None) == (budget is None):
        raise ValueError("Pass exactly one of `rate` and `budget`.")
    if isinstance(reference, bool) or not isinstance(reference, numbers.Integral) or not 0 <= reference < g.shape[1]:
        raise ValueError(
            f"`reference` must be a column index in [0, {g.shape[1] - 1}] (the reference model's column); "
            f"got {reference!r}."
        )
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    gen = as_rng(rng)
    if rate is not None:
        rate = check_fraction(rate, "rate")
    target = float(rate) if rate is not None else check_budget(budget, c)  # exactly one is set

    # one engine for the point and the replicates: (B, n, K) blocks of problems, each solved by the
    # package's bisection (smallest_weights takes, problem by problem, the steps smallest_weight takes)
    def achieved_b(G: np.ndarray, C: np.ndarray, ww: np.ndarray) -> np.ndarray:
        k = choose_stacked(G, C, ww)
        if rate is not None:
            return np.mean(k != reference, axis=1)
        return np.take_along_axis(C, k[..., None], axis=2)[..., 0].mean(axis=1)

    def solve_b(G: np.ndarray, C: np.ndarray) -> np.ndarray:
        every = G.shape[0]
        hi = [budget_bracket(G[b], C[b], target) for b in range(every)] if rate is None else np.ones(every)

        def ok(ww: np.ndarray, which: np.ndarray) -> np.ndarray:
            if which.size == every:  # usually every problem is still bisecting: no copy of the block
                return achieved_b(G, C, ww) <= target
            return achieved_b(G[which], C[which], ww) <= target  # usage and cost are non-increasing in w

        return smallest_weights(ok, hi)

    w = float(solve_b(g[None], c[None])[0])
    ach = float(achieved_b(g[None], c[None], np.array([w]))[0])

    def statistic(rows: np.ndarray) -> np.ndarray:
        G, C = g[rows], c[rows]
        return np.column_stack([achieved_b(G, C, np.full(rows.shape[0], w)), solve_b(G, C)])

    draws = bootstrap(statistic, g.shape[0], n_boot, gen, progress=True, desc="calibrate_weight bootstrap",
                      batch=max(1, _BATCH_VALUES // g.size))
    boots_a, boots_w = draws[:, 0], draws[:, 1]
    alpha = 1 - level
    return CalibrationResult(
        weight=w,
        target=target,
        kind="rate" if rate is not None else "cost",
        achieved=ach,
        achieved_std_error=float(boots_a.std(ddof=1)),
        weight_std_error=float(boots_w.std(ddof=1)),
        achieved_interval=(float(np.quantile(boots_a, alpha / 2)), float(np.quantile(boots_a, 1 - alpha / 2))),
        confidence_level=level,
        achieved_draws=frozen_array(boots_a),
        weight_draws=frozen_array(boots_w),
    )
