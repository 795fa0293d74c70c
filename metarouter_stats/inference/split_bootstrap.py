r"""Statistics averaged over CDDF's sample splits, calibrated by a wild bootstrap of the whole procedure.

The heterogeneity test and the group averages of the bias halve the scored rows many times:
in each split the proxy (the learner's final stage) is fitted on an auxiliary half A and the
statistic is computed on the main half M. Chernozhukov, Demirer, Duflo and Fernandez-Val (CDDF)
aggregate the splits by the median with a doubled level (p-value ``min(1, 2 median p_s)``,
per-split intervals at level :math:`1 - \alpha/2`). That rule keeps its level whatever the
dependence between splits, and pays for it: on the package's validity benchmark the test
never rejected a constant bias (size 0.00-0.01 at 5 %) and the group intervals covered
0.995-1.000 where 0.95 was stated.

This module computes the **mean over the splits** of the per-split statistic and its law by a
**wild bootstrap that reruns the whole procedure**: scores

.. math:: \phi^*_i = m(x_i) + v_{u(i)}\, (\phi_i - m(x_i)),

with multipliers :math:`v_u` i.i.d. with mean 0 and variance 1 (Exp(1) - 1, drawn by
:func:`~metarouter_stats._resampling.multiplier_draws`), one per query :math:`u(i)` (a
cluster wild bootstrap when the scores pair a query's rows), every split's proxy refitted on
:math:`\phi^*_A` and every statistic recomputed on :math:`\phi^*_M`; the embeddings, the
splits and the cross-fitted nuisances are held fixed. Two centres :math:`m`:

* **the null** (:math:`m` = the scores' weighted mean, a constant bias): the bootstrap
  statistics follow the null law of the averaged statistic, and the p-value is the share of
  them at least as extreme as the observed one, ``(1 + #{T* >= T}) / (1 + B)``;
* **a fit** (:math:`m` = the final stage fitted on all the scores): the bootstrap errors
  (averaged group means of :math:`\phi^*` minus those of :math:`m` over the same bootstrap
  groups) give the standard errors of the averaged group means and a sup-t critical value.

Why this is valid. Given the embeddings, a split's statistic is a function of the scores'
noise. Under a constant bias the proxy is itself fitted noise, so the averaged slope is a
degenerate quadratic form in the noise (noise on A times noise on M, summed over splits that
share rows); its law is not normal and its scale is not the per-split one, which is why
neither a normal reference for the averaged t nor a sandwich SE that treats the proxies as
fixed is right (the latter misses the covariance between splits in which the same two rows
swap halves). The multiplier bootstrap reproduces the law of such degenerate forms (Dehling
and Mikosch, 1994, for degenerate U-statistics; Mammen, 1993, and Cameron, Gelbach and
Miller, 2008, for the wild and cluster wild bootstraps of regression statistics). Like CDDF's
rule it is conditional on the cross-fitted nuisances. ``benchmarks/validity/run.py fits``
measures size, power and coverage against the median rule on the same fits.

The proxies of a linear-smoother final stage (ridge or least squares with a fixed penalty,
possibly after x-only transformers such as a spline basis) are refitted for a block of
bootstrap replicates at once (one multi-output fit per split and block), which equals the
column-by-column refits; any other final stage is refitted column by column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler

from .._checks import as_rng
from ..cate.final_stage import FINAL_ALPHAS, Blend, SelectedFinalStage
from ..cate.ridge import GramRidgeCV
from .._resampling import multiplier_draws

__all__ = [
    "AGGREGATIONS", "SplitProxies", "blp_statistics", "group_statistics", "halves", "is_linear_smoother", "p_text",
    "main_units", "proxy_stage", "refit_proxy",
    "quantile_groups", "resolve_aggregation", "wild_draws",
]

AGGREGATIONS = ("auto", "bootstrap", "median")
BLOCK = 64  # bootstrap replicates refitted together (one multi-output fit per split): the numbers do not depend on it
_LINEAR_STAGES = (Ridge, LinearRegression)
_X_ONLY_STEPS = (StandardScaler, SplineTransformer, PolynomialFeatures)  # transformers that never read y


def is_linear_smoother(model: Any) -> bool:
    """Whether a fitted final stage is linear in its targets with tuning fixed (so multi-output refits are exact).

    Ridge or least squares (not ``RidgeCV``, which re-tunes its penalty on the targets),
    alone or at the end of a Pipeline of x-only transformers (scalers, spline and polynomial
    bases, and unions or column selections of them: the spline sieves).
    """
    if isinstance(model, Blend):  # a fixed combination of linear smoothers is one
        return all(is_linear_smoother(est) for est in getattr(model, "estimators_", [e for _, e in model.estimators]))
    steps = [step for _, step in model.steps] if isinstance(model, Pipeline) else [model]
    return type(steps[-1]) in _LINEAR_STAGES and all(_x_only(step) for step in steps[:-1])


def _x_only(step: Any) -> bool:
    """Whether a transformer never reads y (so a basis fitted with several targets is the one fitted with one)."""
    if step == "passthrough" or type(step) in _X_ONLY_STEPS:
        return True
    if isinstance(step, Pipeline):
        return all(_x_only(s) for _, s in step.steps)
    if isinstance(step, FeatureUnion):
        return all(_x_only(s) for _, s in step.transformer_list)
    if isinstance(step, ColumnTransformer):
        return all(_x_only(s) for _, s, _ in step.transformers)
    return False


def proxy_stage(learner: Any) -> Any:
    """The final stage the splits' proxies are refitted with: None for the learner's own.

    A final stage chosen among candidates (the default stacked one) gives way to the linear
    ridge at its leave-one-out penalty on all the scores, held fixed: the proxy the package's
    size and power benchmarks measured, and a wild bootstrap about 20 times cheaper than
    refitting the spline bases of the blend in every split and replicate. Any proxy gives a
    valid test; a richer one can only sort the queries better.
    """
    try:
        final = learner.final_model_
    except (AttributeError, NotImplementedError):
        return None
    if not isinstance(final, SelectedFinalStage):
        return None
    sc = learner.scores_
    ridge = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, model=GramRidgeCV(alphas=FINAL_ALPHAS))
    return Ridge(alpha=float(ridge.alpha_), fit_intercept=ridge.fit_intercept)


def refit_proxy(learner: Any, stage: Any, X: np.ndarray, phi: np.ndarray, w: np.ndarray) -> Any:
    """``learner.refit_final`` with the proxy's stage (:func:`proxy_stage`)."""
    return learner.refit_final(X, phi, w) if stage is None else learner.refit_final(X, phi, w, model=stage)


def main_units(scores: Any, main: np.ndarray) -> np.ndarray | None:
    """The query of each main-half row when the scores pair rows (for clustered statistics), else None."""
    return None if getattr(scores, "groups", None) is None else scores.units()[0][main]


def halves(scores: Any, n_splits: int, rng: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """CDDF's random halvings (auxiliary rows, main rows) of a learner's scored rows.

    Stratified by source; when the scores pair rows by query, the queries are halved
    (stratified by whether they carry gold) and a query's rows are never apart. One integer is
    drawn from ``rng`` (the splitter's seed).
    """
    from sklearn.model_selection import StratifiedShuffleSplit  # noqa: PLC0415

    splitter = StratifiedShuffleSplit(n_splits=n_splits, test_size=0.5, random_state=int(as_rng(rng).integers(2**31 - 1)))
    if scores.groups is None:
        return list(splitter.split(scores.X, scores.source))
    unit, unit_gold = scores.units()
    return [(np.flatnonzero(np.isin(unit, a)), np.flatnonzero(np.isin(unit, m)))
            for a, m in splitter.split(np.zeros(unit_gold.size), unit_gold)]


class SplitProxies:
    """Each split's proxy, refitted on the auxiliary half of given scores, predicted on the main half.

    Parameters
    ----------
    learner : fitted bias learner with capability ``"refit_final"``
    scores : CrossFitScores
        The scored rows the splits index (the learner's, or a subset of them).
    splits : list of (aux, main) index arrays
    """

    def __init__(self, learner: Any, scores: Any, splits: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.learner, self.scores, self.splits = learner, scores, splits
        self.stage = proxy_stage(learner)
        aux = splits[0][0]
        first = refit_proxy(learner, self.stage, scores.X[aux], scores.pseudo_outcomes[aux], scores.weights[aux])
        self.linear = is_linear_smoother(first)

    def __call__(self, phi: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(main rows, proxies of shape (n_main, b)) per split, for scores ``phi`` of shape (n, b)."""
        X, w = self.scores.X, self.scores.weights
        for aux, main in self.splits:
            if self.linear:
                model = refit_proxy(self.learner, self.stage, X[aux], phi[aux], w[aux])
                proxy = np.asarray(model.predict(X[main]), dtype=float).reshape(main.size, phi.shape[1])
            else:
                proxy = np.column_stack([
                    np.asarray(refit_proxy(self.learner, self.stage, X[aux], phi[aux, j], w[aux]).predict(X[main]),
                               dtype=float).reshape(-1) for j in range(phi.shape[1])])
            yield main, proxy


def p_text(p_value: float, n_draws: int) -> str:
    """A p-value for a summary: ``"<= 1/(B+1)"`` at a bootstrap p-value's floor, else 4 significant digits."""
    if n_draws and p_value <= 1.0 / (n_draws + 1) * (1 + 1e-9):
        return f"<= {1.0 / (n_draws + 1):.2g} (the floor of {n_draws} bootstrap draws)"
    return f"{p_value:.4g}"


def resolve_aggregation(aggregation: str, proxies: SplitProxies) -> str:
    """``"auto"``: the wild bootstrap for a linear-smoother final stage, CDDF's median rule otherwise."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"`aggregation` must be one of {AGGREGATIONS}; got {aggregation!r}.")
    if aggregation == "auto":
        return "bootstrap" if proxies.linear else "median"
    return aggregation


class _Clusters:
    """Sums of rows by query (on paired scores) for the sandwich variances, or None for one row per query."""

    def __init__(self, unit: np.ndarray | None) -> None:
        if unit is None:
            self.matrix, self.n = None, 0
        else:
            codes, inverse = np.unique(unit, return_inverse=True)
            self.n = codes.size
            self.matrix = sparse.csr_matrix((np.ones(unit.size), (inverse, np.arange(unit.size))),
                                            shape=(self.n, unit.size))

    def sum(self, a: np.ndarray) -> np.ndarray:
        return a if self.matrix is None else np.asarray(self.matrix @ a)


def blp_statistics(phi: np.ndarray, proxy: np.ndarray, w: np.ndarray,
                   unit: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    r"""The BLP regression :math:`\phi = \beta_1 + \beta_2 (S - \bar S) + u` of one main half, column by column.

    Weighted least squares with HC3 standard errors, or clustered by ``unit`` (statsmodels'
    small-sample factor :math:`G/(G-1) \cdot (n-1)/(n-k)`); these equal statsmodels' ``WLS``
    fits (a test checks it). A column whose proxy is constant carries no heterogeneity: slope
    0, standard error inf, t 0, and the intercept-only fit.

    Parameters
    ----------
    phi, proxy : ndarray of shape (n, b)
    w : ndarray of shape (n,)
    unit : ndarray of shape (n,), optional

    Returns
    -------
    t, slope, slope_se, intercept, intercept_se, proxy_sd : ndarray of shape (b,)
    """
    n = w.size
    wc = w[:, None]
    total = float(w.sum())
    centred = proxy - (w @ proxy) / total
    flat = ~(np.ptp(centred, axis=0) > 1e-12 * np.maximum(1.0, np.max(np.abs(proxy), axis=0)))
    centred = np.where(flat, 0.0, centred)
    ss = w @ centred**2
    ss_safe = np.where(flat, 1.0, ss)
    intercept = (w @ phi) / total
    slope = np.where(flat, 0.0, (w @ (centred * phi)) / ss_safe)
    resid = phi - intercept - slope * centred
    clusters = _Clusters(unit)
    k = np.where(flat, 1, 2)
    if clusters.matrix is None:
        lev = wc / total + wc * centred**2 / ss_safe
        adj = (resid / (1.0 - lev)) ** 2
        var_slope = np.sum(wc**2 * centred**2 * adj, axis=0) / ss_safe**2
        var_icpt = np.sum(wc**2 * adj, axis=0) / total**2
    else:
        g = clusters.n
        factor = g / max(g - 1, 1) * (n - 1) / (n - k)
        var_slope = factor * np.sum(clusters.sum(wc * centred * resid) ** 2, axis=0) / ss_safe**2
        var_icpt = factor * np.sum(clusters.sum(wc * resid) ** 2, axis=0) / total**2
    slope_se = np.where(flat, np.inf, np.sqrt(var_slope))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(np.isfinite(slope_se) & (slope_se > 0), slope / slope_se, 0.0)
    proxy_sd = np.sqrt(ss / total)
    return t, slope, slope_se, intercept, np.sqrt(var_icpt), proxy_sd


def quantile_groups(proxy: np.ndarray, n_groups: int) -> np.ndarray:
    """Quantile bins (0 .. n_groups - 1) of each column of ``proxy`` (ties by rank, so every group is filled).

    The rank of a row is its position in a sort of its column; row r of rank k goes to bin
    ``k * n_groups // n``. One column (the observed proxies) is sorted stably, ties in row
    order; a block of bootstrap columns by quicksort (twice as fast; deterministic, but tied
    rows, such as a paired query's, may be ordered otherwise).
    """
    rows = np.ascontiguousarray(proxy.T)  # sorting contiguous rows is 2-4 times faster than strided columns
    order = np.argsort(rows, axis=1, kind="stable" if rows.shape[0] == 1 else "quicksort")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(rows.shape[1])[None, :], axis=1)
    return ((ranks * n_groups) // rows.shape[1]).T


def group_statistics(phi: np.ndarray, groups: np.ndarray, w: np.ndarray, n_groups: int,
                     unit: np.ndarray | None = None, *, std_errors: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of ``phi`` in each group, column by column, and its sandwich SE.

    The SE is the weighted mean's HC0 variance with the factor m / (m - 1), m the rows (or,
    with ``unit``, the queries: a query's rows in the group are summed first) of the group.

    Returns
    -------
    means, std_errors : ndarray of shape (b, n_groups)
        (``std_errors`` NaN when not asked for.)
    """
    n, b = phi.shape
    cells = (groups + n_groups * np.arange(b)[None, :]).ravel()  # (row, column) -> column * n_groups + group
    size = b * n_groups
    wb = np.broadcast_to(w[:, None], (n, b)).ravel()
    total = np.bincount(cells, weights=wb, minlength=size)
    means = np.bincount(cells, weights=wb * phi.ravel(), minlength=size) / total
    ses = np.full(size, np.nan)
    if std_errors:
        infl = wb * (phi.ravel() - means[cells])
        if unit is None:
            sq = np.bincount(cells, weights=infl**2, minlength=size)
            m = np.bincount(cells, minlength=size)
        else:
            codes = np.unique(unit, return_inverse=True)[1]
            n_units = int(codes.max()) + 1
            by_unit = cells * n_units + np.broadcast_to(codes[:, None], (n, b)).ravel()
            summed = np.bincount(by_unit, weights=infl, minlength=size * n_units).reshape(size, n_units)
            sq = np.sum(summed**2, axis=1)
            m = np.count_nonzero(np.bincount(by_unit, minlength=size * n_units).reshape(size, n_units), axis=1)
        ses = np.sqrt(sq / total**2 * m / np.maximum(m - 1, 1))
    return means.reshape(b, n_groups), ses.reshape(b, n_groups)


def split_average(statistic: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray], proxies: SplitProxies,
                  phi: np.ndarray) -> np.ndarray:
    """Mean over the splits of ``statistic(main, proxy, phi[main])`` (each of shape (b, k)), for scores (n, b)."""
    values = [statistic(main, proxy, phi[main]) for main, proxy in proxies(phi)]
    return np.asarray(np.sum(values, axis=0) / len(proxies.splits), dtype=float)


def wild_draws(statistic: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray], proxies: SplitProxies,
               centre: np.ndarray, n_wild: int, rng: Any) -> np.ndarray:
    """``n_wild`` wild-bootstrap replicates of the split-averaged ``statistic``, shape (n_wild, k).

    The scores of replicate b are ``centre + v_b[unit] * (phi - centre)`` with Exp(1) - 1
    multipliers per query (see the module docstring); the multipliers are drawn in replicate
    order, so the numbers depend on ``rng`` alone.
    """
    scores = proxies.scores
    unit, unit_gold = scores.units()
    resid = (scores.pseudo_outcomes - centre)[:, None]
    out = []
    for v in multiplier_draws(as_rng(rng), n_wild, unit_gold.size, chunk=BLOCK):
        phi = centre[:, None] + resid * (v.T[unit] - 1.0)
        out.append(split_average(statistic, proxies, phi))
    return np.vstack(out)
