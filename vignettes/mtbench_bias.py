"""Vignette (b): MT-Bench. Is GPT-4 a biased judge of gpt-4, and what does correcting it buy?

Run (needs the MT-Bench files: human.jsonl, gpt4_pair.jsonl, question.jsonl)::

    python vignettes/mtbench_bias.py ../shared/data/mtbench --out vignettes_out [--small]

Writes ``mtbench_bias.html`` into ``--out``.

The numbers (MT-Bench as distributed by LMSYS, 6 models, expert votes = gold, GPT-4
pairwise verdicts = preference): on the 130 items of gpt-4 vs gpt-3.5-turbo judged by
both, the paired t-test gives a mean bias (human minus GPT-4 vote, in [-2, 2]) of
**-0.369, 95 % CI [-0.512, -0.226], p = 1.1e-6**: the GPT-4 judge credits gpt-4 with a
larger advantage over gpt-3.5-turbo than the experts do. The bias is of the same sign
against every other model.

What correcting buys is measured by cross-fitting over questions (5 folds: every item is
scored by routers that never saw its question) and computing the efficiency gain of each
router's ranking against the experts' votes on the gold-labelled items. With 160 items and
TF-IDF features of the question text the EG bands are wide: read them as an illustration of
the workflow on real data, not as evidence for one router over another.

The gold-efficient section evaluates the same cross-fitted routers on all 160 items with
``evaluate_routers``: GPT-4 verdicts corrected by each fold's Meta-router (and its prediction)
as pseudo-gold, rectified by the expert votes, routers compared paired on the same items. The
DR Meta-router's EG area over rates 0.2-0.8 exceeds gold-only routing's by 0.037 per item
(95 % CI 0.006 to 0.069, p = 0.02); against preference-only, pooled and mean-shift no
difference is significant at 5 %. With 130 of the 160 items already voted on by experts the
GPT-4 labels add little precision (the effective number of expert votes is the 130 there
are).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import clone  # noqa: E402

import metarouter_stats as mrs  # noqa: E402
from metarouter_stats.cate import DRBiasLearner, RBiasLearner  # noqa: E402
from metarouter_stats.datasets import load_mtbench  # noqa: E402
from metarouter_stats.datasets.mtbench import MTBENCH_MODELS  # noqa: E402
from metarouter_stats.report import Report  # noqa: E402

NAME = "mtbench_bias"


def bias_tests(path: str | Path) -> pd.DataFrame:
    """Paired t-test of human minus GPT-4 votes for gpt-4 against each other model."""
    rows = []
    for weak in MTBENCH_MODELS[1:]:
        mt = load_mtbench(path, primary="gpt-4", alternative=weak)
        res = mrs.bias_ttest(mt.data)  # the pairs, at c = 1: both votes use one coding (the loader declares it)
        low, high = res.confidence_interval()
        rows.append({"primary": "gpt-4", "alternative": weak, "items": res.n_gold, "bias": res.estimate,
                     "ci_low": low, "ci_high": high, "p_value": res.p_value})
    return pd.DataFrame(rows)


def cross_fitted_gains(mt, routers: dict, *, folds: int = 5, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Out-of-fold predicted gains of every router on the gold-labelled items, folds by question."""
    data = mt.data
    qid = np.array([int(q.split("-")[0]) for q in data.query_ids])
    questions = np.unique(qid)
    fold_of = dict(zip(questions, np.random.default_rng(seed).permutation(questions.size) % folds, strict=True))
    fold = np.array([fold_of[q] for q in qid])
    gold_rows = np.flatnonzero(data.is_gold)
    pred = pd.DataFrame(index=data.query_ids[gold_rows], columns=list(routers), dtype=float)
    for f in range(folds):
        train = data.subset(fold != f)
        test_rows = gold_rows[fold[gold_rows] == f]
        for name, proto in routers.items():
            router = clone(proto).fit(train)
            pred.loc[data.query_ids[test_rows], name] = router.predict_gain(data.with_feature_names(data.X[test_rows]))
    return pred, data.outcome[gold_rows]


def cross_fitted_items(mt, routers: dict, *, folds: int = 5, seed: int = 0) -> dict:
    """Every item (gold-labelled or not) scored by routers fitted without its question, and its
    pseudo-gold from the fold's DR Meta-router: the corrected GPT-4 label and psi_hat(x)."""
    data = mt.data
    items = pd.unique(data.query_ids)
    first = {q: i for i, q in reversed(list(enumerate(data.query_ids)))}
    X = data.X[[first[q] for q in items]]
    gold = pd.Series(data.outcome[data.is_gold], index=data.query_ids[data.is_gold]).reindex(items).to_numpy()
    pref = pd.Series(data.outcome[~data.is_gold], index=data.query_ids[~data.is_gold]).reindex(items).to_numpy()
    qid = np.array([int(q.split("-")[0]) for q in data.query_ids])
    questions = np.unique(qid)
    fold_of = dict(zip(questions, np.random.default_rng(seed).permutation(questions.size) % folds, strict=True))
    fold = np.array([fold_of[q] for q in qid])
    item_fold = np.array([fold_of[int(q.split("-")[0])] for q in items])
    scores = {name: np.empty(items.size) for name in routers}
    f_label, f_pred = np.empty(items.size), np.empty(items.size)
    for f in range(folds):
        train = data.subset(fold != f)
        rows = item_fold == f
        for name, proto in routers.items():
            router = clone(proto).fit(train)
            Xf = data.with_feature_names(X[rows])
            scores[name][rows] = router.predict_gain(Xf)
            if name == "meta-dr":
                f_label[rows] = mrs.pseudo_gold(router, Xf, pref[rows])
                f_pred[rows] = mrs.pseudo_gold(router, Xf)
    return {"items": items, "gold": gold, "preference": pref, "scores": scores,
            "pseudo_gold": np.column_stack([f_label, f_pred])}


def run(path: str | Path, out: str | Path, *, small: bool = False, seed: int = 0) -> Report:
    """Bias tests, cross-fitted routing comparison and the analysis report; writes ``out/mtbench_bias.html``."""
    out = Path(out)
    n_boot = 100 if small else 1000
    tests = bias_tests(path)
    mt = load_mtbench(path, primary="gpt-4", alternative="gpt-3.5-turbo", dim=10)
    main_test = mrs.bias_ttest(mt.data)  # c = 1, declared: expert and GPT-4 votes are coded alike
    lo, hi = main_test.confidence_interval()

    rep = Report("Vignette: MT-Bench. Is GPT-4 a biased judge of gpt-4?")
    rep.section("The data")
    rep.markdown(
        f"""
        MT-Bench (Zheng et al., 2023): 80 multi-turn questions, answers of six models, pairwise votes of
        experts (gold) and of GPT-4 as a judge (preference). A query is a (question, turn) item. The gain
        of gpt-4 over gpt-3.5-turbo on an item is the average vote: +1 gpt-4 better, 0 tie, -1 worse
        (GPT-4's "tie (inconsistent)", a verdict that flips when the answers swap places, counts as a tie).
        {mt.data.n_gold} items carry expert votes and {mt.data.n_preference} a GPT-4 verdict;
        {len(mt.paired)} carry both.
        """
    )
    rep.section("Is the judge biased? The paired t-test")
    rep.markdown(
        f"""
        On the {main_test.n_gold} items with both labels, the mean of human minus GPT-4 gain is
        {main_test.estimate:.3f} (95 % CI {lo:.3f} to {hi:.3f}; t = {main_test.statistic:.2f},
        df = {main_test.df:.0f}, p = {main_test.p_value:.1e}). GPT-4 as a judge credits gpt-4 with a larger
        advantage over gpt-3.5-turbo than the experts do. Against every other model the bias has the
        same sign:
        """
    )
    rep.table(tests, digits=4)
    rep.results.update(bias_tests=tests, bias_ttest=main_test)

    rep.section("What does correcting the bias buy?")
    routers = {
        "meta-dr": mrs.MetaRouter(cate=DRBiasLearner(cv=3), random_state=seed),
        "meta-r": mrs.MetaRouter(cate=RBiasLearner(cv=3), random_state=seed),
        "gold-only": mrs.GoldOnlyRouter(random_state=seed),
        "preference-only": mrs.PreferenceOnlyRouter(random_state=seed),
        "pooled": mrs.PooledRouter(random_state=seed),
        "mean-shift": mrs.MeanShiftRouter(random_state=seed),
    }
    pred, gold = cross_fitted_gains(mt, routers, folds=3 if small else 5, seed=seed)
    bands = {name: mrs.efficiency_gain_interval(gold, pred[name].to_numpy(), n_boot=n_boot, rng=seed + k)
             for k, name in enumerate(routers)}
    curves = {name: mrs.efficiency_gain(gold, pred[name].to_numpy()) for name in routers}
    table = pd.DataFrame(
        {"router": list(routers),
         "EG@0.5 per item": [bands[n].estimate[3] for n in routers],
         "95% low": [bands[n].low[3] for n in routers],
         "95% high": [bands[n].high[3] for n in routers],
         "share of test-label oracle area": [curves[n].auc_relative for n in routers]}
    )
    best = table.sort_values("share of test-label oracle area", ascending=False).iloc[0]
    overlap = bool(table["95% low"].max() < table["95% high"].min())
    verdict = (
        "At rho = 0.5 the 95 % test-set bands of all routers overlap: on MT-Bench the judge's bias is clear, "
        "the routing benefit of correcting it is not measurable with this many items."
        if overlap else
        "At rho = 0.5 the 95 % bands of some routers do not overlap; with this many items, still read the "
        "ordering with care (the bands hold the fitted routers fixed)."
    )
    rep.markdown(
        f"""
        Each router is cross-fitted over questions ({3 if small else 5} folds: fitted without one fold of the
        questions, it scores the expert-labelled items of the left-out questions; {gold.size} items). EG(rho) is the experts' gain
        of sending the top-rho share of items to gpt-4 minus a random router's. The best area share is
        {best['share of test-label oracle area']:.2f} ({best['router']}). {verdict}
        """
    )
    rep.table(table, digits=3)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, band in bands.items():
        band.plot(ax=ax, label=name)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("share of items sent to gpt-4")
    ax.set_ylabel("EG per item (expert votes)")
    ax.legend(fontsize=8)
    rep.figure(fig, "Cross-fitted efficiency gain on MT-Bench with 95 % test-set bootstrap bands.")
    rep.results.update(eg_bands=bands, eg_curves=curves, eg_table=table)

    rep.section("Gold-efficient evaluation: GPT-4 labels, rectified by the expert votes")
    ev_items = cross_fitted_items(mt, routers, folds=3 if small else 5, seed=seed)
    ev = mrs.evaluate_routers(ev_items["scores"], ev_items["gold"], pseudo_gold=ev_items["pseudo_gold"],
                              n_boot=n_boot, rng=seed)
    comps = pd.DataFrame([
        {"comparison": f"meta-dr - {b}", "area difference": c.area.estimate, "95% low": c.area.low,
         "95% high": c.area.high, "p (area)": c.area.p_value, "p (any rate 0.2-0.8)": c.uniform_p_value,
         "gold-only SE": c.area.gold_only_std_error, "SE": c.area.std_error}
        for b in ("preference-only", "pooled", "mean-shift", "gold-only")
        for c in [ev.compare("meta-dr", b)]
    ])
    mid = int(np.argmin(np.abs(ev.rates - 0.5)))
    eff = ev.effective_gold[list(ev.names).index("meta-dr"), mid]
    decided = comps[(comps["p (area)"] < 0.05)]
    rep.markdown(
        f"""
        All {ev.n_eval} items carry a GPT-4 verdict and {ev.n_gold} an expert vote. `evaluate_routers` estimates
        each router's EG from the GPT-4 verdicts corrected by the fold's Meta-router
        ((y + Delta_hat(x)) / c) and its prediction psi_hat(x), rectified by the expert votes
        (prediction-powered inference; each fold's corrections were fitted without its questions), so every item
        counts, and compares routers **paired** on the same items. Assumption: the expert-voted items are a
        random subset of the items (probability {ev.n_gold / ev.n_eval:.2f} each). Target: the value of the
        cross-fitted routers on MT-Bench-like items, conditional on them.

        Does correcting the judge buy routing quality? Area under EG over rates 0.2-0.8 of meta-dr minus each
        baseline: {("significant at 5 % against " + ", ".join(c.split(" - ")[1] for c in decided["comparison"]))
                   if len(decided) else "no difference is significant at 5 %"}. At rate 0.5 the evaluation is worth
        {eff:.0f} expert-voted items for meta-dr (it has {ev.n_gold}): with most items already voted on by experts
        the GPT-4 labels add little precision here; they matter when experts label a small share.
        """
    )
    rep.table(comps, digits=3)
    ax = ev.plot(routers=["meta-dr", "pooled", "preference-only"])
    rep.figure(ax.figure, "Prediction-powered EG per item with 95 % pointwise bands (meta-dr, pooled, preference-only).")
    rep.results.update(router_evaluation=ev, router_comparisons=comps)

    rep.section("Diagnostics on all items")
    rep.markdown(
        """
        The package's analysis report on every labelled item (no test set: the routing comparison above
        replaces it): scale constants, overlap of gold and preference items (all items were judged by
        GPT-4, so overlap is good by design) and the estimated bias function with its bands.
        """
    )
    rep.extend(mrs.build_report(mt.data, n_boot=n_boot, rng=seed,
                          title="MT-Bench gpt-4 vs gpt-3.5-turbo"), key="analysis")
    rep.save(out / f"{NAME}.html")
    return rep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder with human.jsonl, gpt4_pair.jsonl, question.jsonl")
    parser.add_argument("--out", default="vignettes_out")
    parser.add_argument("--small", action="store_true", help="3 folds and fewer bootstrap replicates, as in CI")
    args = parser.parse_args()
    rep = run(args.data, args.out, small=args.small)
    res = rep.results["bias_ttest"]
    lo, hi = res.confidence_interval()
    print(f"gpt-4 vs gpt-3.5-turbo: bias (human - GPT-4) {res.estimate:.3f}, 95% CI [{lo:.3f}, {hi:.3f}], "
          f"p = {res.p_value:.2g}, {res.n_gold} items")
    print(rep.results["eg_table"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {Path(args.out) / (NAME + '.html')}")


if __name__ == "__main__":
    main()
