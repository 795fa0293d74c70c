"""PandaLM test set: three human annotators (gold) and an LLM judge (preference).

Wang et al. (2023), "PandaLM: An Automatic Evaluation Benchmark for LLM Instruction
Tuning Optimization" (WeOpenML/PandaLM, Apache-2.0). Each of the 999 items compares
``response1`` (the first model of ``cmp_key``, e.g. ``bloom-7b_llama-7b``) with
``response2`` (the second). Labels 1 / 2 say which response is better, 0 (or "Tie")
a tie.

The gain of ``strong`` over ``weak`` on an item is +1 if the strong model's response
is better, -1 if worse, 0 for a tie:

* gold: the majority of the three annotators (a tie when all three differ);
* preference: the verdict of ``judge`` ("gpt-3.5-turbo" or "pandalm-7b"). GPT-3.5
  verdicts that are neither 1, 2 nor Tie ("garbage" in the file) are excluded from the
  preference rows, and a warning states how many.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import RoutingData
from .embed import check_method, embed_texts

__all__ = ["PandaLM", "load_pandalm"]

_JUDGES = {"gpt-3.5-turbo": ("gpt-3.5-turbo-testset-v1.json", "gpt_result"),
           "pandalm-7b": ("pandalm-7b-testset-v1.json", "pandalm_result")}
_VERDICT = {"1": 1.0, "2": -1.0, "0": 0.0, "Tie": 0.0, "tie": 0.0}
_SOURCE = "the GitHub repository WeOpenML/PandaLM, folder data/"


def _read(path: Path, fields: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"PandaLM file {str(path)!r} not found; the public data set can be obtained from {_SOURCE}.")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg}).") from None
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON list of items; got {type(records).__name__}.")
    for i, rec in enumerate(records):
        missing = [f for f in fields if f not in rec]
        if missing:
            raise ValueError(f"{path}: item {i} (idx {rec.get('idx')!r}) is missing field(s) {missing}.")
    return records


def _majority(votes: list[str], where: str) -> float:
    vals = []
    for v in votes:
        if str(v) not in ("0", "1", "2"):
            raise ValueError(f"{where}: annotator label must be 0, 1 or 2; got {v!r}.")
        vals.append(str(v))
    for v in set(vals):
        if vals.count(v) >= 2:
            return _VERDICT[v]
    return 0.0


@dataclass(frozen=True, eq=False)
class PandaLM:
    """PandaLM gains of ``strong`` over ``weak`` (see :func:`load_pandalm`).

    Attributes
    ----------
    data : RoutingData
        Gold and preference rows, query ids = PandaLM ``idx``.
    texts : dict idx -> str
        Instruction and input of each item.
    paired : pandas.DataFrame
        query_id, gold, preference for items with both labels.
    n_unparsed : int
        Judge verdicts excluded as unparseable.
    """

    data: RoutingData
    texts: dict[str, str]
    paired: pd.DataFrame
    strong: str
    weak: str
    judge: str
    n_unparsed: int


def load_pandalm(
    path: str | os.PathLike[str], strong: str = "llama-7b", weak: str = "bloom-7b", *,
    judge: str = "gpt-3.5-turbo", dim: int = 20, embedding: str = "tfidf-svd",
) -> PandaLM:
    """Load the PandaLM test set as gold (human majority) and preference (LLM judge) gains.

    Parameters
    ----------
    path : path
        Folder with ``testset-v1.json`` and the judge's file.
    strong, weak : str
        Two of the compared models (bloom-7b, cerebras-gpt-6.7B, llama-7b, opt-7b, pythia-6.9b).
    judge : {"gpt-3.5-turbo", "pandalm-7b"}
    dim : int, default 20
        Embedding dimension (principal components of the embedded instruction and input).
    embedding : {"tfidf-svd", "sentence"}, default "tfidf-svd"
        Text embedding method of :func:`~metarouter_stats.embed_texts` (``"sentence"``
        needs the ``sentence`` extra).

    Returns
    -------
    PandaLM
    """
    check_method(embedding, "embedding")
    if judge not in _JUDGES:
        raise ValueError(f"`judge` must be one of {tuple(_JUDGES)}; got {judge!r}.")
    root = Path(path)
    test_path = root / "testset-v1.json"
    items = _read(test_path, ("idx", "cmp_key", "instruction", "input", "annotator1", "annotator2", "annotator3"))
    judge_file, field = _JUDGES[judge]
    verdicts = {str(r["idx"]): str(r[field]) for r in _read(root / judge_file, ("idx", field))}
    models = sorted({m for it in items for m in str(it["cmp_key"]).split("_")})
    for arg, m in (("strong", strong), ("weak", weak)):
        if m not in models:
            raise ValueError(f"`{arg}` must be one of {models}; got {m!r}.")
    if strong == weak:
        raise ValueError("`strong` and `weak` must be different models.")
    rows, texts, unparsed = [], {}, 0
    for i, it in enumerate(items):
        first, second = str(it["cmp_key"]).split("_", 1)
        if {first, second} != {strong, weak}:
            continue
        sign = 1.0 if first == strong else -1.0
        idx = str(it["idx"])
        texts[idx] = f"{it['instruction']} {it['input']}".strip()
        where = f"{test_path}: item {i} (idx {idx!r})"
        rows.append((idx, 1, sign * _majority([it["annotator1"], it["annotator2"], it["annotator3"]], where)))
        v = verdicts.get(idx)
        if v in _VERDICT:
            rows.append((idx, 0, sign * _VERDICT[v]))
        else:
            unparsed += 1
    if not rows:
        raise ValueError(f"No PandaLM items compare {strong!r} with {weak!r}.")
    if unparsed:
        warnings.warn(
            f"{unparsed} {judge} verdicts for {strong} vs {weak} are neither 1, 2 nor a tie (or missing) and were "
            "excluded from the preference rows.",
            UserWarning,
            stacklevel=2,
        )
    df = pd.DataFrame(rows, columns=["query_id", "source", "gain"])
    ids = list(texts)
    emb = embed_texts([texts[q] for q in ids], dim=dim, method=embedding)
    pos = {q: k for k, q in enumerate(ids)}
    data = RoutingData(
        X=emb[[pos[q] for q in df["query_id"]]], outcome=df["gain"].to_numpy(), source=df["source"].to_numpy(),
        query_ids=df["query_id"].to_numpy(), model_names=(strong, weak),
    )
    wide = df.pivot(index="query_id", columns="source", values="gain").dropna()
    paired = pd.DataFrame({"query_id": wide.index, "gold": wide[1].to_numpy(), "preference": wide[0].to_numpy()})
    return PandaLM(data=data, texts=texts, paired=paired, strong=strong, weak=weak, judge=judge, n_unparsed=unparsed)
