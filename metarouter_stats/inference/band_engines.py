"""The bootstrap engines of the bias bands: the fast final-stage bootstrap and the full refit bootstrap.

Both draw through the resampling layer (rows within source, or whole queries on paired data;
Exp(1) weights for the weighted refit), so the draws depend on the seed alone, not on ``n_jobs``.
Not public: :func:`~metarouter_stats.inference.bias_interval` is the entry point.
"""

from __future__ import annotations

import dataclasses

from typing import Any, NamedTuple

import numpy as np

from .._checks import as_2d_float, as_rng
from ..cate.final_stage import fixed_penalty
from ..cate import has_capability, require_capability
from .._resampling import RowSampler, UnitSampler, exp_weights, index_draws, replicate_seeds, run_replicates
from ..data import RoutingData, data_digest
from ..scaling import reestimate_scale, scale_row_influence
from .sieve import RidgeSandwich, Sieve

__all__ = ["RESAMPLINGS", "FastDraws", "fast_bootstrap", "refit_bootstrap"]

RESAMPLINGS = ("rows", "weights")  # refit_bootstrap: rows drawn with replacement, or Exp(1) row weights


# Experimental, off: keep the copies of a resampled row (the rows of a query) in one cross-fitting fold
# of the refit bootstrap's replicates. Measured both ways in benchmarks/validity/run.py (selection,
# variant refit_grouped) and docs/benchmarks.md; neither calibrates the refit band at every gold size.
_GROUP_REPLICATES = False


class FastDraws(NamedTuple):
    """What :func:`fast_bootstrap` returns (the last two None for the learner's own final stage)."""

    estimate: np.ndarray
    draws: np.ndarray
    std_error: np.ndarray | None = None
    draw_std_errors: np.ndarray | None = None


def fast_bootstrap(
    learner: Any, X_eval: np.ndarray, n_boot: int, rng: Any = None, n_jobs: int | None = None,
    penalty_factor: float = 1.0, basis: Any = None,
) -> FastDraws:
    """Bootstrap draws of Delta_hat at ``X_eval`` by resampling the final stage only.

    Rows are resampled with replacement within each source (the number of gold rows is
    kept fixed); the cross-fitted scores are reused and only the final stage is refitted
    (``learner.refit_final``). With ``penalty_factor < 1`` (capability ``"undersmooth"``)
    the final stage is refitted with a smaller penalty, and the band is centred at that
    less-biased fit. With ``basis`` (an unfitted scikit-learn transformer, e.g.
    :func:`spline_basis`), the final stage is replaced by a ridge regression on the basis
    fitted on the training embeddings, at its leave-one-out penalty times ``penalty_factor``
    (a sieve; it needs ``"refit_final"`` only, not ``"undersmooth"``).

    A sieve (or the linear basis) is refitted in closed form
    (:class:`~metarouter_stats.inference.sieve.RidgeSandwich`, scikit-learn's ``Ridge`` to
    rounding), which also gives each fit's sandwich standard error at ``X_eval``: that of the
    full-data fit (``std_error``) and each replicate's own (``draw_std_errors``), for a
    studentised band.

    Returns
    -------
    FastDraws
        ``estimate`` (m,): the final-stage fit at ``penalty_factor`` on all rows; ``draws``
        (n_boot, m); with ``basis``, ``std_error`` (m,) and ``draw_std_errors`` (n_boot, m),
        else None. All on the scale of the fitted outcomes.
    """
    from joblib import Parallel, delayed  # noqa: PLC0415

    require_capability(learner, "scores", "The fast bootstrap")
    require_capability(learner, "refit_final", "The fast bootstrap")
    if penalty_factor != 1.0 and basis is None:
        require_capability(learner, "undersmooth", "An undersmoothed band (undersmooth < 1)")
    scores = learner.scores_
    # rows within source, or (paired rows) whole queries stratified by whether they carry gold;
    # all indices drawn up front, in order: the draws do not depend on n_jobs
    sampler = (RowSampler([np.flatnonzero(scores.source == 1), np.flatnonzero(scores.source == 0)])
               if scores.groups is None else UnitSampler(*scores.units()))
    idx = list(index_draws(sampler, n_boot, rng))
    phi, w = scores.pseudo_outcomes, scores.weights
    if basis is not None:
        sieve = Sieve(learner, basis, X_eval)
        B = sieve.basis(scores.X)
        unit, unit_gold = scores.units()
        ridge = RidgeSandwich(B, phi, w, sieve.B_eval, sieve.tuned_alpha(learner, B) * penalty_factor,
                              unit, np.where(unit_gold, 0, 1))

        def one_sieve(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return ridge.fit(np.bincount(rows, minlength=scores.n).astype(float))

        out = Parallel(n_jobs=n_jobs)(delayed(one_sieve)(rows) for rows in idx)
        estimate, se = ridge.fit()
        return FastDraws(estimate, np.vstack([d for d, _ in out]), se, np.vstack([e for _, e in out]))

    def one(rows: np.ndarray) -> np.ndarray:
        model = learner.refit_final(scores.X[rows], phi[rows], w[rows], penalty_factor)
        return np.asarray(model.predict(X_eval), dtype=float).reshape(-1)

    if penalty_factor == 1.0:
        estimate = np.asarray(learner.effect(X_eval), dtype=float).reshape(-1)
    else:
        estimate = one(np.arange(scores.n))
    out = Parallel(n_jobs=n_jobs)(delayed(one)(rows) for rows in idx)
    return FastDraws(estimate, np.vstack(out))


def refit_bootstrap(
    router: Any, data: Any, X_eval: np.ndarray, n_boot: int, rng: Any = None, n_jobs: int | None = None,
    progress: bool = True, penalty_factor: float = 1.0, basis: Any = None, resampling: str = "rows",
    statistic: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full refit bootstrap of a fitted Meta-router's learner.

    ``resampling="weights"`` (capability ``"sample_weight"``; ``scale`` a number, None,
    ``"variance"`` or ``"wasserstein"``) is the weighted (Bayesian) bootstrap: every replicate
    keeps every training row once and refits every stage with i.i.d. Exp(1) weights,
    normalised to mean 1 within each source (paired data: one weight per query, shared by its
    two rows), and c moves by its first-order expansion under the weights
    (:func:`~metarouter_stats.scaling.scale_influence`). With no copies of a row there is no
    leak across cross-fitting folds, and each fold's outcome model still sees every distinct
    row; to first order the weights reproduce the resampling variance.

    Each replicate resamples the training rows within source (trimmed rows stay out;
    probabilities known by design travel with their rows), re-estimates c, and fits a fresh learner (``router.make_learner``) with its own seed;
    seeds come from one ``SeedSequence``, so the draws do not depend on ``n_jobs``.
    With ``penalty_factor < 1`` the replicate's Delta_hat is its final stage refitted on its own
    scores at **the router's** tuned penalty times ``penalty_factor`` (capability
    ``"undersmooth"``); with ``basis`` (see :func:`fast_bootstrap`), the replicate's sieve on
    the basis fitted on the router's training embeddings, at the router's leave-one-out
    penalty times ``penalty_factor``. The penalty is held fixed, as in the fast bootstrap, so
    that the refits measure the nuisances' variability at the band's penalty: re-tuning it per
    replicate made a sieve band under a constant bias 3.6 times too wide (where the full-data
    penalty is at its flat end and a replicate's can fall far below it).

    With ``resampling="rows"`` the copies of a resampled row fall in different cross-fitting
    folds, so a copy can be predicted by an outcome model fitted on its twin; keeping the
    copies in one fold (``_GROUP_REPLICATES``, off) removes that but leaves each fold fewer
    distinct rows. Neither resampling alone keeps its level at every gold size on the
    ``selection`` scenario; :func:`bias_interval`'s ``method="both"`` (the larger of this and the
    fast band's SE) does (``benchmarks/validity/run.py selection``, ``docs/benchmarks.md``).

    ``statistic(learner, w)`` (``resampling="weights"`` only) replaces each replicate's
    Delta_hat at ``X_eval`` by any 1-D summary of the refitted learner (fitted on the kept
    rows, in their order) and its row weights ``w``; :func:`~metarouter_stats.bias_by_group`
    uses it for the group averages of the replicate's scores.

    Returns
    -------
    draws : ndarray of shape (n_boot, m)
        Delta_hat on the preference scale of each replicate (or ``statistic``'s values).
    scales : ndarray of shape (n_boot,)
        The replicate's c.
    """
    if resampling not in RESAMPLINGS:
        raise ValueError(f"`resampling` must be one of {RESAMPLINGS}; got {resampling!r}.")
    X, y, t, ids = training_rows(router, data)
    keep = ~router.trimmed_
    X, y, t = X[keep], y[keep], t[keep]
    if resampling == "weights":
        return _weighted_refits(router, X, y, t, None if ids is None else ids[keep], X_eval, n_boot, rng, n_jobs,
                                progress, penalty_factor, basis, statistic)
    if statistic is not None:
        raise ValueError("`statistic` needs resampling='weights' (every replicate keeps the rows in their order).")
    grouped = _GROUP_REPLICATES and has_capability(router.bias_learner_, "groups")
    # cluster of each row for the replicates' cross-fitting folds (grouped only): its query (paired data) or itself
    clusters = None if not grouped else (
        np.arange(t.size) if ids is None else np.unique(ids[keep], return_inverse=True)[1])
    known = getattr(router.bias_learner_, "known_propensity_", None)  # aligned with the kept rows
    gen = as_rng(rng)
    seeds = replicate_seeds(gen, n_boot)
    sieve = None if basis is None else Sieve(router.bias_learner_, basis, X_eval)
    fixed = _fixed_penalty(router.bias_learner_, sieve, penalty_factor)

    # paired data (a query id on several rows): whole queries are drawn, stratified by whether they carry gold,
    # and each draw is a query of its own (duplicates stay distinct queries)
    kept_ids = None if ids is None else ids[keep]
    by_query = kept_ids is not None and np.unique(kept_ids).size < kept_ids.size
    if by_query:
        unit = np.unique(np.asarray(kept_ids), return_inverse=True)[1]
        sampler: RowSampler | UnitSampler = UnitSampler(
            unit, np.bincount(unit[t == 1], minlength=int(unit.max()) + 1) > 0)
    else:
        sampler = RowSampler([np.flatnonzero(t == 1), np.flatnonzero(t == 0)])

    def one(seed: np.random.SeedSequence) -> tuple[np.ndarray, float]:
        g = np.random.default_rng(seed)
        rows, labels = sampler.draw(g)
        Xb, yb, tb = X[rows], y[rows], t[rows]
        c = reestimate_scale(router.scale_choice_, yb, tb, None if kept_ids is None else
                             (labels if labels is not None else kept_ids[rows]))
        ob = np.where(tb == 1, c * yb, yb)
        learner = router.make_learner(int(g.integers(2**31 - 1)))
        groups_b = labels if labels is not None else (None if clusters is None else clusters[rows])
        extra: dict[str, Any] = {} if groups_b is None or not has_capability(learner, "groups") else {"groups": groups_b}
        if known is not None:  # the design's probabilities travel with their rows
            extra["propensity"] = known[rows]
        learner.fit(Xb, ob, tb, **extra)
        return _replicate_effect(learner, X_eval, sieve, penalty_factor, fixed), c

    return _run_replicates(one, seeds, progress, n_jobs)


def _fixed_penalty(learner: Any, sieve: Sieve | None, penalty_factor: float) -> Any:
    """The router's tuned penalty for the replicates: the sieve's alpha, or its final stage at a fixed penalty.

    None where the replicate's own final stage is used as fitted (``penalty_factor`` 1, no sieve),
    or where the learner's final stage has no penalty to fix.
    """
    if sieve is not None:
        sc = learner.scores_
        return sieve.tuned_alpha(learner, sieve.basis(sc.X)) * penalty_factor
    if penalty_factor == 1.0:
        return None
    final = getattr(learner, "final_model_", None)
    return None if final is None else fixed_penalty(final, penalty_factor)


def _replicate_effect(learner: Any, X_eval: np.ndarray, sieve: Sieve | None, penalty_factor: float,
                      fixed: Any = None) -> np.ndarray:
    """A refitted replicate's Delta_hat at ``X_eval``: its own final stage, undersmoothed, or its sieve.

    ``fixed`` (from :func:`_fixed_penalty`): the router's penalty, held fixed in the replicate.
    """
    if sieve is None and penalty_factor == 1.0:
        return np.asarray(learner.effect(X_eval), dtype=float).reshape(-1)
    sc = learner.scores_
    if sieve is not None:
        B = sieve.basis(sc.X)
        alpha = fixed if fixed is not None else sieve.tuned_alpha(learner, B) * penalty_factor
        return sieve.fit_predict(learner, B, sc.pseudo_outcomes, sc.weights, alpha)
    if fixed is not None:
        model = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, model=fixed)
    else:
        model = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, penalty_factor)
    return np.asarray(model.predict(X_eval), dtype=float).reshape(-1)


def _run_replicates(one: Any, seeds: list[np.random.SeedSequence], progress: bool, n_jobs: int | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Run ``one(seed) -> (draw, c)`` over the seeds; stack the draws and the scales in seed order."""
    out = run_replicates(one, seeds, n_jobs=n_jobs, progress=progress)
    return np.vstack([d for d, _ in out]), np.array([c for _, c in out])


def _weighted_refits(
    router: Any, X: np.ndarray, y: np.ndarray, t: np.ndarray, ids: np.ndarray | None, X_eval: np.ndarray,
    n_boot: int, rng: Any, n_jobs: int | None, progress: bool, penalty_factor: float, basis: Any,
    statistic: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted refit bootstrap (``refit_bootstrap(..., resampling="weights")``) on the kept rows.

    ``statistic(learner, w)``, if given, replaces the replicate's Delta_hat at ``X_eval``:
    any 1-D summary of the refitted learner and the replicate's row weights.
    """
    require_capability(router.bias_learner_, "sample_weight", "The weighted refit bootstrap (resampling='weights')")
    choice = router.scale_choice_
    gold, pref = t == 1, t == 0
    c0 = reestimate_scale(choice, y, t, ids)
    if choice.method == "amplitude":
        raise ValueError(
            "resampling='weights' needs a scale with a first-order expansion: scale='amplitude' (a ratio of "
            "sample maxima) does not move under weights. Use resampling='rows', or scale='variance'.")
    influence = scale_row_influence(dataclasses.replace(choice, value=c0), y, t, ids)
    # one weight per unit: a query (paired data, its two rows share it) or a row
    units = np.arange(t.size) if ids is None else np.unique(ids, return_inverse=True)[1]
    n_units = int(units.max()) + 1
    known = getattr(router.bias_learner_, "known_propensity_", None)
    seeds = replicate_seeds(as_rng(rng), n_boot)
    sieve = None if basis is None else Sieve(router.bias_learner_, basis, X_eval)
    fixed = _fixed_penalty(router.bias_learner_, sieve, penalty_factor)

    def one(seed: np.random.SeedSequence) -> tuple[np.ndarray, float]:
        g = np.random.default_rng(seed)
        w = exp_weights(g, n_units)[units]
        w[gold] /= w[gold].mean()
        w[pref] /= w[pref].mean()
        c = c0 if influence is None else c0 + float(influence @ (w - 1.0))
        if not c > 0:
            raise ValueError(
                f"A weighted replicate moved the scale c from {c0:.4g} to {c:.4g} (not positive): c is too poorly "
                "determined by these labels for its first-order expansion. Use resampling='rows'.")
        learner = router.make_learner(int(g.integers(2**31 - 1)))
        extra: dict[str, Any] = {"sample_weight": w}
        if known is not None:
            extra["propensity"] = known
        if ids is not None and n_units < t.size and has_capability(learner, "groups"):
            extra["groups"] = ids  # paired data: a query's rows stay together in the replicate's folds
        learner.fit(X, np.where(t == 1, c * y, y), t, **extra)
        if statistic is not None:
            return np.asarray(statistic(learner, w), dtype=float).reshape(-1), c
        return _replicate_effect(learner, X_eval, sieve, penalty_factor, fixed), c

    return _run_replicates(one, seeds, progress, n_jobs)


def auto_resampling(router: Any) -> str:
    """``resampling="auto"``: Exp(1) weights when the learner takes row weights and c has an expansion, else rows."""
    weights_ok = has_capability(router.bias_learner_, "sample_weight") and router.scale_choice_.method != "amplitude"
    return "weights" if weights_ok else "rows"


def larger_spread(refit_draws: np.ndarray, fast_draws: np.ndarray) -> np.ndarray:
    """The refit draws, their spread about their mean widened at each point to the larger of the two SDs.

    The band built from them has, at each point, the larger of the two bootstraps' standard
    errors, and takes its joint (sup-t) shape from the refit replicates.
    """
    sd_refit = refit_draws.std(axis=0, ddof=1)
    sd_fast = fast_draws.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sd_refit > 0, np.maximum(sd_refit, sd_fast) / sd_refit, 1.0)
    centre = refit_draws.mean(axis=0)
    return centre + (refit_draws - centre) * factor


def training_rows(router: Any, data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``(X, y, source, query_ids or None)`` of the router's training data, checked against the router."""
    if data is None:
        raise ValueError(
            "`data` is required for method='refit': pass the router's training data "
            "(a RoutingData, or a tuple (X, y, source))."
        )
    ids = None
    if isinstance(data, RoutingData):
        X, y, t, ids = data.X, data.outcome, data.source, data.query_ids
    elif isinstance(data, tuple) and len(data) == 3:
        X = as_2d_float(data[0], "data[0] (X)")
        y, t = np.asarray(data[1], dtype=float), np.asarray(data[2]).astype(int)
    else:
        raise TypeError(f"`data` must be a RoutingData or a tuple (X, y, source); got {type(data).__name__}.")
    n = router.trimmed_.shape[0]
    if X.shape[0] != n or X.shape[1] != router.n_features_in_:
        raise ValueError(
            f"`data` must be the router's training data ({n} rows, {router.n_features_in_} columns); "
            f"got {X.shape[0]} rows and {X.shape[1]} columns."
        )
    digest = getattr(router, "training_digest_", None)
    if digest is not None and data_digest(X, y, t) != digest:
        raise ValueError(
            "`data` is not the router's training data (same size, other rows or labels): a refit band must resample "
            "the data the router was fitted on. Pass the RoutingData given to fit."
        )
    return X, y, t, ids


def full_data_fit(learner: Any, X: np.ndarray, delta: np.ndarray, basis: Any, undersmooth: float) -> np.ndarray:
    """The refit band's centre on the preference scale: the sieve's fit, the undersmoothed fit, or Delta_hat."""
    sc = learner.scores_
    if basis is not None:
        sieve = Sieve(learner, basis, X)
        B = sieve.basis(sc.X)
        return sieve.fit_predict(learner, B, sc.pseudo_outcomes, sc.weights, sieve.tuned_alpha(learner, B) * undersmooth)
    if undersmooth == 1.0:
        return delta
    full = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, undersmooth)
    return np.asarray(full.predict(X), dtype=float).reshape(-1)
