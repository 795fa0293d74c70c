"""The gold learning curve on paired pilots against the value measured on new queries.

On a paired pilot (``simulate(..., design="paired")``: the judge labels ``--n-pref`` queries,
``--n-gold`` of them also carry gold; d = 20), ``gold_learning_curve`` refits the Meta-router on
nested subsets of the gold queries and scores each refit on gold queries held out from it. A
held-out query's judge row must leave the refits too, or each router has seen a label of the
queries it is scored on and the curve reads high (about 4 times on a real pilot before the fix).

Per pilot (``--pilots`` seeds, scenarios ``paper`` and ``nonlinear_bias``): the curve's EG area
(rates 0.2-0.8, per query, gold scale) at its largest size m, averaged over its repeats, and
the truth it estimates: the EG area on 2,000 new queries (their true psi) of the same Meta-router
fitted on m gold queries drawn at random from the pilot with every judge row except those of the
other gold queries (the refits' design), averaged over as many draws. Recorded: both, their
difference, and the curve's own standard error of its average. Writes ``results.csv`` and
``summary.md`` (mean difference with its Monte Carlo SE, and the share of pilots whose 95 %
interval, the curve's average +- 1.96 SE, covers the truth) beside this file. Run::

    OMP_NUM_THREADS=1 python benchmarks/paired_curve/run.py --pilots 10 --n-jobs 2
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs

HERE = Path(__file__).parent
D = 20
REPEATS = 4


def one(scenario: str, seed: int, n_gold: int, n_pref: int) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = mrs.simulate(n_gold=n_gold, n_preference=n_pref, n_test=2000, d=D, scenario=scenario,
                         design="paired", rng=seed)
        curve = mrs.gold_learning_curve(s.train, n_repeats=REPEATS, n_boot=100, rng=seed)
        m = int(curve.sizes.max())
        at = curve.sizes == m
        est, se = float(curve.areas[at].mean()), float(np.sqrt(np.mean(curve.std_errors[at] ** 2) / at.sum()))
        d = s.train
        gold_ids = d.query_ids[d.is_gold]
        rng = np.random.default_rng(seed + 1)
        truths = []
        for r in range(REPEATS):
            keep_gold = rng.choice(gold_ids, m, replace=False)
            dropped = np.setdiff1d(gold_ids, keep_gold)[: n_gold - m]  # the refits also leave these out ...
            held = rng.choice(dropped, dropped.size, replace=False)  # ... entirely (held-out queries)
            rows = ~np.isin(d.query_ids, held) & (~d.is_gold | np.isin(d.query_ids, keep_gold))
            router = mrs.MetaRouter(random_state=r).fit(d.subset(rows))
            curve_true = mrs.efficiency_gain(s.psi_test, router.predict_gain(d.with_feature_names(s.X_test)),
                                             rates=np.round(np.arange(0.2, 0.81, 0.05), 10))
            truths.append(float(np.trapezoid(curve_true.gain, curve_true.rates) / s.X_test.shape[0]))
    truth = float(np.mean(truths))
    return {"scenario": scenario, "seed": seed, "n_gold": n_gold, "m": m, "curve_area": est, "curve_se": se,
            "true_area": truth, "difference": est - truth, "covers": float(abs(est - truth) <= 1.96 * se)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pilots", type=int, default=10)
    ap.add_argument("--n-gold", type=int, default=100)
    ap.add_argument("--n-pref", type=int, default=2000)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--summarise", action="store_true", help="rewrite summary.md from results.csv, no runs")
    args = ap.parse_args()
    out = Path(args.out)
    if args.summarise:
        df = pd.read_csv(out / "results.csv")
    else:
        tasks = [(sc, 500 + p, args.n_gold, args.n_pref) for sc in ("paper", "nonlinear_bias")
                 for p in range(args.pilots)]
        df = pd.DataFrame(Parallel(n_jobs=args.n_jobs)(delayed(one)(*t) for t in tasks))
        df.to_csv(out / "results.csv", index=False)
    # the repeats share the pilot's queries and pseudo-gold: their errors are correlated, so the SE of their
    # average lies between the independent-repeats SE (curve_se) and one repeat's SE (REPEATS ** 0.5 times it)
    df["covers_single"] = (df["difference"].abs() <= 1.96 * np.sqrt(REPEATS) * df["curve_se"]).astype(float)
    g = df.groupby("scenario")
    summary = g.agg(pilots=("seed", "size"), m=("m", "first"), curve_area=("curve_area", "mean"),
                    true_area=("true_area", "mean"), difference=("difference", "mean"),
                    coverage_independent=("covers", "mean"), coverage_single=("covers_single", "mean"),
                    sd_of_difference=("difference", "std")).reset_index()
    summary.insert(6, "difference_mc_se", g["difference"].std(ddof=1).to_numpy() / np.sqrt(g.size().to_numpy()))
    text = ["# Gold learning curve on paired pilots vs the value on new queries", "",
            "Written by `OMP_NUM_THREADS=1 python benchmarks/paired_curve/run.py` (module docstring: design).",
            "difference: curve's area at its largest size minus the truth (mean over pilots, MC SE beside it). "
            "Coverage of the truth by the curve's average +- 1.96 SE, with the SE of independent repeats "
            "(`coverage_independent`, too narrow: the repeats share the pilot) and with one repeat's SE "
            "(`coverage_single`, too wide); `sd_of_difference`: the actual spread over pilots.", "",
            summary.to_markdown(index=False, floatfmt=".4f"), ""]
    (out / "summary.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
