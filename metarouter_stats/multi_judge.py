"""A Meta-router over several judges: one bias function per judge, every judge corrected and pooled.

With judges 1..K and gold the reference, the evaluation mechanism is a multi-valued treatment and
each judge has its own bias :math:`\\Delta_k(x) = \\psi(x) - \\eta_k(x)` (gold minus judge k, gold
scale). :class:`MultiJudgeRouter` estimates each :math:`\\Delta_k` on the gold rows and judge k's
rows (a :class:`~metarouter_stats.MetaRouter` per judge: the DR-learner, or the paired learner on
paired data, with the judge's own scale constant), corrects every judge's labels,
:math:`y_k + \\hat\\Delta_k`, and fits psi on gold and all corrected labels together, each source
weighted by the inverse of its estimated residual variance.

Why one pairwise fit per judge rather than EconML's multi-valued ``DRLearner``: the contrast
"gold against judge k" needs only the rows of those two mechanisms (the other judges' rows carry
no information about it beyond their x, which the propensity conditions on), so the pairwise
DR-learner is the multi-valued one with the propensity P(gold | x, mechanism in {gold, k}); it
reuses every single-judge tool unchanged (the paired learner, bands, tests, the scale rule), and a
judge's bias does not change when another judge is added or dropped.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from ._threads import budgeted
from .cate.nuisance import fit_weighted
from .data import RoutingData, data_digest
from .routers import BaseRouter, MetaRouter, check_units
from .scaling import SCALE_DEFAULT

__all__ = ["WEIGHTINGS", "MultiJudgeRouter", "correct_judge"]

WEIGHTINGS = ("inverse_variance", "equal")


class MultiJudgeRouter(BaseRouter):
    """Meta-router over several judges (see the module docstring).

    Parameters
    ----------
    cate : str or learner, default "auto"
        Bias learner of each judge, as in :class:`~metarouter_stats.MetaRouter` ("auto": the
        paired learner where a judge's rows are mostly paired with gold, else the DR-learner).
    scale : default "auto"
        Scale rule of each judge against gold, as in :class:`~metarouter_stats.MetaRouter`
        (c = 1 when the data declare one scale).
    judges : sequence of str, optional
        The judges to use (default: every judge in the data).
    weighting : {"inverse_variance", "equal"}, default "inverse_variance"
        How gold and the corrected judges are weighted in the regression of psi:
        ``"inverse_variance"`` weights each source by 1 / (its out-of-fold residual variance
        around an equally weighted fit), relative to gold (weight 1); ``"equal"`` weights
        every row 1.
    max_bias_se : float, optional
        Drop a judge whose mean bias (the learner's average bias, gold units) has a standard
        error above this: its correction is too uncertain to add information. ``dropped_`` says
        which and why.
    regressor : regressor, optional
        Model of psi (default: the package's gradient-boosted trees), fitted with sample weights.
    random_state : int, optional

    Attributes
    ----------
    judges_ : tuple of str
        The judges whose corrected labels were pooled.
    dropped_ : dict
        Judge -> why it was left out.
    judge_routers_ : dict
        Judge -> its fitted :class:`~metarouter_stats.MetaRouter` (gold and that judge).
    residual_variance_ : dict
        Source ("gold" and each judge) -> out-of-fold residual variance of its (corrected) labels.
    weights_ : dict
        Source -> weight of its rows in the regression of psi (gold 1).
    scale_ : float
        1: psi is fitted on the gold scale.

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> sim = mrs.simulate_judges(n_gold=60, n_queries=400, n_test=200, d=8, rng=0)
    >>> router = mrs.MultiJudgeRouter(random_state=0).fit(sim.train)
    >>> router.judges_
    ('strong', 'cheap', 'twin')
    >>> router.predict_gain(sim.X_test).shape
    (200,)
    """

    def __init__(
        self,
        *,
        cate: Any = "auto",
        scale: Any = SCALE_DEFAULT,
        judges: Any = None,
        weighting: str = "inverse_variance",
        max_bias_se: float | None = None,
        regressor: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.cate = cate
        self.scale = scale
        self.judges = judges
        self.weighting = weighting
        self.max_bias_se = max_bias_se
        self.regressor = regressor
        self.random_state = random_state

    def judge_router(self, data: RoutingData, judge: str) -> MetaRouter:
        """The single-judge router this router fits for ``judge``, fitted on ``data`` (gold and that judge's rows).

        What ``fit`` stores in ``judge_routers_``; for refits on other rows (cross-fitted corrections).
        """
        sub = data if data.mechanism is None else data.for_judge(judge)
        return MetaRouter(cate=self.cate, scale=self.scale, regressor=self.regressor,
                          random_state=self.random_state).fit(sub)

    @budgeted
    def fit(self, X: Any, y: Any = None, source: Any = None, *, mechanism: Any = None,
            query_ids: Any = None) -> MultiJudgeRouter:
        """Fit every judge's bias, correct and pool the judges' labels with gold, fit psi; returns self.

        Parameters
        ----------
        X : RoutingData or array-like of shape (n, d)
            A RoutingData with a ``mechanism`` per row (gold or a judge's name; without it the
            preference rows are one judge, called "preference"), or the features, with the
            labels in ``y``, ``source`` and ``mechanism`` (as :class:`MultiModelRouter
            <metarouter_stats.MultiModelRouter>` passes them).
        y, source, mechanism, query_ids : array-like of shape (n,), optional
            With array ``X``: gains, 1 / 0 for gold / judge rows, each row's mechanism, and the
            query of each row (pairs a query's gold and judge rows).
        """
        self._check_params()
        if isinstance(X, RoutingData):
            if any(v is not None for v in (y, source, mechanism, query_ids)):
                raise TypeError("`y`, `source`, `mechanism` and `query_ids` are read from the RoutingData; pass it alone.")
            data = X
        else:
            if y is None or source is None:
                raise TypeError(
                    "`X` must be a RoutingData with a `mechanism` per row, or features with `y`, `source` and "
                    f"`mechanism` given; got {type(X).__name__} without `y` / `source`."
                )
            data = RoutingData(X, y, source, query_ids=query_ids, mechanism=mechanism)
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"`weighting` must be one of {WEIGHTINGS}; got {self.weighting!r}.")
        if self.max_bias_se is not None and (
            isinstance(self.max_bias_se, bool) or not isinstance(self.max_bias_se, numbers.Real)
            or not self.max_bias_se > 0
        ):
            raise ValueError(f"`max_bias_se` must be a positive number (gold units) or None; got {self.max_bias_se!r}.")
        available = data.judges
        wanted = available if self.judges is None else tuple(self.judges)
        if isinstance(self.judges, str) or not wanted:
            raise ValueError(f"`judges` must be a non-empty sequence of judge names among {available}; got {self.judges!r}.")
        unknown = [j for j in wanted if j not in available]
        if unknown:
            raise ValueError(f"`judges` must be among the data's judges {available}; got {unknown}.")

        gold = data.source == 1
        self.judge_routers_: dict[str, MetaRouter] = {}
        self.dropped_: dict[str, str] = {}
        for j in wanted:
            r = self.judge_router(data, j)
            self.judge_routers_[j] = r
            if self.max_bias_se is not None:
                se_gold = r.ate_std_error(units="gold")
                if se_gold > self.max_bias_se:
                    self.dropped_[j] = f"SE of its mean bias {se_gold:.3g} > max_bias_se={self.max_bias_se:g}"
        self.judges_ = tuple(j for j in wanted if j not in self.dropped_)
        if not self.judges_:
            raise ValueError(f"Every judge was dropped ({self.dropped_}); raise `max_bias_se` or add gold labels.")

        ids = data.query_ids if data.query_ids is not None else np.arange(data.n)
        X_parts, target_parts = [data.X[gold]], [data.outcome[gold]]
        label_parts, unit_parts = [np.array(["gold"] * int(gold.sum()))], [ids[gold]]
        for j in self.judges_:
            rows, corrected = self.corrected_labels(data, j)
            X_parts.append(data.X[rows])
            target_parts.append(corrected)
            label_parts.append(np.array([j] * int(rows.sum())))
            unit_parts.append(ids[rows])
        X = np.concatenate(X_parts)
        target = np.concatenate(target_parts)
        label = np.concatenate(label_parts)
        units = np.concatenate(unit_parts)
        sources = ("gold",) + self.judges_
        self.residual_variance_ = self._residual_variances(X, target, label, units, sources)
        if self.weighting == "equal":
            self.weights_ = dict.fromkeys(sources, 1.0)
        else:
            v_gold = self.residual_variance_["gold"]
            self.weights_ = {s: float(v_gold / self.residual_variance_[s]) for s in sources}
        w = np.array([self.weights_[s] for s in label])
        self.regressor_ = fit_weighted(self._regressor(), X, target, w)
        self.scale_ = 1.0
        self.n_gold_ = int(gold.sum())
        self.training_digest_ = data_digest(data.X, data.outcome, data.source)
        self._record_features(data)
        return self

    def _residual_variances(
        self, X: np.ndarray, target: np.ndarray, label: np.ndarray, units: np.ndarray, sources: tuple[str, ...]
    ) -> dict[str, float]:
        """Out-of-fold residual variance of each source's labels around an equally weighted fit of psi.

        Folds keep a query's rows together (its gold and judge labels share the query's own gain).
        """
        _, unit_codes = np.unique(units.astype(str), return_inverse=True)
        n_units = int(unit_codes.max()) + 1
        folds = GroupKFold(n_splits=min(5, n_units))
        oof = np.empty(target.size)
        for train, test in folds.split(X, target, unit_codes):
            oof[test] = clone(self._regressor()).fit(X[train], target[train]).predict(X[test])
        resid = target - oof
        out = {}
        for s in sources:
            r = resid[label == s]
            out[s] = float(np.mean(r**2)) if r.size else float("nan")
        return out

    def corrected_labels(self, data: RoutingData, judge: str) -> tuple[np.ndarray, np.ndarray]:
        """Judge ``judge``'s labels in ``data`` corrected by its fitted bias, on the gold scale.

        Returns ``(rows, corrected)``: the judge's rows (boolean mask over ``data``) and
        ``(y + Delta_hat_k(x)) / c_k`` at those rows, what the router pools with gold (and what
        :func:`~metarouter_stats.compare_judges` correlates with gold).
        """
        return correct_judge(data, judge, self._fitted_judge(judge))

    @budgeted
    def predict_bias(self, X: Any, judge: str, *, units: str = "gold") -> np.ndarray:
        """Estimated bias of ``judge`` (gold minus judge), as :meth:`MetaRouter.predict_bias`."""
        return self._fitted_judge(judge).predict_bias(X, units=check_units(units))

    def _fitted_judge(self, judge: str) -> MetaRouter:
        check_is_fitted(self, "judge_routers_")
        if judge not in self.judge_routers_:
            raise ValueError(f"`judge` must be one of {tuple(self.judge_routers_)}; got {judge!r}.")
        return self.judge_routers_[judge]


def correct_judge(data: RoutingData, judge: str, router: MetaRouter) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, corrected)``: the judge's rows of ``data`` and its labels there corrected by ``router``'s bias.

    ``(y + Delta_hat(x)) / c`` with ``router`` a :class:`~metarouter_stats.MetaRouter` fitted on gold and
    this judge (gold scale). :meth:`MultiJudgeRouter.corrected_labels` applies it with the router's own fit.
    """
    rows = (data.source == 0) if data.mechanism is None else (data.mechanism == judge)
    correction = router.predict_bias(data.with_feature_names(data.X[rows]), units="preference")
    return rows, (data.outcome[rows] + correction) / router.scale_
