r"""The bias learner of paired designs: a judge labels every query, gold a random subset of them.

In the common real design every query q carries the judge's label :math:`y_q` and a subset
(:math:`S_q = 1`) also carries the gold label :math:`r_q` (already on the judge's scale, c r).
On those queries the paired difference :math:`D_q = r_q - y_q` has
:math:`E[D \mid x] = \Delta(x)`: it identifies the bias directly, with no model of the gold
gain psi(x) (the DR-learner needs one, fitted on the gold rows alone, and its error enters
every gold row's score) and no help from the propensity model beyond the design.

:class:`PairedBiasLearner` (``cate="paired"``) turns the queries, not the rows, into
cross-fitted augmented-IPW scores (Robins, Rotnitzky and Zhao, 1994; the missing-outcome
form of the DR-learner, Kennedy, 2023), with the judge's label as an auxiliary variable
observed on every query:

.. math::

    \varphi_q = h(x_q) + (\beta - 1)\,e_q
                + \frac{S_q}{\pi(x_q)}\,\bigl(D_q - h(x_q) + (1 - \beta)\,e_q\bigr),
    \qquad e_q = y_q - \eta(x_q),

with :math:`h(x) \approx E[D \mid x]` (fitted on the other folds' pairs),
:math:`\eta(x) \approx E[y \mid x]` (fitted on the other folds' judge labels: every query),
:math:`\pi(x) = P(S = 1 \mid x)` (the propensity setting, fitted on the other folds' queries;
the share of gold queries for a random subset) and :math:`\beta` the slope of the pairs'
out-of-fold gold residual :math:`D - h + e` on the judge residual :math:`e`, clipped to
[0, 1]: the share of the judge's query-specific deviation that the gold label shares.
Since :math:`E[S/\pi \mid x, y] = 1`, :math:`E[\varphi \mid x] = \Delta(x)` for any h, eta
and beta when pi is right (and for any pi when h is right and beta = 1), and the final stage
regresses :math:`\varphi` on x over every query. ``beta = 1`` (``calibrate=False``) is the
paired difference alone; ``beta = 0`` ignores the pairing, as the DR-learner does; the
estimated beta takes the variance-minimising mix (:math:`\mathrm{Var}(c\,r \mid x, y)` for a
gold query's term), so the judge-only queries inform the scores through eta.

One score per query: every resampling over the scores (the fast bootstrap, the heterogeneity
test's splits, GATES) keeps a query's two labels together by construction.

Examples
--------
>>> import metarouter_stats as mrs
>>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=10, d=6, design="paired", rng=0)
>>> router = mrs.MetaRouter(cate="paired", scale=s.scale, random_state=0).fit(s.train)
>>> router.bias_learner_.scores_.n        # one score per query
600
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._checks import check_n_jobs
from .._resampling import cross_fit_splitter
from .._threads import budgeted
from ..data import query_units
from .econml_learners import CrossFitLearner
from .nuisance import default_final_model, default_outcome_model, fit_weighted, propensity_model
from .protocol import register_learner

__all__ = ["PairedBiasLearner", "paired_queries"]


def paired_queries(X: np.ndarray, y: np.ndarray, t: np.ndarray, groups: Any) -> dict[str, np.ndarray]:
    """Rows grouped into queries: embedding, mean gold and judge label, flags, the row -> query map, first rows.

    Raises ValueError when a query's rows carry different embeddings.
    """
    codes, first = query_units(groups, X.shape[0])
    nq = first.size
    Xq = X[first]
    spread = np.abs(X - Xq[codes]).max(axis=1)
    if np.any(spread > 1e-8 * (1.0 + np.abs(X).max(axis=1))):
        q = np.asarray(groups)[int(np.flatnonzero(spread > 1e-8 * (1.0 + np.abs(X).max(axis=1)))[0])]
        raise ValueError(
            f"The rows of query {q!r} carry different embeddings: the rows of one query id must share one x."
        )
    gold = t == 1
    n_g = np.bincount(codes[gold], minlength=nq)
    n_p = np.bincount(codes[~gold], minlength=nq)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.bincount(codes[gold], weights=y[gold], minlength=nq) / n_g
        j = np.bincount(codes[~gold], weights=y[~gold], minlength=nq) / n_p
    return {"codes": codes, "first": first, "X": Xq, "gold": r, "judge": j, "has_gold": n_g > 0, "has_judge": n_p > 0}


@register_learner("paired")
class PairedBiasLearner(CrossFitLearner):
    """Bias learner for paired designs: augmented-IPW scores of the paired differences, one per query.

    See the module docstring for the scores. Needs query ids (``fit(..., groups=ids)``, which
    :class:`~metarouter_stats.MetaRouter` passes from ``RoutingData.query_ids``) and at least
    ``2 * cv`` queries with both labels. A gold query without a judge label (a verdict that could
    not be read) has its judge label imputed by eta(x), out of fold: its score then rests on
    eta being right.

    Parameters
    ----------
    model_outcome : regressor, optional
        h(x), the model of the paired difference on x (a control variate: any model keeps
        the scores unbiased when the propensity is right). Default
        :func:`~metarouter_stats.cate.default_outcome_model`.
    model_propensity : classifier, optional
        Model of P(gold | query) when ``propensity="estimate"``.
    model_final : regressor, optional
        Final CATE model. Default :func:`~metarouter_stats.cate.default_final_model`.
    propensity : "estimate", "share" or float, default "estimate"
        P(S = 1 | x) of a query: estimated (clipped relative to the share of gold queries), the
        share of gold queries in each fold (a random subset, known by design), or a constant.
    calibrate : bool, default True
        Estimate beta (module docstring); False fixes beta = 1 (the paired difference alone).
    cv : int, default 5
        Cross-fitting folds over queries, stratified by whether a query has gold.
    random_state : int or None
    n_jobs : int or None, default None
        joblib workers over the cross-fitting folds (each fold's nuisance fits). Under
        ``joblib.parallel_config(backend="dask")`` with a ``dask.distributed`` client they run on
        the cluster's workers. The numbers do not depend on it: every fold's models are seeded
        from ``random_state`` alone and its predictions go to its own queries.

    Attributes
    ----------
    final_ : regressor
        The fitted final stage.
    scores_ : CrossFitScores
        One row per query: its embedding, score phi_q, weight (1, or the query's weight) and
        ``source`` = 1 for the queries with gold.
    beta_ : float
        The judge residual's weight (module docstring).
    n_queries_, n_pairs_ : int
    n_features_in_ : int
    """

    static_capabilities = frozenset({"scores", "refit_final", "propensity", "groups", "sample_weight"})

    def __init__(
        self,
        *,
        model_outcome: Any = None,
        model_propensity: Any = None,
        model_final: Any = None,
        propensity: Any = "estimate",
        calibrate: bool = True,
        cv: int = 5,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(model_outcome=model_outcome, model_propensity=model_propensity, model_final=model_final,
                         propensity=propensity, cv=cv, random_state=random_state)
        self.calibrate = calibrate
        self.n_jobs = n_jobs

    @budgeted
    def fit(
        self, X: Any, y: Any, t: Any, *, groups: Any = None, sample_weight: Any = None, propensity: Any = None
    ) -> PairedBiasLearner:
        """Fit on rows already on one scale (t = 1 gold), grouped into queries by ``groups``; returns self."""
        if propensity is not None:
            raise TypeError(
                "PairedBiasLearner does not take per-row propensities known by design; fit with cate='dr', "
                "or drop `propensity`."
            )
        X, y, t, cv = self._setup(X, y, t)
        n_jobs = check_n_jobs(self.n_jobs)
        if groups is None:
            raise ValueError(
                "cate='paired' needs query ids pairing a query's gold and judge rows (`groups`, from "
                "RoutingData.query_ids); for unpaired data use cate='dr'."
            )
        g = np.asarray(groups)
        if g.ndim != 1 or g.shape[0] != t.shape[0]:
            raise ValueError(f"`groups` must be 1-D with one entry per row ({t.shape[0]}); got shape {g.shape}.")
        w_rows = self._sample_weight(sample_weight, t)
        q = paired_queries(X, y, t, g)
        S = q["has_gold"].astype(int)
        J = q["has_judge"]
        gold_only = (S == 1) & ~J  # e.g. a judge verdict that could not be read: its label is imputed by eta(x)
        n_pairs = int(np.sum((S == 1) & J))
        if n_pairs < 2 * cv:
            raise ValueError(
                f"cate='paired' with cv={cv} needs at least {2 * cv} queries with a gold and a judge label; got "
                f"{n_pairs}. Use cate='dr' for data that are not paired."
            )
        Xq, nq = q["X"], S.size
        judge = np.asarray(q["judge"], dtype=float)
        wq = None
        if w_rows is not None:  # a query's rows share its weight (one unit of the weighted bootstrap)
            wq = np.bincount(q["codes"], weights=w_rows, minlength=nq) / np.bincount(q["codes"], minlength=nq)
        h, eta = np.zeros(nq), judge.copy()
        pi = np.ones(nq)
        self.propensity_models_: list[Any] = []
        need_eta = self.calibrate or bool(gold_only.any())
        if n_pairs < nq:
            all_gold = bool(np.all(S == 1))
            splitter = cross_fit_splitter(cv, self._seed(), stratify=not all_gold)
            gold_q = q["gold"]

            def fold(train: np.ndarray, test: np.ndarray) -> tuple[Any, ...]:
                """One fold's nuisance fits and their predictions on the fold's own queries."""
                tp = train[(S[train] == 1) & J[train]]
                tj = train[J[train]]
                model_h = self._outcome_model()
                fit_weighted(model_h, Xq[tp], gold_q[tp] - judge[tp], None if wq is None else wq[tp])
                h_t = np.asarray(model_h.predict(Xq[test]), dtype=float).reshape(-1)
                eta_t = model_pi = pi_t = None
                if need_eta:
                    model_eta = self._outcome_model()
                    fit_weighted(model_eta, Xq[tj], judge[tj], None if wq is None else wq[tj])
                    eta_t = np.asarray(model_eta.predict(Xq[test]), dtype=float).reshape(-1)
                if not all_gold:
                    model_pi = propensity_model(self.propensity, self.model_propensity)
                    fit_weighted(model_pi, Xq[train], S[train], None if wq is None else wq[train])
                    pi_t = np.asarray(model_pi.predict_proba(Xq[test]), dtype=float)[:, 1]
                return test, h_t, eta_t, pi_t, model_pi

            from joblib import Parallel, delayed  # noqa: PLC0415

            folds = Parallel(n_jobs=n_jobs)(delayed(fold)(tr, te) for tr, te in splitter.split(Xq, S))
            for test, h_t, eta_t, pi_t, model_pi in folds:  # in the splitter's order, whatever ran where
                h[test] = h_t
                if eta_t is not None:
                    eta[test] = eta_t
                if model_pi is not None:
                    pi[test] = pi_t
                    self.propensity_models_.append(model_pi)
        y_q = np.where(J, judge, eta)  # a gold query without a judge label: its judge label imputed (e = 0)
        D = np.where(S == 1, q["gold"] - y_q, 0.0)
        S_pairs = (S == 1) & J
        # the judge's residual of each query; beta: how much of it the gold label shares (slope of the
        # pairs' out-of-fold gold residual on it), clipped to [0, 1]; beta = 1 uses the paired difference alone
        e_y = y_q - eta
        beta = 1.0
        pairs = S_pairs
        if self.calibrate and n_pairs < nq:
            ww = np.ones(n_pairs) if wq is None else wq[pairs]
            a, b = D[pairs] - h[pairs], e_y[pairs]
            den = float(np.sum(ww * b * b))
            beta = 1.0 + (float(np.sum(ww * a * b)) / den if den > 0 else 0.0)
            beta = float(np.clip(beta, 0.0, 1.0))
        self.beta_ = beta
        phi = h + (beta - 1.0) * e_y + S / pi * ((D - h) + (1.0 - beta) * e_y)
        final = clone(self.model_final) if self.model_final is not None else default_final_model()
        self.final_ = fit_weighted(final, Xq, phi, wq)
        self.n_queries_, self.n_pairs_ = nq, n_pairs
        self._finish(self.final_, Xq, S, phi, np.ones(nq) if wq is None else wq)
        return self

    @property
    def capabilities(self) -> frozenset[str]:
        """Declared capabilities; without ``"propensity"`` once fitted on data where every query has gold."""
        caps = super().capabilities
        if getattr(self, "propensity_models_", None) == []:
            caps = caps - {"propensity"}  # pi = 1: there is no model of P(gold | query) to predict with
        return caps

    def _outcome_model(self) -> Any:
        return clone(self.model_outcome) if self.model_outcome is not None else default_outcome_model(self.random_state)

    def _seed(self) -> int | None:
        rs = self.random_state
        return None if rs is None else int(np.random.default_rng(rs).integers(2**31 - 1))

    @property
    def final_model_(self) -> BaseEstimator:
        """The fitted final-stage model."""
        return self.final_

    def _propensity_models(self) -> list[Any]:
        if not self.propensity_models_:
            raise TypeError("Every query carries gold: there is no P(gold | query) model (it is 1).")
        return self.propensity_models_

    @budgeted
    def effect(self, X: Any) -> np.ndarray:
        """Delta_hat(x) on the scale of the fitted outcomes (gold minus judge)."""
        X = self._check_X(X)
        return np.asarray(self.final_.predict(X), dtype=float).reshape(-1)
