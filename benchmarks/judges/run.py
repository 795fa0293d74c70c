"""Several judges: the K-judge Meta-router against single-judge routers, and the worth interval's coverage.

Per panel, gold size (50 / 100 / 500) and replication, one ``simulate_judges`` draw (paired: every
judge labels 2,000 queries, d = 20; a random subset of ``n_gold`` also gets gold; c = 1 declared)
is fitted with

* ``multi``: ``MultiJudgeRouter`` (every judge's bias, corrected labels pooled with gold,
  inverse-variance weights);
* ``multi_equal``: the same with ``weighting="equal"``;
* ``single:<judge>``: ``MetaRouter`` on gold and that judge's rows;
* ``one_bias``: ``MetaRouter`` on all rows with the judges taken as one mechanism (one bias);
* ``gold_only``.

Recorded: the share of the oracle's EG area (``efficiency_gain(psi_test, gain).auc_relative``,
rates 0.2-0.8, 2,000 test queries); ``best_single`` is the best single-judge router *chosen after
the fact* on the test set (a ceiling for "pick one judge"). And from ``compare_judges`` (no
heterogeneity test, 1,000 bootstrap replicates), with its default cross-fitted corrections and with
the router's own (in-sample) ones: whether each judge's worth interval (and the "all judges" one)
covers its target (two targets for the cross-fitted one: below), the worth at the data's gold size of 1,000 labels computed from the correlation
of gold with the corrected label **on 50,000 fresh paired queries of the same law, with the fitted
router's corrections** (the target the interval states; the cross-fitted corrections come from
refits on four fifths of the gold labels, a slightly weaker correction than the target's). The
cross-fitted interval is also checked against its own stated target, the worth of corrections
refitted without a fifth of the gold labels (mean over 5 such refits). And each judge's bias
bands (pointwise and uniform, 200 replicates) and ``ate_interval`` from the multi-judge router's
per-judge learner, against the best linear predictor of the judge's bias at 20 fixed points and
its average bias over its training queries.

Panels: ``differ`` (the default panel: strong = paper bias, cheap = smooth bias with twice the
noise, twin = the strong judge's bias with more noise) and ``alike`` (three judges with the paper
bias and noise 0.5 / 0.7 / 1.0). Writes ``results.csv.gz`` and ``summary.md`` beside this file::

    python benchmarks/judges/run.py --reps 20 --n-jobs 1
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.planning.judges import gold_worth

HERE = Path(__file__).parent
D = 20
N_QUERIES = 2000
PANELS = {
    "differ": mrs.simulation.JUDGES,
    "alike": (mrs.JudgeSpec("a", bias="paper", noise=0.5), mrs.JudgeSpec("b", bias="paper", noise=0.7),
              mrs.JudgeSpec("c", bias="paper", noise=1.0)),
}


def true_worth(router: mrs.MultiJudgeRouter, judges: tuple, n_gold: int, seed: int) -> dict[str, float]:
    """Worth of 1,000 labels at ``n_gold`` from the population correlation of gold with each fitted correction."""
    big = mrs.simulate_judges(n_gold=50_000, n_queries=50_000, n_test=1, d=D, judges=judges, rng=seed + 7)
    data = big.train
    gold = data.source == 1
    ids = data.query_ids
    g = pd.Series(data.outcome[gold], index=ids[gold])
    cols = {}
    for j in router.judge_routers_:
        rows, cor = router.corrected_labels(data, j)
        cols[j] = pd.Series(cor, index=ids[rows]).reindex(g.index).to_numpy()
    y = g.to_numpy()
    out = {j: float(gold_worth(np.corrcoef(y, c)[0, 1], n_gold, 1000)) for j, c in cols.items()}
    F = np.column_stack([np.ones(y.size)] + list(cols.values()))
    coef, *_ = np.linalg.lstsq(F, y, rcond=None)
    r2 = 1 - np.sum((y - F @ coef) ** 2) / np.sum((y - y.mean()) ** 2)
    out["all judges"] = float(gold_worth(np.sqrt(max(r2, 0.0)), n_gold, 1000))
    return out


def eval_points(m: int = 20) -> np.ndarray:
    """Fixed points (the embedding law of ``simulate_judges``) at which each judge's bias bands are checked."""
    big = mrs.simulate_judges(n_gold=2, n_queries=2, n_test=m, d=D, rng=20261206)
    return big.X_test


_BLP: dict[str, dict[str, np.ndarray]] = {}


def blp_coefficients(panel: str) -> dict[str, np.ndarray]:
    """Coefficients of the best linear predictor in x of each judge's bias (gold scale) over the embedding law
    (computed once per panel and process)."""
    if panel in _BLP:
        return _BLP[panel]
    judges = PANELS[panel]
    big = mrs.simulate_judges(n_gold=2, n_queries=2, n_test=200_000, d=D, judges=judges, rng=99)
    design = np.column_stack((np.ones(big.X_test.shape[0]), big.X_test))
    _BLP[panel] = {j.name: np.linalg.lstsq(design, big.delta(big.X_test, j.name), rcond=None)[0] for j in judges}
    return _BLP[panel]


def blp_targets(panel: str, Xe: np.ndarray) -> dict[str, np.ndarray]:
    """Each judge's best linear predictor at ``Xe``."""
    return {k: np.column_stack((np.ones(Xe.shape[0]), Xe)) @ c for k, c in blp_coefficients(panel).items()}


def fold_worth(sim, judges: tuple, n_gold: int, seed: int, folds: int = 5) -> dict[str, float]:
    """The cross-fitted target: mean over ``folds`` refits on random 4/5 of the gold queries of the population worth
    of their corrections (what the cross-fitted correlation estimates; the full-gold ``true_worth`` is stronger)."""
    data = sim.train
    ids = data.query_ids
    gold_q = np.unique(ids[data.source == 1])
    gen = np.random.default_rng(seed + 11)
    vals: dict[str, list[float]] = {}
    for k in range(folds):
        drop = gen.choice(gold_q, size=gold_q.size // folds, replace=False)
        train = data.subset(~((data.source == 1) & np.isin(ids, drop)))
        router = mrs.MultiJudgeRouter(random_state=k)
        router.judge_routers_ = {j.name: router.judge_router(train, j.name) for j in judges}
        for name, w in true_worth(router, judges, n_gold, seed).items():
            vals.setdefault(name, []).append(w)
    return {name: float(np.mean(v)) for name, v in vals.items()}


def one(panel: str, n_gold: int, rep: int) -> list[dict]:
    seed = 1_000_000 * list(PANELS).index(panel) + 1000 * n_gold + rep
    judges = PANELS[panel]
    sim = mrs.simulate_judges(n_gold=n_gold, n_queries=N_QUERIES, n_test=2000, d=D, judges=judges, rng=seed)
    rows = []
    t0 = time.perf_counter()

    def share(router) -> float:
        return float(mrs.efficiency_gain(sim.psi_test, router.predict_gain(sim.X_test)).auc_relative)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        multi = mrs.MultiJudgeRouter(random_state=rep).fit(sim.train)
        fits = {"multi": multi, "multi_equal": mrs.MultiJudgeRouter(weighting="equal", random_state=rep).fit(sim.train)}
        for j in sim.train.judges:
            fits[f"single:{j}"] = mrs.MetaRouter(random_state=rep).fit(sim.train.for_judge(j))
        fits["one_bias"] = mrs.MetaRouter(random_state=rep).fit(sim.train)
        fits["gold_only"] = mrs.GoldOnlyRouter(random_state=rep).fit(sim.train)
        shares = {k: share(v) for k, v in fits.items()}
        cmps = {"cross-fitted": mrs.compare_judges(sim.train, router=multi, heterogeneity=False, n_boot=1000, rng=seed),
                "in-sample": mrs.compare_judges(sim.train, router=multi, cv=None, heterogeneity=False, n_boot=1000,
                                                rng=seed)}
        truth = true_worth(multi, judges, n_gold, seed)
        truth_cf = fold_worth(sim, judges, n_gold, seed)
        Xe = eval_points()
        blp = blp_targets(panel, Xe)
        ids = sim.train.query_ids
        for j in sim.train.judges:  # each judge's bias bands and mean-bias interval, against their stated targets
            r = multi.judge_routers_[j]
            pw = mrs.bias_interval(r, Xe, n_boot=200, rng=seed)
            un = mrs.bias_interval(r, Xe, n_boot=200, kind="uniform", rng=seed)
            lo, hi = r.ate_interval()
            train_q = sim.train.X[np.unique(ids[sim.train.mechanism == j], return_index=True)[1]]
            ate = float(np.mean(sim.delta(train_q, j)))
            rows.append({"panel": panel, "n_gold": n_gold, "rep": rep, "seed": seed, "kind": "band", "name": j,
                         "blp_pointwise": float(np.mean((pw.low <= blp[j]) & (blp[j] <= pw.high))),
                         "blp_uniform": float(np.all((un.low <= blp[j]) & (blp[j] <= un.high))),
                         "ate_covers": float(lo <= ate <= hi)})
    best = max(v for k, v in shares.items() if k.startswith("single:"))
    for k, v in shares.items():
        rows.append({"panel": panel, "n_gold": n_gold, "rep": rep, "seed": seed, "kind": "eg", "name": k, "value": v})
    rows.append({"panel": panel, "n_gold": n_gold, "rep": rep, "seed": seed, "kind": "eg", "name": "best_single",
                 "value": best})
    for how, cmp in cmps.items():
        for rec in cmp.to_frame().to_dict("records"):
            name = str(rec["judge"])
            t, tc = truth[name], truth_cf[name]
            rows.append({"panel": panel, "n_gold": n_gold, "rep": rep, "seed": seed, "kind": "worth", "name": name,
                         "corrections": how, "value": rec["worth"], "low": rec["worth_low"], "high": rec["worth_high"],
                         "truth": t, "covers": float(rec["worth_low"] <= t <= rec["worth_high"]),
                         "truth_cf": tc, "covers_cf": float(rec["worth_low"] <= tc <= rec["worth_high"])})
    rows[0]["seconds"] = time.perf_counter() - t0
    return rows


def summarise(df: pd.DataFrame) -> str:
    eg = df[df["kind"] == "eg"]
    g = eg.groupby(["panel", "n_gold", "name"], sort=False)["value"]
    tab = pd.DataFrame({"fits": g.size(), "eg_share": g.mean(), "mc_se": g.std(ddof=1) / np.sqrt(g.size())}).reset_index()
    wide = eg.pivot_table(index=["panel", "n_gold", "rep"], columns="name", values="value")
    diffs = []
    for (panel, ng), part in wide.groupby(level=[0, 1], sort=False):
        for other in ("best_single", "one_bias", "multi_equal", "gold_only"):
            d = part["multi"] - part[other]
            diffs.append({"panel": panel, "n_gold": ng, "multi minus": other, "diff": d.mean(),
                          "mc_se": d.std(ddof=1) / np.sqrt(d.size), "multi_wins": float((d > 0).mean())})
    w = df[df["kind"] == "worth"]
    gw = w.groupby(["corrections", "panel", "n_gold", "name"], sort=False)
    cov = pd.DataFrame({"fits": gw.size(), "coverage": gw["covers"].mean(),
                        "mc_se": np.sqrt(gw["covers"].mean() * (1 - gw["covers"].mean()) / gw.size()),
                        "worth": gw["value"].mean(), "truth": gw["truth"].mean(),
                        "width": (gw["high"].mean() - gw["low"].mean())}).reset_index()
    cf = w[w["corrections"] == "cross-fitted"].groupby(["panel", "n_gold", "name"], sort=False)
    cov_cf = pd.DataFrame({"fits": cf.size(), "coverage_cf_target": cf["covers_cf"].mean(),
                           "mc_se": np.sqrt(cf["covers_cf"].mean() * (1 - cf["covers_cf"].mean()) / cf.size()),
                           "coverage_full_target": cf["covers"].mean(), "worth": cf["value"].mean(),
                           "truth_cf": cf["truth_cf"].mean(), "truth_full": cf["truth"].mean()}).reset_index()
    b = df[df["kind"] == "band"]
    gb = b.groupby(["panel", "n_gold", "name"], sort=False)
    bands = pd.DataFrame({"fits": gb.size(), "blp_pointwise": gb["blp_pointwise"].mean(),
                          "blp_uniform": gb["blp_uniform"].mean(),
                          "uniform_mc_se": np.sqrt(gb["blp_uniform"].mean() * (1 - gb["blp_uniform"].mean()) / gb.size()),
                          "ate_coverage": gb["ate_covers"].mean(),
                          "ate_mc_se": np.sqrt(gb["ate_covers"].mean() * (1 - gb["ate_covers"].mean()) / gb.size())}
                         ).reset_index()
    pooled = b.groupby(["n_gold"])[["blp_pointwise", "blp_uniform", "ate_covers"]].agg(["mean", "size"])
    lines = ["# Several judges: K-judge Meta-router and the worth interval", "",
             "Written by `python benchmarks/judges/run.py` (module docstring: design, targets).", "",
             "## Share of the oracle's EG area (mean over fits; MC SE)", "", tab.to_markdown(index=False, floatfmt=".3f"),
             "", "## `multi` minus the others, paired on the same draws", "",
             pd.DataFrame(diffs).to_markdown(index=False, floatfmt=".4f"), "",
             "## Worth of 1,000 judge labels (gold labels, evaluation): 95 % interval coverage of its target", "",
             cov.to_markdown(index=False, floatfmt=".3f"), "",
             "## Cross-fitted worth intervals against the cross-fitted target", "",
             "The target of the cross-fitted interval as `compare_judges` states it: the worth of corrections fitted "
             "on all but one fold of the gold labels (here: mean over 5 refits on random 4/5 of the gold queries of "
             "the population worth of their corrections, 50,000 fresh paired queries). `coverage_full_target`: "
             "the same intervals against the full-gold router's worth (the table above).", "",
             cov_cf.to_markdown(index=False, floatfmt=".3f"), "",
             "## Each judge's bias bands and mean-bias interval (95 %) on the multi-judge data", "",
             "Pointwise and uniform fast bands (`bias_interval`, 200 replicates) of each judge's fitted bias learner "
             "(`MultiJudgeRouter.judge_routers_`) against their stated target, the best linear predictor of the "
             "judge's bias in x, at 20 fixed points; `ate_interval` against the judge's average bias over its "
             "training queries.", "", bands.to_markdown(index=False, floatfmt=".3f"), "",
             "Pooled over judges and panels (correlated within a draw):", "", pooled.to_markdown(floatfmt=".3f")]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--panels", default="differ,alike")
    ap.add_argument("--gold", default="50,100,500")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    tasks = [(p, int(g), r) for p in args.panels.split(",") for g in args.gold.split(",") for r in range(args.reps)]
    rows = Parallel(n_jobs=args.n_jobs)(delayed(one)(*t) for t in tasks)
    df = pd.DataFrame([row for part in rows for row in part])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "results.csv.gz", index=False)
    (out / "summary.md").write_text(summarise(df))
    print(summarise(df))


if __name__ == "__main__":
    main()
