"""Spline sieves for bias bands whose target is Delta(x) itself (``final_stage="spline"``).

A sieve replaces the learner's final stage by a ridge regression of its cross-fitted scores on
a spline basis of x, at its leave-one-out penalty times an undersmoothing factor.
"""

from __future__ import annotations


import numbers
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.preprocessing import SplineTransformer

from .._checks import check_positive_int

__all__ = ["DEFAULT_SIEVE_PAIRS", "DEFAULT_SIEVE_UNDERSMOOTH", "SIEVE_ALPHAS", "spline_basis"]

# penalty factor of the spline sieve: chosen on four cells (nonlinear_bias at 100 and 500 gold, paper at
# 500, homogeneous at 50), checked on the others (benchmarks/validity/run.py sieve, docs/benchmarks.md)
DEFAULT_SIEVE_UNDERSMOOTH = 0.01


DEFAULT_SIEVE_PAIRS = 5  # final_stage="spline_pairs": interactions among the 5 highest-variance coordinates


SIEVE_ALPHAS = np.logspace(-3, 5, 33)  # leave-one-out grid of the sieve's ridge penalty


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
    from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: PLC0415
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


def _pairs_of(basis: Any) -> int:
    """``k`` of a :func:`spline_basis` with pairs (0 for anything else)."""
    from sklearn.pipeline import FeatureUnion  # noqa: PLC0415

    if not isinstance(basis, FeatureUnion) or [n for n, _ in basis.transformer_list] != ["additive", "pairs"]:
        return 0
    columns = basis.named_transformers["pairs"].named_steps["leading"].transformers[0][2]
    return int(columns.k) if isinstance(columns, _LeadingColumns) else 0


class Sieve:
    """A basis fitted on the learner's training embeddings, and the ridge fits on it."""

    def __init__(self, learner: Any, basis: Any, X_eval: np.ndarray) -> None:
        self.transformer = clone(basis).fit(learner.scores_.X)  # knots from the training embeddings, kept fixed
        self.B_eval = np.asarray(self.transformer.transform(X_eval), dtype=float)

    def basis(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.transformer.transform(X), dtype=float)

    def tuned_alpha(self, learner: Any, B: np.ndarray) -> float:
        """Leave-one-out ridge penalty of the pseudo-outcomes on the basis (``learner``'s scores)."""
        sc = learner.scores_
        return float(learner.refit_final(B, sc.pseudo_outcomes, sc.weights, model=RidgeCV(alphas=SIEVE_ALPHAS)).alpha_)

    def fit_predict(self, learner: Any, B: np.ndarray, phi: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
        model = learner.refit_final(B, phi, w, model=Ridge(alpha=alpha))
        return np.asarray(model.predict(self.B_eval), dtype=float).reshape(-1)


def sieve_target(basis: Any, undersmooth: float) -> str:
    k = _pairs_of(basis)
    if k:
        additive = basis.named_transformers["additive"]
        return ("Delta(x) itself when the bias is a sum of smooth functions of single coordinates of x and of pairs "
                f"among its {k} highest-variance coordinates (else its best such approximation), by a spline sieve "
                f"({additive.n_knots} knots per coordinate plus piecewise-linear tensor products of those pairs, ridge "
                f"penalty x {undersmooth:g} of its leave-one-out choice) refitted on the learner's cross-fitted scores")
    if isinstance(basis, SplineTransformer):
        what = (f"an additive cubic-spline sieve ({basis.n_knots} knots per coordinate, ridge penalty x "
                f"{undersmooth:g} of its leave-one-out choice)")
        return ("Delta(x) itself when the bias is a sum of smooth functions of single coordinates of x (else its best "
                f"such additive approximation), by {what} refitted on the learner's cross-fitted scores")
    return (f"Delta(x) projected on the span of the basis {type(basis).__name__} (ridge penalty x {undersmooth:g} of "
            "its leave-one-out choice), refitted on the learner's cross-fitted scores")
