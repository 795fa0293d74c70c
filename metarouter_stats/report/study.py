"""The study report: a Monte Carlo study's configuration, EG curves and areas."""

from __future__ import annotations


import pandas as pd

from ..experiment import StudyResult
from ._html import Report, json_block, versions_table

__all__ = ["study_report"]


def study_report(result: StudyResult, *, title: str | None = None) -> Report:
    """Lay out a :class:`~metarouter_stats.experiment.StudyResult` as a report."""
    if not isinstance(result, StudyResult):
        raise TypeError(f"`result` must be a StudyResult; got {type(result).__name__}.")
    cfg = result.config
    frame = result.frame
    rep = Report(title or f"Monte Carlo study {cfg.name!r}")
    rep.section("Design")
    rounds = frame.groupby("n_gold")["round"].nunique()
    rep.paragraph(
        f"Scenario {cfg.scenario!r}; gold sizes {list(cfg.gold_sizes)}; {cfg.n_preference} preference and "
        f"{cfg.n_test} test queries per round; d = {cfg.d}; learners {cfg.learners!r}; scale {cfg.scale!r}; "
        f"evaluated against {'noisy test gold labels' if cfg.truth == 'gold' else 'the true psi'}. "
        "Rounds completed per gold size: "
        + ", ".join(f"{g} gold: {int(k)}" for g, k in rounds.items()) + "."
    )
    areas = result.area_summary()
    rep.section("Share of the test-label oracle's EG area")
    rep.paragraph("Mean over rounds with its Monte Carlo standard error (sd / sqrt(rounds)).")
    wide = areas.pivot(index="router", columns="n_gold", values="mean").loc[list(dict.fromkeys(areas["router"]))]
    se = areas.pivot(index="router", columns="n_gold", values="mc_se").loc[wide.index]
    shown = pd.DataFrame(
        {f"n_gold = {g}": [f"{m:.3f} ({s:.3f})" for m, s in zip(wide[g], se[g], strict=True)] for g in wide.columns},
        index=wide.index,
    ).reset_index()
    rep.table(shown)
    rep.results["area_summary"] = areas
    rep.section("Efficiency-gain curves")
    rep.figure(result.plot(value="per_query")[0].figure, "EG per test query against the usage rate, one panel per gold size; "
                                          "bands: mean +- 1.96 Monte Carlo standard errors.")
    rep.figure(result.plot(value="relative")[0].figure, "EG relative to the oracle ranking's EG.")
    if (frame["evaluation"] == "paper").any():
        rep.figure(result.plot(value="per_query", evaluation="paper")[0].figure,
                   "The reference code's evaluation (truncation to psi_hat > 0), for comparison with the paper.")
    summary = result.summary_frame()
    rep.results["summary"] = summary
    timing = frame.drop_duplicates(["round", "n_gold", "router"]).groupby("router", sort=False)["fit_seconds"].mean()
    rep.section("Fit time")
    rep.table(timing.rename("mean fit seconds").reset_index())
    rep.section("Reproduction")
    rep.preformatted(json_block(cfg.to_dict()))
    rep.table(versions_table())
    rep.results["config"] = cfg.to_dict()
    return rep
