"""Benchmark that chose the Meta-router's default nuisance and final models.

Compares learner configurations for the DR- and R-learner over several simulation
scenarios and gold sizes, by the share of the oracle ranking's efficiency gain
captured (``auc_relative`` on the true psi of 500 test queries, rates 0.2..0.8).

Run::

    python benchmarks/defaults/run.py --seeds 4 --n-jobs 2

It writes ``benchmarks/defaults/results.csv.gz`` (one row per fit) and
``benchmarks/defaults/summary.md`` (the table quoted in ``docs/defaults.md``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.ensemble import (
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.cate import DRBiasLearner, RBiasLearner

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"


def _hgb100(seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(learning_rate=0.1, max_iter=100, max_leaf_nodes=15, min_samples_leaf=20,
                                         l2_regularization=1.0, early_stopping=False, random_state=seed)


def configs(seed: int) -> dict[str, dict]:
    """Learner configurations compared (name -> keyword arguments of the DR / R bias learner)."""
    rf = {"n_estimators": 100, "min_samples_leaf": 5, "random_state": seed, "n_jobs": 1}
    return {
        # the reference code's choice: random forests everywhere
        "rf-everywhere": dict(
            model_outcome=RandomForestRegressor(**rf),
            model_propensity=RandomForestClassifier(**rf),
            model_final=RandomForestRegressor(**rf),
        ),
        # package default: boosted nuisances, ridge final, estimated (clipped) propensity
        "default": {},
        # same, propensity known by design (the gold share of each fold)
        "default+share": dict(propensity="share"),
        # issue 13: half the boosting iterations at twice the learning rate, for every
        # boosted model of the Meta-router (outcome nuisances and the psi regression)
        "hgb100": dict(model_outcome=_hgb100(seed), regressor=_hgb100(seed)),
        # boosted nuisances with a shallow boosted final stage
        "hgb-final": dict(
            model_final=HistGradientBoostingRegressor(
                max_depth=2, learning_rate=0.05, max_iter=100, min_samples_leaf=50, random_state=seed
            )
        ),
    }


def one(scenario: str, n_gold: int, seed: int, name: str, cate: str) -> dict:
    study = mrs.simulate(n_gold=n_gold, n_preference=4500 - n_gold, n_test=500, scenario=scenario, rng=seed)
    kwargs = dict(configs(seed)[name])
    regressor = kwargs.pop("regressor", None)
    t0 = time.perf_counter()
    learner = (DRBiasLearner if cate == "dr" else RBiasLearner)(**kwargs)
    if name == "rf-everywhere":
        regressor = RandomForestRegressor(n_estimators=100, min_samples_leaf=5, random_state=seed, n_jobs=1)
    router = mrs.MetaRouter(cate=learner, regressor=regressor, random_state=seed).fit(study.train)
    seconds = time.perf_counter() - t0
    eg = mrs.efficiency_gain(study.psi_test, router.predict_gain(study.X_test))
    truth = study.delta(study.X_test)
    est = router.predict_bias(study.X_test)
    return {
        "scenario": scenario,
        "n_gold": n_gold,
        "seed": seed,
        "config": name,
        "cate": cate,
        "auc_relative": eg.auc_relative,
        "bias_rmse": float(np.sqrt(np.mean((est - truth) ** 2))),
        "seconds": seconds,
    }


def one_baseline(scenario: str, n_gold: int, seed: int) -> list[dict]:
    study = mrs.simulate(n_gold=n_gold, n_preference=4500 - n_gold, n_test=500, scenario=scenario, rng=seed)
    out = []
    for name, router in (("gold-only", mrs.GoldOnlyRouter(random_state=seed)), ("pooled", mrs.PooledRouter(random_state=seed))):
        router.fit(study.train)
        eg = mrs.efficiency_gain(study.psi_test, router.predict_gain(study.X_test))
        out.append({"scenario": scenario, "n_gold": n_gold, "seed": seed, "config": name, "cate": "-",
                    "auc_relative": eg.auc_relative, "bias_rmse": np.nan, "seconds": np.nan})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", default=["paper", "nonlinear_bias", "homogeneous"])
    parser.add_argument("--gold", nargs="+", type=int, default=[100, 500])
    parser.add_argument("--configs", nargs="+", default=list(configs(0)), help="subset of configurations")
    parser.add_argument(
        "--keep", action="store_true", help="keep rows of other configurations from an earlier defaults.csv"
    )
    args = parser.parse_args()
    names = args.configs
    jobs = [
        delayed(one)(sc, ng, seed, name, cate)
        for sc in args.scenarios
        for ng in args.gold
        for seed in range(args.seeds)
        for name in names
        for cate in ("dr", "r")
    ]
    base = [delayed(one_baseline)(sc, ng, seed) for sc in args.scenarios for ng in args.gold for seed in range(args.seeds)]
    rows = Parallel(n_jobs=args.n_jobs, verbose=5)(jobs)
    for chunk in Parallel(n_jobs=args.n_jobs)(base):
        rows.extend(chunk)
    df = pd.DataFrame(rows)
    if args.keep and len(STORE.chunk("defaults")):
        old = STORE.chunk("defaults")
        old = old[~old["config"].isin(names + ["gold-only", "pooled"])]
        df = pd.concat([old, df], ignore_index=True)
    STORE.save("defaults", df)
    table = (
        df.groupby(["config", "cate", "scenario", "n_gold"])["auc_relative"].mean().unstack(["scenario", "n_gold"]).round(3)
    )
    table["mean"] = table.mean(axis=1).round(3)
    secs = df.groupby(["config", "cate"])["seconds"].mean().round(2)
    table["fit_seconds"] = secs
    text = (
        "Share of the test-label oracle's EG area captured (mean over "
        f"{df.groupby(['config', 'cate', 'scenario', 'n_gold']).size().min()}-{df.groupby(['config', 'cate', 'scenario', 'n_gold']).size().max()} seeds; "
        "500 test queries, true psi; 4,500 training rows).\n\n" + table.to_markdown() + "\n"
    )
    write_summary_section(SUMMARY, "defaults", text)
    print(text)


if __name__ == "__main__":
    main()
