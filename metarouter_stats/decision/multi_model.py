"""A router over K models: one Meta-router per non-reference model, chosen by the decision rule."""

from __future__ import annotations

import inspect

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._checks import as_1d_float, as_2d_float, as_source
from .._threads import budgeted
from ..routers import MetaRouter
from .rule import choose_models, weight_for_budget
from .costs import TokenCost, cost_matrix

__all__ = ["MultiModelRouter"]

class MultiModelRouter(BaseEstimator):
    """Route among K models priced per token: one Meta-router per non-reference model.

    For every model k other than the reference, gold and preference labels of the
    gain of k over the reference (from pairwise judgments against the reference or
    per-model score differences) train a clone of ``router`` (by default a
    :class:`~metarouter_stats.MetaRouter`); the reference's gain is 0. Decisions
    maximise ``psi_hat_k(q) - w C_k(q)``.

    Parameters
    ----------
    models : sequence of str
        All model names, the reference included.
    reference : str
        The model every gain is measured against (usually the cheapest).
    costs : mapping name -> TokenCost, optional
        Prices. Default: unit costs (1 per call for every non-reference model, 0 for
        the reference), the paper's binary case.
    router : estimator, optional
        Binary router cloned for every k. Default ``MetaRouter()``.
    random_state : int or None
        Passed to every clone that has a ``random_state`` parameter.

    Attributes
    ----------
    routers_ : dict name -> fitted router

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=40, n_preference=300, n_test=20, rng=0)
    >>> X, y, t = s.train.X, s.train.outcome, s.train.source
    >>> mm = mrs.MultiModelRouter(["small", "large"], reference="small",
    ...                           router=mrs.PooledRouter(), random_state=0)
    >>> mm = mm.fit(X, y, source=t, model=np.full(len(y), "large"))
    >>> mm.predict_gain(s.X_test).columns.tolist()
    ['small', 'large']
    """

    def __init__(
        self,
        models: Sequence[str],
        reference: str,
        *,
        costs: Mapping[str, TokenCost] | None = None,
        router: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.models = models
        self.reference = reference
        self.costs = costs
        self.router = router
        self.random_state = random_state

    def _check_models(self) -> list[str]:
        if isinstance(self.models, str):
            raise TypeError(f"`models` must be a list of model names, not one string; got {self.models!r}.")
        models = list(self.models)
        if len(models) < 2 or len(set(models)) != len(models) or not all(isinstance(m, str) for m in models):
            raise ValueError(f"`models` must be at least two distinct names; got {self.models!r}.")
        if self.reference not in models:
            raise ValueError(f"`reference` must be one of `models` {models}; got {self.reference!r}.")
        return models

    def _costs(self) -> dict[str, TokenCost]:
        models = self._check_models()
        if self.costs is None:
            return {m: TokenCost.flat(0.0 if m == self.reference else 1.0) for m in models}
        for m, c in self.costs.items():
            if not isinstance(c, TokenCost):
                raise TypeError(f"`costs[{m!r}]` must be a TokenCost; got {type(c).__name__}.")
        return dict(self.costs)

    @budgeted
    def fit(self, X: Any, y: Any, source: Any, model: Any, *, mechanism: Any = None) -> MultiModelRouter:
        """Fit one router per non-reference model from long-format labels.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Embedding of the query of each label.
        y : array-like of shape (n,)
            Gain of ``model[i]`` over the reference on that query.
        source : array-like of shape (n,)
            1 / "gold" or 0 / "preference".
        model : array-like of str, shape (n,)
            Which model's gain each row measures.
        mechanism : array-like of str, shape (n,), optional
            Which judge labelled each preference row ("gold" on gold rows), for a ``router``
            over several judges (:class:`~metarouter_stats.MultiJudgeRouter`); passed to its
            ``fit`` with each model's rows.

        Returns
        -------
        self
        """
        models = self._check_models()
        self._costs()
        X = as_2d_float(X, "X")
        y = as_1d_float(y, "y")
        t = as_source(source, "source")
        which = np.asarray(model).astype(str)
        if not (X.shape[0] == y.size == t.size == which.size):
            raise ValueError(
                f"`X`, `y`, `source` and `model` must have the same length; got {X.shape[0]}, {y.size}, {t.size} "
                f"and {which.size}."
            )
        unknown = sorted(str(m) for m in set(which.tolist()) - set(models))
        if unknown:
            raise ValueError(f"`model` names unknown model(s) {unknown}; models are {models}.")
        if self.reference in set(which.tolist()):
            raise ValueError(
                f"`model` must not contain the reference {self.reference!r}: its gain over itself is 0 by definition."
            )
        unlabelled = [m for m in models if m != self.reference and not np.any(which == m)]
        if unlabelled:
            raise ValueError(
                f"No labels for model(s) {unlabelled}: every non-reference model needs gold and preference labels."
            )
        base = MetaRouter() if self.router is None else self.router
        mech = None
        if mechanism is not None:
            mech = np.asarray(mechanism, dtype=object)
            if mech.shape != (X.shape[0],):
                raise ValueError(f"`mechanism` must have one entry per row ({X.shape[0]}); got shape {mech.shape}.")
            if "mechanism" not in inspect.signature(base.fit).parameters:
                raise TypeError(
                    f"`mechanism` needs a router whose fit takes it (MultiJudgeRouter); {type(base).__name__}.fit does not."
                )
        self.routers_ = {}
        for m in models:
            if m == self.reference:
                continue
            rows = which == m
            est = clone(base)
            if "random_state" in est.get_params():
                est.set_params(random_state=self.random_state)
            if mech is None:
                self.routers_[m] = est.fit(X[rows], y[rows], source=t[rows])
            else:
                self.routers_[m] = est.fit(X[rows], y[rows], source=t[rows], mechanism=mech[rows])
        self.models_ = models
        self.n_features_in_ = X.shape[1]
        return self

    @budgeted
    def predict_gain(self, X: Any) -> pd.DataFrame:
        """n x K frame of predicted gold gains over the reference (reference column = 0)."""
        check_is_fitted(self, "routers_")
        X = as_2d_float(X, "X")
        cols = {m: np.zeros(X.shape[0]) if m == self.reference else self.routers_[m].predict_gain(X) for m in self.models_}
        return pd.DataFrame(cols, columns=self.models_)

    def route(
        self, X: Any, weight: float | None = None, *, budget: float | None = None, n_in: Any = None, n_out: Any = None
    ) -> np.ndarray:
        """Chosen model name per query: at cost weight ``weight``, or the weight meeting ``budget`` on X.

        Parameters
        ----------
        X : array-like of shape (n, d)
        weight : float >= 0, optional
            Cost weight w (gain units per cost unit).
        budget : float, optional
            Mean cost per query to meet on these queries (the weight is calibrated on X;
            see :func:`calibrate_weight` for calibration with uncertainty).
        n_in, n_out : token counts, optional
            See :func:`cost_matrix`; without them token prices count as 0 and only
            flat fees matter.

        Returns
        -------
        ndarray of str, shape (n,)
        """
        gains = self.predict_gain(X).to_numpy()
        costs = cost_matrix(self._costs(), self.models_, n_in=n_in, n_out=n_out, n=gains.shape[0])
        if costs.shape[0] != gains.shape[0]:
            raise ValueError(f"Token counts must have one row per query ({gains.shape[0]}); got {costs.shape[0]}.")
        if (weight is None) == (budget is None):
            raise ValueError("Pass exactly one of `weight` and `budget`.")
        w = weight_for_budget(gains, costs, budget) if budget is not None else float(weight)  # type: ignore[arg-type]
        return np.asarray(self.models_)[choose_models(gains, costs, w)]
