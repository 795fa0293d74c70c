"""Time ``cost_quality_frontier`` on many queries and models (issue 13).

The oracle curve is traced by one sweep over the sorted pairwise breakpoints
(``evaluation.oracle_trace``); this script times the whole frontier (two routers, the
oracle and the random reference) on ``--n`` queries and ``--models`` models, and checks the
oracle trace against a direct evaluation of every query at a sample of the weights.

Run::

    python benchmarks/frontier/run.py --n 100000 --models 6

Writes ``benchmarks/frontier/summary.md``. Nothing here asserts on wall time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.evaluation.curves import choices_at_weights, oracle_trace

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, K = args.n, args.models
    gold = np.column_stack((np.zeros(n), rng.normal(size=(n, K - 1)) + np.linspace(0.2, 1.0, K - 1)))
    costs = np.exp(rng.normal(size=(n, K)) * 0.3) * np.arange(1, K + 1)
    scores = {name: gold + rng.normal(scale=s, size=gold.shape) for name, s in (("good", 0.5), ("poor", 2.0))}
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        front = mrs.cost_quality_frontier(gold, costs, scores)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    grid, mean_cost, mean_quality = oracle_trace(gold, costs)
    t_oracle = time.perf_counter() - t0
    pick = np.unique(np.linspace(0, grid.size - 1, 25).astype(int))
    err = 0.0
    for j in pick:
        k = choices_at_weights(gold, costs, np.full(n, grid[j]))
        err = max(err, abs(costs[np.arange(n), k].mean() - mean_cost[j]), abs(gold[np.arange(n), k].mean() - mean_quality[j]))
    text = (
        f"# cost_quality_frontier timing\n\n`python benchmarks/frontier/run.py --n {n} --models {K}` "
        f"(two routers + oracle + random; {grid.size:,} oracle breakpoints).\n\n"
        f"- whole frontier: fastest {min(times):.2f} s, median {np.median(times):.2f} s over {args.repeats} runs\n"
        f"- oracle sweep alone: {t_oracle:.2f} s\n"
        f"- oracle sweep vs direct evaluation at {pick.size} breakpoints: max abs difference {err:.2e}\n"
        f"- AIQ: " + ", ".join(f"{k} {v:.4f}" for k, v in front.areas.items()) + "\n"
    )
    write_summary_section(SUMMARY, "frontier", text)
    print(text)


if __name__ == "__main__":
    main()
