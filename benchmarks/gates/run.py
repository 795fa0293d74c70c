"""Group averages of the bias (``bias_by_group``, CDDF's GATES) when gold is selected on x (issue 14).

On ``selection`` with 50-100 gold rows the group averages over all queries under-covered
(0.64-0.71 pointwise, ``validity/run.py fits``). This benchmark scores three variants on
the same fits, each against its own stated target:

``all_fast``
    ``region="all", method="fast"``: every query, sandwich SE of the scores (the old default).
``overlap_fast``
    ``region="overlap", method="fast"``: only the queries inside the overlap (density ratio of
    gold to preference queries in [0.1, 10] by the learner's propensity); the default without
    ``data=`` when more than 5 % of the preference rows lie outside.
``overlap_both``
    ``region="overlap", method="both"``: the same groups, per split and group the larger of the
    sandwich SE and the SD over ``--boot`` weighted refits; the default given ``data=``.

The targets are computed independently of the package's code: the same splits (same seed),
the proxy refitted on each auxiliary half, groups cut at its quantiles on the main half, and
applied to 50,000 fresh queries with their true Delta (for ``overlap``: the fresh queries whose
density ratio, from the learner's ``predict_propensity``, lies in the band); median over
the splits. One DR Meta-router per replication (true c, 4,400 preference rows, d = 50),
seeds ``("gates", scenario, n_gold, rep)``, distinct from the pilot (``fits`` seeds 0-9).

Run in chunks (about 4 CPU-minutes per replication, almost all of it ``overlap_both``'s refits) and merge::

    OMP_NUM_THREADS=1 python benchmarks/gates/run.py --gold 100 --reps 5 --first-rep 0 --tag _g100_r0
    python benchmarks/gates/run.py --merge _g

The runs tagged ``_g`` used 5 groups (``--n-groups 5``, the default before ``n_groups="auto"``);
those tagged ``_auto`` the default, with fresh replications (``--first-rep 100`` on).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.positivity import density_ratio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks folder: shared scenario code
from validity.run import gates_truth, seed_for  # noqa: E402

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
VARIANTS = {"all_fast": ("all", "fast"), "overlap_fast": ("overlap", "fast"), "overlap_both": ("overlap", "both")}
BAND = (0.1, 10.0)


def inside(learner, X: np.ndarray, p: float) -> np.ndarray:
    w = density_ratio(np.asarray(learner.predict_propensity(X), dtype=float), p)
    return (w >= BAND[0]) & (w <= BAND[1])


def one_rep(scenario: str, n_gold: int, rep: int, variants: list[str], n_boot: int, n_groups) -> list[dict]:
    seed = seed_for("gates", scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, scenario=scenario, rng=seed)
    router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
    learner = router.bias_learner_
    sc = learner.scores_
    p = float(sc.source.mean())
    big = mrs.simulate(n_gold=2, n_preference=2, n_test=50_000, scenario=scenario, rng=seed + 1)
    train_in = inside(learner, sc.X, p)
    rows_in = np.flatnonzero(train_in)
    big_in = inside(learner, big.X_test, p)
    share_out = float(1 - train_in[sc.source == 0].mean())
    targets = {}
    out = []
    for name in variants:
        region, method = VARIANTS[name]
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = mrs.bias_by_group(router, n_groups=n_groups, region=region, method=method, data=s.train,
                                    n_boot=n_boot, rng=seed, progress=False)
        secs = time.perf_counter() - t0
        if region not in targets:
            rows = np.arange(sc.n) if region == "all" else rows_in
            Xb = big.X_test if region == "all" else big.X_test[big_in]
            targets[region] = gates_truth(learner, seed, res.n_groups, res.n_splits, Xb, big.delta(Xb), rows)
        gt = targets[region]
        low, high = res.confidence_interval()
        ulow, uhigh = res.confidence_interval(kind="uniform")
        se = np.median(res.split_std_errors, axis=0)
        out.append({
            "scenario": scenario, "n_gold": n_gold, "rep": rep, "variant": name,
            "pointwise": float(np.mean((low <= gt) & (gt <= high))),
            "uniform": float(np.all((ulow <= gt) & (gt <= uhigh))),
            "mean_error": float(np.mean(res.estimate - gt)), "mean_abs_error_over_se": float(np.mean(np.abs(res.estimate - gt) / se)),
            "mean_se": float(np.mean(se)), "share_out": share_out,
            "excluded_gold": res.n_excluded_gold, "excluded_preference": res.n_excluded_preference,
            "region": res.region, "method": res.method, "n_groups": res.n_groups, "seconds": secs,
            **{f"error_{k + 1}": float(res.estimate[k] - gt[k]) for k in range(res.n_groups)},
            **{f"covered_{k + 1}": bool(low[k] <= gt[k] <= high[k]) for k in range(res.n_groups)},
            **{f"gold_{k + 1}": float(res.gold_per_group[k]) for k in range(res.n_groups)},
        })
        print(scenario, n_gold, rep, name, round(out[-1]["pointwise"], 2), out[-1]["uniform"],
              np.round(res.estimate - gt, 2), round(secs, 1), flush=True)
    return out


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (scen, g, var), d in raw.groupby(["scenario", "n_gold", "variant"], sort=True):
        n = len(d)
        rows.append({
            "scenario": scen, "n_gold": g, "variant": var, "fits": n,
            "pointwise": d["pointwise"].mean(), "pointwise_mc_se": d["pointwise"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "uniform": d["uniform"].mean(), "uniform_mc_se": d["uniform"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "mean_error": d["mean_error"].mean(), "mean_se": d["mean_se"].mean(),
            "excluded_preference": d["excluded_preference"].mean(), "excluded_gold": d["excluded_gold"].mean(),
            "groups": d["n_groups"].mean() if "n_groups" in d else 5.0,
            "seconds": d["seconds"].mean(),
        })
    return pd.DataFrame(rows)


def write(raw: pd.DataFrame, tag: str) -> None:
    STORE.save(f"gates{tag}", raw)
    table = summarise(raw)
    text = ("Group averages of the bias (`bias_by_group`, 100 splits, 95 %) scored against their stated "
            "targets (`benchmarks/gates/run.py`; DR, true c, 4,400 preference rows, d = 50). groups: mean number of "
            "groups (5 given, or chosen by n_groups='auto'). pointwise: share of the groups covered; uniform: all at "
            "once (Sidak). mean_error: estimate - target, averaged over groups and "
            "fits (gold units); mean_se: the median split SE; excluded_*: rows outside the overlap left out.\n\n"
            + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    write_summary_section(SUMMARY, f"gates{tag}", text)
    print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="selection")
    ap.add_argument("--gold", default="50,100,500")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--first-rep", type=int, default=0)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--boot", type=int, default=50, help="weighted refits of overlap_both")
    ap.add_argument("--n-groups", default="auto", help="bias_by_group's n_groups: 'auto' (the default) or an int "
                    "(the runs tagged _g used 5, the default before n_groups='auto')")
    ap.add_argument("--tag", default="")
    ap.add_argument("--merge", default=None, help="summarise the chunks gates<PREFIX>* as the summary section gates<PREFIX>")
    args = ap.parse_args()
    if args.merge is not None:
        raw = STORE.rows(f"gates{args.merge}").drop(columns="chunk").drop_duplicates(
            ["scenario", "n_gold", "rep", "variant"])
        write(raw.sort_values(["scenario", "n_gold", "variant", "rep"]), args.merge)
        return
    out = []
    for scen in args.scenarios.split(","):
        for g in (int(x) for x in args.gold.split(",")):
            for rep in range(args.first_rep, args.first_rep + args.reps):
                out += one_rep(scen, g, rep, args.variants.split(","), args.boot,
                               args.n_groups if args.n_groups == "auto" else int(args.n_groups))
    write(pd.DataFrame(out), args.tag)


if __name__ == "__main__":
    main()
