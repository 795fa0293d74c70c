r"""Which queries to send to the experts next: active selection with known inclusion probabilities.

:func:`select_for_gold` draws a batch of ``n`` queries from a pool of queries without gold
labels, with inclusion probabilities

.. math:: \pi_i = \min\{1,\ \kappa\,[(1 - \lambda)\, s_i / \textstyle\sum_R s + \lambda / |R|]\}

over the remaining pool R (``uniform_share`` = lambda; kappa makes them sum to ``n``), where
s is the strategy's score:

``"uniform"``
    s = 1: a simple random sample.
``"uncertainty"``
    s_i = the standard error of :math:`\hat\Delta(x_i)` (the fast bootstrap of
    :func:`~metarouter_stats.bias_interval`, gold units): label where the bias is least known.
``"decision"``
    s_i = the expected regret of routing query i under that uncertainty, averaged over the
    usage rates of the EG reference range: for the threshold :math:`\tau_\rho` that sends a
    share rho of the pool to the primary model and :math:`z = |\hat\psi(x_i) - \tau_\rho| / se_i`,
    :math:`se_i\,\{\varphi(z) - z\,\Phi(-z)\}` (the expected loss of a normal decision): the
    width of the band times the closeness to the thresholds, in one number. It labels the
    queries whose own routing is in doubt - which is not where a gold label teaches a global
    bias model most: on the paper-like scenario batches chosen by it gave a smaller EG area than
    as many random labels (``benchmarks/planning/run.py active``, ``docs/benchmarks.md``).
``"neyman"`` (default)
    The allocation that minimises the average variance of :math:`\hat\Delta` at the queries
    whose routing is in doubt. With the DR-learner a gold row at x contributes
    :math:`\sigma^2 h_i^2 / \pi_i` to the variance of a linear final stage's prediction at
    :math:`x_0` (:math:`h_i` the smoother weight :math:`\tilde x_0^\top G \tilde x_i`,
    :math:`G = (\tilde X^\top \tilde X + \alpha I)^{-1}`, centred features); averaging over
    target points weighted by the density of their routing margin,
    :math:`w_0 = \text{mean}_\rho\,\varphi(z_{0\rho})`, gives
    :math:`a_i^2 = \tilde x_i^\top G M G \tilde x_i` with :math:`M = \sum_0 w_0 \tilde x_0 \tilde x_0^\top`,
    and :math:`\sum_i a_i^2 / \pi_i` subject to :math:`\sum \pi_i = n` is smallest at
    :math:`\pi_i \propto a_i` (Neyman allocation; gold noise taken as homoscedastic), so
    s_i = a_i. With per-query gold noise levels :math:`\sigma_i` (``gold_noise``: e.g. the
    spread of the experts' ratings of each query, any common unit) a gold row contributes
    :math:`\sigma_i^2 h_i^2 / \pi_i` and the allocation is :math:`\pi_i \propto a_i \sigma_i`,
    s_i = a_i sigma_i (Neyman's allocation with stratum standard deviations). It needs a linear final stage with a ridge penalty (the default); for other
    final stages ``"uncertainty"`` is used, with a warning. The best possible reduction of that
    variance over uniform sampling is :math:`1 + CV(a)^2`; on the simulated scenarios it is
    1.015 (isotropic Gaussian embeddings: every query teaches the bias model about as much), so
    no design can buy much there (measured: +12 (SE 13) and +9.5 (6.6) EG area against 100
    random labels, short of 150 random ones); it is larger where queries differ (1.08-1.12 on
    MT-Bench's item embeddings, ``benchmarks/planning/run.py bound``) or gold noise varies.

The mixture with uniform sampling keeps every query's probability at least
``lambda * n / |R|``: the design stays positive everywhere, so the DR-learner fitted with
these probabilities (:class:`~metarouter_stats.RoutingData`'s ``propensity``) is unbiased
for the bias everywhere (Zrnic and Candes, 2024, "Active statistical inference", use the
same mixture for the same reason), and the price of a poor score is bounded: the inverse
probability weights are at most ``1 / lambda`` times the uniform design's.

The batch is drawn by **systematic sampling with probabilities proportional to size** in a
random order (Madow, 1949): exactly ``n`` queries, each with inclusion probability exactly
:math:`\pi_i`. (Written here rather than taken from a library: scikit-learn and scipy have
no unequal-probability sampling without replacement with exact inclusion probabilities;
``numpy.random.Generator.choice(p=..., replace=False)`` draws sequentially and its
inclusion probabilities are not ``n p``.)

Batch-sequential use (label, refit, select again, with ``previous=``): a query's
probability of having a gold label after batch b is
:math:`1 - \prod_{b' \le b} (1 - \pi_{b', i})`, where for queries labelled in an earlier
batch :math:`\pi_{b', i}` is the value the batch's rule gives them (the same formula, the
same kappa). It is exact when every batch's score is fixed in advance; when a score is
refitted on the labels of earlier batches it treats that score as fixed, an approximation
whose effect ``benchmarks/planning/run.py`` measures (the mean bias stays unbiased within
Monte Carlo error; see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_1d_float, as_2d_float, as_rng, check_fraction, check_positive_int, check_resamples
from .._results import ResultMixin, frozen_array, new_axes
from ..data import RoutingData

__all__ = ["STRATEGIES", "GoldSelection", "select_for_gold", "systematic_pps"]

STRATEGIES = ("neyman", "decision", "uncertainty", "uniform")
EG_RATES = np.round(np.linspace(0.2, 0.8, 13), 10)  # the EG reference range of the paper's figures


def systematic_pps(pi: np.ndarray, rng: Any = None) -> np.ndarray:
    """Indices drawn by randomised systematic sampling with inclusion probabilities ``pi``.

    ``pi`` must lie in [0, 1] and sum to an integer n; exactly n indices are returned (sorted)
    and index i is drawn with probability ``pi[i]`` (Madow, 1949). The order of the units is
    shuffled first, so that pairs of units are not tied to their positions.

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.planning import systematic_pps
    >>> pi = np.array([0.5, 0.5, 1.0, 0.25, 0.75])
    >>> idx = systematic_pps(pi, rng=0)
    >>> len(idx), 2 in idx
    (3, True)
    """
    pi = np.asarray(pi, dtype=float)
    total = pi.sum()
    n = int(round(total))
    if np.any(pi < 0) or np.any(pi > 1 + 1e-12) or abs(total - n) > 1e-6 * max(1.0, total):
        raise ValueError(f"`pi` must lie in [0, 1] and sum to an integer; got sum {total!r}.")
    gen = as_rng(rng)
    order = gen.permutation(pi.size)
    cum = np.cumsum(pi[order])
    cum[-1] = n  # exact end point despite rounding
    points = gen.random() + np.arange(n)
    chosen = order[np.searchsorted(cum, points, side="right")]
    return np.sort(chosen)


def capped_probabilities(q: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """``min(1, kappa * q)`` summing to ``n`` (q > 0), and kappa."""
    capped = np.zeros(q.size, dtype=bool)
    for _ in range(q.size + 1):
        free = ~capped
        if not free.any():  # n equals the pool: every query is taken
            return np.ones(q.size), 1.0 / float(q.min())
        kappa = (n - capped.sum()) / q[free].sum()
        newly = free & (kappa * q >= 1)
        if not newly.any():
            break
        capped |= newly
    return np.where(capped, 1.0, kappa * q), float(kappa)


def _pool_fingerprint(X: np.ndarray) -> str:
    """Digest of a pool's embeddings, in order (every row: a reordered pool must not pass)."""
    import hashlib  # noqa: PLC0415

    return hashlib.sha1(np.ascontiguousarray(X, dtype=float).tobytes(), usedforsecurity=False).hexdigest()[:16]


@dataclass(frozen=True, eq=False, repr=False)
class GoldSelection(ResultMixin):
    """A batch of queries chosen for gold labelling, with its inclusion probabilities.

    Attributes
    ----------
    indices : ndarray of int
        Rows of the pool chosen in this batch (sorted).
    batch_probability : ndarray of shape (n_pool,)
        This batch's inclusion probability of every pool query (for queries labelled
        earlier: the value the batch's rule gives them, used by ``propensity``).
    propensity : ndarray of shape (n_pool,)
        Probability that each pool query has a gold label after this batch,
        ``1 - prod_b (1 - batch_probability_b)``: the ``propensity`` to give
        :class:`~metarouter_stats.RoutingData` (rows = pool queries, gold where ``labelled``).
    labelled : ndarray of bool, shape (n_pool,)
        Pool queries gold-labelled in this or an earlier batch.
    batch : ndarray of int, shape (n_pool,)
        The batch (1, 2, ...) in which each query was chosen, 0 if never.
    score : ndarray of shape (n_pool,)
        The strategy's score s (1 for ``"uniform"``).
    strategy : str
    uniform_share : float
    n_batches : int
    pool_fingerprint : str
        Digest of the pool's embeddings (in order): a later batch (``previous=``) and
        :meth:`routing_data` refuse another pool, or the same pool in another order.
    """

    indices: np.ndarray
    batch_probability: np.ndarray
    propensity: np.ndarray
    labelled: np.ndarray
    batch: np.ndarray
    score: np.ndarray
    strategy: str
    uniform_share: float
    n_batches: int
    pool_fingerprint: str = ""
    _title = "Queries chosen for gold labelling"

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", frozen_array(self.indices, dtype=int))
        object.__setattr__(self, "labelled", frozen_array(self.labelled, dtype=bool))
        object.__setattr__(self, "batch", frozen_array(self.batch, dtype=int))
        for name in ("batch_probability", "propensity", "score"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))

    @property
    def n_pool(self) -> int:
        """Number of pool queries."""
        return int(self.labelled.size)

    @property
    def _batch_pool(self) -> np.ndarray:
        """Queries that were in this batch's pool (not labelled before it)."""
        return ~self.labelled | np.isin(np.arange(self.n_pool), self.indices)

    @property
    def n_labelled(self) -> int:
        """Gold-labelled pool queries after this batch."""
        return int(self.labelled.sum())

    def routing_data(self, X: Any, preference: Any, gold: Any, **kwargs: Any) -> RoutingData:
        """The training data of this design: gold rows where labelled, preference rows elsewhere.

        Parameters
        ----------
        X : array-like of shape (n_pool, d)
            The pool's embeddings, in the order given to :func:`select_for_gold`.
        preference : array-like of shape (n_pool,)
            Preference labels of the pool queries (those of labelled queries are not used).
        gold : array-like of shape (n_pool,)
            Gold labels; read only where ``labelled`` (NaN elsewhere is fine).
        **kwargs
            Passed to :class:`~metarouter_stats.RoutingData` (``query_ids``, ``model_names``, ...).

        Returns
        -------
        RoutingData
            With ``propensity`` set to this selection's probabilities.
        """
        X = as_2d_float(X, "X")
        pref = np.asarray(preference, dtype=float)
        gold = np.asarray(gold, dtype=float)
        for name, arr in (("preference", pref), ("gold", gold)):
            if arr.shape != (self.n_pool,):
                raise ValueError(f"`{name}` must have one entry per pool query ({self.n_pool}); got shape {arr.shape}.")
        if X.shape[0] != self.n_pool:
            raise ValueError(f"`X` must be the pool ({self.n_pool} rows); got {X.shape[0]}.")
        if self.pool_fingerprint and _pool_fingerprint(X) != self.pool_fingerprint:
            raise ValueError("`X` is not the pool this selection was drawn from (other queries, or the same ones in "
                             "another order): gold labels would be paired with other queries' embeddings. Pass the "
                             "pool given to select_for_gold, in its order.")
        if not np.all(np.isfinite(gold[self.labelled])):
            raise ValueError("`gold` must hold a finite label for every labelled query (`labelled`).")
        if not np.all(np.isfinite(pref[~self.labelled])):
            raise ValueError("`preference` must hold a finite label for every query not gold-labelled.")
        outcome = np.where(self.labelled, gold, pref)
        return RoutingData(X, outcome, self.labelled.astype(int), propensity=self.propensity, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """One row per pool query: labelled, batch, batch_probability, propensity, score."""
        return pd.DataFrame({
            "labelled": self.labelled, "batch": self.batch, "batch_probability": self.batch_probability,
            "propensity": self.propensity, "score": self.score,
        })

    def _rows(self) -> list[tuple[str, str]]:
        bp = self.batch_probability[self._batch_pool]
        w = 1.0 / self.propensity[self.labelled]
        return [
            ("strategy", f"{self.strategy} (uniform share {self.uniform_share:g})"),
            ("this batch", f"{self.indices.size} queries (batch {self.n_batches})"),
            ("labelled so far", f"{self.n_labelled} of {self.n_pool} pool queries"),
            ("batch probability min / median / max", f"{bp.min():.4g} / {np.median(bp):.4g} / {bp.max():.4g}"),
            ("max / min inverse-probability weight of labelled", f"{w.max() / w.min():.3g}"),
            ("use", "RoutingData(..., propensity=selection.propensity), or selection.routing_data(X, pref, gold)"),
        ]

    def plot(self, ax: Any = None) -> Any:
        """This batch's inclusion probability against the strategy's score (chosen queries marked).

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(6, 4))
        pool = self._batch_pool
        ax.scatter(self.score[pool], self.batch_probability[pool], s=6, alpha=0.4, color="grey", label="pool")
        ax.scatter(self.score[self.indices], self.batch_probability[self.indices], s=14, color="#1f77b4",
                   label="chosen")
        ax.set_xlabel(f"score ({self.strategy})")
        ax.set_ylabel("inclusion probability in this batch")
        ax.set_title(f"Batch {self.n_batches}: {self.indices.size} queries for gold labelling")
        ax.legend()
        return ax


def _scores(router: Any, X: np.ndarray, strategy: str, n_boot: int, rates: np.ndarray, gen: np.random.Generator,
            n_jobs: int | None, noise: np.ndarray | None = None) -> np.ndarray:
    if strategy == "uniform":
        return np.ones(X.shape[0])
    from ..inference import bias_interval  # noqa: PLC0415

    if router is None or not hasattr(router, "bias_learner_"):
        raise TypeError(
            f"strategy={strategy!r} needs a fitted MetaRouter (`router`) for the band of Delta_hat; got "
            f"{type(router).__name__}. Use strategy='uniform' for a first batch without a router."
        )
    band = bias_interval(router, X, method="fast", n_boot=n_boot, rng=gen, n_jobs=n_jobs)
    se = np.maximum(np.asarray(band.std_error, dtype=float), 1e-12)
    if strategy == "uncertainty":
        return se
    psi = np.asarray(router.predict_gain(X), dtype=float)
    taus = np.quantile(psi, 1.0 - rates)
    z = np.abs(psi[:, None] - taus[None, :]) / se[:, None]
    if strategy == "neyman":
        alpha = _ridge_penalty(router.bias_learner_)
        if alpha is None:
            warnings.warn(
                "strategy='neyman' needs a linear ridge final stage (the default); this learner's is not, so the "
                "band's standard error is used instead (strategy='uncertainty').",
                UserWarning,
                stacklevel=3,
            )
            return se if noise is None else se * noise
        train = np.asarray(router.bias_learner_.scores_.X, dtype=float)
        centre = train.mean(axis=0)
        xt, xp = train - centre, X - centre
        G = np.linalg.inv(xt.T @ xt + alpha * np.eye(xt.shape[1]))
        w0 = stats.norm.pdf(z).mean(axis=1)  # density of each pool query's routing margin
        M = (xp * w0[:, None]).T @ xp
        B = G @ M @ G
        a2 = np.einsum("ij,jk,ik->i", xp, B, xp)
        a = np.sqrt(np.maximum(a2, 1e-12 * max(float(a2.max()), 1e-300)))
        return a if noise is None else a * noise
    regret = se[:, None] * (stats.norm.pdf(z) - z * stats.norm.sf(z))
    return np.maximum(regret.mean(axis=1), 1e-12 * se)


def _ridge_penalty(learner: Any) -> float | None:
    """The ridge penalty of a learner's fitted linear final stage (None when it is not one).

    A final stage chosen among candidates (the default's) is read through its band, the linear
    ridge refitted on the learner's scores (``bias_interval(final_stage="auto")``): its
    leave-one-out penalty.
    """
    from ..cate.final_stage import FINAL_ALPHAS, SelectedFinalStage  # noqa: PLC0415
    from ..cate.ridge import GramRidgeCV  # noqa: PLC0415

    try:
        final = learner.final_model_
    except (AttributeError, NotImplementedError):
        return None
    if isinstance(final, SelectedFinalStage):
        sc = learner.scores_
        final = learner.refit_final(sc.X, sc.pseudo_outcomes, sc.weights, model=GramRidgeCV(alphas=FINAL_ALPHAS))
    alpha = getattr(final, "alpha_", getattr(final, "alpha", None))
    if not hasattr(final, "coef_") or alpha is None or np.ndim(alpha) != 0:
        return None
    return float(alpha)


def select_for_gold(
    router: Any,
    X_pool: Any,
    n: int,
    *,
    strategy: str = "neyman",
    uniform_share: float = 0.5,
    previous: GoldSelection | None = None,
    rates: Any = None,
    gold_noise: Any = None,
    n_boot: int = 200,
    rng: Any = None,
    n_jobs: int | None = None,
) -> GoldSelection:
    """Choose the next ``n`` queries to send for gold labelling, with their inclusion probabilities.

    Parameters
    ----------
    router : fitted MetaRouter or None
        The current router (its Delta_hat band and psi_hat drive the score). None only with
        ``strategy="uniform"`` (a first batch).
    X_pool : array-like of shape (n_pool, d), or RoutingData of preference rows
        Queries without gold labels (with ``previous``: the same pool as before, in the same
        order; queries it labelled are skipped). A RoutingData must hold no gold row.
    n : int
        Batch size; at most the number of queries still without a gold label.
    strategy : {"neyman", "decision", "uncertainty", "uniform"}, default "neyman"
        The score (module docstring): the allocation minimising the variance of Delta_hat at
        the queries whose routing is in doubt, the expected routing regret under the band's
        uncertainty, the band's standard error, or none.
    uniform_share : float in (0, 1], default 0.5
        Share of the design that is uniform sampling: every remaining query keeps a
        probability of at least ``uniform_share * n / n_remaining``, and the inverse
        probability weights are at most ``1 / uniform_share`` times the uniform design's.
    previous : GoldSelection, optional
        The selection of the previous batch (batch-sequential use): its labelled queries are
        excluded and its probabilities accumulate into ``propensity``.
    rates : array-like, optional
        Usage rates whose thresholds the "decision" score looks at. Default: 0.2, 0.25, ..., 0.8
        (the EG reference range).
    gold_noise : array-like of shape (n_pool,), optional
        ``strategy="neyman"`` only: the standard deviation of each pool query's gold-label
        noise, in any common unit (only ratios matter), e.g. the spread of the experts'
        ratings where several rate a query. The score becomes a_i sigma_i: noisier queries
        need more labels to teach the bias model as much. None: homoscedastic.
    n_boot : int, default 200
        Bootstrap draws of the fast band behind the standard errors.
    rng : None, int or numpy.random.Generator
        Seed of the band and of the draw; the same seed gives the same batch for any ``n_jobs``.
    n_jobs : int or None
        joblib workers of the band.

    Returns
    -------
    GoldSelection
        ``indices`` of the chosen queries, ``batch_probability`` and the cumulative
        ``propensity`` to use when fitting on the labelled design.

    Raises
    ------
    ValueError
        ``n`` larger than the queries left, a pool holding gold rows, a pool that differs from
        ``previous``'s, ``uniform_share`` outside (0, 1], an unknown strategy.

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=40, n_preference=400, n_test=5, rng=0)
    >>> pool = s.train.X
    >>> first = mrs.select_for_gold(None, pool, 20, strategy="uniform", rng=0)
    >>> first.indices.size, round(float(first.propensity[0]), 4)
    (20, 0.0455)
    >>> data = first.routing_data(pool, s.draw_preference(pool, rng=1), s.gold_train)
    >>> router = mrs.MetaRouter(random_state=0).fit(data)
    >>> second = mrs.select_for_gold(router, pool, 20, previous=first, n_boot=50, rng=1)
    >>> second.n_labelled, bool(second.labelled[first.indices].all())
    (40, True)
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}; got {strategy!r}.")
    lam = check_fraction(uniform_share, "uniform_share")
    if lam == 0.0:
        raise ValueError(f"`uniform_share` must be in (0, 1]; got {uniform_share!r}.")
    if isinstance(X_pool, RoutingData):
        if X_pool.n_gold:
            raise ValueError(
                f"`X_pool` holds {X_pool.n_gold} gold-labelled row(s): the pool must be queries without gold labels "
                "(pass data.subset(~data.is_gold), or the earlier selection as `previous`)."
            )
        X_pool = X_pool.X
    X = as_2d_float(X_pool, "X_pool")
    n_pool = X.shape[0]
    if previous is not None:
        if not isinstance(previous, GoldSelection):
            raise TypeError(f"`previous` must be a GoldSelection; got {type(previous).__name__}.")
        if previous.n_pool != n_pool or (previous.pool_fingerprint and
                                           previous.pool_fingerprint != _pool_fingerprint(X)):
            what = (f"a pool of {previous.n_pool} queries; `X_pool` has {n_pool}" if previous.n_pool != n_pool
                    else "another pool (other queries, or the same ones in another order)")
            raise ValueError(f"`previous` was drawn from {what}. Pass the same pool, in the same order, at every batch.")
        labelled = previous.labelled.copy()
        batch = previous.batch.copy()
        survive = 1.0 - previous.propensity
        k = previous.n_batches + 1
    else:
        labelled = np.zeros(n_pool, dtype=bool)
        batch = np.zeros(n_pool, dtype=int)
        survive = np.ones(n_pool)
        k = 1
    remaining = int((~labelled).sum())
    n = check_positive_int(n, "n")
    if n > remaining:
        raise ValueError(
            f"`n` ({n}) must not exceed the {remaining} pool queries without a gold label; lower `n` or enlarge the pool."
        )
    n_boot = check_resamples(n_boot, "n_boot", minimum=10)
    rate_grid = EG_RATES if rates is None else as_1d_float(np.ravel(rates), "rates")
    if rate_grid.size == 0 or np.any((rate_grid <= 0) | (rate_grid >= 1)):
        raise ValueError(f"`rates` must be usage rates in (0, 1); got {rates!r}.")
    noise = None
    if gold_noise is not None:
        if strategy != "neyman":
            raise ValueError(f"`gold_noise` is used by strategy='neyman' only; got strategy={strategy!r}.")
        noise = as_1d_float(gold_noise, "gold_noise")
        if noise.shape != (n_pool,) or not np.all(np.isfinite(noise)) or np.any(noise <= 0):
            raise ValueError(
                f"`gold_noise` must hold one finite, positive standard deviation per pool query ({n_pool}); got "
                f"shape {noise.shape} with min {float(np.min(noise)) if noise.size else float('nan'):.3g}."
            )
    gen = as_rng(rng)
    s = _scores(router, X, strategy, n_boot, rate_grid, gen, n_jobs, noise)
    free = ~labelled
    q = (1.0 - lam) * s / s[free].sum() + lam / remaining
    pi_free, kappa = capped_probabilities(q[free], n)
    pi = np.minimum(1.0, kappa * q)  # the batch's rule, also at queries labelled earlier
    pi[free] = pi_free
    chosen = np.flatnonzero(free)[systematic_pps(pi_free, gen)]
    labelled[chosen] = True
    batch[chosen] = k
    return GoldSelection(
        indices=chosen, batch_probability=pi, propensity=1.0 - survive * (1.0 - pi), labelled=labelled,
        batch=batch, score=s, strategy=strategy, uniform_share=lam, n_batches=k, pool_fingerprint=_pool_fingerprint(X),
    )
