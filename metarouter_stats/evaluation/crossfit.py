"""Whole-router cross-fitting on one data set, and the pseudo-gold of a fitted Meta-router.

:func:`cross_fit_scores` gives every router out-of-fold scores on every query (or, on paired
data, every query unit) for :func:`~metarouter_stats.evaluation.evaluate_routers`;
:func:`pseudo_gold` turns a fitted Meta-router and judge labels into the pseudo-gold
prediction the prediction-powered evaluation rectifies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._checks import as_rng, check_positive_int
from .._resampling import cross_fit_splitter
from ..cate.paired import paired_queries
from ..data import RoutingData

__all__ = ["cross_fit_scores", "pseudo_gold"]


def pseudo_gold(router: Any, X: Any, preference: Any = None) -> np.ndarray:
    """Pseudo-gold gains for evaluation: corrected preference labels where there are any.

    ``(y + Delta_hat(x)) / c`` on queries with a preference label y (the router's bias model on
    the preference scale, rescaled to gold), and the router's own prediction
    ``router.predict_gain(x)`` where there is none. The router (its bias model and c) must not
    have been fitted on the gold rows that will rectify it.

    Parameters
    ----------
    router : fitted MetaRouter (or any router with ``predict_gain``, ``predict_bias`` and ``scale_``)
    X : array-like of shape (n, d)
        Evaluation queries.
    preference : array-like of shape (n,), optional
        Preference gains, NaN where a query has none. None: the router's prediction everywhere.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=50, rng=0)
    >>> r = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    >>> y = np.where(np.arange(50) < 40, s.eta(s.X_test), np.nan)
    >>> pseudo_gold(r, s.X_test, y).shape
    (50,)
    """
    prediction = np.asarray(router.predict_gain(X), dtype=float).reshape(-1)
    if preference is None:
        return prediction
    y = np.asarray(preference, dtype=float).reshape(-1)
    if y.shape != prediction.shape:
        raise ValueError(f"`preference` must have one entry per row of `X` ({prediction.size}); got {y.size}.")
    if np.isinf(y).any():
        raise ValueError("`preference` must be finite or NaN (no label); got infinite values.")
    has = ~np.isnan(y)
    if not hasattr(router, "predict_bias") or not hasattr(router, "scale_"):
        raise TypeError("`router` needs `predict_bias` and `scale_` to correct preference labels (a fitted MetaRouter).")
    out = prediction.copy()
    if has.any():
        rows = X.iloc[has] if isinstance(X, pd.DataFrame) else np.asarray(X)[has]  # keep the feature names
        delta = np.asarray(router.predict_bias(rows, units="preference"), dtype=float).reshape(-1)
        out[has] = (y[has] + delta) / float(router.scale_)
    return out


# --------------------------------------------------------------------------- one data set: cross-fitting


def cross_fit_scores(
    routers: dict[str, Any], data: Any, *, folds: int = 5, rng: Any = None
) -> dict[str, Any]:
    """Out-of-fold scores of every router on every query of one data set, for :func:`evaluate_routers`.

    For a user with a single data set: each router is fitted ``folds`` times, each time without
    one fold, and scores that fold's queries (folds grouped by query id when the data has them:
    no router ever sees a label, gold or judge, of a query it scores).

    **Paired data** (query ids tie judge rows to gold rows): the evaluation units are the
    queries, one entry each, and the pseudo-gold of a query is its own judge label corrected by
    the first Meta-router fitted without its fold, ``(y + Delta_hat(x)) / c`` (:func:`pseudo_gold`;
    the router's psi_hat(x) for a query without a judge label):
    the judge label of every query, gold-labelled or not, is the same function of the query, as a
    rectifier needs, and it carries what the judge saw in that query's answers. **Otherwise**
    the units are the rows and the pseudo-gold is the first Meta-router's out-of-fold prediction
    psi_hat(x) (corrected preference labels would exist on preference rows only).

    **Several judges** (paired data with a ``mechanism`` per row, and a
    :class:`~metarouter_stats.MultiJudgeRouter` as the first router with a bias model): the
    pseudo-gold has one column per judge, each query's label from that judge corrected by that
    judge's bias fitted without the query's fold (the router's psi_hat where the judge did not
    label the query); :func:`evaluate_routers` tunes one PPI++ power per column, so the
    combination is used as far as it predicts gold.

    Then ``evaluate_routers(out["scores"], out["gold"], pseudo_gold=out["pseudo_gold"])``
    estimates, with gold-labelled units treated as a random subset of all units (probability =
    their share), the **average value of the fold-wise routers**: the training procedure's value
    at (folds - 1) / folds of the data, conditional on these fits. Its intervals omit the
    variability of training itself, so they are too narrow for the procedure's expected value
    (Bates, Hastie and Tibshirani 2023 on what cross-validation estimates); read them as
    conditional on the fitted folds.

    Parameters
    ----------
    routers : dict of name -> unfitted router
    data : RoutingData
    folds : int, default 5
    rng : None, int or numpy.random.Generator
        Seed of the fold assignment.

    Returns
    -------
    dict
        ``scores`` (name -> array (m,)), ``gold`` (gold labels, NaN on units without one),
        ``pseudo_gold`` (array (m,), (m, K) with several judges, or None without a Meta-router),
        ``pseudo_gold_judges`` (the judges of those K columns, or None), ``fold`` (array (m,)),
        ``unit`` ("query" or "row") and ``query_id`` (the units' ids, or None); m = queries on
        paired data, rows otherwise.
    """
    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData; got {type(data).__name__}.")
    if not isinstance(routers, dict) or not routers:
        raise ValueError("`routers` must be a non-empty dict name -> router.")
    folds = check_positive_int(folds, "folds", minimum=2)
    n = data.n
    seed = int(as_rng(rng).integers(2**31))
    grouped = data.query_ids is not None  # a query's rows in one fold, the folds seeded
    splits = list(cross_fit_splitter(folds, seed, stratify=False, grouped=grouped).split(
        np.zeros(n), groups=np.asarray(data.query_ids) if grouped else None))
    # paired design (some query carries both labels): one unit per query, its x and mean gold and judge labels
    q = None if data.query_ids is None else paired_queries(data.X, data.outcome, data.source, data.query_ids)
    by_query = q is not None and q["X"].shape[0] < n and bool(np.any(q["has_gold"] & q["has_judge"]))
    if by_query and q is not None:
        codes, unit_X, gold, judge, m = q["codes"], q["X"], q["gold"], q["judge"], q["X"].shape[0]
        unit_splits = [(np.unique(codes[tr]), np.unique(codes[te])) for tr, te in splits]
    else:
        unit_X, m = data.X, n
        gold = np.where(data.source == 1, data.outcome, np.nan)
    X_named = data.with_feature_names(unit_X)  # the names the routers record: no feature-name warnings
    per_judge: dict[str, np.ndarray] = {}
    if by_query and q is not None and data.mechanism is not None:  # each judge's label per query (NaN: none)
        nq = q["X"].shape[0]
        for jname in data.judges:
            rows = data.mechanism == jname
            count = np.bincount(q["codes"][rows], minlength=nq)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_judge[jname] = np.bincount(q["codes"][rows], weights=data.outcome[rows], minlength=nq) / count
    fold = np.empty(m, dtype=int)
    scores = {name: np.empty(m) for name in routers}
    pseudo = None
    pseudo_names: tuple[str, ...] | None = None
    for k, (train_idx, test_idx) in enumerate(splits):
        units = unit_splits[k][1] if by_query else test_idx
        fold[units] = k
        train = data.subset(np.isin(np.arange(n), train_idx))
        X_test = X_named.iloc[units] if hasattr(X_named, "iloc") else X_named[units]
        for name, proto in routers.items():
            try:
                router = clone(proto).fit(train)
            except ValueError as exc:
                raise ValueError(
                    f"cross_fit_scores: router {name!r} could not be fitted without fold {k + 1} of {folds} (the other "
                    f"folds hold {train.n_gold} gold and {train.n_preference} preference rows): {exc} With few gold "
                    "labels, lower `folds` or the router's own cross-fitting (cate=DRBiasLearner(cv=...))."
                ) from None
            scores[name][units] = router.predict_gain(X_test)
            several = hasattr(router, "judge_routers_")  # a MultiJudgeRouter: one pseudo-gold column per judge
            if pseudo is None and hasattr(router, "predict_bias"):
                pseudo_names = tuple(router.judge_routers_) if several and per_judge else None
                pseudo = np.empty((m, len(pseudo_names)) if pseudo_names else m), name
            if pseudo is not None and pseudo[1] == name:
                if pseudo_names:
                    for c, jname in enumerate(pseudo_names):
                        pseudo[0][units, c] = pseudo_gold(router.judge_routers_[jname], X_test, per_judge[jname][units])
                elif several:
                    raise ValueError(
                        f"cross_fit_scores: router {name!r} corrects several judges; give it paired data with a "
                        "`mechanism` per row (query ids and judge names), or put a MetaRouter first."
                    )
                else:
                    pseudo[0][units] = (pseudo_gold(router, X_test, judge[units]) if by_query
                                        else scores[name][units])
    return {"scores": scores, "gold": gold, "pseudo_gold": None if pseudo is None else pseudo[0], "fold": fold,
            "pseudo_gold_judges": pseudo_names, "unit": "query" if by_query else "row",
            "query_id": (np.asarray(data.query_ids)[q["first"]] if by_query and q is not None else
                         (None if data.query_ids is None else np.asarray(data.query_ids)))}
