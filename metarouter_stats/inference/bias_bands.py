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
    spread where gold is plentiful, and the larger of the two keeps the level at every gold
    size there (``benchmarks/validity/run.py selection``, ``docs/benchmarks.md``).
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


import numbers
from typing import Any

import numpy as np
from scipy import stats

from .._checks import as_2d_float, as_rng, check_fraction, check_n_jobs, check_resamples
from .._threads import budgeted
from .._results import frozen_array
from ..cate import has_capability, require_capability
from .._resampling import KINDS, POOR_OVERLAP_SHARE, Band, make_band
from ..data import RoutingData
from ..routers import check_units
from .heterogeneity import fitted_learner

__all__ = ["DEFAULT_SIEVE_UNDERSMOOTH", "DEFAULT_UNDERSMOOTH", "METHODS", "bias_interval", "spline_basis"]
from .sieve import DEFAULT_SIEVE_PAIRS, DEFAULT_SIEVE_UNDERSMOOTH, LinearBasis, sieve_target, spline_basis
from ..cate.final_stage import SelectedFinalStage
from .overlap import overlap_check, poor_overlap_share
from .band_engines import (
    RESAMPLINGS, auto_resampling, full_data_fit, larger_spread, fast_bootstrap, refit_bootstrap,
)

DEFAULT_UNDERSMOOTH = 0.1  # ridge penalty factor of the fast band (docs/benchmarks.md)


METHODS = ("fast", "refit", "both", "learner")


# below this many gold rows the fast uniform band is short of its level (benchmarks/validity/run.py fits, sieve,
# smallgold; docs/benchmarks.md): its target says so
SMALL_GOLD = 100


_TARGET_PROJECTION = (
    "the best linear predictor of the bias given x (Delta(x) projected on the final stage's model class: "
    "linear in x for the default ridge), not Delta(x) itself unless Delta lies in that class"
)


def _final_stage(final_stage: Any, learner: Any = None) -> Any:
    """None for the learner's own final stage, else an unfitted basis transformer.

    ``"auto"``: the learner's own final stage, except a final stage chosen among several
    (:class:`~metarouter_stats.cate.final_stage.SelectedFinalStage`, the default's), whose band
    is the linear one (``"linear"``): the best linear predictor is the target the package's band
    benchmarks measured.
    """
    if isinstance(final_stage, str):
        if final_stage == "auto":
            selected = isinstance(getattr(learner, "final_model_", None), SelectedFinalStage)
            return LinearBasis() if selected else None
        if final_stage == "learner":
            return None
        if final_stage == "linear":
            return LinearBasis()
        if final_stage == "spline":
            return spline_basis()
        if final_stage == "spline_pairs":
            return spline_basis(pairs=DEFAULT_SIEVE_PAIRS)
    elif hasattr(final_stage, "fit") and hasattr(final_stage, "transform"):
        return final_stage
    raise ValueError(
        "`final_stage` must be 'auto', 'learner' (the learner's own final stage), 'linear' (ridge on x refitted on "
        "the learner's scores), 'spline' (an additive spline sieve "
        "whose target is Delta(x)), 'spline_pairs' (the same plus pairwise interactions of the leading "
        f"coordinates) or an unfitted scikit-learn transformer (a sieve basis); got {final_stage!r}."
    )


def studentised_scale(draws: np.ndarray, draw_se: np.ndarray) -> dict[str, np.ndarray]:
    """``make_band``'s studentising arguments: the draws' SD, and each draw's sandwich SE on that SD's scale.

    The band keeps the draws' SD as its SE (the pointwise band is unchanged) and studentises
    replicate b at point j by ``SD_j * SE*_bj / mean_b SE*_bj``: only the sandwich's relative variation
    between replicates enters, standing in for how much the band's SE varies between samples. A
    bootstrap-t band does not move when its SE estimator is multiplied by a constant; dividing by the
    replicates' own mean (not by the full-data sandwich) also removes a shift in level between the
    replicates' sandwich and the sample's, which would otherwise move the critical value by itself: the
    R-learner's weighted final stage, whose few heavy rows have high leverage at small gold sizes, gave
    replicate sandwich SEs 1.07-1.38 times the sample's at 60-100 gold rows and d = 50, and critical
    values down to 2.2 where the plain sup-t gave 3.1 (at 500 gold rows the two levels agree).
    Points whose replicates' SEs are all 0 are standardised by the SD alone.
    """
    sd = draws.std(axis=0, ddof=1)
    level = draw_se.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(level > 0, draw_se / level * sd, sd)
    return {"std_error": sd, "draw_std_errors": scaled}


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
        if isinstance(basis, LinearBasis):
            undersmooth = DEFAULT_UNDERSMOOTH
        elif basis is not None:
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
    final_stage: Any = "auto",
    data: Any = None,
    resampling: str = "auto",
    studentize: bool | None = None,
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
        m points by the sup-t construction (studentised for the fast band: ``studentize``). With fewer than 100 gold rows the fast uniform band
        is short of its level (its SE misses the nuisances' variation it freezes), and its
        ``target`` says so. Given ``data``, a uniform band with fewer than 100 gold rows uses
        ``method="both"`` instead (below).
    method : {"fast", "refit", "both", "learner"} or None, default None
        None: ``"fast"`` when the learner declares ``"scores"`` and ``"refit_final"``,
        else ``"learner"`` when it declares ``"intervals"``, else ``"fast"`` (which then
        says which capability is missing); but ``"both"`` when gold queries look selected on
        x (more than 5 % of preference rows outside the overlap, the positivity report's rule)
        and ``data`` is given: there the fast band under-covers at small gold sizes and the
        refit band at large ones, and ``"both"`` (at each point the larger of the two SEs)
        keeps the level at each. ``"both"`` costs what ``"refit"`` costs (``n_boot`` refits
        of every stage). Also ``"both"`` for a uniform band with fewer than 100 gold rows when
        ``data`` is given, linear or sieve (``benchmarks/validity/run.py selection``, ``fits``,
        ``sieve``; coverage in ``docs/benchmarks.md``). See the module docstring.
    units : {"gold", "preference"}, default "gold"
    undersmooth : float in (0, 1] or None, default None
        ``method="fast"`` or ``"refit"`` with a penalised final stage (capability ``"undersmooth"``):
        multiply the chosen ridge penalty by this factor for the band, which is then
        centred at that less-shrunk fit: ``band.estimate`` is **not** ``predict_bias``;
        the band carries both (``estimate``, ``prediction``) and its summary reports the gap.
        The leave-one-out penalty is tuned for prediction, and its shrinkage bias makes a band
        centred at the prediction under-cover (``benchmarks/coverage/run.py``,
        ``docs/benchmarks.md``). None means 0.1 where
        it applies and 1 (no change) otherwise; with a sieve (``final_stage``), its
        leave-one-out penalty times this factor, None meaning 0.01.
    final_stage : {"auto", "learner", "linear", "spline", "spline_pairs"} or transformer, default "auto"
        What the band is about. ``"learner"``: the learner's own final stage, whose target
        is Delta(x) projected on its model class (the best linear predictor of the bias given
        x for a linear ridge; it does not cover Delta(x) when the bias is non-linear).
        ``"linear"``: ridge on x refitted on the learner's cross-fitted scores (its own
        leave-one-out penalty, undersmoothed like the learner's), target the best linear
        predictor, whatever the learner's final stage. ``"auto"``: ``"linear"`` when the
        learner's final stage was chosen among candidates (the default
        :class:`~metarouter_stats.cate.final_stage.SelectedFinalStage`, which routes with a blend of
        linear and spline fits; the band then keeps the target the package's coverage benchmarks
        measured, and ``predict_bias`` travels as ``prediction``), else ``"learner"``. ``"spline"``: an additive cubic-spline sieve
        (:func:`~metarouter_stats.inference.spline_basis`) refitted on the learner's
        cross-fitted scores and undersmoothed, whose target is **Delta(x) itself** when the
        bias is a sum of smooth functions of single coordinates (its best such
        approximation otherwise); wider (SE about twice the linear band's), centred at the
        sieve's fit, with ``predict_bias`` carried as ``prediction``. Any unfitted
        scikit-learn transformer is used as the sieve's basis instead. Needs the
        capabilities ``"scores"`` and ``"refit_final"`` (``"dr"``, ``"r"``); with gold selected
        on x the fast sieve under-covers like the fast linear band.
        ``"spline_pairs"``: the same sieve plus the pairwise interactions of the 5
        highest-variance coordinates (``spline_basis(pairs=5)``, 210 more columns), whose
        target is Delta(x) also when the bias has interactions among those coordinates; wider
        where the bias is additive. Coverage of the true Delta(x) by scenario and gold size:
        ``benchmarks/validity/run.py sieve`` and ``docs/benchmarks.md``.
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
    studentize : bool or None, default None
        ``method="fast"`` with a refitted final stage (``final_stage`` "linear", "spline",
        "spline_pairs", a basis, or "auto" on the default learner), ``kind="uniform"``: the
        critical value is the **studentised** sup-t, the quantile of
        ``max_j |draw_j - estimate_j| / SE*_j``, each replicate divided by its own sandwich SE
        of that ridge fit (penalty held fixed; clustered by query on paired data;
        :class:`~metarouter_stats.inference.sieve.RidgeSandwich`), rescaled point by point so
        that its mean over the replicates is the draws' SD, which stays the band's SE. It
        accounts for how much the SE varies between samples, which the plain sup-t (the draws'
        spread standing in for a known SD) ignores and the maximum over many points magnifies
        (coverage of both in ``benchmarks/uniform_bands`` and ``docs/benchmarks.md``). The
        pointwise band is the same either way. None: True where it applies. False: the plain
        sup-t (the band before).
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
        (``benchmarks/validity/run.py``; :func:`~metarouter_stats.bias_by_group` gives
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
    # "auto" with the learner's own intervals: the learner's final stage (no sieve to refit)
    basis = None if (final_stage == "auto" and method == "learner") else _final_stage(final_stage, learner)
    level, n_boot, method, undersmooth = _bias_interval_iv(
        learner, confidence_level, n_boot, kind, method, undersmooth, basis)
    if auto and method == "fast" and data is not None and poor_overlap_share(learner) > POOR_OVERLAP_SHARE:
        # gold selected on x: the fast band freezes the propensity and under-covers with little gold, the refit
        # bootstrap with much (benchmarks/validity, selection); the larger of the two SEs covers at each size
        method = "both"
    if (auto and method == "fast" and data is not None and kind == "uniform" and has_capability(learner, "scores")
            and int(np.sum(learner.scores_.source == 1)) < SMALL_GOLD):
        # few gold rows: the fast uniform band is short of its level; the larger of the fast and refit SEs keeps it
        # (benchmarks/validity, fits and smallgold)
        method = "both"
    if studentize is not None and not isinstance(studentize, (bool, np.bool_)):
        raise ValueError(f"`studentize` must be True, False or None; got {studentize!r}.")
    if studentize and (method != "fast" or basis is None):
        raise ValueError(
            "`studentize=True` needs method='fast' with a final stage the band refits (final_stage='linear', 'spline', "
            "'spline_pairs', a basis, or 'auto' on the default learner), whose ridge fits have a sandwich SE; got "
            f"method={method!r}, final_stage={final_stage!r}. Use studentize=None or False.")
    studentize = bool(method == "fast" and basis is not None) if studentize is None else bool(studentize)
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
                    "NOT calibrated: it under-covers (benchmarks/forest/summary.md, docs/benchmarks.md)"),
        )
    what = _TARGET_PROJECTION if basis is None else sieve_target(basis, undersmooth)
    unit = c if units == "gold" else 1.0  # the fast band's draws share the router's c
    if method in ("fast", "both"):
        estimate, draws, _, fast_draw_se = fast_bootstrap(
            learner, X, n_boot, gen, n_jobs=n_jobs, penalty_factor=undersmooth, basis=basis)
        draws = draws / unit  # the SEs keep the draws' scale: only their ratios enter the band
        target = what + "; conditional on the cross-fitted nuisances and c"
        if studentize and kind == "uniform":
            target += "; studentised sup-t critical value (each replicate divided by its own sandwich SE)"
    if method in ("refit", "both"):
        if method == "refit":  # "both" keeps the fast bootstrap's full-data fit, computed above
            estimate = full_data_fit(learner, X, delta, basis, undersmooth)
        if resampling == "auto":
            resampling = auto_resampling(router)
        refit_draws, factors = refit_bootstrap(router, data, X, n_boot, gen, n_jobs, progress=progress,
                                               penalty_factor=undersmooth, basis=basis, resampling=resampling)
        # each replicate's own c converts it to gold units
        refit_draws = refit_draws / factors[:, None] if units == "gold" else refit_draws
        how = "rows resampled" if resampling == "rows" else "rows reweighted (Exp(1) weights)"
        if method == "refit":
            draws = refit_draws
            target = what + f"; nuisances and c re-estimated in every replicate ({how})"
        else:
            draws = larger_spread(refit_draws, draws)
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
        centre = ("the sieve's fit" if basis is not None and not isinstance(basis, LinearBasis) else
                  f"the undersmoothed fit (ridge penalty x {undersmooth:g})")
        target += f"; centred at {centre}, not at predict_bias (both in the band: `estimate`, `prediction`)"
    studentised: dict[str, Any] = {}
    if studentize and fast_draw_se is not None:  # the sieve path returns it
        studentised = studentised_scale(draws, fast_draw_se)
    return make_band(estimate, draws, kind=kind, confidence_level=level, method=method, target=target,
                     prediction=prediction, outside_overlap=flags, **studentised)
