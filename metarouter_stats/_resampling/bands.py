"""Confidence bands from bootstrap draws: pointwise and uniform (sup-t).

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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_fraction
from .._results import ResultMixin, frozen_array, new_axes

__all__ = ["KINDS", "Band", "critical_value", "make_band", "sup_t"]

KINDS = ("pointwise", "uniform")


def critical_value(estimate: np.ndarray, draws: np.ndarray, std_error: np.ndarray, kind: str, level: float) -> float:
    """z quantile (pointwise) or the sup-t quantile of the draws (uniform)."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
    if kind == "pointwise":
        return float(stats.norm.ppf(0.5 + level / 2))
    if not np.any(std_error > 0) or draws.shape[0] == 0:
        return 0.0
    return float(np.quantile(sup_t(estimate, draws, std_error), level))


def sup_t(estimate: np.ndarray, draws: np.ndarray, std_error: np.ndarray) -> np.ndarray:
    """Per draw, the largest standardised deviation max_j |draw_j - estimate_j| / se_j over points with se > 0.

    Zeros where no point has a positive standard error.
    """
    live = std_error > 0
    if not live.any():
        return np.zeros(draws.shape[0])
    return np.max(np.abs(draws[:, live] - estimate[live]) / std_error[live], axis=1)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Band(ResultMixin):
    """A confidence band at m points.

    Attributes
    ----------
    estimate, low, high : ndarray of shape (m,)
        Point estimate and band limits (read-only).
    std_error : ndarray of shape (m,)
        Standard errors (bootstrap standard deviations, or the learner's own).
    draws : ndarray of shape (n_boot, m)
        The bootstrap distribution (empty for bands from a learner's own intervals).
    kind : {"pointwise", "uniform"}
        Pointwise: each point covered with probability ``confidence_level``; uniform:
        all m points at once.
    confidence_level : float
    critical_value : float
        z quantile (pointwise) or sup-t quantile (uniform).
    method : str
        How the band was made.
    target : str
        What the band covers (e.g. "Delta(x) projected on the final stage's class").
    outside_overlap : ndarray of bool, shape (m,)
        Points where gold queries are rare (estimated density ratio of gold to preference
        queries outside ``[0.1, 10]``): there the estimate extrapolates from elsewhere and
        the band can miss its target (empty when the learner offers no propensity, or was
        fitted with probabilities known by design, which are known at the training rows only).
    prediction : ndarray of shape (m,)
        The point prediction a user sees for the same quantity (e.g. ``predict_bias``)
        when the band is centred elsewhere (an undersmoothed fit); empty when the band is
        centred at the prediction. The summary reports both and how far apart they are.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats._resampling import make_band
    >>> draws = np.random.default_rng(0).normal(size=(500, 3))
    >>> band = make_band(np.zeros(3), draws, kind="pointwise", confidence_level=0.95, method="demo")
    >>> bool(np.all(band.low < 0) and np.all(band.high > 0))
    True
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
    target: str = "the estimator's target at each point"
    prediction: np.ndarray = field(default_factory=lambda: frozen_array(np.empty(0)))
    outside_overlap: np.ndarray = field(default_factory=lambda: frozen_array(np.empty(0), dtype=bool))

    @property
    def _title(self) -> str:  # type: ignore[override]
        return f"{self.confidence_level:.0%} {self.kind} confidence band"

    def _rows(self) -> list[tuple[str, str]]:
        width = self.high - self.low
        return [
            ("target", self.target),
            ("method", self.method),
            ("points", f"{self.estimate.size}"),
            ("critical value", f"{self.critical_value:.3f}"),
            ("bootstrap draws", f"{self.draws.shape[0]}"),
            ("estimate (band centre) range", f"[{np.min(self.estimate):.4g}, {np.max(self.estimate):.4g}]"),
            ("mean width", f"{np.mean(width):.4g}"),
        ] + self._prediction_rows() + self._overlap_rows()

    def _overlap_rows(self) -> list[tuple[str, str]]:
        if self.outside_overlap.size == 0:
            return []
        k = int(self.outside_overlap.sum())
        return [("points outside overlap", f"{k} of {self.outside_overlap.size}"
                 + (" (the estimate extrapolates there; see `outside_overlap`)" if k else ""))]

    def _prediction_rows(self) -> list[tuple[str, str]]:
        if self.prediction.size == 0:
            return [("centre", "the point prediction itself")]
        gap = self.estimate - self.prediction
        with np.errstate(divide="ignore", invalid="ignore"):
            in_se = np.abs(gap) / self.std_error
        return [
            ("centre", "NOT the point prediction (see `prediction`)"),
            ("centre - prediction", f"RMS {np.sqrt(np.mean(gap**2)):.4g}; median {np.nanmedian(in_se):.2f} std. errors"),
        ]

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: estimate, std_error, ci_low, ci_high per point."""
        frame = pd.DataFrame(
            {"estimate": self.estimate, "std_error": self.std_error, "ci_low": self.low, "ci_high": self.high}
        )
        if self.prediction.size:
            frame["prediction"] = self.prediction
        if self.outside_overlap.size:
            frame["outside_overlap"] = self.outside_overlap
        return frame

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the same kind of band at another level, from the same draws."""
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if self.draws.shape[0] == 0 and level != self.confidence_level:
            raise ValueError(
                f"This band came from the learner's own intervals at level {self.confidence_level}; "
                "compute it again at the level wanted."
            )
        crit = critical_value(self.estimate, self.draws, self.std_error, self.kind, level)
        return self.estimate - crit * self.std_error, self.estimate + crit * self.std_error

    def covers(self, truth: Any) -> np.ndarray:
        """Boolean array: is ``truth`` inside the band at each point."""
        truth = np.asarray(truth, dtype=float)
        return (self.low <= truth) & (truth <= self.high)

    def plot(self, ax: Any = None, *, x: Any = None, label: str | None = None, color: Any = None) -> Any:
        """The band (shaded) and the estimate against ``x`` (default: point index); returns the Axes."""
        ax = new_axes(ax)
        xs = np.arange(self.estimate.size) if x is None else np.asarray(x)
        (line,) = ax.plot(xs, self.estimate, label=label, color=color)
        ax.fill_between(xs, self.low, self.high, alpha=0.2, color=line.get_color())
        if label is not None:
            ax.legend()
        return ax


def make_band(
    estimate: np.ndarray, draws: np.ndarray, *, kind: str, confidence_level: float, method: str,
    target: str = "the estimator's target at each point",
    prediction: np.ndarray | None = None,
    outside_overlap: np.ndarray | None = None,
) -> Band:
    """Build a pointwise or sup-t uniform band from bootstrap draws."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
    se = draws.std(axis=0, ddof=1)
    crit = critical_value(estimate, draws, se, kind, confidence_level)
    return Band(
        estimate=frozen_array(estimate),
        low=frozen_array(estimate - crit * se),
        high=frozen_array(estimate + crit * se),
        std_error=frozen_array(se),
        draws=frozen_array(draws),
        kind=kind,
        confidence_level=confidence_level,
        critical_value=crit,
        method=method,
        target=target,
        prediction=frozen_array(np.empty(0) if prediction is None else np.asarray(prediction, dtype=float)),
        outside_overlap=frozen_array(np.empty(0) if outside_overlap is None else outside_overlap, dtype=bool),
    )
