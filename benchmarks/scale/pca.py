"""A PCA in front of the Meta-router at sentence-embedding width: what it costs in efficiency gain (issue 43).

For each replication: simulate at d = 384 (``n_gold`` gold and 4,400 preference rows, 1,000
test queries; seeds ``("pca", scenario, n_gold, rep)``), then fit the default Meta-router
(the true c) twice on the same rows: on the 384 coordinates, and on their leading ``k``
principal components (a :class:`~sklearn.decomposition.PCA` fitted on the training queries'
embeddings only, no labels, then applied to the test queries). Record the share of the
test-label oracle's efficiency gain each captures (``efficiency_gain(psi_test, gain).auc_relative``)
and the fit's seconds. The simulation's embeddings have PCA-like decaying variances
(``simulate``'s docstring) and its bias and gain live in the leading coordinates, so this
measures what the reduction costs or saves when the signal is where a PCA looks; a bias carried
by a low-variance direction would be lost by it (not simulated here).

Run and summarise::

    OMP_NUM_THREADS=1 python benchmarks/scale/pca.py --reps 6 --n-jobs 2
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
from sklearn.decomposition import PCA

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
D = 384


def one_rep(scenario: str, n_gold: int, rep: int, ks: tuple[int, ...]) -> list[dict]:
    warnings.simplefilter("ignore")
    seed = zlib.crc32(repr(("pca", scenario, n_gold, rep)).encode())
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=1000, d=D, scenario=scenario, rng=seed)
    rows = []
    for k in (D, *ks):
        if k == D:
            train, X_test = s.train, s.X_test
        else:
            pca = PCA(k, random_state=0).fit(s.train.X)
            train = mrs.RoutingData(pca.transform(s.train.X), s.train.outcome, s.train.source)
            X_test = pca.transform(s.X_test)
        t0 = time.perf_counter()
        router = mrs.MetaRouter(scale=s.scale, random_state=rep).fit(train)
        seconds = time.perf_counter() - t0
        eg = mrs.efficiency_gain(s.psi_test, router.predict_gain(X_test))
        rows.append({"scenario": scenario, "n_gold": n_gold, "rep": rep, "components": k,
                     "eg_share": eg.auc_relative, "fit_seconds": seconds})
    return rows


def summarise(raw: pd.DataFrame) -> str:
    wide = raw.pivot_table(index=["scenario", "n_gold", "rep"], columns="components", values="eg_share")
    out = []
    for (scenario, n_gold), part in wide.groupby(level=[0, 1]):
        for k in wide.columns:
            diff = part[k] - part[D]
            out.append({"scenario": scenario, "n_gold": n_gold, "components": k, "reps": len(part),
                        "eg_share": part[k].mean(), "minus_d384": diff.mean() if k != D else 0.0,
                        "mc_se_of_difference": diff.std(ddof=1) / np.sqrt(len(diff)) if k != D else 0.0,
                        "fit_seconds": raw[(raw.scenario == scenario) & (raw.n_gold == n_gold)
                                           & (raw.components == k)].fit_seconds.mean()})
    return pd.DataFrame(out).to_markdown(index=False, floatfmt=".3f")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default="paper,nonlinear_bias")
    ap.add_argument("--gold", default="100,500")
    ap.add_argument("--components", default="50")
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args()
    ks = tuple(int(v) for v in args.components.split(","))
    cells = [(sc, int(g)) for sc in args.scenarios.split(",") for g in args.gold.split(",")]
    for scenario, n_gold in cells:
        key = f"pca_{scenario}_g{n_gold}_r{args.reps}"
        if key in STORE.done():
            continue
        parts = Parallel(n_jobs=args.n_jobs)(delayed(one_rep)(scenario, n_gold, r, ks) for r in range(args.reps))
        STORE.save(key, pd.DataFrame([row for part in parts for row in part]))
    raw = STORE.rows("pca").drop(columns="chunk")
    md = summarise(raw)
    write_summary_section(SUMMARY, "pca",
        "Default Meta-router (true c) on 384 simulated coordinates against their leading principal components "
        "(PCA on the training embeddings), same rows (`benchmarks/scale/pca.py`): share of the oracle's "
        "efficiency gain, its paired difference from d = 384 with the Monte Carlo SE, and the fit's seconds "
        "(1 thread; other jobs shared the machine, so seconds are indicative only).\n\n" + md + "\n")
    print(md)


if __name__ == "__main__":
    main()
