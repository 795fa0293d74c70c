"""PandaLM test set: three human annotators (gold) and an LLM judge (preference).

Wang et al. (2023), "PandaLM: An Automatic Evaluation Benchmark for LLM Instruction
Tuning Optimization" (WeOpenML/PandaLM, Apache-2.0). Each of the 999 items compares
``response1`` (the first model of ``cmp_key``, e.g. ``bloom-7b_llama-7b``) with
``response2`` (the second). Labels 1 / 2 say which response is better, 0 (or "Tie")
a tie.

The gain of ``primary`` over ``alternative`` on an item is +1 if the primary model's
response is better, -1 if worse, 0 for a tie:

* gold: the majority of the three annotators (a tie when all three differ);
* preference: the verdict of ``judge`` ("gpt-3.5-turbo" or "pandalm-7b"). GPT-3.5
  verdicts that are neither 1, 2 nor Tie ("garbage" in the file) are excluded from the
  preference rows, and a warning states how many.

With both judges (``judge=("gpt-3.5-turbo", "pandalm-7b")``) every item has one preference
row per judge and the data carry a ``mechanism`` per row (gold or the judge's name), for
:class:`~metarouter_stats.MultiJudgeRouter` and :func:`~metarouter_stats.compare_judges`.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pandas as pd

from .embed import check_method
from .judgments import Judgments, from_judgments

__all__ = ["load_pandalm"]

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


def load_pandalm(
    path: str | os.PathLike[str], primary: str = "llama-7b", alternative: str = "bloom-7b", *,
    judge: str | tuple[str, ...] = "gpt-3.5-turbo", dim: int = 20, embedding: str = "tfidf-svd",
) -> Judgments:
    """Load the PandaLM test set as gold (human majority) and preference (LLM judge) gains.

    The loader reads the files into long-format votes (one gold vote per item: the
    annotators' majority; one preference vote: the judge's verdict) and hands them to
    :func:`~metarouter_stats.from_judgments`, as for a user's own votes.

    Parameters
    ----------
    path : path
        Folder with ``testset-v1.json`` and the judge's file.
    primary, alternative : str
        Two of the compared models (bloom-7b, cerebras-gpt-6.7B, llama-7b, opt-7b, pythia-6.9b).
    judge : {"gpt-3.5-turbo", "pandalm-7b"} or a tuple of them
        One judge (the preference rows), or several: one preference row per item and judge,
        the judge named in the data's ``mechanism``.
    dim : int, default 20
        Embedding dimension (principal components of the embedded instruction and input).
    embedding : {"tfidf-svd", "sentence"}, default "tfidf-svd"
        Text embedding method of :func:`~metarouter_stats.embed_texts` (``"sentence"``
        needs the ``sentence`` extra).

    Returns
    -------
    Judgments
        Query ids = PandaLM ``idx``; ``n_unparsed`` counts the judge verdicts left out.
    """
    check_method(embedding, "embedding")
    judges = (judge,) if isinstance(judge, str) else tuple(judge)
    bad = [j for j in judges if j not in _JUDGES]
    if not judges or bad or len(set(judges)) != len(judges):
        raise ValueError(f"`judge` must be one of {tuple(_JUDGES)} or a tuple of distinct ones; got {judge!r}.")
    root = Path(path)
    test_path = root / "testset-v1.json"
    items = _read(test_path, ("idx", "cmp_key", "instruction", "input", "annotator1", "annotator2", "annotator3"))
    verdicts = {}
    for j in judges:
        judge_file, field = _JUDGES[j]
        verdicts[j] = {str(r["idx"]): str(r[field]) for r in _read(root / judge_file, ("idx", field))}
    models = sorted({m for it in items for m in str(it["cmp_key"]).split("_")})
    for arg, m in (("primary", primary), ("alternative", alternative)):
        if m not in models:
            raise ValueError(f"`{arg}` must be one of {models}; got {m!r}.")
    if primary == alternative:
        raise ValueError("`primary` and `alternative` must be different models.")
    votes, texts = [], {}
    unparsed = dict.fromkeys(judges, 0)
    for i, it in enumerate(items):
        first, second = str(it["cmp_key"]).split("_", 1)
        if {first, second} != {primary, alternative}:
            continue
        idx = str(it["idx"])
        texts[idx] = f"{it['instruction']} {it['input']}".strip()
        where = f"{test_path}: item {i} (idx {idx!r})"
        majority = _majority([it["annotator1"], it["annotator2"], it["annotator3"]], where)
        votes.append((idx, "gold", first, second, majority))
        for j in judges:
            v = verdicts[j].get(idx)
            if v in _VERDICT:
                votes.append((idx, j if len(judges) > 1 else "preference", first, second, _VERDICT[v]))
            else:
                unparsed[j] += 1
    if not votes:
        raise ValueError(f"No PandaLM items compare {primary!r} with {alternative!r}.")
    for j, count in unparsed.items():
        if count:
            warnings.warn(
                f"{count} {j} verdicts for {primary} vs {alternative} are neither 1, 2 nor a tie (or missing) and "
                "were excluded from the preference rows.",
                UserWarning,
                stacklevel=2,
            )
    # winner = the first model's score in [-1, 1]
    frame = pd.DataFrame(votes, columns=["query_id", "mechanism", "model_a", "model_b", "winner"])
    out = from_judgments(frame, primary=primary, alternative=alternative, texts=texts, dim=dim, embedding=embedding)
    return Judgments(out.data, out.paired, out.texts, primary, alternative, out.counts,
                     source=f"PandaLM ({root}), judge{'s' if len(judges) > 1 else ''} {', '.join(judges)}",
                     n_unparsed=sum(unparsed.values()), embedder=out.embedder)
