"""A judge's worth in gold labels for training: ``judge_training_worth`` against the simulated truth.

The data: ``simulate_judges`` with its default panel (``strong``: the paper's bias, noise 0.5;
``cheap``: the smooth bias, noise 1.0; ``twin``: the paper's bias, noise 0.7), paired (every judge
labels 2,000 queries, a random subset of ``n_gold`` also gets gold), d = 20, c = 1 declared; the
design of ``benchmarks/judges``.

**The truth** (part ``truth``), for each pilot size ``n_gold`` (100, 500), with the function's
defaults: ``held = 0.3 n_gold`` gold queries held out, ``base = 0.2 n_gold`` gold labels beside
N = 1,000 judge labels.

* The gold-only curve A_gold(m): ``GoldOnlyRouter`` fitted on m fresh gold labels (m from 5 to
  4,000 on a geometric grid of 30 sizes, and every size from 34 to 46 around its jump: it is
  constant below 40 gold labels, where its trees cannot split leaves of 20), ``--truth-reps`` draws per size, its EG area per query
  over rates 0.2-0.8 against the true psi on 20,000 fresh queries (the same for both pilot sizes).
* The Meta-router's area A_meta(base, 1,000) per judge: ``MetaRouter`` fitted on ``base`` fresh
  gold labels and 1,000 of the judge's labels drawn among the 2,000 - held queries of a fresh
  paired draw (as the function draws them among the pilot's queries not held out), same
  evaluation, ``--truth-reps`` draws.
* The true worth: ``worth_from_curves`` on the mean curves (``"above"`` beyond 4,000 gold labels).

**The estimate** (part ``pilots``): one pilot per replication (seed from the pilot size and the
replication only), ``judge_training_worth(pilot.train, n_repeats=12)`` with every default.
Recorded per judge: the worth, its 95 % interval, whether it is censored, the truth, and whether the
interval covers the truth (an interval open above covers every truth at or above its lower end).

Rows go to ``results.csv.gz`` through checkpointed chunks; the summary to ``summary.md``::

    OMP_NUM_THREADS=1 python benchmarks/judge_training/run.py truth --truth-reps 40 --n-jobs 2
    OMP_NUM_THREADS=1 python benchmarks/judge_training/run.py truth --truth-reps 40 --sizes 34,36,38,39,40,41,42,44,46
    OMP_NUM_THREADS=1 python benchmarks/judge_training/run.py truth --truth-first 40 --truth-reps 80 --n-jobs 2
    OMP_NUM_THREADS=1 python benchmarks/judge_training/run.py pilots --gold 100,500 --reps 30 --n-jobs 2
    python benchmarks/judge_training/run.py summary
"""

from __future__ import annotations

import argparse
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.planning.selection import EG_RATES
from metarouter_stats.planning.training_worth import HELD_OUT_SHARE, worth_from_curves

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
D = 20
N_QUERIES = 2000
PER_LABELS = 1000
TRUTH_SIZES = np.unique(np.round(np.geomspace(5, 4000, 30)).astype(int))
JUDGES = tuple(j.name for j in mrs.simulation.JUDGES)


def seed_for(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, ("judge_training",) + parts)).encode()) % (2**31 - 1)


def design(n_gold: int) -> tuple[int, int]:
    """(held out, base) of ``judge_training_worth``'s defaults for a pilot of ``n_gold`` gold queries."""
    held = max(10, int(round(HELD_OUT_SHARE * n_gold)))
    return held, max(10, int(round(0.2 * n_gold)))


def test_queries() -> tuple[np.ndarray, np.ndarray]:
    big = mrs.simulate_judges(n_gold=2, n_queries=2, n_test=20_000, d=D, rng=20261207)
    return big.X_test, big.psi_test


def area(psi: np.ndarray, scores: np.ndarray) -> float:
    return float(mrs.efficiency_gain(psi, scores, rates=EG_RATES).auc_per_query)


def truth_gold(m: int, rep: int) -> dict:
    X, psi = test_queries()
    sim = mrs.simulate_judges(n_gold=m, n_queries=m, n_test=1, d=D, rng=seed_for("gold", m, rep))
    fitted = mrs.GoldOnlyRouter(random_state=seed_for("gold_fit", m, rep)).fit(sim.train)
    return {"part": "gold", "size": m, "rep": rep, "area": area(psi, fitted.predict_gain(X))}


def truth_meta(n_gold: int, rep: int) -> list[dict]:
    X, psi = test_queries()
    held, base = design(n_gold)
    sim = mrs.simulate_judges(n_gold=base, n_queries=N_QUERIES - held, n_test=1, d=D,
                              rng=seed_for("meta", n_gold, rep))
    rows = []
    for judge in JUDGES:
        data = sim.train.for_judge(judge)
        pref = np.flatnonzero(data.source == 0)
        pick = np.random.default_rng(seed_for("pick", n_gold, rep, judge)).permutation(pref)[:PER_LABELS]
        keep = data.source == 1
        keep[pick] = True
        fitted = mrs.MetaRouter(random_state=seed_for("meta_fit", n_gold, rep, judge)).fit(data.subset(keep))
        rows.append({"part": "meta", "n_gold": n_gold, "base": base, "judge": judge, "rep": rep,
                     "area": area(psi, fitted.predict_gain(X))})
    return rows


def true_worths() -> pd.DataFrame:
    """Per pilot size and judge: the true worth from the mean truth curves."""
    gold = STORE.rows("truth_gold")
    meta = STORE.rows("truth_meta")
    curve = gold.groupby("size")["area"].mean()
    out = []
    for (n_gold, judge), g in meta.groupby(["n_gold", "judge"]):
        base = int(g["base"].iloc[0])
        w, cens = worth_from_curves(curve.index.to_numpy(), curve.to_numpy(), float(g["area"].mean()), base)
        out.append({"n_gold": n_gold, "judge": judge, "base": base, "true_meta_area": g["area"].mean(),
                    "true_worth": {"above": np.inf, "below": -np.inf}.get(cens, w), "truth_reps": len(g)})
    return pd.DataFrame(out)


def one_pilot(n_gold: int, rep: int) -> list[dict]:
    start = time.perf_counter()
    sim = mrs.simulate_judges(n_gold=n_gold, n_queries=N_QUERIES, n_test=1, d=D, rng=seed_for("pilot", n_gold, rep))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tw = mrs.judge_training_worth(sim.train, per_labels=PER_LABELS, n_repeats=12, rng=seed_for("tw", n_gold, rep),
                                      progress=False)
    seconds = time.perf_counter() - start
    curve = tw.curve
    return [{"n_gold": n_gold, "rep": rep, **r, "top_size": int(curve["size"].iloc[-1]),
             "top_area": float(curve["area"].iloc[-1]), "seconds": seconds} for r in tw.frame.to_dict("records")]


def summarise() -> pd.DataFrame:
    truth = true_worths()
    pilots = STORE.rows("pilots")
    df = pilots.merge(truth, on=["n_gold", "judge", "base"])
    df["covered"] = (df["worth_low"] <= df["true_worth"]) & (df["true_worth"] <= df["worth_high"])
    rows = []
    for (n_gold, judge), g in df.groupby(["n_gold", "judge"]):
        cov = g["covered"].mean()
        plain = g[g["censored"] == "none"]
        rows.append({
            "n_gold": n_gold, "judge": judge, "pilots": len(g), "base": int(g["base"].iloc[0]),
            "top size": int(g["top_size"].iloc[0]), "true worth": float(g["true_worth"].iloc[0]),
            "true meta area": float(g["true_meta_area"].iloc[0]), "mean meta area": float(g["meta_area"].mean()),
            "censored above": float((g["censored"] == "above").mean()),
            "censored below": float((g["censored"] == "below").mean()),
            "median worth (uncensored)": float(plain["worth"].median()) if len(plain) else float("nan"),
            "coverage": cov, "MC SE": float(np.sqrt(max(cov * (1 - cov), 0.05 * 0.95) / len(g))),
        })
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=("truth", "pilots", "summary"))
    ap.add_argument("--gold", default="100,500")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--first-rep", type=int, default=0)
    ap.add_argument("--truth-reps", type=int, default=40)
    ap.add_argument("--truth-first", type=int, default=0, help="truth: first replication (more draws resume)")
    ap.add_argument("--sizes", default=None, help="truth: gold-only sizes instead of the grid (no Meta-router draws)")
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    golds = [int(g) for g in args.gold.split(",")]
    if args.part == "truth":
        first, last = args.truth_first, args.truth_first + args.truth_reps
        sizes = TRUTH_SIZES if args.sizes is None else np.array([int(v) for v in args.sizes.split(",")])
        tag = "" if args.sizes is None else "_s" + "-".join(map(str, sizes))
        span = f"r{args.truth_reps}" if first == 0 else f"r{first}-{last}"  # r40: the first run's key
        key = f"truth_gold{tag}_{span}"
        if key not in STORE.done():
            rows = Parallel(n_jobs=args.n_jobs)(delayed(truth_gold)(int(m), r) for m in sizes
                                                for r in range(first, last))
            STORE.save(key, pd.DataFrame(rows))
        for g in golds if args.sizes is None else []:
            key = f"truth_meta_g{g}_{span}"
            if key not in STORE.done():
                rows = Parallel(n_jobs=args.n_jobs)(delayed(truth_meta)(g, r) for r in range(first, last))
                STORE.save(key, pd.DataFrame([x for rr in rows for x in rr]))
        print(true_worths().to_string())
    elif args.part == "pilots":
        for g in golds:
            key = f"pilots_g{g}_r{args.first_rep}-{args.first_rep + args.reps}"
            if key in STORE.done():
                continue
            rows = Parallel(n_jobs=args.n_jobs)(delayed(one_pilot)(g, r)
                                                for r in range(args.first_rep, args.first_rep + args.reps))
            STORE.save(key, pd.DataFrame([x for rr in rows for x in rr]))
            print(key, "done", flush=True)
    table = summarise() if STORE.rows("pilots").shape[0] else None
    if table is not None:
        text = ("`judge_training_worth` (defaults, 12 repeats, N = 1,000 judge labels) on pilots of `simulate_judges` "
                "(default panel, paired, 2,000 queries, d = 20) against the true worth (mean curves of fresh fits, "
                "`truth` part). Coverage: share of pilots whose 95 % interval holds the true worth (an interval "
                "censored above holds every worth at or above its lower end); MC SE binomial, floored at the "
                "nominal's. Censored: share of pilots whose worth lies beyond the sizes the pilot can fit.\n\n"
                + table.to_markdown(index=False, floatfmt=".3f") + "\n")
        write_summary_section(HERE / "summary.md", "judge_training", text, preamble=(
            "# A judge's worth in gold labels for training a router\n\n"
            "Written by `python benchmarks/judge_training/run.py` (module docstring: design, commands)."))
        print(text)


if __name__ == "__main__":
    main()
