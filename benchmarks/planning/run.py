"""Gold labels as a budget (issue 16): unbiasedness with known probabilities, active vs random selection.

``unbiased``
    Per replication a fresh pool (``--pool`` queries, ``--d`` dimensions; preference labels on
    every query, gold labels drawn for the chosen ones) and four batches of 25 gold labels:
    batch 1 uniform, batches 2-4 chosen by ``select_for_gold`` (``--strategy``) from the
    Meta-router refitted on the labels so far. The final design is fitted three ways with the
    true scale c (so that only the propensity differs): the DR-learner with the design's
    cumulative probabilities (``propensity``), with them ignored (``propensity="share"``: the
    labelled queries treated as a simple random sample) and with the package's default
    estimated propensity. Target: the average bias over the pool's queries, mean of
    Delta(x_i) (preference units), so the error excludes the pool's own sampling. Recorded:
    mean error with its Monte Carlo SE, RMSE, and the coverage of ``ate_interval``.
    ``--design tilt``: one batch of 100 with probabilities tilted toward high z1 (the
    ``selection`` scenario's exp(1.5 z1), mixed with ``--uniform-share`` of uniform), where
    ignoring the design biases the estimate.
``active``
    Per replication and scenario (``paper``, ``nonlinear_bias``) a pool of 4,500 queries (d = 50,
    the paper's size); EG area over rates 0.2..0.8 of the final Meta-router, on 2,000 test
    queries scored with their true psi (the router's true value, no test-label noise), for
    (a) four batches of 25 as above (100 gold), (b) 100 and (c) 150 gold drawn at random;
    paired differences with Monte Carlo SEs.

``power``
    ``plan_gold`` run on pilots of 100 gold and 4,400 preference labels (``--reps`` pilots,
    c estimated by variance matching, power at the scenario's true mean bias) against the
    simulated power of ``bias_ttest(paired=False, scale="variance")`` (Welch, c re-estimated
    and its error propagated) on fresh studies with m gold labels (``--sim-reps`` each).

``curve``
    The gold size at which the Meta-router's EG area (rates 0.2-0.8, true psi on 2,000 test
    queries) reaches 90 % of its large-sample value: *realised* from simulations with m gold
    labels (``--curve-reps`` per size, m = 25 ... 3,200, 4,400 preference labels; the value at
    3,200 is the large-sample value; the crossing is interpolated on log m), against
    *planned* by ``gold_learning_curve`` on ``--reps`` pilots of 100 gold labels.

``heterogeneity``
    ``plan_heterogeneity``'s power formula applied to the pilots of the validity benchmark
    (``benchmarks/validity/run.py fits``: 30-100 fits per scenario and gold size 50 / 100 / 500,
    DR Meta-router, true c, 4,400 preference rows, each with the median split t of CDDF's test
    stored), against the rejection rate of the actual test at the other gold sizes. No new
    fits: it reads the ``validity_fits_*`` chunks of ``benchmarks/validity/results.csv.gz``.

``bound``
    The most any design can gain over uniform sampling for the Neyman target (the variance of
    Delta_hat at queries whose routing is in doubt, linear ridge final stage): 1 + CV(a)^2 of
    the ``"neyman"`` scores a over the pool, for one default Meta-router fitted on each of
    ``paper`` and ``nonlinear_bias`` (100 gold, 4,400 preference, seeds 0-2) and, when
    ``METAROUTER_DATA_DIR`` is set, on MT-Bench (gpt-4 vs gpt-3.5-turbo, item embeddings of
    10 and 20 dimensions; pool = the preference rows).

``ranges``
    Coverage of ``plan_gold``'s ranges: on ``--reps`` pilots of 100 gold and 4,400 preference
    labels (c given: the true 0.25, so that only the gold variance is uncertain, as the ranges
    state), the share whose (low, high) gold size for a half-width of 0.5 and for 80 % power (at
    the population mean bias) contains the size planned from the population variances (a pilot
    of 100,000 gold labels).

Run::

    python benchmarks/planning/run.py unbiased --reps 200 --n-jobs 2
    python benchmarks/planning/run.py active --reps 50 --n-jobs 2
    python benchmarks/planning/run.py power --reps 200 --sim-reps 2000
    python benchmarks/planning/run.py curve --reps 10 --curve-reps 12 --n-jobs 2
    python benchmarks/planning/run.py heterogeneity
    python benchmarks/planning/run.py ranges --reps 1000 --n-jobs 2
    python benchmarks/planning/run.py bound

Writes the chunks ``planning_{unbiased,active,power}{tag}`` of ``results.csv.gz`` and their sections of
``summary.md``. Nothing here asserts.
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
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.cate import DRBiasLearner
from metarouter_stats.planning.curves import fit_curve, n_for_share  # the power law on the same refits

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
RATES = np.round(np.linspace(0.2, 0.8, 13), 10)


def pool_study(scenario: str, pool: int, d: int, seed: int) -> tuple:
    s = mrs.simulate(n_gold=2, n_preference=pool - 2, n_test=2000, d=d, scenario=scenario, rng=seed)
    X = np.asarray(s.train.X)
    pref = s.draw_preference(X, rng=seed + 10_000)
    return s, X, pref, np.asarray(s.gold_train)


def active_design(X, pref, gold, *, batches: int, size: int, strategy: str, uniform_share: float, seed: int,
                  scale) -> mrs.GoldSelection:
    sel = mrs.select_for_gold(None, X, size, strategy="uniform", rng=seed)
    for b in range(1, batches):
        router = mrs.MetaRouter(scale=scale, random_state=seed + b).fit(sel.routing_data(X, pref, gold))
        sel = mrs.select_for_gold(router, X, size, strategy=strategy, uniform_share=uniform_share, previous=sel,
                                  n_boot=100, rng=seed + 100 + b)
    return sel


def tilted_design(X, n: int, mix: float, seed: int) -> mrs.GoldSelection:
    """One batch of n drawn with pi proportional to mix * uniform + (1 - mix) * exp(1.5 z1) (systematic pps)."""
    from metarouter_stats.planning.selection import GoldSelection, capped_probabilities
    from metarouter_stats.simulation import standardise

    w = np.exp(1.5 * standardise(X)[:, 0])
    q = mix / X.shape[0] + (1 - mix) * w / w.sum()
    pi, _ = capped_probabilities(q, n)
    idx = mrs.planning.systematic_pps(pi, seed)
    lab = np.zeros(X.shape[0], dtype=bool)
    lab[idx] = True
    return GoldSelection(indices=idx, batch_probability=pi, propensity=pi, labelled=lab, batch=lab.astype(int),
                         score=w, strategy="tilt", uniform_share=mix, n_batches=1)


def one_unbiased(seed: int, args) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, X, pref, gold = pool_study(args.scenario, args.pool, args.d, seed)
        if args.design == "tilt":
            sel = tilted_design(X, 100, args.uniform_share, seed)
        else:
            sel = active_design(X, pref, gold, batches=4, size=25, strategy=args.strategy,
                                uniform_share=args.uniform_share, seed=seed, scale=s.scale)
        data = sel.routing_data(X, pref, gold)
        truth = float(np.mean(s.delta(X, scale="preference")))
        row = {"seed": seed, "truth": truth, "max_weight_ratio": float(sel.propensity[sel.labelled].max()
                                                                       / sel.propensity[sel.labelled].min())}
        fits = {
            "known": mrs.MetaRouter(scale=s.scale, random_state=seed).fit(data),
            "ignored_share": mrs.MetaRouter(cate=DRBiasLearner(propensity="share"), scale=s.scale,
                                            random_state=seed).fit(data.X, data.outcome, data.source),
            "estimated": mrs.MetaRouter(scale=s.scale, random_state=seed).fit(data.X, data.outcome, data.source),
        }
        for name, r in fits.items():
            est = r.ate(units="preference")
            lo, hi = r.ate_interval(units="preference")
            row[f"{name}_err"] = est - truth
            row[f"{name}_cover"] = float(lo <= truth <= hi)
    return row


def one_active(seed: int, scenario: str, args) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, X, pref, gold = pool_study(scenario, 4500, 50, seed)
        psi_test = np.asarray(s.psi_test)
        t0 = time.perf_counter()
        sel = active_design(X, pref, gold, batches=4, size=25, strategy=args.strategy,
                            uniform_share=args.uniform_share, seed=seed, scale="variance")
        routers = {"active_100": (sel.routing_data(X, pref, gold), None)}
        for n in (100, 150):
            rnd = mrs.select_for_gold(None, X, n, strategy="uniform", rng=seed + 7)
            routers[f"random_{n}"] = (rnd.routing_data(X, pref, gold), None)
        row = {"seed": seed, "scenario": scenario}
        for name, (data, _) in routers.items():
            r = mrs.MetaRouter(random_state=seed).fit(data)
            eg = mrs.efficiency_gain(psi_test, r.predict_gain(s.X_test), rates=RATES)
            row[f"{name}_area"] = float(eg.auc)
        row["oracle_area"] = float(mrs.efficiency_gain(psi_test, psi_test, rates=RATES).auc)
        row["seconds"] = time.perf_counter() - t0
    return row


POWER_SIZES = {"paper": (25, 50, 100, 200), "nonlinear_bias": (50, 100, 200, 400)}


def power_cell(scenario: str, reps: int, sim_reps: int) -> list[dict]:
    big = mrs.simulate(n_gold=2, n_preference=200_000, n_test=2, scenario=scenario, rng=99)
    g_big, p_big = np.asarray(big.gold_train), big.draw_preference(big.train.X, rng=1)
    # the test's own target: the mean bias at the population value of the variance-matching c (which
    # differs from the simulation's c when the bias is heterogeneous; bias_ttest's docstring)
    c_var = mrs.estimate_scale(g_big, p_big, method="variance")
    effect = float(g_big.mean() - p_big.mean() / c_var)
    true_effect = float(np.mean(big.delta(big.train.X)))
    sizes = POWER_SIZES[scenario]
    predicted = np.array([
        mrs.plan_gold(mrs.simulate(n_gold=100, n_preference=4400, n_test=2, scenario=scenario, rng=5000 + r).train,
                      effect=effect, sizes=sizes).power for r in range(reps)])
    rows = []
    for j, m in enumerate(sizes):
        rej = []
        for r in range(sim_reps):
            st = mrs.simulate(n_gold=m, n_preference=4400, n_test=2, scenario=scenario, rng=90_000 + 10 * r + j)
            y = st.train.outcome
            res = mrs.bias_ttest(y[st.train.is_gold], y[~st.train.is_gold], paired=False, scale="variance")
            rej.append(res.p_value < 0.05)
        rows.append({"scenario": scenario, "n_gold": m, "effect": effect, "true_mean_bias": true_effect,
                     "c_variance_population": c_var, "predicted_mean": predicted[:, j].mean(),
                     "predicted_sd_over_pilots": predicted[:, j].std(ddof=1), "simulated": float(np.mean(rej)),
                     "simulated_mc_se": float(np.std(rej, ddof=1) / np.sqrt(sim_reps))})
    return rows


CURVE_SIZES = (25, 50, 100, 200, 400, 800, 1600, 3200)


def realised_area(scenario: str, m: int, seed: int, d: int = 50) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = mrs.simulate(n_gold=m, n_preference=4400, n_test=2000, d=d, scenario=scenario, rng=seed)
        r = mrs.MetaRouter(random_state=seed).fit(s.train)
        psi = np.asarray(s.psi_test)
        area = mrs.efficiency_gain(psi, r.predict_gain(s.X_test), rates=RATES).auc
        oracle = mrs.efficiency_gain(psi, psi, rates=RATES).auc
    return {"scenario": scenario, "n_gold": m, "seed": seed, "share": float(area / oracle)}


def planned_size(scenario: str, seed: int, d: int = 50, n_repeats: int | None = None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = mrs.simulate(n_gold=100, n_preference=4400, n_test=2, d=d, scenario=scenario, rng=seed)
        t0 = time.perf_counter()
        extra = {} if n_repeats is None else {"n_repeats": n_repeats}
        c = mrs.gold_learning_curve(s.train, rng=seed, **extra)
    seconds = time.perf_counter() - t0
    est, lo, hi = c.n_for_target
    # the inverse power law on the same refits (what gold_learning_curve(method="power") fits, without refitting)
    a, b = fit_curve(c.sizes, c.areas, c.std_errors, 1.0, "power")
    power = float(n_for_share("power", np.array([a]), np.array([b]), 1.0, 0.9)[0])
    return {"scenario": scenario, "seed": seed, "planned": est, "low": lo, "high": hi, "kappa": c.coefficient,
            "asymptote": c.asymptote, "planned_power": power, "seconds": seconds}


def crossing(sizes: np.ndarray, means: np.ndarray, level: float) -> float:
    """First m (interpolated on log m) where the mean curve reaches ``level``."""
    above = np.flatnonzero(means >= level)
    if above.size == 0:
        return float("inf")
    k = int(above[0])
    if k == 0:
        return float(sizes[0])
    x0, x1, y0, y1 = np.log(sizes[k - 1]), np.log(sizes[k]), means[k - 1], means[k]
    return float(np.exp(x0 + (level - y0) / (y1 - y0) * (x1 - x0)))


def mc(x: pd.Series) -> str:
    x = x.dropna()
    return f"{x.mean():.4f} ({x.std(ddof=1) / np.sqrt(len(x)):.4f})"


def _range_hits(scenario: str, seed: int, truth_hw: float, truth_pw: float, effect: float) -> tuple[bool, bool]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = mrs.simulate(n_gold=100, n_preference=4400, n_test=1, d=50, scenario=scenario, rng=seed).train
    p = mrs.plan_gold(s, scale=0.25, target_half_width=0.5, effect=effect)
    lo_p, hi_p = sorted(p.n_for_power[1:])
    return bool(p.n_for_half_width[1] <= truth_hw <= p.n_for_half_width[2]), bool(lo_p <= truth_pw <= hi_p)


def neyman_bound(router: mrs.MetaRouter, pool: np.ndarray) -> float:
    """1 + CV(a)^2 of the Neyman scores: the best design's variance reduction over uniform sampling."""
    a = mrs.select_for_gold(router, pool, 10, strategy="neyman", n_boot=50, rng=0).score
    return float(1 + (a.std() / a.mean()) ** 2)


def bound_table() -> list[str]:
    import os  # noqa: PLC0415

    lines = ["# The most a design can gain: 1 + CV(a)^2 of the Neyman scores", "",
             "One default DR Meta-router per row; pool = its preference rows; a = `select_for_gold(strategy='neyman')`"
             "'s score. A value v means the best allocation has 1 / v of uniform sampling's variance of Delta_hat at "
             "the queries whose routing is in doubt (gold noise homoscedastic).", "",
             "| data | embedding | gold / preference rows | 1 + CV(a)^2 |", "|---|---|---|---|"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sc in ("paper", "nonlinear_bias"):
            vals = []
            for seed in range(3):
                s = mrs.simulate(n_gold=100, n_preference=4400, n_test=2, scenario=sc, rng=seed)
                r = mrs.MetaRouter(random_state=seed).fit(s.train)
                vals.append(neyman_bound(r, s.train.X[s.train.source == 0]))
            lines.append(f"| simulated `{sc}` (seeds 0-2) | Gaussian, d = 50 | 100 / 4,400 | "
                         f"{min(vals):.3f}-{max(vals):.3f} |")
        root = os.environ.get("METAROUTER_DATA_DIR")
        if root:
            from metarouter_stats.datasets import load_mtbench  # noqa: PLC0415

            for dim in (10, 20):
                d = load_mtbench(Path(root) / "mtbench", primary="gpt-4", alternative="gpt-3.5-turbo", dim=dim).data
                r = mrs.MetaRouter(random_state=0).fit(d)
                lines.append(f"| MT-Bench, gpt-4 vs gpt-3.5-turbo | TF-IDF SVD, d = {dim} | {d.n_gold} / "
                             f"{d.X.shape[0] - d.n_gold} | {neyman_bound(r, d.X[d.source == 0]):.3f} |")
    return lines


def ranges_table(reps: int, n_jobs: int, scenarios: list[str]) -> list[str]:
    """Coverage of plan_gold's gold-size ranges for a half-width and a power target."""
    lines = ["# Coverage of plan_gold's ranges (95 %, gold-variance uncertainty)", "",
             f"{reps} pilots of 100 gold and 4,400 preference labels per scenario, c given (0.25); target: the gold size "
             "planned from the population variances (a pilot of 100,000 gold labels), half-width 0.5 and 80 % power at "
             "the population mean bias. MC SE of a coverage near 0.95: "
             f"{np.sqrt(0.95 * 0.05 / reps):.3f}.", "",
             "| scenario | true size: half-width 0.5 / power 0.8 | range covers (half-width) | range covers (power) |",
             "|---|---|--:|--:|"]
    for sc in scenarios:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            big = mrs.simulate(n_gold=100_000, n_preference=4400, n_test=1, d=50, scenario=sc, rng=1).train
        truth = mrs.plan_gold(big, scale=0.25, target_half_width=0.5)
        hits = np.array(Parallel(n_jobs=n_jobs)(
            delayed(_range_hits)(sc, 1000 + r, truth.n_for_half_width[0], truth.n_for_power[0], truth.effect)
            for r in range(reps)))
        lines.append(f"| {sc} | {truth.n_for_half_width[0]:.0f} / {truth.n_for_power[0]:.0f} | "
                     f"{hits[:, 0].mean():.3f} | {hits[:, 1].mean():.3f} |")
    return lines


def heterogeneity_table() -> list[str]:
    """Planned (from each stored pilot's median t) vs realised power of the BLP test."""
    from metarouter_stats.planning.heterogeneity_power import blp_power

    fits = ChunkStore(HERE.parent / "validity").rows("validity_fits_").drop(columns="chunk")
    if not len(fits):
        raise SystemExit("run benchmarks/validity/run.py fits first: no validity_fits_* chunks")
    fits = fits.drop_duplicates(["scenario", "n_gold", "rep"])
    lines = ["# Power of the heterogeneity test: planned from a pilot vs realised", "",
             "Pilots and realised tests: the stored fits of `validity/run.py fits` (DR, true c, 4,400 preference "
             "rows, d = 50, 100 splits). Planned: `plan_heterogeneity`'s formula on each pilot's median split t "
             "(mean and median over pilots); realised: "
             "the rejection rate at 5 % of the fits at the target size (MC SE in brackets). `interval covers`: share "
             "of pilots whose 95 % power interval (noncentrality +- 1.96, as `plan_heterogeneity`) meets the "
             "Clopper-Pearson 95 % interval of the realised power (itself a Monte Carlo estimate from 30-100 fits, "
             "often exactly 0 or 1).", "",
             "| scenario | pilot gold | target gold | planned power: mean (median) | realised power | interval covers "
             "| pilots |",
             "|---|---|---|---|---|---|---|"]
    for sc in fits.scenario.unique():
        for n0 in (50, 100, 500):
            pilots = fits[(fits.scenario == sc) & (fits.n_gold == n0)]
            for m in (50, 100, 500):
                real = fits[(fits.scenario == sc) & (fits.n_gold == m)]
                if m == n0 or pilots.empty or real.empty:
                    continue
                planned = np.array([blp_power(t, n0, np.array([m]), 0.05)[0] for t in pilots.het_t_median])
                low = np.array([blp_power(t - 1.959964, n0, np.array([m]), 0.05)[0] for t in pilots.het_t_median])
                high = np.array([blp_power(t + 1.959964, n0, np.array([m]), 0.05)[0] for t in pilots.het_t_median])
                rej = (real.het_p < 0.05).to_numpy(dtype=float)
                se = np.sqrt(rej.mean() * (1 - rej.mean()) / rej.size)
                from scipy import stats as _st  # noqa: PLC0415

                ci = _st.binomtest(int(rej.sum()), rej.size).proportion_ci(0.95, method="exact")
                covers = float(np.mean((low <= ci.high) & (ci.low <= high)))
                lines.append(f"| {sc} | {n0} | {m} | {planned.mean():.2f} ({np.median(planned):.2f}) | "
                             f"{rej.mean():.2f} ({se:.2f}) | {covers:.2f} | {len(pilots)} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["unbiased", "active", "power", "curve", "heterogeneity", "ranges", "bound"])
    ap.add_argument("--curve-reps", type=int, default=12, help="curve: simulations per gold size")
    ap.add_argument("--sim-reps", type=int, default=2000, help="power: simulated tests per gold size")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--scenario", default="paper", help="unbiased: the scenario")
    ap.add_argument("--scenarios", default="paper,nonlinear_bias", help="active: scenarios")
    ap.add_argument("--pool", type=int, default=2000, help="unbiased: pool size")
    ap.add_argument("--d", type=int, default=20, help="unbiased: embedding dimension")
    ap.add_argument("--curve-d", type=int, default=50, help="curve: embedding dimension of the simulations")
    ap.add_argument("--strategy", default="decision", help="select_for_gold strategy of the active batches")
    ap.add_argument("--uniform-share", type=float, default=0.5)
    ap.add_argument("--design", choices=["active", "tilt"], default="active",
                    help="unbiased: four active batches, or one batch of 100 tilted as exp(1.5 z1) (mixed with uniform)")
    ap.add_argument("--reuse-realised", action="store_true",
                    help="curve: read the realised curves from planning_curve_realised<TAG>.csv if it exists")
    ap.add_argument("--n-repeats", type=int, default=None, help="curve: gold_learning_curve's n_repeats (default: its own)")
    ap.add_argument("--realised-tag", default=None,
                    help="curve, with --reuse-realised: read planning_curve_realised<THIS>.csv (default: --tag)")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.what == "ranges":
        lines = ranges_table(args.reps, args.n_jobs, args.scenarios.split(","))
        write_summary_section(SUMMARY, f"planning_ranges{args.tag}", "\n".join(lines) + "\n")
    elif args.what == "bound":
        lines = bound_table()
        write_summary_section(SUMMARY, f"planning_bound{args.tag}", "\n".join(lines) + "\n")
    elif args.what == "heterogeneity":
        lines = heterogeneity_table()
        write_summary_section(SUMMARY, f"planning_heterogeneity{args.tag}", "\n".join(lines) + "\n")
    elif args.what == "curve":
        scen = args.scenarios.split(",")
        realised_tag = args.tag if args.realised_tag is None else args.realised_tag
        saved = STORE.chunk(f"planning_curve_realised{realised_tag}")
        reused = args.reuse_realised and len(saved) > 0
        if reused:  # the realised curves do not depend on the planner
            real = saved
        else:
            real = pd.DataFrame(Parallel(n_jobs=args.n_jobs)(
                delayed(realised_area)(sc, m, 3000 + 37 * r + m, args.curve_d) for sc in scen for m in CURVE_SIZES
                for r in range(args.curve_reps)))
        plan = pd.DataFrame(Parallel(n_jobs=args.n_jobs)(
            delayed(planned_size)(sc, 6000 + r, args.curve_d, args.n_repeats) for sc in scen for r in range(args.reps)))
        if not reused:  # a reused file stays where it was read from (--realised-tag)
            STORE.save(f"planning_curve_realised{args.tag}", real)
        STORE.save(f"planning_curve_planned{args.tag}", plan)
        lines = ["# Gold size for 90 % of the large-sample EG area: planned from a pilot of 100 vs realised",
                 "", f"Realised: {args.curve_reps} simulations per gold size; planned: `gold_learning_curve` on "
                 f"{args.reps} pilots ({'defaults' if args.n_repeats is None else f'n_repeats={args.n_repeats}'}); embedding dimension d = {args.curve_d}. Share = EG area / the true-psi ranking's EG area.", ""]
        for sc in scen:
            g = real[real.scenario == sc].groupby("n_gold")["share"]
            means, ses = g.mean(), g.sem()
            target = 0.9 * means.loc[CURVE_SIZES[-1]]
            m90 = crossing(means.index.to_numpy(), means.to_numpy(), target)
            p = plan[plan.scenario == sc]
            within = np.mean(np.abs(p.planned / m90 - 1) <= 0.3)
            covered = np.mean((p.low <= m90) & (m90 <= p.high))
            within_power = np.mean(np.abs(p.planned_power / m90 - 1) <= 0.3)
            lines += [f"## {sc}", "", "| gold | EG share of the true-psi ranking (MC SE) |", "|---|---|"]
            lines += [f"| {m} | {means.loc[m]:.4f} ({ses.loc[m]:.4f}) |" for m in means.index]
            lines += ["", f"Realised m90 (90 % of the value at {CURVE_SIZES[-1]}): {m90:.0f}. Planned (per pilot): "
                      + ", ".join(f"{v:.0f}" for v in p.planned) + f"; median {p.planned.median():.0f}; within "
                      f"+-30 % of the realised size: {within:.2f}; pilot intervals covering it: {covered:.2f}.",
                      "", "The inverse power law (`method='power'`) on the same refits: "
                      + ", ".join(f"{v:.0f}" for v in p.planned_power) + f"; median {p.planned_power.median():.0f}; "
                      f"within +-30 %: {within_power:.2f}.", ""]
        lines.append(f"Wall time {time.perf_counter() - t0:.0f} s on {args.n_jobs} workers.")
        write_summary_section(SUMMARY, f"planning_curve{args.tag}", "\n".join(lines) + "\n")
    elif args.what == "power":
        scen = args.scenarios.split(",")
        rows = [row for cell in Parallel(n_jobs=args.n_jobs)(delayed(power_cell)(sc, args.reps, args.sim_reps)
                                                             for sc in scen) for row in cell]
        df = pd.DataFrame(rows)
        STORE.save(f"planning_power{args.tag}", df)
        lines = [
            f"# Planned against simulated power of the bias t-test ({args.reps} pilots, {args.sim_reps} tests per size)",
            "",
            "Pilot: 100 gold, 4,400 preference labels; `plan_gold(pilot, effect=...)` with the test's own target "
            "(mean bias at the population value of the variance-matching c, from 200,000 queries; it differs from "
            "the simulation's mean bias E[Delta]/c when the bias is heterogeneous: column 'E[Delta]/c'). "
            "Simulated: `bias_ttest(paired=False, scale='variance')` at the 5 % level on fresh studies with m "
            "gold labels.",
            "",
            "| scenario | test's target (E[Delta]/c) | m | planned power: mean over pilots (SD) | "
            "simulated power (MC SE) | planned - simulated |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(f"| {r['scenario']} | {r['effect']:.3f} ({r['true_mean_bias']:.3f}) | {r['n_gold']} | {r['predicted_mean']:.3f} "
                         f"({r['predicted_sd_over_pilots']:.3f}) | {r['simulated']:.3f} ({r['simulated_mc_se']:.3f}) | "
                         f"{r['predicted_mean'] - r['simulated']:+.3f} |")
        lines += ["", f"Wall time {time.perf_counter() - t0:.0f} s on {args.n_jobs} workers."]
        write_summary_section(SUMMARY, f"planning_power{args.tag}", "\n".join(lines) + "\n")
    elif args.what == "unbiased":
        rows = Parallel(n_jobs=args.n_jobs)(delayed(one_unbiased)(1000 + r, args) for r in range(args.reps))
        df = pd.DataFrame(rows)
        STORE.save(f"planning_unbiased{args.tag}", df)
        lines = [
            f"# Mean bias with the design's probabilities known, ignored, estimated ({args.reps} replications)",
            "",
            f"Scenario `{args.scenario}`, pool {args.pool} queries, d = {args.d}; "
            + ("four batches of 25 gold labels (first uniform, then "
               f"`{args.strategy}`, uniform share {args.uniform_share})" if args.design == "active" else
               f"one batch of 100 gold labels, pi proportional to {args.uniform_share} uniform + "
               f"{1 - args.uniform_share:g} exp(1.5 z1)") + "; true c. Target: mean of "
            "Delta(x) over the pool (preference units). Cells: mean (Monte Carlo SE).",
            "",
            "| propensity | mean error | SD of error | RMSE | coverage of ate_interval (95 %) |",
            "|---|---|---|---|---|",
        ]
        for name in ("known", "ignored_share", "estimated"):
            e = df[f"{name}_err"]
            lines.append(f"| {name} | {mc(e)} | {e.std(ddof=1):.4f} | {np.sqrt(np.mean(e**2)):.4f} | "
                         f"{mc(df[f'{name}_cover'])} |")
        lines += ["", f"Largest / smallest inverse-probability weight among labelled queries: median "
                      f"{df.max_weight_ratio.median():.2f}, max {df.max_weight_ratio.max():.2f}.",
                  f"Wall time {time.perf_counter() - t0:.0f} s on {args.n_jobs} workers."]
        write_summary_section(SUMMARY, f"planning_unbiased{args.tag}", "\n".join(lines) + "\n")
    else:
        scen = args.scenarios.split(",")
        jobs = [(2000 + r, sc) for sc in scen for r in range(args.reps)]
        rows = Parallel(n_jobs=args.n_jobs)(delayed(one_active)(seed, sc, args) for seed, sc in jobs)
        df = pd.DataFrame(rows)
        STORE.save(f"planning_active{args.tag}", df)
        lines = [
            f"# Active selection (4 x 25 gold) against random gold ({args.reps} replications per scenario)",
            "",
            f"Pool 4,500 queries, d = 50; `{args.strategy}` score, uniform share {args.uniform_share}. EG area over "
            "rates 0.2-0.8 on 2,000 test queries scored with the true psi. Cells: mean (Monte Carlo SE); "
            "differences are paired within a replication.",
            "",
            "| scenario | active 100 | random 100 | random 150 | active - random 100 | active - random 150 | "
            "share of oracle (active / r100 / r150) |",
            "|---|---|---|---|---|---|---|",
        ]
        for sc, g in df.groupby("scenario", sort=False):
            o = g.oracle_area.mean()
            lines.append(
                f"| {sc} | {mc(g.active_100_area)} | {mc(g.random_100_area)} | {mc(g.random_150_area)} | "
                f"{mc(g.active_100_area - g.random_100_area)} | {mc(g.active_100_area - g.random_150_area)} | "
                f"{g.active_100_area.mean() / o:.3f} / {g.random_100_area.mean() / o:.3f} / "
                f"{g.random_150_area.mean() / o:.3f} |")
        lines += ["", f"Wall time {time.perf_counter() - t0:.0f} s on {args.n_jobs} workers "
                      f"(median {df.seconds.median():.0f} s per replication)."]
        write_summary_section(SUMMARY, f"planning_active{args.tag}", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
