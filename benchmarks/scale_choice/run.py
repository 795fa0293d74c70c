"""Which scale constant c, and what it does to the bias t-test: paired vs unpaired designs.

Per scenario (``paper``, ``nonlinear_bias``, ``homogeneous``, ``selection``; true c = 0.25),
design (``paired``: the judge labels 2,000 queries and a subset of ``n_gold`` of them also gets
gold; ``unpaired``: 2,000 preference and ``n_gold`` gold queries) and gold size (30 / 100 / 500),
``--reps`` seeded draws of ``simulate(..., design=...)``. Recorded per draw:

* c by every rule: ``variance`` (every label), ``paired`` (variance matching on the pairs,
  paired design only) and ``auto`` (what the package's default picks);
* the bias t-test (``bias_ttest(data, scale=rule)``: paired on the paired design, Welch otherwise)
  with the true c and with each estimated rule, and whether its 95 % interval covers the true
  mean bias on the gold scale, ``E[Delta(X)] / c`` (queries drawn at random; ``selection`` has
  no such target for a test on the selected queries, so it reports c only).

Writes ``results.csv.gz`` (one row per draw and rule, with the seed) and ``summary.md`` (means,
coverage with Monte Carlo SEs) beside this file. Run::

    python benchmarks/scale_choice/run.py --reps 400

(about 3 minutes on one core; no router is fitted).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.scaling import choose_scale

HERE = Path(__file__).parent
SCENARIOS = ("paper", "nonlinear_bias", "homogeneous", "selection")
GOLD = (30, 100, 500)
N_PREF = 2000
D = 10


def truth(scenario: str) -> float:
    """E[Delta(X)] on the gold scale from 400,000 draws of X."""
    s = mrs.simulate(n_gold=2, n_preference=2, n_test=400_000, d=D, scenario=scenario, rng=12345)
    return float(np.mean(s.delta(s.X_test)))


def one(scenario: str, design: str, n_gold: int, seed: int, target: float) -> list[dict]:
    s = mrs.simulate(n_gold=n_gold, n_preference=N_PREF, n_test=1, d=D, scenario=scenario, design=design, rng=seed)
    rows = []
    rules = {"true": s.scale, "variance": "variance", "auto": "auto"}
    if design == "paired":
        rules["paired"] = "paired"
    for name, rule in rules.items():
        ch = choose_scale(rule, s.train.outcome, s.train.source, query_ids=s.train.query_ids)
        res = mrs.bias_ttest(s.train, scale=rule)
        lo, hi = res.confidence_interval(0.95)
        rows.append({"scenario": scenario, "design": design, "n_gold": n_gold, "seed": seed, "rule": name,
                     "method": ch.method, "c": ch.value, "true_c": s.scale, "estimate": res.estimate,
                     "low": lo, "high": hi, "target": target,
                     "covers": float(lo <= target <= hi) if scenario != "selection" else np.nan})
    return rows


def summarise(df: pd.DataFrame) -> str:
    g = df.groupby(["scenario", "design", "n_gold", "rule"], sort=False)
    out = g.agg(draws=("c", "size"), c_mean=("c", "mean"), c_sd=("c", "std"), true_c=("true_c", "first"),
                bias_mean=("estimate", "mean"), target=("target", "first"), coverage=("covers", "mean")).reset_index()
    out["coverage_mc_se"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["draws"])
    lines = ["# Scale constant: which c, and the bias t-test's coverage of the true mean bias", "",
             "Written by `python benchmarks/scale_choice/run.py` (module docstring: design and targets).",
             "coverage: share of 95 % intervals containing E[Delta(X)] / c_true on the gold scale; "
             "MC SE beside it. `selection` has no coverage (its test targets the selected queries).", "",
             out.to_markdown(index=False, floatfmt=".3f")]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--gold", default=",".join(map(str, GOLD)))
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    rows = []
    for scenario in args.scenarios.split(","):
        target = truth(scenario)
        for design in ("paired", "unpaired"):
            for n_gold in map(int, args.gold.split(",")):
                for r in range(args.reps):
                    rows += one(scenario, design, n_gold, 1000 * n_gold + r, target)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "results.csv.gz", index=False)
    (out / "summary.md").write_text(summarise(df))
    print(summarise(df))


if __name__ == "__main__":
    main()
