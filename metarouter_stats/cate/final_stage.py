r"""Final stages of the bias learners: the spline bases, and a final stage chosen by cross-validated loss.

A DR- or R-learner's final stage regresses cross-fitted pseudo-outcomes :math:`\phi_i` on x
(weights :math:`w_i`: ones for the DR-learner, :math:`(t - e(x))^2` for the R-learner). Its
out-of-fold weighted squared error is, up to a constant and the nuisances' error, the distance
of the fit from Delta (the DR-loss; for the R-learner it *is* the R-loss of Nie and Wager):

.. math:: E\,w\,(\phi - f(x))^2 = E\,w\,(\Delta(x) - f(x))^2 + \text{const},

so it can choose among final stages without gold labels of its own. :class:`SelectedFinalStage`
does that, by default as a **super learner** (van der Laan, Polley and Hubbard, 2007; Breiman's
1996 stacking): the candidates' out-of-fold predictions (exact leave-one-out for the ridge
candidates, free with their penalty search) are combined with non-negative weights that
minimise the out-of-fold loss, and the prediction is that combination of the candidates fitted
on all rows. Alternatively (``rule="one_se"``) it picks one candidate by the paired
one-standard-error rule. ``benchmarks/final_stage/run.py`` measures the efficiency gain each
buys and costs by scenario and gold size.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer
from sklearn.utils.validation import check_is_fitted

from .._checks import check_positive_int
from .ridge import GramRidgeCV, hat_diagonal

__all__ = [
    "DEFAULT_SIEVE_PAIRS", "FINAL_ALPHAS", "MAX_BASIS_CELLS", "RULES", "SIEVE_ALPHAS", "Blend", "LeadingColumns",
    "SelectedFinalStage",
    "final_stage_candidates", "fixed_penalty", "is_penalised", "ridge_loo_predictions", "spline_basis",
]

FINAL_ALPHAS = np.logspace(-1, 5, 31)  # leave-one-out grid of the linear final stage's ridge penalty
SIEVE_ALPHAS = np.logspace(-3, 5, 33)  # leave-one-out grid of a spline stage's ridge penalty
DEFAULT_SIEVE_PAIRS = 5  # "spline_pairs": interactions among the 5 highest-variance coordinates
# a spline candidate whose basis would hold more cells (rows x columns) than this is skipped (400 MB in float64;
# the ridge's SVD needs a few times that): at d = 384 a million rows would need 18 GB for the additive basis alone
MAX_BASIS_CELLS = 50_000_000


class LeadingColumns:
    """Column selector: the ``k`` highest-variance columns of the fitting data (ties by position).

    A picklable callable for :class:`~sklearn.compose.ColumnTransformer`, evaluated once at
    fit time: on embeddings from principal components these are the leading components.
    """

    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, X: Any) -> list[int]:
        var = np.var(np.asarray(X, dtype=float), axis=0)
        return sorted(np.argsort(-var, kind="stable")[: self.k].tolist())


def spline_basis(n_knots: int = 4, degree: int = 3, pairs: int = 0) -> Any:
    """The basis of the spline sieve: cubic B-splines per coordinate, knots at quantiles.

    With ``extrapolation="linear"`` the basis continues linearly beyond the training range
    (a band there is an extrapolation and widens accordingly). ``n_knots + degree - 1``
    columns per coordinate: 6 with the defaults, so 300 columns for a 50-dimensional embedding.

    Parameters
    ----------
    n_knots, degree : int
        Knots (at quantiles) and degree of the per-coordinate B-splines.
    pairs : int, default 0
        0: the additive basis (a :class:`~sklearn.preprocessing.SplineTransformer`). ``k >= 2``:
        add the pairwise interactions of the ``k`` highest-variance coordinates (the leading
        components of a PCA embedding), as products of piecewise-linear B-splines (4 knots
        at quantiles) of two coordinates: a :class:`~sklearn.pipeline.FeatureUnion` of the
        additive basis and ``PolynomialFeatures(2, interaction_only=True)`` on those splines,
        ``(4k)(4k + 1) / 2`` more columns (210 for ``k = 5``). Its sieve's target also holds
        when the bias has interactions among those coordinates (e.g. ``z2 1{z3 > 0}``).
        Built from scikit-learn parts rather than a tensor-spline class of our own: the
        within-coordinate products it also makes are redundant, not harmful, under the ridge.

    Examples
    --------
    >>> from metarouter_stats.inference import spline_basis
    >>> spline_basis().n_knots
    4
    >>> import numpy as np
    >>> spline_basis(pairs=3).fit_transform(np.random.default_rng(0).normal(size=(40, 6))).shape
    (40, 114)
    """
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.pipeline import FeatureUnion  # noqa: PLC0415
    from sklearn.preprocessing import PolynomialFeatures  # noqa: PLC0415

    n_knots = check_positive_int(n_knots, "n_knots", minimum=2)
    degree = check_positive_int(degree, "degree")
    if isinstance(pairs, bool) or not isinstance(pairs, numbers.Integral) or pairs < 0 or pairs == 1:
        raise ValueError(f"`pairs` must be 0 (additive) or an integer >= 2 (coordinates to interact); got {pairs!r}.")
    additive = SplineTransformer(n_knots=n_knots, degree=degree, knots="quantile", extrapolation="linear")
    if pairs == 0:
        return additive
    hats = SplineTransformer(n_knots=4, degree=1, knots="quantile", extrapolation="linear")
    interactions = Pipeline([
        ("leading", ColumnTransformer([("splines", hats, LeadingColumns(int(pairs)))])),
        ("products", PolynomialFeatures(2, interaction_only=True, include_bias=False)),
    ])
    return FeatureUnion([("additive", additive), ("pairs", interactions)])


def final_stage_candidates() -> dict[str, Any]:
    """The candidates of the default final stage, simplest first.

    The spline stages search their penalty by the SVD of the basis (``gcv_mode="svd"``: one
    factorisation for all penalties, 10 times faster than scikit-learn's default here).

    ``"linear"``: ridge on x, leave-one-out penalty (the earlier default; a
    :class:`~metarouter_stats.cate.ridge.GramRidgeCV`, the same fit as ``RidgeCV`` at a
    fraction of its cost for many rows); ``"spline"``: ridge
    on the additive cubic-spline basis (:func:`spline_basis`); ``"spline_pairs"``: the same
    plus the pairwise interactions of the 5 leading coordinates.

    Examples
    --------
    >>> from metarouter_stats.cate.final_stage import final_stage_candidates
    >>> list(final_stage_candidates())
    ['linear', 'spline', 'spline_pairs']
    """
    return {
        "linear": GramRidgeCV(alphas=FINAL_ALPHAS),
        "spline": Pipeline([("basis", spline_basis()), ("ridge", RidgeCV(alphas=SIEVE_ALPHAS, gcv_mode="svd"))]),
        "spline_pairs": Pipeline([("basis", spline_basis(pairs=DEFAULT_SIEVE_PAIRS)),
                                  ("ridge", RidgeCV(alphas=SIEVE_ALPHAS, gcv_mode="svd"))]),
    }


def _basis_columns(model: Any, d: int) -> int:
    """Columns the model's design will have for d features (d for a model without a basis)."""
    if not isinstance(model, Pipeline):
        return d
    basis = model.steps[0][1]
    if isinstance(basis, SplineTransformer):
        return d * (basis.n_knots + basis.degree - 1)
    extra = getattr(basis, "transformer_list", None)
    if extra is not None:  # spline_basis(pairs=k)
        additive = dict(extra)["additive"]
        k = DEFAULT_SIEVE_PAIRS
        return d * (additive.n_knots + additive.degree - 1) + (4 * k) * (4 * k + 1) // 2
    return d


def _fit_once(model: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Any:
    from .nuisance import fit_weighted  # noqa: PLC0415 - nuisance imports this module

    return fit_weighted(model, X, y, w)


def _fit(model: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Any:
    """Fit with row weights; a ridge whose penalty search by SVD fails is refitted by the eigen route.

    LAPACK's divide-and-conquer SVD occasionally does not converge on a spline basis, whose
    columns sum to one per coordinate (rank-deficient once centred); the Gram matrix's
    eigendecomposition (``gcv_mode="eigen"``, slower) gives the same fit.
    """
    try:
        return _fit_once(model, X, y, w)
    except np.linalg.LinAlgError:
        ridge = model.steps[-1][1] if isinstance(model, Pipeline) else model
        if not (isinstance(ridge, RidgeCV) and ridge.gcv_mode == "svd"):
            raise
        ridge.set_params(gcv_mode="eigen")
        return _fit_once(model, X, y, w)


def ridge_loo_predictions(model: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Exact leave-one-out predictions of a fitted ridge (alone or ending a Pipeline) at its fitted penalty.

    For a weighted ridge with intercept, the left-out residual is ``e_i / (1 - h_i)`` with
    ``h_i`` the diagonal of its hat matrix (:func:`~metarouter_stats.cate.ridge.hat_diagonal`); the
    basis of a Pipeline is held as fitted (it reads x only). ``w_i (y_i - loo_i)^2`` equals
    scikit-learn's ``RidgeCV(store_cv_results=True)`` values at the chosen penalty (a test checks it).
    """
    if isinstance(model, Pipeline):
        B = np.asarray(Pipeline(model.steps[:-1]).transform(X), dtype=float) if len(model.steps) > 1 else X
        ridge = model.steps[-1][1]
    else:
        B, ridge = X, model
    alpha = float(ridge.alpha_ if hasattr(ridge, "alpha_") else ridge.alpha)
    lev = hat_diagonal(B, w, alpha, getattr(ridge, "fit_intercept", True))
    resid = y - np.asarray(model.predict(X), dtype=float).reshape(-1)
    return y - resid / np.maximum(1.0 - lev, 1e-12)


def _is_loo_ridge(candidate: Any) -> bool:
    ridge = candidate.steps[-1][1] if isinstance(candidate, Pipeline) else candidate
    return isinstance(ridge, RidgeCV) and ridge.cv is None and not ridge.alpha_per_target


class Blend(RegressorMixin, BaseEstimator):
    """A fixed convex combination of regressors: each is fitted on the same rows, predictions are weighted.

    The refit form of a stacked final stage (:class:`SelectedFinalStage` with ``rule="stack"``):
    weights and the components' penalties held fixed, so that resampling measures the
    sampling variability of the chosen blend.

    Parameters
    ----------
    estimators : list of (str, regressor)
    weights : sequence of float
        Non-negative, summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression, Ridge
    >>> X, y = np.arange(10.0).reshape(-1, 1), np.arange(10.0)
    >>> blend = Blend([("a", LinearRegression()), ("b", Ridge(alpha=0.0))], [0.5, 0.5]).fit(X, y)
    >>> bool(np.allclose(blend.predict(X[:2]), [0.0, 1.0]))
    True
    """

    def __init__(self, estimators: list[tuple[str, Any]], weights: Any) -> None:
        self.estimators = estimators
        self.weights = weights

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Blend:
        """Fit every component on ``(X, y)`` with the row weights; returns self."""
        if len(self.estimators) != len(self.weights) or not self.estimators:
            raise ValueError("`estimators` and `weights` must be non-empty and of the same length.")
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        with threadpool_limits(limits=1, user_api="blas"):  # the same numbers under any thread budget
            self.estimators_ = [_fit(clone(est), X, y, w) for _, est in self.estimators]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The weighted sum of the components' predictions (one column per target for 2-D y)."""
        check_is_fitted(self, "estimators_")
        parts = [float(a) * np.asarray(est.predict(X), dtype=float)
                 for a, est in zip(self.weights, self.estimators_, strict=True)]
        return np.sum(parts, axis=0)


RULES = ("stack", "one_se")


class SelectedFinalStage(RegressorMixin, BaseEstimator):
    """A final stage chosen among candidates by their out-of-fold weighted loss: stacked, or by the one-SE rule.

    See the module docstring. Out-of-fold predictions of a ridge with a leave-one-out penalty
    search (every default candidate) are its exact leave-one-out predictions at the chosen
    penalty (:func:`ridge_loo_predictions`), so the choice costs one fit per candidate; any other
    candidate is cross-validated over ``cv`` folds.

    ``rule="stack"`` (the super learner of van der Laan, Polley and Hubbard, 2007, with
    Breiman's 1996 stacking weights): non-negative weights on the candidates minimising the
    weighted squared error of the combined out-of-fold predictions (non-negative least
    squares, normalised to sum to 1); the prediction is that combination of the candidates
    fitted on all rows. Its oracle inequality: asymptotically as good as the best convex
    combination, hence never much worse than the best single candidate.
    ``rule="one_se"``: candidates are tried simplest first; a richer one replaces the current
    choice only when its mean loss is lower by more than one standard error of the paired
    per-row difference (Breiman et al., 1984).

    Parameters
    ----------
    candidates : dict of str to regressor, optional
        Ordered simplest first. Default :func:`final_stage_candidates`.
    rule : {"stack", "one_se"}, default "stack"
    cv : int, default 5
        Folds for candidates other than a leave-one-out ridge (shuffled with ``random_state``).
    random_state : int, default 0
        Seed of those folds (fixed, so that the fit draws no global randomness).

    Attributes
    ----------
    weights_ : dict of str to float
        Weight of each candidate tried (one 1 and zeros for ``"one_se"``).
    chosen_ : str
        The candidate with the largest weight.
    estimator_ : regressor
        What predicts: the chosen candidate fitted on all rows when it has all the weight,
        else a fitted :class:`Blend`.
    cv_loss_ : dict of str to float
        Mean out-of-fold weighted squared error of each candidate tried, and of the blend
        (``"stack"``; in-sample for its weights).
    skipped_ : list of str
        Candidates not tried because their basis would exceed ``MAX_BASIS_CELLS`` cells.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.cate.final_stage import SelectedFinalStage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> stage = SelectedFinalStage().fit(X, np.sign(X[:, 0]) + rng.normal(size=2000))
    >>> stage.chosen_ != "linear"
    True
    >>> SelectedFinalStage(rule="one_se").fit(X, X[:, 1] + rng.normal(size=2000)).chosen_
    'linear'
    """

    def __init__(self, candidates: dict[str, Any] | None = None, rule: str = "stack", cv: int = 5,
                 random_state: int = 0) -> None:
        self.candidates = candidates
        self.rule = rule
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SelectedFinalStage:
        """Fit every candidate, weigh them by out-of-fold loss, keep the combination; returns self.

        The fits run with one BLAS thread: the spline bases' products would otherwise be summed
        in an order that depends on the thread count, and the package promises the same numbers
        under any thread budget (the linear ridge alone is too small for BLAS to split).
        """
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y, sample_weight)

    def _fit(self, X: Any, y: Any, sample_weight: Any) -> SelectedFinalStage:
        from scipy.optimize import nnls  # noqa: PLC0415

        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float).reshape(-1)
        cv = check_positive_int(self.cv, "cv", minimum=2)
        if self.rule not in RULES:
            raise ValueError(f"`rule` must be one of {RULES}; got {self.rule!r}.")
        candidates = final_stage_candidates() if self.candidates is None else dict(self.candidates)
        if not candidates:
            raise ValueError("`candidates` must hold at least one regressor.")
        names = list(candidates)
        self.skipped_ = [n for n in names[1:] if X.shape[0] * _basis_columns(candidates[n], X.shape[1]) > MAX_BASIS_CELLS]
        names = [n for n in names if n not in self.skipped_]
        ww = np.ones(y.size) if w is None else w
        fitted = {n: _fit(clone(candidates[n]), X, y, w) for n in names}
        self.cv_loss_ = {}
        if len(names) == 1:
            weights = np.ones(1)
        else:
            oof = np.column_stack([self._out_of_fold(candidates[n], fitted[n], X, y, w, cv) for n in names])
            losses = ww[:, None] * (y[:, None] - oof) ** 2
            self.cv_loss_ = {n: float(losses[:, k].sum() / ww.sum()) for k, n in enumerate(names)}
            weights = self._stack(oof, y, ww, nnls) if self.rule == "stack" else self._one_se(losses, ww)
            if self.rule == "stack":
                self.cv_loss_["blend"] = float(ww @ (y - oof @ weights) ** 2 / ww.sum())
        self.weights_ = {n: float(a) for n, a in zip(names, weights, strict=True)}
        self.chosen_ = names[int(np.argmax(weights))]
        used = [k for k, a in enumerate(weights) if a > 0]
        if len(used) == 1:
            self.estimator_ = fitted[names[used[0]]]
        else:
            blend = Blend([(names[k], candidates[names[k]]) for k in used], [float(weights[k]) for k in used])
            blend.estimators_ = [fitted[names[k]] for k in used]
            self.estimator_ = blend
        self.n_features_in_ = X.shape[1]
        return self

    @staticmethod
    def _stack(oof: np.ndarray, y: np.ndarray, ww: np.ndarray, nnls: Any) -> np.ndarray:
        sw = np.sqrt(ww)
        coef, _ = nnls(oof * sw[:, None], y * sw)
        if not coef.sum() > 0:  # no non-negative combination helps: the best single candidate
            coef = np.zeros(oof.shape[1])
            coef[int(np.argmin(ww @ (y[:, None] - oof) ** 2))] = 1.0
        return coef / coef.sum()

    @staticmethod
    def _one_se(losses: np.ndarray, ww: np.ndarray) -> np.ndarray:
        chosen = 0
        for k in range(1, losses.shape[1]):
            diff = (losses[:, k] - losses[:, chosen]) / np.mean(ww)
            if np.mean(diff) < -float(np.std(diff, ddof=1) / np.sqrt(diff.size)):
                chosen = k
        out = np.zeros(losses.shape[1])
        out[chosen] = 1.0
        return out

    def _out_of_fold(self, candidate: Any, fitted: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                     cv: int) -> np.ndarray:
        """Out-of-fold predictions: exact leave-one-out for a ridge with a penalty search, else ``cv`` folds."""
        if _is_loo_ridge(candidate):
            kept = getattr(fitted, "loo_predictions_", None)  # a GramRidgeCV keeps them from its search
            return kept if kept is not None and kept.shape == y.shape else ridge_loo_predictions(fitted, X, y, w)
        pred = np.empty(y.size)
        for train, test in KFold(cv, shuffle=True, random_state=self.random_state).split(X):
            part = _fit(clone(candidate), X[train], y[train], None if w is None else w[train])
            pred[test] = np.asarray(part.predict(X[test]), dtype=float).reshape(-1)
        return pred

    def predict(self, X: Any) -> np.ndarray:
        """The chosen final stage's (or blend's) prediction."""
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        check_is_fitted(self, "estimator_")
        with threadpool_limits(limits=1, user_api="blas"):
            return self.estimator_.predict(X)


def fixed_penalty(fitted: Any, penalty_factor: float = 1.0) -> Any | None:
    """An unfitted copy of a fitted final stage with its tuning fixed, or None when it has none to fix.

    ``RidgeCV`` becomes ``Ridge`` at the chosen penalty times ``penalty_factor``; so does a
    ``RidgeCV`` at the end of a Pipeline (the basis kept, unfitted); a
    :class:`SelectedFinalStage` gives its chosen candidate's. Resampling then measures the
    sampling variability at the tuned penalty without re-tuning (or re-selecting) each time.
    """
    if isinstance(fitted, SelectedFinalStage):
        return fixed_penalty(fitted.estimator_, penalty_factor)
    if isinstance(fitted, Blend):
        parts = [fixed_penalty(est, penalty_factor) for est in fitted.estimators_]
        if any(p is None for p in parts):
            return None
        return Blend([(name, p) for (name, _), p in zip(fitted.estimators, parts, strict=True)], list(fitted.weights))
    if isinstance(fitted, RidgeCV):
        return Ridge(alpha=float(fitted.alpha_) * penalty_factor, fit_intercept=fitted.fit_intercept)
    if isinstance(fitted, Pipeline) and isinstance(fitted.steps[-1][1], RidgeCV):
        last_name, last = fitted.steps[-1]
        steps = [(name, clone(step)) for name, step in fitted.steps[:-1]]
        return Pipeline([*steps, (last_name, Ridge(alpha=float(last.alpha_) * penalty_factor,
                                                   fit_intercept=last.fit_intercept))])
    return None


def is_penalised(model: Any) -> bool:
    """Whether an unfitted final stage tunes a ridge penalty that :func:`fixed_penalty` can fix."""
    if isinstance(model, SelectedFinalStage):
        candidates = final_stage_candidates() if model.candidates is None else model.candidates
        return all(is_penalised(c) for c in candidates.values())
    return isinstance(model, RidgeCV) or (isinstance(model, Pipeline) and isinstance(model.steps[-1][1], RidgeCV))
