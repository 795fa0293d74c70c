"""The analysis report: one fitted Meta-router analysis, from data to routing decisions."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._checks import as_1d_float, as_2d_float, check_fraction, check_random_state, check_resamples
from ..data import RoutingData
from ..decision import TokenCost, cost_matrix
from ..evaluation import (
    DEFAULT_RATES, check_rates, cost_quality_frontier, cross_fit_scores, efficiency_gain, efficiency_gain_interval,
    evaluate_routers,
)
from ..experiment import default_routers
from ..cate import has_capability, make_learner
from ..inference import bias_heterogeneity_test, bias_interval, bias_ttest, scale_sensitivity
from ..planning import gold_learning_curve, plan_gold, plan_heterogeneity
from ..positivity import positivity_report
from ..routers import MetaRouter, OracleRouter
from ..scaling import SCALE_DEFAULT, choose_scale
from ..simulation import SimulatedStudy
from .._resampling import subsample
from .._results import router_style
from ._html import Report, json_block, versions_table

__all__ = ["analysis_report"]

_MAX_BAND_POINTS = 400
CROSSFIT_FOLDS = 5
# the baselines cross-fitted beside the report's Meta-router (one Meta-router: each costs CROSSFIT_FOLDS fits)
CROSSFIT_ROUTERS = ("gold-only", "preference-only", "pooled", "mean-shift", "random")


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


def _bias_figure(delta: np.ndarray, point: Any, uniform: Any, truth: np.ndarray | None, mean_test: float) -> Any:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax1.hist(delta, bins=30, color="#4c72b0", alpha=0.8)
    ax1.axvline(float(np.mean(delta)), color="k", linestyle="--", label=f"mean Delta_hat {np.mean(delta):.3f}")
    ax1.axvline(mean_test, color="#c44e52", linestyle=":", label=f"t-test estimate {mean_test:.3f}")
    ax1.axvline(0, color="grey", linewidth=0.8)
    ax1.set_xlabel("Delta_hat(x), gold scale")
    ax1.set_ylabel("queries")
    ax1.legend(fontsize=8)
    order = np.argsort(point.estimate)
    k = np.arange(order.size)
    ax2.fill_between(k, point.low[order], point.high[order], alpha=0.3, color="#4c72b0", label="pointwise band")
    if uniform is not None:
        ax2.plot(k, uniform.low[order], color="#4c72b0", linewidth=0.7, linestyle="--", label="uniform band")
        ax2.plot(k, uniform.high[order], color="#4c72b0", linewidth=0.7, linestyle="--")
    ax2.plot(k, point.estimate[order], color="k", linewidth=1.2, label="band centre")
    if truth is not None:
        ax2.scatter(k, truth[order], s=4, color="#c44e52", label="true Delta (simulation)", zorder=3)
    ax2.axhline(0, color="grey", linewidth=0.8)
    ax2.set_xlabel("evaluation queries, sorted by the band centre")
    ax2.set_ylabel("bias, gold scale")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _eg_figure(bands: Mapping[str, Any]) -> Any:
    """EG curves of every router, one colour per router (as in every figure), bands only for the
    Meta-routers (7-8 overlapping bands make a blob; the paired comparisons carry the rest),
    legend outside the axes, full width."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(11, 4.5))
    for name, band in bands.items():
        style = router_style(name)
        ax.plot(band.rates, band.estimate, marker="o", markersize=3, label=name, **style)
        if name.startswith("meta"):
            ax.fill_between(band.rates, band.low, band.high, alpha=0.15, color=style["color"])
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("primary-model usage rate rho")
    ax.set_ylabel("efficiency gain per test query (gold scale)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def _decisions(results: Mapping[str, Any], level: float, n_test: int, n_gold: int) -> list[str]:
    """The report's opening verdicts, each from one number shown below it (gold scale)."""
    lines = []
    tests = results.get("bias_ttest") or {}
    if tests:
        res = list(tests.values())[-1]
        lo, hi = res.confidence_interval(level)
        at_c = f"at c = {res.scale:.3g} ({res.scale_reason})"
        sens = results.get("scale_sensitivity")
        caveat = ("" if sens is None or sens.robust else
                  " The sign or significance of this bias changes with c (section on the scale c): it holds only "
                  "for the c named.")
        if lo > 0 or hi < 0:
            side = "understate" if res.estimate > 0 else "overstate"
            lines.append(f"Biased judge: the preference labels {side} the primary model's gain; mean bias "
                         f"{res.estimate:+.3f} gold units ({level:.0%} CI {lo:+.3f} to {hi:+.3f}, {_p(res.p_value)}) "
                         f"{at_c}." + caveat)
        else:
            lines.append(f"No mean bias detected: {res.estimate:+.3f} gold units ({level:.0%} CI {lo:+.3f} to "
                         f"{hi:+.3f}, {_p(res.p_value)}) {at_c}; the CI says how large a bias the data cannot "
                         "exclude." + caveat)
            plan = results.get("gold_plan")
            if plan is not None and np.isfinite(plan.n_for_half_width[0]):
                n, n_lo, n_hi = plan.n_for_half_width
                now = f"{plan.n_gold_pilot} {'pairs' if plan.paired else 'gold labels'} now"
                lines.append(f"Halving that interval (half-width {plan.target_half_width:.3f}) would take about "
                             f"{n:.0f} {'pairs' if plan.paired else 'gold labels'} ({n_lo:.0f} to {n_hi:.0f}), "
                             f"against the {now} (plan_gold, from the same labels' variances).")
    het = results.get("heterogeneity")
    if het is not None:
        if het.p_value < 1 - level:
            lines.append(f"The bias varies with the query (heterogeneity test {_p(het.p_value)}): a constant "
                         "correction (mean shift) does not remove it; the Meta-router's per-query correction is needed.")
        else:
            lines.append(f"No evidence that the bias varies with the query (heterogeneity test {_p(het.p_value)} with "
                         f"{n_gold} gold rows): a mean shift may suffice, or the test lacks the power to see it.")
    comp = results.get("router_comparisons")
    if comp is None or len(comp) == 0:
        lines.append("Routers were not compared: pass a test set with gold labels (`test=` or `holdout=`).")
        return lines
    ev = results["router_evaluation"]
    meta = ev.names[0]
    wins: list[str] = []
    ties: list[str] = []
    losses: list[str] = []
    for other in ev.names[1:]:
        c = ev.compare(meta, other)
        (wins if c.area.low > 0 else losses if c.area.high < 0 else ties).append(other)
    rec = results.get("recommendation")
    if rec is not None:
        where = (f"cross-fitted over {rec['units']} {rec['unit']} ({rec['n_gold']} with gold; paired comparisons of "
                 f"the EG area over rates 0.2-0.8, {level:.0%} level)")
        ci = (f"{level:.0%} CI {rec['low']:+.3f} to {rec['high']:+.3f}, simultaneous over rates 0.2-0.8, so valid at "
              "a rate chosen from the data")
        if rec["low"] > 0:
            line = (f"Recommended: send {rec['rate']:.0%} of queries to the primary model (the rate where {meta} gains "
                    f"most over routing at random): {rec['gain']:+.3f} gold units per query over random ({ci})")
        else:
            line = (f"No usage rate shows a gain of {meta} over routing at random that the data confirm: its best, "
                    f"sending {rec['rate']:.0%} of queries to the primary model, is {rec['gain']:+.3f} gold units per "
                    f"query over random ({ci})")
        if "vs_judge" in rec:
            line += (f", and {rec['vs_judge']:+.3f} ({rec['vs_low']:+.3f} to {rec['vs_high']:+.3f}) over a router "
                     "trained on the judge's labels alone (preference-only)")
        if rec["low"] <= 0:
            line += "; until more gold labels say otherwise, route by cost"
        lines.append(line + ".")
    else:
        where = f"on {n_test} test queries (paired comparisons of the EG area over rates 0.2-0.8, {level:.0%} level)"
    lines.extend(_verdicts(meta, wins, ties, losses, where))
    return lines


def _verdicts(meta: str, wins: list[str], ties: list[str], losses: list[str], where: str) -> list[str]:
    """Wins, losses and ties of ``meta``'s EG area against every other router, each called what it is (``where``:
    the evaluation the comparisons come from)."""
    if not ties and not losses:
        return [f"Route with {meta}: {where} it beats every other router."]
    out = []
    if wins:
        out.append(f"{meta} beats {', '.join(wins)} {where}.")
    if losses:
        out.append(f"{meta} loses to {', '.join(losses)} {where}: prefer "
                   + ("it" if len(losses) == 1 else "one of those") + f" over {meta}.")
    if ties:
        out.append(f"{meta} cannot be told from {', '.join(ties)} {where}"
                   + ("; pick among those by cost or simplicity." if wins or losses else
                      ": the data cannot tell which router to use. More gold labels would; until then the simplest "
                      "router (a mean shift, or routing at random) is as good as the evidence shows."))
    return out


def _plan_section(rep: Report, train: RoutingData, plan: Any, cate: Any, scale: Any, seed: int,
                  meta: Any = None) -> None:
    """The section "How many gold labels?": the mean-bias plan, the heterogeneity test's power, the learning curve."""
    rep.section("How many gold labels? Precision, power and routing quality by gold size")
    if plan is not None:
        n, lo, hi = plan.n_for_half_width
        p_n, p_lo, p_hi = plan.n_for_power
        rep.paragraph(
            f"From the {plan.n_gold_pilot} gold labels in hand (plan_gold): halving the mean-bias interval "
            f"(half-width {plan.target_half_width:.3f}) takes about {n:.0f} gold labels ({lo:.0f} to {hi:.0f}); "
            f"{100 * plan.target_power:.0f} % power against a mean bias of {plan.effect:+.3f} (the estimate) takes about "
            f"{p_n:.0f} ({p_lo:.0f} to {p_hi:.0f}). Ranges: the gold-variance uncertainty of these labels."
        )
        rep.table(plan.to_frame(), digits=3)
        ax = plan.plot()
        rep.figure(ax.figure, "Half-width of the mean-bias interval and power of the bias t-test by gold size.")
    learner = getattr(meta, "bias_learner_", None)
    if learner is not None and has_capability(learner, "scores") and has_capability(learner, "refit_final"):
        het_plan = plan_heterogeneity(meta, test=rep.results.get("heterogeneity"), rng=seed)  # the section's test
        h_n, h_lo, h_hi = het_plan.n_for_power
        at = {int(m): p for m, p in zip(het_plan.sizes, het_plan.power, strict=True)}
        rep.paragraph(
            "plan_heterogeneity: the heterogeneity test's power grows with the gold size as its median split t "
            f"({het_plan.noncentrality:.2f} here) times sqrt(m / {het_plan.n_gold_pilot}). "
            + (f"{100 * het_plan.target_power:.0f} % power takes about {h_n:.0f} gold labels ({h_lo:.0f} to "
               + ("no finite number" if not np.isfinite(h_hi) else f"{h_hi:.0f}")
               + "; conservative when the learner's proxy improves with more gold)." if np.isfinite(h_n) else
               "The pilot shows no heterogeneity to detect (median t <= 0): no gold size is planned.")
            + f" Power at the largest planned size ({max(at)}): {at[max(at)]:.2f}."
        )
        rep.results["heterogeneity_plan"] = het_plan
    if train.propensity is not None and np.ptp(train.propensity) > 0:
        rep.paragraph("The routing learning curve needs gold labels drawn at random; these were drawn with "
                      "unequal known probabilities, so it is not shown.", css_class="note")
        return
    try:
        curve = gold_learning_curve(train, router=MetaRouter(cate=cate, scale=scale), n_repeats=4, rng=seed)
    except ValueError as exc:
        rep.paragraph(f"No routing learning curve: {exc}", css_class="note")
        return
    est, lo, hi = curve.n_for_target
    rep.paragraph(
        "gold_learning_curve: the Meta-router refitted on nested subsets of the gold rows, each refit's EG area "
        "(rates 0.2-0.8) measured on gold rows held out from all sizes of a repeat, and "
        "A(m) = a (1 + kappa / m)^-1/2 drawn, kappa being the scores' noise-to-signal ratio measured from the "
        "refits' spread. "
        + (f"90 % of the large-sample EG area is reached at about {est:.0f} gold labels ({lo:.0f} to {hi:.0f}, "
           "given these data; the range leaves out their own sampling variation)." if np.isfinite(est) else
           "The fitted curve does not rise with more gold labels: within the noise, routing quality is saturated.")
    )
    ax = curve.plot()
    rep.figure(ax.figure, "EG area of refits on subsets of the gold rows, the fitted learning curve and its band.")
    rep.results["gold_learning_curve"] = curve


def _cost_section(rep: Report, costs: Mapping[str, TokenCost], n_in: Any, n_out: Any, gold_test: np.ndarray,
                  scores: Mapping[str, np.ndarray], primary: str, alternative: str, where: str) -> None:
    """The section "Decisions under token costs": the cost-quality frontier of every router on gold-labelled queries."""
    rep.section("Decisions under token costs")
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
    rep.paragraph(f"Route to {primary!r} iff psi_hat(x) - w * (cost difference) > 0, over a grid of weights w; "
                  f"AIQ = average quality over the budget range (higher is better); on the {n_q} {where}.")
    rep.table(price, digits=6)
    rep.table(front.areas.rename("AIQ").reset_index().rename(columns={"index": "router"}), digits=4)
    ax = front.plot()
    rep.figure(ax.figure, f"Cost-quality frontier on the {where}: mean gold gain over the alternative "
                          "against mean cost, per router, with the oracle and random references.")
    rep.results["frontier"] = front


def _crossfit_section(rep: Report, full: RoutingData, protos: dict[str, Any], meta_name: str, level: float,
                      n_boot: int, seed: int, rates: np.ndarray) -> dict[str, np.ndarray]:
    """Routers evaluated by 5-fold cross-fitting over every query, judge labels as pseudo-gold (PPI).

    Returns the out-of-fold scores of the gold-labelled units (for the cost section).
    """
    cf = cross_fit_scores(protos, full, folds=CROSSFIT_FOLDS, rng=seed)
    gold = cf["gold"]
    has = ~np.isnan(gold)
    ev = evaluate_routers(cf["scores"], gold, pseudo_gold=cf["pseudo_gold"], n_boot=n_boot, confidence_level=level,
                          rng=np.random.default_rng(seed))
    units = "queries" if cf["unit"] == "query" else "rows"
    pseudo_words = ("each query's own judge label, corrected by the Meta-router fitted without that query's fold"
                    if cf["unit"] == "query" else "the Meta-router's out-of-fold prediction psi_hat(x)")
    rep.paragraph(
        f"Every router fitted {CROSSFIT_FOLDS} times, each time without one fold of the queries (a query's rows, "
        f"gold and judge, stay in one fold), and scored on the left-out fold: out-of-fold scores on all "
        f"{gold.size} {units}. EG(rho) per query (gold scale) is estimated by prediction-powered inference (PPI++): "
        f"a pseudo-gold value on every {units[:-1]} ({pseudo_words}), rectified by the {int(has.sum())} gold labels "
        f"(treated as a random subset). [{level:.0%} pointwise interval]. Target: the average value of the "
        "fold-wise routers on the population of these queries, conditional on the fits (the intervals leave out "
        "the variability of training)."
    )
    rows = []
    for name in ev.names:
        i = ev.names.index(name)
        b = ev.band(name)
        lo, hi = b.low, b.high
        row: dict[str, Any] = {"router": name}
        for rate in rates:
            k = int(np.argmin(np.abs(ev.rates - rate)))
            row[f"EG@{rate:.1f}"] = f"{ev.estimate[i, k]:.3f} [{lo[k]:.3f}, {hi[k]:.3f}]"
        area = ev.area(name)
        row["area (0.2-0.8)"] = f"{area.estimate:.3f} [{area.low:.3f}, {area.high:.3f}]"
        rows.append(row)
    rep.table(pd.DataFrame(rows))
    rep.figure(ev.plot(routers=[n for n in ev.names if n.startswith("meta")] or None).figure,
               f"Cross-fitted EG per query with pointwise {level:.0%} bands (prediction-powered).")
    others = [k for k in ev.names if k != meta_name]
    comp = pd.DataFrame([_comparison_row(ev.compare(meta_name, other)) for other in others])
    rep.paragraph(
        f"Paired comparisons on the same {gold.size} {units}: area under EG over rates 0.2-0.8 of {meta_name!r} minus "
        f"each other router, with a {level:.0%} interval; p-values test \"no difference\" in that area and, uniformly, "
        "at every rate from 0.2 to 0.8 (sup-t)."
    )
    rep.table(comp)
    # the recommended usage rate: where the Meta-router gains most over random routing (rates 0.2-0.8), with the
    # uniform (sup-t) band there, which stays valid at a rate chosen from the data
    i = ev.names.index(meta_name)
    inside = (ev.rates >= 0.2 - 1e-9) & (ev.rates <= 0.8 + 1e-9)
    k = int(np.flatnonzero(inside)[np.argmax(ev.estimate[i, inside])])
    ub = ev.band(meta_name, kind="uniform")
    ulo, uhi = ub.low, ub.high
    rec: dict[str, Any] = {"rate": float(ev.rates[k]), "gain": float(ev.estimate[i, k]), "low": float(ulo[k]),
                           "high": float(uhi[k]), "units": gold.size, "n_gold": int(has.sum()), "unit": units}
    if "preference-only" in ev.names:
        c = ev.compare(meta_name, "preference-only")
        rec.update(vs_judge=float(c.estimate[k]), vs_low=float(c.uniform.low[k]), vs_high=float(c.uniform.high[k]))
    rep.results.update(router_comparisons=comp, router_evaluation=ev, crossfit=cf, recommendation=rec)
    return {name: v[has] for name, v in cf["scores"].items()}


def _p(p: float) -> str:
    """``p < 1e-4`` or ``p = 0.0082`` for prose."""
    return "p < 1e-4" if p < 1e-4 else f"p = {p:.2g}"


def _comparison_row(c: Any) -> dict[str, Any]:
    p_area, p_unif = c.area.p_value, c.uniform_p_value
    return {
        "comparison": f"{c.a} - {c.b}",
        "area difference": f"{c.area.estimate:+.3f} [{c.area.low:+.3f}, {c.area.high:+.3f}]",
        "p (area)": "<1e-4" if p_area < 1e-4 else f"{p_area:.4f}",
        "p (any rate)": f"<{1 / max(c.sup_t.size, 1):.0e}" if p_unif == 0 else f"{p_unif:.3f}",
    }


def analysis_report(
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
) -> Report:
    """Fit the routers, run the diagnostics and tests, and lay them out as a report.

    See :func:`metarouter_stats.report.report` (the public entry point).
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

    rep = Report(title or f"Meta-router analysis: {primary} vs {alternative}")
    rep.progress = tqdm(total=None, unit="section", leave=False, disable=None if progress else True)
    summary_at = len(rep._body)  # the summary is written last and shown first

    # ------------------------------------------------------------------ data
    rep.section("Data")
    out, is_gold = full.outcome, full.is_gold
    summary = pd.DataFrame(
        {
            "mechanism": ["gold", "preference"],
            "rows": [full.n_gold, full.n_preference],
            "mean gain": [out[is_gold].mean(), out[~is_gold].mean()],
            "sd gain": [out[is_gold].std(ddof=1), out[~is_gold].std(ddof=1)],
            "min": [out[is_gold].min(), out[~is_gold].min()],
            "max": [out[is_gold].max(), out[~is_gold].max()],
        }
    )
    paired = _paired_labels(full)
    rep.paragraph(
        f"Primary model {primary!r}, alternative {alternative!r}; gain = quality of the primary minus the alternative. "
        f"{full.n} labelled rows with {full.n_features} features; gold share {full.gold_share:.3f}"
        + (f"; {len(paired[0])} queries carry both labels." if paired is not None else ".")
        + (f" Test set: {gold_test.size} queries with gold labels" if gold_test is not None else " No test set given.")
        + (f", held out at random ({holdout:.0%} of the gold queries; the routers are fitted on the other "
           f"{train.n} rows; the tables below up to the bias function use every row)." if holdout is not None
           else "." if gold_test is not None else "")
    )
    rep.table(summary)
    rep.results["data_summary"] = summary

    # ------------------------------------------------------------------ scale
    rep.section("Scale constant c")
    g_lab, p_lab = (paired if paired is not None else (out[is_gold], out[~is_gold]))
    # the sensitivity analysis estimates c by every method: its estimates fill the scale table too
    sens = scale_sensitivity(g_lab, p_lab, paired=paired is not None, confidence_level=level)
    scales = pd.DataFrame({"method": list(sens.estimates), "c": list(sens.estimates.values())})
    # the c of every statement about the bias: chosen on the rows the t-test uses (all of them)
    choice = choose_scale(scale, full.outcome, full.source, query_ids=full.query_ids, shared_scale=full.shared_scale)
    rep.paragraph(
        "c puts gold labels on the preference scale (c * gold). Each estimator below assumes something about the "
        "bias (metarouter_stats.scaling): the table is what each would give, estimated from the "
        + ("paired labels." if paired is not None else "gold and preference labels.")
        + f" In use (scale={scale!r}): {choice.describe()}."
        + (" Both labels are on one declared scale, so no estimate is needed; the others are shown for the "
           "sensitivity analysis only." if choice.method == "declared" else "")
    )
    rep.table(scales)
    rep.results["scales"] = scales
    rep.results["scale_choice"] = choice

    # ------------------------------------------------------------------ fit the Meta-router
    meta = MetaRouter(cate=cate, scale=scale, random_state=rng).fit(train)
    c = float(meta.scale_)

    # ------------------------------------------------------------------ t-test
    rep.section("Is the preference mechanism biased? t-test of the mean bias")
    tests = {"labels as given (c = 1)": bias_ttest(g_lab, p_lab, paired=paired is not None, scale=1.0)}
    if not np.isclose(choice.value, 1.0):
        # c re-estimated from these labels by the same rule, its error propagated
        res = (bias_ttest(g_lab, p_lab, paired=paired is not None, scale=choice.method, rng=s_pos)
               if choice.estimated else bias_ttest(g_lab, p_lab, paired=paired is not None, scale=choice.value))
        res = dataclasses.replace(res, scale_reason=choice.reason)
        tests[f"after scale normalisation (c = {res.scale:.3f}, {res.scale_uncertainty})"] = res
    else:
        tests = {f"labels as given (c = 1: {choice.reason})":
                 dataclasses.replace(tests["labels as given (c = 1)"], scale_reason=choice.reason)}
    rows = []
    for name, res in tests.items():
        lo, hi = res.confidence_interval(level)
        rows.append({"labels": name, "test": "paired t" if paired is not None else "Welch",
                     "bias (gold - preference)": res.estimate, "std. error": res.std_error,
                     f"{level:.0%} CI low": lo, f"{level:.0%} CI high": hi, "t": res.statistic, "df": res.df,
                     "p-value": res.p_value})
    ttab = pd.DataFrame(rows)
    rep.paragraph(
        "Bias = gold minus preference / c on the gold scale; negative means the preference mechanism "
        f"overstates the primary model's gain. The headline uses {choice.describe()}."
        + ("" if paired is not None else
           " Welch's test compares different queries: it tests the average bias only if gold and preference "
           "queries come from the same population (see the positivity section).")
    )
    rep.table(ttab, digits=4)
    rep.results["bias_ttest"] = tests
    final = list(tests.values())[-1]
    lo_f, hi_f = final.confidence_interval(level)
    try:  # how many gold labels would halve the interval: from the same rows as the interval
        rep.results["gold_plan"] = plan_gold(full, scale=choice.value if not choice.estimated else choice.method,
                                             paired=paired is not None, confidence_level=level,
                                             target_half_width=(hi_f - lo_f) / 4)
    except ValueError:
        rep.results["gold_plan"] = None

    # ------------------------------------------------------------------ sensitivity to c
    rep.section("Does the conclusion depend on the scale c?")
    rep.paragraph(
        "The bias is identified only up to c, and each method of estimating c assumes something about the "
        "bias (metarouter_stats.scaling; the variance-matched c is off when the bias is heterogeneous or gold is "
        "selected on x). "
        "Routing does not depend on c; statements about the bias do. "
        + ("The verdict on the mean bias is the same for every c from half the smallest to twice the largest "
           "estimate." if sens.robust else
           "The verdict on the mean bias changes with c (at c = "
           + " and ".join(f"{v:.2g}" for v in sens.verdict_changes)
           + ("; the mean bias is 0 at c = " + f"{sens.zero_bias_scale:.3g}" if np.isfinite(sens.zero_bias_scale)
              else "; the mean bias is 0 at no positive c: mean gold and preference labels have opposite signs")
           + "): state the c and the reason for it with any claim about the bias."),
        css_class="verdict-ok" if sens.robust else "verdict-warn",
    )
    ranges = sens.to_frame().groupby("verdict", sort=False)["scale"].agg(["min", "max"]).reset_index()
    ranges.columns = ["verdict", "c from", "c to"]
    rep.table(ranges, digits=4)
    ax = sens.plot()
    rep.figure(ax.figure, f"Mean bias (gold scale) with its {level:.0%} CI for each c held fixed; dashed: each "
                          "method's estimate of c.")
    rep.results["scale_sensitivity"] = sens

    # ------------------------------------------------------------------ positivity
    rep.section("Positivity: do gold and preference queries overlap?")
    pos = positivity_report(full.X, full.source, rng=s_pos, groups=full.query_ids)
    verdict_ok = bool(pos.good_overlap)
    rep.paragraph(
        "Good overlap: the Meta-router's correction is supported everywhere."
        if verdict_ok else
        "Weak overlap: some preference queries lie where gold queries are rare; consider MetaRouter(trim=...).",
        css_class="verdict-ok" if verdict_ok else "verdict-warn",
    )
    rep.table(pos.summary_table())
    ax = pos.plot()
    rep.figure(ax.figure, "Cross-fitted density ratio f_G(x)/f_P(x) of gold and preference queries (log10), "
                          "with the band used to flag poor overlap.")
    rep.results["positivity"] = pos

    # ------------------------------------------------------------------ bias function
    rep.section("The bias function Delta_hat(x)")
    X_eval = X_test if X_test is not None else train.X
    where = "test" if X_test is not None else "training"
    pick_rng = np.random.default_rng(s_band)
    if X_eval.shape[0] > _MAX_BAND_POINTS:
        pick = subsample(pick_rng, X_eval.shape[0], _MAX_BAND_POINTS)
        X_eval = X_eval[pick]
    delta = meta.predict_bias(train.with_feature_names(X_eval))
    learner = meta.bias_learner_
    point = bias_interval(meta, train.with_feature_names(X_eval), level, n_boot=n_boot, kind="pointwise", rng=s_band)
    uniform = (bias_interval(meta, train.with_feature_names(X_eval), level, n_boot=n_boot, kind="uniform", rng=s_band)
               if point.draws.shape[0] else None)
    truth = study.delta(X_eval) if study is not None else None
    scored = has_capability(learner, "scores") and has_capability(learner, "refit_final")
    het = bias_heterogeneity_test(meta, rng=s_het) if scored else None
    # the band whose target is Delta(x) itself (additive spline sieve), next to the linear one
    sieve = (bias_interval(meta, train.with_feature_names(X_eval), level, n_boot=n_boot, kind="pointwise",
                           method="fast", final_stage="spline", rng=s_band) if scored else None)
    mean_test = list(tests.values())[-1].estimate  # the headline's, at the c in use
    how = (f"{level:.0%} fast bootstrap ({n_boot} replicates; pointwise and uniform sup-t)"
           + (", undersmoothed ridge final stage" if has_capability(learner, "undersmooth") else "")
           if point.draws.shape[0] else f"{level:.0%} pointwise intervals of the learner itself")
    rep.paragraph(
        f"Bias learner {type(learner).__name__} (cate={cate if isinstance(cate, str) else type(cate).__name__!r}"
        + (f", resolved to {meta.cate_!r}: " + ("paired data, the paired differences' scores, one per query"
                                               if meta.cate_ == "paired" else "unpaired data")
           if isinstance(cate, str) and cate == "auto" else "") + ") at "
        f"{X_eval.shape[0]} {where} queries. Bands: {how}. Target: {point.target}."
        + ("" if sieve is None else
           f" A second pointwise band, bias_interval(final_stage='spline'), targets Delta(x) itself: {sieve.target}; "
           f"mean width {float(np.mean(sieve.high - sieve.low)):.3g} against "
           f"{float(np.mean(point.high - point.low)):.3g} for the linear band (not assuming a linear bias costs width).")
        + ("" if het is not None else " The heterogeneity test needs a learner with cross-fitted scores and a "
           "refittable final stage; this one has neither, so it is left out.")
    )
    quantities = ["mean Delta_hat (gold scale)", "share of queries with band above 0", "share of queries with band below 0"]
    values = [float(delta.mean()), float(np.mean(point.low > 0)), float(np.mean(point.high < 0))]
    if sieve is not None:
        quantities += ["share with Delta(x) band (spline sieve) above 0", "share with Delta(x) band (spline sieve) below 0"]
        values += [float(np.mean(sieve.low > 0)), float(np.mean(sieve.high < 0))]
    if het is not None:
        slope_ci = het.confidence_interval(level)
        quantities += ["heterogeneity slope (BLP, median over sample splits)", f"slope {level:.0%} CI low",
                       f"slope {level:.0%} CI high", "one-sided p-value (constant bias; median-adjusted)"]
        values += [het.slope, slope_ci[0], slope_ci[1], het.p_value]
        quantities.append("SD over queries of the bias along the proxy (gold scale; 0 = constant)")
        values.append(het.explained_sd / c)
    if truth is not None:
        quantities.append("pointwise band covers true Delta (share)")
        values.append(float(np.mean(point.covers(truth))))
        if uniform is not None:
            quantities.append("uniform band covers true Delta everywhere")
            values.append(float(np.all(uniform.covers(truth))))
        if sieve is not None:
            quantities.append("Delta(x) band (spline sieve) covers true Delta (share)")
            values.append(float(np.mean(sieve.covers(truth))))
    het_tab = pd.DataFrame({"quantity": quantities, "value": values})
    rep.table(het_tab, digits=3)
    if het is not None and het.split_proxy_sds.size and abs(slope_ci[1] - slope_ci[0]) > 10:
        rep.paragraph(
            f"The slope is measured per unit of the learner's proxy, which barely varies here (SD "
            f"{float(np.median(het.split_proxy_sds)) / c:.2g} gold units), so it is large and imprecise; read the "
            "p-value and the SD of the bias along the proxy instead (a calibrated proxy has slope 1).")
    rep.figure(_bias_figure(delta, point, uniform, truth, mean_test),
               "Left: distribution of Delta_hat. Right: queries sorted by Delta_hat with pointwise (shaded)"
               + (" and uniform (dashed) bands" if uniform is not None else " intervals")
               + ("; dots: the simulation's true Delta." if truth is not None else "."))
    rep.results.update(bias=delta, bias_band=point, bias_band_uniform=uniform, bias_band_sieve=sieve, heterogeneity=het,
                       meta_router=meta)

    # ------------------------------------------------------------------ efficiency gain
    rep.section("Efficiency gain of every router")
    if (X_test is None or gold_test is None) and study is None:
        protos = dict(routers) if routers is not None else default_routers(rng, scale=scale, names=CROSSFIT_ROUTERS)
        oracles = [k for k, v in protos.items() if isinstance(v, OracleRouter)]
        if oracles and routers is not None:
            raise ValueError(f"`routers` {oracles} need gold labels for every training query, which only a "
                             "SimulatedStudy has; drop them for real data.")
        protos = {k: v for k, v in protos.items() if k not in oracles}
        meta_name = f"meta-{meta.cate_}" if isinstance(meta.cate_, str) else "meta"
        protos = {meta_name: clone(meta), **{k: v for k, v in protos.items() if k != meta_name}}
        oof = _crossfit_section(rep, full, protos, meta_name, level, n_boot, s_eg, r)
        if costs is not None:
            cf_gold = rep.results["crossfit"]["gold"]
            _cost_section(rep, costs, n_in, n_out, cf_gold[~np.isnan(cf_gold)], oof, primary, alternative,
                          "gold-labelled queries (out-of-fold scores)")
    elif X_test is None or gold_test is None:
        rep.paragraph("No test set: pass `test=` (held-out queries with gold labels) to compare routers.", css_class="note")
    else:
        protos = dict(routers) if routers is not None else default_routers(rng, scale=scale)
        oracles = [k for k, v in protos.items() if isinstance(v, OracleRouter)]
        if study is None and oracles:
            if routers is not None:
                raise ValueError(
                    f"`routers` {oracles} need gold labels for every training query, which only a SimulatedStudy "
                    "has; drop them for real data."
                )
            protos = {k: v for k, v in protos.items() if k not in oracles}
            rep.paragraph("The oracle router needs gold labels for every training query and is left out on real "
                          "data; the oracle ranking (by the test gold labels) still normalises the areas.",
                          css_class="note")
        bands, curves, scores = {}, {}, {}
        eg_seeds = np.random.SeedSequence(s_eg).spawn(len(protos))
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
            curves[name] = efficiency_gain(gold_test, scores[name], rates=r)
            bands[name] = efficiency_gain_interval(gold_test, scores[name], r, confidence_level=level,
                                                   n_boot=n_boot, rng=np.random.default_rng(ss))
        rows = []
        for name, band in bands.items():
            row: dict[str, Any] = {"router": name}
            for rate, est, lo, hi in zip(band.rates, band.estimate, band.low, band.high, strict=True):
                row[f"EG@{rate:.1f}"] = f"{est:.3f} [{lo:.3f}, {hi:.3f}]"
            row["share of test-label oracle area"] = curves[name].auc_relative
            rows.append(row)
        rep.paragraph(
            f"EG(rho): gold gain per test query of sending the share rho of the {gold_test.size} test queries with "
            f"the highest predicted gain to {primary!r}, minus a random router's; [{level:.0%} test-set bootstrap "
            "band, router held fixed]. Share of oracle area: area under EG relative to ranking by the test gold "
            "labels themselves."
        )
        rep.table(pd.DataFrame(rows))
        rep.figure(_eg_figure(bands), f"Efficiency gain per test query; shaded: pointwise {level:.0%} bands of the "
                                      "Meta-routers (the paired comparisons below compare the routers).")
        rep.results.update(eg_bands=bands, eg_curves=curves, scores=scores)
        metas = [k for k, v in protos.items() if isinstance(v, MetaRouter)]
        others = [k for k in scores if k not in metas[:1] and k != "oracle"]
        if metas and others:
            ev = evaluate_routers({k: scores[k] for k in [metas[0], *others]}, gold_test, confidence_level=level,
                                  n_boot=n_boot, rng=np.random.default_rng(s_eg))
            comp = pd.DataFrame([_comparison_row(ev.compare(metas[0], other)) for other in others])
            rep.paragraph(
                f"Paired comparisons on the same {gold_test.size} test queries: area under EG over rates 0.2-0.8 of "
                f"{metas[0]!r} minus each other router, with a {level:.0%} multiplier-bootstrap interval; p-values "
                "test \"no difference\" in that area and, uniformly, at every rate from 0.2 to 0.8 (sup-t). Pairing "
                "cancels the queries both routers route alike, so these are sharper than comparing the bands above. "
                "Target: the difference of the two fixed routers' values on the test-query population."
            )
            rep.table(comp)
            rep.results["router_comparisons"] = comp
            rep.results["router_evaluation"] = ev

        # -------------------------------------------------------------- costs
        if costs is not None:
            _cost_section(rep, costs, n_in, n_out, gold_test, scores, primary, alternative, "test queries")

    # ------------------------------------------------------------------ how many gold labels (on request)
    if plan:
        _plan_section(rep, train, rep.results.get("gold_plan"), cate, scale, s_het, rep.results.get("meta_router"))

    # ------------------------------------------------------------------ summary (shown first)
    head = Report(rep.title)
    head.section("Summary: what the data say")
    decisions = _decisions(rep.results, level, gold_test.size if gold_test is not None else 0, train.n_gold)
    for line in decisions:
        head.paragraph(line)
    rep.insert(summary_at, head)
    rep.results["summary"] = list(decisions)  # plain text: nothing has to be read back from HTML

    # ------------------------------------------------------------------ reproduction
    rep.section("Reproduction")
    settings = {"rng": rng, "cate": cate if isinstance(cate, str) else repr(cate), "scale": scale, "holdout": holdout, "confidence_level": level, "n_boot": n_boot,
                "rates": [float(v) for v in r], "routers": list(rep.results.get("eg_bands", {})) or None}
    if study is not None:
        settings["simulation"] = {"scenario": study.scenario, "true_c": study.scale}
    if config:
        settings["config"] = dict(config)
    rep.preformatted(json_block(settings))
    rep.table(versions_table())
    rep.results["seconds"] = time.perf_counter() - t0
    rep.results["section_seconds"] = rep.section_seconds()
    rep.paragraph(f"Computed in {rep.results['seconds']:.1f} s.", css_class="note")
    rep.results["config"] = settings
    rep.progress.close()
    rep.progress = None
    return rep
