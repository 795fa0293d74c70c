r"""Inference: is the preference label biased, is the bias heterogeneous, how sure are we?

* :func:`bias_ttest` -- a t-test of the average bias of preference labels against
  gold labels (paired when both label the same queries, Welch otherwise);
* :func:`bias_heterogeneity_test` -- a best-linear-predictor calibration test that
  the bias Delta(x) is not constant, on the cross-fitted scores of a fitted
  Meta-router;
* :func:`bias_interval` -- bootstrap confidence bands (pointwise and uniform) for
  Delta_hat(x);
* :func:`efficiency_gain_interval` -- bootstrap bands for an efficiency-gain curve.

Sign convention everywhere: the bias is **gold minus preference**,
:math:`\Delta = \psi - \eta` (DESIGN.md), stated on the gold scale. A negative bias
means the preference mechanism (e.g. an LLM judge) overstates the primary
model's gain.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import as_1d_float, check_fraction
from .scaling import resolve_scale

__all__ = ["BiasTestResult", "bias_ttest"]

_ALTERNATIVES = ("two-sided", "less", "greater")


def _check_level(confidence_level: Any) -> float:
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    return level


def _html_table(rows: list[tuple[str, str]], title: str) -> str:
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table><caption>{title}</caption>{body}</table>"


@dataclass(frozen=True, slots=True, kw_only=True)
class BiasTestResult:
    """Result of :func:`bias_ttest`.

    Attributes
    ----------
    statistic : float
        t statistic of ``estimate - null``.
    pvalue : float
    df : float
        Degrees of freedom (n - 1 paired; Welch-Satterthwaite unpaired).
    estimate : float
        Mean bias, gold minus preference, on the gold scale.
    std_error : float
        Standard error of ``estimate``.
    null : float
        Hypothesised mean bias.
    scale : float
        Constant c used (``c * gold`` on the preference scale); treated as known.
    paired : bool
    n_gold, n_preference : int
    alternative : str
    """

    statistic: float
    pvalue: float
    df: float
    estimate: float
    std_error: float
    null: float
    scale: float
    paired: bool
    n_gold: int
    n_preference: int
    alternative: str

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Confidence interval for the mean bias (gold scale), matching ``alternative``.

        It inverts the test: the p-value of ``null = low`` (or ``high``) is
        ``1 - confidence_level``.
        """
        level = _check_level(confidence_level)
        if not np.isfinite(self.std_error) or self.std_error == 0:
            return (float("nan"), float("nan"))
        dist = stats.t(self.df)
        if self.alternative == "two-sided":
            q = dist.ppf(0.5 + level / 2)
            return (self.estimate - q * self.std_error, self.estimate + q * self.std_error)
        q = dist.ppf(level)
        if self.alternative == "less":
            return (float("-inf"), self.estimate + q * self.std_error)
        return (self.estimate - q * self.std_error, float("inf"))

    def to_frame(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """One-row frame: estimate, std_error, statistic, df, p_value, ci_low, ci_high."""
        low, high = self.confidence_interval(confidence_level)
        return pd.DataFrame(
            [
                {
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.pvalue,
                    "ci_low": low,
                    "ci_high": high,
                    "null": self.null,
                    "scale": self.scale,
                    "paired": self.paired,
                    "n_gold": self.n_gold,
                    "n_preference": self.n_preference,
                }
            ],
            index=["bias (gold - preference)"],
        )

    def _rows(self) -> list[tuple[str, str]]:
        low, high = self.confidence_interval()
        kind = "paired t-test" if self.paired else "Welch two-sample t-test"
        return [
            ("test", kind),
            ("H0: mean bias (gold - preference) =", f"{self.null:.4g}  ({self.alternative})"),
            ("estimate (gold scale)", f"{self.estimate:.4f}"),
            ("std. error", f"{self.std_error:.4f}"),
            ("t statistic", f"{self.statistic:.3f}"),
            ("df", f"{self.df:.1f}"),
            ("p-value", f"{self.pvalue:.4g}"),
            ("95% CI", f"[{low:.4f}, {high:.4f}]"),
            ("scale c (treated as known)", f"{self.scale:.4g}"),
            ("n gold / n preference", f"{self.n_gold} / {self.n_preference}"),
        ]

    def summary(self) -> str:
        """Plain-text summary."""
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        lines = ["Bias of preference labels against gold labels", "=" * 48]
        lines += [f"{k:<{width}}  {v}" for k, v in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return _html_table(self._rows(), "Bias of preference labels against gold labels")


def bias_ttest(
    gold: Any,
    preference: Any,
    *,
    paired: bool = True,
    scale: Any = None,
    null: float = 0.0,
    alternative: str = "two-sided",
) -> BiasTestResult:
    r"""t-test of the mean bias of preference labels against gold labels.

    The bias is gold minus preference on the gold scale, ``d = gold - preference / c``,
    where c puts gold on the preference scale (``scale``).

    * ``paired=True``: both labels of the same queries (arrays aligned by query);
      a one-sample t-test of the differences (as :func:`scipy.stats.ttest_rel`).
    * ``paired=False``: labels of different queries; Welch's two-sample test
      (as :func:`scipy.stats.ttest_ind` with ``equal_var=False``). It compares
      the average gold gain of the gold queries with the average preference gain of
      the preference queries, so it tests the average bias only when both sets of
      queries come from the same population (random assignment of mechanisms).

    Parameters
    ----------
    gold, preference : array-like
        Gold-standard and preference labels (equal length when paired).
    paired : bool, default True
    scale : None, float or {"amplitude", "variance", "wasserstein"}, default None
        None: labels already on one scale (c = 1). A number: the known c. A method
        name: c estimated by :func:`~metarouter_stats.estimate_scale`. An estimated c
        is treated as known: its sampling error is **not** propagated into the
        standard error (with a variance-matched c, prefer the paired design or a
        bootstrap of the whole procedure).
    null : float, default 0
        Hypothesised mean bias (gold scale).
    alternative : {"two-sided", "less", "greater"}
        Alternative to ``mean bias != / < / > null``.

    Returns
    -------
    BiasTestResult

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> res = mrs.bias_ttest([1.0, 0.0, 1.0, 0.5], [1.0, 1.0, 1.0, 1.0])
    >>> round(res.estimate, 3), round(res.pvalue, 3)
    (-0.375, 0.182)
    >>> [round(v, 3) for v in res.confidence_interval(0.95)]
    [-1.13, 0.38]
    """
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"`alternative` must be one of {_ALTERNATIVES}; got {alternative!r}.")
    if isinstance(null, bool) or not isinstance(null, numbers.Real) or not np.isfinite(null):
        raise ValueError(f"`null` must be a finite number; got {null!r}.")
    if not isinstance(paired, bool):
        raise TypeError(f"`paired` must be True or False; got {paired!r}.")
    if paired and g.shape != p.shape:
        raise ValueError(
            f"`gold` and `preference` must have the same length when `paired=True`; got {g.size} "
            f"and {p.size}. Pass paired=False for labels of different queries."
        )
    for name, arr in (("gold", g), ("preference", p)):
        if arr.size < 2:
            raise ValueError(f"`{name}` must hold at least 2 labels; got {arr.size}.")
    c = resolve_scale(scale, g, p)
    p_gold = p / c  # preference labels on the gold scale
    if paired:
        d = g - p_gold
        n = d.size
        est = float(d.mean())
        se = float(d.std(ddof=1) / np.sqrt(n))
        df = float(n - 1)
    else:
        v1, v2 = g.var(ddof=1) / g.size, p_gold.var(ddof=1) / p.size
        est = float(g.mean() - p_gold.mean())
        se = float(np.sqrt(v1 + v2))
        with np.errstate(divide="ignore", invalid="ignore"):
            df = float((v1 + v2) ** 2 / (v1**2 / (g.size - 1) + v2**2 / (p.size - 1)))
    if se == 0 or not np.isfinite(se):
        import warnings

        warnings.warn(
            "The bias has zero standard error (all differences equal): the t statistic is undefined "
            "and NaN is returned.",
            RuntimeWarning,
            stacklevel=2,
        )
        stat = pval = float("nan")
    else:
        stat = (est - float(null)) / se
        dist = stats.t(df)
        if alternative == "two-sided":
            pval = float(2 * dist.sf(abs(stat)))
        elif alternative == "less":
            pval = float(dist.cdf(stat))
        else:
            pval = float(dist.sf(stat))
    return BiasTestResult(
        statistic=float(stat),
        pvalue=pval,
        df=df,
        estimate=est,
        std_error=se,
        null=float(null),
        scale=c,
        paired=paired,
        n_gold=int(g.size),
        n_preference=int(p.size),
        alternative=alternative,
    )
