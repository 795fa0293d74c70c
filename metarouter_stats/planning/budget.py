r"""How many gold labels to buy: the mean-bias interval and the bias t-test as functions of the gold size.

From a pilot (the gold and preference labels in hand) :func:`plan_gold` predicts, for each
candidate number m of gold labels (preference labels fixed at those in hand):

* the half-width of the 95 % interval of the mean bias
  :math:`d = \bar r - \bar y / c` (gold scale), :math:`t_{\nu(m)}\,SE(m)` with
  :math:`SE(m)^2 = s_g^2 / m + s_p^2 / (c^2 n_p)` (Welch; paired: :math:`s_d^2 / m`) and
  Welch-Satterthwaite df :math:`\nu(m)`; its interval comes from the chi-square interval
  of the pilot's gold variance :math:`s_g^2` (the preference variance, on thousands of
  labels, is treated as known);
* the power of :func:`~metarouter_stats.bias_ttest` at a mean bias ``effect`` (default: the
  pilot's estimate), from **statsmodels**' ``TTestPower``: the noncentral-t power with
  noncentrality :math:`\delta / SE(m)` and :math:`\nu(m)` degrees of freedom (passed as
  ``nobs = nu + 1``, ``effect_size = (delta / SE) / sqrt(nobs)``), exact for the paired
  test and the usual Welch approximation otherwise;
* the gold size that reaches a target half-width or power, with an interval.

With c estimated by ``"variance"`` or ``"wasserstein"`` the variances are those of the test's
own influence values, c's error included, exactly as :func:`~metarouter_stats.bias_ttest`
computes its delta-method standard error (the error of c can add to or cancel part of the
mean bias's); with a known c or ``"amplitude"`` (whose test uses a bootstrap) c is treated as
known. ``benchmarks/planning/run.py power`` compares the predicted power with the simulated
power of the actual test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_1d_float, check_fraction
from .._results import ResultMixin, frozen_array, new_axes, plain_log_ticks
from ..data import RoutingData
from ..scaling import SCALE_DEFAULT

__all__ = ["GoldPlan", "plan_gold"]


@dataclass(frozen=True, eq=False, repr=False)
class GoldPlan(ResultMixin):
    """Predicted precision and power of the mean-bias analysis against the number of gold labels.

    Attributes
    ----------
    sizes : ndarray of int
        Candidate gold sizes m.
    half_width, half_width_low, half_width_high : ndarray
        Predicted half-width of the ``confidence_level`` interval of the mean bias (gold scale)
        at each m, and its interval from the pilot's gold-variance uncertainty.
    power : ndarray
        Power of the level-``alpha`` two-sided t-test at mean bias ``effect``.
    effect : float
        The mean bias the power refers to (gold scale).
    estimate : float
        The pilot's mean bias.
    scale : float
        The c used (``c * gold`` is on the preference scale).
    scale_reason : str
        Which c and why (:class:`~metarouter_stats.scaling.ScaleChoice`).
    n_gold_pilot, n_preference : int
    paired : bool
    alpha, confidence_level : float
    target_half_width : float or None
    n_for_half_width : tuple of float
        (estimate, low, high) gold size reaching ``target_half_width`` (NaN without a target;
        inf when it cannot be reached with these preference labels).
    target_power : float
    n_for_power : tuple of float
        (estimate, low, high) gold size reaching ``target_power`` at ``effect``.
    """

    sizes: np.ndarray
    half_width: np.ndarray
    half_width_low: np.ndarray
    half_width_high: np.ndarray
    power: np.ndarray
    effect: float
    estimate: float
    scale: float
    n_gold_pilot: int
    n_preference: int
    paired: bool
    alpha: float
    confidence_level: float
    target_half_width: float | None
    n_for_half_width: tuple[float, float, float]
    target_power: float
    n_for_power: tuple[float, float, float]
    scale_reason: str = "given"
    _title = "Gold labels: precision and power of the mean-bias analysis by gold size"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", frozen_array(self.sizes, dtype=int))
        for name in ("half_width", "half_width_low", "half_width_high", "power"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate gold size: half-width (with its interval) and power."""
        return pd.DataFrame({
            "n_gold": self.sizes, "half_width": self.half_width, "half_width_low": self.half_width_low,
            "half_width_high": self.half_width_high, "power": self.power,
        })

    def _rows(self) -> list[tuple[str, str]]:
        def triple(t: tuple[float, float, float]) -> str:
            if not np.isfinite(t[0]):
                return "not reachable with these preference labels" if np.isinf(t[0]) else "-"
            return f"{t[0]:.0f} (from {t[1]:.0f} to {t[2]:.0f})"

        rows = [
            ("pilot", f"{self.n_gold_pilot} gold, {self.n_preference} preference labels"
                      f"{' (paired)' if self.paired else ''}; c = {self.scale:.4g} ({self.scale_reason})"),
            ("pilot mean bias (gold scale)", f"{self.estimate:.4g}"),
            ("target", f"half-width of the {100 * self.confidence_level:g} % interval of the mean bias, and "
                       f"the power of the {100 * self.alpha:g} % two-sided t-test at mean bias {self.effect:.4g}"),
        ]
        if self.target_half_width is not None:
            rows.append((f"gold labels for half-width {self.target_half_width:g}", triple(self.n_for_half_width)))
        rows.append((f"gold labels for power {self.target_power:g}", triple(self.n_for_power)))
        for m, hw, lo, hi, pw in zip(self.sizes, self.half_width, self.half_width_low, self.half_width_high,
                                     self.power, strict=True):
            rows.append((f"m = {m}", f"half-width {hw:.3g} ({lo:.3g} to {hi:.3g}), power {pw:.2f}"))
        return rows

    def _notes(self) -> list[str]:
        return ["Intervals of the sizes and half-widths cover the pilot's gold-variance uncertainty "
                f"({100 * self.confidence_level:g} % chi-square interval), not that of c or of the effect."]

    def plot(self, ax: Any = None) -> Any:
        """Half-width against gold size (with its band and target), power on a second axis.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(6.5, 4))
        ax.plot(self.sizes, self.half_width, color="#1f77b4", label="half-width")
        ax.fill_between(self.sizes, self.half_width_low, self.half_width_high, color="#1f77b4", alpha=0.2)
        if self.target_half_width is not None:
            ax.axhline(self.target_half_width, color="#1f77b4", linestyle="--", linewidth=1)
        ax.axvline(self.n_gold_pilot, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        plain_log_ticks(ax)
        ax.set_xlabel("gold labels (log scale)")
        ax.set_ylabel("half-width of the mean-bias interval (gold scale)")
        ax2 = ax.twinx()
        ax2.plot(self.sizes, self.power, color="#d62728", label="power")
        ax2.axhline(self.target_power, color="#d62728", linestyle="--", linewidth=1)
        ax2.set_ylim(0, 1.02)
        ax2.set_ylabel(f"power at mean bias {self.effect:.3g}")
        ax.set_title("How many gold labels? (dotted: the pilot)")
        return ax


def _welch_df(a: np.ndarray, b: float, m: np.ndarray, n_p: int) -> np.ndarray:
    return (a + b) ** 2 / (a**2 / (m - 1) + b**2 / (n_p - 1))


def plan_gold(
    data: Any,
    *,
    scale: Any = SCALE_DEFAULT,
    paired: bool | None = None,
    effect: float | None = None,
    sizes: Any = None,
    alpha: float = 0.05,
    confidence_level: float = 0.95,
    target_half_width: float | None = None,
    target_power: float = 0.8,
) -> GoldPlan:
    """Predict the mean-bias interval's half-width and the bias t-test's power against the gold size.

    Parameters
    ----------
    data : RoutingData
        The pilot: its gold and preference labels (for ``paired=True``, the queries labelled by
        both mechanisms, matched by ``query_ids``).
    scale : float, None or {"auto", "paired", "variance", "amplitude", "wasserstein"}, default "auto"
        c, or the rule choosing it from the pilot (:func:`~metarouter_stats.scaling.choose_scale`;
        ``"auto"``: c = 1 when the pilot declares one scale, ``RoutingData.shared_scale``).
    paired : bool or None, default None
        Plan the paired test (both labels on the same queries) instead of Welch's. None: paired
        when the pilot has at least 3 queries labelled by both mechanisms (matched by query ids).
    effect : float, optional
        Mean bias (gold scale) at which the power is computed. Default: the pilot's estimate.
    sizes : array-like of int, optional
        Candidate gold sizes (at least 2). Default: 20 sizes from 10 to 10 times the pilot's.
    alpha : float, default 0.05
        Level of the two-sided test.
    confidence_level : float, default 0.95
        Of the mean-bias interval, and of the intervals around the predictions.
    target_half_width : float, optional
        A half-width to reach; the gold size for it is reported.
    target_power : float, default 0.8

    Returns
    -------
    GoldPlan

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=100, n_preference=2000, n_test=5, rng=0)
    >>> plan = mrs.plan_gold(s.train, target_half_width=0.5)
    >>> bool(plan.n_for_half_width[0] > 0), bool(plan.power[-1] >= plan.power[0])
    (True, True)
    """
    from statsmodels.stats.power import TTestPower  # noqa: PLC0415 - heavy import, deferred

    from ..scaling import choose_scale, scale_influence  # noqa: PLC0415

    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData (the pilot); got {type(data).__name__}.")
    alpha = check_fraction(alpha, "alpha", closed=False)
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    power_target = check_fraction(target_power, "target_power", closed=False)
    if target_half_width is not None and not (np.isfinite(target_half_width) and target_half_width > 0):
        raise ValueError(f"`target_half_width` must be a positive number; got {target_half_width!r}.")
    gold_y, pref_y = data.outcome[data.is_gold], data.outcome[~data.is_gold]
    if np.ptp(gold_y) == 0:
        raise ValueError(
            f"The pilot's {gold_y.size} gold labels are all equal ({gold_y[0]!r}): their variance is 0, so every gold "
            "size would look precise. A plan needs gold labels that vary; check the labels (a constant column, a "
            "wrong sign convention) or collect a pilot whose gold labels differ."
        )
    choice = choose_scale(scale, data.outcome, data.source, query_ids=data.query_ids, shared_scale=data.shared_scale)
    c = choice.value
    method = choice.estimator
    delta_method = method is not None and method != "amplitude"
    if paired is None:
        paired = len(data.paired()) >= 3
    if not isinstance(paired, (bool, np.bool_)):
        raise TypeError(f"`paired` must be True, False or None (detect from query ids); got {paired!r}.")
    if paired:
        pairs = data.paired()
        if len(pairs) < 3:
            raise ValueError(
                f"`paired=True` needs at least 3 queries labelled by both mechanisms (matched by query_ids); "
                f"the pilot has {len(pairs)}. Use paired=False."
            )
        g_p, p_p = pairs["gold"].to_numpy(), pairs["preference"].to_numpy()
        diffs = g_p - p_p / c
        estimate, n_g = float(diffs.mean()), diffs.size
        if delta_method:  # the test's own influence values, c's error included (bias_ttest)
            ig, ip = scale_influence(g_p, p_p, str(method), c=c)
            diffs = diffs + (p_p.mean() / c**2) * (ig + ip)
        var_g, var_p = float(diffs.var(ddof=1)), 0.0
        if not var_g > 0:
            raise ValueError(f"The pilot's {n_g} paired differences are all equal: their variance is 0, so no paired "
                             "plan can be made. Check the labels, or plan the unpaired test (paired=False).")
    else:
        estimate, n_g = float(gold_y.mean() - pref_y.mean() / c), gold_y.size
        a, b_ = gold_y - gold_y.mean(), -(pref_y - pref_y.mean()) / c
        if delta_method:
            # c's influence on every label (for "paired", variance matching's on every label: an approximation)
            ig, ip = scale_influence(gold_y, pref_y, str(method), c=c)
            lever = pref_y.mean() / c**2
            a, b_ = a + lever * ig, b_ + lever * ip
        var_g, var_p = float(a.var(ddof=1)), float(b_.var(ddof=1))
    n_p = int(pref_y.size)
    delta = estimate if effect is None else float(effect)
    if sizes is None:
        m = np.unique(np.round(np.geomspace(10, 10 * max(n_g, 10), 20)).astype(int))
    else:
        m = np.unique(as_1d_float(sizes, "sizes").astype(int))
        if m.size == 0 or m.min() < 2:
            raise ValueError(f"`sizes` must be gold sizes of at least 2; got {sizes!r}.")
    # chi-square interval of the gold variance (n_g - 1 df)
    lo_q, hi_q = stats.chi2.ppf([(1 - level) / 2, (1 + level) / 2], n_g - 1)
    var_range = {"est": var_g, "low": var_g * (n_g - 1) / hi_q, "high": var_g * (n_g - 1) / lo_q}
    b = 0.0 if paired else var_p / n_p

    def se_df(v: float, mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = v / mm
        se = np.sqrt(a + b)
        df = mm - 1.0 if paired else _welch_df(a, b, mm, n_p)
        return se, df

    z_level = 0.5 + level / 2
    hw = {}
    for key, v in var_range.items():
        se, df = se_df(v, m.astype(float))
        hw[key] = stats.t.ppf(z_level, df) * se
    se, df = se_df(var_g, m.astype(float))
    tp = TTestPower()

    def t_power(se_: np.ndarray, df_: np.ndarray) -> np.ndarray:
        nobs = df_ + 1.0
        nc = abs(delta) / se_
        pw = np.asarray(tp.power(effect_size=nc / np.sqrt(nobs), nobs=nobs, alpha=alpha, alternative="two-sided"),
                        dtype=float)
        # statsmodels' noncentral t returns NaN far in the tail (noncentrality > ~37): the power is 1 there
        return np.where(np.isnan(pw) & (nc > 8), 1.0, pw)

    power = t_power(se, df)

    grid = np.unique(np.round(np.geomspace(2, 1e6, 4000)).astype(int)).astype(float)

    def first_reaching(ok: np.ndarray) -> float:
        hit = np.flatnonzero(ok)
        return float(grid[hit[0]]) if hit.size else float("inf")

    n_hw = (float("nan"),) * 3
    if target_half_width is not None:
        found = []
        for key in ("est", "low", "high"):
            s_, d_ = se_df(var_range[key], grid)
            found.append(first_reaching(stats.t.ppf(z_level, d_) * s_ <= target_half_width))
        n_hw = (found[0], found[1], found[2])
    found_p = []
    for key in ("est", "low", "high"):
        s_, d_ = se_df(var_range[key], grid)
        found_p.append(first_reaching(t_power(s_, d_) >= power_target))
    return GoldPlan(
        sizes=m, half_width=hw["est"], half_width_low=hw["low"], half_width_high=hw["high"], power=power,
        effect=delta, estimate=estimate, scale=c, n_gold_pilot=int(n_g), n_preference=n_p, paired=bool(paired),
        alpha=alpha, confidence_level=level, target_half_width=target_half_width, n_for_half_width=n_hw,
        target_power=power_target, n_for_power=(found_p[0], found_p[1], found_p[2]), scale_reason=choice.reason,
    )
