"""Coverage of the 95 % bootstrap bands for Delta(x) and for the efficiency-gain curve.

For each gold size, ``--reps`` replications of the paper-like simulation (4,400
preference rows, 500 test queries, d = 50): fit the DR Meta-router, then

* Delta: fast bootstrap band (final stage resampled, 200 replicates) at 20 fixed
  evaluation points drawn once from the embedding law; coverage of the true
  Delta(x) (gold scale), pointwise (average over points) and uniform (all 20 at once);
* EG: test-set bootstrap band (1,000 replicates) of EG per query at rates
  0.2..0.8 from the 500 noisy test gold labels; the truth is the fitted router's EG
  per query on 20,000 fresh queries with their true gains. Pointwise and uniform.

Run::

    OMP_NUM_THREADS=1 python benchmarks/coverage/run.py --reps 200 --n-jobs 1

Writes ``benchmarks/coverage/results.csv.gz`` (one row per replication) and
``benchmarks/coverage/summary.md`` (the table). Replication r of gold size n uses
seed ``1000 * n + r``, so results do not depend on ``--n-jobs``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats._resampling import make_band
from metarouter_stats.simulation import eigen_spectrum

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"


def eval_points(d: int = 50, m: int = 20) -> np.ndarray:
    rng = np.random.default_rng(20261123)
    return rng.standard_normal((m, d)) * np.sqrt(eigen_spectrum(d))


def one(n_gold: int, rep: int, scenario: str, undersmooth: float = 1.0) -> dict:
    seed = 1000 * n_gold + rep
    t0 = time.perf_counter()
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=500, scenario=scenario, rng=seed)
    router = mrs.MetaRouter(cate="dr", random_state=rep).fit(s.train)
    Xe = eval_points()
    truth = s.delta(Xe)
    pw = mrs.bias_interval(router, Xe, n_boot=200, rng=seed, kind="pointwise", undersmooth=undersmooth)
    un = make_band(pw.estimate, pw.draws, kind="uniform", confidence_level=0.95, method="fast")
    big = mrs.simulate(n_gold=2, n_preference=2, n_test=20_000, scenario=scenario, rng=seed + 7)
    eg_truth = mrs.efficiency_gain(big.psi_test, router.predict_gain(big.X_test)).per_query
    scores = router.predict_gain(s.X_test)
    eg_pw = mrs.efficiency_gain_interval(s.gold_test, scores, n_boot=1000, rng=seed, kind="pointwise")
    eg_un = make_band(eg_pw.estimate, eg_pw.band.draws, kind="uniform", confidence_level=0.95, method="test")
    return {
        "scenario": scenario,
        "n_gold": n_gold,
        "rep": rep,
        "delta_pointwise": pw.covers(truth).mean(),
        "delta_uniform": float(un.covers(truth).all()),
        "delta_bias": float(np.mean(pw.estimate - truth)),
        "delta_se": float(np.mean(pw.std_error)),
        "delta_abs_error": float(np.mean(np.abs(pw.estimate - truth))),
        "eg_pointwise": eg_pw.band.covers(eg_truth).mean(),
        "eg_uniform": float(eg_un.covers(eg_truth).all()),
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--gold", nargs="+", type=int, default=[100, 500, 1000])
    parser.add_argument("--scenario", default="paper")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--undersmooth", type=float, default=1.0, help="ridge penalty factor of the Delta band")
    parser.add_argument("--tag", default="", help="suffix of the output files")
    args = parser.parse_args()
    jobs = [delayed(one)(ng, r, args.scenario, args.undersmooth) for ng in args.gold for r in range(args.reps)]
    rows = Parallel(n_jobs=args.n_jobs, verbose=5)(jobs)
    df = pd.DataFrame(rows)
    STORE.save(f"coverage{args.tag}", df)
    cols = ["delta_pointwise", "delta_uniform", "eg_pointwise", "eg_uniform"]
    table = df.groupby("n_gold")[cols].mean()
    mc = np.sqrt(0.95 * 0.05 / df.groupby("n_gold").size())
    table["mc_se_of_0.95"] = mc
    table["delta_mean_bias"] = df.groupby("n_gold")["delta_bias"].mean()
    table["delta_mean_se"] = df.groupby("n_gold")["delta_se"].mean()
    table["reps"] = df.groupby("n_gold").size()
    text = (
        f"Empirical coverage of nominal 95 % bands, scenario {args.scenario!r}, DR Meta-router, "
        f"undersmooth={args.undersmooth}, "
        "fast bootstrap for Delta (20 fixed points), test-set bootstrap for EG per query (rates 0.2-0.8).\n\n"
        + table.round(3).to_markdown()
        + "\n"
    )
    write_summary_section(SUMMARY, f"coverage{args.tag}", text)
    print(text)


if __name__ == "__main__":
    main()
