"""A user's own pairwise votes, in long format, as routing data.

One row per vote: which query, which mechanism produced it (gold standard or
preference based), the two models compared and the verdict. The gain of ``primary``
over ``alternative`` on a query is the average over that mechanism's votes of +1 (the primary
model wins), 0 (tie) and -1 (it loses), as for MT-Bench (:func:`load_mtbench`).
Votes between other pairs of models are not used; :attr:`Judgments.counts` says how
many rows each step kept.

The votes can come as a :class:`pandas.DataFrame` or as a ``.csv``, ``.jsonl``
(JSON lines) or ``.json`` (list of objects) file. Errors name the file, its line (or
the frame's row label) and the field.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._results import ResultMixin
from ..data import RoutingData
from ._io import read_jsonl, read_text
from .._checks import as_seed
from .embed import TextEmbedder, check_method

__all__ = ["Judgments", "from_judgments"]

_DEFAULT_COLUMNS = {
    "query_id": "query_id",
    "mechanism": "mechanism",
    "model_a": "model_a",
    "model_b": "model_b",
    "winner": "winner",
}
_GOLD = {"gold", "human", "1", "true"}
_PREFERENCE = {"preference", "judge", "0", "false"}
_TIES = {"tie", "tie (inconsistent)", "draw", "0"}


@dataclass(frozen=True, init=False, eq=False, repr=False)
class Judgments(ResultMixin):
    """Per-query gains of ``primary`` over ``alternative`` built from long-format votes.

    What :func:`from_judgments`, :func:`~metarouter_stats.datasets.load_mtbench` and
    :func:`~metarouter_stats.datasets.load_pandalm` return.

    Attributes
    ----------
    data : RoutingData
        One gold row and/or one preference row per query (query ids as given).
    paired : pandas.DataFrame
        query_id, gold, preference, n_gold_votes, n_preference_votes for queries
        labelled by both mechanisms (from :meth:`RoutingData.paired
        <metarouter_stats.RoutingData.paired>`; a copy on every access).
    texts : mapping or None
        Query id -> text when texts were given (read-only).
    primary, alternative : str
    counts : mapping
        Rows read, rows comparing ``primary`` with ``alternative``, gold, preference and
        paired queries (read-only).
    source : str
        Where the votes came from (a file, "judgments", or the loader's data set).
    n_unparsed : int
        Verdicts the loader could not read and left out (PandaLM's judge; 0 otherwise).
    embedder : TextEmbedder or None
        The embedding fitted on the queries' texts (None when features were given): embeds a
        new query the way the training queries were (``embedder.transform([text])``;
        :class:`~metarouter_stats.TextRouter` routes texts with it).
    """

    data: RoutingData
    _paired: pd.DataFrame
    texts: Mapping[str, str] | None
    primary: str
    alternative: str
    counts: Mapping[str, int]
    source: str
    n_unparsed: int
    embedder: Any
    _title = "Long-format votes as routing data"

    def __init__(
        self, data: RoutingData, paired: pd.DataFrame, texts: Mapping[str, str] | None, primary: str,
        alternative: str, counts: Mapping[str, int], source: str = "judgments", n_unparsed: int = 0,
        embedder: Any = None,
    ) -> None:
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "_paired", paired.copy(deep=True))
        object.__setattr__(self, "texts", None if texts is None else MappingProxyType(dict(texts)))
        object.__setattr__(self, "primary", primary)
        object.__setattr__(self, "alternative", alternative)
        object.__setattr__(self, "counts", MappingProxyType(dict(counts)))
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "n_unparsed", int(n_unparsed))
        object.__setattr__(self, "embedder", embedder)

    @property
    def paired(self) -> pd.DataFrame:
        """A copy of the paired labels (see the class docstring)."""
        return self._paired.copy()

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("source", self.source), ("primary / alternative", f"{self.primary} / {self.alternative}")]
        rows += [(k.replace("_", " "), f"{v}") for k, v in self.counts.items()]
        if self.n_unparsed:
            rows.append(("unreadable verdicts left out", f"{self.n_unparsed}"))
        return rows

    def _notes(self) -> list[str]:
        return [f"Gain = mean vote for {self.primary} over {self.alternative} per query and mechanism (+1 / 0 / -1)."]

    def to_frame(self) -> pd.DataFrame:
        """One row per (query, mechanism): query_id, mechanism, gain."""
        return pd.DataFrame({
            "query_id": np.array(self.data.query_ids, copy=True),
            "mechanism": np.where(self.data.source == 1, "gold", "preference"),
            "gain": np.array(self.data.outcome, copy=True),
        })


def _read_votes(judgments: Any) -> tuple[pd.DataFrame, str, list[str]]:
    """Frame of votes, a description of where they came from, and a location per row."""
    if isinstance(judgments, pd.DataFrame):
        return judgments.reset_index(drop=True), "judgments", [f"row {i!r}" for i in judgments.index]
    if not isinstance(judgments, (str, os.PathLike)):
        raise TypeError(
            "`judgments` must be a pandas DataFrame or the path of a .csv, .jsonl or .json file; "
            f"got {type(judgments).__name__}."
        )
    path = Path(judgments)
    if not path.is_file():
        raise FileNotFoundError(f"`judgments` file {str(path)!r} not found.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            frame = pd.read_csv(io.StringIO(read_text(path)), dtype=str, keep_default_na=False)
        except pd.errors.ParserError as exc:
            raise ValueError(f"{path}: malformed CSV ({exc}).") from None
        except pd.errors.EmptyDataError:
            raise ValueError(f"{path}: empty file (no header, no votes).") from None
        return frame, str(path), [f"{path}:{i + 2}" for i in range(len(frame))]  # line 1 is the header
    if suffix == ".jsonl":
        lines = read_jsonl(path)
        rows = [rec for _, rec in lines]
        where = [f"{path}:{lineno}" for lineno, _ in lines]
        return pd.DataFrame(rows), str(path), where
    if suffix == ".json":
        try:
            records = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg}).") from None
        except RecursionError:
            raise ValueError(f"{path}: JSON nested too deeply to read; a list of flat objects, one per vote.") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{path}: expected a JSON list of objects, one per vote.")
        return pd.DataFrame(records), str(path), [f"{path}: item {i}" for i in range(len(records))]
    raise ValueError(f"`judgments` file {str(path)!r} must end in .csv, .jsonl or .json; got {suffix or 'no suffix'!r}.")


def _mechanism(value: Any, where: str, name: str) -> tuple[int, str]:
    """(source, mechanism name): gold, the one preference mechanism, or a judge called by name."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        raise ValueError(f"{where}: field {name!r} is empty; it must be 'gold', 'preference' or a judge's name.")
    key = str(value).strip().lower()
    if key in ("1.0", "0.0"):  # a numeric column read as floats
        key = key[0]
    if key in _GOLD:
        return 1, "gold"
    if key in _PREFERENCE:
        return 0, "preference"
    try:
        float(key)
    except ValueError:
        return 0, str(value).strip()  # a judge's name
    raise ValueError(f"{where}: field {name!r} must be 'gold', 'preference' (or 1 / 0) or a judge's name; got {value!r}.")


def _score_a(row: Mapping[Any, Any], cols: Mapping[str, str], where: str) -> float:
    """+1 / 0 / -1 for model_a winning / tie / losing."""
    verdict = row[cols["winner"]]
    key = str(verdict).strip()
    if key.lower() == "model_a" or key == str(row[cols["model_a"]]):
        return 1.0
    if key.lower() == "model_b" or key == str(row[cols["model_b"]]):
        return -1.0
    if key.lower() in _TIES:
        return 0.0
    try:
        num = float(key)
    except ValueError:
        num = np.nan
    if np.isfinite(num) and -1.0 <= num <= 1.0:
        return num
    raise ValueError(
        f"{where}: field {cols['winner']!r} must be 'model_a', 'model_b', 'tie', one of the row's model names, "
        f"or a score of model_a in [-1, 1]; got {verdict!r}."
    )


def from_judgments(
    judgments: pd.DataFrame | str | os.PathLike[str],
    *,
    primary: str,
    alternative: str,
    texts: Mapping[Any, str] | None = None,
    features: pd.DataFrame | None = None,
    columns: Mapping[str, str] | None = None,
    dim: int = 20,
    embedding: str = "tfidf-svd",
    rng: Any = 0,
    shared_scale: bool = True,
) -> Judgments:
    """Turn long-format pairwise votes into routing data for ``primary`` vs ``alternative``.

    Parameters
    ----------
    judgments : DataFrame or path
        One row per vote with the columns ``query_id``, ``mechanism`` ("gold" /
        "preference", also "human" / "judge" or 1 / 0, or a judge's name), ``model_a``, ``model_b`` and
        ``winner`` ("model_a", "model_b", "tie", "tie (inconsistent)", the name of the
        winning model, or model_a's score in [-1, 1]). A path may name a ``.csv``,
        ``.jsonl`` or ``.json`` file.
    primary, alternative : str
        The primary model (positive gain = it is better) and the alternative.
    texts : mapping query id -> str, optional
        Query texts, embedded with :func:`embed_texts` (TF-IDF, SVD, PCA to ``dim``).
    features : DataFrame, optional
        Query features indexed by query id (used as ``X`` instead of text embeddings).
        Exactly one of ``texts`` and ``features`` must be given.
    columns : mapping, optional
        Names of the columns in ``judgments`` when they differ from the defaults,
        e.g. ``{"query_id": "prompt_id", "winner": "verdict"}``.

        **Several judges**: a ``mechanism`` that names the judge of each preference vote
        (e.g. "gpt-3.5", "pandalm-7b") instead of "preference" makes one preference row per
        query and judge, and the data carry a ``mechanism`` per row ("gold" or the judge's
        name) for :class:`~metarouter_stats.MultiJudgeRouter` and
        :func:`~metarouter_stats.compare_judges`. With "preference" every preference vote is
        one mechanism, as before; a file may not mix the two.
    dim : int, default 20
        Embedding dimension when ``texts`` are given.
    embedding : {"tfidf-svd", "sentence"}, default "tfidf-svd"
        Text embedding method of :func:`~metarouter_stats.embed_texts` (``"sentence"``
        needs the ``sentence`` extra).
    rng : None, int or numpy.random.Generator, default 0
        Seed of the embedding's randomized SVD.
    shared_scale : bool, default True
        Declare both mechanisms' gains on one scale (``RoutingData.shared_scale``): they are
        mean votes with the same +1 / 0 / -1 coding, so the package's default
        ``scale="auto"`` uses c = 1. Set False when the two mechanisms' verdicts are not
        comparable (e.g. a judge's score on another scale passed as ``winner``).

    Returns
    -------
    Judgments

    Raises
    ------
    ValueError
        Naming the file and line (or the frame's row) and the field, for a missing
        column, an unknown mechanism or verdict, or a missing text or feature row;
        naming the models seen when ``primary`` or ``alternative`` never occurs.

    Examples
    --------
    >>> import pandas as pd
    >>> from metarouter_stats.datasets import from_judgments
    >>> votes = pd.DataFrame({
    ...     "query_id": ["q1", "q1", "q2", "q2", "q3", "q3"],
    ...     "mechanism": ["gold", "preference"] * 3,
    ...     "model_a": ["big", "big", "small", "big", "big", "big"],
    ...     "model_b": ["small", "small", "big", "small", "small", "small"],
    ...     "winner": ["model_a", "tie", "model_a", "big", "model_b", "model_a"],
    ... })
    >>> texts = {"q1": "sum two numbers", "q2": "write a poem", "q3": "prove a lemma"}
    >>> out = from_judgments(votes, primary="big", alternative="small", texts=texts, dim=2)
    >>> out.paired[["query_id", "gold", "preference"]].to_dict("list")
    {'query_id': ['q1', 'q2', 'q3'], 'gold': [1.0, -1.0, -1.0], 'preference': [0.0, 1.0, 1.0]}
    """
    check_method(embedding, "embedding")
    if (texts is None) == (features is None):
        raise ValueError("Exactly one of `texts` and `features` must be given (query texts to embed, or a feature frame).")
    if primary == alternative:
        raise ValueError("`primary` and `alternative` must be different models.")
    cols = dict(_DEFAULT_COLUMNS)
    if columns is not None:
        unknown = sorted(set(columns) - set(cols))
        if unknown:
            raise ValueError(f"`columns` keys must be among {sorted(cols)}; got {unknown}.")
        cols.update(columns)
    frame, origin, where = _read_votes(judgments)
    missing = [c for c in cols.values() if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{origin}: missing column(s) {missing}; found {list(frame.columns)}. "
            "Rename them or pass `columns={...}`."
        )
    if len(frame) == 0:
        raise ValueError(f"{origin}: no votes.")
    ids_raw = frame[cols["query_id"]]
    kinds = pd.DataFrame({"s": ids_raw.astype(str), "t": ids_raw.map(lambda v: type(v).__name__)})
    mixed = kinds.groupby("s")["t"].nunique()
    if (mixed > 1).any():
        q = mixed.index[mixed.to_numpy() > 1][0]
        rows = np.flatnonzero((kinds["s"] == q).to_numpy())
        raise ValueError(
            f"{where[int(rows[0])]} and {where[int(rows[1])]}: field {cols['query_id']!r} holds {q!r} as values of "
            "different types (e.g. the number 3 and the text '3'); make the ids one type so that distinct queries "
            "stay distinct."
        )
    for c in (cols["query_id"], cols["model_a"], cols["model_b"]):
        bad = frame[c].isna() | (frame[c].astype(str).str.strip() == "")
        if bad.any():
            raise ValueError(f"{where[int(np.flatnonzero(bad.to_numpy())[0])]}: field {c!r} is empty.")
    models = sorted(set(frame[cols["model_a"]].astype(str)) | set(frame[cols["model_b"]].astype(str)))
    for arg, m in (("primary", primary), ("alternative", alternative)):
        if m not in models:
            raise ValueError(f"`{arg}` must be one of the models in {origin} {models}; got {m!r}.")

    records = []
    for i, row in enumerate(frame.to_dict("records")):
        a, b = str(row[cols["model_a"]]), str(row[cols["model_b"]])
        mech, judge = _mechanism(row[cols["mechanism"]], where[i], cols["mechanism"])
        score = _score_a(row, cols, where[i])
        if {a, b} != {primary, alternative}:
            continue
        records.append((str(row[cols["query_id"]]), mech, judge, score if a == primary else -score, i))
    if not records:
        raise ValueError(f"{origin}: no vote compares {primary!r} with {alternative!r}.")
    votes = pd.DataFrame(records, columns=["query_id", "source", "judge", "gain", "row"])
    named = sorted(set(votes["judge"]) - {"gold", "preference"})
    several = bool(named)  # judges called by name: one preference mechanism per judge
    if several and (votes["judge"] == "preference").any():
        r = int(votes.loc[votes["judge"] == "preference", "row"].iloc[0])
        raise ValueError(
            f"{where[r]}: field {cols['mechanism']!r} says 'preference' (or 'judge' / 0) while other votes name their "
            f"judge ({named}); name the judge of every preference vote, or of none."
        )
    agg = (
        votes.groupby(["source", "judge", "query_id"], sort=False)
        .agg(gain=("gain", "mean"), votes=("gain", "size"), row=("row", "first"))
        .reset_index()
        .sort_values(["source", "row"], ascending=[False, True], kind="stable")
    )
    ids = list(dict.fromkeys(agg.sort_values("row")["query_id"]))
    text_map: dict[str, str] | None = None
    if texts is not None:
        text_map = {str(k): v for k, v in dict(texts).items()}
        for q in ids:
            if q not in text_map:
                r = int(agg.loc[agg["query_id"] == q, "row"].iloc[0])
                raise ValueError(f"{where[r]}: field {cols['query_id']!r} = {q!r} has no entry in `texts`.")
            if not isinstance(text_map[q], str):
                raise TypeError(f"`texts[{q!r}]` must be a string; got {type(text_map[q]).__name__}.")
        embedder = TextEmbedder(method=embedding, dim=dim, random_state=as_seed(rng))
        emb = embedder.fit_transform([text_map[q] for q in ids])
        feature_names = tuple(str(f) for f in embedder.get_feature_names_out())
        text_map = {q: text_map[q] for q in ids}
    else:
        embedder = None
        if not isinstance(features, pd.DataFrame):
            raise TypeError(f"`features` must be a pandas DataFrame indexed by query id; got {type(features).__name__}.")
        feats = features.set_axis(features.index.astype(str))
        if feats.index.has_duplicates:
            raise ValueError(f"`features` index must be unique query ids; {feats.index[feats.index.duplicated()][0]!r} repeats.")
        for q in ids:
            if q not in feats.index:
                r = int(agg.loc[agg["query_id"] == q, "row"].iloc[0])
                raise ValueError(f"{where[r]}: field {cols['query_id']!r} = {q!r} has no row in `features`.")
        emb = feats.loc[ids].to_numpy()
        feature_names = tuple(str(c) for c in feats.columns)
    pos = {q: k for k, q in enumerate(ids)}
    data = RoutingData(
        X=emb[[pos[q] for q in agg["query_id"]]],
        outcome=agg["gain"].to_numpy(),
        source=agg["source"].to_numpy(),
        query_ids=agg["query_id"].to_numpy(),
        model_names=(primary, alternative),
        feature_names=feature_names,
        shared_scale=shared_scale,
        mechanism=agg["judge"].to_numpy() if several else None,
    )
    paired = data.paired()[["query_id", "gold", "preference"]]
    n_votes = agg.pivot_table(index="query_id", columns="source", values="votes", aggfunc="sum")
    paired["n_gold_votes"] = n_votes.loc[paired["query_id"], 1].to_numpy(dtype=int)
    paired["n_preference_votes"] = n_votes.loc[paired["query_id"], 0].to_numpy(dtype=int)
    counts = {
        "rows": len(frame),
        "rows_used": len(votes),
        "gold_queries": int((agg["source"] == 1).sum()),
        "preference_queries": int((agg["source"] == 0).sum()),
        "paired_queries": len(paired),
    }
    return Judgments(data, paired, text_map, primary, alternative, counts, source=origin, embedder=embedder)
