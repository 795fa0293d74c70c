r"""Scale normalisation: put gold labels on the preference scale, ``r -> c * r``.

Gold labels (rubric points, expert grades) and preference labels (win rates,
vote shares) live on different scales; the bias Delta(x) is only meaningful once
they share one (Meta-Router paper, Sec. 4, "scale normalisation"). Every method
returns a constant c > 0 with ``c * gold`` on the preference scale and is
scale-equivariant: ``estimate_scale(a * gold, preference) == estimate_scale(gold,
preference) / a`` for every a > 0.

``"amplitude"``
    ratio of the largest absolute values, :math:`c = \max_j |y_j| / \max_i |r_i|`.
    Gains are differences of two models' qualities, so 0 means "no gain" on both
    scales; using absolute values keeps 0 fixed (unlike a ratio of ranges).
``"variance"``
    ratio of standard deviations (ddof = 1), :math:`c = s_y / s_r`.
``"wasserstein"``
    the c minimising the 1-D 2-Wasserstein distance between the empirical laws
    of :math:`c\,r` and :math:`y`. With quantile functions :math:`Q_r, Q_y`,
    :math:`W_2^2(c r, y) = \int_0^1 (c Q_r(u) - Q_y(u))^2 du`, a quadratic in c,
    minimised in closed form by

    .. math:: c = \frac{\int_0^1 Q_r(u) Q_y(u)\,du}{\int_0^1 Q_r(u)^2\,du}.

    Empirical quantile functions are step functions with jumps at i / n_G and
    j / n_P; both integrals are computed exactly on the merged grid of jumps.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._checks import as_1d_float

__all__ = ["SCALE_METHODS", "estimate_scale", "resolve_scale", "wasserstein2"]

SCALE_METHODS = ("amplitude", "variance", "wasserstein")


def _merged_quantiles(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widths and values of two empirical quantile functions on their merged grid."""
    qa, qb = np.sort(a), np.sort(b)
    grid = np.union1d(np.arange(1, a.size + 1) / a.size, np.arange(1, b.size + 1) / b.size)
    grid[-1] = 1.0
    widths = np.diff(np.concatenate(([0.0], grid)))
    mid = grid - widths / 2  # a point inside every step
    ia = np.minimum(np.ceil(mid * a.size).astype(int) - 1, a.size - 1)
    ib = np.minimum(np.ceil(mid * b.size).astype(int) - 1, b.size - 1)
    return widths, qa[ia], qb[ib]


def wasserstein2(a: Any, b: Any) -> float:
    """Exact 2-Wasserstein distance between two 1-D empirical distributions.

    Parameters
    ----------
    a, b : array-like
        Samples (sizes may differ).

    Returns
    -------
    float

    Examples
    --------
    >>> from metarouter_stats.scaling import wasserstein2
    >>> wasserstein2([0.0, 1.0], [1.0, 2.0])
    1.0
    """
    a = as_1d_float(a, "a")
    b = as_1d_float(b, "b")
    w, qa, qb = _merged_quantiles(a, b)
    return float(np.sqrt(np.sum(w * (qa - qb) ** 2)))


def estimate_scale(gold: Any, preference: Any, method: str = "variance") -> float:
    """Estimate the constant c that puts gold labels on the preference scale.

    Parameters
    ----------
    gold : array-like of shape (n_gold,)
        Gold-standard labels (at least 2, not all zero / not constant for "variance").
    preference : array-like of shape (n_preference,)
        Preference-based labels.
    method : {"amplitude", "variance", "wasserstein"}, default "variance"
        See the module docstring for each formula.

    Returns
    -------
    float
        c > 0 such that ``c * gold`` is on the preference scale.

    Raises
    ------
    ValueError
        Unknown method, fewer than 2 labels, degenerate labels (zero spread), or a
        Wasserstein fit with c <= 0 (gold and preference quantiles point in
        opposite directions: check the sign convention of the labels).

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> mrs.estimate_scale([-4.0, 0.0, 4.0], [-1.0, 0.0, 1.0], method="variance")
    0.25
    >>> mrs.estimate_scale([-4.0, 0.0, 4.0], [-1.0, 0.0, 1.0], method="wasserstein")
    0.25
    """
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    for name, arr in (("gold", g), ("preference", p)):
        if arr.size < 2:
            raise ValueError(f"`{name}` must hold at least 2 labels to estimate a scale; got {arr.size}.")
    if method not in SCALE_METHODS:
        raise ValueError(f"`method` must be one of {SCALE_METHODS}; got {method!r}.")
    # Each side is divided by its largest magnitude first (every formula is homogeneous of
    # degree one in each side), so that labels near the float limits neither overflow nor
    # underflow; the factors come back as their ratio.
    sg, sp = float(np.max(np.abs(g))), float(np.max(np.abs(p)))
    if not (sg > 0 and sp > 0):
        which = "gold" if not sg > 0 else "preference"
        raise ValueError(
            f"`{which}` labels have no spread (all equal or all zero), so `method={method!r}` "
            "cannot estimate a scale; pass a known scale as a number instead."
        )
    gn, pn = g / sg, p / sp
    if method == "amplitude":
        num, den = 1.0, 1.0
    elif method == "variance":
        num, den = float(np.std(pn, ddof=1)), float(np.std(gn, ddof=1))
    else:
        w, qg, qp = _merged_quantiles(gn, pn)
        num, den = float(np.sum(w * qg * qp)), float(np.sum(w * qg * qg))
    if not (den > 0 and num > 0):
        which = "gold" if not den > 0 else "preference"
        if method == "wasserstein" and den > 0:
            raise ValueError(
                "`method='wasserstein'` gives c <= 0: the gold and preference quantiles are "
                "negatively aligned. Check that both labels measure the gain of the same "
                "primary model, or use method='variance'."
            )
        raise ValueError(
            f"`{which}` labels have no spread (all equal or all zero), so `method={method!r}` "
            "cannot estimate a scale; pass a known scale as a number instead."
        )
    c = float(num / den) * (sp / sg)
    if not (np.isfinite(c) and c > 0):
        raise ValueError(
            f"The scale constant is not a positive finite number (c = {c!r}): gold labels reach {sg:.3g} and "
            f"preference labels {sp:.3g}, a ratio beyond floating point. Rescale the labels to comparable units."
        )
    return c


def resolve_scale(scale: Any, gold: np.ndarray, preference: np.ndarray) -> float:
    """Turn a ``scale`` argument (method name, positive number or None) into c."""
    if scale is None:
        return 1.0
    if isinstance(scale, str):
        if scale not in SCALE_METHODS:
            raise ValueError(f"`scale` must be None, a positive number or one of {SCALE_METHODS}; got {scale!r}.")
        return estimate_scale(gold, preference, method=scale)
    if isinstance(scale, numbers.Real) and not isinstance(scale, bool):
        value = float(scale)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"`scale` must be a positive finite number; got {scale!r}.")
        return value
    raise TypeError(
        f"`scale` must be None, a positive number or one of {SCALE_METHODS}; got {scale!r}."
    )
