"""Vignette (e): how many expert labels should I buy, and for which queries?

Run (a few minutes with the defaults; ``--small`` takes seconds)::

    python vignettes/gold_budget.py --out vignettes_out [--small]

Writes ``gold_budget.html`` into ``--out``.

A team has a pilot: 100 gold labels on random queries and 4,400 preference labels (the
simulated paper-like scenario stands in for it). The vignette answers three questions with the
package's planning tools: (1) how precise is the mean bias, and how many gold labels would a
target precision or power take (``plan_gold``)? (2) how does routing quality grow with more
gold labels (``gold_learning_curve``)? (3) which queries should the next labels go to
(``select_for_gold``), and how are the design's known probabilities used in the fit?
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import metarouter_stats as mrs  # noqa: E402
from metarouter_stats.report import Report  # noqa: E402

NAME = "gold_budget"
RATES = np.round(np.linspace(0.2, 0.8, 13), 10)


def _sizes(small: bool) -> dict:
    return dict(n_preference=400, n_test=300, d=8) if small else dict(n_preference=4400, n_test=2000, d=50)


def active_vs_random(*, small: bool, seed: int = 0) -> tuple[pd.DataFrame, mrs.GoldSelection, np.ndarray]:
    """One pool: four batches (the first random, then active) against random gold of the same and 1.5x the size."""
    size = 10 if small else 25
    sizes = _sizes(small)
    s = mrs.simulate(n_gold=2, scenario="paper", rng=seed, **{**sizes, "n_preference": sizes["n_preference"] + 98})
    X = np.asarray(s.train.X)
    pref, gold, psi = s.draw_preference(X, rng=seed + 1), np.asarray(s.gold_train), np.asarray(s.psi_test)
    sel = mrs.select_for_gold(None, X, size, strategy="uniform", rng=seed)
    for b in range(1, 4):
        router = mrs.MetaRouter(random_state=seed + b).fit(sel.routing_data(X, pref, gold))
        sel = mrs.select_for_gold(router, X, size, previous=sel, n_boot=100, rng=seed + 10 + b)
    designs = {"active (4 batches)": sel.routing_data(X, pref, gold)}
    for n in (4 * size, 6 * size):
        designs[f"random {n}"] = mrs.select_for_gold(None, X, n, strategy="uniform", rng=seed + 7).routing_data(
            X, pref, gold)
    oracle = mrs.efficiency_gain(psi, psi, rates=RATES).auc
    rows = []
    for name, data in designs.items():
        r = mrs.MetaRouter(random_state=seed).fit(data)
        rows.append({"design": name, "gold labels": data.n_gold,
                     "EG area / true-psi ranking": mrs.efficiency_gain(psi, r.predict_gain(s.X_test), rates=RATES).auc
                     / oracle})
    return pd.DataFrame(rows), sel, X


def run(out: str | Path, *, small: bool = False) -> Report:
    """The planning tables and figures, and ``out/gold_budget.html``."""
    out = Path(out)
    rep = Report("Vignette: how many expert labels should I buy, and for which queries?")
    pilot = mrs.simulate(n_gold=60 if small else 100, scenario="paper", rng=0, **_sizes(small)).train
    rep.section("The pilot")
    rep.markdown(
        f"""
        {pilot.n_gold} gold labels on random queries and {pilot.n_preference} preference labels (simulated,
        paper-like scenario). Everything below uses only this pilot.
        """
    )

    rep.section("1. How precise is the mean bias, and what would more gold labels buy?")
    plan = mrs.plan_gold(pilot, target_half_width=0.5, target_power=0.9)
    est, lo, hi = plan.n_for_half_width
    pe, plo, phi = plan.n_for_power
    rep.markdown(
        f"""
        The pilot's mean bias is {plan.estimate:.3f} on the gold scale. `plan_gold` predicts the half-width
        of its 95 % interval and the power of the bias t-test (statsmodels' `TTestPower`, with the test's own
        delta-method variances, since c is estimated) for every gold size. A half-width of 0.5 takes about
        **{est:.0f} gold labels** (from {lo:.0f} to {hi:.0f} given the uncertainty of the pilot's gold
        variance); 90 % power to detect a bias of {plan.effect:.3f} takes about {pe:.0f} ({plo:.0f} to {phi:.0f}).
        Checked by simulation (`benchmarks/bench_planning.py power`): planned and simulated power agree within
        0.03 on the paper-like scenario.
        """
    )
    rep.table(plan.to_frame(), digits=3)
    ax = plan.plot()
    rep.figure(ax.figure, "Half-width of the mean-bias interval (band: the pilot's variance uncertainty) and power.")
    rep.results["plan"] = plan

    rep.section("2. How does routing quality grow with more gold labels?")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        curve = mrs.gold_learning_curve(pilot, n_repeats=3 if small else 12, n_boot=200, rng=0)
    rep.markdown(
        f"""
        `gold_learning_curve` refits the Meta-router on nested subsets of the pilot's gold rows, evaluates each
        refit on gold rows held out from all of them (prediction-powered), and extrapolates with
        A(m) = a (1 + kappa / m)^-1/2: the EG area is proportional to the correlation of the scores with the true
        gains, and kappa, the scores' noise-to-signal ratio per gold label, is measured from how much the refits'
        scores vary across random subsets. Here kappa = {curve.coefficient:.3g}, so 90 % of the large-sample area
        ({curve.asymptote:.3g}) takes about {curve.n_for_target[0]:.0f} gold labels. Read the interval for what it
        is: the noise of subsampling given this pilot; the benchmark (docs, "Planning gold labels") shows how far
        such predictions can be off.
        """
    )
    rep.table(curve.to_frame().groupby("n_gold", as_index=False).agg(area=("area", "mean"),
                                                                      std_error=("std_error", "mean")), digits=3)
    ax = curve.plot()
    rep.figure(ax.figure, "EG area of refits on subsets of the pilot, the fitted curve and its band.")
    rep.results["curve"] = curve

    rep.section("3. Which queries should the next labels go to?")
    table, sel, X_pool = active_vs_random(small=small)
    rep.markdown(
        """
        `select_for_gold` draws the next batch with probabilities that mix uniform sampling (half of the design)
        with the expected routing regret of each query under the bias band's uncertainty, and returns them:
        the DR-learner then uses them exactly (`RoutingData(..., propensity=...)`), so the estimates stay
        unbiased however the queries were chosen. One pool, four batches (the first at random):
        """
    )
    rep.table(table, digits=3)
    ax = sel.plot()
    rep.figure(ax.figure, "The last batch: inclusion probability against the decision score.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the verdict is read below
        pos = mrs.positivity_report(X_pool, sel.labelled.astype(int), propensity=sel.propensity)
    rep.markdown(
        f"""
        With the design's probabilities the positivity report needs no model: {pos.share_outside_preference:.1%}
        of the preference queries lie outside the density-ratio band (0.1, 10); the largest inverse-probability
        weight of a labelled query is {1 / sel.propensity[sel.labelled].min():.0f} against
        {1 / sel.propensity[sel.labelled].max():.0f} for the smallest. Over many pools the active design's gain
        is measured in `benchmarks/bench_planning.py active` (docs, "Planning gold labels").
        """
    )
    rep.results.update(active=table, selection=sel, positivity=pos)
    rep.save(out / f"{NAME}.html")
    return rep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="vignettes_out")
    parser.add_argument("--small", action="store_true", help="small data, as in CI")
    args = parser.parse_args()
    rep = run(args.out, small=args.small)
    print(rep.results["plan"].summary())
    print(rep.results["curve"].summary())
    print(rep.results["active"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {Path(args.out) / (NAME + '.html')}")


if __name__ == "__main__":
    main()
