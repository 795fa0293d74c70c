"""The analysis report, computed once: :func:`analyse` fits, tests and evaluates, and returns an :class:`Analysis`.

No HTML here: :mod:`.sections` lays an :class:`Analysis` out, one renderer per section, and
:func:`~metarouter_stats.report.analysis_report` is the two in turn. Every number a report shows is in
``Analysis.results`` (``Report.results``), so it can be reused without parsing HTML.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._checks import as_1d_float, as_2d_float, check_fraction, check_random_state, check_resamples
from .._resampling import subsample
from ..cate import has_capability, make_learner
from ..data import RoutingData
from ..decision import TokenCost, cost_matrix
from ..evaluation import (
    cost_quality_frontier, cross_fit_scores, efficiency_gain, efficiency_gain_interval, evaluate_routers,
)
from ..evaluation.curves import DEFAULT_RATES, check_rates
from ..experiment import default_routers
from ..inference import bias_heterogeneity_test, bias_interval, bias_ttest, scale_sensitivity
from ..multi_judge import MultiJudgeRouter
from ..planning import compare_judges, gold_learning_curve, plan_gold, plan_heterogeneity
from ..positivity import positivity_report
from ..routers import MetaRouter, OracleRouter
from ..scaling import SCALE_DEFAULT, choose_scale
from ..simulation import SimulatedStudy
from .verdicts import comparison_row, decisions

__all__ = ["Analysis", "analyse"]

_MAX_BAND_POINTS = 400
CROSSFIT_FOLDS = 5
# the baselines cross-fitted beside the report's Meta-router (one Meta-router: each costs CROSSFIT_FOLDS fits)
CROSSFIT_ROUTERS = ("gold-only", "preference-only", "pooled", "mean-shift", "random")

# section headings, in the order the report shows them (the summary first)
SUMMARY = "Summary: what the data say"
DATA = "Data"
SCALE = "Scale constant c"
TTEST = "Is the preference mechanism biased? t-test of the mean bias"
SENSITIVITY = "Does the conclusion depend on the scale c?"
POSITIVITY = "Positivity: do gold and preference queries overlap?"
BIAS = "The bias function Delta_hat(x)"
EG = "Efficiency gain of every router"
COSTS = "Decisions under token costs"
PLAN = "How many gold labels? Precision, power and routing quality by gold size"
JUDGES = "Several judges: each judge's bias and worth in gold labels"
#: Name of the multi-judge Meta-router added to the compared routers when the data carry several judges.
MULTI_JUDGE = "meta-judges"
REPRODUCTION = "Reproduction"
FIT = "Fitting the Meta-router"  # computed, not a section of its own: its seconds are reported


@dataclass(kw_only=True)
class Analysis:
    """Everything an analysis report shows, computed once (see :func:`analyse`).

    Attributes
    ----------
    title, primary, alternative : str
    level : float
        The confidence level of every interval.
    n_boot : int
    rates : ndarray
        The usage rates of the efficiency-gain tables.
    full, train : RoutingData
        Every row (data summary, scale, t-test, positivity) and the rows the routers are fitted
        on (``full`` minus a held-out test set).
    holdout : float or None
    gold_test : ndarray or None
        The test set's gold labels, if any.
    paired : (gold, preference) or None
        The labels of queries labelled by both mechanisms.
    results : dict
        The named objects the report shows (``Report.results``).
    parts : dict of section heading -> dict
        What each section's renderer needs beyond ``results`` (tables, notes, figure inputs).
    seconds : dict of section heading -> float
        Wall-clock seconds spent computing each section.
    """

    title: str
    primary: str
    alternative: str
    level: float
    n_boot: int
    rates: np.ndarray
    full: RoutingData
    train: RoutingData
    holdout: float | None
    gold_test: np.ndarray | None
    paired: tuple[np.ndarray, np.ndarray] | None
    results: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    progress: Any = field(default=None, repr=False)

    @contextmanager
    def computing(self, heading: str) -> Iterator[dict[str, Any]]:
        """Time the computation of one section (and tick the progress bar); yields the section's parts."""
        if self.progress is not None:
            self.progress.set_description_str(f"report: {heading[:40]}")
            self.progress.update(1)
        t0 = time.perf_counter()
        part = self.parts.setdefault(heading, {})
        try:
            yield part
        finally:
            self.seconds[heading] = self.seconds.get(heading, 0.0) + time.perf_counter() - t0


def _paired_labels(data: RoutingData) -> tuple[np.ndarray, np.ndarray] | None:
    """Gold and preference labels of queries labelled by both mechanisms (None if fewer than 2)."""
    paired = data.paired()
    if len(paired) < 2:
        return None
    return paired["gold"].to_numpy(dtype=float), paired["preference"].to_numpy(dtype=float)


def _resolve_test(obj: Any, test: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    if test is None:
        if isinstance(obj, SimulatedStudy):
            return np.asarray(obj.X_test, dtype=float), np.asarray(obj.gold_test, dtype=float)
        return None, None
    if isinstance(test, RoutingData):
        gold = test.is_gold
        if gold.sum() < 2:
            raise ValueError(f"`test` must hold at least 2 gold rows; got {int(gold.sum())}.")
        return test.X[gold], test.outcome[gold]
    if isinstance(test, tuple) and len(test) == 2:
        X = as_2d_float(test[0], "test[0] (X_test)")
        g = as_1d_float(test[1], "test[1] (gold_test)")
        if X.shape[0] != g.size:
            raise ValueError(f"`test` must be (X_test, gold_test) of equal length; got {X.shape[0]} and {g.size} rows.")
        return X, g
    raise TypeError(
        "`test` must be a RoutingData (its gold rows are used), a tuple (X_test, gold_test) or None; "
        f"got {type(test).__name__}."
    )




def analyse(
    data: RoutingData | SimulatedStudy,
    *,
    test: Any = None,
    routers: Mapping[str, Any] | None = None,
    scale: Any = SCALE_DEFAULT,
    costs: Mapping[str, TokenCost] | None = None,
    n_in: Any = None,
    n_out: Any = None,
    rates: Any = None,
    confidence_level: float = 0.95,
    n_boot: int = 500,
    rng: int = 0,
    cate: Any = "auto",
    title: str | None = None,
    config: Mapping[str, Any] | None = None,
    holdout: float | None = None,
    progress: bool = True,
    plan: bool = False,
) -> Analysis:
    """Fit the routers, run the diagnostics and tests, evaluate: every number of the report, once.

    See :func:`metarouter_stats.report.build_report` (the public entry point) for the arguments.
    """
    t0 = time.perf_counter()
    study = data if isinstance(data, SimulatedStudy) else None
    train = data.train if isinstance(data, SimulatedStudy) else data
    if not isinstance(train, RoutingData):
        raise TypeError(f"`data` must be a RoutingData, a SimulatedStudy or a StudyResult; got {type(data).__name__}.")
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=20)
    check_random_state(rng, "rng")  # a seed: a non-negative integer (or None)
    # children: positivity folds, bias bands, heterogeneity folds, EG bands, holdout split
    seeds = np.random.SeedSequence(rng).spawn(5)
    full = train  # data summary, scale, t-test and positivity use every row
    if holdout is not None:
        if test is not None or study is not None:
            raise ValueError("`holdout` splits real data without a test set; do not combine it with `test` or a SimulatedStudy.")
        train, X_hold, g_hold = train.holdout_gold(holdout, rng=seeds[4])
        test = (X_hold, g_hold)
        folds = int(getattr(make_learner("dr" if isinstance(cate, str) and cate == "auto" else cate), "cv", 5))
        if train.n_gold < 2 * folds:
            raise ValueError(
                f"`holdout`={holdout} leaves {train.n_gold} gold rows for training; the Meta-router's {folds}-fold "
                f"cross-fitting needs at least {2 * folds}. Lower `holdout`."
            )
    r = check_rates(rates) if rates is not None else np.asarray(DEFAULT_RATES, dtype=float)
    X_test, gold_test = _resolve_test(data, test)
    if X_test is not None and X_test.shape[1] != train.n_features:
        raise ValueError(f"`test` must have {train.n_features} features like the training data; got {X_test.shape[1]}.")
    s_pos, s_band, s_het, s_eg = (int(s.generate_state(1)[0]) for s in seeds[:4])
    primary, alternative = train.model_names

    from tqdm.auto import tqdm  # noqa: PLC0415 - TTY-aware progress bar

    a = Analysis(title=title or f"Meta-router analysis: {primary} vs {alternative}", primary=primary,
                 alternative=alternative, level=level, n_boot=n_boot, rates=r, full=full, train=train,
                 holdout=holdout, gold_test=gold_test, paired=_paired_labels(full),
                 progress=tqdm(total=None, unit="section", leave=False, disable=None if progress else True))
    try:
        _data(a)
        choice, sens = _scale(a, scale)
        with a.computing(FIT):
            meta = MetaRouter(cate=cate, scale=scale, random_state=rng).fit(train)
        tests = _ttest(a, choice, s_pos)
        _sensitivity(a, sens)
        _positivity(a, s_pos)
        _bias(a, meta, X_test, study, tests, cate, s_band, s_het)
        if several_judges(full):
            _judges(a, scale, s_het)
        with a.computing(EG) as part:
            if (X_test is None or gold_test is None) and study is None:
                oof = _crossfit(a, part, meta, routers, rng, scale, s_eg)
                if costs is not None:
                    cf_gold = a.results["crossfit"]["gold"]
                    _costs(a, costs, n_in, n_out, cf_gold[~np.isnan(cf_gold)], oof,
                           "gold-labelled queries (out-of-fold scores)")
            elif X_test is None or gold_test is None:
                part["note"] = "No test set: pass `test=` (held-out queries with gold labels) to compare routers."
            else:
                scores = _test_set(a, part, meta, routers, rng, scale, study, X_test, gold_test, s_eg)
                if costs is not None:
                    _costs(a, costs, n_in, n_out, gold_test, scores, "test queries")
        if plan:
            _plan(a, cate, scale, s_het)
        with a.computing(SUMMARY):
            a.results["summary"] = decisions(a.results, level, gold_test.size if gold_test is not None else 0,
                                             train.n_gold)
        settings = {"rng": rng, "cate": cate if isinstance(cate, str) else repr(cate), "scale": scale,
                    "holdout": holdout, "confidence_level": level, "n_boot": n_boot,
                    "rates": [float(v) for v in r], "routers": list(a.results.get("eg_bands", {})) or None}
        if study is not None:
            settings["simulation"] = {"scenario": study.scenario, "true_c": study.scale}
        if config:
            settings["config"] = dict(config)
        a.results["config"] = settings
    finally:
        a.progress.close()
        a.progress = None
    a.results["seconds"] = time.perf_counter() - t0
    a.results["section_seconds"] = dict(a.seconds)
    return a


# ---------------------------------------------------------------------------- one function per section


def _data(a: Analysis) -> None:
    with a.computing(DATA) as part:
        full = a.full
        out, is_gold = full.outcome, full.is_gold
        groups: dict[str, np.ndarray] = {"gold": is_gold, "preference": ~is_gold}
        if several_judges(full):  # every judge on its own row, then all of them (what the pooled sections use)
            groups = {"gold": is_gold, **{f"judge: {j}": np.asarray(full.mechanism == j) for j in full.judges},
                      "preference (all judges)": ~is_gold}
        summary = pd.DataFrame(
            {
                "mechanism": list(groups),
                "rows": [int(m.sum()) for m in groups.values()],
                "mean gain": [out[m].mean() for m in groups.values()],
                "sd gain": [out[m].std(ddof=1) for m in groups.values()],
                "min": [out[m].min() for m in groups.values()],
                "max": [out[m].max() for m in groups.values()],
            }
        )
        part["table"] = summary
        a.results["data_summary"] = summary


def several_judges(data: RoutingData) -> bool:
    """Whether the data name more than one judge (``mechanism``): the pooled sections then take them as one."""
    return data.mechanism is not None and len(data.judges) > 1


def with_multi_judge(protos: dict[str, Any], data: RoutingData, scale: Any, rng: int) -> dict[str, Any]:
    """The default routers, with ``MULTI_JUDGE`` right after the first Meta-router (first without one) on data
    naming several judges; unchanged otherwise."""
    if not several_judges(data):
        return protos
    names = list(protos)
    at = next((i + 1 for i, v in enumerate(protos.values()) if isinstance(v, MetaRouter)), 0)
    multi = MultiJudgeRouter(scale=scale, random_state=rng)
    return {**{k: protos[k] for k in names[:at]}, MULTI_JUDGE: multi, **{k: protos[k] for k in names[at:]}}


def _judges(a: Analysis, scale: Any, seed: int) -> None:
    """Each judge against gold (:func:`~metarouter_stats.compare_judges`): the pooled sections above take the
    judges as one preference mechanism with one bias."""
    with a.computing(JUDGES):
        a.results["judges"] = compare_judges(a.full, scale=scale, heterogeneity=False, n_boot=a.n_boot,
                                             confidence_level=a.level, rng=seed)


def _scale(a: Analysis, scale: Any) -> tuple[Any, Any]:
    with a.computing(SCALE) as part:
        full, paired = a.full, a.paired
        out, is_gold = full.outcome, full.is_gold
        g_lab, p_lab = (paired if paired is not None else (out[is_gold], out[~is_gold]))
        # the sensitivity analysis estimates c by every method: its estimates fill the scale table too
        sens = scale_sensitivity(g_lab, p_lab, paired=paired is not None, confidence_level=a.level)
        scales = pd.DataFrame({"method": list(sens.estimates), "c": list(sens.estimates.values())})
        # the c of every statement about the bias: chosen on the rows the t-test uses (all of them)
        choice = choose_scale(scale, full.outcome, full.source, query_ids=full.query_ids, shared_scale=full.shared_scale)
        part.update(table=scales, scale=scale, labels=(g_lab, p_lab))
        a.results["scales"] = scales
        a.results["scale_choice"] = choice
    return choice, sens


def _ttest(a: Analysis, choice: Any, seed: int) -> dict[str, Any]:
    with a.computing(TTEST) as part:
        g_lab, p_lab = a.parts[SCALE]["labels"]
        paired = a.paired is not None
        tests = {"labels as given (c = 1)": bias_ttest(g_lab, p_lab, paired=paired, scale=1.0)}
        if not np.isclose(choice.value, 1.0):
            # c re-estimated from these labels by the same rule, its error propagated
            res = (bias_ttest(g_lab, p_lab, paired=paired, scale=choice.method, rng=seed)
                   if choice.estimated else bias_ttest(g_lab, p_lab, paired=paired, scale=choice.value))
            res = dataclasses.replace(res, scale_reason=choice.reason)
            tests[f"after scale normalisation (c = {res.scale:.3f}, {res.scale_uncertainty})"] = res
        else:
            tests = {f"labels as given (c = 1: {choice.reason})":
                     dataclasses.replace(tests["labels as given (c = 1)"], scale_reason=choice.reason)}
        rows = []
        for name, res in tests.items():
            lo, hi = res.confidence_interval(a.level)
            rows.append({"labels": name, "test": "paired t" if paired else "Welch",
                         "bias (gold - preference)": res.estimate, "std. error": res.std_error,
                         f"{a.level:.0%} CI low": lo, f"{a.level:.0%} CI high": hi, "t": res.statistic, "df": res.df,
                         "p-value": res.p_value})
        part.update(table=pd.DataFrame(rows), choice=choice)
        a.results["bias_ttest"] = tests
        final = list(tests.values())[-1]
        lo_f, hi_f = final.confidence_interval(a.level)
        try:  # how many gold labels would halve the interval: from the same rows as the interval
            a.results["gold_plan"] = plan_gold(a.full, scale=choice.value if not choice.estimated else choice.method,
                                               paired=paired, confidence_level=a.level,
                                               target_half_width=(hi_f - lo_f) / 4)
        except ValueError:
            a.results["gold_plan"] = None
    return tests


def _sensitivity(a: Analysis, sens: Any) -> None:
    with a.computing(SENSITIVITY) as part:
        ranges = sens.to_frame().groupby("verdict", sort=False)["scale"].agg(["min", "max"]).reset_index()
        ranges.columns = ["verdict", "c from", "c to"]
        part["table"] = ranges
        a.results["scale_sensitivity"] = sens


def _positivity(a: Analysis, seed: int) -> None:
    with a.computing(POSITIVITY):
        a.results["positivity"] = positivity_report(a.full.X, a.full.source, rng=seed, groups=a.full.query_ids)


def _bias(a: Analysis, meta: MetaRouter, X_test: np.ndarray | None, study: SimulatedStudy | None,
          tests: dict[str, Any], cate: Any, s_band: int, s_het: int) -> None:
    with a.computing(BIAS) as part:
        train, level, n_boot = a.train, a.level, a.n_boot
        X_eval = X_test if X_test is not None else train.X
        pick_rng = np.random.default_rng(s_band)
        if X_eval.shape[0] > _MAX_BAND_POINTS:
            X_eval = X_eval[subsample(pick_rng, X_eval.shape[0], _MAX_BAND_POINTS)]
        X_named = train.with_feature_names(X_eval)
        delta = meta.predict_bias(X_named)
        learner = meta.bias_learner_
        point = bias_interval(meta, X_named, level, n_boot=n_boot, kind="pointwise", rng=s_band)
        uniform = (bias_interval(meta, X_named, level, n_boot=n_boot, kind="uniform", rng=s_band)
                   if point.draws.shape[0] else None)
        truth = study.delta(X_eval) if study is not None else None
        scored = has_capability(learner, "scores") and has_capability(learner, "refit_final")
        het = bias_heterogeneity_test(meta, rng=s_het) if scored else None
        # the band whose target is Delta(x) itself (additive spline sieve), next to the linear one
        sieve = (bias_interval(meta, X_named, level, n_boot=n_boot, kind="pointwise", method="fast",
                               final_stage="spline", rng=s_band) if scored else None)
        part.update(n_eval=X_eval.shape[0], where="test" if X_test is not None else "training", truth=truth,
                    mean_test=list(tests.values())[-1].estimate, cate=cate, scale=float(meta.scale_))
        a.results.update(bias=delta, bias_band=point, bias_band_uniform=uniform, bias_band_sieve=sieve,
                         heterogeneity=het, meta_router=meta)


def _crossfit(a: Analysis, part: dict[str, Any], meta: MetaRouter, routers: Mapping[str, Any] | None, rng: int,
              scale: Any, seed: int) -> dict[str, np.ndarray]:
    """Routers evaluated by 5-fold cross-fitting over every query, judge labels as pseudo-gold (PPI).

    Returns the out-of-fold scores of the gold-labelled units (for the cost section).
    """
    protos = (dict(routers) if routers is not None else
              with_multi_judge(default_routers(rng, scale=scale, names=CROSSFIT_ROUTERS), a.full, scale, rng))
    oracles = [k for k, v in protos.items() if isinstance(v, OracleRouter)]
    if oracles and routers is not None:
        raise ValueError(f"`routers` {oracles} need gold labels for every training query, which only a "
                         "SimulatedStudy has; drop them for real data.")
    protos = {k: v for k, v in protos.items() if k not in oracles}
    meta_name = f"meta-{meta.cate_}" if isinstance(meta.cate_, str) else "meta"
    protos = {meta_name: clone(meta), **{k: v for k, v in protos.items() if k != meta_name}}
    cf = cross_fit_scores(protos, a.full, folds=CROSSFIT_FOLDS, rng=seed)
    gold = cf["gold"]
    has = ~np.isnan(gold)
    ev = evaluate_routers(cf["scores"], gold, pseudo_gold=cf["pseudo_gold"], n_boot=a.n_boot,
                          confidence_level=a.level, rng=np.random.default_rng(seed))
    units = "queries" if cf["unit"] == "query" else "rows"
    others = [k for k in ev.names if k != meta_name]
    comp = pd.DataFrame([comparison_row(ev.compare(meta_name, other)) for other in others])
    # the recommended usage rate: where the Meta-router gains most over random routing (rates 0.2-0.8), with the
    # uniform (sup-t) band there, which stays valid at a rate chosen from the data
    i = ev.names.index(meta_name)
    inside = (ev.rates >= 0.2 - 1e-9) & (ev.rates <= 0.8 + 1e-9)
    k = int(np.flatnonzero(inside)[np.argmax(ev.estimate[i, inside])])
    ub = ev.band(meta_name, kind="uniform")
    rec: dict[str, Any] = {"rate": float(ev.rates[k]), "gain": float(ev.estimate[i, k]), "low": float(ub.low[k]),
                           "high": float(ub.high[k]), "units": gold.size, "n_gold": int(has.sum()), "unit": units}
    if "preference-only" in ev.names:
        c = ev.compare(meta_name, "preference-only")
        rec.update(vs_judge=float(c.estimate[k]), vs_low=float(c.uniform.low[k]), vs_high=float(c.uniform.high[k]))
    part.update(kind="crossfit", meta_name=meta_name)
    a.results.update(router_comparisons=comp, router_evaluation=ev, crossfit=cf, recommendation=rec)
    return {name: v[has] for name, v in cf["scores"].items()}


def _test_set(a: Analysis, part: dict[str, Any], meta: MetaRouter, routers: Mapping[str, Any] | None, rng: int,
              scale: Any, study: SimulatedStudy | None, X_test: np.ndarray, gold_test: np.ndarray,
              seed: int) -> dict[str, np.ndarray]:
    """Every router fitted on the training rows and evaluated on the test set; returns their test scores."""
    train = a.train
    protos = dict(routers) if routers is not None else with_multi_judge(default_routers(rng, scale=scale), train,
                                                                         scale, rng)
    oracles = [k for k, v in protos.items() if isinstance(v, OracleRouter)]
    part.update(kind="test", oracle_dropped=False)
    if study is None and oracles:
        if routers is not None:
            raise ValueError(
                f"`routers` {oracles} need gold labels for every training query, which only a SimulatedStudy "
                "has; drop them for real data."
            )
        protos = {k: v for k, v in protos.items() if k not in oracles}
        part["oracle_dropped"] = True
    bands, curves, scores = {}, {}, {}
    eg_seeds = np.random.SeedSequence(seed).spawn(len(protos))
    meta_params = {**meta.get_params(deep=False), "cate": meta.cate_}  # "auto" as resolved
    for (name, proto), ss in zip(protos.items(), eg_seeds, strict=True):
        if type(proto) is MetaRouter and {**proto.get_params(deep=False), "cate": proto.cate} == meta_params:
            router = meta  # the Meta-router fitted above, same settings and seed: no second fit
        elif isinstance(proto, OracleRouter):
            router = clone(proto)
            router.fit(train.X, np.asarray(study.gold_train))  # type: ignore[union-attr]
        else:
            router = clone(proto).fit(train)
        scores[name] = router.predict_gain(train.with_feature_names(X_test))
        curves[name] = efficiency_gain(gold_test, scores[name], rates=a.rates)
        bands[name] = efficiency_gain_interval(gold_test, scores[name], a.rates, confidence_level=a.level,
                                               n_boot=a.n_boot, rng=np.random.default_rng(ss))
    a.results.update(eg_bands=bands, eg_curves=curves, scores=scores)
    metas = [k for k, v in protos.items() if isinstance(v, MetaRouter)]
    others = [k for k in scores if k not in metas[:1] and k != "oracle"]
    if metas and others:
        ev = evaluate_routers({k: scores[k] for k in [metas[0], *others]}, gold_test, confidence_level=a.level,
                              n_boot=a.n_boot, rng=np.random.default_rng(seed))
        comp = pd.DataFrame([comparison_row(ev.compare(metas[0], other)) for other in others])
        part["meta_name"] = metas[0]
        a.results["router_comparisons"] = comp
        a.results["router_evaluation"] = ev
    return scores


def _costs(a: Analysis, costs: Mapping[str, TokenCost], n_in: Any, n_out: Any, gold_test: np.ndarray,
           scores: Mapping[str, np.ndarray], where: str) -> None:
    """The cost-quality frontier of every router on gold-labelled queries."""
    with a.computing(COSTS) as part:
        primary, alternative = a.primary, a.alternative
        n_q = gold_test.size
        tok_in = np.full(n_q, float(n_in)) if np.ndim(n_in) == 0 and n_in is not None else n_in
        tok_out = (np.full((n_q, 2), float(n_out)) if np.ndim(n_out) == 0 and n_out is not None
                   and not isinstance(n_out, Mapping) else n_out)
        C = cost_matrix(costs, [alternative, primary], n_in=tok_in, n_out=tok_out, n=n_q)
        if C.shape[0] != n_q:
            raise ValueError(f"token counts must have one entry per evaluated query ({n_q}); got {C.shape[0]}.")
        gold2 = np.column_stack([np.zeros(n_q), gold_test])
        front = cost_quality_frontier(
            gold2, C, {k: np.column_stack([np.zeros(n_q), v]) for k, v in scores.items() if k not in ("oracle", "random")}
        )
        price = pd.DataFrame(  # prices as given (4 significant digits), not padded to 6 decimals
            {"model": [alternative, primary],
             "input $/M tokens": [f"{costs[m].input_price:.4g}" for m in (alternative, primary)],
             "output $/M tokens": [f"{costs[m].output_price:.4g}" for m in (alternative, primary)],
             "per call $": [f"{costs[m].per_call:.4g}" for m in (alternative, primary)],
             "mean cost per query $": [f"{v:.4g}" for v in C.mean(axis=0)]}
        )
        part.update(price=price, n=n_q, where=where)
        a.results["frontier"] = front


def _plan(a: Analysis, cate: Any, scale: Any, seed: int) -> None:
    """The mean-bias plan, the heterogeneity test's power, the learning curve."""
    with a.computing(PLAN) as part:
        meta = a.results.get("meta_router")
        learner = getattr(meta, "bias_learner_", None)
        if learner is not None and has_capability(learner, "scores") and has_capability(learner, "refit_final"):
            a.results["heterogeneity_plan"] = plan_heterogeneity(meta, test=a.results.get("heterogeneity"), rng=seed)
        train = a.train
        if train.propensity is not None and np.ptp(train.propensity) > 0:
            part["curve_note"] = ("The routing learning curve needs gold labels drawn at random; these were drawn "
                                  "with unequal known probabilities, so it is not shown.")
            return
        try:
            a.results["gold_learning_curve"] = gold_learning_curve(train, router=MetaRouter(cate=cate, scale=scale),
                                                                   n_repeats=4, rng=seed)
        except ValueError as exc:
            part["curve_note"] = f"No routing learning curve: {exc}"
