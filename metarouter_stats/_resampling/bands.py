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

A **studentised** band (Hall 1992, section 4.4; for sup-t bands, Chernozhukov, Fernandez-Val
and Melly 2013, section 5) carries each draw's own standard error :math:`s^{*b}_j` (an analytic,
sandwich SE on the scale of :math:`s_j`): c is then the
level quantile of :math:`\\max_j |\\hat f^{*b}(x_j) - \\hat f(x_j)| / s^{*b}_j`. The critical
value then also reflects how much the SE itself varies from sample to sample, which the
sup over many points magnifies; the pointwise band is :math:`\\hat f(x_j) \\pm z\\, s_j` as before.

Under the small-sample rule of the prediction-powered estimates (per-point degrees of freedom
df_j and SE inflation f_j, :mod:`.small_sample`) the band is
:math:`\\hat f(x_j) \\pm t_{df_j}\\, f_j s_j` pointwise, and the sup-t quantile of the draws
standardised by the uninflated :math:`s_j`, scaled by :math:`t_{\\min df} / z`, times
:math:`f_j s_j` uniformly. A uniform band may cover a subset of the points only (``covered``;
NaN limits elsewhere), e.g. the usage rates 0.2-0.8 of an EG curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_fraction
from .._results import ResultMixin, frozen_array, new_axes

__all__ = ["KINDS", "Band", "band_limits", "critical_value", "make_band", "sup_t", "t_quantile"]

_EMPTY_BOOL = np.empty(0, dtype=bool)

KINDS = ("pointwise", "uniform")


def t_quantile(level: float, df: Any) -> Any:
    """Two-sided Student-t quantile at ``level`` (normal where df is infinite)."""
    return stats.t.ppf(0.5 + level / 2, df)


def critical_value(estimate: np.ndarray, draws: np.ndarray, std_error: np.ndarray, kind: str, level: float) -> float:
    """z quantile (pointwise) or the sup-t quantile of the draws (uniform).

    ``std_error`` is one SE per point (m,), or each draw's own SE (n_boot, m): the studentised sup-t.
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
    if kind == "pointwise":
        return float(stats.norm.ppf(0.5 + level / 2))
    if not np.any(std_error > 0) or draws.shape[0] == 0:
        return 0.0
    return float(np.quantile(sup_t(estimate, draws, std_error), level))


def band_limits(
    estimate: np.ndarray, draws: np.ndarray, raw_se: np.ndarray, kind: str, level: float, *,
    df: np.ndarray | None = None, inflation: np.ndarray | None = None, covered: np.ndarray | None = None,
    draw_se: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(low, high, critical value)`` of a pointwise or uniform band (module docstring for the rule).

    ``raw_se`` standardises the draws; the limits use ``raw_se * inflation``. With per-point ``df``
    the pointwise critical value varies with the point (the largest is returned). A uniform band
    over ``covered`` points only has NaN limits elsewhere. ``draw_se`` (n_boot, m), each draw's
    own SE, standardises the draws instead (the studentised sup-t).
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
    se = raw_se if inflation is None or np.size(inflation) == 0 else raw_se * inflation
    has_df = df is not None and np.size(df) > 0
    if kind == "pointwise":
        crit = t_quantile(level, df) if has_df else np.full(estimate.shape, critical_value(
            estimate, draws, raw_se, "pointwise", level))
        crit = np.broadcast_to(np.asarray(crit, dtype=float), estimate.shape)
        return estimate - crit * se, estimate + crit * se, float(np.max(crit)) if crit.size else 0.0
    live = np.ones(estimate.shape, dtype=bool) if covered is None or np.size(covered) == 0 else np.asarray(covered)
    scale = raw_se[live] if draw_se is None or np.size(draw_se) == 0 else np.asarray(draw_se)[:, live]
    c = critical_value(estimate[live], draws[:, live], scale, "uniform", level)
    if has_df:
        ok = live & (raw_se > 0)
        dmin = float(np.min(np.asarray(df)[ok])) if ok.any() else np.inf
        c = float(c * t_quantile(level, dmin) / t_quantile(level, np.inf))
    low, high = np.full(estimate.shape, np.nan), np.full(estimate.shape, np.nan)
    low[live], high[live] = estimate[live] - c * se[live], estimate[live] + c * se[live]
    return low, high, c


def sup_t(estimate: np.ndarray, draws: np.ndarray, std_error: np.ndarray) -> np.ndarray:
    """Per draw, the largest standardised deviation max_j |draw_j - estimate_j| / se_j over points with se > 0.

    ``std_error`` of shape (m,) standardises every draw alike; of shape (n_boot, m) each draw
    by its own SE (studentised; a point enters where every draw's SE is positive). Zeros where
    no point has a positive standard error.
    """
    se = np.broadcast_to(std_error, draws.shape) if np.ndim(std_error) == 2 else std_error
    live = np.all(se > 0, axis=0) if np.ndim(se) == 2 else se > 0
    if not live.any():
        return np.zeros(draws.shape[0])
    scale = se[:, live] if np.ndim(se) == 2 else se[live]
    return np.max(np.abs(draws[:, live] - estimate[live]) / scale, axis=1)


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
    df : ndarray of shape (m,)
        Student-t degrees of freedom per point under the small-sample rule (empty: normal quantiles).
    inflation : ndarray of shape (m,)
        SE inflation per point under the small-sample rule (empty: none); ``std_error`` includes it.
    covered : ndarray of bool, shape (m,)
        The points a uniform band covers jointly (empty: all); NaN limits elsewhere.
    draw_std_errors : ndarray of shape (n_boot, m)
        Each draw's own standard error, on the scale of ``std_error`` (a studentised band;
        empty: none). With it the uniform critical value is the studentised sup-t quantile
        (module docstring); the pointwise band does not use it.
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
    df: np.ndarray = field(default_factory=lambda: frozen_array(np.empty(0)))
    inflation: np.ndarray = field(default_factory=lambda: frozen_array(np.empty(0)))
    covered: np.ndarray = field(default_factory=lambda: frozen_array(np.empty(0), dtype=bool))
    draw_std_errors: np.ndarray = field(default_factory=lambda: frozen_array(np.empty((0, 0))))

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
            ("mean width", f"{np.nanmean(width):.4g}" if np.isfinite(width).any() else "nan"),
        ] + self._rule_rows() + self._prediction_rows() + self._overlap_rows()

    def _rule_rows(self) -> list[tuple[str, str]]:
        rows = []
        if self.df.size and np.isfinite(self.df).any():
            rows.append(("Student-t df (small-sample rule)", f"{np.nanmin(self.df):.1f} to {np.nanmax(self.df):.1f}"))
        if self.draw_std_errors.size:
            rows.append(("critical value from", "the studentised draws (each draw divided by its own sandwich SE)"))
        if self.covered.size and not self.covered.all():
            rows.append(("points covered jointly", f"{int(self.covered.sum())} of {self.covered.size} (NaN elsewhere)"))
        return rows

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
        if self.draws.shape[0] == 0:  # the learner's own intervals, at their own level
            return self.low.copy(), self.high.copy()
        infl = self.inflation if self.inflation.size else None
        raw = self.std_error if infl is None else self.std_error / infl
        low, high, _ = band_limits(self.estimate, self.draws, raw, self.kind, level, df=self.df, inflation=infl,
                                   covered=self.covered, draw_se=self.draw_std_errors)
        return low, high

    def __iter__(self) -> Any:
        """Deprecated: ``low, high = band`` (the tuple ``RouterEvaluation.band`` used to return)."""
        import warnings  # noqa: PLC0415

        warnings.warn("Unpacking a Band into (low, high) is deprecated and will be removed in the next release; "
                      "use `band.low` and `band.high`.", FutureWarning, stacklevel=2)
        return iter((self.low, self.high))

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
    df: np.ndarray | None = None,
    inflation: np.ndarray | None = None,
    covered: np.ndarray | None = None,
    std_error: np.ndarray | None = None,
    draw_std_errors: np.ndarray | None = None,
) -> Band:
    """Build a pointwise or sup-t uniform band from bootstrap draws (the band's SD per point is the draws').

    ``df``, ``inflation`` and ``covered`` apply the small-sample rule and a uniform band over a subset
    of the points (see the module docstring). ``std_error`` (m,) and ``draw_std_errors`` (n_boot, m),
    given together, make a studentised band: the estimate's own SE and each draw's.
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
    if (std_error is None) != (draw_std_errors is None):
        raise ValueError("`std_error` and `draw_std_errors` go together (a studentised band needs both).")
    estimate = np.asarray(estimate, dtype=float)
    raw = draws.std(axis=0, ddof=1) if std_error is None else np.asarray(std_error, dtype=float)
    if draw_std_errors is not None and np.shape(draw_std_errors) != draws.shape:
        raise ValueError(f"`draw_std_errors` must have the draws' shape {draws.shape}; got {np.shape(draw_std_errors)}.")
    low, high, crit = band_limits(estimate, draws, raw, kind, confidence_level, df=df, inflation=inflation,
                                  covered=covered, draw_se=draw_std_errors)
    se = raw if inflation is None else raw * np.asarray(inflation, dtype=float)

    def arr(v: Any, dtype: Any = float) -> np.ndarray:
        return frozen_array(np.empty(0) if v is None else np.asarray(v, dtype=dtype), dtype=dtype)

    return Band(
        estimate=frozen_array(estimate),
        low=frozen_array(low),
        high=frozen_array(high),
        std_error=frozen_array(se),
        draws=frozen_array(draws),
        kind=kind,
        confidence_level=confidence_level,
        critical_value=crit,
        method=method,
        target=target,
        prediction=arr(prediction),
        outside_overlap=arr(outside_overlap, bool),
        df=arr(df),
        inflation=arr(inflation),
        covered=arr(covered if kind == "uniform" else None, bool),
        draw_std_errors=frozen_array(np.empty((0, 0)) if draw_std_errors is None
                                     else np.asarray(draw_std_errors, dtype=float)),
    )
