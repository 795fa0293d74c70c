"""Results of prediction-powered router evaluation: an EG curve per router, scalar summaries, comparisons.

:class:`RouterEvaluation` holds, per router and rate, the estimate's linear components at the
point and on every multiplier draw, so that any linear contrast (a difference of routers, an
area, APGR, CPT) gets its own power tuning and interval from the same draws
(:func:`~metarouter_stats.evaluation.evaluate_routers` explains the estimator). Pointwise
intervals are Student-t under the small-sample rule; uniform bands are sup-t
(:mod:`metarouter_stats._resampling`). ``docs/benchmarks.md`` reports their coverage.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_fraction
from .._resampling import (
    KINDS, Band, make_band, prefer_gold_only, small_sample_rule, sup_t, t_quantile, tune_power,
)
from .._ranking import trapezoid_weights
from .._results import ResultMixin, frozen_array, new_axes, router_style

__all__ = ["RouterComparison", "RouterEvaluation", "ScalarEstimate"]

_TARGET = (
    "per-query EG(rho) of each fixed router on the evaluation query population "
    "(conditional on the fitted routers and the pseudo-gold function)"
)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ScalarEstimate(ResultMixin):
    """One number with a bootstrap interval (an area, APGR, CPT, or a difference of them).

    Attributes
    ----------
    name : str
        What was estimated.
    estimate, std_error : float
    low, high : float
        The interval at ``confidence_level`` (Student-t with ``df`` and the bootstrap SE, or
        percentile for CPT, see ``interval``).
    gold_only_std_error : float
        The same quantity's SE with gold labels only (NaN where not defined).
    p_value : float
        Two-sided p-value of "the quantity is 0" (NaN where 0 is not a meaningful null).
    target : str
        What the interval covers.
    power : float
        The estimate's PPI++ power-tuning coefficient (the mean over pseudo-gold columns; 0 when the
        gold-only estimate was used; NaN where an estimand has several, e.g. an AIQ).
    """

    name: str
    estimate: float
    std_error: float
    low: float
    high: float
    confidence_level: float
    gold_only_std_error: float
    p_value: float
    draws: np.ndarray
    target: str
    interval: str = "normal"
    df: float = float("inf")
    used_pseudo_gold: bool = True
    power: float = float("nan")
    _title = "Estimate with a bootstrap interval"

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """``(low, high)`` at another level, from the same draws."""
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if self.interval == "percentile":
            lo, hi = np.nanquantile(self.draws, [0.5 - level / 2, 0.5 + level / 2])
            return float(lo), float(hi)
        z = float(t_quantile(level, self.df))
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("quantity", self.name), ("target", self.target), ("estimate", f"{self.estimate:.4g}"),
                (f"{100 * self.confidence_level:g} % interval ({self.interval})", f"[{self.low:.4g}, {self.high:.4g}]"),
                ("standard error", f"{self.std_error:.4g}")]
        if np.isfinite(self.gold_only_std_error):
            rows.append(("standard error, gold labels only", f"{self.gold_only_std_error:.4g}"))
            if not self.used_pseudo_gold:
                rows.append(("pseudo-gold", "not used: the gold-only interval is shorter here (small-sample guard)"))
        if np.isfinite(self.df):
            rows.append(("degrees of freedom (Student-t)", f"{self.df:.1f}"))
        if np.isfinite(self.p_value):
            rows.append(("p-value (= 0, two-sided)", _fmt_p(self.p_value)))
        return rows

    def to_frame(self) -> pd.DataFrame:
        """One row: quantity, estimate, std_error, ci_low, ci_high, gold_only_std_error, p_value."""
        return pd.DataFrame([{
            "quantity": self.name, "estimate": self.estimate, "std_error": self.std_error, "ci_low": self.low,
            "ci_high": self.high, "gold_only_std_error": self.gold_only_std_error, "p_value": self.p_value,
        }])


def _fmt_p(p: float) -> str:
    return "<1e-4" if p < 1e-4 else f"{p:.4f}"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RouterComparison(ResultMixin):
    """EG(rho) of router ``a`` minus router ``b`` on the same queries (see :meth:`RouterEvaluation.compare`).

    Attributes
    ----------
    a, b : str
    rates, estimate, std_error : ndarray
    pointwise, uniform : Band
        Pointwise intervals (Student-t under the small-sample rule) and the sup-t band over the rates in
        ``uniform_range`` (NaN outside); target: the difference of the two fixed routers' EG(rho) on the
        evaluation population, conditional on the routers.
    p_values : ndarray
        Two-sided pointwise p-values of "no difference at this rate".
    area : ScalarEstimate
        Difference of the areas under EG over the rates.
    """

    a: str
    b: str
    rates: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    gold_only_std_error: np.ndarray
    pointwise: Band
    uniform: Band
    p_values: np.ndarray
    area: ScalarEstimate
    confidence_level: float
    sup_t: np.ndarray
    uniform_range: tuple[float, float]
    _title = "Paired comparison of two routers (EG per query, gold scale)"

    @property
    def pointwise_low(self) -> np.ndarray:
        """Deprecated: ``pointwise.low``."""
        return _moved("pointwise_low", "pointwise.low", self.pointwise.low)

    @property
    def pointwise_high(self) -> np.ndarray:
        """Deprecated: ``pointwise.high``."""
        return _moved("pointwise_high", "pointwise.high", self.pointwise.high)

    @property
    def uniform_low(self) -> np.ndarray:
        """Deprecated: ``uniform.low``."""
        return _moved("uniform_low", "uniform.low", self.uniform.low)

    @property
    def uniform_high(self) -> np.ndarray:
        """Deprecated: ``uniform.high``."""
        return _moved("uniform_high", "uniform.high", self.uniform.high)

    @property
    def uniform_p_value(self) -> float:
        """Two-sided p-value of "no difference at any rate" (sup-t statistic against its bootstrap law)."""
        lo, hi = self.uniform_range
        live = (self.std_error > 0) & (self.rates >= lo - 1e-12) & (self.rates <= hi + 1e-12)
        if not live.any():
            return float("nan")
        stat = float(np.max(np.abs(self.estimate[live]) / self.std_error[live]))
        return float(np.mean(self.sup_t >= stat))  # sup_t: draws standardised by the uninflated SE (conservative)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("difference", f"{self.a} minus {self.b}"),
                ("target", "difference of the two fixed routers' EG(rho) on the evaluation population")]
        for r, e, lo, hi, p in zip(self.rates, self.estimate, self.pointwise.low, self.pointwise.high, self.p_values,
                                   strict=True):
            if 0 < r < 1:
                rows.append((f"EG({r:.2f})", f"{e:+.4g}  [{lo:+.4g}, {hi:+.4g}]  p {_fmt_p(p)}"))
        rows.append(("area difference", f"{self.area.estimate:+.4g}  [{self.area.low:+.4g}, {self.area.high:+.4g}]  "
                                        f"p {_fmt_p(self.area.p_value)}"))
        return rows

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: rate, estimate, std_error, gold_only_std_error, pointwise and uniform limits, p_value."""
        return pd.DataFrame({
            "rate": self.rates, "estimate": self.estimate, "std_error": self.std_error,
            "gold_only_std_error": self.gold_only_std_error, "pointwise_low": self.pointwise.low,
            "pointwise_high": self.pointwise.high, "uniform_low": self.uniform.low, "uniform_high": self.uniform.high,
            "p_value": self.p_values,
        })

    def plot(self, ax: Any = None) -> Any:
        """Difference with pointwise (dark) and uniform (light) bands; returns the Axes."""
        ax = new_axes(ax)
        ax.fill_between(self.rates, self.uniform.low, self.uniform.high, alpha=0.15, color="C0", label="uniform band")
        ax.fill_between(self.rates, self.pointwise.low, self.pointwise.high, alpha=0.3, color="C0", label="pointwise")
        ax.plot(self.rates, self.estimate, color="C0", marker="o", label=f"{self.a} - {self.b}")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("primary-model usage rate")
        ax.set_ylabel("difference in EG per query")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        return ax


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RouterEvaluation(ResultMixin):
    """Prediction-powered EG(rho) of fixed routers with bootstrap intervals (see :func:`evaluate_routers`).

    Attributes
    ----------
    names : tuple of str
        Router names.
    rates : ndarray of shape (m,)
        Usage rates.
    estimate, std_error : ndarray of shape (n_routers, m)
        EG(rho) per query (gold scale) and its bootstrap SE.
    gold_only_estimate, gold_only_std_error : ndarray of shape (n_routers, m)
        The same with gold labels only (lambda = 0; beta tuned), from the same draws.
    power : ndarray of shape (n_routers, m, p)
        The tuned lambda of each estimate: the weight of each pseudo-gold column (p = 0
        without pseudo-gold).
    intercept : ndarray of shape (n_routers, m)
        The tuned beta of each estimate: the weight of the control z, whose mean over all
        queries is exactly 0 (uses the unlabelled queries' scores, no pseudo-gold).
    df, inflation : ndarray of shape (n_routers, m)
        The small-sample rule of each estimate: Student-t degrees of freedom (Satterthwaite's
        effective number of the gold rows' weights z / pi, scaled for the tuned coefficients)
        and the factor sqrt(n_e / (n_e - 1 - k)) applied to the bootstrap SE (``std_error``
        includes it).
    gold_only_df : ndarray of shape (n_routers, m)
        The same rule's degrees of freedom for the gold-only estimate (one tuned coefficient).
        Where the gold-only interval is the shorter one (few effective gold rows: the tuned
        coefficients' degrees of freedom cost more than they gain), the estimate *is* the
        gold-only one: ``power`` is 0 there and ``df`` equals ``gold_only_df``.
    n_eval, n_gold : int
        Evaluation queries and gold-labelled ones among them.
    confidence_level : float
    """

    names: tuple[str, ...]
    rates: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    gold_only_estimate: np.ndarray
    gold_only_std_error: np.ndarray
    power: np.ndarray
    intercept: np.ndarray
    gold_only_intercept: np.ndarray
    df: np.ndarray
    inflation: np.ndarray
    gold_only_df: np.ndarray
    n_eval: int
    n_gold: int
    confidence_level: float
    has_pseudo_gold: bool
    # internals: point (index 0) and draws (1:) of the four linear components per router,
    # the mean gain's components, and what tuning lambda for a new contrast needs
    components: np.ndarray  # (2 + 2p, 1 + B, n_routers, m): Bg, Bz, A_1..p, Bf_1..p
    mean_components: np.ndarray  # (1 + 2p, 1 + B): Hajek mean of g, means of f_j, Hajek means of f_j
    z_gold: np.ndarray  # (n_gold, n_routers, m)
    u_mean: np.ndarray  # (n_routers, m, p): mean over all queries of z f_j
    f_mean: np.ndarray  # (p,)
    g_gold: np.ndarray
    f_gold: np.ndarray
    inv_pi_gold: np.ndarray
    _title = "Router evaluation: EG per query (gold scale), prediction-powered"

    # ---------------------------------------------------------------- generic contrasts
    def _index(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"Unknown router {name!r}; this evaluation has {list(self.names)}.")
        return self.names.index(name)

    def _tuning(self, kappa: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(lambda (p,), beta, gold-only beta) of the contrast sum_{r,k} kappa[r,k] EG_r(rho_k)."""
        zc = np.tensordot(self.z_gold, kappa, axes=([1, 2], [0, 1]))[:, None]
        ubar = np.tensordot(self.u_mean, kappa, axes=([0, 1], [0, 1]))[None, :]
        share = self.n_gold / self.n_eval
        lam, beta = tune_power(zc, self.f_gold, self.g_gold, self.inv_pi_gold, ubar, share)
        _, beta0 = tune_power(zc, self.f_gold[:, :0], self.g_gold, self.inv_pi_gold, ubar[:, :0], share)
        return lam[0], float(beta[0]), float(beta0[0])

    def _contrast(self, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lambda, values (1 + B), gold-only values (1 + B)) of a linear contrast."""
        lam, beta, beta0 = self._tuning(kappa)
        comp = np.tensordot(self.components, kappa, axes=([2, 3], [0, 1]))  # (2 + 2p, 1 + B)
        p = self.f_gold.shape[1]
        bg, bz, a, bf = comp[0], comp[1], comp[2:2 + p], comp[2 + p:]
        return lam, bg - beta * bz + lam @ (a - bf), bg - beta0 * bz

    def _trapezoid(self, low: float, high: float) -> np.ndarray:
        return trapezoid_weights(self.rates, low, high)

    def _contrast_dof(self, kappa: np.ndarray) -> tuple[float, float, float, float]:
        """(inflation, df) of a contrast with its tuning, and of its gold-only version (beta only)."""
        zc = np.tensordot(self.z_gold, kappa, axes=([1, 2], [0, 1]))
        p = self.f_gold.shape[1]
        return (*small_sample_rule(zc, self.inv_pi_gold, p + 1), *small_sample_rule(zc, self.inv_pi_gold, 1))

    def _scalar(self, name: str, values: np.ndarray, gold_only: np.ndarray | None, target: str,
                test_zero: bool = True, kappa: np.ndarray | None = None,
                rule: tuple[float, float, float, float] | None = None, power: float = float("nan")) -> ScalarEstimate:
        guarded = kappa is not None or rule is not None  # a small-sample rule applies, and with it the guard
        if rule is None:
            rule = self._contrast_dof(kappa) if kappa is not None else (1.0, np.inf, 1.0, np.inf)
        infl, df, infl0, df0 = rule
        raw0 = float(np.std(gold_only[1:], ddof=1)) if gold_only is not None else float("nan")
        go = raw0 * infl0
        used = True
        if guarded and gold_only is not None and self.has_pseudo_gold and bool(prefer_gold_only(
                np.std(values[1:], ddof=1), infl, df, raw0, infl0, df0, self.confidence_level)):
            values, infl, df, used, power = gold_only, infl0, df0, False, 0.0
        est, draws = float(values[0]), values[1:]
        se = float(np.std(draws, ddof=1)) * infl
        z = float(t_quantile(self.confidence_level, df))
        p = float(2 * stats.t.sf(abs(est) / se, df)) if (test_zero and se > 0) else float("nan")
        return ScalarEstimate(name=name, estimate=est, std_error=se, low=est - z * se, high=est + z * se,
                              confidence_level=self.confidence_level, gold_only_std_error=go, p_value=p,
                              draws=frozen_array(draws), target=target, df=df, used_pseudo_gold=used, power=power)

    # ---------------------------------------------------------------- public views
    @property
    def effective_gold(self) -> np.ndarray:
        """Gold rows gold-only evaluation would need for the same SE: n_gold x (SE_gold / SE)^2."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.std_error > 0, self.n_gold * (self.gold_only_std_error / self.std_error) ** 2, np.nan)

    def band(
        self, router: str, kind: str = "pointwise", confidence_level: float | None = None, *,
        low: float = 0.2, high: float = 0.8,
    ) -> Band:
        """One router's EG(rho) band: pointwise (Student-t under the small-sample rule), or sup-t uniform over the
        rates in ``[low, high]`` (NaN outside).

        The uniform band's default range, 0.2 to 0.8, keeps the rates where a few gold rows
        decide the tails out of the supremum (at rate 0.05 with 100 gold rows about five of
        them fall among the queries routed to the primary model, too few for a normal
        approximation); ``docs/benchmarks.md`` reports the coverage.

        Returns
        -------
        Band
            ``band.low`` and ``band.high`` over ``rates``; target: this router's per-query EG(rho) on the
            evaluation population, conditional on the fitted router and the pseudo-gold function.
        """
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
        level = self.confidence_level if confidence_level is None else check_fraction(confidence_level, "confidence_level", closed=False)
        i = self._index(router)
        covered = self._range(low, high) if kind == "uniform" else None
        band = make_band(self.estimate[i], self._draws()[:, i, :], kind=kind, confidence_level=level,
                         method="prediction-powered, Exp(1) multiplier bootstrap", target=_TARGET, df=self.df[i],
                         inflation=self.inflation[i], covered=covered)
        return band

    def _range(self, low: float, high: float) -> np.ndarray:
        inside = (self.rates >= low - 1e-12) & (self.rates <= high + 1e-12)
        if not inside.any():
            raise ValueError(f"No rate of this evaluation lies in [{low}, {high}]; its rates are {self.rates.tolist()}.")
        return inside

    def _draws(self) -> np.ndarray:
        return combine_components(self.components[:, 1:], self.power, self.intercept)

    def area(self, router: str, low: float = 0.2, high: float = 0.8) -> ScalarEstimate:
        """Area under EG(rho) per query from ``low`` to ``high`` (trapezoid on the rate grid), with a CI.

        The package's ``auc`` in per-query units (grf's AUTOC / Qini analogue for routing).
        """
        i = self._index(router)
        kappa = np.zeros((len(self.names), self.rates.size))
        kappa[i] = self._trapezoid(low, high)
        _, vals, gold = self._contrast(kappa)
        return self._scalar(f"EG area of {router} over [{low:g}, {high:g}] (per query)", vals, gold,
                            "area under the fixed router's per-query EG(rho) on the evaluation population",
                            kappa=kappa)

    def _pgr(self, router: str) -> tuple[np.ndarray, np.ndarray]:
        """PGR(rho) = share of the all-primary gain captured, point (m,) and draws (B, m)."""
        i = self._index(router)
        eg = np.concatenate((self.estimate[i][None], self._draws()[:, i, :]))
        mu = self._mean_values()[0]
        mu_se = float(np.std(mu[1:], ddof=1))
        if abs(mu[0]) < 2 * mu_se:
            warnings.warn(
                f"PGR divides by the mean gold gain E[g] = {mu[0]:.3g} (SE {mu_se:.2g}), which is not clearly away from 0: "
                "APGR and CPT are unstable here; compare routers by EG or its area instead.",
                UserWarning,
                stacklevel=3,
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            pgr = eg / mu[:, None] + self.rates[None, :]
        return pgr[0], pgr[1:]

    def _mean_values(self) -> tuple[np.ndarray, np.ndarray]:
        """Prediction-powered E[g]: point and draws (1 + B,), and its own tuned lambda (p,)."""
        p = self.f_gold.shape[1]
        ones = np.ones((self.g_gold.size, 1))
        lam, _ = tune_power(ones, self.f_gold, self.g_gold, self.inv_pi_gold, self.f_mean[None, :],
                            self.n_gold / self.n_eval, use_z=False)
        comp = self.mean_components
        return comp[0] + lam[0] @ (comp[1:1 + p] - comp[1 + p:]), lam[0]

    def mean_gain(self) -> ScalarEstimate:
        """Average gold gain of the primary model over the secondary, E[g] (prediction-powered).

        The small-sample rule of a mean (contrast 1 on every gold row, one tuned coefficient per
        pseudo-gold column) and its guard apply, as for every other estimand; the same estimand
        from :func:`~metarouter_stats.evaluation.evaluate_cost_quality` gives the same interval.
        """
        values, lam = self._mean_values()
        ones = np.ones(self.g_gold.size)
        k = self.f_gold.shape[1] if self.has_pseudo_gold else 0
        rule = (*small_sample_rule(ones, self.inv_pi_gold, k), *small_sample_rule(ones, self.inv_pi_gold, 0))
        return self._scalar("mean gold gain E[g]", values, self.mean_components[0],
                            "average gold gain of the primary model on the evaluation population", rule=rule,
                            power=float(lam.mean()) if lam.size else 0.0)

    def apgr(self, router: str) -> ScalarEstimate:
        """RouteLLM's average performance gap recovered: mean over rho in [0, 1] of PGR(rho).

        PGR(rho) = E[g a_rho] / E[g], the share of the all-primary gain captured when sending the
        share rho; needs the rate grid to span [0, 1] and E[g] clearly away from 0.
        """
        w = self._trapezoid(0.0, 1.0)
        pgr, draws = self._pgr(router)
        vals = np.concatenate(([pgr @ w], draws @ w))
        return self._scalar(f"APGR of {router}", vals, None,
                            "average share of the primary model's gain recovered, rho over [0, 1]", test_zero=False)

    def cpt(self, router: str, share: float = 0.5) -> ScalarEstimate:
        """RouteLLM's CPT: the smallest usage rate at which PGR reaches ``share``, with a percentile CI."""
        share = check_fraction(share, "share")
        pgr, draws = self._pgr(router)
        rates = self.rates

        def crossing(curve: np.ndarray) -> float:
            above = np.flatnonzero(curve >= share)
            if above.size == 0:
                return float("nan")
            j = int(above[0])
            if j == 0:
                return float(rates[0])
            x0, x1, y0, y1 = rates[j - 1], rates[j], curve[j - 1], curve[j]
            return float(x0 + (share - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)

        est = crossing(pgr)
        vals = np.array([crossing(d) for d in draws])
        lo, hi = np.nanquantile(vals, [0.5 - self.confidence_level / 2, 0.5 + self.confidence_level / 2])
        return ScalarEstimate(
            name=f"CPT({100 * share:g} %) of {router}", estimate=est, std_error=float(np.nanstd(vals, ddof=1)),
            low=float(lo), high=float(hi), confidence_level=self.confidence_level, gold_only_std_error=float("nan"),
            p_value=float("nan"), draws=frozen_array(vals), interval="percentile",
            target=f"smallest usage rate at which the fixed router recovers {100 * share:g} % of the primary model's gain",
        )

    def compare(self, a: str, b: str, *, low: float = 0.2, high: float = 0.8) -> RouterComparison:
        """EG of router ``a`` minus router ``b``, paired on the same queries and draws.

        Each rate's difference (and the area difference over ``[low, high]``) has its own tuned
        lambda: where the two routers route a query alike, its gold label cancels.
        """
        ia, ib = self._index(a), self._index(b)
        m = self.rates.size
        est, se, gse, raw, df = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m), np.full(m, np.inf)
        draws = np.zeros((self.components.shape[1] - 1, m))
        for k in range(m):
            kappa = np.zeros((len(self.names), m))
            kappa[ia, k] += 1.0
            kappa[ib, k] -= 1.0
            _, vals, gold = self._contrast(kappa)
            infl, df[k], infl0, df0 = self._contrast_dof(kappa)
            raw[k], raw0 = np.std(vals[1:], ddof=1), np.std(gold[1:], ddof=1)
            if self.has_pseudo_gold and bool(prefer_gold_only(raw[k], infl, df[k], raw0, infl0, df0, self.confidence_level)):
                vals, raw[k], infl, df[k] = gold, raw0, infl0, df0  # small-sample guard: gold-only is shorter here
            est[k], draws[:, k] = vals[0], vals[1:]
            se[k] = raw[k] * infl
            gse[k] = raw0 * infl0
        level = self.confidence_level
        inside = self._range(low, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            inflation = np.where(raw > 0, se / np.where(raw > 0, raw, 1.0), 1.0)
        target = f"EG(rho) of {a} minus {b} on the evaluation population, conditional on the fitted routers"
        # the draws' SD per rate is `raw`, so the bands reproduce se = raw x inflation
        bands = {kind: make_band(est, draws, kind=kind, confidence_level=level, method=(
            "prediction-powered, Exp(1) multiplier bootstrap, paired"), target=target, df=df, inflation=inflation,
            covered=inside if kind == "uniform" else None) for kind in KINDS}
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(se > 0, 2 * stats.t.sf(np.abs(est) / np.where(se > 0, se, 1.0), df), np.nan)
        kappa = np.zeros((len(self.names), m))
        w = self._trapezoid(low, high)
        kappa[ia] += w
        kappa[ib] -= w
        _, vals, gold = self._contrast(kappa)
        area = self._scalar(f"EG area of {a} minus {b} over [{low:g}, {high:g}]", vals, gold,
                            "difference of the two fixed routers' per-query EG areas", kappa=kappa)
        return RouterComparison(
            a=a, b=b, rates=frozen_array(self.rates), estimate=frozen_array(est), std_error=frozen_array(se),
            gold_only_std_error=frozen_array(gse), pointwise=bands["pointwise"], uniform=bands["uniform"],
            p_values=frozen_array(p), area=area, confidence_level=level,
            sup_t=frozen_array(sup_t(est[inside], draws[:, inside], raw[inside])), uniform_range=(low, high),
        )

    def compare_all(self, baseline: str, *, low: float = 0.2, high: float = 0.8) -> pd.DataFrame:
        """Every router against ``baseline``: area difference, CI, p-value, and the uniform test over rates."""
        self._index(baseline)
        rows = []
        for name in self.names:
            if name == baseline:
                continue
            c = self.compare(name, baseline, low=low, high=high)
            rows.append({"router": name, "baseline": baseline, "area_difference": c.area.estimate,
                         "ci_low": c.area.low, "ci_high": c.area.high, "std_error": c.area.std_error,
                         "gold_only_std_error": c.area.gold_only_std_error, "p_value_area": c.area.p_value,
                         "p_value_uniform": c.uniform_p_value})
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- contract
    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise ``(low, high)`` arrays of shape (n_routers, m)."""
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        z = t_quantile(level, self.df)
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: router, rate, estimate, std_error, pointwise and uniform limits, gold-only estimate
        and SE, beta (``intercept``), effective gold rows, and lambda per pseudo-gold column (``power_k``)."""
        lo, hi = self.confidence_interval(self.confidence_level)
        frames = []
        for i, name in enumerate(self.names):
            ub = self.band(name, "uniform")
            ulo, uhi = ub.low, ub.high
            frames.append(pd.DataFrame({
                "router": name, "rate": self.rates, "estimate": self.estimate[i], "std_error": self.std_error[i],
                "pointwise_low": lo[i], "pointwise_high": hi[i], "uniform_low": ulo, "uniform_high": uhi,
                "gold_only_estimate": self.gold_only_estimate[i], "gold_only_std_error": self.gold_only_std_error[i],
                "intercept": self.intercept[i], "effective_gold": self.effective_gold[i],
            }))
            for k in range(self.power.shape[-1]):
                frames[-1][f"power_{k}"] = self.power[i, :, k]
        return pd.concat(frames, ignore_index=True)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("target", _TARGET), ("evaluation queries / gold-labelled", f"{self.n_eval} / {self.n_gold}"),
                ("pseudo-gold", f"{self.f_gold.shape[1]} column(s), prediction-powered" if self.has_pseudo_gold
                 else "none (gold labels only; unlabelled queries fix the threshold)"),
                ("interval", f"{100 * self.confidence_level:g} % pointwise, multiplier bootstrap "
                             f"({self.components.shape[1] - 1} draws), threshold re-estimated in each, Student-t "
                             "small-sample rule")]
        k = int(np.argmin(np.abs(self.rates - 0.5)))
        lo, hi = self.confidence_interval(self.confidence_level)
        for i, name in enumerate(self.names):
            rows.append((f"{name}: EG({self.rates[k]:.2f})",
                         f"{self.estimate[i, k]:.4g}  [{lo[i, k]:.4g}, {hi[i, k]:.4g}]  "
                         f"(gold-only SE {self.gold_only_std_error[i, k]:.3g}, effective gold {self.effective_gold[i, k]:.0f})"))
        return rows

    def _notes(self) -> list[str]:
        return ["Conditional on the fitted routers and the pseudo-gold function, which must not have been fitted on "
                "these gold rows; not the value of the training procedure."]

    def plot(self, ax: Any = None, *, routers: Any = None, kind: str = "pointwise") -> Any:
        """EG per query against the rate with bands for ``routers`` (default all); returns the Axes."""
        ax = new_axes(ax)
        names = self.names if routers is None else tuple(routers)
        for name in names:
            i = self._index(name)
            b = self.band(name, kind)
            lo, hi = b.low, b.high
            style = router_style(name)
            ax.plot(self.rates, self.estimate[i], marker="o", markersize=3, label=name, **style)
            ax.fill_between(self.rates, lo, hi, alpha=0.15, color=style["color"])
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("primary-model usage rate")
        ax.set_ylabel("EG per query (gold scale)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        return ax


def combine_components(comps: np.ndarray, power: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Bg - beta Bz + sum_j lambda_j (A_j - Bf_j) for components (2 + 2p, b, R, m)."""
    p = power.shape[-1]
    out = comps[0] - intercept[None] * comps[1]
    for k in range(p):
        out = out + power[None, :, :, k] * (comps[2 + k] - comps[2 + p + k])
    return out


def _moved(old: str, new: str, value: Any) -> Any:
    warnings.warn(f"`RouterComparison.{old}` is deprecated and will be removed in the next release; use `{new}`.",
                  FutureWarning, stacklevel=3)
    return value
