"""The judge report: which judge to pay for (a :class:`~metarouter_stats.JudgeComparison` laid out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..planning import JudgeComparison, TrainingWorth
from ._html import Report, versions_table

__all__ = ["judges_report"]


def judges_report(comparison: JudgeComparison, *, title: str | None = None, description: str | None = None,
                  training: TrainingWorth | None = None) -> Report:
    """Lay out a judge comparison: summary, one table per question, the worth figure, reproduction.

    Parameters
    ----------
    comparison : JudgeComparison
        From :func:`~metarouter_stats.compare_judges`.
    title : str, optional
    description : str, optional
        Where the data came from (shown first).
    training : TrainingWorth, optional
        From :func:`~metarouter_stats.judge_training_worth` on the same data: adds the section
        "Worth for training a router".

    Returns
    -------
    Report
    """
    if training is not None and not isinstance(training, TrainingWorth):
        raise TypeError(f"`training` must be a TrainingWorth (from judge_training_worth); got {type(training).__name__}.")
    if not isinstance(comparison, JudgeComparison):
        raise TypeError(f"`comparison` must be a JudgeComparison (from compare_judges); got {type(comparison).__name__}.")
    f = comparison.frame
    judges = f[f["judge"] != "all judges"]
    combined = f[f["judge"] == "all judges"].iloc[0]
    rep = Report(title or "Judges compared against gold")
    rep.results["comparison"] = comparison
    rep.section("Summary")
    if description:
        rep.paragraph(description)
    per = comparison.per_labels
    priced = "worth_per_cost" in f
    lines = [f"{comparison.n_gold} gold labels; judges {', '.join(map(str, judges['judge']))}."]
    if judges["worth"].notna().any():
        best = comparison.best()
        row = judges.set_index("judge").loc[best]
        lines.append(
            f"Best single judge{' per unit of cost' if priced else ''}: {best}: {per} of its labels are worth "
            f"{row['worth']:.0f} gold labels for evaluating a router (95 % CI {row['worth_low']:.0f} to "
            f"{row['worth_high']:.0f}; prediction-powered, conditional on the fitted bias corrections).")
    else:
        lines.append("No judge's worth in gold labels is estimable: too few queries carry both a gold and a judge label.")
    if np.isfinite(combined["worth"]):
        gain = combined["worth"] - judges["worth"].max()
        lines.append(f"All judges together: {combined['worth']:.0f} gold labels ({combined['worth_low']:.0f} to "
                     f"{combined['worth_high']:.0f}), {gain:+.0f} over the best single judge.")
    biased = judges[judges["mean_bias_p_value"] < 0.05]
    named = [f"{j} (c = {c:.3g})" for j, c in zip(biased["judge"], biased["scale"], strict=True)]
    lines.append("Mean bias against gold (gold scale of each judge's c) confirmed at 5 % for: "
                 + (", ".join(named) if named else "none") + ".")
    if comparison.dropped:
        lines.append(f"Left out of the pooled router: {comparison.dropped}.")
    for line in lines:
        rep.paragraph(line)
    rep.section("Bias of each judge")
    rep.paragraph("Mean bias = gold minus judge on the gold scale of c (t-test on the gold and the judge's rows; paired "
                  "when they label the same queries). Heterogeneity: p-value of the BLP test that the bias is constant.")
    cols = ["judge", "n_labels", "n_paired", "mean_bias", "mean_bias_low", "mean_bias_high", "mean_bias_p_value",
            "scale", "heterogeneity_p_value"]
    rep.table(judges[cols].reset_index(drop=True))
    rep.section("Worth in gold labels")
    rep.paragraph(f"Gold labels that {per} judge labels are worth next to the {comparison.n_gold} gold labels when "
                  "evaluating a router by prediction-powered inference (PPI++), from the correlation of gold with "
                  "the judge's corrected label on the queries both labelled; 'all judges' uses every corrected label "
                  "at once. Intervals: query bootstrap, conditional on the fitted corrections.")
    cols = ["judge", "n_paired", "corr_raw", "corr_corrected", "worth", "worth_low", "worth_high"]
    if priced:
        cols += ["cost", "worth_per_cost", "value_vs_gold"]
    rep.table(f[[c for c in cols if c in f]].reset_index(drop=True))
    ax = comparison.plot()
    rep.figure(ax.figure, f"Gold labels that {per} labels of each judge (and of all together) are worth, with 95 % intervals.")
    if training is not None:
        rep.results["training"] = training
        rep.section("Worth for training a router")
        rep.paragraph("Gold labels that each judge's labels are worth for training a router: beside the base number "
                      "of gold labels, the judge's labels give the Meta-router the EG area that the gold-only router "
                      "reaches with base + worth gold labels. Both curves are measured on the data by refits on "
                      "subsets that hold gold queries out, never extrapolated: a worth beyond the largest size the "
                      "data can fit is censored ('above': at least that many). Intervals: every worth a non-decreasing "
                      "gold-only curve through the sizes fitted allows, over a bootstrap of the repeats, conditional "
                      "on these data.")
        rep.table(training.frame)
        rep.table(training.curve)
        ax = training.plot()
        rep.figure(ax.figure, "The gold-only router's EG area against its gold labels (mean over repeats, 95 % "
                              "intervals of the mean), and each judge's Meta-router at its base number of gold labels.")
    rep.section("Reproduction")
    rep.paragraph("; ".join(comparison.notes() + (training.notes() if training is not None else [])))
    rep.table(versions_table())
    rep.results["frame"] = pd.DataFrame(f)
    return rep
