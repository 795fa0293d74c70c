r"""Ridge with its leave-one-out penalty search in one pass over the rows.

scikit-learn's :class:`~sklearn.linear_model.RidgeCV` (efficient leave-one-out) forms, for each
penalty on its grid, the hat diagonal :math:`\mathrm{diag}(X_c (X_c'X_c + \alpha I)^{-1} X_c')`
as a product of the rows with a d x d matrix: :math:`O(n d^2)` per penalty. At a million rows
and d = 384 that was 31 x 12 s, most of a default fit. With the eigendecomposition
:math:`X_c'WX_c = V S V'` and the projected rows :math:`P = W^{1/2} X_c V`, every penalty's hat
diagonal and fit follow from :math:`P` at :math:`O(n d)` each:

.. math:: h_i(\alpha) = \frac{w_i}{\sum w} + \sum_j \frac{P_{ij}^2}{s_j + \alpha}, \qquad
          \hat y_i(\alpha) = \bar y + \sum_j \frac{(X_c V)_{ij}\, z_j}{s_j + \alpha},
          \quad z = V' X_c' W y_c,

and the leave-one-out residual is :math:`(y_i - \hat y_i(\alpha)) / (1 - h_i(\alpha))`. The
rows are read in blocks (no centred copy of X), so the search costs two passes over X and
memory of order d^2 plus one block. :class:`GramRidgeCV` is a ``RidgeCV`` (same parameters,
attributes and choice of penalty, to rounding: ``tests/cate/test_ridge.py``) that takes this
route for what the final stages use (dense X, one target, the efficient leave-one-out with
the default scoring) and defers to scikit-learn otherwise. Its leave-one-out predictions at
the chosen penalty are kept (``loo_predictions_``) for the stacked final stage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import RidgeCV

__all__ = ["BLOCK_ROWS", "GramRidgeCV", "hat_diagonal"]

#: Rows per block (a block of the centred design is BLOCK_ROWS x d floats).
BLOCK_ROWS = 1 << 15


class GramRidgeCV(RidgeCV):
    """``RidgeCV`` whose efficient leave-one-out search costs O(n d^2) once, not once per penalty.

    Parameters are those of :class:`~sklearn.linear_model.RidgeCV`. The fast route is taken
    for dense ``X``, a 1-D target, ``cv=None``, ``scoring=None``, ``alpha_per_target=False``
    and ``store_cv_results=False``; anything else is scikit-learn's fit.

    Attributes
    ----------
    alpha_, best_score_, coef_, intercept_, n_features_in_
        As ``RidgeCV`` (``best_score_`` is minus the mean of ``w_i`` times the squared
        leave-one-out residual).
    loo_predictions_ : ndarray of shape (n,)
        Leave-one-out predictions at ``alpha_`` (fast route only).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeCV
    >>> from metarouter_stats.cate.ridge import GramRidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 8)); y = X[:, 0] + rng.normal(size=500)
    >>> fast, ref = GramRidgeCV(alphas=np.logspace(-1, 3, 9)).fit(X, y), RidgeCV(alphas=np.logspace(-1, 3, 9)).fit(X, y)
    >>> bool(fast.alpha_ == ref.alpha_ and np.allclose(fast.coef_, ref.coef_))
    True
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> GramRidgeCV:
        """Fit with the leave-one-out penalty; returns self."""
        fast = (
            not params and self.cv is None and self.scoring is None and not self.alpha_per_target
            and not getattr(self, "store_cv_results", False) and not getattr(self, "store_cv_values", False)
            and isinstance(X, np.ndarray) and X.ndim == 2 and np.ndim(y) == 1 and X.shape[0] > 1
            and self.gcv_mode in (None, "auto", "eigen", "svd")
        )
        if not fast:
            return super().fit(X, y, sample_weight=sample_weight, **params)
        return self._fit_gram(X, y, sample_weight)

    def _fit_gram(self, X: np.ndarray, y: Any, sample_weight: Any) -> GramRidgeCV:
        alphas = np.asarray(self.alphas, dtype=float).reshape(-1)
        if alphas.size == 0 or np.any(alphas <= 0) or not np.all(np.isfinite(alphas)):
            return super().fit(X, y, sample_weight=sample_weight)  # scikit-learn's message for a bad grid
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).reshape(-1)
        n, d = X.shape
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float).reshape(-1)
        if w.shape[0] != n or np.any(w < 0) or not np.all(np.isfinite(w)):
            return super().fit(X, y, sample_weight=sample_weight)
        wsum = float(w.sum())
        y_mean = float(w @ y) / wsum if self.fit_intercept else 0.0
        x_mean, evals, V, xty = _centred_gram(X, w, self.fit_intercept, y - y_mean)
        z = V.T @ xty
        inv = 1.0 / (evals[:, None] + alphas[None, :])  # d x n_alphas
        base_lev = w / wsum if self.fit_intercept else np.zeros(n)
        sq_err = np.zeros(alphas.size)
        for a, b in _blocks(n):
            proj = (X[a:b] - x_mean) @ V  # rows of X_c V
            fit = y_mean + proj @ (z[:, None] * inv)  # block x n_alphas
            lev = base_lev[a:b, None] + (w[a:b, None] * proj**2) @ inv
            loo_resid = (y[a:b, None] - fit) / np.maximum(1.0 - lev, 1e-12)
            sq_err += w[a:b] @ loo_resid**2
        best = int(np.argmin(sq_err))  # the first of tied minima, as scikit-learn
        self.alpha_ = float(alphas[best])
        self.best_score_ = float(-sq_err[best] / n)
        self.coef_ = V @ (z * inv[:, best])
        self.intercept_ = float(y_mean - x_mean @ self.coef_) if self.fit_intercept else 0.0
        self.n_features_in_ = d
        resid = y - (y_mean + X @ self.coef_ - x_mean @ self.coef_)
        self.loo_predictions_ = y - resid / np.maximum(1.0 - _hat(X, w, x_mean, V, inv[:, best], base_lev), 1e-12)
        return self


def hat_diagonal(X: np.ndarray, w: np.ndarray | None, alpha: float, fit_intercept: bool = True) -> np.ndarray:
    """Diagonal of a weighted ridge's hat matrix (intercept unpenalised), in blocks of rows.

    ``h_i = w_i / sum(w) + w_i x_ci' (X_c' W X_c + alpha I)^{-1} x_ci`` with ``x_c`` the rows
    centred at the weighted mean (no intercept: uncentred, no first term). The left-out residual of
    row i is ``e_i / (1 - h_i)``.
    """
    X = np.asarray(X, dtype=float)
    w = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=float)
    x_mean, evals, V, _ = _centred_gram(X, w, fit_intercept, None)
    base = w / w.sum() if fit_intercept else np.zeros(X.shape[0])
    return _hat(X, w, x_mean, V, 1.0 / (evals + float(alpha)), base)


def _centred_gram(X: np.ndarray, w: np.ndarray, fit_intercept: bool,
                  target: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(weighted mean, eigenvalues >= 0, eigenvectors of X_c' W X_c, X_c' W target), one pass over the rows."""
    n, d = X.shape
    x_mean = (w @ X) / w.sum() if fit_intercept else np.zeros(d)
    gram = np.zeros((d, d))
    xty = np.zeros(d)
    for a, b in _blocks(n):
        C = X[a:b] - x_mean
        wc = C * w[a:b, None]
        gram += C.T @ wc
        if target is not None:
            xty += wc.T @ target[a:b]
    evals, V = np.linalg.eigh(gram)
    return x_mean, np.maximum(evals, 0.0), V, xty


def _hat(X: np.ndarray, w: np.ndarray, x_mean: np.ndarray, V: np.ndarray, inv: np.ndarray,
         base: np.ndarray) -> np.ndarray:
    """Hat diagonal ``base + w_i sum_j (x_ci' v_j)^2 inv_j``, in blocks of rows."""
    out = np.empty(X.shape[0])
    for a, b in _blocks(X.shape[0]):
        out[a:b] = base[a:b] + (w[a:b, None] * ((X[a:b] - x_mean) @ V) ** 2) @ inv
    return out


def _blocks(n: int) -> list[tuple[int, int]]:
    return [(a, min(a + BLOCK_ROWS, n)) for a in range(0, n, BLOCK_ROWS)]
