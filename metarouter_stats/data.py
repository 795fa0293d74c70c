"""The data model: one row per labelled query.

A :class:`RoutingData` holds the query embeddings ``X``, the observed quality gain
``outcome`` of the primary model over the alternative, and the evaluation
mechanism ``source`` (1 = gold standard, 0 = preference based). It is the causal
triple ``(x, t, o)`` of the Meta-Router paper (Zhang et al., 2025, Sec. 3).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ._resampling import UnitSampler  # noqa: F401 - re-exported: whole-query draws of paired data
from ._checks import as_1d_float, as_2d_float, as_rng, as_source, check_fraction, check_known_propensity

__all__ = ["RoutingData", "UnitSampler", "data_digest", "paired_labels", "query_units"]

_MIN_PER_SOURCE = 2


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def data_digest(X: Any, y: Any, t: Any) -> str:
    """A short digest of training data (every label and mechanism, and up to 1,000 rows of X spread over it).

    Fitted objects record it, so that a later call given "the training data" can check it got them.
    """
    import hashlib  # noqa: PLC0415

    Xa = np.asarray(X, dtype=float)
    step = max(1, Xa.shape[0] // 1000)
    h = hashlib.sha1(usedforsecurity=False)
    h.update(repr(Xa.shape).encode())
    for arr in (np.asarray(y, dtype=float), np.asarray(t, dtype=float), Xa[::step]):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def query_units(query_ids: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped into units: each row's unit (its query, in order of first appearance; itself without ids)
    and each unit's first row. The one grouping every stage that works on queries uses.

    Examples
    --------
    >>> from metarouter_stats.data import query_units
    >>> unit, first = query_units(["b", "a", "b", "c"], 4)
    >>> unit.tolist(), first.tolist()
    ([0, 1, 0, 2], [0, 1, 3])
    """
    if query_ids is None:
        return np.arange(n), np.arange(n)
    unit = pd.factorize(pd.Series(np.asarray(query_ids)), sort=False)[0]
    first = np.full(int(unit.max()) + 1, -1)
    first[unit[::-1]] = np.arange(unit.size)[::-1]
    return unit, first


def paired_labels(outcome: np.ndarray, source: np.ndarray, query_ids: np.ndarray | None) -> pd.DataFrame:
    """Gold and preference labels of the queries labelled by both mechanisms: the one pairing.

    Labels are averaged per query id and mechanism; queries appear in the order of their
    first row. Used by :meth:`RoutingData.paired` and by every stage that works on pairs
    (the scale constant, the t-test, the planners).

    Returns
    -------
    pandas.DataFrame
        Columns ``query_id``, ``gold``, ``preference``, ``n_gold_rows``,
        ``n_preference_rows`` (empty without query ids).
    """
    cols = ["query_id", "gold", "preference", "n_gold_rows", "n_preference_rows"]
    if query_ids is None:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame({"q": query_ids, "t": source, "o": outcome})
    gold = df[df["t"] == 1].groupby("q", sort=False)["o"].agg(["mean", "size"])
    pref = df[df["t"] == 0].groupby("q", sort=False)["o"].agg(["mean", "size"])
    order = pd.Index(pd.unique(df["q"]))
    both = order[order.isin(gold.index) & order.isin(pref.index)]
    return pd.DataFrame(
        {
            "query_id": np.asarray(both, dtype=object),
            "gold": gold.loc[both, "mean"].to_numpy(dtype=float),
            "preference": pref.loc[both, "mean"].to_numpy(dtype=float),
            "n_gold_rows": gold.loc[both, "size"].to_numpy(dtype=int),
            "n_preference_rows": pref.loc[both, "size"].to_numpy(dtype=int),
        },
        columns=cols,
    )


def _check_mechanism(mechanism: Any, source: np.ndarray) -> np.ndarray:
    """Each row's mechanism as strings: "gold" exactly on the gold rows, a judge's name elsewhere."""
    if isinstance(mechanism, str):
        raise TypeError("`mechanism` must name the mechanism of every row (an array of strings), not one string.")
    m = np.asarray(mechanism, dtype=object)
    if m.ndim != 1 or m.shape[0] != source.shape[0]:
        raise ValueError(f"`mechanism` must be 1-D with one entry per row ({source.shape[0]}); got shape {m.shape}.")
    bad = [i for i, v in enumerate(m) if not isinstance(v, str) or not v.strip()]
    if bad:
        raise TypeError(f"`mechanism` must hold non-empty strings (\"gold\" or a judge's name); row {bad[0]} holds "
                        f"{m[bad[0]]!r}.")
    m = m.astype(str)
    gold = m == "gold"
    mismatch = np.flatnonzero(gold != (source == 1))
    if mismatch.size:
        i = int(mismatch[0])
        raise ValueError(
            f"`mechanism` and `source` disagree at {mismatch.size} row(s), the first at row {i} (mechanism "
            f"{m[i]!r}, source {int(source[i])}): gold rows must have mechanism \"gold\" and no judge may be called "
            "\"gold\"."
        )
    return m


@dataclass(frozen=True, eq=False)
class RoutingData:
    """Labelled queries for training a router.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Query embeddings (finite floats).
    outcome : array-like of shape (n,)
        Observed quality gain of the primary model over the alternative, on the
        scale of the mechanism that produced it.
    source : array-like of shape (n,)
        Evaluation mechanism: 1 or ``"gold"`` for gold-standard labels, 0 or
        ``"preference"`` for preference-based labels.
    query_ids : array-like of shape (n,), optional
        Identifiers of the queries (e.g. to pair gold and preference labels of the
        same query).
    model_names : tuple of str, default ("primary", "alternative")
        Names of the primary and the alternative model.
    feature_names : sequence of str, optional
        Names of the columns of ``X``.
    propensity : array-like of shape (n,), optional
        Probability, known by design, that the row's query got a gold label: the inclusion
        probability of a random, stratified or active selection
        (:func:`~metarouter_stats.select_for_gold`). In (0, 1] on every row and below 1 on
        preference rows. When given, the Meta-router's DR and R learners use it exactly
        instead of estimating a propensity model, and the positivity report reads it. For
        the usual design (gold and preference rows are different queries; a query sent to the
        experts leaves the preference pool) it is the query's inclusion probability; when a
        gold-labelled query also keeps its preference row, a row's propensity is
        ``pi / (1 + pi)``.
    shared_scale : bool, default False
        The gold and preference labels are on one declared scale (the same rubric, the same
        vote coding). The package's default ``scale="auto"`` then uses c = 1 instead of
        estimating c (:func:`~metarouter_stats.scaling.choose_scale`). Declare it only when
        it holds by construction: it is a statement about the labels, not about the data.
    mechanism : array-like of str of shape (n,), optional
        Which mechanism labelled each row, when there are several judges: ``"gold"`` on the
        gold rows and a judge's name (e.g. ``"gpt-3.5"``, ``"crowd"``) on each preference row.
        ``source`` must agree (gold rows exactly where the mechanism is ``"gold"``). Without
        it the preference rows are one mechanism, as in the paper. :attr:`judges` lists the
        names and :meth:`for_judge` gives the gold rows with one judge's rows, a two-mechanism
        data set for every single-judge tool; :class:`~metarouter_stats.MultiJudgeRouter`
        fits one bias function per judge.

    Raises
    ------
    ValueError
        If any value is NaN or infinite, the lengths differ, ``X`` is not 2-D, or
        there are fewer than 2 gold or 2 preference rows.
    TypeError
        If ``X`` or ``outcome`` do not hold numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats import RoutingData
    >>> rng = np.random.default_rng(0)
    >>> data = RoutingData(rng.normal(size=(6, 2)), rng.normal(size=6),
    ...                    ["gold", "gold", "preference", "preference", 0, 0])
    >>> data.n_gold, data.n_preference
    (2, 4)
    """

    X: np.ndarray
    outcome: np.ndarray
    source: np.ndarray
    query_ids: np.ndarray | None = None
    model_names: tuple[str, str] = ("primary", "alternative")
    feature_names: tuple[str, ...] | None = field(default=None)
    propensity: np.ndarray | None = None
    shared_scale: bool = False
    mechanism: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.shared_scale, (bool, np.bool_)):
            raise TypeError(f"`shared_scale` must be True or False; got {self.shared_scale!r}.")
        X = as_2d_float(self.X, "X")
        if X is self.X or not X.flags.owndata:  # the caller's array (or a view of it): the data keeps its own copy
            X = X.copy()
        outcome = as_1d_float(self.outcome, "outcome")
        source = as_source(self.source, "source")
        n = X.shape[0]
        for name, arr in (("outcome", outcome), ("source", source)):
            if arr.shape[0] != n:
                raise ValueError(
                    f"`{name}` must have one entry per row of `X`; got {arr.shape[0]} entries "
                    f"for {n} rows."
                )
        n_gold = int(source.sum())
        n_pref = n - n_gold
        if n_gold < _MIN_PER_SOURCE or n_pref < _MIN_PER_SOURCE:
            raise ValueError(
                "`source` must contain at least 2 gold (1) and 2 preference (0) rows; got "
                f"{n_gold} gold and {n_pref} preference. Both label sources are needed to "
                "estimate the bias."
            )
        ids = self.query_ids
        if ids is not None:
            ids = np.asarray(ids)
            if ids.ndim != 1 or ids.shape[0] != n:
                raise ValueError(
                    f"`query_ids` must be 1-D with one entry per row of `X`; got shape {ids.shape} "
                    f"for {n} rows."
                )
            missing = pd.isna(ids) if ids.dtype.kind in "OfcmM" else np.zeros(n, dtype=bool)
            if np.any(missing):
                raise ValueError(
                    f"`query_ids` must not be missing; got {int(np.sum(missing))} missing id(s), the first at row "
                    f"{int(np.flatnonzero(missing)[0])}. Give every row its query's id."
                )
            ids = _readonly(ids.copy())
        if isinstance(self.model_names, str):
            raise TypeError(
                f"`model_names` must be two strings (primary, alternative), not one string; got {self.model_names!r}."
            )
        names = tuple(self.model_names)
        if len(names) != 2 or not all(isinstance(s, str) for s in names):
            raise ValueError(
                f"`model_names` must be two strings (primary, alternative); got {self.model_names!r}."
            )
        feats = self.feature_names
        if feats is not None:
            feats = tuple(str(f) for f in feats)
            if len(feats) != X.shape[1]:
                raise ValueError(
                    f"`feature_names` must name every column of `X`; got {len(feats)} names for "
                    f"{X.shape[1]} columns."
                )
            if len(set(feats)) != len(feats):
                dup = sorted({f for f in feats if feats.count(f) > 1})
                raise ValueError(f"`feature_names` must be unique; {dup} appear more than once.")
        if self.propensity is not None:
            object.__setattr__(self, "propensity", _readonly(check_known_propensity(self.propensity, source).copy()))
        object.__setattr__(self, "X", _readonly(X))
        object.__setattr__(self, "outcome", _readonly(outcome))
        object.__setattr__(self, "source", _readonly(source))
        object.__setattr__(self, "query_ids", ids)
        object.__setattr__(self, "model_names", names)
        object.__setattr__(self, "feature_names", feats)
        object.__setattr__(self, "shared_scale", bool(self.shared_scale))
        if self.mechanism is not None:
            object.__setattr__(self, "mechanism", _readonly(_check_mechanism(self.mechanism, source)))

    # ------------------------------------------------------------------ sizes
    @property
    def n(self) -> int:
        """Number of labelled rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Embedding dimension d."""
        return int(self.X.shape[1])

    @property
    def n_gold(self) -> int:
        """Number of gold-standard rows."""
        return int(self.source.sum())

    @property
    def n_preference(self) -> int:
        """Number of preference-based rows."""
        return self.n - self.n_gold

    @property
    def gold_share(self) -> float:
        """Share of gold rows, n_gold / n: the propensity when gold queries were drawn at random."""
        return self.n_gold / self.n

    @property
    def is_gold(self) -> np.ndarray:
        """Boolean mask of gold rows."""
        return self.source == 1

    @property
    def judges(self) -> tuple[str, ...]:
        """Names of the preference mechanisms, in order of first appearance (``("preference",)`` without ``mechanism``)."""
        if self.mechanism is None:
            return ("preference",)
        names = pd.unique(pd.Series(self.mechanism[self.source == 0]))
        return tuple(str(v) for v in names)

    def for_judge(self, judge: str) -> RoutingData:
        """The gold rows and the rows of one judge: a two-mechanism data set (no ``mechanism``).

        Every single-judge tool (:class:`~metarouter_stats.MetaRouter`, ``bias_ttest(data)``,
        the bands and tests) then applies to that judge against gold. Query ids, propensities,
        feature names and the scale declaration are kept.

        Examples
        --------
        >>> import numpy as np
        >>> from metarouter_stats import RoutingData
        >>> d = RoutingData(np.zeros((6, 1)), np.arange(6.0), [1, 1, 0, 0, 0, 0],
        ...                 mechanism=["gold", "gold", "a", "b", "a", "b"])
        >>> d.judges, d.for_judge("b").outcome.tolist()
        (('a', 'b'), [0.0, 1.0, 3.0, 5.0])
        """
        if self.mechanism is None:
            raise ValueError("These data have one preference mechanism (no `mechanism` column): use them as they are.")
        if judge not in self.judges:
            raise ValueError(f"`judge` must be one of {self.judges}; got {judge!r}.")
        rows = (self.source == 1) | (self.mechanism == judge)
        return replace(self.subset(rows), mechanism=None)

    def __repr__(self) -> str:
        judges = f", judges={self.judges}" if self.mechanism is not None else ""
        return (
            f"RoutingData(n={self.n}, d={self.n_features}, n_gold={self.n_gold}, "
            f"n_preference={self.n_preference}, models={self.model_names}{judges}"
            + (", shared_scale=True)" if self.shared_scale else ")")
        )

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        features: Sequence[str] | str,
        outcome: str,
        source: str,
        query_id: str | None = None,
        model_names: tuple[str, str] = ("primary", "alternative"),
        propensity: str | None = None,
        shared_scale: bool = False,
    ) -> RoutingData:
        """Build from a data frame.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per labelled query.
        features : sequence of str or str
            Feature columns; a string is a prefix selecting every column that starts
            with it (e.g. ``"emb_"``).
        outcome, source : str
            Columns with the observed gain and the mechanism (0/1 or
            ``"gold"``/``"preference"``).
        query_id : str, optional
            Column with query identifiers.
        model_names : tuple of str
            Names of the primary and alternative model.
        propensity : str, optional
            Column with each row's probability of gold labelling known by design.
        shared_scale : bool, default False
            Gold and preference labels are on one declared scale (see the class).

        Returns
        -------
        RoutingData

        Examples
        --------
        >>> import pandas as pd
        >>> from metarouter_stats import RoutingData
        >>> df = pd.DataFrame({"e1": [0., 1, 2, 3], "e2": [1., 0, 1, 0],
        ...                    "gain": [1., -1, 0.5, 0], "src": ["gold", "gold", "preference", "preference"]})
        >>> RoutingData.from_frame(df, features=["e1", "e2"], outcome="gain", source="src").n_gold
        2
        """
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"`frame` must be a pandas DataFrame; got {type(frame).__name__}.")
        wanted = {"outcome": outcome, "source": source}
        if query_id is not None:
            wanted["query_id"] = query_id
        if propensity is not None:
            wanted["propensity"] = propensity
        reserved = set(wanted.values())
        if isinstance(features, str):
            cols = [c for c in frame.columns if str(c).startswith(features) and c not in reserved]
            if not cols:
                raise ValueError(
                    f"`features` prefix {features!r} matches no column of `frame` (besides the outcome, source and "
                    f"id columns); columns are {list(frame.columns)[:10]}."
                )
        else:
            try:
                cols = list(features)
            except TypeError:
                raise TypeError(f"`features` must be a column prefix or a list of column names; got {features!r}.") from None
            if not cols:
                raise ValueError("`features` must name at least one column.")
            clash = [c for c in cols if c in reserved]
            if clash:
                raise ValueError(
                    f"`features` must not include the outcome, source or id column; got {clash}. Drop them from the "
                    "feature list."
                )
        for arg, col in [*[("features", c) for c in cols], *wanted.items()]:
            if col not in frame.columns:
                raise ValueError(
                    f"`{arg}` names column {col!r}, which is not in `frame`; columns are "
                    f"{list(frame.columns)[:10]}."
                )
        X = frame[cols].to_numpy()
        ids = frame[query_id].to_numpy() if query_id is not None else None
        return cls(
            X=X,
            outcome=frame[outcome].to_numpy(),
            source=frame[source].to_numpy(),
            query_ids=ids,
            model_names=model_names,
            feature_names=tuple(str(c) for c in cols),
            propensity=None if propensity is None else frame[propensity].to_numpy(),
            shared_scale=shared_scale,
        )

    # ----------------------------------------------------------------- views
    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: feature columns, ``outcome``, ``source`` (and ``query_id``, ``propensity``)."""
        names = self.feature_names or tuple(f"x{j}" for j in range(self.n_features))
        df = pd.DataFrame(self.X, columns=list(names))
        df["outcome"] = self.outcome
        df["source"] = self.source
        if self.query_ids is not None:
            df["query_id"] = self.query_ids
        if self.propensity is not None:
            df["propensity"] = self.propensity
        if self.mechanism is not None:
            df["mechanism"] = self.mechanism
        return df

    def with_feature_names(self, X: Any) -> Any:
        """``X`` as a DataFrame with this data's feature names, or as given when the data have none.

        A router fitted on named features records them (``feature_names_in_``) and, like every
        scikit-learn estimator, warns when asked to predict on a bare array; pass
        ``data.with_feature_names(X_new)`` instead.

        Examples
        --------
        >>> import numpy as np
        >>> from metarouter_stats import RoutingData
        >>> d = RoutingData(np.eye(4)[:, :2], np.zeros(4), [1, 1, 0, 0], feature_names=("a", "b"))
        >>> list(d.with_feature_names(np.zeros((3, 2))).columns)
        ['a', 'b']
        """
        if self.feature_names is None:
            return X
        arr = np.asarray(X)
        if arr.ndim != 2 or arr.shape[1] != len(self.feature_names):
            raise ValueError(f"`X` must have {len(self.feature_names)} columns like the data; got shape {arr.shape}.")
        return pd.DataFrame(arr, columns=list(self.feature_names))

    def subset(self, rows: Any) -> RoutingData:
        """Rows selected by a boolean mask or integer index (re-validated)."""
        idx = np.asarray(rows)
        if idx.dtype == bool and idx.shape != (self.n,):
            raise ValueError(f"`rows` mask must have length {self.n}; got shape {idx.shape}.")
        return RoutingData(
            X=self.X[idx],
            outcome=self.outcome[idx],
            source=self.source[idx],
            query_ids=None if self.query_ids is None else self.query_ids[idx],
            model_names=self.model_names,
            feature_names=self.feature_names,
            propensity=None if self.propensity is None else self.propensity[idx],
            shared_scale=self.shared_scale,
            mechanism=None if self.mechanism is None else self.mechanism[idx],
        )

    def paired(self) -> pd.DataFrame:
        """Gold and preference labels of the queries labelled by both mechanisms: the one pairing.

        Labels are averaged per query id and mechanism; queries appear in the order of
        their first row.

        Returns
        -------
        pandas.DataFrame
            Columns ``query_id``, ``gold``, ``preference``, ``n_gold_rows``,
            ``n_preference_rows`` (empty without query ids).

        Examples
        --------
        >>> import numpy as np
        >>> from metarouter_stats import RoutingData
        >>> d = RoutingData(np.zeros((5, 1)), [1.0, 0.0, 3.0, 2.0, 1.0], [1, 0, 1, 0, 0], query_ids=["a", "a", "b", "b", "c"])
        >>> d.paired()[["query_id", "gold", "preference"]].to_dict("list")
        {'query_id': ['a', 'b'], 'gold': [1.0, 3.0], 'preference': [0.0, 2.0]}
        """
        return paired_labels(self.outcome, self.source, self.query_ids)

    def test_mask(
        self, test_size: float | int, *, stratify: bool = True, candidates: str = "all", rng: Any = None
    ) -> np.ndarray:
        """Rows of a random test part: the one train/test splitter of the package.

        Units are queries when ``query_ids`` are set (every row of a query falls on the same
        side, so a query is never seen in training under either mechanism) and rows
        otherwise. The draw is :func:`sklearn.model_selection.train_test_split` over the
        units, stratified by whether a unit carries a gold label.

        Parameters
        ----------
        test_size : float in (0, 1) or int
            Share or number of units in the test part.
        stratify : bool, default True
            Keep the share of gold-labelled units equal in both parts.
        candidates : {"all", "gold"}, default "all"
            ``"gold"``: only units with a gold label can be drawn for the test part (an
            evaluation set needs gold labels); the others always stay in training.
        rng : None, int or numpy.random.Generator

        Returns
        -------
        ndarray of bool, shape (n,)
            True for the rows of the test part.
        """
        from sklearn.model_selection import train_test_split  # noqa: PLC0415

        if candidates not in ("all", "gold"):
            raise ValueError(f"`candidates` must be 'all' or 'gold'; got {candidates!r}.")
        keys = self.query_ids if self.query_ids is not None else np.arange(self.n)
        units, inverse = np.unique(np.asarray(keys).astype(str), return_inverse=True)
        has_gold = np.zeros(units.size, dtype=bool)
        has_gold[inverse[self.source == 1]] = True
        pool = np.flatnonzero(has_gold) if candidates == "gold" else np.arange(units.size)
        if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
            k = int(test_size)
        else:
            k = int(round(check_fraction(test_size, "test_size", closed=False) * pool.size))
        what = "gold-labelled units" if candidates == "gold" else "units"
        if k < 1 or pool.size - k < 1:
            raise ValueError(
                f"`test_size`={test_size!r} of {pool.size} {what} leaves {k} for test and {pool.size - k} for "
                "training; both parts need at least one."
            )
        strata = has_gold[pool] if stratify and candidates == "all" else None
        if strata is not None and (strata.all() or (~strata).all() or min(strata.sum(), (~strata).sum()) < 2):
            strata = None  # one stratum (or too small to split): a plain random draw
        seed = int(as_rng(rng).integers(2**31 - 1))
        _, test_units = train_test_split(pool, test_size=k, stratify=strata, random_state=seed)
        in_test = np.zeros(units.size, dtype=bool)
        in_test[test_units] = True
        return in_test[inverse]

    def train_test_split(
        self, test_size: float | int = 0.2, *, stratify: bool = True, rng: Any = None
    ) -> tuple[RoutingData, RoutingData]:
        """Random split into train and test by :meth:`test_mask`.

        Parameters
        ----------
        test_size : float in (0, 1) or int
            Share or number of units (queries with ``query_ids``, else rows) in the test part.
        stratify : bool, default True
            Keep the share of gold-labelled units equal in both parts.
        rng : None, int or numpy.random.Generator
            Seed of the split.

        Returns
        -------
        train, test : RoutingData
        """
        test = self.test_mask(test_size, stratify=stratify, rng=rng)
        for part, rows in (("training", ~test), ("test", test)):
            n_gold = int(self.source[rows].sum())
            n_pref = int(rows.sum()) - n_gold
            if n_gold < _MIN_PER_SOURCE or n_pref < _MIN_PER_SOURCE:
                raise ValueError(
                    f"`test_size`={test_size!r} leaves {n_gold} gold and {n_pref} preference rows in the {part} part; "
                    f"each part needs at least {_MIN_PER_SOURCE} of each. Choose a test_size nearer 0.5."
                )
        return self.subset(~test), self.subset(test)

    def holdout_gold(self, holdout: float, rng: Any = None) -> tuple[RoutingData, np.ndarray, np.ndarray]:
        """Hold out a share of the gold-labelled queries as an evaluation set.

        Drawn by :meth:`test_mask` with ``candidates="gold"``: with query ids, every row of
        a held-out query (its preference label too) leaves the training data.

        Returns
        -------
        train : RoutingData
        X_test : ndarray of shape (m, d)
        gold_test : ndarray of shape (m,)
            Gold labels of the held-out queries (averaged per query id).

        Examples
        --------
        >>> import metarouter_stats as mrs
        >>> data = mrs.simulate(n_gold=50, n_preference=200, n_test=10, d=6, rng=0).train
        >>> train, X_test, gold_test = data.holdout_gold(0.2, rng=0)
        >>> train.n_gold, train.n_preference, X_test.shape
        (40, 200, (10, 6))
        """
        share = check_fraction(holdout, "holdout", closed=False)
        n_units = np.unique(self.query_ids[self.is_gold].astype(str)).size if self.query_ids is not None else self.n_gold
        k = int(round(share * n_units))
        if k < 2 or n_units - k < 2:
            raise ValueError(
                f"`holdout`={share} of {n_units} gold queries leaves {k} test and {n_units - k} training "
                "gold queries; both need at least 2."
            )
        in_test = self.test_mask(k, candidates="gold", rng=rng)
        rows = np.flatnonzero(in_test & self.is_gold)
        ids = self.query_ids[rows] if self.query_ids is not None else rows
        frame = pd.DataFrame({"q": ids, "o": self.outcome[rows], "r": rows})
        per_query = frame.groupby("q", sort=False).agg(o=("o", "mean"), r=("r", "first"))
        return self.subset(~in_test), self.X[per_query["r"].to_numpy()], per_query["o"].to_numpy()
