"""Coverage and width of ``evaluate_cost_quality`` (multi-model value from few gold labels), and its tuner.

A three-model simulation (reference, a strong expensive model, a cheap middling one), 4
covariates; gold gains mu_k(x) + N(0, 1); a pseudo-gold that is a biased, noisy prediction
(0.8 mu_k(x) + 0.1 + N(0, 0.5): like corrected preference labels); two **fixed** routers (the
true mean gain distorted by a fixed function of x, and a worse one). Costs: per-model base
prices times (1 + 0.2 |x2|). Truth: each router's AIQ and best quality at a mean budget on
200,000 fresh queries. Each replication draws 2,000 evaluation queries with gold labels on a
random ``--gold`` of them (seed 1000 + rep) and evaluates, nominal 95 %:

``gold-only``
    ``evaluate_cost_quality`` without a pseudo-gold;
``ppi``
    ``evaluate_cost_quality`` with the pseudo-gold: the package's one PPI++ tuner (lambda =
    Cov(y, f) / Var(f) for gold rows inside the evaluation set, not clipped), Exp(1)
    multipliers, Student-t intervals under the small-sample rule;
``ppi_clipped``
    the earlier estimator, re-implemented here: lambda = Cov / ((1 + n/N) Var) clipped to
    [0, 1], Gaussian multipliers of the influence values, percentile intervals. It is what the
    tuner was chosen against.

Runs in chunks (one per gold size and block of replications, checkpointed in ``chunks/``,
resumable), merged into ``results.csv.gz`` (one row per router, variant and replication, with
its seed) and summarised in ``summary.md``::

    python benchmarks/cost_value/run.py --reps 300 --gold 50,200
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.decision import choose_models
from metarouter_stats.evaluation.curves import frontier_area
from metarouter_stats.experiment import ChunkStore, write_summary_section

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
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


def clipped_ppi(g_obs: np.ndarray, c: np.ndarray, s: np.ndarray, f: np.ndarray, rep: int, n_boot: int = 500,
                level: float = 0.95) -> tuple[float, float, float, float, float, float]:
    """The earlier estimator (an independent re-implementation): clipped Cov / ((1 + n/N) Var), Gaussian multipliers,
    percentile intervals. Returns (aiq, aiq_low, aiq_high, at_budget, its low, its high)."""
    n = g_obs.shape[0]
    lab = np.all(np.isfinite(g_obs), axis=1)
    n_g = int(lab.sum())
    idx = np.arange(n)
    k = np.column_stack([choose_models(s, c, float(w)) for w in WEIGHTS])
    m_cost = c[idx[:, None], k].mean(axis=0)
    y = np.nan_to_num(g_obs[idx[:, None], k])
    fj = f[idx[:, None], k]
    yg, fg = y[lab], fj[lab]
    cov = ((yg - yg.mean(0)) * (fg - fg.mean(0))).mean(0)
    var = fj.var(axis=0) * (1 + n_g / n)
    lam = np.clip(np.where(var > 1e-15, cov / np.where(var > 1e-15, var, 1.0), 0.0), 0.0, 1.0)
    f_mean = fj.mean(0)
    rect = (y[lab] - lam * fj[lab]).mean(0)
    q = lam * f_mean + rect
    infl = lam * (fj - f_mean) / n + np.where(lab[:, None], (y - lam * fj) - rect, 0.0) / n_g
    xi = np.random.default_rng(rep).standard_normal((n_boot, n))
    q_d = q + xi @ infl
    lo, hi = float(c.mean(0).min()), float(c.mean(0).max())
    aiq_d = np.array([frontier_area(m_cost, qd, lo, hi) for qd in q_d])
    ok = m_cost <= BUDGET
    b_d = q_d[:, ok].max(axis=1)
    qs = [0.5 - level / 2, 0.5 + level / 2]
    return (frontier_area(m_cost, q, lo, hi), *np.quantile(aiq_d, qs), float(q[ok].max()), *np.quantile(b_d, qs))


def one(rep: int, n_gold: int, true: dict) -> list[dict]:
    rng = np.random.default_rng(1000 + rep)
    d = draw(2000, rng)
    lab = np.zeros(2000, dtype=bool)
    lab[rng.choice(2000, n_gold, replace=False)] = True
    g_obs = np.where(lab[:, None], d["g"], np.nan)
    rows = []

    def record(variant: str, router: str, aiq: float, alo: float, ahi: float, blo: float, bhi: float) -> None:
        a_true, b_true = true[router]
        rows.append({"n_gold": n_gold, "variant": variant, "router": router, "rep": rep, "seed": 1000 + rep,
                     "aiq_cover": alo <= a_true <= ahi, "aiq_width": ahi - alo, "aiq_err": aiq - a_true,
                     "budget_cover": blo <= b_true <= bhi, "budget_width": bhi - blo})

    for variant, pseudo in (("gold-only", None), ("ppi", d["f"])):
        tab = mrs.evaluate_cost_quality(g_obs, d["c"], d["scores"], pseudo_gold=pseudo, weights=WEIGHTS,
                                        budget=BUDGET, n_boot=500, rng=rep).to_frame()
        for r in tab.itertuples():
            record(variant, r.router, r.aiq, r.aiq_low, r.aiq_high, r.quality_at_budget_low, r.quality_at_budget_high)
    for router, s in d["scores"].items():
        aiq, alo, ahi, _, blo, bhi = clipped_ppi(g_obs, d["c"], s, d["f"], rep)
        record("ppi_clipped", router, aiq, alo, ahi, blo, bhi)
    return rows


def summarise(df: pd.DataFrame, true: dict) -> str:
    def mc(p: float, n: int) -> float:
        return float(np.sqrt(p * (1 - p) / n))

    table = df.groupby(["n_gold", "router", "variant"], sort=True).agg(
        reps=("rep", "nunique"), aiq_cover=("aiq_cover", "mean"), aiq_bias=("aiq_err", "mean"),
        aiq_width=("aiq_width", "mean"), budget_cover=("budget_cover", "mean"),
        budget_width=("budget_width", "mean")).reset_index()
    table["aiq_cover"] = [f"{p:.3f} ({mc(p, n):.3f})" for p, n in zip(table.aiq_cover, table.reps, strict=True)]
    table["budget_cover"] = [f"{p:.3f} ({mc(p, n):.3f})" for p, n in zip(table.budget_cover, table.reps, strict=True)]
    return (f"Coverage of AIQ and of the quality at mean cost <= {BUDGET:g} (nominal 95 %; in brackets the Monte Carlo "
            "SE); 2,000 evaluation queries; truth on 200,000 queries: "
            + ", ".join(f"{k}: AIQ {a:.3f}, at budget {b:.3f}" for k, (a, b) in true.items()) + ".\n\n"
            + table.to_markdown(index=False, floatfmt=".3f"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--first-rep", type=int, default=0)
    ap.add_argument("--gold", default="50,200")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--merge", action="store_true", help="only merge the finished chunks and write summary.md")
    args = ap.parse_args()
    true = truth()
    if not args.merge:
        from joblib import Parallel, delayed

        done = STORE.done()
        for n in (int(v) for v in args.gold.split(",")):
            key = f"g{n}_r{args.first_rep}-{args.first_rep + args.reps - 1}"
            if key in done:
                print("done already:", key)
                continue
            t0 = time.perf_counter()
            parts = Parallel(n_jobs=args.n_jobs)(delayed(one)(rep, n, true)
                                                 for rep in range(args.first_rep, args.first_rep + args.reps))
            STORE.save(key, pd.DataFrame([row for part in parts for row in part]))
            print(key, f"{time.perf_counter() - t0:.0f} s", flush=True)
    text = summarise(STORE.rows(), true)
    write_summary_section(HERE / "summary.md", "Coverage and width", text, preamble=(
        "# evaluate_cost_quality: coverage, width, and the choice of the PPI++ tuner\n\n"
        "Written by `python benchmarks/cost_value/run.py` (module docstring: design, variants)."))
    print(text)


if __name__ == "__main__":
    main()
