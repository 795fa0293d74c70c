"""Coverage and width of ``evaluate_cost_quality`` (issue 15: multi-model value from few gold labels).

A three-model simulation (reference, a strong expensive model, a cheap middling one), 4
covariates; gold gains mu_k(x) + N(0, 1); a pseudo-gold that is a biased, noisy prediction
(0.8 mu_k(x) + 0.1 + N(0, 0.5): like corrected preference labels); two **fixed** routers (the
true mean gain distorted by a fixed function of x, and a worse one). Costs: per-model base
prices times (1 + 0.2 |x2|). Truth: each router's AIQ and best quality at a mean budget on
200,000 fresh queries. Each replication draws 2,000 evaluation queries with gold labels on a
random ``--gold`` of them and evaluates with and without the pseudo-gold; nominal 95 %.

Run::

    python benchmarks/bench_cost_value.py --reps 200 --gold 50,200

Writes ``benchmarks/results/cost_value.md``. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.decision import choose_models
from metarouter_stats.evaluation import frontier_area

RESULTS = Path(__file__).resolve().parent / "results"
BASE = np.array([1.0, 6.0, 2.0])
BUDGET = 3.0
WEIGHTS = np.concatenate(([0.0], np.logspace(-3, 1, 40)))


def mu(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.zeros(len(X)), 0.8 + X[:, 0] + 0.5 * np.tanh(2 * X[:, 1]), 0.3 + 0.6 * X[:, 2]])


def draw(n: int, rng: np.random.Generator) -> dict:
    X = rng.normal(size=(n, 4))
    m = mu(X)
    g = m + np.column_stack([np.zeros(n), rng.normal(size=(n, 2))])
    f = 0.8 * m + 0.1 + np.column_stack([np.zeros(n), 0.5 * rng.normal(size=(n, 2))])
    f[:, 0] = 0.0
    c = BASE * (1 + 0.2 * np.abs(X[:, [3]]))
    scores = {"good": m + 0.5 * np.column_stack([np.zeros(n), np.sin(3 * X[:, 0]), np.cos(3 * X[:, 2])]),
              "weak": m * np.array([0.0, 0.3, 1.0]) + 0.3 * np.column_stack([np.zeros(n), X[:, 1], X[:, 3]])}
    return {"X": X, "g": g, "f": f, "c": c, "scores": scores}


def truth(n: int = 200_000) -> dict:
    d = draw(n, np.random.default_rng(12345))
    lo, hi = float(d["c"].mean(axis=0).min()), float(d["c"].mean(axis=0).max())
    out = {}
    idx = np.arange(n)
    for name, s in d["scores"].items():
        k = np.column_stack([choose_models(s, d["c"], w) for w in WEIGHTS])
        cost, qual = d["c"][idx[:, None], k].mean(axis=0), mu(d["X"])[idx[:, None], k].mean(axis=0)
        ok = cost <= BUDGET
        out[name] = (frontier_area(cost, qual, lo, hi), float(qual[ok].max()))
    return out


def one(rep: int, n_gold: int, true: dict) -> list[dict]:
    rng = np.random.default_rng(1000 + rep)
    d = draw(2000, rng)
    lab = np.zeros(2000, dtype=bool)
    lab[rng.choice(2000, n_gold, replace=False)] = True
    g_obs = np.where(lab[:, None], d["g"], np.nan)
    rows = []
    for variant, pseudo in (("gold-only", None), ("ppi", d["f"])):
        tab = mrs.evaluate_cost_quality(g_obs, d["c"], d["scores"], pseudo_gold=pseudo, weights=WEIGHTS,
                                        budget=BUDGET, n_boot=500, rng=rep)
        for r in tab.itertuples():
            a_true, b_true = true[r.router]
            rows.append({"n_gold": n_gold, "variant": variant, "router": r.router, "rep": rep,
                         "aiq_cover": r.aiq_low <= a_true <= r.aiq_high, "aiq_width": r.aiq_high - r.aiq_low,
                         "aiq_err": r.aiq - a_true,
                         "budget_cover": r.quality_at_budget_low <= b_true <= r.quality_at_budget_high,
                         "budget_width": r.quality_at_budget_high - r.quality_at_budget_low})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--gold", default="50,200")
    args = ap.parse_args()
    t0 = time.perf_counter()
    true = truth()
    rows = [row for n in (int(v) for v in args.gold.split(",")) for rep in range(args.reps) for row in one(rep, n, true)]
    df = pd.DataFrame(rows)
    mc = lambda p: np.sqrt(p * (1 - p) / args.reps)  # noqa: E731
    table = df.groupby(["n_gold", "router", "variant"], sort=False).agg(
        aiq_cover=("aiq_cover", "mean"), aiq_bias=("aiq_err", "mean"), aiq_width=("aiq_width", "mean"),
        budget_cover=("budget_cover", "mean"), budget_width=("budget_width", "mean")).reset_index()
    table["aiq_cover"] = [f"{p:.3f} ({mc(p):.3f})" for p in table.aiq_cover]
    table["budget_cover"] = [f"{p:.3f} ({mc(p):.3f})" for p in table.budget_cover]
    RESULTS.mkdir(exist_ok=True)
    head = (f"# evaluate_cost_quality: coverage of AIQ and quality at mean cost <= {BUDGET:g} (nominal 95 %)\n\n"
            f"{args.reps} replications per gold size; 2,000 evaluation queries; truth on 200,000 queries: "
            + ", ".join(f"{k}: AIQ {a:.3f}, at budget {b:.3f}" for k, (a, b) in true.items())
            + f". Wall time {time.perf_counter() - t0:.0f} s.\n\n")
    (RESULTS / "cost_value.md").write_text(head + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    print(head + table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
