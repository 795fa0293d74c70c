"""Test-set bootstrap bands for an efficiency-gain curve (router held fixed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_1d_float, as_rng, check_fraction, check_resamples
from .._ranking import k_for_rate
from .._results import ResultMixin, frozen_array, new_axes
from .curves import check_rates, eg_core, efficiency_gain, normalise_eg
from .._resampling import Band, bootstrap, make_band

__all__ = ["EG_UNITS", "EfficiencyGainBand", "efficiency_gain_interval"]

EG_UNITS = ("per_query", "gain", "relative")
_YLABEL = {"gain": "efficiency gain", "per_query": "EG per query", "relative": "EG / oracle EG"}


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class EfficiencyGainBand(ResultMixin):
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
    _title = "Efficiency gain with a test-set bootstrap band"

    @property
    def estimate(self) -> np.ndarray:
        """EG(rho) on the full test set."""
        return self.band.estimate

    @property
    def low(self) -> np.ndarray:
        """Lower band limit."""
        return self.band.low

    @property
    def high(self) -> np.ndarray:
        """Upper band limit."""
        return self.band.high

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the same kind of band at another level, from the same draws."""
        return self.band.confidence_interval(confidence_level)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("target", self.band.target), ("units", self.normalise), ("kind", self.band.kind)]
        rows += [(f"EG({r:.2f})", f"{e:.4g}  [{lo:.4g}, {hi:.4g}]")
                 for r, e, lo, hi in zip(self.rates, self.estimate, self.low, self.high, strict=True)]
        return rows

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: rate, estimate, std_error, ci_low, ci_high."""
        df = self.band.to_frame()
        df.insert(0, "rate", self.rates)
        return df

    def plot(self, ax: Any = None, *, label: str | None = None, color: Any = None) -> Any:
        """Curve with a shaded band; returns the matplotlib Axes."""
        ax = new_axes(ax)
        (line,) = ax.plot(self.rates, self.estimate, marker="o", label=label, color=color)
        ax.fill_between(self.rates, self.low, self.high, alpha=0.2, color=line.get_color())
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("primary-model usage rate")
        ax.set_ylabel(_YLABEL[self.normalise])
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

    The router is held fixed (no refit): the band covers the EG of **this fitted router**
    on the population the test queries were drawn from, and measures the uncertainty due
    to the finite test set only. Each replicate draws n test queries with replacement and
    recomputes the curve with the same core as :func:`~metarouter_stats.efficiency_gain`
    (ties resolved in expectation).

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
        Units of the curve ("relative" is NaN where the oracle EG is 0, as in
        :class:`~metarouter_stats.EfficiencyGainCurve`).
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
    r = check_rates(rates)
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    if normalise not in EG_UNITS:
        raise ValueError(f"`normalise` must be 'per_query', 'gain' or 'relative'; got {normalise!r}.")
    curve = efficiency_gain(g, s, rates=r)
    n = g.size
    ks = np.array([k_for_rate(float(v), n) for v in r], dtype=int)
    estimate = normalise_eg(curve.gain, curve.oracle_gain, n, curve.mean_gold, normalise)

    def statistic(idx: np.ndarray) -> np.ndarray:
        gb = g[idx]
        gain, oracle = eg_core(gb, s[idx], ks)
        return normalise_eg(gain, oracle, n, float(gb.mean()), normalise)

    draws = bootstrap(statistic, n, n_boot, as_rng(rng))
    band = make_band(
        estimate, draws, kind=kind, confidence_level=level, method="test-set bootstrap",
        target=("EG(rho) of this fitted router on the population the test queries come from, conditional on "
                "the fitted router (held fixed); not the value of the training procedure, whose training-set "
                "variability it omits"),
    )
    return EfficiencyGainBand(rates=frozen_array(r), band=band, normalise=normalise)
