"""Confidence bands from bootstrap draws: pointwise and uniform (sup-t).

Shared by the bias bands (routers / cate) and the efficiency-gain bands
(inference); it sits outside the stage order like ``_checks``.

Given an estimate :math:`\\hat f(x_j)` at m points and B bootstrap draws
:math:`\\hat f^{*b}(x_j)`, let :math:`s_j` be the bootstrap standard deviation at
point j.

* pointwise: :math:`\\hat f(x_j) \\pm z_{1-\\alpha/2}\\, s_j`;
* uniform (sup-t; Montiel Olea and Plagborg-Moller, 2019):
  :math:`\\hat f(x_j) \\pm c\\, s_j`, with c the level quantile of
  :math:`\\max_j |\\hat f^{*b}(x_j) - \\hat f(x_j)| / s_j` over b.

Points with :math:`s_j = 0` (e.g. an EG curve at rate 0) get a band of width 0
and do not enter the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["Band", "make_band"]

KINDS = ("pointwise", "uniform")


@dataclass(frozen=True, kw_only=True)
class Band:
    """A bootstrap confidence band.

    Attributes
    ----------
    estimate, low, high : ndarray of shape (m,)
        Point estimate and band limits.
    std_error : ndarray of shape (m,)
        Bootstrap standard deviations.
    draws : ndarray of shape (n_boot, m)
        The bootstrap distribution.
    kind : {"pointwise", "uniform"}
    confidence_level : float
    critical_value : float
        z quantile (pointwise) or sup-t quantile (uniform).
    method : str
        How the draws were made.
    """

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    std_error: np.ndarray
    draws: np.ndarray
    kind: str
    confidence_level: float
    critical_value: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: estimate, std_error, ci_low, ci_high per point."""
        return pd.DataFrame(
            {"estimate": self.estimate, "std_error": self.std_error, "ci_low": self.low, "ci_high": self.high}
        )

    def covers(self, truth: Any) -> np.ndarray:
        """Boolean array: is ``truth`` inside the band at each point."""
        truth = np.asarray(truth, dtype=float)
        return (self.low <= truth) & (truth <= self.high)


def make_band(estimate: np.ndarray, draws: np.ndarray, *, kind: str, confidence_level: float, method: str) -> Band:
    """Build a pointwise or sup-t uniform band from bootstrap draws."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
    se = draws.std(axis=0, ddof=1)
    if kind == "pointwise":
        crit = float(stats.norm.ppf(0.5 + confidence_level / 2))
    else:
        live = se > 0
        if not live.any():
            crit = 0.0
        else:
            t = np.max(np.abs(draws[:, live] - estimate[live]) / se[live], axis=1)
            crit = float(np.quantile(t, confidence_level))
    low, high = estimate - crit * se, estimate + crit * se
    for arr in (estimate, low, high, se, draws):
        arr.setflags(write=False)
    return Band(
        estimate=estimate,
        low=low,
        high=high,
        std_error=se,
        draws=draws,
        kind=kind,
        confidence_level=confidence_level,
        critical_value=crit,
        method=method,
    )
