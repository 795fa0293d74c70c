"""The analysis report's sections: one renderer per section, each laying out what :func:`~.analysis.analyse` computed.

No computation of statistics here: every number comes from an :class:`~.analysis.Analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._results import router_style
from ..cate import has_capability
from ._html import Report, json_block, versions_table
from .analysis import (
    BIAS, COSTS, DATA, EG, JUDGES, MULTI_JUDGE, PLAN, POSITIVITY, REPRODUCTION, SCALE, SENSITIVITY, SUMMARY, TTEST,
    Analysis, CROSSFIT_FOLDS,
)

__all__ = ["render_analysis"]


def render_analysis(a: Analysis) -> Report:
    """The report of an analysis: the summary first, then one section per part, then how to reproduce it."""
    rep = Report(a.title)
    rep.results = a.results  # the same objects: every number shown is reusable
    for render in SECTIONS:
        render(rep, a)
    return rep


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


def _summary(rep: Report, a: Analysis) -> None:
    rep.section(SUMMARY)
    for line in a.results["summary"]:
        rep.paragraph(line)


def _judges(rep: Report, a: Analysis) -> None:
    cmp = a.results.get("judges")
    if cmp is None:
        return
    rep.section(JUDGES)
    f = cmp.frame
    judges = [j for j in f["judge"] if j != "all judges"]
    rep.paragraph(
        f"These data carry {len(judges)} judges ({', '.join(map(str, judges))}). The sections above take them as "
        "one preference mechanism with one bias; here each judge is compared with gold on its own (its c, its mean "
        "bias and its worth in gold labels for evaluation), and the router comparison below includes "
        f"{MULTI_JUDGE!r}, the Meta-router with one bias function per judge (MultiJudgeRouter). Per-judge "
        "heterogeneity tests and prices: `metarouter judges` or compare_judges()."
    )
    cols = ["judge", "n_labels", "n_paired", "mean_bias", "mean_bias_low", "mean_bias_high", "mean_bias_p_value",
            "scale", "corr_raw", "corr_corrected", "worth", "worth_low", "worth_high"]
    rep.table(f[[c for c in cols if c in f]].reset_index(drop=True), digits=3)
    rep.paragraph("; ".join(cmp.notes()))
    ax = cmp.plot()
    rep.figure(ax.figure, f"Gold labels that {cmp.per_labels} labels of each judge (and of all together) are worth "
                          "in prediction-powered evaluation, with 95 % intervals.")


def _data(rep: Report, a: Analysis) -> None:
    rep.section(DATA)
    full, paired, gold_test, holdout = a.full, a.paired, a.gold_test, a.holdout
    rep.paragraph(
        f"Primary model {a.primary!r}, alternative {a.alternative!r}; gain = quality of the primary minus the "
        f"alternative. {full.n} labelled rows with {full.n_features} features; gold share {full.gold_share:.3f}"
        + (f"; {len(paired[0])} queries carry both labels." if paired is not None else ".")
        + (f" Test set: {gold_test.size} queries with gold labels" if gold_test is not None else " No test set given.")
        + (f", held out at random ({holdout:.0%} of the gold queries; the routers are fitted on the other "
           f"{a.train.n} rows; the tables below up to the bias function use every row)." if holdout is not None
           else "." if gold_test is not None else "")
    )
    rep.table(a.parts[DATA]["table"])


def _scale(rep: Report, a: Analysis) -> None:
    rep.section(SCALE)
    part, choice = a.parts[SCALE], a.results["scale_choice"]
    rep.paragraph(
        "c puts gold labels on the preference scale (c * gold). Each estimator below assumes something about the "
        "bias (metarouter_stats.scaling): the table is what each would give, estimated from the "
        + ("paired labels." if a.paired is not None else "gold and preference labels.")
        + f" In use (scale={part['scale']!r}): {choice.describe()}."
        + (" Both labels are on one declared scale, so no estimate is needed; the others are shown for the "
           "sensitivity analysis only." if choice.method == "declared" else "")
    )
    rep.table(part["table"])


def _ttest(rep: Report, a: Analysis) -> None:
    rep.section(TTEST)
    choice = a.results["scale_choice"]
    rep.paragraph(
        "Bias = gold minus preference / c on the gold scale; negative means the preference mechanism "
        f"overstates the primary model's gain. The headline uses {choice.describe()}."
        + ("" if a.paired is not None else
           " Welch's test compares different queries: it tests the average bias only if gold and preference "
           "queries come from the same population (see the positivity section).")
    )
    rep.table(a.parts[TTEST]["table"], digits=4)


def _sensitivity(rep: Report, a: Analysis) -> None:
    rep.section(SENSITIVITY)
    sens = a.results["scale_sensitivity"]
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
    rep.table(a.parts[SENSITIVITY]["table"], digits=4)
    ax = sens.plot()
    rep.figure(ax.figure, f"Mean bias (gold scale) with its {a.level:.0%} CI for each c held fixed; dashed: each "
                          "method's estimate of c.")


def _positivity(rep: Report, a: Analysis) -> None:
    rep.section(POSITIVITY)
    pos = a.results["positivity"]
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


def _bias(rep: Report, a: Analysis) -> None:
    rep.section(BIAS)
    part, res, level, n_boot = a.parts[BIAS], a.results, a.level, a.n_boot
    meta, delta, point = res["meta_router"], res["bias"], res["bias_band"]
    uniform, sieve, het = res["bias_band_uniform"], res["bias_band_sieve"], res["heterogeneity"]
    learner, cate, truth, c = meta.bias_learner_, part["cate"], part["truth"], part["scale"]
    studentised = "studentised " if uniform is not None and uniform.draw_std_errors.size else ""
    how = (f"{level:.0%} fast bootstrap ({n_boot} replicates; pointwise and uniform {studentised}sup-t)"
           + (", undersmoothed ridge final stage" if has_capability(learner, "undersmooth") else "")
           if point.draws.shape[0] else f"{level:.0%} pointwise intervals of the learner itself")
    rep.paragraph(
        f"Bias learner {type(learner).__name__} (cate={cate if isinstance(cate, str) else type(cate).__name__!r}"
        + (f", resolved to {meta.cate_!r}: " + ("paired data, the paired differences' scores, one per query"
                                               if meta.cate_ == "paired" else "unpaired data")
           if isinstance(cate, str) and cate == "auto" else "") + ") at "
        f"{part['n_eval']} {part['where']} queries. Bands: {how}. Target: {point.target}."
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
        agg = ("mean over sample splits", "wild bootstrap of the mean t") if het.aggregation == "bootstrap" else (
            "median over sample splits", "median-adjusted")
        quantities += [f"heterogeneity slope (BLP, {agg[0]})", f"slope {level:.0%} CI low (CDDF's median-adjusted)",
                       f"slope {level:.0%} CI high (CDDF's median-adjusted)",
                       f"one-sided p-value (constant bias; {agg[1]})"]
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
    rep.table(pd.DataFrame({"quantity": quantities, "value": values}), digits=3)
    if het is not None and het.split_proxy_sds.size and abs(slope_ci[1] - slope_ci[0]) > 10:
        rep.paragraph(
            f"The slope is measured per unit of the learner's proxy, which barely varies here (SD "
            f"{float(np.median(het.split_proxy_sds)) / c:.2g} gold units), so it is large and imprecise; read the "
            "p-value and the SD of the bias along the proxy instead (a calibrated proxy has slope 1).")
    rep.figure(_bias_figure(delta, point, uniform, truth, part["mean_test"]),
               "Left: distribution of Delta_hat. Right: queries sorted by Delta_hat with pointwise (shaded)"
               + (" and uniform (dashed) bands" if uniform is not None else " intervals")
               + ("; dots: the simulation's true Delta." if truth is not None else "."))


def _eg(rep: Report, a: Analysis) -> None:
    rep.section(EG)
    part = a.parts[EG]
    if "note" in part:
        rep.paragraph(part["note"], css_class="note")
    elif part["kind"] == "crossfit":
        _eg_crossfit(rep, a, part["meta_name"])
    else:
        _eg_test(rep, a, part)


def _eg_crossfit(rep: Report, a: Analysis, meta_name: str) -> None:
    ev, cf, level = a.results["router_evaluation"], a.results["crossfit"], a.level
    gold = cf["gold"]
    has = ~np.isnan(gold)
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
    for i, name in enumerate(ev.names):
        b = ev.band(name)
        row: dict[str, Any] = {"router": name}
        for rate in a.rates:
            k = int(np.argmin(np.abs(ev.rates - rate)))
            row[f"EG@{rate:.1f}"] = f"{ev.estimate[i, k]:.3f} [{b.low[k]:.3f}, {b.high[k]:.3f}]"
        area = ev.area(name)
        row["area (0.2-0.8)"] = f"{area.estimate:.3f} [{area.low:.3f}, {area.high:.3f}]"
        rows.append(row)
    rep.table(pd.DataFrame(rows))
    rep.figure(ev.plot(routers=[n for n in ev.names if n.startswith("meta")] or None).figure,
               f"Cross-fitted EG per query with pointwise {level:.0%} bands (prediction-powered).")
    rep.paragraph(
        f"Paired comparisons on the same {gold.size} {units}: area under EG over rates 0.2-0.8 of {meta_name!r} minus "
        f"each other router, with a {level:.0%} interval; p-values test \"no difference\" in that area and, uniformly, "
        "at every rate from 0.2 to 0.8 (sup-t)."
    )
    rep.table(a.results["router_comparisons"])


def _eg_test(rep: Report, a: Analysis, part: Mapping[str, Any]) -> None:
    level, gold_test = a.level, a.gold_test
    if gold_test is None:  # the analysis evaluates on a test set only when it has one
        raise ValueError("The efficiency-gain section of a test set needs the test set's gold labels.")
    if part.get("oracle_dropped"):
        rep.paragraph("The oracle router needs gold labels for every training query and is left out on real "
                      "data; the oracle ranking (by the test gold labels) still normalises the areas.",
                      css_class="note")
    bands, curves = a.results["eg_bands"], a.results["eg_curves"]
    rows = []
    for name, band in bands.items():
        row: dict[str, Any] = {"router": name}
        for rate, est, lo, hi in zip(band.rates, band.estimate, band.low, band.high, strict=True):
            row[f"EG@{rate:.1f}"] = f"{est:.3f} [{lo:.3f}, {hi:.3f}]"
        row["share of test-label oracle area"] = curves[name].auc_relative
        rows.append(row)
    rep.paragraph(
        f"EG(rho): gold gain per test query of sending the share rho of the {gold_test.size} test queries with "
        f"the highest predicted gain to {a.primary!r}, minus a random router's; [{level:.0%} test-set bootstrap "
        "band, router held fixed]. Share of oracle area: area under EG relative to ranking by the test gold "
        "labels themselves."
    )
    rep.table(pd.DataFrame(rows))
    rep.figure(_eg_figure(bands), f"Efficiency gain per test query; shaded: pointwise {level:.0%} bands of the "
                                  "Meta-routers (the paired comparisons below compare the routers).")
    if "meta_name" in part:
        rep.paragraph(
            f"Paired comparisons on the same {gold_test.size} test queries: area under EG over rates 0.2-0.8 of "
            f"{part['meta_name']!r} minus each other router, with a {level:.0%} multiplier-bootstrap interval; "
            "p-values test \"no difference\" in that area and, uniformly, at every rate from 0.2 to 0.8 (sup-t). "
            "Pairing cancels the queries both routers route alike, so these are sharper than comparing the bands "
            "above. Target: the difference of the two fixed routers' values on the test-query population."
        )
        rep.table(a.results["router_comparisons"])


def _costs(rep: Report, a: Analysis) -> None:
    if COSTS not in a.parts:
        return
    rep.section(COSTS)
    part, front = a.parts[COSTS], a.results["frontier"]
    rep.paragraph(f"Route to {a.primary!r} iff psi_hat(x) - w * (cost difference) > 0, over a grid of weights w; "
                  f"AIQ = average quality over the budget range (higher is better); on the {part['n']} "
                  f"{part['where']}.")
    rep.table(part["price"], digits=6)
    rep.table(front.areas.rename("AIQ").reset_index().rename(columns={"index": "router"}), digits=4)
    ax = front.plot()
    rep.figure(ax.figure, f"Cost-quality frontier on the {part['where']}: mean gold gain over the alternative "
                          "against mean cost, per router, with the oracle and random references.")


def _plan(rep: Report, a: Analysis) -> None:
    if PLAN not in a.parts:
        return
    rep.section(PLAN)
    plan, part = a.results.get("gold_plan"), a.parts[PLAN]
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
    het_plan = a.results.get("heterogeneity_plan")
    if het_plan is not None:
        h_n, h_lo, h_hi = het_plan.n_for_power
        at = {int(m): p for m, p in zip(het_plan.sizes, het_plan.power, strict=True)}
        rep.paragraph(
            "plan_heterogeneity: the heterogeneity test's power grows with the gold size as its split t "
            f"({het_plan.noncentrality:.2f} here) times sqrt(m / {het_plan.n_gold_pilot}). "
            + (f"{100 * het_plan.target_power:.0f} % power takes about {h_n:.0f} gold labels ({h_lo:.0f} to "
               + ("no finite number" if not np.isfinite(h_hi) else f"{h_hi:.0f}")
               + "; conservative when the learner's proxy improves with more gold)." if np.isfinite(h_n) else
               "The pilot shows no heterogeneity to detect (split t <= 0): no gold size is planned.")
            + f" Power at the largest planned size ({max(at)}): {at[max(at)]:.2f}."
        )
    if "curve_note" in part:
        rep.paragraph(part["curve_note"], css_class="note")
        return
    curve = a.results["gold_learning_curve"]
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


def _reproduction(rep: Report, a: Analysis) -> None:
    rep.section(REPRODUCTION)
    rep.preformatted(json_block(a.results["config"]))
    rep.table(versions_table())
    rep.paragraph(f"Computed in {a.results['seconds']:.1f} s.", css_class="note")


SECTIONS: tuple[Callable[[Report, Analysis], None], ...] = (
    _summary, _data, _scale, _ttest, _sensitivity, _positivity, _bias, _judges, _eg, _costs, _plan, _reproduction,
)
