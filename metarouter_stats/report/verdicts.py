"""The analysis report's plain-text verdicts: what the numbers say, each from one number shown below it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["comparison_row", "decisions", "p_text", "verdicts"]


def p_text(p: float) -> str:
    """``p < 1e-4`` or ``p = 0.0082`` for prose."""
    return "p < 1e-4" if p < 1e-4 else f"p = {p:.2g}"


def comparison_row(c: Any) -> dict[str, Any]:
    """One row of a comparisons table: the area difference with its interval and the two p-values."""
    p_area, p_unif = c.area.p_value, c.uniform_p_value
    return {
        "comparison": f"{c.a} - {c.b}",
        "area difference": f"{c.area.estimate:+.3f} [{c.area.low:+.3f}, {c.area.high:+.3f}]",
        "p (area)": "<1e-4" if p_area < 1e-4 else f"{p_area:.4f}",
        "p (any rate)": f"<{1 / max(c.sup_t.size, 1):.0e}" if p_unif == 0 else f"{p_unif:.3f}",
    }


def decisions(results: Mapping[str, Any], level: float, n_test: int, n_gold: int) -> list[str]:
    """The report's opening verdicts, each from one number shown below it (gold scale)."""
    lines = []
    cmp = results.get("judges")
    if cmp is not None:
        f = cmp.frame
        per_judge = f[f["judge"] != "all judges"]
        sig = [f"{j} ({b:+.3f}, c = {c:.3g})" for j, b, c, p in zip(per_judge["judge"], per_judge["mean_bias"],
                                                                      per_judge["scale"],
                                                                      per_judge["mean_bias_p_value"], strict=True)
               if p < 1 - level]
        lines.append(f"Several judges ({', '.join(map(str, per_judge['judge']))}): the bias verdict below pools them "
                     "as one preference mechanism; judge by judge (section 'Several judges'), a mean bias is "
                     f"confirmed at {1 - level:.0%} for " + (", ".join(sig) if sig else "none") + ".")
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
                         f"{res.estimate:+.3f} gold units ({level:.0%} CI {lo:+.3f} to {hi:+.3f}, {p_text(res.p_value)}) "
                         f"{at_c}." + caveat)
        else:
            lines.append(f"No mean bias detected: {res.estimate:+.3f} gold units ({level:.0%} CI {lo:+.3f} to "
                         f"{hi:+.3f}, {p_text(res.p_value)}) {at_c}; the CI says how large a bias the data cannot "
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
            lines.append(f"The bias varies with the query (heterogeneity test {p_text(het.p_value)}): a constant "
                         "correction (mean shift) does not remove it; the Meta-router's per-query correction is needed.")
        else:
            lines.append(f"No evidence that the bias varies with the query (heterogeneity test {p_text(het.p_value)} "
                         f"with {n_gold} gold rows): a mean shift may suffice, or the test lacks the power to see it.")
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
    lines.extend(verdicts(meta, wins, ties, losses, where))
    return lines


def verdicts(meta: str, wins: list[str], ties: list[str], losses: list[str], where: str) -> list[str]:
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
