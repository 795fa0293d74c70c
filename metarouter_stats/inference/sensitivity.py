r"""Which bias conclusions survive a different scale constant c? A sensitivity analysis.

The bias is identified only up to c: gold and preference labels live on different
scales, and every method of :func:`~metarouter_stats.estimate_scale` picks c by an
assumption (the two labels share their extremes, their spread, or their whole law once
rescaled), each broken by a heterogeneous bias or by gold queries selected on x (then
the variance-matched c converges to sd(preference) / sd(gold), not to the true c). The
routing decision does not depend on c (it cancels in psi_hat); every statement about
the bias does: with mean preference gain :math:`\bar y`, the mean bias on the gold scale
is :math:`\bar r - \bar y / c`, which moves with c.

:func:`scale_sensitivity` therefore reruns the bias t-test with c held at each value of a
grid (each test exact for its c) and reports, for each c, the mean bias, its interval
and the verdict, with the c at which the mean bias would be exactly 0, so that a user
sees which conclusion holds across every plausible c and which hinges on one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_1d_float, check_fraction
from types import MappingProxyType

from .._results import ResultMixin, frozen_array, frozen_copy, new_axes, plain_log_ticks
from ..scaling import SCALE_METHODS, estimate_scale
from .ttest import bias_ttest

__all__ = ["ScaleSensitivity", "scale_sensitivity"]


def _verdict(low: float, high: float) -> str:
    if low > 0:
        return "biased: preference understates the gain"
    if high < 0:
        return "biased: preference overstates the gain"
    return "no evidence of a mean bias"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ScaleSensitivity(ResultMixin):
    """Bias conclusions over a range of scale constants (see :func:`scale_sensitivity`).

    Attributes
    ----------
    scales : ndarray
        The grid of c values (c * gold is on the preference scale).
    frame : DataFrame
        One row per c: estimate, ci_low, ci_high, p_value, verdict (a copy via ``to_frame``).
    estimates : mapping
        The c of each estimation method on these labels ({method: c}, read-only).
    zero_bias_scale : float
        The c at which the estimated mean bias is exactly 0 (mean preference / mean gold;
        NaN when the mean gold label is 0 or the ratio is not positive).
    confidence_level : float
    robust : bool
        True when every c of the grid gives the same verdict.
    """

    scales: np.ndarray
    frame: pd.DataFrame
    estimates: MappingProxyType
    zero_bias_scale: float
    confidence_level: float
    robust: bool
    _title = "Sensitivity of the mean-bias conclusion to the scale c"

    @property
    def verdict_changes(self) -> np.ndarray:
        """The c values (grid resolution: geometric midpoints of neighbours) where the verdict changes.

        Empty when ``robust``. The verdict can change without the mean bias crossing 0 (the
        interval widens as c grows), so this is not ``zero_bias_scale``.
        """
        v = self.frame["verdict"].to_numpy()
        k = np.flatnonzero(v[1:] != v[:-1])
        return np.sqrt(self.scales[k] * self.scales[k + 1])

    @property
    def verdict_at_estimates(self) -> dict[str, str]:
        """The verdict at each method's c ({method: verdict})."""
        f = self.frame.set_index("scale")
        return {m: str(f.loc[c, "verdict"]) for m, c in self.estimates.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per c: scale, estimate, std_error, ci_low, ci_high, p_value, verdict."""
        return self.frame.copy()

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("c by method", ", ".join(f"{k} {v:.4g}" for k, v in self.estimates.items())),
                ("grid of c", f"{self.scales.min():.4g} .. {self.scales.max():.4g} ({self.scales.size} values)"),
                ("c giving zero mean bias", f"{self.zero_bias_scale:.4g}")]
        for verdict, part in self.frame.groupby("verdict", sort=False):
            rows.append((str(verdict), f"c in [{part['scale'].min():.4g}, {part['scale'].max():.4g}]"))
        at = self.verdict_at_estimates
        rows.append(("at the methods' c", next(iter(at.values())) + " (all three)" if len(set(at.values())) == 1
                     else "; ".join(f"{m}: {v}" for m, v in at.items())))
        rows.append(("conclusion", "the same for every c of the grid" if self.robust
                     else "depends on c: state the c (and why) with any claim about the bias"))
        return rows

    def _notes(self) -> list[str]:
        return [f"Each row: the paired/Welch t-test with c known; {self.confidence_level:.0%} CI of the mean bias "
                "(gold - preference / c) on the gold scale of that c. Routing does not depend on c."]

    def plot(self, ax: Any = None) -> Any:
        """Mean bias and its interval against c (log axis), methods' c marked; returns the Axes."""
        ax = new_axes(ax)
        f = self.frame
        ax.plot(f["scale"], f["estimate"], color="black", label="mean bias (gold scale)")
        ax.fill_between(f["scale"], f["ci_low"], f["ci_high"], alpha=0.2, color="black")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        for name, c in self.estimates.items():
            ax.axvline(c, linestyle="--", linewidth=0.8, label=f"c ({name})", color=f"C{list(SCALE_METHODS).index(name)}")
        ax.set_xscale("log")
        plain_log_ticks(ax)
        ax.set_xlabel("scale constant c")
        ax.set_ylabel("mean bias, gold - preference / c")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return ax


def scale_sensitivity(
    gold: Any,
    preference: Any,
    *,
    paired: bool = True,
    scales: Any = None,
    confidence_level: float = 0.95,
) -> ScaleSensitivity:
    """The mean-bias t-test over a range of scale constants c.

    Parameters
    ----------
    gold, preference : array-like
        Gold and preference labels (aligned by query when ``paired``).
    paired : bool, default True
        Paired t-test (same queries) or Welch (different queries).
    scales : array-like of positive numbers, optional
        The c values to try. Default: 41 values, evenly spaced on a log scale from half the
        smallest to twice the largest of the three methods' estimates (a factor-2 margin
        around every assumption the package offers). The three estimates are always added.
    confidence_level : float, default 0.95

    Returns
    -------
    ScaleSensitivity

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=300)
    >>> gold = 4 * (1.0 + f + 0.3 * rng.normal(size=300))  # rubric scale, true c = 0.25
    >>> pref = 1.2 + f + 0.3 * rng.normal(size=300)        # the judge adds 0.2
    >>> res = mrs.scale_sensitivity(gold, pref)
    >>> res.robust, round(res.zero_bias_scale, 3)
    (False, 0.301)
    >>> sorted(set(res.verdict_at_estimates.values()))
    ['biased: preference overstates the gain']
    """
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    estimates = {m: estimate_scale(g, p, method=m) for m in SCALE_METHODS}
    if scales is None:
        lo, hi = min(estimates.values()) / 2, max(estimates.values()) * 2
        grid = np.unique(np.concatenate((np.geomspace(lo, hi, 41), list(estimates.values()))))
    else:
        grid = as_1d_float(np.atleast_1d(np.asarray(scales, dtype=float)), "scales")
        if not np.all(grid > 0):
            raise ValueError("`scales` must hold positive numbers (c * gold is on the preference scale).")
        grid = np.unique(np.concatenate((grid, list(estimates.values()))))
    rows = []
    for c in grid:
        res = bias_ttest(g, p, paired=paired, scale=float(c))
        low, high = res.confidence_interval(level)
        rows.append({"scale": float(c), "estimate": res.estimate, "std_error": res.std_error,
                     "ci_low": low, "ci_high": high, "p_value": res.p_value, "verdict": _verdict(low, high)})
    frame = pd.DataFrame(rows)
    mean_g = float(g.mean())
    zero = float(p.mean() / mean_g) if mean_g != 0 and p.mean() / mean_g > 0 else float("nan")
    return ScaleSensitivity(
        scales=frozen_array(grid), frame=frozen_copy(frame), estimates=MappingProxyType(estimates), zero_bias_scale=zero,
        confidence_level=level, robust=bool(frame["verdict"].nunique() == 1),
    )
