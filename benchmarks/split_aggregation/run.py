"""Aggregating CDDF's sample splits: the median rule against the wild bootstrap of the mean.

``bias_heterogeneity_test`` and ``bias_by_group`` halve the scored rows ``n_splits`` times.
CDDF's median rule (p-value ``min(1, 2 median p_s)``, per-split intervals at level
``1 - alpha / 2``) is valid whatever the dependence between splits and far below its level;
``aggregation="bootstrap"`` averages the splits and calibrates the average by a wild bootstrap
that reruns every split (``metarouter_stats/inference/split_bootstrap.py``). This benchmark
runs both on the same fits.

One DR Meta-router per replication (the true c, 4,400 preference rows, d = 50, 100 splits;
seeds ``("split_aggregation", scenario, n_gold, rep)``), on:

``homogeneous``
    a constant bias: the size of the heterogeneity test and of the groups' "last = first"
    test, and the groups' coverage (every group's target is the constant);
``weak_bias``
    b(x) = 0.5 + 0.15 z1 (SD 0.15): power on a weak heterogeneous bias, coverage;
``paper``, ``nonlinear_bias``
    strong heterogeneity: coverage and width of the group intervals.

Group targets (5 groups, every query, ``method="fast"``) are computed here, independently of the
package's code: the same splits (same seed), the proxy refitted on each auxiliary half, groups
cut at its quantiles on the main half and applied to 50,000 fresh queries with their true Delta;
the median rule's target is the median over the splits, the bootstrap's the mean. Widths are
the mean 95 % pointwise half-widths (gold units).

Run in chunks (about 15 s per replication on one core) and summarise::

    OMP_NUM_THREADS=1 python benchmarks/split_aggregation/run.py --scenarios homogeneous --gold 100,500 --reps 100 --n-jobs 2
    python benchmarks/split_aggregation/run.py --merge
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

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
AGGREGATIONS = ("median", "bootstrap")
N_GROUPS = 5


def seed_for(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def group_targets(learner, seed: int, n_splits: int, X_big: np.ndarray, delta_big: np.ndarray) -> np.ndarray:
    """Per split (rows) and group (columns): the true average bias of the fresh queries in the group."""
    from sklearn.model_selection import StratifiedShuffleSplit

    sc = learner.scores_
    gen = np.random.default_rng(seed)
    splitter = StratifiedShuffleSplit(n_splits=n_splits, test_size=0.5, random_state=int(gen.integers(2**31 - 1)))
    out = []
    for aux, main in splitter.split(sc.X, sc.source):
        model = learner.refit_final(sc.X[aux], sc.pseudo_outcomes[aux], sc.weights[aux])
        cuts = np.quantile(model.predict(sc.X[main]), np.linspace(0, 1, N_GROUPS + 1)[1:-1])
        grp = np.searchsorted(cuts, model.predict(X_big), side="right")
        out.append([delta_big[grp == k].mean() for k in range(N_GROUPS)])
    return np.array(out)


def one_rep(scenario: str, n_gold: int, rep: int) -> list[dict]:
    seed = seed_for("split_aggregation", scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, scenario=scenario, rng=seed)
    router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
    big = mrs.simulate(n_gold=2, n_preference=2, n_test=50_000, scenario=scenario, rng=seed + 1)
    per_split = group_targets(router.bias_learner_, seed, 100, big.X_test, big.delta(big.X_test))
    targets = {"median": np.median(per_split, axis=0), "bootstrap": per_split.mean(axis=0)}
    rows = []
    for agg in AGGREGATIONS:
        t0 = time.perf_counter()
        het = mrs.bias_heterogeneity_test(router, aggregation=agg, rng=seed)
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gates = mrs.bias_by_group(router, n_groups=N_GROUPS, region="all", method="fast", aggregation=agg,
                                      rng=seed, progress=False)
        t2 = time.perf_counter()
        gt = targets[agg]
        low, high = gates.confidence_interval()
        ulow, uhigh = gates.confidence_interval(kind="uniform")
        rows.append({
            "scenario": scenario, "n_gold": n_gold, "rep": rep, "aggregation": agg,
            "het_p": het.p_value, "het_statistic": het.statistic,
            "gates_p": gates.difference_p_value,
            "pointwise": float(np.mean((low <= gt) & (gt <= high))),
            "uniform": float(np.all((ulow <= gt) & (gt <= uhigh))),
            "half_width": float(np.mean((high - low) / 2)),
            "mean_error": float(np.mean(gates.estimate - gt)),
            "het_seconds": t1 - t0, "gates_seconds": t2 - t1,
        })
    return rows


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    def binom_se(p: float, n: int) -> float:
        return float(np.sqrt(max(p * (1 - p), 0.05 * 0.95) / n))

    out = []
    for (scen, g, agg), d in raw.groupby(["scenario", "n_gold", "aggregation"], sort=True):
        n = len(d)
        het = float(np.mean(d["het_p"] < 0.05))
        gp = float(np.mean(d["gates_p"] < 0.05))
        out.append({
            "scenario": scen, "n_gold": g, "aggregation": agg, "fits": n,
            "het_reject": het, "het_mc_se": binom_se(het, n),
            "gates_diff_reject": gp, "gates_diff_mc_se": binom_se(gp, n),
            "pointwise": d["pointwise"].mean(),
            "pointwise_mc_se": d["pointwise"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "uniform": d["uniform"].mean(), "uniform_mc_se": binom_se(d["uniform"].mean(), n),
            "half_width": d["half_width"].mean(),
            "seconds": (d["het_seconds"] + d["gates_seconds"]).mean(),
        })
    table = pd.DataFrame(out)
    boot = table[table["aggregation"] == "bootstrap"].set_index(["scenario", "n_gold"])
    med = table[table["aggregation"] == "median"].set_index(["scenario", "n_gold"])
    ratio = (boot["half_width"] / med["half_width"]).rename("width_bootstrap_over_median")
    return table.merge(ratio.reset_index(), on=["scenario", "n_gold"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="homogeneous,weak_bias,paper,nonlinear_bias")
    ap.add_argument("--gold", default="100,500")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--first-rep", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--merge", action="store_true", help="only summarise the finished chunks")
    args = ap.parse_args()
    if not args.merge:
        for scen in args.scenarios.split(","):
            for g in map(int, args.gold.split(",")):
                key = f"split_aggregation_{scen}_g{g}_r{args.first_rep}-{args.first_rep + args.reps}"
                if key in STORE.done():
                    continue
                reps = range(args.first_rep, args.first_rep + args.reps)
                rows = Parallel(n_jobs=args.n_jobs)(delayed(one_rep)(scen, g, r) for r in reps)
                STORE.save(key, pd.DataFrame([row for rep_rows in rows for row in rep_rows]))
                print(key, "done", flush=True)
    table = summarise(STORE.rows("split_aggregation").drop(columns="chunk"))
    text = ("Heterogeneity test (one-sided, 5 %) and group averages (5 groups, 95 %) with the median rule and the "
            "wild bootstrap of the mean over 100 splits, on the same fits (`benchmarks/split_aggregation/run.py`; "
            "DR, true c, 4,400 preference rows, d = 50). het_reject / gates_diff_reject: share of fits with p < 0.05 "
            "(size on `homogeneous`, power elsewhere); pointwise / uniform: coverage of each aggregation's own target; "
            "half_width: mean pointwise half-width (gold units). MC SEs binomial (floored at the nominal 0.05's) or "
            "from the per-fit shares.\n\n" + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    write_summary_section(HERE / "summary.md", "split_aggregation", text, preamble=(
        "# Aggregating sample splits: CDDF's median rule and the wild bootstrap of the mean\n\n"
        "Written by `python benchmarks/split_aggregation/run.py` (module docstring: design, commands)."))
    print(text)


if __name__ == "__main__":
    main()
