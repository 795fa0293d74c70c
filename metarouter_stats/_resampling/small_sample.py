"""The small-sample rule of the package's t intervals: SE inflation, degrees of freedom, t quantiles.

Used by every prediction-powered estimate (router evaluation and cost-quality evaluation): an
estimate that is a weighted sum of residuals over the gold rows, with some coefficients tuned
on the same rows, gets a Student-t interval whose width says how few effective gold rows carry it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .bands import critical_value, t_quantile

__all__ = ["prefer_gold_only", "small_sample_rule", "t_quantile", "uniform_t_critical"]


def small_sample_rule(zc: np.ndarray, ip: np.ndarray, k: int) -> tuple[float, float]:
    """(SE inflation, degrees of freedom) of an estimand with contrast ``zc`` on the gold rows.

    Only gold rows with a non-zero contrast carry information (for a paired difference: the
    rows the two routers route differently). The estimate is a weighted sum
    sum_i a_i e_i of residuals over those rows, with a_i = z_i / pi_i (``ip`` = 1 / pi), and its
    variance estimate sum_i a_i^2 e_i^2. Two corrections follow from that form:

    * **Inflation**: with n_e = (sum 1/pi)^2 / sum 1/pi^2 (Kish's effective number) and ``k``
      tuned coefficients (lambda's and beta, fitted on the same rows), the residuals' variance is
      under-estimated by about (n_e - 1 - k) / n_e; the SE is inflated by the square root of its
      inverse (the usual regression correction).
    * **Degrees of freedom** (Satterthwaite; the Bell-McCaffrey rule that Imbens and Kolesar
      2016 recommend for few effective observations): under a homoskedastic working model the
      variance estimate is a weighted sum of chi-square(1) terms with weights a_i^2, whose
      effective df is n_s = (sum a^2)^2 / sum a^4; the fitted coefficients take their share,
      df = n_s (n_e - 1 - k) / n_e (at least 1). With equal probabilities and a constant
      |z| (a paired difference, or a mean: z = 1) this is n_e - 1 - k, the plain regression rule;
      when a few rows carry large weights (gold selected on x) or a few rows carry the contrast
      (rates near 0 or 1), n_s is much smaller than n_e and the Student-t quantile widens to say so.

    Examples
    --------
    >>> infl, df = small_sample_rule(np.ones(20), np.full(20, 5.0), k=1)
    >>> round(infl, 4), df
    (1.0541, 18.0)
    """
    nz = np.abs(zc) > 1e-12
    if not nz.any():
        return 1.0, np.inf
    w = ip[nz]
    n_e = float(w.sum() ** 2 / np.sum(w * w))
    if not np.isfinite(n_e) or np.all(ip <= 1.0 + 1e-12):  # gold everywhere (pi = 1): nothing tuned, nothing to correct
        return 1.0, np.inf
    a2 = (w * zc[nz]) ** 2
    n_s = float(a2.sum() ** 2 / np.sum(a2 * a2))
    resid = max(n_e - 1.0 - k, 1.0)
    df = max(n_s * resid / n_e, 1.0)
    return float(np.sqrt(n_e / resid)), df


def prefer_gold_only(sd: Any, infl: Any, df: Any, sd0: Any, infl0: Any, df0: Any, level: float) -> Any:
    """Small-sample guard of the power tuning: True where the gold-only interval is the shorter one.

    PPI++'s tuned weights make the estimate never *asymptotically* less precise than gold-only
    evaluation, but each tuned coefficient costs a degree of freedom: where an estimand rests on a
    handful of effective gold rows (strongly unequal probabilities, rates near 0 or 1) the
    Student-t quantile of the tuned estimate can outgrow its variance gain. The tuned estimate is
    kept where t(df) x SE <= t(df0) x SE0, i.e. where it gives the shorter interval, and the
    gold-only estimate (lambda = 0) is used otherwise: the finite-sample form of "never worse
    than gold-only". The choice depends on the SEs alone, not on the estimates.
    """
    return t_quantile(level, df0) * np.asarray(sd0) * infl0 < t_quantile(level, df) * np.asarray(sd) * infl


def uniform_t_critical(est: np.ndarray, draws: np.ndarray, raw_se: np.ndarray, df: np.ndarray, level: float) -> float:
    """Sup-t critical value of the raw draws, scaled by t / z at the smallest df (the small-sample rule)."""
    crit = critical_value(est, draws, raw_se, "uniform", level)
    live = raw_se > 0
    dmin = float(np.min(df[live])) if live.any() else np.inf
    return float(crit * t_quantile(level, dmin) / t_quantile(level, np.inf))
