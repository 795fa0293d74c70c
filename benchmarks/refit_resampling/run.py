"""Why the refit bootstrap's calibration depends on the gold size (issue 14): copies of a resampled row.

Three checks on the paper-like scenario with 150 gold and 600 preference rows (d = 50, true c),
writing ``benchmarks/refit_resampling/summary.md``:

1. the fast band's SE against the Monte Carlo SD of its centre over ``--datasets`` fits (is the
   fast band right here?);
2. on the first fit, the refit band's mean SE with the replicates' cross-fitting folds ungrouped
   (the default) and grouped (``band_engines._GROUP_REPLICATES``), against the fast band's;
3. on three resamples of that fit's data, the SD of the DR pseudo-outcomes of gold and of
   preference rows, ungrouped and grouped, against the original data's: ungrouped, a row drawn
   twice is predicted by a model fitted on its twin (the preference rows' spread shrinks);
   grouped, each fold's outcome model learns from fewer distinct rows (the gold rows' spread grows).

Run (about 5 minutes on 2 cores)::

    OMP_NUM_THREADS=1 python benchmarks/refit_resampling/run.py --datasets 80 --n-jobs 2
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.cate import DRBiasLearner
from metarouter_stats.inference import band_engines

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
N_GOLD, N_PREF, D = 150, 600, 50


def _points() -> np.ndarray:
    return mrs.simulate(n_gold=2, n_preference=2, n_test=20, d=D, rng=12345).X_test


def _fit(seed: int) -> tuple[mrs.SimulatedStudy, mrs.MetaRouter]:
    s = mrs.simulate(n_gold=N_GOLD, n_preference=N_PREF, n_test=2, d=D, rng=seed)
    return s, mrs.MetaRouter(scale=s.scale, random_state=seed).fit(s.train)


def fast_band(seed: int) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, router = _fit(seed)
        band = mrs.bias_interval(router, _points(), n_boot=200, rng=seed)
    return band.estimate, band.std_error


def refit_se(seed: int, grouped: bool, n_jobs: int) -> float:
    band_engines._GROUP_REPLICATES = grouped
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s, router = _fit(seed)
            band = mrs.bias_interval(router, _points(), n_boot=40, method="refit", data=s.train, rng=seed,
                                     progress=False, n_jobs=n_jobs)
    finally:
        band_engines._GROUP_REPLICATES = False
    return float(band.std_error.mean())


def score_spread(seed: int) -> list[str]:
    s = mrs.simulate(n_gold=N_GOLD, n_preference=N_PREF, n_test=2, d=D, rng=seed)
    X, y, t = s.train.X, s.train.outcome, s.train.source
    o = np.where(t == 1, s.scale * y, y)
    gold, pref = np.flatnonzero(t == 1), np.flatnonzero(t == 0)

    def sds(learner: DRBiasLearner, tt: np.ndarray) -> str:
        phi = learner.scores_.pseudo_outcomes
        return f"{phi[tt == 1].std():.2f} | {phi[tt == 0].std():.2f}"

    lines = [f"| original data | {sds(DRBiasLearner(random_state=0).fit(X, o, t), t)} |"]
    g = np.random.default_rng(0)
    for b in range(3):
        rows = np.concatenate((g.choice(gold, gold.size), g.choice(pref, pref.size)))
        for name, groups in (("ungrouped", None), ("grouped", rows)):
            learner = DRBiasLearner(random_state=b).fit(X[rows], o[rows], t[rows], groups=groups)
            lines.append(f"| resample {b}, {name} | {sds(learner, t[rows])} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=int, default=80)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = [1000 + i for i in range(args.datasets)]
    out = Parallel(n_jobs=args.n_jobs)(delayed(fast_band)(seed) for seed in seeds)
    est, se = np.array([o[0] for o in out]), np.array([o[1] for o in out])
    ratio = float(np.mean(se.mean(axis=0) / est.std(axis=0, ddof=1)))
    fast_first = float(se[0].mean())
    ungrouped, grouped = (refit_se(seeds[0], g, args.n_jobs) for g in (False, True))
    lines = ["# Refit bootstrap: copies of a resampled row (paper, 150 gold, 600 preference rows, d = 50, true c)", "",
             f"Fast band (200 draws) over {args.datasets} fits: mean SE / Monte Carlo SD of its centre = {ratio:.2f}.", "",
             f"First fit, mean SE at 20 points: fast {fast_first:.3f}; refit (40 replicates) ungrouped "
             f"{ungrouped:.3f}, grouped {grouped:.3f}.", "",
             "SD of the DR pseudo-outcomes (first fit's data and three resamples of it):", "",
             "| data | gold rows | preference rows |", "|---|--:|--:|", *score_spread(seeds[0]), "",
             f"Wall time {time.perf_counter() - t0:.0f} s on {args.n_jobs} workers."]
    write_summary_section(SUMMARY, "refit_resampling", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
