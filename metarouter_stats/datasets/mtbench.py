"""MT-Bench: expert human votes (gold) and GPT-4 pairwise judgments (preference).

Zheng et al. (2023), "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena"
(arXiv:2306.05685); data ``lmsys/mt_bench_human_judgments`` (CC-BY-4.0) and the
80 MT-Bench questions (FastChat, Apache-2.0). The loader reads the files from a
local folder and never downloads.

A *query* is one (question, turn) item: 80 questions x 2 turns. The gain of model
``primary`` over model ``alternative`` on an item is the average over judges of

* +1 when ``primary`` wins, 0 for a tie, -1 when it loses;
* GPT-4's ``"tie (inconsistent)"`` (its verdict flipped when the two answers
  swapped places) counts as a tie, 0: the judge could not separate the answers
  once its position bias is removed.

Gold rows are the human (``expert_*`` / ``author_*``) votes averaged per item;
preference rows are the GPT-4 votes. Items judged by both give one gold and one
preference row with the same query id. The loader only reads the files into long-format
votes (:func:`mtbench_votes`) and item texts; :func:`~metarouter_stats.from_judgments`
turns them into routing data, as for a user's own votes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ._io import read_jsonl
from .embed import check_method
from .judgments import Judgments, from_judgments

__all__ = ["MTBENCH_MODELS", "load_mtbench", "mtbench_texts", "mtbench_votes"]

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
    """All pairwise votes, long format: query_id, mechanism, judge, question_id, turn, model_a, model_b, winner, score_a.

    ``query_id`` is ``"<question_id>-<turn>"``; ``score_a`` is +1 / 0 / -1 for model_a
    winning / tie (incl. "tie (inconsistent)") / losing; ``mechanism`` is "gold" (human)
    or "preference" (GPT-4). The columns query_id, mechanism, model_a, model_b and winner
    are what :func:`~metarouter_stats.from_judgments` reads.
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
        df = pd.DataFrame(rows) if rows else pd.DataFrame(columns=[*_FIELDS, "_line"])
        df["mechanism"] = mechanism
        df["score_a"] = df["winner"].map({"model_a": 1.0, "model_b": -1.0, "tie": 0.0, "tie (inconsistent)": 0.0})
        df["query_id"] = df["question_id"].astype(int).astype(str) + "-" + df["turn"].astype(int).astype(str)
        frames.append(df[["query_id", "mechanism", "judge", "question_id", "turn", "model_a", "model_b", "winner",
                          "score_a", "_line"]])
    return pd.concat(frames, ignore_index=True)


def mtbench_texts(path: str | os.PathLike[str]) -> dict[str, str]:
    """Text of every (question, turn) item: ``"<qid>-<turn>"`` -> the turns up to that one, joined."""
    rows = _read_jsonl(Path(path) / "question.jsonl", ("question_id", "turns"))
    texts = {}
    for r in rows:
        turns = [str(t) for t in r["turns"]]
        for k in range(1, len(turns) + 1):
            texts[f"{int(r['question_id'])}-{k}"] = " ".join(turns[:k])
    return texts


def load_mtbench(
    path: str | os.PathLike[str], primary: str = "gpt-4", alternative: str = "gpt-3.5-turbo", *, dim: int = 20,
    embedding: str = "tfidf-svd",
) -> Judgments:
    """Load MT-Bench as gold (human experts) and preference (GPT-4 judge) gains of ``primary`` over ``alternative``.

    Parameters
    ----------
    path : path
        Folder with ``human.jsonl``, ``gpt4_pair.jsonl`` and ``question.jsonl``.
    primary, alternative : str
        Models among gpt-4, claude-v1, gpt-3.5-turbo, vicuna-13b-v1.2, alpaca-13b, llama-13b.
    dim : int, default 20
        Embedding dimension (principal components of the item texts' embeddings; 160 items).
    embedding : {"tfidf-svd", "sentence"}, default "tfidf-svd"
        Text embedding method of :func:`~metarouter_stats.embed_texts` (``"sentence"``
        needs the ``sentence`` extra).

    Returns
    -------
    Judgments
        Query ids ``"<qid>-<turn>"``; ``texts`` the item texts (turn 2 items: turns 1 and 2 joined).
    """
    check_method(embedding, "embedding")
    for arg, m in (("primary", primary), ("alternative", alternative)):
        if m not in MTBENCH_MODELS:
            raise ValueError(f"`{arg}` must be one of {MTBENCH_MODELS}; got {m!r}.")
    if primary == alternative:
        raise ValueError("`primary` and `alternative` must be different models.")
    root = Path(path)
    votes = mtbench_votes(root)
    texts = mtbench_texts(root)
    pair = votes["model_a"].isin([primary, alternative]) & votes["model_b"].isin([primary, alternative])
    unknown = sorted(set(votes.loc[pair, "query_id"]) - set(texts))
    if unknown:
        raise ValueError(f"{root / 'question.jsonl'}: no text for item(s) {unknown[:5]} used in the votes.")
    out = from_judgments(votes, primary=primary, alternative=alternative, texts=texts, dim=dim, embedding=embedding)
    return Judgments(out.data, out.paired, out.texts, primary, alternative, out.counts, source=f"MT-Bench ({root})",
                     embedder=out.embedder)
