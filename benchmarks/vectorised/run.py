"""Vectorised bootstrap replicates against the one-at-a-time loop they replace (same numbers, time ratio).

Workload: n = 2,000 queries, K = 3 models, 200 replicates; ``calibrate_weight`` at a usage rate and
at a budget, and ``cost_quality_interval`` of two routers with a budget. The loop is the package's
scalar rule applied replicate by replicate over the same draws (``bootstrap`` without ``batch``:
``smallest_weight`` / ``weight_for_budget`` per replicate, ``cost_quality_frontier`` per replicate),
as the tests write it. Each is timed ``--repeats`` times in this process (``time.perf_counter``),
alternating, and the median ratio is reported; the draws are checked equal. Writes
``summary.md`` beside this file::

    OMP_NUM_THREADS=1 python benchmarks/vectorised/run.py --repeats 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats._resampling import bootstrap
from metarouter_stats.decision import calibrate_weight, choose_models, smallest_weight, weight_for_budget
from metarouter_stats.decision.rule import mean_cost

HERE = Path(__file__).parent
N, B = 2000, 200


def data() -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(0)
    g = np.column_stack([np.zeros(N), rng.normal(0.3, 1, N), rng.normal(0.5, 1, N)])
    c = np.column_stack([np.ones(N), 2 + rng.random(N), 4 * np.ones(N)])
    return g, c, {"a": g + rng.normal(size=g.shape), "b": g + 2 * rng.normal(size=g.shape)}


def loop_calibrate(g, c, target: dict, weight: float) -> np.ndarray:
    def one(idx):
        gg, cc = g[idx], c[idx]
        if "rate" in target:
            solved = smallest_weight(lambda w: np.mean(choose_models(gg, cc, w) != 0) <= target["rate"])
            return np.mean(choose_models(gg, cc, weight) != 0), solved
        return mean_cost(gg, cc, weight), weight_for_budget(gg, cc, target["budget"])
    return bootstrap(one, N, B, np.random.default_rng(1))


def value_at_budget(frame: pd.DataFrame, budget: float) -> pd.Series:
    """Best mean quality of each router's frontier points at mean cost <= budget (as the package defines it)."""
    out = {}
    for name, d in frame.groupby("router", sort=False):
        ok = d["mean_cost"].to_numpy() <= budget + 1e-12
        out[str(name)] = float(d["mean_quality"].to_numpy()[ok].max()) if ok.any() else float("nan")
    return pd.Series(out)


def loop_cost_quality(g, c, s) -> np.ndarray:
    names = ["a", "b", "oracle", "random"]

    def one(idx):
        fr = mrs.cost_quality_frontier(g[idx], c[idx], {k: v[idx] for k, v in s.items()})
        return np.r_[fr.areas.reindex(names).to_numpy(), value_at_budget(fr.frame, 2.5).reindex(names).to_numpy()]
    return bootstrap(one, N, B, np.random.default_rng(3))


def _calibrated_draws(g: np.ndarray, c: np.ndarray, target: dict) -> np.ndarray:
    r = calibrate_weight(g, c, n_boot=B, rng=1, **target)
    return np.column_stack([r.achieved_draws, r.weight_draws])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    g, c, s = data()
    tasks = {}
    for target in ({"rate": 0.4}, {"budget": 2.5}):
        w = calibrate_weight(g, c, n_boot=B, rng=1, **target).weight
        tasks[f"calibrate_weight {target}"] = (
            lambda target=target: _calibrated_draws(g, c, target),
            lambda target=target, w=w: loop_calibrate(g, c, target, w))
    def vec_cost_quality() -> np.ndarray:
        r = mrs.cost_quality_interval(g, c, s, budget=2.5, n_boot=B, rng=3)
        return np.column_stack([e.draws for e in r.aiq + r.quality_at_budget])

    tasks["cost_quality_interval (2 routers, budget)"] = (vec_cost_quality, lambda: loop_cost_quality(g, c, s))
    rows = []
    for name, (vec, loop) in tasks.items():
        same = bool(np.array_equal(vec(), loop()))
        tv, tl = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter(); vec(); tv.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); loop(); tl.append(time.perf_counter() - t0)
        rows.append({"workload": name, "same_draws": same, "vectorised_s": float(np.median(tv)),
                     "loop_s": float(np.median(tl)), "ratio": float(np.median(np.array(tv) / np.array(tl)))})
    table = pd.DataFrame(rows)
    text = ("# Vectorised replicates against the loop\n\nWritten by `python benchmarks/vectorised/run.py` "
            f"(module docstring: workload). n = {N}, K = 3, {B} replicates, {args.repeats} alternating repeats, "
            "medians; ratio = vectorised / loop.\n\n" + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    (HERE / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
