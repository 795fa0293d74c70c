"""Cost and accuracy of the fast bootstrap of Delta_hat against the full refit bootstrap.

Paper-like simulation, 100 gold and 4,400 preference rows, d = 50, 50 evaluation
points. For the DR and the R Meta-router:

* cost: seconds of one ``MetaRouter.fit`` and of ``bias_interval(n_boot=200)``
  (fast: final stage only), and their ratio (target: at most 3);
* agreement: the fast band against a full refit bootstrap (every stage, scale
  included; ``--refits`` replicates): ratio of standard errors and of band widths
  per point (median and 10-90 % range).

Run::

    OMP_NUM_THREADS=1 python benchmarks/bootstrap/run.py --refits 100 --n-jobs 1

Writes ``benchmarks/bootstrap/summary.md``. Nothing asserts on wall time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refits", type=int, default=100)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    s = mrs.simulate(n_gold=100, n_preference=4400, n_test=50, rng=11)
    rows = []
    for cate in ("dr", "r"):
        t0 = time.perf_counter()
        router = mrs.MetaRouter(cate=cate, random_state=0).fit(s.train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = mrs.bias_interval(router, s.X_test, n_boot=200, rng=1, undersmooth=1)
        fast_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        refit = mrs.bias_interval(router, s.X_test, n_boot=args.refits, rng=1, method="refit", data=s.train, n_jobs=args.n_jobs)
        refit_s = time.perf_counter() - t0
        se_ratio = fast.std_error / refit.std_error
        width_ratio = (fast.high - fast.low) / (refit.high - refit.low)
        truth = s.delta(s.X_test)
        rows.append(
            {
                "cate": cate,
                "fit_seconds": fit_s,
                "fast_200_seconds": fast_s,
                "fast_over_fit": fast_s / fit_s,
                f"refit_{args.refits}_seconds": refit_s,
                "se_ratio_median": np.median(se_ratio),
                "se_ratio_p10": np.quantile(se_ratio, 0.1),
                "se_ratio_p90": np.quantile(se_ratio, 0.9),
                "width_ratio_median": np.median(width_ratio),
                "fast_covers_truth": fast.covers(truth).mean(),
                "refit_covers_truth": refit.covers(truth).mean(),
            }
        )
        print(rows[-1])
    df = pd.DataFrame(rows).set_index("cate")
    text = (
        "Fast (final-stage) vs full-refit bootstrap of Delta_hat, 100 gold / 4,400 preference, "
        f"50 evaluation points, 200 fast replicates, {args.refits} refits.\n\n" + df.round(3).to_markdown() + "\n"
    )
    write_summary_section(SUMMARY, "bootstrap", text)
    print(text)


if __name__ == "__main__":
    main()
