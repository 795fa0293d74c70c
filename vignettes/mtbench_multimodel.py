"""Vignette (d): multi-model routing with token prices, on MT-Bench.

Run::

    python vignettes/mtbench_multimodel.py ../shared/data/mtbench --out vignettes_out [--small]

Writes ``mtbench_multimodel.html`` into ``--out``. (The bias of the GPT-4 judge itself is
vignette (b), ``mtbench_bias.py``.)

Multi-model routing among the six models with gpt-3.5-turbo as the reference:
   one Meta-router per model on its gains over gpt-3.5-turbo (gold: humans; preference:
   GPT-4), cross-fitted by question (5 folds: each question's two items are predicted by
   routers that never saw that question), then the cost-quality frontier on the items
   where humans judged every model against the reference. For contrast,
   "gpt4-judge-verdicts" routes by the GPT-4 judge's own verdict on each test item
   (it sees the answers of the item, which no router of queries can): it bounds what a
   preference label can tell before any learning.

ASSUMPTIONS (illustrative, not quotes): prices in USD per million tokens, input /
output, chosen to resemble public list prices of the time: gpt-4 30 / 60,
claude-v1 8 / 24, gpt-3.5-turbo 0.5 / 1.5, and 0.2 / 0.2 for the three 13B open
models served by a hosting provider. The files carry no answers, so output lengths
are assumed: 400 tokens for every model; input tokens = 1.3 x the item's words.
With a few dozen fully judged items, the frontier is an illustration, not evidence.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import metarouter_stats as mrs  # noqa: E402
from metarouter_stats.cate import DRBiasLearner  # noqa: E402
from metarouter_stats.datasets import embed_texts, load_mtbench  # noqa: E402
from metarouter_stats.datasets.mtbench import MTBENCH_MODELS  # noqa: E402
from metarouter_stats.report import Report  # noqa: E402

PRICES = {  # ASSUMPTION: illustrative prices per million tokens (input, output)
    "gpt-4": (30.0, 60.0),
    "claude-v1": (8.0, 24.0),
    "gpt-3.5-turbo": (0.5, 1.5),
    "vicuna-13b-v1.2": (0.2, 0.2),
    "alpaca-13b": (0.2, 0.2),
    "llama-13b": (0.2, 0.2),
}
OUTPUT_TOKENS = 400  # ASSUMPTION: answer length of every model
REFERENCE = "gpt-3.5-turbo"


def routing(path: Path, *, dim: int = 10, folds: int = 5, seed: int = 0) -> dict:
    models = list(MTBENCH_MODELS)
    others = [m for m in models if m != REFERENCE]
    per_model = {m: load_mtbench(path, primary=m, alternative=REFERENCE, dim=dim) for m in others}
    texts = per_model[others[0]].texts
    ids = sorted(texts, key=lambda s: tuple(map(int, s.split("-"))))
    emb = pd.DataFrame(embed_texts([texts[q] for q in ids], dim=dim), index=ids)
    # long format: one row per (item, model, mechanism)
    long = []
    for m, mt in per_model.items():
        d = mt.data
        long.append(pd.DataFrame({"query_id": d.query_ids, "model": m, "gain": d.outcome, "source": d.source}))
    long = pd.concat(long, ignore_index=True)
    qids = np.array([int(q.split("-")[0]) for q in ids])
    fold_of = dict(zip(np.unique(qids), np.random.default_rng(seed).permutation(np.unique(qids).size) % folds,
                       strict=True))
    costs = {m: mrs.TokenCost(*PRICES[m]) for m in models}
    n_in = np.array([1.3 * len(texts[q].split()) for q in ids])
    pred = pd.DataFrame(0.0, index=ids, columns=models)
    for f in range(folds):
        test = [q for q in ids if fold_of[int(q.split("-")[0])] == f]
        train = long[~long["query_id"].isin(test)]
        router = mrs.MultiModelRouter(models, REFERENCE, costs=costs,
                                      router=mrs.MetaRouter(cate=DRBiasLearner(cv=3, propensity="estimate")), random_state=seed)
        router.fit(emb.loc[train["query_id"]].to_numpy(), train["gain"].to_numpy(),
                   source=train["source"].to_numpy(), model=train["model"].to_numpy())
        pred.loc[test] = router.predict_gain(emb.loc[test].to_numpy()).to_numpy()
    gold = long[long.source == 1].pivot_table(index="query_id", columns="model", values="gain")
    full = gold.dropna().index
    G = np.column_stack([np.zeros(len(full)) if m == REFERENCE else gold.loc[full, m].to_numpy() for m in models])
    C = mrs.cost_matrix(costs, models, n_in=pd.Series(n_in, index=ids).loc[full].to_numpy(),
                        n_out=np.full((len(full), len(models)), OUTPUT_TOKENS))
    pb = long[long.source == 0].pivot_table(index="query_id", columns="model", values="gain").reindex(full)
    P = np.column_stack([np.zeros(len(full)) if m == REFERENCE else pb[m].fillna(0).to_numpy() for m in models])
    frontier = mrs.cost_quality_frontier(G, C, {"meta-router": pred.loc[full].to_numpy(), "gpt4-judge-verdicts": P})
    return {"frontier": frontier, "n_items": int(len(full)), "models": models}


def run(path: str | Path, out: str | Path, *, small: bool = False, seed: int = 0) -> Report:
    """Cross-fitted multi-model routing, the frontier and ``out/mtbench_multimodel.html``."""
    out = Path(out)
    res = routing(Path(path), dim=10, folds=3 if small else 5, seed=seed)
    front = res["frontier"]
    rep = Report("Vignette: multi-model routing with token prices (MT-Bench)")
    rep.section("The decision")
    rep.markdown(
        f"""
        Six models answer every MT-Bench item. For each model k the Meta-router learns its gold gain
        psi_k(x) over the reference gpt-3.5-turbo from expert votes, corrected for the GPT-4 judge's bias;
        a query goes to the model that maximises psi_k(x) - w C_k(x), with C_k(x) the model's token cost
        and w the price of a dollar in quality units. Sweeping w traces a cost-quality frontier;
        `mrs.calibrate_weight` turns a budget into a w.

        Routers are cross-fitted over questions ({3 if small else 5} folds) and evaluated on the {res['n_items']} items where
        experts judged every model against the reference.
        """
    )
    rep.section("Prices: ASSUMPTIONS")
    rep.markdown(
        f"""
        The files carry no answers or token counts. Prices are illustrative list prices of the time
        (USD per million tokens, not quotes); every model is assumed to answer with {OUTPUT_TOKENS}
        tokens; input tokens are 1.3 x the item's words.
        """
    )
    rep.table(pd.DataFrame([(m, *PRICES[m]) for m in res["models"]],
                           columns=["model", "input $/M tokens", "output $/M tokens"]), digits=2)
    rep.section("Cost-quality frontier")
    areas = front.areas
    rep.markdown(
        f"""
        AIQ = mean gold quality over the cost range from all-cheapest to all-most-expensive (higher is
        better): oracle {areas['oracle']:.3f}, Meta-router {areas['meta-router']:.3f}, routing by the GPT-4
        judge's own verdicts on each item {areas['gpt4-judge-verdicts']:.3f} (it sees the answers, which no
        router of queries can), random {areas['random']:.3f}. With a few dozen fully judged items this is an
        illustration of the workflow, not evidence.
        """
    )
    rep.table(areas.rename("AIQ").reset_index().rename(columns={"index": "router"}), digits=4)
    ax = front.plot()
    ax.set_xscale("symlog", linthresh=1e-4)
    rep.figure(ax.figure, "Mean expert-judged gain over gpt-3.5-turbo against mean cost per query (USD).")
    rep.results.update(frontier=front, n_items=res["n_items"])
    rep.save(out / "mtbench_multimodel.html")
    return rep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder with human.jsonl, gpt4_pair.jsonl, question.jsonl")
    parser.add_argument("--out", default="vignettes_out")
    parser.add_argument("--small", action="store_true", help="3 folds instead of 5, as in CI")
    args = parser.parse_args()
    rep = run(args.data, args.out, small=args.small)
    print(f"Cost-quality frontier on {rep.results['n_items']} fully judged items; AIQ (mean quality over budgets):")
    print(rep.results["frontier"].areas.round(4).to_string())
    print(f"wrote {Path(args.out) / 'mtbench_multimodel.html'}")


if __name__ == "__main__":
    main()
