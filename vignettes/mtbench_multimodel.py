"""MT-Bench: is GPT-4 a biased judge of gpt-4, and multi-model routing with token prices.

Run::

    python vignettes/mtbench_multimodel.py ../shared/data/mtbench --out mtbench_out

1. Bias t-tests: for gpt-4 against each of the five other models, the paired t-test
   of human expert votes (gold) minus GPT-4 judge votes (preference), on items with both.
2. Multi-model routing among the six models with gpt-3.5-turbo as the reference:
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
import json
from pathlib import Path

import numpy as np
import pandas as pd

import metarouter_stats as mrs
from metarouter_stats.datasets import embed_texts, load_mtbench
from metarouter_stats.datasets.mtbench import MTBENCH_MODELS

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


def bias_tests(path: Path) -> pd.DataFrame:
    rows = []
    for weak in MTBENCH_MODELS[1:]:
        mt = load_mtbench(path, strong="gpt-4", weak=weak)
        res = mrs.bias_ttest(mt.paired["gold"], mt.paired["preference"])
        low, high = res.confidence_interval()
        rows.append({"strong": "gpt-4", "weak": weak, "items": res.n_gold, "bias": res.estimate,
                     "ci_low": low, "ci_high": high, "p_value": res.pvalue})
    return pd.DataFrame(rows)


def routing(path: Path, *, dim: int = 10, seed: int = 0) -> dict:
    models = list(MTBENCH_MODELS)
    others = [m for m in models if m != REFERENCE]
    per_model = {m: load_mtbench(path, strong=m, weak=REFERENCE, dim=dim) for m in others}
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
    folds = np.random.default_rng(seed).permutation(np.unique(qids)) % 5
    fold_of = dict(zip(np.unique(qids), folds, strict=True))
    costs = {m: mrs.TokenCost(*PRICES[m]) for m in models}
    n_in = np.array([1.3 * len(texts[q].split()) for q in ids])
    pred = pd.DataFrame(0.0, index=ids, columns=models)
    for f in range(5):
        test = [q for q in ids if fold_of[int(q.split("-")[0])] == f]
        train = long[~long["query_id"].isin(test)]
        router = mrs.MultiModelRouter(models, REFERENCE, costs=costs,
                                      router=mrs.MetaRouter(cv=3, propensity="estimate"), random_state=seed)
        router.fit(emb.loc[train["query_id"]].to_numpy(), train["gain"].to_numpy(),
                   source=train["source"].to_numpy(), model=train["model"].to_numpy())
        pred.loc[test] = router.predict_gains(emb.loc[test].to_numpy()).to_numpy()
    gold = long[long.source == 1].pivot_table(index="query_id", columns="model", values="gain")
    full = gold.dropna().index
    G = np.column_stack([np.zeros(len(full)) if m == REFERENCE else gold.loc[full, m].to_numpy() for m in models])
    C = mrs.cost_matrix(costs, models, n_in=pd.Series(n_in, index=ids).loc[full].to_numpy(),
                        n_out=np.full((len(full), len(models)), OUTPUT_TOKENS))
    pb = long[long.source == 0].pivot_table(index="query_id", columns="model", values="gain").reindex(full)
    P = np.column_stack([np.zeros(len(full)) if m == REFERENCE else pb[m].fillna(0).to_numpy() for m in models])
    frontier = mrs.cost_quality_frontier(G, C, {"meta-router": pred.loc[full].to_numpy(), "gpt4-judge-verdicts": P})
    return {"frontier": frontier, "n_items": int(len(full)), "models": models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder with human.jsonl, gpt4_pair.jsonl, question.jsonl")
    parser.add_argument("--out", default="mtbench_out")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tests = bias_tests(Path(args.data))
    print("GPT-4 as judge of gpt-4 (bias = human minus GPT-4 vote, in [-2, 2]):")
    print(tests.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    res = routing(Path(args.data))
    print(f"\nCost-quality frontier on {res['n_items']} fully judged items; AIQ (mean quality over budgets):")
    print(res["frontier"].areas.round(4).to_string())
    import matplotlib

    matplotlib.use("Agg")
    ax = res["frontier"].plot()
    ax.figure.savefig(out / "mtbench_frontier.png", dpi=110)
    tests.to_csv(out / "mtbench_bias_tests.csv", index=False)
    (out / "mtbench_aiq.json").write_text(json.dumps(res["frontier"].areas.to_dict(), indent=2))
    print(f"\nwrote {out}/")


if __name__ == "__main__":
    main()
