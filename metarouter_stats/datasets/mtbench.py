"""MT-Bench: expert human votes (gold) and GPT-4 pairwise judgments (preference).

Zheng et al. (2023), "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena"
(arXiv:2306.05685); data ``lmsys/mt_bench_human_judgments`` (CC-BY-4.0) and the
80 MT-Bench questions (FastChat, Apache-2.0). The loader reads the files from a
local folder and never downloads.

A *query* is one (question, turn) item: 80 questions x 2 turns. The gain of model
``strong`` over model ``weak`` on an item is the average over judges of

* +1 when ``strong`` wins, 0 for a tie, -1 when it loses;
* GPT-4's ``"tie (inconsistent)"`` (its verdict flipped when the two answers
  swapped places) counts as a tie, 0: the judge could not separate the answers
  once its position bias is removed.

Gold rows are the human (``expert_*`` / ``author_*``) votes averaged per item;
preference rows are the GPT-4 votes. Items judged by both give one gold and one
preference row with the same query id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data import RoutingData
from ._io import read_jsonl
from .embed import check_method, embed_texts

__all__ = ["MTBench", "load_mtbench", "mtbench_votes"]

MTBENCH_MODELS = ("gpt-4", "claude-v1", "gpt-3.5-turbo", "vicuna-13b-v1.2", "alpaca-13b", "llama-13b")
_SOURCE_URL = "the Hugging Face dataset lmsys/mt_bench_human_judgments and FastChat's llm_judge/data/mt_bench"
_WINNERS = {"model_a", "model_b", "tie", "tie (inconsistent)"}
_FIELDS = ("judge", "model_a", "model_b", "question_id", "turn", "winner")


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(
            f"MT-Bench file {str(path)!r} not found; the public data set can be obtained from {_SOURCE_URL}."
        )
    rows = []
    for lineno, rec in read_jsonl(path):
        missing = [f for f in required if f not in rec]
        if missing:
            raise ValueError(f"{path}:{lineno}: missing field(s) {missing}.")
        rows.append({**rec, "_line": lineno})
    return rows


def mtbench_votes(path: str | os.PathLike[str]) -> pd.DataFrame:
    """All pairwise votes, long format: mechanism, judge, question_id, turn, model_a, model_b, score_a.

    ``score_a`` is +1 / 0 / -1 for model_a winning / tie (incl. "tie (inconsistent)") / losing;
    ``mechanism`` is "gold" (human) or "preference" (GPT-4).
    """
    root = Path(path)
    frames = []
    for name, mechanism in (("human.jsonl", "gold"), ("gpt4_pair.jsonl", "preference")):
        file = root / name
        rows = _read_jsonl(file, _FIELDS)
        for r in rows:
            if r["winner"] not in _WINNERS:
                raise ValueError(
                    f"{file}:{r['_line']}: field 'winner' must be one of {sorted(_WINNERS)}; got {r['winner']!r}."
                )
        df = pd.DataFrame(rows)
        df["mechanism"] = mechanism
        df["score_a"] = df["winner"].map({"model_a": 1.0, "model_b": -1.0, "tie": 0.0, "tie (inconsistent)": 0.0})
        frames.append(df[["mechanism", "judge", "question_id", "turn", "model_a", "model_b", "score_a", "_line"]])
    return pd.concat(frames, ignore_index=True)


def _questions(root: Path) -> dict[int, list[str]]:
    rows = _read_jsonl(root / "question.jsonl", ("question_id", "turns"))
    return {int(r["question_id"]): list(r["turns"]) for r in rows}


@dataclass(frozen=True, eq=False)
class MTBench:
    """MT-Bench gains of ``strong`` over ``weak`` per (question, turn) item.

    Attributes
    ----------
    data : RoutingData
        Gold (human) and preference (GPT-4) rows; query ids ``"qid-turn"``.
    texts : dict query id -> str
        The item's text (turn 1; turn 2 items are turn 1 and turn 2 joined).
    paired : pandas.DataFrame
        Items with both labels: query_id, gold, preference, n_human_votes.
    strong, weak : str
    """

    data: RoutingData
    texts: dict[str, str]
    paired: pd.DataFrame
    strong: str
    weak: str


def load_mtbench(
    path: str | os.PathLike[str], strong: str = "gpt-4", weak: str = "gpt-3.5-turbo", *, dim: int = 20,
    embedding: str = "tfidf-svd",
) -> MTBench:
    """Load MT-Bench as gold (human experts) and preference (GPT-4 judge) gains of ``strong`` over ``weak``.

    Parameters
    ----------
    path : path
        Folder with ``human.jsonl``, ``gpt4_pair.jsonl`` and ``question.jsonl``.
    strong, weak : str
        Models among gpt-4, claude-v1, gpt-3.5-turbo, vicuna-13b-v1.2, alpaca-13b, llama-13b.
    dim : int, default 20
        Embedding dimension (principal components of the item texts' embeddings; 160 items).
    embedding : {"tfidf-svd", "sentence"}, default "tfidf-svd"
        Text embedding method of :func:`~metarouter_stats.embed_texts` (``"sentence"``
        needs the ``sentence`` extra).

    Returns
    -------
    MTBench
    """
    check_method(embedding, "embedding")
    for arg, m in (("strong", strong), ("weak", weak)):
        if m not in MTBENCH_MODELS:
            raise ValueError(f"`{arg}` must be one of {MTBENCH_MODELS}; got {m!r}.")
    if strong == weak:
        raise ValueError("`strong` and `weak` must be different models.")
    root = Path(path)
    votes = mtbench_votes(root)
    questions = _questions(root)
    ab = (votes["model_a"] == strong) & (votes["model_b"] == weak)
    ba = (votes["model_a"] == weak) & (votes["model_b"] == strong)
    sub = votes[ab | ba].copy()
    sub["gain"] = np.where(ab[ab | ba], sub["score_a"], -sub["score_a"])
    sub["query_id"] = sub["question_id"].astype(int).astype(str) + "-" + sub["turn"].astype(int).astype(str)
    unknown = sorted(set(sub["question_id"].astype(int)) - set(questions))
    if unknown:
        raise ValueError(f"{root / 'question.jsonl'}: no text for question_id(s) {unknown[:5]} used in the votes.")
    agg = sub.groupby(["mechanism", "query_id"]).agg(gain=("gain", "mean"), votes=("gain", "size"), qid=("question_id", "first"), turn=("turn", "first")).reset_index()

    def text(qid: int, turn: int) -> str:
        turns = questions[int(qid)]
        return " ".join(turns[: int(turn)])

    ids = sorted(set(agg["query_id"]), key=lambda s: (int(s.split("-")[0]), int(s.split("-")[1])))
    texts = {q: text(*map(int, q.split("-"))) for q in ids}
    emb = embed_texts([texts[q] for q in ids], dim=dim, method=embedding)
    row_of = {q: i for i, q in enumerate(ids)}
    X = emb[[row_of[q] for q in agg["query_id"]]]
    data = RoutingData(
        X=X,
        outcome=agg["gain"].to_numpy(),
        source=(agg["mechanism"] == "gold").astype(int).to_numpy(),
        query_ids=agg["query_id"].to_numpy(),
        model_names=(strong, weak),
        feature_names=tuple(f"svd{j}" for j in range(emb.shape[1])),
    )
    g = agg[agg.mechanism == "gold"].set_index("query_id")
    p = agg[agg.mechanism == "preference"].set_index("query_id")
    both = g.index.intersection(p.index)
    paired = pd.DataFrame(
        {"query_id": both, "gold": g.loc[both, "gain"].to_numpy(), "preference": p.loc[both, "gain"].to_numpy(),
         "n_human_votes": g.loc[both, "votes"].to_numpy()}
    )
    return MTBench(data=data, texts=texts, paired=paired, strong=strong, weak=weak)
