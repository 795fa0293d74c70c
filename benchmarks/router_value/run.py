"""Coverage, efficiency and decisions of prediction-powered router evaluation (issue 15).

Per scenario (``paper``, ``nonlinear_bias``, ``selection``) one training set (100 gold, 4,400
preference rows) fits the DR Meta-router and the pooled router **once**: the target is the
value of these fixed routers. Their true EG(rho) per query is computed from the simulation's
true psi on a fresh population of 200,000 queries. Each replication then draws a new
evaluation set of 2,000 queries with preference labels on all of them and gold labels on a
subset, ``--gold`` of them on average: at random (``paper``, ``nonlinear_bias``) or, on
``selection``, requested with probability proportional to a mixture of the uniform design
(share ``--selection-mix``, default 0.5) and exp(1.5 z1) (known by design and passed as
``gold_probability``); the mixture keeps every probability at least half the uniform one, as
a sound labelling design does. ``--selection-mix 0`` is the pure tilt, whose probabilities
go down to 1/5,000 of the uniform one (a stress case: inverse weights up to about 10^4). The pseudo-gold is either the Meta-router's corrected
preference label ``(y + Delta_hat(x)) / c`` (``label``), the Meta-router's own prediction
psi_hat(x) (``prediction``), or both as two columns with a lambda each (``both``); none was
fitted on evaluation rows. ``oracle`` uses the true psi(x): the bound on what any pseudo-gold
can buy, since the gold labels' own noise stays in the rectifier.

Recorded per cell: coverage of the 95 % pointwise intervals (EG at 0.3 / 0.5 / 0.7, averaged),
the uniform band over 0.2..0.8, the meta-minus-pooled difference (pointwise and uniform), the
area over [0.2, 0.8] and the mean gold gain ``mean_gain()`` (E[g], true value the mean of psi on
the population), each with its Monte Carlo SE; the SE ratio against gold-only
evaluation on the same gold rows (lambda = 0), the effective gold size, the classic
``efficiency_gain_interval`` on the gold rows only, and how often "Meta-router beats pooled"
(area difference, 5 % two-sided, right sign) is detected by each.

Run::

    python benchmarks/router_value/run.py --reps 200 --gold 50,200 --n-jobs 2
    python benchmarks/router_value/run.py --reps 200 --gold 100 --scenarios paper --tag _paper100
    python benchmarks/router_value/run.py --timing
    python benchmarks/router_value/run.py --reps 200 --gold 25 --variants label,both --tag _gold25 --n-jobs 2
    python benchmarks/router_value/run.py --reps 200 --gold 100 --scenarios paper --variants label,both \
        --train-gold 1000 --tag _paper100_train1000

``--train-gold`` sets the training set's gold rows (default 100): the better the bias model
behind the pseudo-gold, the closer the interval gets to the ``oracle`` bound.

Writes the chunk ``router_value{tag}`` of ``results.csv.gz`` and its section of ``summary.md``. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
from metarouter_stats.simulation import standardise

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"
RATES = np.round(np.linspace(0.0, 1.0, 21), 10)
POINTS = [6, 10, 14]  # rho = 0.3, 0.5, 0.7
LIVE = (RATES > 0.2 - 1e-9) & (RATES < 0.8 + 1e-9)  # the uniform bands' default range
N_EVAL = 2000
SCENARIO_SEED = {"paper": 1, "nonlinear_bias": 2, "selection": 3}


def fixed_routers(scenario: str, train_gold: int = 100) -> dict:
    s = mrs.simulate(n_gold=train_gold, n_preference=4400, n_test=10, scenario=scenario, rng=11)
    meta = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    pooled = mrs.PooledRouter(random_state=0).fit(s.train)
    pop = mrs.simulate(n_gold=2, n_preference=2, n_test=200_000, scenario=scenario, rng=99)
    psi = pop.psi(pop.X_test)
    truth = {name: mrs.efficiency_gain(psi, r.predict_gain(pop.X_test), rates=RATES).per_query
             for name, r in (("meta", meta), ("pooled", pooled))}
    # how much of psi's variance the Meta-router's prediction explains on the population (the pseudo-gold's quality)
    r2 = 1 - float(np.mean((meta.predict_gain(pop.X_test) - psi) ** 2) / np.var(psi))
    return {"meta": meta, "pooled": pooled, "truth": truth, "study": s, "r2": r2, "mean": float(psi.mean())}


def one_rep(scenario: str, fixed: dict, n_gold: int, rep: int, variant: str, mix: float = 0.5) -> dict:
    rng = np.random.default_rng([SCENARIO_SEED[scenario], n_gold, rep])
    ev_study = mrs.simulate(n_gold=2, n_preference=2, n_test=N_EVAL, scenario=scenario,
                            rng=int(rng.integers(2**31)))
    X, g_full = ev_study.X_test, ev_study.gold_test
    y = ev_study.draw_preference(X, rng)
    if scenario == "selection":
        w = np.exp(1.5 * standardise(X)[:, 0])
        tilt = w / w.mean()
        pi = np.minimum(1.0, (mix + (1 - mix) * tilt) * n_gold / N_EVAL)
    else:
        pi = np.full(N_EVAL, n_gold / N_EVAL)
    labelled = rng.random(N_EVAL) < pi
    gold = np.where(labelled, g_full, np.nan)
    meta, pooled = fixed["meta"], fixed["pooled"]
    if variant == "oracle":  # the true psi: the bound any pseudo-gold can reach (gold noise remains)
        f = ev_study.psi(X)
    elif variant == "both":
        f = np.column_stack([mrs.pseudo_gold(meta, X, y), mrs.pseudo_gold(meta, X)])
    else:
        f = mrs.pseudo_gold(meta, X, y if variant == "label" else None)
    scores = {"meta": meta.predict_gain(X), "pooled": pooled.predict_gain(X)}
    ev = mrs.evaluate_routers(scores, gold, pseudo_gold=f, gold_probability=pi if scenario == "selection" else None,
                              rates=RATES, n_boot=500, rng=rep)
    truth = fixed["truth"]
    lo, hi = ev.confidence_interval()
    out = {"scenario": scenario, "n_gold": n_gold, "variant": variant, "rep": rep, "n_gold_realised": ev.n_gold,
           "psi_hat_r2": fixed["r2"]}
    t = truth["meta"]
    out["cover_point"] = float(np.mean([(lo[0, k] <= t[k] <= hi[0, k]) for k in POINTS]))
    ub = ev.band("meta", "uniform")
    ulo, uhi = ub.low, ub.high
    out["cover_uniform"] = bool(np.all((ulo[LIVE] <= t[LIVE]) & (t[LIVE] <= uhi[LIVE])))
    comp = ev.compare("meta", "pooled")
    d = truth["meta"] - truth["pooled"]
    out["cover_diff_point"] = float(np.mean([(comp.pointwise.low[k] <= d[k] <= comp.pointwise.high[k]) for k in POINTS]))
    out["cover_diff_uniform"] = bool(np.all((comp.uniform.low[LIVE] <= d[LIVE]) & (d[LIVE] <= comp.uniform.high[LIVE])))
    inside = (RATES >= 0.2 - 1e-9) & (RATES <= 0.8 + 1e-9)
    true_area = float(np.trapezoid(t[inside], RATES[inside]))
    area = ev.area("meta")
    out["cover_area"] = bool(area.low <= true_area <= area.high)
    mg = ev.mean_gain()  # E[g] over the query law (its true value: the mean of psi on the population)
    out["cover_mean_gain"] = bool(mg.low <= fixed["mean"] <= mg.high)
    true_darea = float(np.trapezoid(d[inside], RATES[inside]))
    out["cover_area_diff"] = bool(comp.area.low <= true_darea <= comp.area.high)
    out["se_ratio_eg05"] = float(ev.std_error[0, 10] / ev.gold_only_std_error[0, 10])
    out["effective_gold_eg05"] = float(ev.effective_gold[0, 10])
    out["half_width_eg05"] = float((hi[0, 10] - lo[0, 10]) / 2)
    # gold-only evaluation with its own small-sample rule (one tuned coefficient, its own df)
    out["half_width_gold_only_eg05"] = float(stats.t.ppf(0.975, ev.gold_only_df[0, 10]) * ev.gold_only_std_error[0, 10])
    out["guard_eg05"] = bool(np.all(ev.power[0, 10] == 0.0))  # the small-sample guard chose gold-only
    sign = np.sign(true_darea)
    out["detect_ppi"] = bool(comp.area.p_value < 0.05 and np.sign(comp.area.estimate) == sign)
    out["detect_gold_only"] = _gold_only_detect(ev, sign)
    # the classic test-set band on the gold rows only (fully labelled subset, router fixed)
    if labelled.sum() >= 10:
        classic = mrs.efficiency_gain_interval(g_full[labelled], scores["meta"][labelled], rates=[0.5], n_boot=300, rng=rep,
                                               normalise="per_query")
        out["half_width_classic_eg05"] = float((classic.high[0] - classic.low[0]) / 2)
    else:
        out["half_width_classic_eg05"] = np.nan
    return out


def _gold_only_detect(ev, sign: float) -> bool:
    """Area difference meta - pooled estimated from gold labels only (lambda = 0, beta tuned)."""
    w = ev._trapezoid(0.2, 0.8)  # the package's own area weights
    kappa = np.zeros((2, ev.rates.size))
    kappa[0], kappa[1] = w, -w
    _, _, gold = ev._contrast(kappa)
    _, _, infl0, df0 = ev._contrast_dof(kappa)  # gold-only's own small-sample rule, as the package applies it
    est, se = gold[0], np.std(gold[1:], ddof=1) * infl0
    p = 2 * stats.t.sf(abs(est) / se, df0) if se > 0 else 1.0
    return bool(p < 0.05 and np.sign(est) == sign)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key, grp in df.groupby(["scenario", "n_gold", "variant"], sort=False):
        r = dict(zip(["scenario", "n_gold", "variant"], key, strict=True))
        r["reps"] = len(grp)
        if "psi_hat_r2" in grp:
            r["psi_hat_r2"] = f"{grp['psi_hat_r2'].iloc[0]:.3f}"
        for col in ("cover_point", "cover_uniform", "cover_diff_point", "cover_diff_uniform", "cover_area",
                    "cover_area_diff", "cover_mean_gain", "detect_ppi", "detect_gold_only"):
            if col not in grp or grp[col].isna().all():  # chunks written before the column existed
                continue
            v = grp[col].astype(float)
            r[col] = f"{v.mean():.3f} ({v.std(ddof=1) / np.sqrt(len(v)):.3f})"
        r["se_ratio_eg05"] = f"{grp['se_ratio_eg05'].mean():.3f}"
        r["effective_gold_eg05"] = f"{grp['effective_gold_eg05'].mean():.0f}"
        r["half_width_eg05"] = f"{grp['half_width_eg05'].mean():.3f}"
        r["half_width_gold_only"] = f"{grp['half_width_gold_only_eg05'].mean():.3f}"
        r["half_width_classic"] = f"{grp['half_width_classic_eg05'].mean():.3f}"
        if "guard_eg05" in grp:
            r["gold_only_used_eg05"] = f"{grp['guard_eg05'].astype(float).mean():.3f}"
        rows.append(r)
    return pd.DataFrame(rows)


def timing() -> str:
    s = mrs.simulate(n_gold=100, n_preference=4400, n_test=5000, rng=0)
    t0 = time.process_time()
    meta = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    t_fit = time.process_time() - t0
    rng = np.random.default_rng(0)
    scores = {f"r{j}": meta.predict_gain(s.X_test) + rng.normal(scale=0.5 * j + 0.1, size=5000) for j in range(8)}
    gold = np.where(rng.random(5000) < 0.05, s.gold_test, np.nan)
    f = meta.predict_gain(s.X_test)
    t0 = time.process_time()
    mrs.evaluate_routers(scores, gold, pseudo_gold=f, rates=np.linspace(0, 1, 61), n_boot=1000, rng=0)
    t_eval = time.process_time() - t0
    return (f"- one default DR `MetaRouter` fit (100 gold, 4,400 preference, d = 50): {t_fit:.2f} s CPU\n"
            f"- `evaluate_routers`, 8 routers x 61 rates x 5,000 queries, 1,000 draws: {t_eval:.2f} s CPU "
            f"(ratio {t_eval / t_fit:.2f})\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--gold", default="50,200")
    ap.add_argument("--scenarios", default="paper,nonlinear_bias,selection")
    ap.add_argument("--variants", default="label,prediction,both")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--tag", default="")
    ap.add_argument("--timing", action="store_true")
    ap.add_argument("--selection-mix", type=float, default=0.5)
    ap.add_argument("--train-gold", type=int, default=100,
                    help="gold rows of the training set that fits the routers (and so the pseudo-gold)")
    args = ap.parse_args()
    if args.timing:
        text = "# Router evaluation timing\n\n`python benchmarks/router_value/run.py --timing`\n\n" + timing()
        write_summary_section(SUMMARY, "router_value_timing", text)
        print(text)
        return
    frames = []
    for scenario in args.scenarios.split(","):
        fixed = fixed_routers(scenario, args.train_gold)
        jobs = [(n, r, v) for n in (int(x) for x in args.gold.split(",")) for v in args.variants.split(",")
                for r in range(args.reps)]
        rows = Parallel(n_jobs=args.n_jobs)(delayed(one_rep)(scenario, fixed, n, r, v, args.selection_mix) for n, r, v in jobs)
        frames.append(pd.DataFrame(rows))
        print(summarise(frames[-1]).to_string(), flush=True)
    df = pd.concat(frames, ignore_index=True)
    STORE.save(f"router_value{args.tag}", df)
    table = summarise(df)
    head = (f"# Prediction-powered router evaluation: coverage, efficiency, decisions\n\n"
            f"`python benchmarks/router_value/run.py --reps {args.reps} --gold {args.gold} --scenarios {args.scenarios} "
            f"--variants {args.variants} --train-gold {args.train_gold} --selection-mix {args.selection_mix:g}`; routers trained on {args.train_gold} gold and "
            f"4,400 preference rows; evaluation sets of {N_EVAL} queries, 500 bootstrap draws, nominal 95 %; Monte Carlo SE in brackets.\n\n")
    write_summary_section(SUMMARY, f"router_value{args.tag}", head + table.to_markdown(index=False) + "\n")
    print(table.to_string())


if __name__ == "__main__":
    main()
