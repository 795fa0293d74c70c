r"""Choosing a bias learner on held-out data: the R-loss score of EconML's ``RScorer``, for the bias.

The bias is a conditional average treatment effect with the treatment "which mechanism
labelled the query" (T = 1 gold). On validation rows with outcome
:math:`Y = c \cdot \text{gold}` (T = 1) or :math:`Y = \text{preference}` (T = 0), the preference
scale of a Meta-router's learner, Robinson's decomposition gives

.. math:: Y - m(x) = \Delta(x)\,(T - e(x)) + \varepsilon,\qquad m(x) = E[Y \mid x],\ e(x) = P(T = 1 \mid x),

so a candidate :math:`\hat\Delta` is judged by the R-loss (Nie and Wager 2021)
:math:`L(\hat\Delta) = E_n[(\tilde Y - \hat\Delta(x)\tilde T)^2]` on cross-fitted residuals
:math:`\tilde Y, \tilde T`, against the best constant bias
:math:`L_0 = \min_\theta E_n[(\tilde Y - \theta \tilde T)^2]`:
``score = 1 - L / L_0`` (EconML's ``RScorer``; Schuler et al. 2018 compare such criteria).
A positive score means the candidate explains heterogeneity a constant bias does not;
negative means it does worse than a constant (over-fitting).

What this adds to EconML's scorer: the gold rows enter on the preference scale with the
candidates' own c (the residual of E[Y | x] is linear in c, so one nuisance fit serves every
c); known labelling probabilities (``RoutingData.propensity``) replace the propensity model;
a query's rows stay in one fold on paired data; and every score comes with a standard
error, and every difference from the best candidate with a paired one (delta method over
validation rows, clustered by query id; conditional on the fitted candidates and on the
nuisance fits, which the cross-fitting makes first-order negligible).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone

from .._resampling import cross_fit_splitter
from .._checks import as_seed, check_positive_int
from .nuisance import ClippedPropensity, default_outcome_model
from ..data import RoutingData

__all__ = ["BiasRScorer"]

_SCALE_RTOL = 1e-9


class BiasRScorer(BaseEstimator):
    """R-loss score of bias learners on held-out routing data (EconML's ``RScorer`` for the bias).

    Parameters
    ----------
    model_y : regressor, optional
        Nuisance model of the outcome given x (default: the learners' gradient-boosted
        trees, :func:`~metarouter_stats.cate.default_outcome_model`). Fitted twice per fold:
        to ``gold * T`` and to ``preference * (1 - T)``, so that ``m(x)`` is available for any
        scale c as ``c * m_1(x) + m_0(x)``.
    model_t : classifier, optional
        Propensity model P(gold | x) (default: the package's logistic model), clipped relative
        to the gold share exactly as the learners clip theirs
        (:class:`~metarouter_stats.cate.ClippedPropensity`), so that the score weighs rows as the
        learners it scores do. Not used when the validation data carry known labelling probabilities.
    cv : int or iterable of (train, test) index arrays, default 5
        Cross-fitting folds of the nuisances: an int makes stratified folds by source,
        grouped by query id when ids repeat (paired data).
    scale : float, optional
        The scale constant c of the outcome ``c * gold``. Default: each Meta-router's own
        ``scale_``; candidates compared with each other must share it (their R-losses are
        then on one outcome). Bare bias learners, which do not record a c, take it from the
        Meta-routers scored with them, else c = 1 (labels already on one scale).
    random_state : int, optional
        Seed of the folds and of the nuisance models' randomness.

    Attributes
    ----------
    n_ : int
        Validation rows.
    residual_t_ : ndarray of shape (n,)
        Cross-fitted ``T - e(x)``.

    See Also
    --------
    metarouter_stats.gold_scorer : scores a router's *routing* on gold rows (``GridSearchCV``).

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> train = mrs.simulate(n_gold=100, n_preference=1000, n_test=1, d=6, rng=0).train
    >>> valid = mrs.simulate(n_gold=100, n_preference=1000, n_test=1, d=6, rng=1).train
    >>> routers = {name: mrs.MetaRouter(cate=name, scale=0.25, random_state=0).fit(train) for name in ("dr", "r")}
    >>> scorer = mrs.BiasRScorer(random_state=0).fit(valid)
    >>> table = scorer.score_table(routers)
    >>> list(table.columns)
    ['score', 'std_error', 'difference_from_best', 'difference_std_error', 'p_value']
    >>> bool(table["score"].max() > 0)   # a linear bias: both beat a constant one
    True
    """

    def __init__(self, model_y: Any = None, model_t: Any = None, cv: Any = 5, scale: float | None = None,
                 random_state: int | None = None) -> None:
        self.model_y = model_y
        self.model_t = model_t
        self.cv = cv
        self.scale = scale
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, data: RoutingData) -> BiasRScorer:
        """Cross-fit the nuisances on validation data the candidates were **not** fitted on; returns self.

        Parameters
        ----------
        data : RoutingData
            Held-out rows with gold and preference labels (at least 2 of each per fold).
        """
        if not isinstance(data, RoutingData):
            raise TypeError(f"`data` must be a RoutingData of held-out rows; got {type(data).__name__}.")
        if self.scale is not None:
            try:
                ok = bool(np.isfinite(float(self.scale)) and float(self.scale) > 0)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"`scale` must be a positive number (the constant c) or None; got {self.scale!r}.")
        X, t, y = data.X, data.source.astype(int), data.outcome
        ids = data.query_ids
        groups = ids if ids is not None and np.unique(ids).size < ids.size else None
        splits = self._splits(X, t, groups)
        gold = t == 1
        m1, m0, e = np.zeros(t.size), np.zeros(t.size), np.zeros(t.size)
        base_y = default_outcome_model(self.random_state) if self.model_y is None else self.model_y
        base_t = ClippedPropensity(self.model_t)  # the learners' clip around their propensity model
        for train, test in splits:
            for target, out in ((np.where(gold, y, 0.0), m1), (np.where(gold, 0.0, y), m0)):
                out[test] = np.asarray(clone(base_y).fit(X[train], target[train]).predict(X[test]), dtype=float)
            if data.propensity is None:
                if np.unique(t[train]).size < 2:
                    raise ValueError("A cross-fitting fold has rows of one source only: use fewer folds (`cv`) "
                                     "or more validation rows of each source.")
                model = clone(base_t).fit(X[train], t[train])
                e[test] = model.predict_proba(X[test])[:, list(model.classes_).index(1)]
        if data.propensity is not None:
            e = np.asarray(data.propensity, dtype=float)
        self.X_, self._y, self._gold, self._m1, self._m0 = X, y, gold, m1, m0
        self.residual_t_ = t - e
        self.groups_ = groups
        self.n_ = int(t.size)
        self.feature_names_in_ = data.feature_names
        return self

    def _splits(self, X: np.ndarray, t: np.ndarray, groups: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        if isinstance(self.cv, (int, np.integer)) and not isinstance(self.cv, bool):
            k = check_positive_int(self.cv, "cv", minimum=2)
            seed = as_seed(self.random_state, "random_state")
            return list(cross_fit_splitter(k, seed, grouped=groups is not None).split(X, t, groups))
        if isinstance(self.cv, (str, bytes)):
            raise TypeError(f"`cv` must be an int >= 2, a scikit-learn splitter, or (train, test) index pairs; got the "
                            f"text {self.cv!r} (pass the number, e.g. cv={self.cv.strip() if isinstance(self.cv, str) else 5}).")
        if hasattr(self.cv, "split"):  # a scikit-learn splitter
            return list(self.cv.split(X, t, groups))
        try:
            splits = [(np.asarray(a, dtype=int), np.asarray(b, dtype=int)) for a, b in self.cv]
        except (TypeError, ValueError):
            raise TypeError("`cv` must be an int >= 2, a scikit-learn splitter, or (train, test) index pairs; "
                            f"got {self.cv!r}.") from None
        covered = np.zeros(X.shape[0], dtype=int)
        for _, test in splits:
            covered[test] += 1
        if not np.all(covered == 1):
            raise ValueError("`cv` folds must put every validation row in exactly one test fold.")
        return splits

    # ------------------------------------------------------------------ losses
    def _check_fitted(self) -> None:
        if not hasattr(self, "residual_t_"):
            raise RuntimeError("This BiasRScorer is not fitted: call fit(validation_data) first.")

    def _scale_of(self, model: Any, default: float | None = None) -> float:
        own = getattr(model, "scale_", None)
        if own is None:
            if self.scale is not None:
                return float(self.scale)
            return 1.0 if default is None else default
        if self.scale is not None and not np.isclose(own, self.scale, rtol=_SCALE_RTOL, atol=0):
            raise ValueError(f"A candidate Meta-router has scale_ = {own:.6g} but the scorer's `scale` is "
                             f"{self.scale:.6g}: R-losses compare learners on one outcome. Refit the router with "
                             f"scale={self.scale:.6g}, or leave the scorer's `scale` at None.")
        return float(own)

    def _effect(self, model: Any) -> np.ndarray:
        if hasattr(model, "predict_bias"):
            delta = model.predict_bias(self.X_, units="preference")
        elif hasattr(model, "effect"):
            delta = model.effect(self.X_)
        else:
            raise TypeError("A candidate must be a fitted MetaRouter (predict_bias) or a fitted bias learner "
                            f"(effect); got {type(model).__name__}.")
        delta = np.asarray(delta, dtype=float).reshape(-1)
        if delta.size != self.n_:
            raise ValueError(f"A candidate predicted {delta.size} biases for {self.n_} validation rows.")
        return delta

    def _losses(self, model: Any, default_scale: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-row R-loss of the candidate and of the best constant, and the candidate's c."""
        self._check_fitted()
        c = self._scale_of(model, default_scale)
        y_res = np.where(self._gold, c * self._y, self._y) - (c * self._m1 + self._m0)
        t_res = self.residual_t_
        theta = float(np.sum(y_res * t_res) / np.sum(t_res**2))
        return (y_res - self._effect(model) * t_res) ** 2, (y_res - theta * t_res) ** 2, c

    def _cluster_se(self, influence: np.ndarray) -> float:
        """SE of a mean from its per-row influence values, clustered by query id on paired data."""
        if self.groups_ is not None:
            influence = pd.Series(influence).groupby(np.asarray(self.groups_)).sum().to_numpy()
        return float(np.std(influence, ddof=1) * np.sqrt(influence.size) / self.n_)

    # ------------------------------------------------------------------ public
    def score(self, model: Any) -> float:
        """``1 - L(model) / L_0``: R-loss improvement of the candidate over the best constant bias.

        Parameters
        ----------
        model : fitted MetaRouter or fitted bias learner
            A MetaRouter is read through ``predict_bias(X, units="preference")`` with its own c;
            a bias learner through ``effect(X)`` (on the scale of the labels it was fitted on).
        """
        loss, base, _ = self._losses(model)
        return float(1.0 - loss.mean() / base.mean())

    def score_table(self, models: Mapping[str, Any]) -> pd.DataFrame:
        """Scores of named candidates with standard errors, and each one's difference from the best.

        ``std_error``: delta-method SE of the score over validation rows (clustered by query
        id on paired data). ``difference_from_best``: the best score minus this one (0 for
        the best); its SE is paired (both losses on the same rows), and ``p_value`` is the
        two-sided normal test of no difference. All conditional on the fitted candidates.
        """
        if not isinstance(models, Mapping) or not models:
            raise TypeError("`models` must be a non-empty mapping name -> fitted MetaRouter or bias learner.")
        self._check_fitted()
        # bare bias learners take the scorer's `scale`, else the Meta-routers' c (one outcome for all)
        router_scale = next((self._scale_of(m) for m in models.values() if getattr(m, "scale_", None) is not None), None)
        losses = {name: self._losses(m, router_scale) for name, m in models.items()}
        scales = {name: c for name, (_, _, c) in losses.items()}
        if len(models) > 1 and not np.allclose(list(scales.values()), next(iter(scales.values())), rtol=_SCALE_RTOL,
                                               atol=0):
            raise ValueError(f"The candidates have different scale constants {scales}: their R-losses are on different "
                             "outcomes. Refit them with one `scale`, or score each against its own baseline with score().")
        base = next(iter(losses.values()))[1]
        b = base.mean()
        rows = {}
        for name, (loss, _, _) in losses.items():
            ratio = loss.mean() / b
            rows[name] = {"score": 1 - ratio, "std_error": self._cluster_se((loss - ratio * base) / b), "_loss": loss}
        best = max(rows, key=lambda k: rows[k]["score"])
        for name, row in rows.items():
            diff = rows[best]["score"] - row["score"]
            se = self._cluster_se(((row["_loss"] - rows[best]["_loss"]) - diff * base) / b) if name != best else 0.0
            row.update(difference_from_best=diff, difference_std_error=se,
                       p_value=float(2 * stats.norm.sf(diff / se)) if se > 0 else 1.0)
        frame = pd.DataFrame({k: {c: v for c, v in r.items() if c != "_loss"} for k, r in rows.items()}).T
        return frame.astype(float).sort_values("score", ascending=False)

    def best_model(self, models: Mapping[str, Any], return_scores: bool = False) -> Any:
        """The candidate with the highest score (and, with ``return_scores``, the score table).

        Returns ``(name, model)``, or ``(name, model, table)`` with ``return_scores=True``.
        """
        table = self.score_table(models)
        name = str(table.index[0])
        return (name, models[name], table) if return_scores else (name, models[name])
