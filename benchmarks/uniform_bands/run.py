"""Uniform bias bands at 100 / 500 / 1,000 gold rows: the studentised sup-t against the plain one.

One default DR Meta-router per replication (true c, so that the band is what is measured; 4,400
preference rows, d = 50, random gold), and on the same fit:

* the default band (``final_stage="auto"``: ridge on x refitted on the cross-fitted scores,
  undersmoothed), target the best linear predictor of Delta given x (computed on 200,000
  draws of the embedding law), on every scenario;
* the spline sieve (``final_stage="spline"``), target Delta(x) itself, on the scenarios whose
  bias is additive (``paper``: linear; ``smooth_bias``: 0.2 + 0.5 sin(1.5 z1) + 0.3 (z2^2 - 1)).

Each band (95 %, 200 replicates of the fast bootstrap, 20 fixed points) is scored two ways
from the same draws:

* ``stud`` (the default since this benchmark): the studentised sup-t critical value (each
  replicate divided by its own sandwich SE, rescaled to the draws' SD);
* ``plain`` (the band before): the plain sup-t.

Both have the draws' SD as SE, and the same pointwise band. Recorded per band: pointwise share of
the 20 points covered, max_j |error_j| / SE_j (whose 95 % quantile over fits is the critical value
the truth needed), the signed errors / SE at the 20 points (space-separated, for the per-point
bias, SE / SD and tails over fits), and per way the uniform coverage (all 20), the critical value
and the mean width of the uniform band. ``nonlinear_bias`` (a bias with an interaction), and any
other scenario passed (e.g. ``step_bias``), is scored on the linear band only. Rows go to ``results.csv.gz`` through checkpointed chunks of ``--chunk``
replications per cell; the summary (coverage with Monte Carlo SEs) to ``summary.md``. Run::

    OMP_NUM_THREADS=1 python benchmarks/uniform_bands/run.py --reps 200 --n-jobs 2
    python benchmarks/uniform_bands/run.py --merge        # summarise what is there, no runs
    OMP_NUM_THREADS=1 python benchmarks/uniform_bands/run.py --both --reps 3 --gold 100,500 --refits 50
    python benchmarks/uniform_bands/run.py --both --merge  # its summary again from both_homogeneous.csv

``--both`` measures the width of ``method="both"`` (the larger of the fast and the weighted refit
bootstrap's SE) under a constant bias, where re-tuning the sieve's penalty in every refit had made
it 3.6 times too wide; the refits now hold the router's penalty.

Replication r of a cell uses a seed derived from (scenario, gold size, r) only, so the numbers
do not depend on ``--n-jobs`` or on the chunking.
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
from metarouter_stats._resampling import make_band
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.simulation import eigen_spectrum

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
D = 50
SPLINE_SCENARIOS = ("paper", "smooth_bias")  # additive biases: the spline sieve's target is Delta itself
LEVEL = 0.95
WAYS = ("stud", "plain")


def seed_for(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, ("uniform_bands",) + parts)).encode()) % (2**31 - 1)


def eval_points(m: int = 20) -> np.ndarray:
    rng = np.random.default_rng(20261206)
    return rng.standard_normal((m, D)) * np.sqrt(eigen_spectrum(D))


def linear_target(scenario: str, Xe: np.ndarray) -> np.ndarray:
    """Best linear predictor of Delta (gold scale) in x over the embedding law, at ``Xe``."""
    big = mrs.simulate(n_gold=2, n_preference=2, n_test=200_000, d=D, scenario=scenario, rng=99)
    design = np.column_stack((np.ones(big.X_test.shape[0]), big.X_test))
    coef, *_ = np.linalg.lstsq(design, big.delta(big.X_test), rcond=None)
    return np.column_stack((np.ones(Xe.shape[0]), Xe)) @ coef


def score(band: mrs.Band, target: np.ndarray, prefix: str) -> dict:
    """Both ways of one uniform band (same draws, same SE): studentised as returned, and the plain one rebuilt."""
    plain = make_band(band.estimate, band.draws, kind="uniform", confidence_level=LEVEL, method="plain")
    pointwise = make_band(band.estimate, band.draws, kind="pointwise", confidence_level=LEVEL, method="plain")
    err = np.abs(band.estimate - target)
    z = (band.estimate - target) / band.std_error  # signed, per point: bias, SE / SD and tails over fits
    row: dict = {f"{prefix}_pointwise": float(np.mean(pointwise.covers(target))),
                 f"{prefix}_zmax": float(np.max(err / band.std_error)),
                 f"{prefix}_z": " ".join(f"{v:.4f}" for v in z),
                 f"{prefix}_mean_se": float(np.mean(band.std_error))}
    for way, un in (("stud", band), ("plain", plain)):
        row[f"{prefix}_{way}_uniform"] = float(np.all(un.covers(target)))
        row[f"{prefix}_{way}_crit"] = float(un.critical_value)
        row[f"{prefix}_{way}_width"] = float(np.mean(un.high - un.low))
    return row


def one_fit(scenario: str, n_gold: int, rep: int, Xe: np.ndarray, lin: np.ndarray) -> dict:
    t0 = time.perf_counter()
    seed = seed_for(scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, d=D, scenario=scenario, rng=seed)
    row: dict = {"scenario": scenario, "n_gold": n_gold, "rep": rep, "seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
        band = mrs.bias_interval(router, Xe, n_boot=200, kind="uniform", rng=seed)
        row.update(score(band, lin, "linear"))
        if scenario in SPLINE_SCENARIOS:
            spline = mrs.bias_interval(router, Xe, n_boot=200, kind="uniform", final_stage="spline", rng=seed)
            row.update(score(spline, s.delta(Xe), "spline"))
    row["seconds"] = time.perf_counter() - t0
    return row


def both_fit(n_gold: int, rep: int, Xe: np.ndarray, refits: int) -> dict:
    """Constant bias (``homogeneous``): the spline sieve's uniform band by ``method="both"`` against the fast one."""
    t0 = time.perf_counter()
    seed = seed_for("both", n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, d=D, scenario="homogeneous", rng=seed)
    truth = s.delta(Xe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
        fast = mrs.bias_interval(router, Xe, n_boot=200, kind="uniform", final_stage="spline", rng=seed)
        both = mrs.bias_interval(router, Xe, n_boot=refits, kind="uniform", final_stage="spline", method="both",
                                 data=s.train, rng=seed, progress=False)
    return {"n_gold": n_gold, "rep": rep, "seed": seed, "refits": refits,
            "fast_uniform": float(np.all(fast.covers(truth))), "both_uniform": float(np.all(both.covers(truth))),
            "fast_width": float(np.mean(fast.high - fast.low)), "both_width": float(np.mean(both.high - both.low)),
            "se_ratio": float(np.mean(both.std_error / fast.std_error)), "seconds": time.perf_counter() - t0}


def run_both(reps: int, n_jobs: int, gold: list[int], refits: int) -> pd.DataFrame:
    Xe = eval_points()
    rows = Parallel(n_jobs=n_jobs)(delayed(both_fit)(g, r, Xe, refits) for g in gold for r in range(reps))
    frame = pd.DataFrame(rows)
    frame.to_csv(HERE / "both_homogeneous.csv", index=False)
    return frame


def run(reps: int, first: int, chunk: int, n_jobs: int, scenarios: list[str], gold: list[int]) -> None:
    Xe = eval_points()
    lins = {sc: linear_target(sc, Xe) for sc in scenarios}
    done = STORE.done()
    for start in range(first, first + reps, chunk):
        stop = min(start + chunk, first + reps)
        keys = {(sc, g): f"{sc}_{g}_{start}_{stop}" for sc in scenarios for g in gold}
        todo = [(sc, g, r) for (sc, g), key in keys.items() if key not in done for r in range(start, stop)]
        if not todo:
            continue
        rows = Parallel(n_jobs=n_jobs)(delayed(one_fit)(sc, g, r, Xe, lins[sc]) for sc, g, r in todo)
        frame = pd.DataFrame(rows)
        for (sc, g), key in keys.items():
            part = frame[(frame.scenario == sc) & (frame.n_gold == g)]
            if len(part):
                STORE.save(key, part.reset_index(drop=True))
        print(f"reps {start}-{stop - 1} done ({frame.seconds.sum():.0f} CPU-s)", flush=True)


def mc(p: float, n: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-12) / max(n, 1)))


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (sc, g), part in raw.groupby(["scenario", "n_gold"], sort=True):
        for band in ("linear", "spline"):
            if f"{band}_stud_uniform" not in part or part[f"{band}_stud_uniform"].isna().all():
                continue
            p = part.dropna(subset=[f"{band}_stud_uniform"])
            n = len(p)
            row = {"scenario": sc, "n_gold": int(g), "band": band, "fits": n,
                   "pointwise": round(float(p[f"{band}_pointwise"].mean()), 3)}
            for way in WAYS:
                u = float(p[f"{band}_{way}_uniform"].mean())
                row[f"{way} uniform (MC SE)"] = f"{u:.3f} ({mc(u, n):.3f})"
                row[f"{way} crit"] = round(float(p[f"{band}_{way}_crit"].mean()), 2)
            row["needed crit"] = round(float(np.quantile(p[f"{band}_zmax"], LEVEL)), 2)
            row["width stud / plain"] = round(float((p[f"{band}_stud_width"] / p[f"{band}_plain_width"]).mean()), 3)
            out.append(row)
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--first-rep", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=10, help="replications per checkpointed chunk and cell")
    ap.add_argument("--scenarios", default="paper,smooth_bias,nonlinear_bias",
                    help="simulate scenarios; the spline band is scored on paper and smooth_bias only")
    ap.add_argument("--gold", default="100,500,1000")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--merge", action="store_true", help="summarise the stored results only (with --both: its CSV)")
    ap.add_argument("--both", action="store_true",
                    help="instead: method='both' against the fast spline band under a constant bias (--reps fits per "
                         "gold size, --refits refits each; writes both_homogeneous.csv and its summary section)")
    ap.add_argument("--refits", type=int, default=50)
    args = ap.parse_args()
    if args.both:
        frame = (pd.read_csv(HERE / "both_homogeneous.csv") if args.merge else
                 run_both(args.reps, args.n_jobs, [int(g) for g in args.gold.split(",")], args.refits))
        by = frame.groupby("n_gold")
        table = pd.DataFrame({"fits": by.size(), "fast uniform": by.fast_uniform.mean(),
                              "both uniform": by.both_uniform.mean(), "SE both / fast": by.se_ratio.mean(),
                              "width both / fast": by.both_width.mean() / by.fast_width.mean()}).reset_index()
        write_summary_section(SUMMARY, "both_homogeneous", (
            f"Constant bias (`homogeneous`), spline sieve, uniform 95 %: `method='both'` "
            f"({int(frame.refits.iloc[0])} weighted refits) against the fast band (200 replicates, studentised) on the "
            "same fits; mean SE and mean width of both over the fast band's.\n\n") + table.round(3).to_markdown(index=False))
        print(table.to_string(index=False))
        return
    if not args.merge:
        run(args.reps, args.first_rep, args.chunk, args.n_jobs, args.scenarios.split(","),
            [int(g) for g in args.gold.split(",")])
    raw = STORE.merge()
    if raw.empty:
        print("no results yet")
        return
    table = summarise(raw)
    head = ("95 % bands at 20 fixed points, 200 fast-bootstrap replicates; `stud`: the studentised sup-t (the "
            "default), `plain`: the plain sup-t (before); same SE (the draws' SD) and pointwise band; `needed crit`: "
            "the 95 % quantile over fits of max_j |error_j| / SE_j; Monte Carlo SE of a uniform coverage in "
            "brackets. Targets: the best linear predictor (linear band), Delta(x) (spline sieve).\n\n")
    write_summary_section(SUMMARY, "uniform_bands", head + table.to_markdown(index=False),
                          preamble="# Uniform bias bands: studentised against plain sup-t\n\n"
                                   "Written by `benchmarks/uniform_bands/run.py`; see its docstring.\n")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
