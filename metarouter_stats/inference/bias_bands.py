r"""Confidence bands for the bias function Delta_hat(x) of a fitted Meta-router.

Three engines, chosen by what the router's bias learner declares
(:mod:`metarouter_stats.cate.protocol`):

``"fast"`` (capabilities ``"scores"`` and ``"refit_final"``)
    resample the training rows within source and refit **only the final stage** on the
    cross-fitted pseudo-outcomes (R: residual pairs with their weights). By Neyman
    orthogonality the nuisance estimation error is of second order, so this captures the
    first-order sampling variability of Delta_hat at a fraction of the cost.
``"refit"`` (any learner; needs the training data)
    perturb the rows within source and refit every stage, the scale constant c included
    (with ``undersmooth < 1``, each replicate's final stage is then refitted at its own
    tuned penalty times ``undersmooth``, as the fast band does). The rows are reweighted by
    Exp(1) weights when the learner takes row weights (capability ``"sample_weight"``),
    else drawn with replacement (``resampling``).
``"both"`` (the fast band's capabilities; needs the training data)
    at each point the larger of the fast and the refit bootstrap's standard errors, with the
    joint (sup-t) shape of the refit replicates: the fast band misses the nuisances'
    variation where gold is scarce and selected on x, the refit bootstrap under-states the
    spread where gold is plentiful (``benchmarks/bench_validity.py selection``), and the
    larger of the two covered 0.94-0.96 pointwise at 50-500 gold rows there.
``"learner"`` (capability ``"intervals"``)
    the learner's own pointwise intervals (e.g. EconML's bootstrap-of-little-bags
    intervals of a causal forest), where the fast bootstrap does not apply.

Two targets, chosen by ``final_stage``:

``"learner"``
    the learner's own final stage (the default ridge: linear in x), whose band covers the
    **best linear predictor** of the bias given x, not Delta(x) when the bias is non-linear.
``"spline"``, ``"spline_pairs"`` (or any scikit-learn transformer)
    an additive cubic-spline **sieve** refitted on the learner's cross-fitted scores: the
    training embeddings are expanded in a B-spline basis per coordinate, a ridge regression
    of the pseudo-outcomes on that basis is tuned by leave-one-out and then undersmoothed
    (penalty x 0.01) so that its approximation bias is small next to its standard error.
    Its target is Delta(x) itself when the bias is a sum of smooth functions of single
    coordinates (and its best such approximation otherwise); the band is wider, the
    price of a target that does not depend on a model class. ``"spline_pairs"`` adds
    piecewise-linear tensor products of pairs of the leading coordinates, so that the
    target also holds for interactions among them.
"""

from __future__ import annotations

import dataclasses

import numbers
import warnings
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.preprocessing import SplineTransformer

from .._checks import as_2d_float, as_rng, check_fraction, check_n_jobs, check_positive_int, check_resamples
from .._threads import budgeted
from .._results import frozen_array
from ..cate import has_capability, require_capability
from ..data import RoutingData, UnitSampler, data_digest
from ..routers import check_units
from ..scaling import reestimate_scale, scale_row_influence
from .bands import KINDS, Band, make_band
from .heterogeneity import fitted_learner

__all__ = [
    "DEFAULT_SIEVE_UNDERSMOOTH", "DEFAULT_UNDERSMOOTH", "METHODS", "bias_interval", "fast_bootstrap",
    "refit_bootstrap", "spline_basis",
]

DEFAULT_UNDERSMOOTH = 0.1  # ridge penalty factor of the fast band (docs/benchmarks.md)
# penalty factor of the spline sieve: chosen on four cells (nonlinear_bias at 100 and 500 gold, paper at
# 500, homogeneous at 50), checked on the others (benchmarks/bench_validity.py sieve, docs/benchmarks.md)
DEFAULT_SIEVE_UNDERSMOOTH = 0.01
DEFAULT_SIEVE_PAIRS = 5  # final_stage="spline_pairs": interactions among the 5 highest-variance coordinates
SIEVE_ALPHAS = np.logspace(-3, 5, 33)  # leave-one-out grid of the sieve's ridge penalty
METHODS = ("fast", "refit", "both", "learner")
RESAMPLINGS = ("rows", "weights")  # refit_bootstrap: rows drawn with replacement, or Exp(1) row weights
# Experimental, off: keep the copies of a resampled row (the rows of a query) in one cross-fitting fold
# of the refit bootstrap's replicates. Measured both ways in benchmarks/bench_validity.py (selection,
# variant refit_grouped) and docs/benchmarks.md; neither calibrates the refit band at every gold size.
_GROUP_REPLICATES = False
# below this many gold rows the fast uniform band is short of its level (0.85-0.89 at 50 gold rows for 0.95 with
# random gold; 0.905-0.95 from 100 on; benchmarks/bench_validity.py fits, sieve, smallgold): its target says so
SMALL_GOLD = 100


class _LeadingColumns:
    """Column selector: the ``k`` highest-variance columns of the fitting data (ties by position).

    A picklable callable for :class:`~sklearn.compose.ColumnTransformer`, evaluated once at
    fit time: on embeddings from principal components these are the leading components.
    """

    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, X: Any) -> list[int]:
        var = np.var(np.asarray(X, dtype=float), axis=0)
        return sorted(np.argsort(-var, kind="stable")[: self.k].tolist())


def spline_basis(n_knots: int = 4, degree: int = 3, pairs: int = 0) -> Any:
    """The basis of the spline sieve: cubic B-splines per coordinate, knots at quantiles.

    With ``extrapolation="linear"`` the basis continues linearly beyond the training range
    (a band there is an extrapolation and widens accordingly). ``n_knots + degree - 1``
    columns per coordinate: 6 with the defaults, so 300 columns for a 50-dimensional embedding.

    Parameters
    ----------
    n_knots, degree : int
        Knots (at quantiles) and degree of the per-coordinate B-splines.
    pairs : int, default 0
        0: the additive basis (a :class:`~sklearn.preprocessing.SplineTransformer`). ``k >= 2``:
        add the pairwise interactions of the ``k`` highest-variance coordinates (the leading
        components of a PCA embedding), as products of piecewise-linear B-splines (4 knots
        at quantiles) of two coordinates: a :class:`~sklearn.pipeline.FeatureUnion` of the
        additive basis and ``PolynomialFeatures(2, interaction_only=True)`` on those splines,
        ``(4k)(4k + 1) / 2`` more columns (210 for ``k = 5``). Its sieve's target also holds
        when the bias has interactions among those coordinates (e.g. ``z2 1{z3 > 0}``).
        Built from scikit-learn parts rather than a tensor-spline class of our own: the
        within-coordinate products it also makes are redundant, not harmful, under the ridge.

    Examples
    --------
    >>> from metarouter_stats.inference import spline_basis
    >>> spline_basis().n_knots
    4
    >>> import numpy as np
    >>> spline_basis(pairs=3).fit_transform(np.random.default_rng(0).normal(size=(40, 6))).shape
    (40, 114)
    """
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import PolynomialFeatures  # noqa: PLC0415

    n_knots = check_positive_int(n_knots, "n_knots", minimum=2)
    degree = check_positive_int(degree, "degree")
    if isinstance(pairs, bool) or not isinstance(pairs, numbers.Integral) or pairs < 0 or pairs == 1:
        raise ValueError(f"`pairs` must be 0 (additive) or an integer >= 2 (coordinates to interact); got {pairs!r}.")
    additive = SplineTransformer(n_knots=n_knots, degree=degree, knots="quantile", extrapolation="linear")
    if pairs == 0:
        return additive
    hats = SplineTransformer(n_knots=4, degree=1, knots="quantile", extrapolation="linear")
    interactions = Pipeline([
        ("leading", ColumnTransformer([("splines", hats, _LeadingColumns(int(pairs)))])),
        ("products", PolynomialFeatures(2, interaction_only=True, include_bias=False)),
    ])
    return FeatureUnion([("additive", additive), ("pairs", interactions)])


def _pairs_of(basis: Any) -> int:
    """``k`` of a :func:`spline_basis` with pairs (0 for anything else)."""
    from sklearn.pipeline import FeatureUnion  # noqa: PLC0415

    if not isinstance(basis, FeatureUnion) or [n for n, _ in basis.transformer_list] != ["additive", "pairs"]:
        return 0
    columns = basis.named_transformers["pairs"].named_steps["leading"].transformers[0][2]
    return int(columns.k) if isinstance(columns, _LeadingColumns) else 0


_TARGET_PROJECTION = (
    "the best linear predictor of the bias given x (Delta(x) projected on the final stage's model class: "
    "linear in x for the default ridge), not Delta(x) itself unless Delta lies in that class"
)


OVERLAP_BAND = (0.1, 10.0)  # the positivity report's default band on the density ratio


def _training_propensity(learner: Any) -> np.ndarray | None:
    """P(gold) of the learner's training rows: known by design, or its cross-fitted estimate (else None)."""
    if not has_capability(learner, "scores"):
        return None
    known = getattr(learner, "known_propensity_", None)
    if known is not None:
        return np.asarray(known, dtype=float)
    if not has_capability(learner, "propensity"):
        return None
    return np.asarray(learner.predict_propensity(learner.scores_.X), dtype=float)


def outside_overlap_rows(learner: Any) -> np.ndarray | None:
    """Which of the learner's scored rows lie outside ``OVERLAP_BAND`` (None without the capabilities).

    The density ratio ``(e / (1 - e)) / (p / (1 - p))`` of each training row, from the
    probabilities known by design or the learner's propensity (``predict_propensity``,
    the average of its cross-fitted models), against the gold share p.
    """
    from ..positivity import density_ratio  # noqa: PLC0415

    e = _training_propensity(learner)
    if e is None:
        return None
    w = density_ratio(e, float(learner.scores_.source.mean()))
    low, high = OVERLAP_BAND
    return np.asarray((w < low) | (w > high))


def poor_overlap_share(learner: Any) -> float:
    """Share of the learner's preference rows outside ``OVERLAP_BAND`` (0 without the capabilities)."""
    outside = outside_overlap_rows(learner)
    if outside is None:
        return 0.0
    return float(outside[learner.scores_.source == 0].mean())


def overlap_check(learner: Any, X: np.ndarray | None, what: str) -> tuple[np.ndarray | None, str]:
    """Points of ``X`` (if given) outside the overlap of gold and preference queries, and a target note.

    Uses the learner's own cross-fitted propensity (capability ``"propensity"``), or the
    probabilities known by design it was fitted with (then no point of ``X`` is flagged:
    the design's probabilities are known at the training rows only): the
    density ratio ``w(x) = (e / (1 - e)) / (p / (1 - p))`` outside ``OVERLAP_BAND`` marks
    a point where gold queries are rare. When more than 5 % of the learner's preference rows
    lie there (the positivity report's rule), a RuntimeWarning says that estimates there
    extrapolate: measured on the ``selection`` scenario (gold drawn with weights
    exp(1.5 z1)), the DR scores are biased toward the average bias in the region without gold,
    and neither the fast band nor the group averages over all queries keep their level at
    50-100 gold rows (``benchmarks/bench_validity.py``); :func:`bias_by_group` then restricts
    itself to the overlap instead (``benchmarks/bench_gates.py``).
    """
    from ..positivity import density_ratio  # noqa: PLC0415

    outside_train = outside_overlap_rows(learner)
    if outside_train is None:
        return None, ""
    source = learner.scores_.source
    p = float(source.mean())
    low, high = OVERLAP_BAND
    share = float(outside_train[source == 0].mean())
    flags = None
    if X is not None and getattr(learner, "known_propensity_", None) is None:
        w_at = density_ratio(np.asarray(learner.predict_propensity(X), dtype=float), p)
        flags = (w_at < low) | (w_at > high)
    if share <= 0.05:
        return flags, ""
    note = (f"POOR OVERLAP: {100 * share:.1f} % of the preference rows lie where gold queries are rare (density "
            f"ratio outside [{low:g}, {high:g}]), where the estimate extrapolates and the interval can miss its target")
    warnings.warn(
        f"{what}: {100 * share:.1f} % of the preference rows lie where gold queries are rare (density ratio "
        f"outside [{low:g}, {high:g}]): gold queries look selected on x. There the estimate extrapolates and its "
        "fast interval under-covers (about 85 % pointwise for a 95 % band with 50-100 gold rows in the package's "
        "selection benchmark). bias_interval adds the refit bootstrap here when given the training data (`data=`: "
        "method='both', the larger of the two SEs, covered 94-96 % at 50-500 gold rows); otherwise read "
        "`outside_overlap`, label gold queries there, or trim (MetaRouter(trim=(0.1, 10))).",
        RuntimeWarning,
        stacklevel=4,  # the user's call (overlap_check <- inference function <- thread-budget wrapper)
    )
    return flags, note


class _Sieve:
    """A basis fitted on the learner's training embeddings, and the ridge fits on it."""

    def __init__(self, learner: Any, basis: Any, X_eval: np.ndarray) -> None:
        self.transformer = clone(basis).fit(learner.scores_.X)  # knots from the training embeddings, kept fixed
        self.B_eval = np.asarray(self.transformer.transform(X_eval), dtype=float)

    def basis(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.transformer.transform(X), dtype=float)

    def tuned_alpha(self, learner: Any, B: np.ndarray) -> float:
        """Leave-one-out ridge penalty of the pseudo-outcomes on the basis (``learner``'s scores)."""
        sc = learner.scores_
        return float(learner.refit_final(B, sc.pseudo_outcomes, sc.weights, model=RidgeCV(alphas=SIEVE_ALPHAS)).alpha_)

    def fit_predict(self, learner: Any, B: np.ndarray, phi: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
        model = learner.refit_final(B, phi, w, model=Ridge(alpha=alpha))
        return np.asarray(model.predict(self.B_eval), dtype=float).reshape(-1)


def fast_bootstrap(
    learner: Any, X_eval: np.ndarray, n_boot: int, rng: Any = None, n_jobs: int | None = None,
    penalty_factor: float = 1.0, basis: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap draws of Delta_hat at ``X_eval`` by resampling the final stage only.

    Rows are resampled with replacement within each source (the number of gold rows is
    kept fixed); the cross-fitted scores are reused and only the final stage is refitted
    (``learner.refit_final``). With ``penalty_factor < 1`` (capability ``"undersmooth"``)
    the final stage is refitted with a smaller penalty, and the band is centred at that
    less-biased fit. With ``basis`` (an unfitted scikit-learn transformer, e.g.
    :func:`spline_basis`), the final stage is replaced by a ridge regression on the basis
    fitted on the training embeddings, at its leave-one-out penalty times ``penalty_factor``
    (a sieve; it needs ``"refit_final"`` only, not ``"undersmooth"``).

    Returns
    -------
    estimate : ndarray of shape (m,)
        The final-stage fit at ``penalty_factor`` on all rows.
    draws : ndarray of shape (n_boot, m)
        Both on the scale of the fitted outcomes.
    """
    from joblib import Parallel, delayed  # noqa: PLC0415

    require_capability(learner, "scores", "The fast bootstrap")
    require_capability(learner, "refit_final", "The fast bootstrap")
    if penalty_factor != 1.0 and basis is None:
        require_capability(learner, "undersmooth", "An undersmoothed band (undersmooth < 1)")
    gen = as_rng(rng)
    scores = learner.scores_
    # all indices drawn up front, in order: the draws do not depend on n_jobs
    if scores.groups is None:
        gold = np.flatnonzero(scores.source == 1)
        pref = np.flatnonzero(scores.source == 0)
        idx = [np.concatenate((gen.choice(gold, gold.size), gen.choice(pref, pref.size))) for _ in range(n_boot)]
    else:  # paired rows: whole queries are drawn, stratified by whether they carry gold
        sampler = UnitSampler(*scores.units())
        idx = [sampler.draw(gen)[0] for _ in range(n_boot)]
    phi, w = scores.pseudo_outcomes, scores.weights
    if basis is not None:
        sieve = _Sieve(learner, basis, X_eval)
        B = sieve.basis(scores.X)
        alpha = sieve.tuned_alpha(learner, B) * penalty_factor

        def one_sieve(rows: np.ndarray) -> np.ndarray:
            return sieve.fit_predict(learner, B[rows], phi[rows], w[rows], alpha)

        out = Parallel(n_jobs=n_jobs)(delayed(one_sieve)(rows) for rows in idx)
        return one_sieve(np.arange(scores.n)), np.vstack(out)

    def one(rows: np.ndarray) -> np.ndarray:
        model = learner.refit_final(scores.X[rows], phi[rows], w[rows], penalty_factor)
        return np.asarray(model.predict(X_eval), dtype=float).reshape(-1)

    if penalty_factor == 1.0:
        estimate = np.asarray(learner.effect(X_eval), dtype=float).reshape(-1)
    else:
        estimate = one(np.arange(scores.n))
    out = Parallel(n_jobs=n_jobs)(delayed(one)(rows) for rows in idx)
    return estimate, np.vstack(out)


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
    scores at its own tuned penalty times ``penalty_factor`` (capability ``"undersmooth"``);
    with ``basis`` (see :func:`fast_bootstrap`), the replicate's sieve on the basis fitted on
    the router's training embeddings, at the replicate's own leave-one-out penalty times
    ``penalty_factor``.

    With ``resampling="rows"`` the copies of a resampled row fall in different cross-fitting
    folds, so a copy can be predicted by an outcome model fitted on its twin; keeping the
    copies in one fold (``_GROUP_REPLICATES``, off) removes that but leaves each fold fewer
    distinct rows (SE 1.7-2 times the fast band's where that one is right). Measured on
    ``selection`` (``bench_validity.py selection``, docs/benchmarks.md), SE / SD at 50 / 100
    / 500 gold rows: rows 1.64 / 1.03 / 0.78, weights 1.16 / 0.84 / 0.95 (Monte Carlo SEs
    about 0.1 / 0.1 / 0.04). Neither alone keeps 0.93 pointwise at every size (weights:
    0.95 / 0.90 / 0.92); :func:`bias_interval`'s ``method="both"`` (the larger of this and the
    fast band's SE) does (0.97 / 0.93 / 0.95).

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
    X, y, t, ids = _training_rows(router, data)
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
    gold, pref = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    gen = as_rng(rng)
    seeds = np.random.SeedSequence(int(gen.integers(2**63))).spawn(n_boot)
    sieve = None if basis is None else _Sieve(router.bias_learner_, basis, X_eval)

    # paired data (a query id on several rows): whole queries are drawn, stratified by whether they carry gold,
    # and each draw is a query of its own (duplicates stay distinct queries)
    kept_ids = None if ids is None else ids[keep]
    by_query = kept_ids is not None and np.unique(kept_ids).size < kept_ids.size
    if by_query:
        unit = np.unique(np.asarray(kept_ids), return_inverse=True)[1]
        sampler = UnitSampler(unit, np.bincount(unit[t == 1], minlength=int(unit.max()) + 1) > 0)

    def draw(g: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        if not by_query:
            return np.concatenate((g.choice(gold, gold.size), g.choice(pref, pref.size))), None
        return sampler.draw(g)

    def one(seed: np.random.SeedSequence) -> tuple[np.ndarray, float]:
        g = np.random.default_rng(seed)
        rows, labels = draw(g)
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
        return _replicate_effect(learner, X_eval, sieve, penalty_factor), c

    return _run_replicates(one, seeds, progress, n_jobs)


def _replicate_effect(learner: Any, X_eval: np.ndarray, sieve: _Sieve | None, penalty_factor: float) -> np.ndarray:
    """A refitted replicate's Delta_hat at ``X_eval``: its own final stage, undersmoothed, or its sieve."""
    if sieve is None and penalty_factor == 1.0:
        return np.asarray(learner.effect(X_eval), dtype=float).reshape(-1)
    sc = learner.scores_
    if sieve is not None:
        B = sieve.basis(sc.X)
        alpha = sieve.tuned_alpha(learner, B) * penalty_factor
        return sieve.fit_predict(learner, B, sc.pseudo_outcomes, sc.weights, alpha)
    model = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, penalty_factor)
    return np.asarray(model.predict(X_eval), dtype=float).reshape(-1)


def _run_replicates(one: Any, seeds: list[np.random.SeedSequence], progress: bool, n_jobs: int | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Run ``one(seed) -> (draw, c)`` over the seeds (joblib, a progress bar); stack the results in seed order."""
    from joblib import Parallel, delayed  # noqa: PLC0415
    from tqdm.auto import tqdm  # noqa: PLC0415 - TTY-aware progress bar

    results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(one)(seed) for seed in seeds)
    out = list(tqdm(results, total=len(seeds), desc="refit bootstrap", unit="refit", leave=False,
                    disable=None if progress else True))
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
    gen = as_rng(rng)
    seeds = np.random.SeedSequence(int(gen.integers(2**63))).spawn(n_boot)
    sieve = None if basis is None else _Sieve(router.bias_learner_, basis, X_eval)

    def one(seed: np.random.SeedSequence) -> tuple[np.ndarray, float]:
        g = np.random.default_rng(seed)
        w = g.exponential(size=n_units)[units]
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
        return _replicate_effect(learner, X_eval, sieve, penalty_factor), c

    return _run_replicates(one, seeds, progress, n_jobs)


def _auto_resampling(router: Any) -> str:
    """``resampling="auto"``: Exp(1) weights when the learner takes row weights and c has an expansion, else rows."""
    weights_ok = has_capability(router.bias_learner_, "sample_weight") and router.scale_choice_.method != "amplitude"
    return "weights" if weights_ok else "rows"


def _larger_spread(refit_draws: np.ndarray, fast_draws: np.ndarray) -> np.ndarray:
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


def _training_rows(router: Any, data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
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


def _full_data_fit(learner: Any, X: np.ndarray, delta: np.ndarray, basis: Any, undersmooth: float) -> np.ndarray:
    """The refit band's centre on the preference scale: the sieve's fit, the undersmoothed fit, or Delta_hat."""
    sc = learner.scores_
    if basis is not None:
        sieve = _Sieve(learner, basis, X)
        B = sieve.basis(sc.X)
        return sieve.fit_predict(learner, B, sc.pseudo_outcomes, sc.weights, sieve.tuned_alpha(learner, B) * undersmooth)
    if undersmooth == 1.0:
        return delta
    full = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, undersmooth)
    return np.asarray(full.predict(X), dtype=float).reshape(-1)


def _final_stage(final_stage: Any) -> Any:
    """None for the learner's own final stage, else an unfitted basis transformer."""
    if isinstance(final_stage, str):
        if final_stage == "learner":
            return None
        if final_stage == "spline":
            return spline_basis()
        if final_stage == "spline_pairs":
            return spline_basis(pairs=DEFAULT_SIEVE_PAIRS)
    elif hasattr(final_stage, "fit") and hasattr(final_stage, "transform"):
        return final_stage
    raise ValueError(
        "`final_stage` must be 'learner' (the learner's own final stage), 'spline' (an additive spline sieve "
        "whose target is Delta(x)), 'spline_pairs' (the same plus pairwise interactions of the leading "
        f"coordinates) or an unfitted scikit-learn transformer (a sieve basis); got {final_stage!r}."
    )


def _bias_interval_iv(
    learner: Any, confidence_level: Any, n_boot: Any, kind: Any, method: Any, undersmooth: Any, basis: Any
) -> tuple[float, int, str, float]:
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    if kind not in KINDS:
        raise ValueError(f"`kind` must be 'pointwise' or 'uniform'; got {kind!r}.")
    if method is None:
        fast = has_capability(learner, "scores") and has_capability(learner, "refit_final")
        method = "fast" if fast or basis is not None or not has_capability(learner, "intervals") else "learner"
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}; got {method!r}.")
    if basis is not None:
        if method == "learner":
            raise ValueError("`final_stage` other than 'learner' needs method='fast' or 'refit' (a sieve is refitted "
                             "on the learner's scores); method='learner' gives the learner's own intervals.")
        require_capability(learner, "scores", "A sieve band (final_stage)")
        require_capability(learner, "refit_final", "A sieve band (final_stage)")
    if undersmooth is None:
        if basis is not None:
            undersmooth = DEFAULT_SIEVE_UNDERSMOOTH
        else:
            undersmooth = DEFAULT_UNDERSMOOTH if method != "learner" and has_capability(learner, "undersmooth") else 1.0
    if isinstance(undersmooth, bool) or not isinstance(undersmooth, numbers.Real) or not 0 < float(undersmooth) <= 1:
        raise ValueError(f"`undersmooth` must be in (0, 1]; got {undersmooth!r}.")
    if method == "learner" and undersmooth != 1:
        raise ValueError("`undersmooth` applies to method='fast' or 'refit'; got method='learner'.")
    if undersmooth != 1 and basis is None:
        require_capability(learner, "undersmooth", "An undersmoothed band (undersmooth < 1)")
    if method == "learner" and kind == "uniform":
        raise ValueError("method='learner' gives pointwise intervals only; use kind='pointwise' or method='refit'.")
    return level, n_boot, str(method), float(undersmooth)


def _sieve_target(basis: Any, undersmooth: float) -> str:
    k = _pairs_of(basis)
    if k:
        additive = basis.named_transformers["additive"]
        return ("Delta(x) itself when the bias is a sum of smooth functions of single coordinates of x and of pairs "
                f"among its {k} highest-variance coordinates (else its best such approximation), by a spline sieve "
                f"({additive.n_knots} knots per coordinate plus piecewise-linear tensor products of those pairs, ridge "
                f"penalty x {undersmooth:g} of its leave-one-out choice) refitted on the learner's cross-fitted scores")
    if isinstance(basis, SplineTransformer):
        what = (f"an additive cubic-spline sieve ({basis.n_knots} knots per coordinate, ridge penalty x "
                f"{undersmooth:g} of its leave-one-out choice)")
        return ("Delta(x) itself when the bias is a sum of smooth functions of single coordinates of x (else its best "
                f"such additive approximation), by {what} refitted on the learner's cross-fitted scores")
    return (f"Delta(x) projected on the span of the basis {type(basis).__name__} (ridge penalty x {undersmooth:g} of "
            "its leave-one-out choice), refitted on the learner's cross-fitted scores")


@budgeted
def bias_interval(
    router: Any,
    X: Any,
    confidence_level: float = 0.95,
    *,
    n_boot: int = 200,
    kind: str = "pointwise",
    method: str | None = None,
    units: str = "gold",
    undersmooth: float | None = None,
    final_stage: Any = "learner",
    data: Any = None,
    resampling: str = "auto",
    rng: Any = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> Band:
    """Confidence band for the bias Delta_hat(x) of a fitted Meta-router at the rows of ``X``.

    Parameters
    ----------
    router : fitted MetaRouter
    X : array-like of shape (m, d)
        Evaluation points.
    confidence_level : float in (0, 1), default 0.95
    n_boot : int, default 200
        Bootstrap replicates (``"fast"``, ``"refit"`` and each of ``"both"``'s two).
    kind : {"pointwise", "uniform"}, default "pointwise"
        Pointwise normal band with bootstrap standard errors, or a uniform band over the
        m points by the sup-t construction. With fewer than 100 gold rows the fast uniform band
        is short of its level (0.85-0.89 at 50 gold rows for 0.95, random gold; its SE is 5 %
        short on average and up to 19 % at some points, the nuisances' variation it freezes),
        and its ``target`` says so; from 100 gold rows on it covered 0.905-0.95. Given ``data``,
        a uniform band with fewer than 100 gold rows uses ``method="both"`` instead (below).
    method : {"fast", "refit", "both", "learner"} or None, default None
        None: ``"fast"`` when the learner declares ``"scores"`` and ``"refit_final"``,
        else ``"learner"`` when it declares ``"intervals"``, else ``"fast"`` (which then
        says which capability is missing); but ``"both"`` when gold queries look selected on
        x (more than 5 % of preference rows outside the overlap, the positivity report's rule)
        and ``data`` is given. There, on the ``selection`` benchmark (95 % bands, 20 points;
        40 / 40 / 41 fits at 50 / 100 / 500 gold rows), the fast band covered 0.85 / 0.85 /
        0.94 pointwise, the weighted refit band 0.95 / 0.90 / 0.92, and ``"both"`` (at each
        point the larger of the two SEs) 0.97 / 0.93 / 0.95, uniformly 0.975 / 0.95 / 0.97
        (``benchmarks/bench_validity.py selection``, docs/benchmarks.md). ``"both"`` costs
        what ``"refit"`` costs (``n_boot`` refits of every stage). Also ``"both"`` for a
        uniform band with fewer than 100 gold rows when ``data`` is given: with random gold
        at 50 gold rows it covered 24 of 24 random fits uniformly and 7 of the 9 fits on which
        the fast uniform band had failed on ``paper``, 10 of 10 and 6 of 8 on ``nonlinear_bias``
        (that band covers 0.85-0.89; docs/benchmarks.md);
        with ``final_stage="spline"`` on ``nonlinear_bias`` at 50 gold rows, against Delta(x),
        16 of 16 random fits and all 11 fits on which the fast sieve's uniform band had failed
        (that band: 0.83 over 65). See the module docstring.
    units : {"gold", "preference"}, default "gold"
    undersmooth : float in (0, 1] or None, default None
        ``method="fast"`` or ``"refit"`` with a penalised final stage (capability ``"undersmooth"``):
        multiply the chosen ridge penalty by this factor for the band, which is then
        centred at that less-shrunk fit: ``band.estimate`` is **not** ``predict_bias``
        (in issue 14's check they differed by a median of 0.5 standard errors); the
        band carries both (``estimate``, ``prediction``) and its summary reports the gap.
        The leave-one-out penalty is tuned for prediction; its
        shrinkage bias made 95 % bands cover only 82 % (pointwise) and 55 % (uniform) of
        the time with 100 gold rows, and 0.1 restored 94 % / 93 %
        (``benchmarks/bench_coverage.py``, docs/benchmarks.md). None means 0.1 where
        it applies and 1 (no change) otherwise; with a sieve (``final_stage``), its
        leave-one-out penalty times this factor, None meaning 0.01.
    final_stage : {"learner", "spline", "spline_pairs"} or transformer, default "learner"
        What the band is about. ``"learner"``: the learner's own final stage, whose target
        is the best linear predictor of the bias given x with the default ridge (it does
        not cover Delta(x) when the bias is non-linear: 0.63 pointwise, 0.00 uniform at 500
        gold rows on ``nonlinear_bias``). ``"spline"``: an additive cubic-spline sieve
        (:func:`~metarouter_stats.inference.spline_basis`) refitted on the learner's
        cross-fitted scores and undersmoothed, whose target is **Delta(x) itself** when the
        bias is a sum of smooth functions of single coordinates (its best such
        approximation otherwise); wider (SE about twice the linear band's), centred at the
        sieve's fit, with ``predict_bias`` carried as ``prediction``. Any unfitted
        scikit-learn transformer is used as the sieve's basis instead. Needs the
        capabilities ``"scores"`` and ``"refit_final"`` (``"dr"``, ``"r"``). Coverage of the true
        Delta(x) (``benchmarks/bench_validity.py sieve``, 65 fits per cell): 0.94-0.96 pointwise
        where the bias is additive; 0.93 at 50-100 gold rows on ``nonlinear_bias`` (linear band
        0.85) and 0.92 at 500, where the bias's non-additive part (8 % of its variance) is half
        an SE; with gold selected on x the fast sieve under-covers like the fast linear band.
        ``"spline_pairs"``: the same sieve plus the pairwise interactions of the 5
        highest-variance coordinates (``spline_basis(pairs=5)``, 210 more columns), whose
        target is Delta(x) also when the bias has interactions among those coordinates:
        on ``nonlinear_bias`` at 500 gold rows it covered 0.947 pointwise and 0.92 uniformly
        (110 fits); where the bias is additive it is about a fifth wider at 500 gold rows and
        covered 0.93-0.94 pointwise.
    data : RoutingData or (X, y, source), optional
        The router's training data; required by ``method="refit"`` (the estimator does
        not keep its training data).
    rng : None, int or numpy.random.Generator
        Seed of the resampling; the same seed gives the same band for any ``n_jobs``.
    n_jobs : int or None
        joblib workers.
    resampling : {"auto", "rows", "weights"}, default "auto"
        How ``method="refit"`` (and ``"both"``) perturbs the data (:func:`refit_bootstrap`):
        rows drawn with replacement within source, or Exp(1) row weights (the weighted
        bootstrap; needs the learner capability ``"sample_weight"`` and a scale other than
        ``"amplitude"``). ``"auto"``: weights where they apply, else rows.
    progress : bool, default True
        A progress bar for ``method="refit"`` (on a terminal only; False switches it off).

    Returns
    -------
    Band
        ``estimate``, ``low``, ``high``, ``std_error``, the bootstrap ``draws`` and
        ``target``, which states what the band covers: for the shipped DR and R learners,
        Delta(x) **projected on the final stage's class** (linear in x with the default
        ridge), conditional on the cross-fitted nuisances for ``"fast"``. Where Delta is
        not in that class the band can under-cover Delta(x) itself
        (``benchmarks/bench_validity.py``; :func:`~metarouter_stats.bias_by_group` gives
        intervals for the average bias of groups of queries that need no model of Delta).
        ``outside_overlap`` flags points where gold queries are rare (learners with the
        ``"propensity"`` capability); when gold queries look selected on x (more than 5 %
        of preference rows there) a RuntimeWarning says the band may under-cover there.

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=20, rng=0)
    >>> router = mrs.MetaRouter(random_state=0).fit(s.train)
    >>> band = mrs.bias_interval(router, s.X_test, n_boot=50, rng=0)
    >>> band.low.shape, band.method
    ((20,), 'fast')

    A band for Delta(x) itself (an additive spline sieve), wider than the linear one:

    >>> curve = mrs.bias_interval(router, s.X_test, n_boot=50, final_stage="spline", rng=0)
    >>> bool((curve.high - curve.low).mean() > (band.high - band.low).mean())
    True
    """
    learner = fitted_learner(router, "bias_interval")
    if not hasattr(router, "scale_"):
        raise TypeError(f"`router` must be a fitted MetaRouter; got {type(router).__name__}.")
    # the router's column contract (count, names, order) before any work; Delta_hat itself is reused
    delta = router.predict_bias(X, units="preference")
    X = as_2d_float(X.X if isinstance(X, RoutingData) else X, "X")
    units = check_units(units)
    auto = method is None
    if resampling != "auto" and resampling not in RESAMPLINGS:
        raise ValueError(f"`resampling` must be 'auto' or one of {RESAMPLINGS}; got {resampling!r}.")
    basis = _final_stage(final_stage)
    level, n_boot, method, undersmooth = _bias_interval_iv(
        learner, confidence_level, n_boot, kind, method, undersmooth, basis)
    if auto and method == "fast" and data is not None and poor_overlap_share(learner) > 0.05:
        # gold selected on x: the fast band freezes the propensity and under-covers at 50-100 gold rows, the refit
        # bootstrap at 500 (bench_validity.py selection); the larger of the two SEs covers at each size
        method = "both"
    if (auto and method == "fast" and data is not None and kind == "uniform" and has_capability(learner, "scores")
            and int(np.sum(learner.scores_.source == 1)) < SMALL_GOLD):
        # few gold rows: the fast uniform band is short of its level (0.85-0.89 at 50 gold rows); the larger of the
        # fast and refit SEs covered 24 of 24 fits on paper at 50 gold rows and 7 of the fast band's 9 failures
        method = "both"
    n_jobs = check_n_jobs(n_jobs)
    gen = as_rng(rng)
    c = float(router.scale_)
    if method == "learner":
        require_capability(learner, "intervals", "method='learner'")
        estimate = delta
        low, high = learner.effect_interval(X, alpha=1 - level)
        z = float(stats.norm.ppf(0.5 + level / 2))
        factor = c if units == "gold" else 1.0
        return Band(
            estimate=frozen_array(estimate / factor), low=frozen_array(np.asarray(low) / factor),
            high=frozen_array(np.asarray(high) / factor),
            std_error=frozen_array((np.asarray(high) - np.asarray(low)) / (2 * z) / factor),
            draws=frozen_array(np.empty((0, estimate.size))), kind="pointwise", confidence_level=level,
            critical_value=z, method=f"learner ({type(learner).__name__})",
            target=("Delta(x), by the learner's own pointwise intervals, c treated as known; for the causal forest "
                    "NOT calibrated: 0.43-0.66 coverage at 95 % nominal, 300 gold (benchmarks/results/forest.md)"),
        )
    what = _TARGET_PROJECTION if basis is None else _sieve_target(basis, undersmooth)
    unit = c if units == "gold" else 1.0  # the fast band's draws share the router's c
    if method in ("fast", "both"):
        estimate, draws = fast_bootstrap(learner, X, n_boot, gen, n_jobs=n_jobs, penalty_factor=undersmooth,
                                         basis=basis)
        draws = draws / unit
        target = what + "; conditional on the cross-fitted nuisances and c"
    if method in ("refit", "both"):
        if method == "refit":  # "both" keeps the fast bootstrap's full-data fit, computed above
            estimate = _full_data_fit(learner, X, delta, basis, undersmooth)
        if resampling == "auto":
            resampling = _auto_resampling(router)
        refit_draws, factors = refit_bootstrap(router, data, X, n_boot, gen, n_jobs, progress=progress,
                                               penalty_factor=undersmooth, basis=basis, resampling=resampling)
        # each replicate's own c converts it to gold units
        refit_draws = refit_draws / factors[:, None] if units == "gold" else refit_draws
        how = "rows resampled" if resampling == "rows" else "rows reweighted (Exp(1) weights)"
        if method == "refit":
            draws = refit_draws
            target = what + f"; nuisances and c re-estimated in every replicate ({how})"
        else:
            draws = _larger_spread(refit_draws, draws)
            target = what + (f"; standard error the larger of the fast bootstrap's (nuisances and c held fixed) and "
                             f"the refit bootstrap's (nuisances and c re-estimated, {how}) at each point")
    estimate = estimate / unit
    n_gold = int(np.sum(learner.scores_.source == 1)) if has_capability(learner, "scores") else None
    if kind == "uniform" and method == "fast" and n_gold is not None and n_gold < SMALL_GOLD:
        target += (f"; with {n_gold} gold rows this fast uniform band is short of its level: 0.85-0.89 at 50 gold rows "
                   "for 0.95 in the package's benchmarks (its SE misses the nuisances' variation; docs/benchmarks.md); "
                   "pass the training data (`data=`) for method='both'")
    flags, overlap_note = overlap_check(learner, X, "bias_interval")
    target += f"; {overlap_note}" if overlap_note else ""
    prediction = delta if undersmooth != 1.0 or basis is not None else None
    prediction = None if prediction is None else prediction / unit
    if prediction is not None:
        centre = "the sieve's fit" if basis is not None else f"the undersmoothed fit (ridge penalty x {undersmooth:g})"
        target += f"; centred at {centre}, not at predict_bias (both in the band: `estimate`, `prediction`)"
    return make_band(estimate, draws, kind=kind, confidence_level=level, method=method, target=target,
                     prediction=prediction, outside_overlap=flags)
