"""Validity of the package's tests and bands off the scenario they were tuned on (issue 14).

Two parts, each writing a raw CSV (one row per replication) and a Markdown table with
Monte Carlo standard errors into this folder (chunks merged into ``results.csv.gz``, tables in
``summary.md``):

``ttest``
    Size of :func:`metarouter_stats.bias_ttest` with c estimated by each method, under
    the null of issue 14: gold r = (m + f + e) / c, preference y = m + f + e' (paired,
    n = 100) or y = m + e1 + e2 on 4,400 other queries (Welch), e, e' i.i.d. N(0, 1),
    c = 0.25, so the mean bias is exactly 0 on the gold scale while the primary model's
    mean gain m moves away from 0. ``amplitude`` is run on normal labels (where its
    population c, a ratio of label maxima, does not exist) and on bounded labels
    (uniform, extremes attained) where it does. 1,000 replications per cell by default.
``fits``
    One DR Meta-router per replication (4,400 preference rows, d = 50, the true c given
    so that the bias learner is what is measured; c's own validity is the ``ttest``
    part), on the scenarios ``homogeneous`` (constant bias: the heterogeneity test's
    null), ``paper``, ``nonlinear_bias`` and ``selection``, at 50, 100 and 500 gold rows.
    Recorded: the heterogeneity test (first split's t, which must be N(0, 1) under the
    null, and the median-adjusted p-value), and the default fast band for Delta(x)
    (pointwise and uniform, 20 fixed points, 200 replicates) scored against two targets:
    Delta(x) itself and its best linear predictor in x (the band's stated target,
    computed on 200,000 draws of the embedding law).
``overlap``
    The positivity report's share of preference rows outside the ratio band and its 95 %
    lower bound against the true share, with random gold and on ``selection``.
``sieve``
    The band for Delta(x) itself (``final_stage="spline"``, an undersmoothed additive spline
    sieve on the DR scores, fast bootstrap) against the true Delta(x) at the 20 points, next to
    the default linear band on the same fits; seeds distinct from ``fits`` (the sieve's penalty
    factor was chosen on a few ``fits`` seeds). ``--stages pairs`` scores the sieve with pairwise
    interactions of the 5 leading coordinates (``final_stage="spline_pairs"``) on the same fits
    (same seeds), so the two sieves compare fit by fit.
``selection``
    The fast band on the ``selection`` scenario without and with trimming of preference rows
    outside the overlap: coverage inside and outside the overlap, bias / SD and SE / SD of the
    band centre (what is missing: a wider band, or a centred one).
``smallgold``
    Why the default band's *uniform* coverage falls short with few gold rows (``--gold 50``):
    one DR Meta-router per replication (true c, 4,400 preference rows, d = 50), its fast band
    with 1,000 draws, scored with the first 200 (the default ``n_boot``) and with all 1,000, and
    for the first ``--refit-reps`` replications the refit band (``method="refit"``, 50 refits)
    on the same fit. Target: the best linear predictor of Delta (Delta itself on ``paper`` and
    ``homogeneous``). Per variant: pointwise and uniform coverage, mean bootstrap SE / Monte
    Carlo SD of the centre per point, the sup-t critical value the draws gave against the one
    the true errors needed (95 % quantile over replications of max_j |error_j| / SE_j), and the
    excess kurtosis of the studentised errors (heavy tails or a short SE).

Run (about 1 s per ``ttest`` cell of 1,000; about 8 s per ``fits`` replication on one core)::

    OMP_NUM_THREADS=1 python benchmarks/validity/run.py ttest --reps 1000
    OMP_NUM_THREADS=1 python benchmarks/validity/run.py fits --reps 100 --n-jobs 1
    python benchmarks/validity/run.py selection --reps 40 --gold 50,100 --n-jobs 2
    python benchmarks/validity/run.py overlap --reps 100 --scenarios paper,selection --gold 50,100,500 --n-jobs 2
    python benchmarks/validity/run.py selection --reps 0 --refit-reps 12 --gold 100 --n-jobs 2 --tag _refit
    OMP_NUM_THREADS=1 python benchmarks/validity/run.py sieve --reps 25 --n-jobs 1 --tag _a
    OMP_NUM_THREADS=1 python benchmarks/validity/run.py sieve --stages pairs --reps 10 --first-rep 10k \
        --n-jobs 1 --scenarios nonlinear_bias,paper --tag _pairs_ck      # k = 0, 1, ...
    python benchmarks/validity/run.py sieve --merge _pairs_c --paired-with _c --tag _pairs_c
    OMP_NUM_THREADS=1 python benchmarks/validity/run.py smallgold --scenarios paper --gold 50 --reps 80 --refit-reps 24
    python benchmarks/validity/run.py fits --merge all          # re-summarise every fits raw file, no runs
    python benchmarks/validity/run.py smallgold --merge _Wnl_r  # the same for smallgold, with method='both' scored

Replication r of a cell uses a seed derived from (part, cell, r) only, so the numbers do
not depend on ``--n-jobs``.
"""

from __future__ import annotations

import argparse
import json
import warnings
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats._resampling import make_band
from metarouter_stats.inference import band_engines
from metarouter_stats._resampling import critical_value
from metarouter_stats.simulation import eigen_spectrum

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
C_TRUE = 0.25


def seed_for(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


# ----------------------------------------------------------------------------- t-test size
def null_labels(rng: np.random.Generator, m: float, paired: bool, labels: str) -> tuple[np.ndarray, np.ndarray]:
    n, n_pref = 100, 4400
    if labels == "normal":
        f = rng.normal(size=n)
        gold = (m + f + rng.normal(size=n)) / C_TRUE
        pref = m + f + rng.normal(size=n) if paired else m + rng.normal(size=n_pref) + rng.normal(size=n_pref)
        return gold, pref
    # bounded: uniform noise with attained extremes; paired labels share the noise half the time
    u = rng.uniform(-1, 1, n)
    if paired:
        pref = m + np.where(rng.random(n) < 0.5, u, rng.uniform(-1, 1, n))
    else:
        pref = m + rng.uniform(-1, 1, n_pref)
    return (m + u) / C_TRUE, pref


def ttest_cell(method: str, labels: str, paired: bool, m: float, reps: int, inference: str = "delta") -> dict:
    rej, rej_known, rej_true = 0, 0, 0
    for r in range(reps):
        rng = np.random.default_rng(seed_for("ttest", method, labels, paired, m, r))
        g, p = null_labels(rng, m, paired, labels)
        rej += mrs.bias_ttest(g, p, paired=paired, scale=method, n_boot=500, rng=rng, inference=inference).p_value < 0.05
        c_hat = mrs.estimate_scale(g, p, method=method)
        rej_known += mrs.bias_ttest(g, p, paired=paired, scale=c_hat).p_value < 0.05
        # the exact test with the true c on the same replications: the reference for Monte Carlo noise
        rej_true += mrs.bias_ttest(g, p, paired=paired, scale=C_TRUE).p_value < 0.05
    size, old = rej / reps, rej_known / reps
    return {"method": method, "labels": labels, "test": "paired" if paired else "Welch", "m": m,
            "size": size, "mc_se": np.sqrt(size * (1 - size) / reps),
            "size_c_treated_as_known": old, "size_true_c": rej_true / reps, "reps": reps}


def run_ttest(reps: int, n_jobs: int, methods: list[str], inference: str = "delta") -> pd.DataFrame:
    cells = [(meth, lab, paired, m)
             for meth, lab in (("variance", "normal"), ("wasserstein", "normal"), ("amplitude", "normal"),
                               ("amplitude", "bounded")) if meth in methods
             for paired in (True, False) for m in (0.0, 0.5, 1.0, 2.0)]
    rows = Parallel(n_jobs=n_jobs)(delayed(ttest_cell)(*cell, reps, inference) for cell in cells)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- fitted routers
def eval_points(d: int = 50, m: int = 20) -> np.ndarray:
    rng = np.random.default_rng(20261123)
    return rng.standard_normal((m, d)) * np.sqrt(eigen_spectrum(d))


def linear_target(scenario: str, Xe: np.ndarray) -> np.ndarray:
    """Best linear predictor of Delta (gold scale) in x over the embedding law, at ``Xe``."""
    big = mrs.simulate(n_gold=2, n_preference=2, n_test=200_000, scenario=scenario, rng=99)
    X = big.X_test
    design = np.column_stack((np.ones(X.shape[0]), X))
    coef, *_ = np.linalg.lstsq(design, big.delta(X), rcond=None)
    return np.column_stack((np.ones(Xe.shape[0]), Xe)) @ coef


def gates_truth(learner, seed: int, n_groups: int, n_splits: int, X_big: np.ndarray, delta_big: np.ndarray,
                rows: np.ndarray | None = None) -> np.ndarray:
    """Median over the splits of each group's true average bias on the fresh queries ``X_big``.

    An independent re-implementation of the grouping of ``bias_by_group``: the same splits
    (same seed) of the learner's scored ``rows`` (default: all), the proxy refitted on each
    auxiliary half, groups cut at the quantiles of the proxy on the main half and applied to
    the fresh queries with their true Delta ``delta_big``.
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    sc = learner.scores_
    rows = np.arange(sc.n) if rows is None else rows
    X, phi, w, src = sc.X[rows], sc.pseudo_outcomes[rows], sc.weights[rows], sc.source[rows]
    gen = np.random.default_rng(seed)
    splitter = StratifiedShuffleSplit(n_splits=n_splits, test_size=0.5, random_state=int(gen.integers(2**31 - 1)))
    out = []
    for aux, main in splitter.split(X, src):
        model = learner.refit_final(X[aux], phi[aux], w[aux])
        cuts = np.quantile(model.predict(X[main]), np.linspace(0, 1, n_groups + 1)[1:-1])
        grp = np.searchsorted(cuts, model.predict(X_big), side="right")
        out.append([delta_big[grp == k].mean() for k in range(n_groups)])
    return np.median(np.array(out), axis=0)


def fit_rep(scenario: str, n_gold: int, rep: int, Xe: np.ndarray, lin: np.ndarray) -> dict:
    t0 = time.perf_counter()
    seed = seed_for("fits", scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, scenario=scenario, rng=seed)
    router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
    het = mrs.bias_heterogeneity_test(router, rng=seed)
    pw = mrs.bias_interval(router, Xe, n_boot=200, rng=seed)
    un = make_band(pw.estimate, pw.draws, kind="uniform", confidence_level=0.95, method="fast")
    truth = s.delta(Xe)
    row = {"scenario": scenario, "n_gold": n_gold, "rep": rep,
           "het_t_split1": float(het.split_statistics[0]), "het_t_median": het.statistic,
           "het_p": het.p_value, "het_slope": het.slope}
    for name, target in (("delta", truth), ("linear", lin)):
        row[f"{name}_pointwise"] = float(np.mean((pw.low <= target) & (target <= pw.high)))
        row[f"{name}_uniform"] = float(np.all((un.low <= target) & (target <= un.high)))
    gates = mrs.bias_by_group(router, n_groups=5, region="all", method="fast", rng=seed)  # every query, 5 groups, as first measured
    big = mrs.simulate(n_gold=2, n_preference=2, n_test=50_000, scenario=scenario, rng=seed + 1)
    gt = gates_truth(router.bias_learner_, seed, gates.n_groups, gates.n_splits, big.X_test, big.delta(big.X_test))
    low, high = gates.confidence_interval()
    ulow, uhigh = gates.confidence_interval(kind="uniform")
    row["gates_pointwise"] = float(np.mean((low <= gt) & (gt <= high)))
    row["gates_uniform"] = float(np.all((ulow <= gt) & (gt <= uhigh)))
    row["gates_p"] = gates.difference_p_value
    row["mean_se"] = float(np.mean(pw.std_error))
    row["err_sq"] = float(np.mean((pw.estimate - lin) ** 2))
    row["seconds"] = time.perf_counter() - t0
    return row


def run_fits(reps: int, n_jobs: int, scenarios: list[str], gold_sizes: list[int], first: int = 0) -> pd.DataFrame:
    Xe = eval_points()
    lins = {sc: linear_target(sc, Xe) for sc in scenarios}
    jobs = [(sc, n, r) for sc in scenarios for n in gold_sizes for r in range(first, first + reps)]
    rows = Parallel(n_jobs=n_jobs)(delayed(fit_rep)(sc, n, r, Xe, lins[sc]) for sc, n, r in jobs)
    return pd.DataFrame(rows)


SIEVE_STAGES = {"sieve": "spline", "pairs": "spline_pairs", "linear": "learner"}
# the same final stages with method="both" (the larger of the fast and the weighted refit bootstrap's SE; what
# bias_interval chooses, given data=, for a uniform band with fewer than 100 gold rows or when gold looks selected)
SIEVE_STAGES.update({f"{name}_both": stage for name, stage in list(SIEVE_STAGES.items())})
BOTH_REFITS = 50  # refits of a "_both" band (as the selection part's refit bands)


def sieve_rep(scenario: str, n_gold: int, rep: int, Xe: np.ndarray, n_boot: int = 200,
              stages: tuple[str, ...] = ("sieve", "linear")) -> dict:
    """One fit: the sieve bands and the default linear band, each scored against Delta(x)."""
    t0 = time.perf_counter()
    seed = seed_for("sieve", scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, scenario=scenario, rng=seed)
    truth = s.delta(Xe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the poor-overlap warning on `selection` is expected
        router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
        row = {"scenario": scenario, "n_gold": n_gold, "rep": rep}
        for name in stages:
            stage = SIEVE_STAGES[name]
            if name.endswith("_both"):
                pw = mrs.bias_interval(router, Xe, n_boot=BOTH_REFITS, method="both", final_stage=stage,
                                       data=s.train, resampling="weights", rng=seed, progress=False)
            else:
                pw = mrs.bias_interval(router, Xe, n_boot=n_boot, method="fast", final_stage=stage, rng=seed)
            crit = critical_value(pw.estimate, pw.draws, pw.std_error, "uniform", 0.95)
            row[f"{name}_pointwise"] = float(np.mean((pw.low <= truth) & (truth <= pw.high)))
            row[f"{name}_uniform"] = float(np.all(np.abs(pw.estimate - truth) <= crit * pw.std_error))
            row[f"{name}_mean_se"] = float(np.mean(pw.std_error))
            row[f"{name}_mean_width"] = float(np.mean(pw.high - pw.low))
            row[f"{name}_mse"] = float(np.mean((pw.estimate - truth) ** 2))
    row["seconds"] = time.perf_counter() - t0
    return row


def run_sieve(reps: int, n_jobs: int, scenarios: list[str], gold_sizes: list[int], first_rep: int,
              stages: tuple[str, ...] = ("sieve", "linear")) -> pd.DataFrame:
    Xe = eval_points()
    jobs = [(sc, n, r) for r in range(first_rep, first_rep + reps) for sc in scenarios for n in gold_sizes]
    return pd.DataFrame(Parallel(n_jobs=n_jobs)(delayed(sieve_rep)(sc, n, r, Xe, stages=stages)
                                                for sc, n, r in jobs))


def summarise_sieve(raw: pd.DataFrame) -> pd.DataFrame:
    """Coverage of Delta(x) with Monte Carlo SEs (pointwise from the per-replication means)."""
    out = []
    for (sc, n), g in raw.drop_duplicates(["scenario", "n_gold", "rep"]).groupby(["scenario", "n_gold"]):
        reps = len(g)
        row = {"scenario": sc, "n_gold": n, "reps": reps}
        for name in (nm for nm in SIEVE_STAGES if f"{nm}_pointwise" in g):
            row[f"{name}_pointwise"] = g[f"{name}_pointwise"].mean()
            row[f"{name}_pw_mc_se"] = g[f"{name}_pointwise"].std(ddof=1) / np.sqrt(reps)
            row[f"{name}_uniform"] = g[f"{name}_uniform"].mean()
            row[f"{name}_unif_mc_se"] = np.sqrt(max(row[f"{name}_uniform"] * (1 - row[f"{name}_uniform"]),
                                                    0.05 * 0.95) / reps)
            row[f"{name}_width"] = g[f"{name}_mean_width"].mean()
            row[f"{name}_rmse_over_se"] = float(np.sqrt(g[f"{name}_mse"].mean()) / g[f"{name}_mean_se"].mean())
        out.append(row)
    return pd.DataFrame(out)


def selection_rep(n_gold: int, rep: int, variant: str, Xe: np.ndarray) -> dict:
    """One ``selection`` replication of the fast band with a trimming variant (same seeds as ``fits``)."""
    import warnings  # noqa: PLC0415

    seed = seed_for("fits", "selection", n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, scenario="selection", rng=seed)
    trim = {"none": None, "refit": None, "refit_grouped": None, "refit_weights": None, "band": (0.1, 10.0),
            "crump": "crump"}[variant]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the trimming and poor-overlap warnings are the point here
        router = mrs.MetaRouter(cate="dr", scale=s.scale, trim=trim, random_state=rep).fit(s.train)
        if variant.startswith("refit"):  # every stage refitted in each of 50 replicates (c is given: the true one)
            # refit_grouped: the experimental switch that keeps a resampled row's copies in one fold;
            # refit_weights: the weighted bootstrap (Exp(1) row weights, no copies)
            band_engines._GROUP_REPLICATES = variant == "refit_grouped"
            try:
                pw = mrs.bias_interval(router, Xe, n_boot=50, method="refit", data=s.train, rng=seed, progress=False,
                                       resampling="weights" if variant == "refit_weights" else "rows")
            finally:
                band_engines._GROUP_REPLICATES = False
        else:
            pw = mrs.bias_interval(router, Xe, n_boot=200, rng=seed)
        # the weighted refit band's fit also gets the fast band (200 draws, same centre): their union is scored too
        fast = mrs.bias_interval(router, Xe, n_boot=200, method="fast", rng=seed) if variant == "refit_weights" else None
    truth = s.delta(Xe)
    crit = critical_value(pw.estimate, pw.draws, pw.std_error, "uniform", 0.95)  # sup-t from the same draws
    out = {"n_gold": n_gold, "rep": rep, "variant": variant, "n_trimmed": router.n_trimmed_,
           "estimate": pw.estimate.tolist(), "se": pw.std_error.tolist(), "outside": pw.outside_overlap.tolist(),
           "covered": ((pw.low <= truth) & (truth <= pw.high)).tolist(),
           "covered_uniform": bool(np.all(np.abs(pw.estimate - truth) <= crit * pw.std_error)), "crit": crit}
    if fast is not None:
        out.update(fast_se=fast.std_error.tolist(),
                   fast_crit=critical_value(fast.estimate, fast.draws, fast.std_error, "uniform", 0.95))
    return out


def run_selection(reps: int, n_jobs: int, gold_sizes: list[int], refit_reps: int = 0,
                  first_rep: int = 0, refit_variant: str = "refit",
                  variants: tuple[str, ...] = ("none", "band", "crump")) -> pd.DataFrame:
    """Raw rows (one per replication and variant) of the ``selection`` band study.

    Replications ``first_rep, ..., first_rep + reps - 1`` of the trimming variants and
    ``first_rep, ..., first_rep + refit_reps - 1`` of the refit band, so that a long run can be
    split into chunks with distinct seeds and merged by :func:`summarise_selection`.
    """
    Xe = eval_points()
    jobs = [(n, r, v) for n in gold_sizes for v in variants for r in range(first_rep, first_rep + reps)]
    jobs += [(n, r, refit_variant) for n in gold_sizes for r in range(first_rep, first_rep + refit_reps)]
    return pd.DataFrame(Parallel(n_jobs=n_jobs)(delayed(selection_rep)(n, r, v, Xe) for n, r, v in jobs))


def _both_scored(est: np.ndarray, refit_se: np.ndarray, fast_se: np.ndarray, crit: float, truth: np.ndarray) -> dict:
    """One fit's ``method="both"`` band scored against ``truth``: the larger SE at each point, the refit sup-t value.

    ``covered_uniform`` is NaN where the refit band's sup-t value was not stored.
    """
    se = np.maximum(np.asarray(refit_se), np.asarray(fast_se))
    err = np.abs(np.asarray(est) - truth)
    return {"se": se.tolist(), "covered": (err <= 1.959964 * se).tolist(),
            "covered_uniform": bool(np.all(err <= crit * se)) if np.isfinite(crit) else np.nan,
            "max_t": float(np.max(err / se))}


def _both_rows(rows: pd.DataFrame, truth: np.ndarray) -> pd.DataFrame:
    """Rows of ``bias_interval(method="both")`` scored from the weighted refit band and the fast band of the same fit.

    Its SE is the larger of the two at each point; its sup-t value is the refit draws' (``larger_spread``
    keeps their studentised shape), so the uniform band is crit_refit x the larger SE (where the refit
    band's sup-t value was stored). The pointwise band is method="both"'s exactly (in distribution: the
    two bootstraps ran here with their own seeds).
    """
    # the fast band of a fit: stored beside the weighted refit band, or as that fit's untrimmed fast variant ("none")
    fast = {(r["n_gold"], r["rep"]): (list(r["se"]), r["crit"]) for _, r in rows[rows["variant"] == "none"].iterrows()
            if "crit" in r and np.isfinite(r["crit"])}
    if "fast_se" in rows:
        fast.update({(r["n_gold"], r["rep"]): (list(r["fast_se"]), r["fast_crit"]) for _, r in rows.iterrows()
                     if isinstance(r["fast_se"], list)})
    src = rows[(rows["variant"] == "refit_weights").to_numpy() & np.array([(n, k) in fast for n, k in zip(rows["n_gold"], rows["rep"])], dtype=bool)]
    out = []
    for _, r in src.iterrows():
        r = r.copy()
        r["fast_se"], r["fast_crit"] = fast[(r["n_gold"], r["rep"])]
        err = np.abs(np.asarray(r["estimate"]) - truth)
        out.append({**r.to_dict(), "variant": "both_weights",
                    **_both_scored(r["estimate"], r["se"], r["fast_se"], r.get("crit", np.nan), truth)})
        out.append({**r.to_dict(), "variant": "fast_same_fits", "se": list(r["fast_se"]),
                    "covered": (err <= 1.959964 * np.asarray(r["fast_se"])).tolist(),
                    "covered_uniform": bool(np.all(err <= r["fast_crit"] * np.asarray(r["fast_se"])))})
    return pd.DataFrame(out)


def se_over_sd(est: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """Mean over points of (mean bootstrap SE) / (Monte Carlo SD of the centre), and its jackknife SE over fits.

    ``est`` and ``se`` are (fits, points). The SD in the denominator is itself estimated from the
    fits (relative SE about 1 / sqrt(2 (fits - 1)) per point, less after averaging correlated
    points), so with a few dozen fits a ratio of 0.9 need not differ from 1: the delete-one
    jackknife over fits says by how much it can move. A nonparametric bootstrap over fits is not
    used because duplicated fits shrink the SD and bias the ratio upward.
    """
    k = len(est)

    def ratio(ix: np.ndarray) -> float:
        return float(np.mean(se[ix].mean(axis=0) / est[ix].std(axis=0, ddof=1)))

    full = ratio(np.arange(k))
    if k < 3:
        return full, float("nan")
    jk = np.array([ratio(np.delete(np.arange(k), i)) for i in range(k)])
    return full, float(np.sqrt((k - 1) / k * np.sum((jk - jk.mean()) ** 2)))


def summarise_selection(rows: pd.DataFrame) -> pd.DataFrame:
    """Why the fast band under-covers on ``selection``: bias or standard error, with and without trimming.

    Delta is linear in x on this scenario, so Delta(x) is also the band's stated target.
    Per cell: pointwise coverage over all points (with its Monte Carlo SE from the replication
    means, which keeps the correlation between a replication's points), over the points the
    band flags as inside the overlap and outside it; the RMS over points of bias / Monte Carlo
    SD of the band centre, and the mean of (mean bootstrap SE) / (Monte Carlo SD) with its jackknife
    SE over fits (:func:`se_over_sd`).
    """
    Xe = eval_points()
    truth = mrs.simulate(n_gold=2, n_preference=2, n_test=2, scenario="selection", rng=0).delta(Xe)
    rows = rows.drop_duplicates(["n_gold", "variant", "rep"])
    rows = pd.concat([rows, _both_rows(rows, truth)], ignore_index=True)
    out = []
    for (n, v), g in rows.groupby(["n_gold", "variant"], sort=False):
        est, se = np.array(g["estimate"].tolist()), np.array(g["se"].tolist())
        cov, outside = np.array(g["covered"].tolist()), np.array(g["outside"].tolist())
        sd = est.std(axis=0, ddof=1)
        ratio, ratio_se = se_over_sd(est, se)
        per_rep = cov.mean(axis=1)
        uni = g["covered_uniform"].astype(float) if "covered_uniform" in g else pd.Series(np.nan, index=g.index)
        out.append({"n_gold": n, "trim": v, "reps": len(g), "rows_trimmed": g["n_trimmed"].mean(),
                    "coverage": cov.mean(), "coverage_mc_se": per_rep.std(ddof=1) / np.sqrt(len(g)),
                    "uniform_coverage": uni.mean(), "uniform_mc_se": uni.std(ddof=1) / np.sqrt(uni.notna().sum()),
                    "uniform_reps": int(uni.notna().sum()),
                    "coverage_inside_overlap": cov[~outside].mean(),
                    "coverage_outside_overlap": cov[outside].mean() if outside.any() else np.nan,
                    "share_points_outside": outside.mean(),
                    "rms_bias_over_sd": float(np.sqrt(np.mean(((est.mean(axis=0) - truth) / sd) ** 2))),
                    "se_over_sd": ratio, "se_over_sd_mc_se": ratio_se})
    return pd.DataFrame(out)


def smallgold_rep(scenario: str, n_gold: int, rep: int, Xe: np.ndarray, target: np.ndarray, refit: bool,
                  resampling: str = "rows") -> list[dict]:
    """One fit: the fast band scored with 200 and 1,000 draws and, if asked, the refit band (50 refits;
    ``resampling="weights"``: the weighted refit bootstrap, variant ``refitW_50``)."""
    seed = seed_for("diag", scenario, n_gold, rep)  # the label of this part's first run, kept so that its numbers reproduce
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=10, scenario=scenario, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the poor-overlap warning on `selection` is expected
        router = mrs.MetaRouter(cate="dr", scale=s.scale, random_state=rep).fit(s.train)
        fast = mrs.bias_interval(router, Xe, n_boot=1000, method="fast", rng=seed)
        bands = {"fast_200": make_band(fast.estimate, fast.draws[:200], kind="pointwise", confidence_level=0.95,
                                       method="fast"),
                 "fast_1000": fast}
        if refit:
            name = "refit_50" if resampling == "rows" else "refitW_50"
            bands[name] = mrs.bias_interval(router, Xe, n_boot=50, method="refit", data=s.train, rng=seed,
                                            progress=False, resampling=resampling)
    rows = []
    for name, band in bands.items():
        crit = critical_value(band.estimate, band.draws, band.std_error, "uniform", 0.95)
        err = band.estimate - target
        rows.append({"scenario": scenario, "n_gold": n_gold, "rep": rep, "variant": name,
                     "estimate": band.estimate.tolist(), "se": band.std_error.tolist(),
                     "covered": (np.abs(err) <= 1.959964 * band.std_error).tolist(), "crit": crit,
                     "covered_uniform": bool(np.all(np.abs(err) <= crit * band.std_error)),
                     "max_t": float(np.max(np.abs(err) / band.std_error))})
    return rows


def run_smallgold(reps: int, refit_reps: int, n_jobs: int, scenarios: list[str], gold_sizes: list[int],
                  first_rep: int, resampling: str = "rows") -> pd.DataFrame:
    Xe = eval_points()
    targets = {sc: linear_target(sc, Xe) for sc in scenarios}
    jobs = [(sc, n, r) for sc in scenarios for n in gold_sizes for r in range(first_rep, first_rep + reps)]
    out = Parallel(n_jobs=n_jobs)(delayed(smallgold_rep)(sc, n, r, Xe, targets[sc], r < first_rep + refit_reps,
                                                         resampling) for sc, n, r in jobs)
    return pd.DataFrame([row for rows in out for row in rows])


def _smallgold_both(raw: pd.DataFrame, targets: dict[str, np.ndarray]) -> pd.DataFrame:
    """Rows of ``bias_interval(method="both")`` (variant ``both_W``) from a fit's ``fast_200`` and ``refitW_50`` bands.

    Scored by :func:`_both_scored`, as :func:`_both_rows` on ``selection`` (``larger_spread`` keeps the
    refit replicates' studentised shape, so the uniform band is their sup-t value times the larger SE).
    """
    key = ["scenario", "n_gold", "rep"]
    fast = raw[raw["variant"] == "fast_200"].set_index(key)
    out = []
    for _, r in raw[raw["variant"] == "refitW_50"].iterrows():
        k = (r["scenario"], r["n_gold"], r["rep"])
        if k not in fast.index:
            continue
        out.append({**r.to_dict(), "variant": "both_W",
                    **_both_scored(r["estimate"], r["se"], fast.loc[k, "se"], r["crit"], targets[r["scenario"]])})
    return pd.DataFrame(out)


def summarise_smallgold(raw: pd.DataFrame) -> pd.DataFrame:
    """Coverage, SE / SD and the needed against the given sup-t critical value, per cell and variant.

    Where a fit has the weighted refit band, ``both_W`` scores ``method="both"`` on it (:func:`_smallgold_both`);
    its ``crit_given`` is the refit draws' sup-t value.
    """
    from scipy import stats as _st  # noqa: PLC0415

    Xe = eval_points()
    targets = {sc: linear_target(sc, Xe) for sc in raw["scenario"].unique()}  # 200,000 draws each: once per scenario
    # a fit run twice (a fast-only chunk, then its refit; same seed, same fit) counts once
    raw = raw.drop_duplicates(["scenario", "n_gold", "rep", "variant"], keep="last")
    raw = pd.concat([raw, _smallgold_both(raw, targets)], ignore_index=True)
    out = []
    for (sc, n, v), g in raw.groupby(["scenario", "n_gold", "variant"], sort=False):
        target = targets[sc]
        est, se = np.array(g["estimate"].tolist()), np.array(g["se"].tolist())
        cov = np.array(g["covered"].tolist(), dtype=float)
        uni = g["covered_uniform"].astype(float)
        sd = est.std(axis=0, ddof=1)
        ratio, ratio_se = se_over_sd(est, se)
        tstat = (est - target) / se
        out.append({"scenario": sc, "n_gold": n, "variant": v, "reps": len(g),
                    "pointwise": cov.mean(), "pointwise_mc_se": cov.mean(axis=1).std(ddof=1) / np.sqrt(len(g)),
                    "uniform": uni.mean(), "uniform_mc_se": np.sqrt(max(uni.mean() * (1 - uni.mean()), 0.05 * 0.95) / len(g)),
                    "se_over_sd": ratio, "se_over_sd_mc_se": ratio_se,
                    "se_over_sd_min": float(np.min(se.mean(axis=0) / sd)),
                    "rms_bias_over_sd": float(np.sqrt(np.mean(((est.mean(axis=0) - target) / sd) ** 2))),
                    "t_sd": float(tstat.std()), "t_excess_kurtosis": float(_st.kurtosis(tstat.ravel())),
                    "crit_given": g["crit"].mean(), "crit_needed": float(np.quantile(g["max_t"], 0.95))})
    return pd.DataFrame(out)


def _true_share_outside(scenario: str, band: tuple[float, float] = (0.1, 10.0)) -> float:
    """Share of preference queries whose true density ratio f_G / f_P lies outside ``band``.

    Random gold: the ratio is 1 everywhere (share 0). ``selection``: gold drawn with weights
    exp(1.5 z1), z1 ~ N(0, 1) among all queries, so w(x) = exp(1.5 z1) / E[exp(1.5 z1)] to first
    order in the gold share (without-replacement effects ignored: gold is 1-2 % of the rows).
    """
    if scenario != "selection":
        return 0.0
    from scipy import stats

    c = np.log(np.exp(1.125))  # log E[exp(1.5 z)] = 1.5^2 / 2
    lo, hi = (np.log(band[0]) + c) / 1.5, (np.log(band[1]) + c) / 1.5
    return float(stats.norm.cdf(lo) + stats.norm.sf(hi))


def overlap_rep(scenario: str, n_gold: int, rep: int) -> dict:
    """The positivity report's share outside the band and its 95 % lower bound, against the truth."""
    seed = seed_for("overlap", scenario, n_gold, rep)
    s = mrs.simulate(n_gold=n_gold, n_preference=4400, n_test=2, scenario=scenario, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep_ = mrs.positivity_report(s.train.X, s.train.source, rng=seed)
    truth = _true_share_outside(scenario)
    lb = rep_.share_outside_lower_bound()
    return {"scenario": scenario, "n_gold": n_gold, "rep": rep, "truth": truth, "estimate": rep_.share_outside_preference,
            "lower_95": lb, "bound_holds": lb <= truth + 1e-12}


def run_overlap(reps: int, n_jobs: int, scenarios: list[str], gold_sizes: list[int]) -> pd.DataFrame:
    rows = Parallel(n_jobs=n_jobs)(delayed(overlap_rep)(sc, n, r) for sc in scenarios for n in gold_sizes
                                   for r in range(reps))
    raw = pd.DataFrame(rows)
    out = []
    for (sc, n), grp in raw.groupby(["scenario", "n_gold"], sort=False):
        holds = grp["bound_holds"].astype(float)
        out.append({"scenario": sc, "n_gold": n, "reps": len(grp), "true_share": grp["truth"].iloc[0],
                    "mean_estimate": grp["estimate"].mean(), "mean_lower_95": grp["lower_95"].mean(),
                    "lower_bound_holds": holds.mean(), "mc_se": holds.std(ddof=1) / np.sqrt(len(grp))})
    return pd.DataFrame(out)


def summarise_fits(raw: pd.DataFrame) -> pd.DataFrame:
    def agg(g: pd.DataFrame) -> pd.Series:
        reps = len(g)
        size = float(np.mean(g["het_p"] < 0.05))
        out = {"reps": reps,
               "het_t1_mean": g["het_t_split1"].mean(), "het_t1_sd": g["het_t_split1"].std(ddof=1),
               "het_reject_5pct": size, "het_reject_mc_se": np.sqrt(max(size * (1 - size), 0.05 * 0.95) / reps)}
        for col in ("delta_pointwise", "delta_uniform", "linear_pointwise", "linear_uniform",
                    "gates_pointwise", "gates_uniform"):
            if col in g:
                out[col] = g[col].mean()
        # MC SEs: pointwise from the per-replication shares (keeps the correlation of a fit's 20 points);
        # uniform from the observed rate, floored at the nominal 0.95's binomial SE
        out["linear_pointwise_mc_se"] = g["linear_pointwise"].std(ddof=1) / np.sqrt(reps)
        u = g["linear_uniform"].mean()
        out["uniform_mc_se"] = np.sqrt(max(u * (1 - u), 0.95 * 0.05) / reps)
        # MC SD of the band centre at the points vs its mean bootstrap SE: not recorded per point here
        out["mean_se"] = g["mean_se"].mean()
        return pd.Series(out)

    return raw.groupby(["scenario", "n_gold"]).apply(agg, include_groups=False).reset_index().astype({"reps": int})


def write_table(name: str, head: str, table: pd.DataFrame) -> None:
    md = table.to_markdown(index=False, floatfmt=".3f")
    write_summary_section(SUMMARY, name.removesuffix(".md"), head + "\n\n" + md + "\n")
    print(md)


def encode_lists(raw: pd.DataFrame) -> pd.DataFrame:
    """Array-valued cells (per-point estimates, SEs) as JSON text, so that a chunk is a CSV."""
    out = raw.copy()
    for c in out.columns:
        if out[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
            out[c] = out[c].map(lambda v: json.dumps(np.asarray(v).tolist()) if isinstance(v, (list, tuple, np.ndarray))
                                else v)
    return out


def decode_lists(raw: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`encode_lists` on merged rows (the ``chunk`` column dropped)."""
    out = raw.drop(columns="chunk", errors="ignore").copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, str) and v[:1] == "[").any():
            out[c] = out[c].map(lambda v: json.loads(v) if isinstance(v, str) and v[:1] == "[" else v)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=("ttest", "fits", "selection", "overlap", "sieve", "smallgold"))
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--scenarios", default="homogeneous,paper,nonlinear_bias,selection")
    ap.add_argument("--gold", default="50,100,500")
    ap.add_argument("--methods", default="variance,wasserstein,amplitude", help="ttest: scale methods to run")
    ap.add_argument("--inference", default="delta", choices=("delta", "auto"),
                    help="ttest: bias_ttest's reference law ('delta': the tables in docs; 'auto': the bootstrap-t default, "
                         "benchmarked at small n by benchmarks/ttest_size)")
    ap.add_argument("--refit-reps", type=int, default=0, help="selection, smallgold: replications of the refit band (50 refits each)")
    ap.add_argument("--stages", default="sieve,linear",
                    help="sieve: bands to score (sieve = 'spline', pairs = 'spline_pairs', linear = the default; "
                         "NAME_both = the same with method='both', 50 weighted refits)")
    ap.add_argument("--paired-with", default=None,
                    help="sieve --merge: join the bands of another run's raw files (same seeds) on the common fits")
    ap.add_argument("--variants", default="none,band,crump",
                    help="selection: trimming variants of the fast band (none = the fast band untrimmed)")
    ap.add_argument("--weighted", action="store_true",
                    help="selection, smallgold: the weighted refit bootstrap (Exp(1) row weights; variants "
                         "refit_weights, refitW_50)")
    ap.add_argument("--grouped", action="store_true",
                    help="selection: the refit band with the experimental grouped folds (variant refit_grouped)")
    ap.add_argument("--tag", default="", help="suffix of the output files (to run cells separately)")
    ap.add_argument("--first-rep", type=int, default=0,
                    help="selection, fits: index of the first replication (run a long study in chunks with distinct seeds)")
    ap.add_argument("--merge", default=None,
                    help="selection, sieve, smallgold: summarise every raw file of the part with this tag prefix (no new runs); "
                         "fits: any value re-summarises every fits raw file")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.part == "ttest":
        table = run_ttest(args.reps or 1000, args.n_jobs, args.methods.split(","), args.inference)
        STORE.save(f"validity_ttest{args.tag}", table)
        head = ("Size of bias_ttest at the 5 % level under issue 14's null (mean bias 0 on the gold scale), c "
                "estimated by each method and propagated; `size_c_treated_as_known`: the same test with the estimated "
                "c passed as a number (the old behaviour); `size_true_c`: the exact test with the true c on the same replications (the Monte Carlo reference). Normal labels: n = 100 gold, 100 paired or 4,400 Welch "
                "preference. `amplitude` on normal labels has no population c (a ratio of maxima of unbounded laws).")
        write_table(f"validity_ttest{args.tag}.md", head, table)
    elif args.part == "overlap":
        table = run_overlap(args.reps or 100, args.n_jobs, args.scenarios.split(","), [int(v) for v in args.gold.split(",")])
        head = ("Positivity report: share of preference rows with density ratio outside [0.1, 10] (4,400 preference "
                "rows, d = 50, default propensity model) and its one-sided 95 % lower bound, against the true share "
                "(0 with random gold; about 0.227 on `selection`). `lower_bound_holds`: how often bound <= truth.")
        write_table(f"validity_overlap{args.tag}.md", head, table)
    elif args.part == "sieve":
        if args.merge is None:
            raw = run_sieve(args.reps or 25, args.n_jobs, args.scenarios.split(","),
                            [int(v) for v in args.gold.split(",")], args.first_rep, tuple(args.stages.split(",")))
            STORE.save(f"validity_sieve{args.tag}", raw)
        else:
            args.tag = args.merge
        raw = decode_lists(STORE.rows(f"validity_sieve{args.merge or args.tag}"))
        if args.paired_with:  # the same fits (same seeds) scored by bands of another run: join them
            other = decode_lists(STORE.rows(f"validity_sieve{args.paired_with}")).drop_duplicates(
                ["scenario", "n_gold", "rep"])
            new = [c for c in other.columns if c.split("_")[0] in SIEVE_STAGES and c not in raw.columns]
            raw = raw.merge(other[["scenario", "n_gold", "rep", *new]], on=["scenario", "n_gold", "rep"])
        table = summarise_sieve(raw)
        head = ("Bands for Delta(x) itself: `sieve` = bias_interval(final_stage='spline') (additive cubic splines, 4 "
                "knots per coordinate, ridge penalty x 0.01 of its leave-one-out choice, fast bootstrap, 200 draws); "
                "`pairs` (where run) = bias_interval(final_stage='spline_pairs') (the same plus piecewise-linear tensor "
                "products of the 5 highest-variance coordinates' pairs); "
                "`linear` = the default band (target: the best linear predictor) on the same fits; `NAME_both` (where "
                "run) = the same final stage with method='both' (at each point the larger of the fast and the weighted "
                "refit bootstrap's SE, 50 refits, given the training data). DR Meta-router, "
                "true c, 4,400 preference rows, d = 50, 20 points; both scored against the true Delta(x). "
                "rmse_over_se: RMS error of the band centre over its mean bootstrap SE (about 1 when the SE is honest "
                "and the bias small).")
        write_table(f"validity_sieve{args.tag}.md", head, table)
    elif args.part == "smallgold":
        if args.merge is None:
            raw = run_smallgold(args.reps or 80, args.refit_reps, args.n_jobs, args.scenarios.split(","),
                                [int(v) for v in args.gold.split(",")], args.first_rep,
                                "weights" if args.weighted else "rows")
            STORE.save(f"validity_smallgold{args.tag}", encode_lists(raw))
        else:
            raw = decode_lists(STORE.rows(f"validity_smallgold{args.merge}"))
            args.tag = args.merge
        head = ("The default fast band (DR, true c, 4,400 preference rows, d = 50, 20 points) scored against its "
                "target (the best linear predictor of Delta) with 200 draws (`fast_200`, the default) and 1,000 "
                "(`fast_1000`), and the refit band (`refit_50`: 50 refits of every stage; `refitW_50`: the weighted refit "
                "bootstrap, Exp(1) row weights) on the same fits. "
                "se_over_sd: mean over points of the mean bootstrap SE / the Monte Carlo SD of the centre (min: the "
                "worst point); t_sd, t_excess_kurtosis: of the studentised errors (est - target) / SE; crit_given: "
                "mean sup-t critical value of the bands; crit_needed: 95 % quantile of max_j |t_j| over replications.")
        write_table(f"validity_smallgold{args.tag}.md", head, summarise_smallgold(raw))
    elif args.part == "selection":
        if args.merge is None:
            raw = run_selection(40 if args.reps is None else args.reps, args.n_jobs,
                                [int(v) for v in args.gold.split(",")], args.refit_reps, args.first_rep,
                                "refit_grouped" if args.grouped else "refit_weights" if args.weighted else "refit",
                                tuple(args.variants.split(",")))
            STORE.save(f"validity_selection{args.tag}", encode_lists(raw))
            table = summarise_selection(raw)
        else:
            # several prefixes, comma-separated: e.g. the weighted refit bands and the fast bands of the same fits
            merged = pd.concat([STORE.rows(f"validity_selection{m}") for m in args.merge.split(",")], ignore_index=True)
            if not len(merged):
                raise SystemExit(f"no chunks validity_selection{args.merge}* in {HERE}")
            table = summarise_selection(decode_lists(merged))
            args.tag = args.merge.split(",")[0]
        head = ("Fast 95 % Delta band on the `selection` scenario (DR, true c, 4,400 preference rows, 20 points, "
                "seeds of the `fits` part), without trimming and with the Meta-router's trimming of preference rows "
                "by the cross-fitted density ratio: `band` = outside [0.1, 10], `crump` = Crump et al.'s rule. "
                "coverage_mc_se: Monte Carlo SE of the pointwise coverage from the per-replication means. "
                "se_over_sd < 1: the bootstrap SE misses part of the Monte Carlo SD. `refit`: no trimming, method='refit' "
                "(50 refits of every stage per band; fewer replications, so its SD and coverage are rougher).")
        write_table(f"validity_selection{args.tag}.md", head, table)
    else:
        if args.merge is None:  # fits --merge ANY: re-summarise every raw file without new runs
            raw = run_fits(args.reps or 100, args.n_jobs, args.scenarios.split(","),
                           [int(v) for v in args.gold.split(",")], args.first_rep)
            STORE.save(f"validity_fits{args.tag}", raw)
        both = decode_lists(STORE.rows("validity_fits"))
        # a replication run twice (same seed, same fit) keeps the row with the most columns
        both = both.assign(_filled=both.notna().sum(axis=1)).sort_values("_filled", ascending=False, kind="stable")
        table = summarise_fits(both.drop_duplicates(["scenario", "n_gold", "rep"]).drop(columns="_filled"))
        head = ("Heterogeneity test and default fast Delta band (95 %), DR Meta-router with the true c, 4,400 "
                "preference rows, d = 50. het_t1: first split's t (N(0, 1) under a constant bias); het_reject_5pct: "
                "median-adjusted test (size under `homogeneous`, power elsewhere). Band coverage of Delta(x) "
                "(`delta_*`) and of its best linear predictor (`linear_*`, the band's stated target) at 20 points.")
        write_table("validity_fits.md", head, table)
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
