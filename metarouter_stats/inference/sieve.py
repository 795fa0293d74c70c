"""Spline sieves for bias bands whose target is Delta(x) itself (``final_stage="spline"``).

A sieve replaces the learner's final stage by a ridge regression of its cross-fitted scores on
a spline basis of x, at its leave-one-out penalty times an undersmoothing factor.
"""

from __future__ import annotations


from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.preprocessing import SplineTransformer

# the bases live with the final stages that also use them (the default final stage's candidates)
from sklearn.base import BaseEstimator, TransformerMixin

from ..cate.final_stage import DEFAULT_SIEVE_PAIRS, FINAL_ALPHAS, SIEVE_ALPHAS, LeadingColumns, spline_basis

__all__ = ["DEFAULT_SIEVE_PAIRS", "DEFAULT_SIEVE_UNDERSMOOTH", "SIEVE_ALPHAS", "LinearBasis", "spline_basis"]

# penalty factor of the spline sieve: chosen on four cells (nonlinear_bias at 100 and 500 gold, paper at
# 500, homogeneous at 50), checked on the others (benchmarks/validity/run.py sieve, docs/benchmarks.md)
DEFAULT_SIEVE_UNDERSMOOTH = 0.01


def _pairs_of(basis: Any) -> int:
    """``k`` of a :func:`spline_basis` with pairs (0 for anything else)."""
    from sklearn.pipeline import FeatureUnion  # noqa: PLC0415

    if not isinstance(basis, FeatureUnion) or [n for n, _ in basis.transformer_list] != ["additive", "pairs"]:
        return 0
    columns = basis.named_transformers["pairs"].named_steps["leading"].transformers[0][2]
    return int(columns.k) if isinstance(columns, LeadingColumns) else 0


class LinearBasis(TransformerMixin, BaseEstimator):
    """The identity basis: the "sieve" that is ridge on x itself (``bias_interval(final_stage="linear")``).

    Its penalty is searched on the linear final stage's grid (``FINAL_ALPHAS``), so with the
    learner's scores it reproduces the linear ridge final stage exactly; its band's target is the
    best linear predictor of the bias given x, whatever the learner's own final stage.
    """

    alphas = FINAL_ALPHAS

    def fit(self, X: Any, y: Any = None) -> LinearBasis:
        return self

    def transform(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=float)


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
        alphas = getattr(self.transformer, "alphas", SIEVE_ALPHAS)
        return float(learner.refit_final(B, sc.pseudo_outcomes, sc.weights, model=RidgeCV(alphas=alphas)).alpha_)

    def fit_predict(self, learner: Any, B: np.ndarray, phi: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
        model = learner.refit_final(B, phi, w, model=Ridge(alpha=alpha))
        return np.asarray(model.predict(self.B_eval), dtype=float).reshape(-1)


def sieve_target(basis: Any, undersmooth: float) -> str:
    if isinstance(basis, LinearBasis):
        return ("the best linear predictor of the bias given x, by ridge on x refitted on the learner's cross-fitted "
                f"scores (penalty x {undersmooth:g} of its leave-one-out choice), whatever the learner's own final "
                "stage; not Delta(x) itself unless Delta is linear")
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
