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

from ._bands import Band, make_band
from ._checks import as_1d_float, as_2d_float, as_rng, check_fraction, check_positive_int
from .evaluation import _rates_iv, efficiency_gain, topk_gain
from .scaling import resolve_scale

__all__ = [
    "BiasTestResult",
    "EfficiencyGainBand",
    "HeterogeneityTestResult",
    "bias_heterogeneity_test",
    "bias_ttest",
    "efficiency_gain_interval",
]

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
            q = float(dist.ppf(0.5 + level / 2))
            return (self.estimate - q * self.std_error, self.estimate + q * self.std_error)
        q = float(dist.ppf(level))
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
    (-0.375, 0.215)
    >>> [round(v, 3) for v in res.confidence_interval(0.95)]
    [-1.137, 0.387]
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


# --------------------------------------------------------------------------- heterogeneity
@dataclass(frozen=True, slots=True, kw_only=True)
class HeterogeneityTestResult:
    """Best-linear-predictor calibration test of a heterogeneous bias.

    Attributes
    ----------
    statistic : float
        t statistic of the slope on the centred out-of-fold Delta_hat.
    pvalue : float
        One-sided p-value for slope > 0 (heterogeneity the learner detects).
    slope, slope_std_error : float
        The heterogeneity loading and its HC3 standard error (1 = well calibrated).
    mean_bias, mean_bias_std_error : float
        The average bias (intercept), preference scale.
    n : int
    """

    statistic: float
    pvalue: float
    slope: float
    slope_std_error: float
    mean_bias: float
    mean_bias_std_error: float
    n: int

    def summary(self) -> str:
        """Plain-text summary."""
        return "\n".join(
            [
                "Heterogeneity of the bias (BLP calibration test)",
                "=" * 48,
                f"mean bias (preference scale)   {self.mean_bias:.4f} (se {self.mean_bias_std_error:.4f})",
                f"heterogeneity slope            {self.slope:.3f} (se {self.slope_std_error:.3f})",
                f"t statistic / one-sided p      {self.statistic:.3f} / {self.pvalue:.4g}",
            ]
        )

    def __str__(self) -> str:
        return self.summary()


def bias_heterogeneity_test(router: Any, *, cv: int = 5, rng: Any = None) -> HeterogeneityTestResult:
    r"""Test that the bias is not constant, on a fitted Meta-router's cross-fitted scores.

    The best-linear-predictor test of Chernozhukov, Demirer, Duflo and
    Fernandez-Val (2018), on doubly robust (or R-learner) scores: with
    :math:`\phi_i` the learner's cross-fitted pseudo-outcomes and
    :math:`\tilde\Delta_i` an out-of-fold prediction of the bias (the final model
    refitted on the other ``cv`` folds of the scores), regress

    .. math:: \phi_i = \beta_1 + \beta_2 (\tilde\Delta_i - \bar{\tilde\Delta}) + u_i

    by (weighted, for R) least squares with HC3 standard errors.
    :math:`\beta_2 = 0` means the learner finds no heterogeneity; the one-sided test of
    :math:`\beta_2 > 0` rejects a constant bias. :math:`\beta_1` is the average bias.

    Parameters
    ----------
    router : fitted MetaRouter
    cv : int, default 5
        Folds for the out-of-fold bias predictions.
    rng : None, int or numpy.random.Generator
        Seed of those folds.

    Returns
    -------
    HeterogeneityTestResult
    """
    import statsmodels.api as sm  # noqa: PLC0415
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    model = getattr(router, "bias_model_", None)
    if model is None:
        raise TypeError("`router` must be a fitted MetaRouter (it has no `bias_model_`); call fit first.")
    cv = check_positive_int(cv, "cv", minimum=2)
    gen = as_rng(rng)
    X, t = model.X_, model.source_
    phi, w = model.pseudo_outcomes_, model.final_weights_
    oof = np.empty(t.size)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=int(gen.integers(2**31 - 1)))
    for train, test in folds.split(X, t):
        oof[test] = model.fit_final(X[train], phi[train], w[train]).predict(X[test])
    design = sm.add_constant(oof - oof.mean(), has_constant="add")
    fit = sm.WLS(phi, design, weights=w).fit(cov_type="HC3")
    slope, se = float(fit.params[1]), float(fit.bse[1])
    stat = slope / se if se > 0 else float("nan")
    return HeterogeneityTestResult(
        statistic=stat,
        pvalue=float(stats.norm.sf(stat)) if np.isfinite(stat) else float("nan"),
        slope=slope,
        slope_std_error=se,
        mean_bias=float(fit.params[0]),
        mean_bias_std_error=float(fit.bse[0]),
        n=int(t.size),
    )


# --------------------------------------------------------------------------- EG bands
@dataclass(frozen=True, kw_only=True)
class EfficiencyGainBand:
    """An efficiency-gain curve with a bootstrap band (see :func:`efficiency_gain_interval`).

    Attributes
    ----------
    rates : ndarray
    band : Band
        ``estimate`` is EG(rho) on the full test set; ``low`` / ``high`` the band;
        ``draws`` the bootstrap curves.
    normalise : str
        Units of the curve: "gain", "per_query" or "relative".
    """

    rates: np.ndarray
    band: Band
    normalise: str

    @property
    def estimate(self) -> np.ndarray:
        return self.band.estimate

    @property
    def low(self) -> np.ndarray:
        return self.band.low

    @property
    def high(self) -> np.ndarray:
        return self.band.high

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: rate, estimate, std_error, ci_low, ci_high."""
        df = self.band.to_frame()
        df.insert(0, "rate", self.rates)
        return df

    def plot(self, ax: Any = None, *, label: str | None = None, color: Any = None) -> Any:
        """Curve with a shaded band; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt  # noqa: PLC0415

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        (line,) = ax.plot(self.rates, self.estimate, marker="o", label=label, color=color)
        ax.fill_between(self.rates, self.low, self.high, alpha=0.2, color=line.get_color())
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("primary-model usage rate")
        ax.set_ylabel({"gain": "efficiency gain", "per_query": "EG per query", "relative": "EG / oracle EG"}[self.normalise])
        if label is not None:
            ax.legend()
        return ax


def efficiency_gain_interval(
    gold_test: Any,
    scores: Any,
    rates: Any = None,
    *,
    confidence_level: float = 0.95,
    n_boot: int = 1000,
    kind: str = "pointwise",
    normalise: str = "per_query",
    rng: Any = None,
) -> EfficiencyGainBand:
    """Bootstrap band for an efficiency-gain curve by resampling test queries.

    The router is held fixed (no refit): the band measures the uncertainty of EG due
    to the finite test set. Each replicate draws n test queries with replacement and
    recomputes the curve (ties resolved in expectation, as in
    :func:`~metarouter_stats.efficiency_gain`).

    Parameters
    ----------
    gold_test, scores : array-like of shape (n,)
    rates : array-like, optional
        Default 0.2, ..., 0.8.
    confidence_level : float, default 0.95
    n_boot : int, default 1000
    kind : {"pointwise", "uniform"}
        Uniform bands cover the whole curve at once (sup-t over the rate grid).
    normalise : {"per_query", "gain", "relative"}, default "per_query"
        Units of the curve.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    EfficiencyGainBand

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> g = np.random.default_rng(0).normal(size=300)
    >>> band = mrs.efficiency_gain_interval(g, g + 1.0 * np.random.default_rng(1).normal(size=300), rng=0, n_boot=200)
    >>> bool(np.all(band.low <= band.estimate)) and bool(np.all(band.estimate <= band.high))
    True
    """
    g = as_1d_float(gold_test, "gold_test")
    s = as_1d_float(scores, "scores")
    if g.shape != s.shape:
        raise ValueError(
            f"`scores` must have one entry per test query; got {s.shape[0]} scores for {g.shape[0]} gold gains."
        )
    r = _rates_iv(rates)
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
    if normalise not in ("per_query", "gain", "relative"):
        raise ValueError(f"`normalise` must be 'per_query', 'gain' or 'relative'; got {normalise!r}.")
    gen = as_rng(rng)
    curve = efficiency_gain(g, s, rates=r)
    n = g.size
    ks = np.floor(r * n + 0.5).astype(int)

    def value(gain: np.ndarray, oracle: np.ndarray) -> np.ndarray:
        if normalise == "gain":
            return gain
        if normalise == "per_query":
            return gain / n
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(oracle > 0, gain / oracle, 0.0)

    estimate = np.array(value(curve.gain, curve.oracle_gain), dtype=float)
    draws = np.empty((n_boot, r.size))
    for b in range(n_boot):
        idx = gen.integers(0, n, n)
        gb, sb = g[idx], s[idx]
        mean = gb.mean()
        gain = topk_gain(gb, sb, ks) - ks * mean
        oracle = topk_gain(gb, gb, ks) - ks * mean
        draws[b] = value(gain, oracle)
    band = make_band(estimate, draws, kind=kind, confidence_level=level, method="test-set bootstrap")
    return EfficiencyGainBand(rates=r, band=band, normalise=normalise)
