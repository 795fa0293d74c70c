"""The bias learner's final stage: linear, additive spline, spline with interactions, or chosen by loss.

For each replication: simulate (``n_gold`` gold and 4,000 preference rows, 500 test queries,
d = 50; seeds ``("final_stage", scenario, n_gold, rep)``), fit one DR Meta-router (the true c, so
that the final stage is what is measured), then refit its learner's final stage on the same
cross-fitted scores (``refit_final(model=...)``) in five ways, correct the preference labels
with each and refit the gain model on them, as ``MetaRouter.fit`` does, and record the share of
the test-label oracle's efficiency gain each captures
(``efficiency_gain(psi_test, gain).auc_relative``, rates 0.2-0.8):

``linear``        ridge on x with a leave-one-out penalty (the earlier default);
``spline``        ridge on the additive cubic-spline basis;
``spline_pairs``  the same plus pairwise interactions of the 5 leading coordinates;
``one_se``        :class:`~metarouter_stats.cate.final_stage.SelectedFinalStage` with ``rule="one_se"``;
``stack``         the same with ``rule="stack"`` (the super learner of the three).

The nuisances are the same for the five, so the differences are paired. Scenarios: the package's ``paper``, ``homogeneous`` and ``nonlinear_bias``, and three
written for this question (``step_bias``, ``sparse_bias``, ``smooth_bias``; ``simulate``'s
docstring). None of them chose a setting of ``SelectedFinalStage`` (its rule is the textbook
one-SE rule, and its candidates are the package's existing bases).

Run in chunks and summarise::

    OMP_NUM_THREADS=1 python benchmarks/final_stage/run.py --reps 12 --n-jobs 2
    python benchmarks/final_stage/run.py --merge
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
from sklearn.base import clone

import metarouter_stats as mrs
from metarouter_stats.cate import DRBiasLearner
from metarouter_stats.cate.final_stage import SelectedFinalStage, final_stage_candidates
from metarouter_stats.experiment import ChunkStore, write_summary_section

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SCENARIOS = ("paper", "homogeneous", "nonlinear_bias", "step_bias", "sparse_bias", "smooth_bias")
STAGES = ("linear", "spline", "spline_pairs", "one_se", "stack")


def seed_for(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def final_model(stage: str):
    if stage in ("one_se", "stack"):
        return SelectedFinalStage(rule=stage)
    return final_stage_candidates()[stage]


def one_rep(scenario: str, n_gold: int, rep: int) -> list[dict]:
    warnings.simplefilter("ignore")
    seed = seed_for("final_stage", scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4000, n_test=500, scenario=scenario, rng=seed)
    truth = s.delta(s.X_test) * s.scale  # preference scale, as predict_bias(units="preference")
    t0 = time.perf_counter()
    router = mrs.MetaRouter(cate=DRBiasLearner(random_state=rep), scale=s.scale, random_state=rep).fit(s.train)
    fit_seconds = time.perf_counter() - t0
    learner, train = router.bias_learner_, s.train
    sc = learner.scores_
    gold = train.source == 1
    o = np.where(gold, s.scale * train.outcome, train.outcome)
    rows = []
    for stage in STAGES:
        t0 = time.perf_counter()
        final = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, model=final_model(stage))
        corrected = np.where(gold, o, o + np.asarray(final.predict(train.X), dtype=float))
        gain = clone(router.regressor_).fit(train.X, corrected).predict(s.X_test)
        eg = mrs.efficiency_gain(s.psi_test, gain)
        est = np.asarray(final.predict(s.X_test), dtype=float)
        rows.append({"scenario": scenario, "n_gold": n_gold, "rep": rep, "stage": stage,
                     "eg_share": eg.auc_relative, "bias_rmse": float(np.sqrt(np.mean((est - truth) ** 2))),
                     "chosen": getattr(final, "chosen_", stage),
                     "weights": " ".join(f"{k}={v:.2f}" for k, v in getattr(final, "weights_", {}).items()),
                     "seconds": time.perf_counter() - t0, "fit_seconds": fit_seconds})
    return rows


def summarise(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    wide = raw.pivot_table(index=["scenario", "n_gold", "rep"], columns="stage", values="eg_share")
    out = []
    for (scen, g), d in wide.groupby(level=["scenario", "n_gold"]):
        n = len(d)
        fixed = d[["linear", "spline", "spline_pairs"]].mean()
        best = str(fixed.idxmax())
        row = {"scenario": scen, "n_gold": g, "reps": n, **{stage: d[stage].mean() for stage in STAGES},
               "best_fixed": best}
        for rule in ("stack", "one_se"):
            for ref, name in ((best, "best"), ("linear", "linear")):
                diff = d[rule] - d[ref]
                row[f"{rule}_minus_{name}"] = diff.mean()
                row[f"{rule}_minus_{name}_mc_se"] = diff.std(ddof=1) / np.sqrt(n)
        out.append(row)
    table = pd.DataFrame(out)
    secs = raw.groupby("stage")["seconds"].mean().rename("mean seconds per fit").to_frame()
    return table, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--gold", default="50,100,500,1000")
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--first-rep", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--merge", action="store_true", help="only summarise the finished chunks")
    args = ap.parse_args()
    if not args.merge:
        for g in map(int, args.gold.split(",")):
            for scen in args.scenarios.split(","):
                key = f"final_stage_{scen}_g{g}_r{args.first_rep}-{args.first_rep + args.reps}"
                if key in STORE.done():
                    continue
                reps = range(args.first_rep, args.first_rep + args.reps)
                rows = Parallel(n_jobs=args.n_jobs)(delayed(one_rep)(scen, g, r) for r in reps)
                STORE.save(key, pd.DataFrame([row for rep_rows in rows for row in rep_rows]))
                print(key, "done", flush=True)
    table, secs = summarise(STORE.rows("final_stage").drop(columns="chunk"))
    text = ("Share of the test-label oracle's efficiency gain (EG area, rates 0.2-0.8, 500 test queries) by final "
            "stage of the DR bias learner, same nuisances, true c, 4,000 preference rows, d = 50 "
            "(`benchmarks/final_stage/run.py`). stack_minus_best: `stack` minus the best fixed stage of the cell "
            "(chosen after the fact, so favourable to the fixed stages), paired over replications with its MC SE; "
            "likewise for `one_se`, and each minus `linear`.\n\n"
            + table.to_markdown(index=False, floatfmt=".3f") + "\n\n" + secs.to_markdown(floatfmt=".2f") + "\n")
    write_summary_section(HERE / "summary.md", "final_stage", text, preamble=(
        "# The bias learner's final stage: fixed or chosen by cross-validated loss\n\n"
        "Written by `python benchmarks/final_stage/run.py` (module docstring: design, commands)."))
    print(text)


if __name__ == "__main__":
    main()
