r"""The one PPI++ power tuner: variance-minimising coefficients of a prediction-powered estimate.

Every prediction-powered estimate of the package (an efficiency gain, a paired difference of
two routers, a mean quality under costs) has the form

.. math::

    \hat\theta = \sum_j \lambda_j \bar u_j
        + \frac{\sum_{i \in G} \pi_i^{-1} (v_i - \sum_j \lambda_j u_{ij} - \beta z_i)}{\sum_{i \in G} \pi_i^{-1}},

with :math:`u_{ij}` the estimand's contrast times the j-th pseudo-gold prediction (its
all-query mean :math:`\bar u_j` is known up to O(1/n)), :math:`v_i` the contrast times the
gold label, and optionally :math:`z_i` a control whose all-query mean is exactly 0 (a
routing contrast). The gold rows G are part of the n queries (labelled with known
probabilities :math:`\pi_i`), so the first-order variance is minimised by the weighted normal
equations below, weights :math:`\pi^{-1}(\pi^{-1} - 1)`, with no clipping: for a mean with gold
on a random share r of the queries the solution is Cov(v, u) / Var(u) (not Cov / ((1 + r) Var),
the rule for a labelled sample *disjoint* from the unlabelled one), and a coefficient outside
[0, 1] is as valid as one inside. Gold-only estimation is :math:`\lambda = 0`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tune_power"]


def tune_power(zc: np.ndarray, F: np.ndarray, g: np.ndarray, ip: np.ndarray, u_bar: np.ndarray, share: float,
               use_z: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Variance-minimising (lambda, beta) per estimand column, from the gold rows.

    Parameters
    ----------
    zc : ndarray (n_gold, m)
        The estimands' contrasts on the gold rows (ones for a mean).
    F : ndarray (n_gold, p) or (n_gold, m, p)
        The gold rows' pseudo-gold columns (shared by every estimand, or one set per estimand).
    g : ndarray (n_gold,) or (n_gold, m)
        Their gold labels (shared, or one per estimand).
    ip : ndarray (n_gold,)
        1 / pi of the gold rows.
    u_bar : ndarray (m, p)
        The all-query means of z f_j.
    share : float
        n_gold / n.
    use_z : bool
        Also tune beta, the coefficient of the exact-zero-mean control z (routing contrasts).

    Returns
    -------
    lambda : ndarray (m, p) and beta : ndarray (m,)
        Zeros where nothing is estimable (gold everywhere). The normal equations solved per column are
        ``[[C_uu, C_uz], [(1 - share) C_uz', C_zz]] [lambda; beta] = [C_uv; C_zv]``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=4000); y = 2.0 * f + rng.normal(size=4000)
    >>> gold = rng.random(4000) < 0.1
    >>> lam, _ = tune_power(np.ones((gold.sum(), 1)), f[gold][:, None], y[gold], np.full(gold.sum(), 10.0),
    ...                     np.array([[f.mean()]]), gold.mean(), use_z=False)
    >>> bool(abs(lam[0, 0] - 2.0) < 0.2)
    True
    """
    m, p = zc.shape[1], F.shape[-1]
    lam, beta = np.zeros((m, p)), np.zeros(m)
    w = ip * (ip - 1.0)
    if not np.any(w > 0):
        return lam, beta
    sw = float(np.sum(ip))
    for k in range(m):
        z = zc[:, k]
        Fk = F if F.ndim == 2 else F[:, k, :]
        v = z * (g if g.ndim == 1 else g[:, k])
        vt = v - np.sum(ip * v) / sw
        blocks: list[np.ndarray] = [z[:, None] * Fk - u_bar[k][None, :]] if p else []
        if use_z:
            blocks.append((z - np.sum(ip * z) / sw)[:, None])
        if not blocks:
            continue
        X = np.hstack(blocks)
        M = (X * w[:, None]).T @ X
        rhs = (X * w[:, None]).T @ vt
        if use_z and p:
            M[p, :p] *= 1.0 - share
        scale = np.sqrt(np.maximum(np.diag(M), 1e-300))
        Ms = M / np.outer(scale, scale)
        coef = np.linalg.lstsq(Ms, rhs / scale, rcond=1e-10)[0] / scale
        lam[k] = coef[:p]
        beta[k] = coef[p] if use_z else 0.0
    return lam, beta
