"""Time one full round: all routers, 5-fold cross-fitting, paper-like data, n_jobs = 1.

100 gold and 4,400 preference training rows, 500 test queries, d = 50; the seven
routers of the paper's comparison plus the oracle. Target: at most 12 s on a
2-core machine (the paper's serial script, with in-sample nuisances, takes about
25 s per round there).

Run::

    python benchmarks/bench_round.py --repeats 3

Writes ``benchmarks/results/round_timing.csv`` and prints the per-router seconds.
Nothing here asserts on wall time.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.experiment import run_round

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for rep in range(args.repeats):
        study = mrs.simulate(n_gold=100, n_preference=4400, n_test=500, d=50, rng=rep)
        t0 = time.perf_counter()
        frame = run_round(study, rng=rep)
        total = time.perf_counter() - t0
        per = frame.groupby("router", sort=False)["fit_seconds"].first()
        rows.append({"repeat": rep, "total_seconds": total, **per.to_dict()})
        print(f"repeat {rep}: {total:.2f} s  " + "  ".join(f"{k}={v:.2f}" for k, v in per.items()))
    df = pd.DataFrame(rows)
    df["machine"] = f"{platform.machine()} {platform.processor() or ''}".strip()
    RESULTS.mkdir(exist_ok=True)
    df.to_csv(RESULTS / "round_timing.csv", index=False)
    print(f"mean total over {args.repeats} repeats: {df['total_seconds'].mean():.2f} s (target <= 12 s)")


if __name__ == "__main__":
    main()
