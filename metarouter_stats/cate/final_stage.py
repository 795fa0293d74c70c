r"""Final stages of the bias learners: the spline bases, and a final stage chosen by cross-validated loss.

A DR- or R-learner's final stage regresses cross-fitted pseudo-outcomes :math:`\phi_i` on x
(weights :math:`w_i`: ones for the DR-learner, :math:`(t - e(x))^2` for the R-learner). Its
out-of-fold weighted squared error is, up to a constant and the nuisances' error, the distance
of the fit from Delta (the DR-loss; for the R-learner it *is* the R-loss of Nie and Wager):

.. math:: E\,w\,(\phi - f(x))^2 = E\,w\,(\Delta(x) - f(x))^2 + \text{const},

so it can choose among final stages without gold labels of its own. :class:`SelectedFinalStage`
does that with the paired one-standard-error rule (Breiman et al., 1984; Hastie, Tibshirani
and Friedman, sec. 7.10): candidates are ordered from simplest to richest, and a richer one
replaces the current choice only when its out-of-fold loss is lower by more than one standard
error of the paired per-row loss difference. With scarce gold the DR scores are noisy, the
differences' SE is large, and the linear stage is kept; as gold grows a real non-linearity
becomes detectable and the spline is taken. ``benchmarks/final_stage/run.py`` measures the
efficiency gain this buys and costs by scenario and gold size.
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

__all__ = [
    "DEFAULT_SIEVE_PAIRS", "FINAL_ALPHAS", "MAX_BASIS_CELLS", "SIEVE_ALPHAS", "SelectedFinalStage",
    "final_stage_candidates", "fixed_penalty", "spline_basis",
]

FINAL_ALPHAS = np.logspace(-1, 5, 31)  # leave-one-out grid of the linear final stage's ridge penalty
SIEVE_ALPHAS = np.logspace(-3, 5, 33)  # leave-one-out grid of a spline stage's ridge penalty
DEFAULT_SIEVE_PAIRS = 5  # "spline_pairs": interactions among the 5 highest-variance coordinates
# a spline candidate whose basis would hold more cells (rows x columns) than this is skipped (400 MB in float64;
# the ridge's SVD needs a few times that): at d = 384 a million rows would need 18 GB for the additive basis alone
MAX_BASIS_CELLS = 50_000_000


class _LeadingColumns:
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
        ("leading", ColumnTransformer([("splines", hats, _LeadingColumns(int(pairs)))])),
        ("products", PolynomialFeatures(2, interaction_only=True, include_bias=False)),
    ])
    return FeatureUnion([("additive", additive), ("pairs", interactions)])


def final_stage_candidates() -> dict[str, Any]:
    """The candidates of the default final stage, simplest first.

    The spline stages search their penalty by the SVD of the basis (``gcv_mode="svd"``: one
    factorisation for all penalties, 10 times faster than scikit-learn's default here).

    ``"linear"``: ridge on x, leave-one-out penalty (the earlier default); ``"spline"``: ridge
    on the additive cubic-spline basis (:func:`spline_basis`); ``"spline_pairs"``: the same
    plus the pairwise interactions of the 5 leading coordinates.

    Examples
    --------
    >>> from metarouter_stats.cate.final_stage import final_stage_candidates
    >>> list(final_stage_candidates())
    ['linear', 'spline', 'spline_pairs']
    """
    return {
        "linear": RidgeCV(alphas=FINAL_ALPHAS),
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


def _fit(model: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Any:
    if w is None:
        return model.fit(X, y)
    if isinstance(model, Pipeline):
        return model.fit(X, y, **{f"{model.steps[-1][0]}__sample_weight": w})
    return model.fit(X, y, sample_weight=w)


class SelectedFinalStage(RegressorMixin, BaseEstimator):
    """A final stage chosen among candidates by out-of-fold weighted loss, with the one-SE rule.

    See the module docstring. Costs one fit per candidate for the default candidates (their
    leave-one-out errors come with the ridge's penalty search). Candidates are tried simplest first; a richer one replaces the
    current choice only when its mean out-of-fold loss is lower by more than ``se_rule``
    standard errors of the paired per-row difference. The chosen candidate is refitted on all
    rows (so when the linear stage is kept, the fit is exactly the linear stage's).

    Parameters
    ----------
    candidates : dict of str to regressor, optional
        Ordered simplest first. Default :func:`final_stage_candidates`.
    cv : int, default 5
        Folds for candidates other than a ridge with a leave-one-out penalty search (shuffled
        with ``random_state``); such ridges (every default candidate) are compared by their
        exact leave-one-out errors, which come with their fit.
    se_rule : float, default 1.0
        Standard errors a richer candidate must win by (0: the lowest loss wins).
    random_state : int, default 0
        Seed of the folds (fixed, so that the fit draws no global randomness).

    Attributes
    ----------
    chosen_ : str
        The chosen candidate's name.
    estimator_ : regressor
        The chosen candidate, refitted on all rows.
    cv_loss_ : dict of str to float
        Mean out-of-fold weighted squared error of each candidate tried.
    cv_loss_se_ : dict of str to float
        SE of each candidate's loss difference from the one it was compared with (0 for the first).
    skipped_ : list of str
        Candidates not tried because their basis would exceed ``MAX_BASIS_CELLS`` cells.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.cate.final_stage import SelectedFinalStage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = np.sign(X[:, 0]) + rng.normal(size=2000)
    >>> SelectedFinalStage().fit(X, y).chosen_ in ("spline", "spline_pairs")
    True
    >>> SelectedFinalStage().fit(X, X[:, 1] + rng.normal(size=2000)).chosen_
    'linear'
    """

    def __init__(self, candidates: dict[str, Any] | None = None, cv: int = 5, se_rule: float = 1.0,
                 random_state: int = 0) -> None:
        self.candidates = candidates
        self.cv = cv
        self.se_rule = se_rule
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SelectedFinalStage:
        """Choose by out-of-fold loss and refit the choice on all rows; returns self."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float).reshape(-1)
        cv = check_positive_int(self.cv, "cv", minimum=2)
        if not (isinstance(self.se_rule, numbers.Real) and self.se_rule >= 0):
            raise ValueError(f"`se_rule` must be a number >= 0; got {self.se_rule!r}.")
        candidates = final_stage_candidates() if self.candidates is None else dict(self.candidates)
        if not candidates:
            raise ValueError("`candidates` must hold at least one regressor.")
        names = list(candidates)
        self.skipped_ = [n for n in names[1:] if X.shape[0] * _basis_columns(candidates[n], X.shape[1]) > MAX_BASIS_CELLS]
        names = [n for n in names if n not in self.skipped_]
        ww = np.ones(y.size) if w is None else w
        self.cv_loss_, self.cv_loss_se_ = {}, {}
        if len(names) == 1:
            chosen, fitted = names[0], {}
        else:
            losses, fitted = {}, {}
            for name in names:
                losses[name], fitted[name] = self._out_of_fold(candidates[name], X, y, w, cv)
                self.cv_loss_[name] = float(np.sum(losses[name]) / np.sum(ww))
            chosen = names[0]
            self.cv_loss_se_[chosen] = 0.0
            for name in names[1:]:
                diff = (losses[name] - losses[chosen]) / np.mean(ww)
                se = float(np.std(diff, ddof=1) / np.sqrt(diff.size))
                self.cv_loss_se_[name] = se
                if np.mean(diff) < -self.se_rule * se:
                    chosen = name
        self.chosen_ = chosen
        model = fitted.get(chosen)
        self.estimator_ = model if model is not None else _fit(clone(candidates[chosen]), X, y, w)
        self.n_features_in_ = X.shape[1]
        return self

    def _out_of_fold(self, candidate: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                     cv: int) -> tuple[np.ndarray, Any]:
        """Per-row out-of-fold weighted squared errors, and the candidate fitted on all rows when that came free.

        A ridge with a leave-one-out penalty search (``RidgeCV``, alone or ending a Pipeline)
        gives its exact leave-one-out errors at the chosen penalty with the fit itself
        (``store_cv_results``); the basis of a Pipeline is fitted on all rows (it reads x
        only). Any other candidate is cross-validated over ``cv`` shuffled folds.
        """
        ridge = candidate.steps[-1][1] if isinstance(candidate, Pipeline) else candidate
        if isinstance(ridge, RidgeCV) and ridge.cv is None and ridge.scoring is None and not ridge.alpha_per_target:
            model = clone(candidate)
            last = model.steps[-1][1] if isinstance(model, Pipeline) else model
            last.set_params(store_cv_results=True)
            model = _fit(model, X, y, w)
            last = model.steps[-1][1] if isinstance(model, Pipeline) else model
            column = int(np.flatnonzero(np.asarray(last.alphas) == last.alpha_)[0])
            loss = np.asarray(last.cv_results_, dtype=float).reshape(y.size, -1)[:, column]
            last.cv_results_ = None  # n x alphas floats: not kept in the fitted learner
            return loss, model
        pred = np.empty(y.size)
        for train, test in KFold(cv, shuffle=True, random_state=self.random_state).split(X):
            part = _fit(clone(candidate), X[train], y[train], None if w is None else w[train])
            pred[test] = np.asarray(part.predict(X[test]), dtype=float).reshape(-1)
        return (np.ones(y.size) if w is None else w) * (y - pred) ** 2, None
    def predict(self, X: Any) -> np.ndarray:
        """The chosen final stage's prediction."""
        check_is_fitted(self, "estimator_")
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
