r"""Gold-efficient evaluation of fixed routers: prediction-powered EG(rho) with intervals.

The question a user routes by: sending the share rho of queries to the primary model by
this router, how much gold-standard quality is gained over a random router? For a fixed
router with scores s(x) and the rate-rho quantile q_rho of s(X) on the query population,

.. math:: \theta(\rho) = E[\,g\,(a_\rho(X) - \rho)\,],\qquad a_\rho(x) = 1\{s(x) > q_\rho\},

the per-query efficiency gain of :func:`~metarouter_stats.efficiency_gain` (ties in
expectation) in population form; g is the gold gain (gold scale).

**Estimator** (prediction-powered inference with power tuning, PPI++; Angelopoulos, Bates,
Fannjiang, Jordan and Zrnic 2023; Angelopoulos, Duchi and Zrnic 2024). Every evaluation
query i has a score, a *pseudo-gold* value f_i (for example the corrected preference label
:math:`(y_i + \hat\Delta(x_i)) / c`, see :func:`pseudo_gold`) and, on a subset, a gold label
g_i, observed with probability :math:`\pi_i` (known by design; ``n_gold / n`` for a
random subset). With :math:`z_i = a_i - k/n` from the ranking of **all** n queries
(k = round(rho n)),

.. math::

    \hat\theta_\lambda = \lambda\,\frac1n\sum_{i} z_i f_i
        + \frac{\sum_{i \in G} \pi_i^{-1} z_i (g_i - \lambda f_i)}{\sum_{i\in G}\pi_i^{-1}},

unbiased (to first order) for any fixed :math:`\lambda` and any f that was not fitted on
these gold rows: the second term rectifies the prediction's error. :math:`\lambda` is tuned
per estimand to minimise the asymptotic variance,
:math:`\hat\lambda = \sum_G w_i \tilde u_i \tilde v_i / \sum_G w_i \tilde u_i^2` with
:math:`u = z f`, :math:`v = z g` centred and :math:`w_i = \pi_i^{-1}(\pi_i^{-1} - 1)`, so the
estimate is never (asymptotically) less precise than gold-only evaluation, which is
:math:`\lambda = 0` exactly (also what you get with ``pseudo_gold=None``). With gold on
every query (:math:`\pi \equiv 1`) the estimate is :func:`~metarouter_stats.efficiency_gain`'s
``per_query`` curve exactly.

**Intervals**: a multiplier (Bayesian) bootstrap over evaluation queries, exponential
weights, in which each draw **re-estimates the threshold** (the weighted rate-rho quantile)
and the gold-row normalisation, with :math:`\lambda` held at its estimate (its error is of
second order). Pointwise intervals use the bootstrap SE and Student-t quantiles under a small-sample
rule (only gold rows with a non-zero contrast inform an estimand: for a paired difference,
the rows the two routers route differently; with n_e of them and k tuned coefficients the
SE is inflated by sqrt(n_e / (n_e - 1 - k)), and df is Satterthwaite's effective number
of the weights z / pi scaled by (n_e - 1 - k) / n_e, see ``_dof``). A small-sample guard
keeps the tuned estimate only where its Student-t interval is the shorter one and uses the
gold-only estimate (:math:`\lambda = 0`) elsewhere, so that no interval is longer than
gold-only evaluation's under the same rule (``RouterEvaluation.gold_only_df``); the uniform band over
the rates 0.2-0.8 is sup-t (:func:`~metarouter_stats.inference.critical_value`), its
critical value scaled by the same t / z ratio.
Everything is linear in the per-query contrast, so differences between routers (paired on
the same queries and draws, with their own tuned :math:`\lambda`) and areas come from the
same draws.

**What the intervals cover**: the value of *these fitted routers* (and of this pseudo-gold
function) on the population the evaluation queries are drawn from, conditional on the
routers; not the value of the training procedure (another training set of the same size
would give another router; see Bates, Hastie and Tibshirani 2023 on what cross-validation
estimates). Validity needs the gold labels to be observed with the stated probabilities
(random subset, or known per-query probabilities) and the pseudo-gold function not to have
been fitted on the evaluation gold rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold

from .._checks import as_1d_float, as_rng, check_fraction, check_names, check_positive_int, check_resamples
from .._ranking import k_for_rate
from .._results import ResultMixin, frozen_array, new_axes, router_style
from ..cate.paired import paired_queries
from ..data import RoutingData
from ..evaluation import check_rates, cost_quality_frontier
from .bands import KINDS, critical_value

__all__ = [
    "RouterEvaluation", "RouterComparison", "ScalarEstimate", "cost_quality_interval", "cross_fit_scores", "evaluate_routers",
    "pseudo_gold",
]

DEFAULT_EVAL_RATES = np.round(np.linspace(0.0, 1.0, 21), 10)
_CHUNK = 16  # bootstrap draws per block of work: small blocks stay in cache (4x faster than 256 at n = 5,000)
_TARGET = (
    "per-query EG(rho) of each fixed router on the evaluation query population "
    "(conditional on the fitted routers and the pseudo-gold function)"
)


def pseudo_gold(router: Any, X: Any, preference: Any = None) -> np.ndarray:
    """Pseudo-gold gains for evaluation: corrected preference labels where there are any.

    ``(y + Delta_hat(x)) / c`` on queries with a preference label y (the router's bias model on
    the preference scale, rescaled to gold), and the router's own prediction
    ``router.predict_gain(x)`` where there is none. The router (its bias model and c) must not
    have been fitted on the gold rows that will rectify it.

    Parameters
    ----------
    router : fitted MetaRouter (or any router with ``predict_gain``, ``predict_bias`` and ``scale_``)
    X : array-like of shape (n, d)
        Evaluation queries.
    preference : array-like of shape (n,), optional
        Preference gains, NaN where a query has none. None: the router's prediction everywhere.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=50, rng=0)
    >>> r = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    >>> y = np.where(np.arange(50) < 40, s.eta(s.X_test), np.nan)
    >>> pseudo_gold(r, s.X_test, y).shape
    (50,)
    """
    prediction = np.asarray(router.predict_gain(X), dtype=float).reshape(-1)
    if preference is None:
        return prediction
    y = np.asarray(preference, dtype=float).reshape(-1)
    if y.shape != prediction.shape:
        raise ValueError(f"`preference` must have one entry per row of `X` ({prediction.size}); got {y.size}.")
    if np.isinf(y).any():
        raise ValueError("`preference` must be finite or NaN (no label); got infinite values.")
    has = ~np.isnan(y)
    if not hasattr(router, "predict_bias") or not hasattr(router, "scale_"):
        raise TypeError("`router` needs `predict_bias` and `scale_` to correct preference labels (a fitted MetaRouter).")
    out = prediction.copy()
    if has.any():
        rows = X.iloc[has] if isinstance(X, pd.DataFrame) else np.asarray(X)[has]  # keep the feature names
        delta = np.asarray(router.predict_bias(rows, units="preference"), dtype=float).reshape(-1)
        out[has] = (y[has] + delta) / float(router.scale_)
    return out


# --------------------------------------------------------------------------- the computation


def _blocks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by score descending and the start of each block of tied scores."""
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    return order, starts


def _boundary(weights: np.ndarray, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary block j (b, len(rho)) of the weighted top-rho share and the fraction of it taken.

    ``weights`` (b, m blocks) are block weights in score order (ties form one block, taken in
    expectation: the fraction of the block that completes the share).
    """
    cw = np.cumsum(weights, axis=1)
    total = cw[:, -1]
    last = weights.shape[1] - 1
    j = np.empty((weights.shape[0], rho.size), dtype=np.intp)
    for b in range(weights.shape[0]):
        j[b] = np.searchsorted(cw[b], rho * total[b], side="left")
    np.minimum(j, last, out=j)
    rows = np.arange(weights.shape[0])[:, None]
    wj = weights[rows, j]
    prev = cw[rows, j] - wj
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(np.where(wj > 0, (rho[None, :] * total[:, None] - prev) / np.where(wj > 0, wj, 1.0), 0.0), 0.0, 1.0)
    return j, frac


def _top_dense(col: np.ndarray, j: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Top-share sums of a dense block column (b, m): everything before block j plus frac of it."""
    rows = np.arange(col.shape[0])[:, None]
    cc = np.cumsum(col, axis=1)
    cj = col[rows, j]
    return cc[rows, j] - cj + frac * cj


def _top_sparse(vals: np.ndarray, blocks: np.ndarray, j: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """The same for a column that is non-zero only in the (ascending) ``blocks``, values (b, len(blocks)).

    Gold rows are a small share of the evaluation queries: summing over them only is what makes
    the gold-row components cheap (a cumulative sum over n_gold, not n, per draw).
    """
    b = vals.shape[0]
    cum = np.concatenate((np.zeros((b, 1)), np.cumsum(vals, axis=1)), axis=1)
    m = np.searchsorted(blocks, j, side="left")  # gold blocks strictly before the boundary block
    rows = np.arange(b)[:, None]
    before = cum[rows, m]
    at = np.zeros_like(frac)
    hit = m < blocks.size
    mm = np.where(hit, m, 0)
    hit &= blocks[mm] == j
    at[hit] = vals[np.broadcast_to(rows, j.shape)[hit], mm[hit]]
    return before + frac * at


def _components(
    order: np.ndarray, starts: np.ndarray, W: np.ndarray, F: np.ndarray, rg: np.ndarray, RF: np.ndarray,
    r: np.ndarray, rho: np.ndarray,
) -> np.ndarray:
    """(2 + 2p, b, len(rho)): Bg, Bz, A_1..A_p, Bf_1..Bf_p.

    A_j is the weighted mean over all queries of W z f_j; Bg, Bz and Bf_j are Hajek means over
    the gold rows of W z g, W z and W z f_j (``rg`` = g / pi, ``RF`` = f / pi, ``r`` = 1 / pi on
    gold rows, 0 elsewhere).
    """
    p = F.shape[1]
    n = order.size
    Ws = W[:, order]
    ties = starts.size != n
    wb = np.add.reduceat(Ws, starts, axis=1) if ties else Ws
    j, frac = _boundary(wb, rho)
    # gold rows: their blocks in score order, and per-block sums of the sparse columns
    pos = np.empty(n, dtype=np.intp)
    pos[order] = np.arange(n)
    block_of_pos = np.repeat(np.arange(starts.size), np.diff(np.append(starts, n)))
    gold = np.flatnonzero(r)
    gold = gold[np.argsort(pos[gold], kind="stable")]
    gblock = block_of_pos[pos[gold]]
    ub, first = np.unique(gblock, return_index=True)
    Wg = W[:, gold]
    sparse = [rg, r] + [RF[:, k] for k in range(p)]
    sparse_tops = [_top_sparse(np.add.reduceat(Wg * v[gold], first, axis=1), ub, j, frac) for v in sparse]
    dense_tops = []
    for k in range(p):
        col = Ws * F[order, k]
        dense_tops.append(_top_dense(np.add.reduceat(col, starts, axis=1) if ties else col, j, frac))
    tops = sparse_tops[:2] + dense_tops + sparse_tops[2:]
    vecs = [rg, r] + [F[:, k] for k in range(p)] + [RF[:, k] for k in range(p)]
    wsum = W.sum(axis=1)[:, None]
    rsum = (Wg @ r[gold])[:, None]
    dens = [rsum, rsum] + [wsum] * p + [rsum] * p
    out = np.empty((len(vecs), W.shape[0], rho.size))
    for i, (top, v, den) in enumerate(zip(tops, vecs, dens, strict=True)):
        total = (Wg @ v[gold]) if i not in range(2, 2 + p) else W @ v
        out[i] = (top - rho[None, :] * total[:, None]) / den
    ends = (rho <= 0) | (rho >= 1)  # nobody or everybody routed: EG is 0 by definition
    out[:, :, ends] = 0.0
    return out


def _contrast_z(order: np.ndarray, starts: np.ndarray, n: int, rho: np.ndarray) -> np.ndarray:
    """Per-query z = a - rho (ties in expectation), shape (n, len(rho)), unit weights."""
    sizes = np.diff(np.append(starts, n))
    cw = np.cumsum(sizes)
    z = np.empty((n, rho.size))
    block_of = np.repeat(np.arange(starts.size), sizes)
    for k, rk in enumerate(rho):
        target = rk * n
        j = min(int(np.searchsorted(cw, target, side="left")), starts.size - 1)
        prev = cw[j] - sizes[j]
        frac = min(max((target - prev) / sizes[j], 0.0), 1.0)
        a_block = np.where(np.arange(starts.size) < j, 1.0, 0.0)
        a_block[j] = frac
        a_sorted = a_block[block_of]
        zk = np.empty(n)
        zk[order] = a_sorted - rk
        if rk <= 0 or rk >= 1:
            zk[:] = 0.0
        z[:, k] = zk
    return z


def _tune(zc: np.ndarray, F: np.ndarray, g: np.ndarray, ip: np.ndarray, u_bar: np.ndarray, share: float,
          use_z: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Variance-minimising (lambda, beta) per contrast column, from the gold rows.

    ``zc`` (n_gold, m) are the contrasts on the gold rows, ``F`` (n_gold, p) the gold rows'
    pseudo-gold columns, ``g`` / ``ip`` their gold gains and 1 / pi, ``u_bar`` (m, p) the
    all-query means of z f_j, ``share`` n_gold / n. The rectifier's control variates are the
    z f_j (whose all-query means are known up to O(1/n)) and z (whose all-query mean is exactly
    0); the normal equations of the estimator's first-order variance, with weights
    1/pi (1/pi - 1), are solved per column:
    ``[[C_uu, C_uz], [(1 - share) C_uz', C_zz]] [lambda; beta] = [C_uv; C_zv]``.
    Returns lambda (m, p) and beta (m,); zeros where nothing is estimable (gold everywhere).
    """
    m, p = zc.shape[1], F.shape[1]
    lam, beta = np.zeros((m, p)), np.zeros(m)
    w = ip * (ip - 1.0)
    if not np.any(w > 0):
        return lam, beta
    sw = float(np.sum(ip))
    for k in range(m):
        z = zc[:, k]
        v = z * g
        vt = v - np.sum(ip * v) / sw
        blocks: list[np.ndarray] = [z[:, None] * F - u_bar[k][None, :]] if p else []
        if use_z:
            blocks.append((z - np.sum(ip * z) / sw)[:, None])
        if not blocks:
            continue
        X = np.hstack(blocks)
        M = (X * w[:, None]).T @ X
        rhs = (X * w[:, None]).T @ vt
        if use_z and p:
            M[p, :p] *= 1.0 - share
        scale = np.sqrt(np.maximum(np.diag(M), 1e-300))
        Ms = M / np.outer(scale, scale)
        coef = np.linalg.lstsq(Ms, rhs / scale, rcond=1e-10)[0] / scale
        lam[k] = coef[:p]
        beta[k] = coef[p] if use_z else 0.0
    return lam, beta


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
    _title = "Estimate with a bootstrap interval"

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """``(low, high)`` at another level, from the same draws."""
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if self.interval == "percentile":
            lo, hi = np.nanquantile(self.draws, [0.5 - level / 2, 0.5 + level / 2])
            return float(lo), float(hi)
        z = float(_tq(level, self.df))
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
    pointwise_low, pointwise_high, uniform_low, uniform_high : ndarray
        Pointwise intervals and the sup-t band over the rates in ``uniform_range`` (NaN outside).
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
    pointwise_low: np.ndarray
    pointwise_high: np.ndarray
    uniform_low: np.ndarray
    uniform_high: np.ndarray
    p_values: np.ndarray
    area: ScalarEstimate
    confidence_level: float
    sup_t: np.ndarray
    uniform_range: tuple[float, float]
    _title = "Paired comparison of two routers (EG per query, gold scale)"

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
        for r, e, lo, hi, p in zip(self.rates, self.estimate, self.pointwise_low, self.pointwise_high, self.p_values,
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
            "gold_only_std_error": self.gold_only_std_error, "pointwise_low": self.pointwise_low,
            "pointwise_high": self.pointwise_high, "uniform_low": self.uniform_low, "uniform_high": self.uniform_high,
            "p_value": self.p_values,
        })

    def plot(self, ax: Any = None) -> Any:
        """Difference with pointwise (dark) and uniform (light) bands; returns the Axes."""
        ax = new_axes(ax)
        ax.fill_between(self.rates, self.uniform_low, self.uniform_high, alpha=0.15, color="C0", label="uniform band")
        ax.fill_between(self.rates, self.pointwise_low, self.pointwise_high, alpha=0.3, color="C0", label="pointwise")
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
        lam, beta = _tune(zc, self.f_gold, self.g_gold, self.inv_pi_gold, ubar, share)
        _, beta0 = _tune(zc, self.f_gold[:, :0], self.g_gold, self.inv_pi_gold, ubar[:, :0], share)
        return lam[0], float(beta[0]), float(beta0[0])

    def _contrast(self, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lambda, values (1 + B), gold-only values (1 + B)) of a linear contrast."""
        lam, beta, beta0 = self._tuning(kappa)
        comp = np.tensordot(self.components, kappa, axes=([2, 3], [0, 1]))  # (2 + 2p, 1 + B)
        p = self.f_gold.shape[1]
        bg, bz, a, bf = comp[0], comp[1], comp[2:2 + p], comp[2 + p:]
        return lam, bg - beta * bz + lam @ (a - bf), bg - beta0 * bz

    def _trapezoid(self, low: float, high: float) -> np.ndarray:
        r = self.rates
        inside = (r >= low - 1e-12) & (r <= high + 1e-12)
        if inside.sum() < 2 or abs(r[inside][0] - low) > 1e-9 or abs(r[inside][-1] - high) > 1e-9:
            raise ValueError(
                f"The area from {low} to {high} needs both ends on the rate grid and at least two rates; "
                f"this evaluation's rates are {r.tolist()}. Evaluate with `rates` that include them."
            )
        w = np.zeros(r.size)
        idx = np.flatnonzero(inside)
        for i0, i1 in zip(idx[:-1], idx[1:], strict=True):
            h = r[i1] - r[i0]
            w[i0] += h / 2
            w[i1] += h / 2
        return w

    def _contrast_dof(self, kappa: np.ndarray) -> tuple[float, float, float, float]:
        """(inflation, df) of a contrast with its tuning, and of its gold-only version (beta only)."""
        zc = np.tensordot(self.z_gold, kappa, axes=([1, 2], [0, 1]))
        p = self.f_gold.shape[1]
        return (*_dof(zc, self.inv_pi_gold, p + 1), *_dof(zc, self.inv_pi_gold, 1))

    def _scalar(self, name: str, values: np.ndarray, gold_only: np.ndarray | None, target: str,
                test_zero: bool = True, kappa: np.ndarray | None = None) -> ScalarEstimate:
        infl, df, infl0, df0 = self._contrast_dof(kappa) if kappa is not None else (1.0, np.inf, 1.0, np.inf)
        raw0 = float(np.std(gold_only[1:], ddof=1)) if gold_only is not None else float("nan")
        go = raw0 * infl0
        used = True
        if kappa is not None and gold_only is not None and self.has_pseudo_gold and bool(_prefer_gold_only(
                np.std(values[1:], ddof=1), infl, df, raw0, infl0, df0, self.confidence_level)):
            values, infl, df, used = gold_only, infl0, df0, False
        est, draws = float(values[0]), values[1:]
        se = float(np.std(draws, ddof=1)) * infl
        z = float(_tq(self.confidence_level, df))
        p = float(2 * stats.t.sf(abs(est) / se, df)) if (test_zero and se > 0) else float("nan")
        return ScalarEstimate(name=name, estimate=est, std_error=se, low=est - z * se, high=est + z * se,
                              confidence_level=self.confidence_level, gold_only_std_error=go, p_value=p,
                              draws=frozen_array(draws), target=target, df=df, used_pseudo_gold=used)

    # ---------------------------------------------------------------- public views
    @property
    def effective_gold(self) -> np.ndarray:
        """Gold rows gold-only evaluation would need for the same SE: n_gold x (SE_gold / SE)^2."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.std_error > 0, self.n_gold * (self.gold_only_std_error / self.std_error) ** 2, np.nan)

    def band(
        self, router: str, kind: str = "pointwise", confidence_level: float | None = None, *,
        low: float = 0.2, high: float = 0.8,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` over the rates for one router: pointwise, or sup-t uniform over the rates in
        ``[low, high]`` (NaN outside).

        The uniform band's default range, 0.2 to 0.8, keeps the rates where a few gold rows
        decide the tails out of the supremum: at rate 0.05 with 100 gold rows about five of
        them fall among the queries routed to the primary model, too few for a normal
        approximation (the benchmark's uniform coverage over 0.05-0.95 was 0.73 at 100 gold).
        """
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}; got {kind!r}.")
        level = self.confidence_level if confidence_level is None else check_fraction(confidence_level, "confidence_level", closed=False)
        i = self._index(router)
        est, se, df = self.estimate[i], self.std_error[i], self.df[i]
        if kind == "pointwise":
            crit = _tq(level, df)
            return est - crit * se, est + crit * se
        inside = self._range(low, high)
        crit = _uniform_crit(est[inside], self._draws()[:, i, inside], se[inside] / self.inflation[i, inside],
                             df[inside], level)
        lo, hi = np.full(est.size, np.nan), np.full(est.size, np.nan)
        lo[inside], hi[inside] = est[inside] - crit * se[inside], est[inside] + crit * se[inside]
        return lo, hi

    def _range(self, low: float, high: float) -> np.ndarray:
        inside = (self.rates >= low - 1e-12) & (self.rates <= high + 1e-12)
        if not inside.any():
            raise ValueError(f"No rate of this evaluation lies in [{low}, {high}]; its rates are {self.rates.tolist()}.")
        return inside

    def _draws(self) -> np.ndarray:
        return _combine(self.components[:, 1:], self.power, self.intercept)

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
        mu = self._mean_values()
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

    def _mean_values(self) -> np.ndarray:
        """Prediction-powered E[g]: point and draws (1 + B,), its own tuned lambda."""
        p = self.f_gold.shape[1]
        ones = np.ones((self.g_gold.size, 1))
        lam, _ = _tune(ones, self.f_gold, self.g_gold, self.inv_pi_gold, self.f_mean[None, :], self.n_gold / self.n_eval,
                       use_z=False)
        comp = self.mean_components
        return comp[0] + lam[0] @ (comp[1:1 + p] - comp[1 + p:])

    def mean_gain(self) -> ScalarEstimate:
        """Average gold gain of the primary model over the secondary, E[g] (prediction-powered)."""
        return self._scalar("mean gold gain E[g]", self._mean_values(), self.mean_components[0],
                            "average gold gain of the primary model on the evaluation population")

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
            if self.has_pseudo_gold and bool(_prefer_gold_only(raw[k], infl, df[k], raw0, infl0, df0, self.confidence_level)):
                vals, raw[k], infl, df[k] = gold, raw0, infl0, df0  # small-sample guard: gold-only is shorter here
            est[k], draws[:, k] = vals[0], vals[1:]
            se[k] = raw[k] * infl
            gse[k] = raw0 * infl0
        level = self.confidence_level
        zc = _tq(level, df)
        inside = self._range(low, high)
        crit = _uniform_crit(est[inside], draws[:, inside], raw[inside], df[inside], level)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(se > 0, 2 * stats.t.sf(np.abs(est) / np.where(se > 0, se, 1.0), df), np.nan)
        kappa = np.zeros((len(self.names), m))
        w = self._trapezoid(low, high)
        kappa[ia] += w
        kappa[ib] -= w
        _, vals, gold = self._contrast(kappa)
        area = self._scalar(f"EG area of {a} minus {b} over [{low:g}, {high:g}]", vals, gold,
                            "difference of the two fixed routers' per-query EG areas", kappa=kappa)
        return _comparison(a, b, self.rates, est, se, gse, zc, crit, p, area, level, draws, low, high, raw)

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
        z = _tq(level, self.df)
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: router, rate, estimate, std_error, pointwise and uniform limits, gold-only estimate
        and SE, beta (``intercept``), effective gold rows, and lambda per pseudo-gold column (``power_k``)."""
        lo, hi = self.confidence_interval(self.confidence_level)
        frames = []
        for i, name in enumerate(self.names):
            ulo, uhi = self.band(name, "uniform")
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
            lo, hi = self.band(name, kind)
            style = router_style(name)
            ax.plot(self.rates, self.estimate[i], marker="o", markersize=3, label=name, **style)
            ax.fill_between(self.rates, lo, hi, alpha=0.15, color=style["color"])
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("primary-model usage rate")
        ax.set_ylabel("EG per query (gold scale)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        return ax


def _dof(zc: np.ndarray, ip: np.ndarray, k: int) -> tuple[float, float]:
    """Small-sample rule: (SE inflation, degrees of freedom) of an estimand with contrast ``zc`` on the gold rows.

    Only gold rows with a non-zero contrast carry information (for a paired difference: the
    rows the two routers route differently). The estimate is a weighted sum
    sum_i a_i e_i of residuals over those rows, with a_i = z_i / pi_i, and its variance
    estimate sum_i a_i^2 e_i^2. Two corrections follow from that form:

    * **Inflation**: with n_e = (sum 1/pi)^2 / sum 1/pi^2 (Kish's effective number) and ``k``
      tuned coefficients (lambda's and beta, fitted on the same rows), the residuals' variance is
      under-estimated by about (n_e - 1 - k) / n_e; the SE is inflated by the square root of its
      inverse (the usual regression correction).
    * **Degrees of freedom** (Satterthwaite; the Bell-McCaffrey rule that Imbens and Kolesar
      2016 recommend for few effective observations): under a homoskedastic working model the
      variance estimate is a weighted sum of chi-square(1) terms with weights a_i^2, whose
      effective df is n_s = (sum a^2)^2 / sum a^4; the fitted coefficients take their share,
      df = n_s (n_e - 1 - k) / n_e (at least 1). With equal probabilities and a constant
      |z| (a paired difference) this is n_e - 1 - k, the plain regression rule; when a few rows carry large weights
      (gold selected on x) or a few rows carry the contrast (rates near 0 or 1), n_s is much
      smaller than n_e and the Student-t quantile widens to say so.
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


def _prefer_gold_only(sd: Any, infl: Any, df: Any, sd0: Any, infl0: Any, df0: Any, level: float) -> Any:
    """Small-sample guard of the power tuning: True where the gold-only interval is the shorter one.

    PPI++'s tuned weights make the estimate never *asymptotically* less precise than gold-only
    evaluation, but each tuned coefficient costs a degree of freedom: where a contrast rests on a
    handful of effective gold rows (strongly unequal probabilities, rates near 0 or 1) the
    Student-t quantile of the tuned estimate can outgrow its variance gain. The tuned estimate is
    kept where t(df) x SE <= t(df0) x SE0, i.e. where it gives the shorter interval, and the
    gold-only estimate (lambda = 0) is used otherwise: the finite-sample form of "never worse
    than gold-only". The choice depends on the SEs alone, not on the estimates.
    """
    return _tq(level, df0) * np.asarray(sd0) * infl0 < _tq(level, df) * np.asarray(sd) * infl


def _uniform_crit(est: np.ndarray, draws: np.ndarray, raw_se: np.ndarray, df: np.ndarray, level: float) -> float:
    """Sup-t critical value of the raw draws, scaled by t / z at the smallest df (the small-sample rule)."""
    crit = critical_value(est, draws, raw_se, "uniform", level)
    live = raw_se > 0
    dmin = float(np.min(df[live])) if live.any() else np.inf
    return float(crit * _tq(level, dmin) / _tq(level, np.inf))


def _tq(level: float, df: Any) -> Any:
    """Two-sided Student-t quantile at ``level`` (normal where df is infinite)."""
    return stats.t.ppf(0.5 + level / 2, df)


def _combine(comps: np.ndarray, power: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Bg - beta Bz + sum_j lambda_j (A_j - Bf_j) for components (2 + 2p, b, R, m)."""
    p = power.shape[-1]
    out = comps[0] - intercept[None] * comps[1]
    for k in range(p):
        out = out + power[None, :, :, k] * (comps[2 + k] - comps[2 + p + k])
    return out


def _sup_t(est: np.ndarray, draws: np.ndarray, se: np.ndarray) -> np.ndarray:
    live = se > 0
    if not live.any():
        return np.zeros(draws.shape[0])
    return np.max(np.abs(draws[:, live] - est[live]) / se[live], axis=1)


def _comparison(
    a: str, b: str, rates: np.ndarray, est: np.ndarray, se: np.ndarray, gse: np.ndarray, zc: Any, crit: float,
    p: np.ndarray, area: ScalarEstimate, level: float, draws: np.ndarray, low: float, high: float,
    raw_se: np.ndarray,
) -> RouterComparison:
    inside = (rates >= low - 1e-12) & (rates <= high + 1e-12)
    ulo, uhi = np.where(inside, est - crit * se, np.nan), np.where(inside, est + crit * se, np.nan)
    return RouterComparison(
        a=a, b=b, rates=frozen_array(rates), estimate=frozen_array(est), std_error=frozen_array(se),
        gold_only_std_error=frozen_array(gse), pointwise_low=frozen_array(est - zc * se),
        pointwise_high=frozen_array(est + zc * se), uniform_low=frozen_array(ulo),
        uniform_high=frozen_array(uhi), p_values=frozen_array(p), area=area, confidence_level=level,
        sup_t=frozen_array(_sup_t(est[inside], draws[:, inside], raw_se[inside])), uniform_range=(low, high),
    )


# --------------------------------------------------------------------------- entry point


MIN_GOLD_PROBABILITY = 1e-6  # below this one gold row's weight 1 / pi overwhelms the floating-point sums


def _check_scores(scores: Any, n: int | None) -> tuple[tuple[str, ...], list[np.ndarray]]:
    if isinstance(scores, dict):
        if not scores:
            raise ValueError("`scores` must name at least one router; got an empty dict.")
        names = tuple(check_names(scores, "scores"))
        arrays = [as_1d_float(v, f"scores[{k!r}]") for k, v in scores.items()]
    else:
        arr = np.asarray(scores, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError("`scores` must be a dict {name: scores} or an array of shape (n, n_routers).")
        names = tuple(f"router{j}" for j in range(arr.shape[1]))
        arrays = [as_1d_float(arr[:, j], f"scores[:, {j}]") for j in range(arr.shape[1])]
    sizes = {a.size for a in arrays}
    if len(sizes) != 1:
        raise ValueError(f"Every router's `scores` must have the same length; got lengths {sorted(sizes)}.")
    if n is not None and sizes != {n}:
        raise ValueError(
            f"`gold` has {n} entries but the routers' `scores` have {sizes.pop()}: give `gold` one entry per "
            "evaluation query (NaN where a query has no gold label), in the order of the scores."
        )
    return names, arrays


def evaluate_routers(
    scores: Any,
    gold: Any,
    *,
    pseudo_gold: Any = None,
    gold_probability: Any = None,
    rates: Any = None,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> RouterEvaluation:
    """Evaluate fixed routers on a partly gold-labelled evaluation set, with intervals.

    Prediction-powered (PPI++) estimates of EG(rho) per query: pseudo-gold values on every
    evaluation query, rectified by the gold labels on a subset, with the power-tuning weight
    lambda chosen per estimand so the estimate is never (asymptotically) less precise than
    gold-only evaluation; see the module docstring for the estimator and its assumptions.

    Parameters
    ----------
    scores : dict {name: array of shape (n,)} or array of shape (n, n_routers)
        Each router's scores on the evaluation queries (higher: more worth the primary model).
    gold : array-like of shape (n,)
        Gold gains, NaN where a query has no gold label (at least 2 labelled).
    pseudo_gold : array-like of shape (n,), optional
        A prediction of the gold gain on **every** query that was not fitted on these gold rows,
        typically :func:`pseudo_gold` (corrected preference labels). None: gold labels only.
    gold_probability : float or array-like of shape (n,), optional
        Probability with which each query was sent for a gold label (known by design). None:
        a random subset, ``n_gold / n`` for every query. Only the gold rows' values are used.
    rates : array-like, optional
        Strictly increasing usage rates in [0, 1]; default 0, 0.05, ..., 1.
    n_boot : int, default 1000
        Multiplier-bootstrap draws.
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator
        Seed of the bootstrap weights: same seed, same numbers.

    Returns
    -------
    RouterEvaluation
        ``estimate`` / ``std_error`` per router and rate, ``band``, ``area``, ``compare``,
        ``compare_all``, ``apgr``, ``cpt``, ``mean_gain``, and the gold-only equivalents.

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(0)
    >>> psi = rng.normal(size=2000)
    >>> gold = np.where(rng.random(2000) < 0.1, psi + rng.normal(size=2000), np.nan)
    >>> f = psi + 0.5 * rng.normal(size=2000)   # a good pseudo-gold prediction
    >>> ev = mrs.evaluate_routers({"good": psi, "random": rng.normal(size=2000)}, gold,
    ...                           pseudo_gold=f, n_boot=200, rng=0)
    >>> bool(ev.compare("good", "random").area.p_value < 0.05)
    True
    >>> bool((ev.effective_gold[0, 10] > ev.n_gold))
    True
    """
    g_all = np.asarray(gold, dtype=float).reshape(-1) if not isinstance(gold, (str, bytes)) else None
    if g_all is None or g_all.ndim != 1:
        raise TypeError("`gold` must be a 1-D array of numbers with NaN where a query has no gold label.")
    n = g_all.size
    if np.isinf(g_all).any():
        raise ValueError("`gold` must be finite or NaN (no label); got infinite values.")
    is_gold = ~np.isnan(g_all)
    n_gold = int(is_gold.sum())
    if n_gold < 2:
        raise ValueError(f"`gold` must hold at least 2 gold labels (non-NaN); got {n_gold}.")
    names, arrays = _check_scores(scores, n)
    if len(set(names)) != len(names):
        raise ValueError(f"Router names in `scores` must be unique; got {list(names)}.")
    F: np.ndarray
    if pseudo_gold is None:
        F = np.zeros((n, 0))
    else:
        F = np.asarray(pseudo_gold, dtype=float) if not isinstance(pseudo_gold, (str, bytes)) else np.empty(0)
        if F.ndim == 1:
            F = F[:, None]
        if F.ndim != 2 or F.shape[0] != n or F.shape[1] == 0:
            raise ValueError(
                f"`pseudo_gold` must be an array of shape ({n},) or ({n}, p): one prediction (or p of them) per "
                f"evaluation query; got shape {np.shape(pseudo_gold)}."
            )
        if not np.isfinite(F).all():
            raise ValueError(
                "`pseudo_gold` must be finite on every evaluation query; use mrs.pseudo_gold(router, X, preference), "
                "which falls back to the router's prediction where a query has no preference label."
            )
        copied = [j for j in range(F.shape[1]) if np.array_equal(F[is_gold, j], g_all[is_gold])]
        if copied:
            raise ValueError(
                f"`pseudo_gold` (column {copied[0]}) equals the gold label on every one of the {n_gold} gold-labelled "
                "queries: it was built from these gold labels (e.g. gold filled in where present), and the intervals "
                "assume a prediction not fitted on them. Pass the prediction on every query, gold-labelled or not "
                "(mrs.pseudo_gold(router, X, preference) with a router fitted without these gold rows)."
            )
    if gold_probability is None:
        pi = np.full(n, n_gold / n)
    else:
        pi_in = np.asarray(gold_probability, dtype=float)
        pi = np.full(n, float(pi_in)) if pi_in.ndim == 0 else pi_in.reshape(-1)
        if pi.size != n:
            raise ValueError(f"`gold_probability` must be a number or one entry per query ({n}); got {pi.size}.")
        bad = is_gold & ~((pi >= MIN_GOLD_PROBABILITY) & (pi <= 1))
        if bad.any():
            raise ValueError(
                f"`gold_probability` must be in [{MIN_GOLD_PROBABILITY:g}, 1] on every gold-labelled query; got "
                f"{int(bad.sum())} outside, the first {pi[np.flatnonzero(bad)[0]]!r}. Pass the probabilities the "
                "design used (a gold label drawn with probability below 1e-6 would weigh more than a million others)."
            )
    r = check_rates(DEFAULT_EVAL_RATES if rates is None else rates)
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    gen = as_rng(rng)
    rho = np.array([k_for_rate(float(v), n) / n for v in r])  # the rounding rule of efficiency_gain
    inv_pi = np.where(is_gold, 1.0 / np.where(is_gold, pi, 1.0), 0.0)
    g0 = np.where(is_gold, g_all, 0.0)
    rg, RF = inv_pi * g0, inv_pi[:, None] * F
    n_r, m, p = len(names), r.size, F.shape[1]
    comps = np.empty((2 + 2 * p, 1 + n_boot, n_r, m))
    mean_comps = np.empty((1 + 2 * p, 1 + n_boot))
    z_gold = np.empty((n_gold, n_r, m))
    u_mean = np.empty((n_r, m, p))
    power, intercept, intercept0 = np.zeros((n_r, m, p)), np.zeros((n_r, m)), np.zeros((n_r, m))
    prepared = [_blocks(s) for s in arrays]
    gold_idx = np.flatnonzero(is_gold)
    ip_gold, F_gold, g_gold = inv_pi[gold_idx], F[gold_idx], g_all[gold_idx]
    for j, (order, starts) in enumerate(prepared):
        z = _contrast_z(order, starts, n, rho)
        z_gold[:, j, :] = z[gold_idx]
        u_mean[j] = z.T @ F / n
        power[j], intercept[j] = _tune(z[gold_idx], F_gold, g_gold, ip_gold, u_mean[j], n_gold / n)
        _, intercept0[j] = _tune(z[gold_idx], F_gold[:, :0], g_gold, ip_gold, u_mean[j][:, :0], n_gold / n)
    # the point estimate (unit weights) and the draws, in blocks of draws: same numbers for any block size.
    # Each block is drawn when it is used, so memory holds one block (_CHUNK x n), not n_boot x n.
    def weights() -> Iterator[np.ndarray]:
        yield np.ones((1, n))
        for start in range(0, n_boot, _CHUNK):
            yield gen.standard_exponential((min(_CHUNK, n_boot - start), n))

    row = 0
    for W in weights():
        rows = slice(row, row + W.shape[0])
        for j, (order, starts) in enumerate(prepared):
            comps[:, rows, j, :] = _components(order, starts, W, F, rg, RF, inv_pi, rho)
        wsum, rsum = W.sum(axis=1), W @ inv_pi
        mean_comps[0, rows] = W @ rg / rsum
        mean_comps[1:1 + p, rows] = (W @ F).T / wsum
        mean_comps[1 + p:, rows] = (W @ RF).T / rsum
        row += W.shape[0]
    gold_values = comps[0] - intercept0[None] * comps[1]
    infl, dfs = np.ones((n_r, m)), np.full((n_r, m), np.inf)
    infl0, dfs0 = np.ones((n_r, m)), np.full((n_r, m), np.inf)
    for j in range(n_r):
        for k in range(m):
            infl[j, k], dfs[j, k] = _dof(z_gold[:, j, k], ip_gold, p + 1)
            infl0[j, k], dfs0[j, k] = _dof(z_gold[:, j, k], ip_gold, 1)
    gold_raw = gold_values[1:].std(axis=0, ddof=1)
    values = _combine(comps, power, intercept)
    if p:  # small-sample guard: where the gold-only interval is shorter, that estimate is used (lambda = 0)
        fall = _prefer_gold_only(values[1:].std(axis=0, ddof=1), infl, dfs, gold_raw, infl0, dfs0, level)
        power[fall], intercept[fall] = 0.0, intercept0[fall]  # so that _combine reproduces gold_values there
        values = np.where(fall[None], gold_values, values)
        infl, dfs = np.where(fall, infl0, infl), np.where(fall, dfs0, dfs)
    estimate, se = values[0], values[1:].std(axis=0, ddof=1) * infl
    gold_est, gold_se = gold_values[0], gold_raw * infl0
    return RouterEvaluation(
        names=names, rates=frozen_array(r), estimate=frozen_array(estimate), std_error=frozen_array(se),
        gold_only_estimate=frozen_array(gold_est), gold_only_std_error=frozen_array(gold_se),
        power=frozen_array(power), intercept=frozen_array(intercept), gold_only_intercept=frozen_array(intercept0),
        df=frozen_array(dfs), inflation=frozen_array(infl), gold_only_df=frozen_array(dfs0), n_eval=n, n_gold=n_gold, confidence_level=level,
        has_pseudo_gold=pseudo_gold is not None, components=frozen_array(comps), mean_components=frozen_array(mean_comps),
        z_gold=frozen_array(z_gold), u_mean=frozen_array(u_mean), f_mean=frozen_array(F.mean(axis=0)),
        g_gold=frozen_array(g_gold), f_gold=frozen_array(F_gold), inv_pi_gold=frozen_array(ip_gold),
    )


# --------------------------------------------------------------------------- several models under costs


def _value_at_budget(frame: pd.DataFrame, budget: float) -> pd.Series:
    """Best mean quality each router reaches at mean cost <= budget (its frontier's upper envelope)."""
    out = {}
    for name, d in frame.groupby("router", sort=False):
        c, q = d["mean_cost"].to_numpy(), d["mean_quality"].to_numpy()
        ok = c <= budget + 1e-12
        out[str(name)] = float(q[ok].max()) if ok.any() else float("nan")
    return pd.Series(out)


def cost_quality_interval(
    gold_gains: Any,
    costs: Any,
    scores: dict[str, Any],
    *,
    budget: float | None = None,
    n_boot: int = 500,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> pd.DataFrame:
    """AIQ (area under the cost-quality frontier) and the quality at a budget, with percentile intervals.

    A query bootstrap around :func:`~metarouter_stats.cost_quality_frontier` on a test set where
    every query has a gold gain for every model: each replicate resamples the queries, re-traces
    every router's frontier, the oracle's and the random reference's, and recomputes the cost
    range of the AIQ. Target: the value of these **fixed** routers (their score functions) on the
    test-query population, conditional on them (RouterBench's AIQ, with its sampling error).

    Parameters
    ----------
    gold_gains, costs : array-like of shape (n, K)
    scores : dict name -> array-like of shape (n, K)
    budget : float, optional
        Mean cost per query; also report each router's best mean quality at mean cost <= budget.
    n_boot : int, default 500
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One row per router (with ``oracle`` and ``random``): ``aiq``, ``aiq_se``, ``aiq_low``,
        ``aiq_high`` and, with a budget, ``quality_at_budget`` with its SE and interval.

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> rng = np.random.default_rng(0)
    >>> g = np.column_stack([np.zeros(300), rng.normal(0.5, 1, 300)])
    >>> c = np.column_stack([np.ones(300), 3 * np.ones(300)])
    >>> tab = mrs.cost_quality_interval(g, c, {"good": g + rng.normal(size=g.shape)}, n_boot=50, rng=0)
    >>> list(tab.columns[:4])
    ['router', 'aiq', 'aiq_se', 'aiq_low']
    """
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    g = np.asarray(gold_gains, dtype=float)
    c = np.asarray(costs, dtype=float)
    full = cost_quality_frontier(g, c, scores)
    names = list(full.areas.index)
    point = full.areas
    at_budget = _value_at_budget(full.frame, budget) if budget is not None else None
    gen = as_rng(rng)
    n = g.shape[0]
    draws, bdraws = np.empty((n_boot, len(names))), np.empty((n_boot, len(names)))
    s_arr = {k: np.asarray(v, dtype=float) for k, v in scores.items()}
    from tqdm.auto import tqdm  # noqa: PLC0415 - TTY-aware progress bar (a replicate takes ~10 ms)

    for b in tqdm(range(n_boot), desc="cost-quality bootstrap", unit="draw", leave=False, disable=None):
        idx = gen.integers(0, n, n)
        fr = cost_quality_frontier(g[idx], c[idx], {k: v[idx] for k, v in s_arr.items()})
        draws[b] = fr.areas.reindex(names).to_numpy()
        if budget is not None:
            bdraws[b] = _value_at_budget(fr.frame, budget).reindex(names).to_numpy()
    q = [0.5 - level / 2, 0.5 + level / 2]
    lo, hi = np.nanquantile(draws, q, axis=0)
    out = pd.DataFrame({"router": names, "aiq": point.to_numpy(), "aiq_se": np.nanstd(draws, axis=0, ddof=1),
                        "aiq_low": lo, "aiq_high": hi})
    if at_budget is not None:
        blo, bhi = np.nanquantile(bdraws, q, axis=0)
        out["quality_at_budget"] = at_budget.reindex(names).to_numpy()
        out["quality_at_budget_se"] = np.nanstd(bdraws, axis=0, ddof=1)
        out["quality_at_budget_low"], out["quality_at_budget_high"] = blo, bhi
    return out


# --------------------------------------------------------------------------- one data set: cross-fitting


def cross_fit_scores(
    routers: dict[str, Any], data: Any, *, folds: int = 5, rng: Any = None
) -> dict[str, Any]:
    """Out-of-fold scores of every router on every query of one data set, for :func:`evaluate_routers`.

    For a user with a single data set: each router is fitted ``folds`` times, each time without
    one fold, and scores that fold's queries (folds grouped by query id when the data has them:
    no router ever sees a label, gold or judge, of a query it scores).

    **Paired data** (query ids tie judge rows to gold rows): the evaluation units are the
    queries, one entry each, and the pseudo-gold of a query is its own judge label corrected by
    the first Meta-router fitted without its fold, ``(y + Delta_hat(x)) / c`` (:func:`pseudo_gold`;
    the router's psi_hat(x) for a query without a judge label):
    the judge label of every query, gold-labelled or not, is the same function of the query, as a
    rectifier needs, and it carries what the judge saw in that query's answers. **Otherwise**
    the units are the rows and the pseudo-gold is the first Meta-router's out-of-fold prediction
    psi_hat(x) (corrected preference labels would exist on preference rows only).

    Then ``evaluate_routers(out["scores"], out["gold"], pseudo_gold=out["pseudo_gold"])``
    estimates, with gold-labelled units treated as a random subset of all units (probability =
    their share), the **average value of the fold-wise routers**: the training procedure's value
    at (folds - 1) / folds of the data, conditional on these fits. Its intervals omit the
    variability of training itself, so they are too narrow for the procedure's expected value
    (Bates, Hastie and Tibshirani 2023 on what cross-validation estimates); read them as
    conditional on the fitted folds.

    Parameters
    ----------
    routers : dict of name -> unfitted router
    data : RoutingData
    folds : int, default 5
    rng : None, int or numpy.random.Generator
        Seed of the fold assignment.

    Returns
    -------
    dict
        ``scores`` (name -> array (m,)), ``gold`` (gold labels, NaN on units without one),
        ``pseudo_gold`` (array (m,) or None without a Meta-router), ``fold`` (array (m,)),
        ``unit`` ("query" or "row") and ``query_id`` (the units' ids, or None); m = queries on
        paired data, rows otherwise.
    """
    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData; got {type(data).__name__}.")
    if not isinstance(routers, dict) or not routers:
        raise ValueError("`routers` must be a non-empty dict name -> router.")
    folds = check_positive_int(folds, "folds", minimum=2)
    n = data.n
    seed = int(as_rng(rng).integers(2**31))
    if data.query_ids is not None:
        ids = np.asarray(data.query_ids)
        uniq, inv = np.unique(ids, return_inverse=True)
        perm = np.random.default_rng(seed).permutation(uniq.size)
        splitter = GroupKFold(n_splits=folds)
        splits = list(splitter.split(np.zeros(n), groups=perm[inv]))
    else:
        splits = list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))
    # paired design (some query carries both labels): one unit per query, its x and mean gold and judge labels
    q = None if data.query_ids is None else paired_queries(data.X, data.outcome, data.source, data.query_ids)
    by_query = q is not None and q["X"].shape[0] < n and bool(np.any(q["has_gold"] & q["has_judge"]))
    if by_query and q is not None:
        codes, unit_X, gold, judge, m = q["codes"], q["X"], q["gold"], q["judge"], q["X"].shape[0]
        unit_splits = [(np.unique(codes[tr]), np.unique(codes[te])) for tr, te in splits]
    else:
        unit_X, m = data.X, n
        gold = np.where(data.source == 1, data.outcome, np.nan)
    X_named = data.with_feature_names(unit_X)  # the names the routers record: no feature-name warnings
    fold = np.empty(m, dtype=int)
    scores = {name: np.empty(m) for name in routers}
    pseudo = None
    for k, (train_idx, test_idx) in enumerate(splits):
        units = unit_splits[k][1] if by_query else test_idx
        fold[units] = k
        train = data.subset(np.isin(np.arange(n), train_idx))
        X_test = X_named.iloc[units] if hasattr(X_named, "iloc") else X_named[units]
        for name, proto in routers.items():
            try:
                router = clone(proto).fit(train)
            except ValueError as exc:
                raise ValueError(
                    f"cross_fit_scores: router {name!r} could not be fitted without fold {k + 1} of {folds} (the other "
                    f"folds hold {train.n_gold} gold and {train.n_preference} preference rows): {exc} With few gold "
                    "labels, lower `folds` or the router's own cross-fitting (cate=DRBiasLearner(cv=...))."
                ) from None
            scores[name][units] = router.predict_gain(X_test)
            if pseudo is None and hasattr(router, "predict_bias"):
                pseudo = np.empty(m), name
            if pseudo is not None and pseudo[1] == name:
                pseudo[0][units] = (pseudo_gold(router, X_test, judge[units]) if by_query
                                    else scores[name][units])
    return {"scores": scores, "gold": gold, "pseudo_gold": None if pseudo is None else pseudo[0], "fold": fold,
            "unit": "query" if by_query else "row",
            "query_id": (np.asarray(data.query_ids)[q["first"]] if by_query and q is not None else
                         (None if data.query_ids is None else np.asarray(data.query_ids)))}
