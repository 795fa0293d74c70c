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
the rates 0.2-0.8 is sup-t (``critical_value`` of the resampling layer), its
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

from typing import Any

import numpy as np

from .._checks import as_1d_float, as_rng, check_fraction, check_names, check_resamples
from .._ranking import block_starts, k_for_rate
from .._resampling import multiplier_draws, prefer_gold_only, small_sample_rule, tune_power
from .._results import frozen_array
from .curves import check_rates
from .results import RouterEvaluation, combine_components

__all__ = ["DEFAULT_EVAL_RATES", "MIN_GOLD_PROBABILITY", "evaluate_routers"]

DEFAULT_EVAL_RATES = np.round(np.linspace(0.0, 1.0, 21), 10)


# --------------------------------------------------------------------------- the computation


def _blocks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by score descending and the start of each block of tied scores."""
    order = np.argsort(-scores, kind="stable")
    return order, block_starts(scores[order])


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
        power[j], intercept[j] = tune_power(z[gold_idx], F_gold, g_gold, ip_gold, u_mean[j], n_gold / n)
        _, intercept0[j] = tune_power(z[gold_idx], F_gold[:, :0], g_gold, ip_gold, u_mean[j][:, :0], n_gold / n)
    # the point estimate (unit weights) and the draws, in blocks of draws drawn when used: same numbers for any
    # block size, and memory holds one block (CHUNK x n), not n_boot x n
    row = 0
    for W in multiplier_draws(gen, n_boot, n, point=True):
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
            infl[j, k], dfs[j, k] = small_sample_rule(z_gold[:, j, k], ip_gold, p + 1)
            infl0[j, k], dfs0[j, k] = small_sample_rule(z_gold[:, j, k], ip_gold, 1)
    gold_raw = gold_values[1:].std(axis=0, ddof=1)
    values = combine_components(comps, power, intercept)
    if p:  # small-sample guard: where the gold-only interval is shorter, that estimate is used (lambda = 0)
        fall = prefer_gold_only(values[1:].std(axis=0, ddof=1), infl, dfs, gold_raw, infl0, dfs0, level)
        power[fall], intercept[fall] = 0.0, intercept0[fall]  # so that combine_components reproduces gold_values there
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
