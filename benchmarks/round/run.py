"""Time one full round against the defaults landed before issue 13's round work, in one run.

A round: all routers of the paper's comparison plus the oracle, 5-fold cross-fitting,
100 gold and 4,400 preference training rows, 500 test queries, d = 50, n_jobs = 1, the
package's default thread budget (1). Each repeat times the same round twice, on the same
data and seed, alternating the order:

``landed``
    the defaults as of commit 6dbfd4e, rebuilt explicitly: boosted trees with 200
    iterations at learning rate 0.05 for every outcome model and psi regression, the
    propensity's cross-validation scored by scikit-learn's ``"neg_log_loss"`` string, no
    memo of propensity fits (``random_state=None`` disables it);
``current``
    :func:`~metarouter_stats.experiment.default_routers` as they are now.

Run::

    python benchmarks/round/run.py --repeats 3

Writes ``benchmarks/round/results.csv.gz`` (one row per repeat and setting, seconds
per router) and ``benchmarks/round/summary.md`` (the ratio current / landed).
Nothing here asserts on wall time. Nothing else should run on the machine.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

import metarouter_stats as mrs
from metarouter_stats.cate import DRBiasLearner, RBiasLearner
from metarouter_stats.experiment import default_routers, run_round
from metarouter_stats.positivity import default_propensity_model

from metarouter_stats.experiment import ChunkStore, write_summary_section  # noqa: E402

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"


def landed_routers(seed: int) -> dict:
    """The round's routers with the models landed at commit 6dbfd4e, set explicitly."""
    def hgb() -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(learning_rate=0.05, max_iter=200, max_leaf_nodes=15, min_samples_leaf=20,
                                             l2_regularization=1.0, early_stopping=False, random_state=seed)

    def prop():
        return default_propensity_model().set_params(logisticregressioncv__scoring="neg_log_loss",
                                                     logisticregressioncv__random_state=None)

    routers = default_routers(seed)
    for name, router in routers.items():
        if name in ("meta-dr", "meta-r"):
            cls = DRBiasLearner if name == "meta-dr" else RBiasLearner
            router.set_params(cate=cls(model_outcome=hgb(), model_propensity=prop(), random_state=seed))
        if "regressor" in router.get_params():
            router.set_params(regressor=hgb())
    return routers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows, aucs = [], []
    for rep in range(args.repeats):
        study = mrs.simulate(n_gold=100, n_preference=4400, n_test=500, d=50, rng=rep)
        order = ("landed", "current") if rep % 2 == 0 else ("current", "landed")
        for setting in order:
            routers = landed_routers(rep) if setting == "landed" else default_routers(rep)
            t0 = time.perf_counter()
            frame = run_round(study, routers, rng=rep)
            total = time.perf_counter() - t0
            per = frame.groupby("router", sort=False)["fit_seconds"].first()
            rows.append({"repeat": rep, "setting": setting, "total_seconds": total, **per.to_dict()})
            aucs.append(frame.groupby("router", sort=False)["auc_relative"].first().rename(f"{setting}-{rep}"))
            print(f"repeat {rep} {setting}: {total:.2f} s  " + "  ".join(f"{k}={v:.2f}" for k, v in per.items()))
    df = pd.DataFrame(rows)
    df["machine"] = f"{platform.machine()} {platform.processor() or ''}".strip()
    STORE.save("round_timing", df)
    wide = df.pivot(index="repeat", columns="setting", values="total_seconds")
    ratio = wide["current"] / wide["landed"]
    per_router = df.drop(columns=["repeat", "total_seconds", "machine"]).groupby("setting").mean().T.round(2)
    text = (
        "# One full round: current defaults against the landed ones (commit 6dbfd4e)\n\n"
        f"`python benchmarks/round/run.py --repeats {args.repeats}`: {args.repeats} repeats, both settings on the "
        "same data in each, order alternated; 1 thread, nothing else running.\n\n"
        f"- total seconds, landed: {', '.join(f'{v:.2f}' for v in wide['landed'])}\n"
        f"- total seconds, current: {', '.join(f'{v:.2f}' for v in wide['current'])}\n"
        f"- ratio current / landed: {', '.join(f'{v:.3f}' for v in ratio)} (mean {ratio.mean():.3f})\n\n"
        "Mean fit seconds per router:\n\n" + per_router.to_markdown() + "\n\n"
        "Share of the test-label oracle's EG area in each run (router x setting-repeat; the EG share question "
        "itself is `benchmarks/defaults/run.py`'s):\n\n" + pd.concat(aucs, axis=1).round(3).to_markdown() + "\n"
    )
    write_summary_section(SUMMARY, "round_timing", text)
    print(text)


if __name__ == "__main__":
    main()
