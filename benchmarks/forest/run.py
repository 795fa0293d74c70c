"""Causal-forest bias learner against the DR learner: accuracy and coverage of Delta(x).

For each replication: simulate (300 gold, 1,500 preference, 100 test queries, d = 8), fit
``MetaRouter(cate="forest")`` and ``MetaRouter(cate="dr")``, and record at the test queries

* the correlation of Delta_hat with the true Delta (gold scale);
* the share of test queries whose 95 % pointwise interval covers the **true Delta(x)**:
  the forest's own BLB intervals (``bias_interval``'s default for it, target Delta(x)) and
  the DR fast band (target: Delta projected on the linear final stage, so under-coverage of
  Delta(x) is expected where Delta is not linear).

Neither learner was tuned on these scenarios. Monte Carlo SE = sd over replications / sqrt(R).

    python benchmarks/forest/run.py [--reps 20] [--n-jobs 2]

writes ``benchmarks/forest/summary.md`` and the chunk ``forest`` of ``results.csv.gz``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
SCENARIOS = ("nonlinear_bias", "paper", "selection")


def one(scenario: str, rep: int) -> list[dict]:
    warnings.simplefilter("ignore")
    s = mrs.simulate(n_gold=300, n_preference=1500, n_test=100, d=8, scenario=scenario, rng=1000 + rep)
    truth = s.delta(s.X_test)
    rows = []
    for cate in ("forest", "dr"):
        router = mrs.MetaRouter(cate=cate, random_state=rep).fit(s.train)
        band = mrs.bias_interval(router, s.X_test, rng=rep)
        rows.append({
            "scenario": scenario, "rep": rep, "learner": cate,
            "corr": float(np.corrcoef(router.predict_bias(s.X_test), truth)[0, 1]),
            "coverage": float(band.covers(truth).mean()),
            "width": float(np.mean(band.high - band.low)),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    out = Parallel(n_jobs=args.n_jobs)(delayed(one)(sc, r) for sc in SCENARIOS for r in range(args.reps))
    raw = pd.DataFrame([row for rows in out for row in rows])
    STORE.save("forest", raw)
    g = raw.groupby(["scenario", "learner"])
    table = pd.DataFrame({
        "corr": g["corr"].mean(),
        "coverage of Delta(x)": g["coverage"].mean(),
        "MC SE": g["coverage"].std(ddof=1) / np.sqrt(g["coverage"].count()),
        "mean width": g["width"].mean(),
        "reps": g["coverage"].count(),
    }).reset_index()
    text = (
        "# Causal forest vs DR learner: coverage of the true Delta(x)\n\n"
        f"`python benchmarks/forest/run.py --reps {args.reps}`: 300 gold, 1,500 preference, 100 test queries, "
        "d = 8; nominal pointwise level 95 %. Forest: its own BLB intervals (target Delta(x)). DR: the default "
        "fast band (target: Delta projected on the linear final stage).\n\n"
        + table.round(3).to_markdown(index=False) + "\n"
    )
    write_summary_section(SUMMARY, "forest", text)
    print(text)


if __name__ == "__main__":
    main()
