"""Spline sieves for bias bands whose target is Delta(x) itself (``final_stage="spline"``).

A sieve replaces the learner's final stage by a ridge regression of its cross-fitted scores on
a spline basis of x, at its leave-one-out penalty times an undersmoothing factor.
"""

from __future__ import annotations


from typing import Any

import numpy as np
from scipy import linalg, sparse
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.preprocessing import SplineTransformer

# the bases live with the final stages that also use them (the default final stage's candidates)
from sklearn.base import BaseEstimator, TransformerMixin

from ..cate.final_stage import DEFAULT_SIEVE_PAIRS, FINAL_ALPHAS, SIEVE_ALPHAS, LeadingColumns, spline_basis

__all__ = [
    "DEFAULT_SIEVE_PAIRS", "DEFAULT_SIEVE_UNDERSMOOTH", "SIEVE_ALPHAS", "LinearBasis", "RidgeSandwich", "spline_basis",
]

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


class RidgeSandwich:
    r"""A weighted ridge fit at a fixed penalty, its prediction at the evaluation points and their sandwich SE.

    The fit is scikit-learn's ``Ridge(alpha).fit(B, phi, sample_weight=v)`` in closed form
    (weighted centring, unpenalised intercept): :math:`A = B_c' V B_c + \alpha I`,
    :math:`b = A^{-1} B_c' V (\phi - \bar\phi)`, :math:`\hat f(x_0) = \bar\phi + (x_0 - \bar x)' b`.
    A bootstrap replicate is the same fit with ``v`` = the learner's weight times the row's
    count in the replicate. The influence of one copy of row i on :math:`\hat f(x_0)` (the
    penalty held fixed) is :math:`w_i e_i \{1 / \sum v + (x_0 - \bar x)' A^{-1} (B_i - \bar x)\}`,
    with :math:`e_i` the residual; the variance is the stratified, clustered sum of squares of
    the units' summed influences, each stratum centred at its mean and scaled by
    :math:`n_s / (n_s - 1)`: the sandwich of the design the fast bootstrap resamples (rows
    within source, or whole queries stratified by whether they carry gold), which each
    replicate also computes for itself. The replicates' SEs, normalised to their mean, are what
    the studentised sup-t critical value of a uniform band divides by
    (:func:`~metarouter_stats.bias_interval`, ``studentize``).

    Parameters
    ----------
    B, phi, w : arrays
        Basis at the training rows (n, p), pseudo-outcomes and final-stage weights (n,).
    B_eval : ndarray of shape (m, p)
        Basis at the evaluation points.
    alpha : float
        The ridge penalty (held fixed).
    unit, stratum : int arrays
        Each row's resampling unit (0 .. u - 1: a row, or its query on paired data) and each
        unit's stratum (0 .. k - 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> B = rng.normal(size=(200, 3)); y = B[:, 0] + rng.normal(size=200); Be = rng.normal(size=(4, 3))
    >>> ridge = RidgeSandwich(B, y, np.ones(200), Be, 1.0, np.arange(200), np.zeros(200, dtype=int))
    >>> pred, se = ridge.fit()
    >>> bool(np.allclose(pred, Ridge(alpha=1.0).fit(B, y).predict(Be))), se.shape
    (True, (4,))
    """

    def __init__(self, B: np.ndarray, phi: np.ndarray, w: np.ndarray, B_eval: np.ndarray, alpha: float,
                 unit: np.ndarray, stratum: np.ndarray) -> None:
        self.B, self.phi, self.w, self.B_eval, self.alpha = B, phi, w, B_eval, float(alpha)
        self.unit, self.stratum = np.asarray(unit), np.asarray(stratum)
        self.n_units = int(self.stratum.size)
        identity = self.n_units == self.unit.size and np.array_equal(self.unit, np.arange(self.unit.size))
        # rows to units: a sparse sum (None when every row is its own unit)
        self._to_units = None if identity else sparse.csr_matrix(
            (np.ones(self.unit.size), (self.unit, np.arange(self.unit.size))), shape=(self.n_units, self.unit.size))
        self._sizes = np.bincount(self.unit, minlength=self.n_units)
        self._strata = [self.stratum == s for s in np.unique(self.stratum)]  # the units of each stratum, in order

    def fit(self, counts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(prediction, standard error)`` at the evaluation points; ``counts``: each row's copies (None: 1)."""
        B, phi, w = self.B, self.phi, self.w
        v = w if counts is None else w * counts
        total = float(v.sum())
        xbar = (v @ B) / total
        ybar = float(v @ phi) / total
        Z = B * np.sqrt(v)[:, None]
        A = Z.T @ Z  # B'VB, one symmetric product; centred below by the rank-one term
        A -= total * np.outer(xbar, xbar)
        A[np.diag_indices_from(A)] += self.alpha
        De = self.B_eval - xbar
        # the coefficients and A^{-1} (x_0 - xbar) for every point, from one factorisation
        sol = linalg.cho_solve(linalg.cho_factor(A), np.column_stack((B.T @ (v * (phi - ybar)), De.T)))
        coef = sol[:, 0]
        BL = B @ sol - xbar @ sol  # (B_i - xbar)' [coef, L]
        pred = ybar + De @ coef
        resid = phi - ybar - BL[:, 0]
        infl = (w * resid)[:, None] * (1.0 / total + BL[:, 1:])  # (n, m), one copy of each row
        unit_infl = infl if self._to_units is None else self._to_units @ infl
        copies = (np.ones(self.n_units) if counts is None else
                  np.bincount(self.unit, weights=counts, minlength=self.n_units) / self._sizes)
        var = np.zeros(infl.shape[1])
        for inside in self._strata:
            c, U = copies[inside], unit_infl[inside]
            size = float(c.sum())
            if size < 2:
                continue
            centred = U - (c @ U) / size
            var += size / (size - 1.0) * (c @ centred**2)
        return pred, np.sqrt(var)
