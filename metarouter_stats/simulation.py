r"""Seeded data-generating processes with known gold gain, preference gain and bias.

Every scenario draws query embeddings with PCA-like decaying variances, as if the
embeddings of real queries had been reduced to their leading principal
components (the paper reduces sentence embeddings to d = 50 components):

.. math::

    x_j = \sqrt{\lambda_j}\, z_j,\qquad z_j \sim N(0, 1),\qquad
    \lambda_j = j^{-1/2},\quad j = 1, \dots, d.

The latent quality gain on the preference (PB) scale is

.. math::

    f(x) = 0.8 \tanh(z_1) + 0.5 \sin(1.5 z_2) + 0.4 z_3 z_4 + 0.3\,\mathbb 1\{z_5 > 0\} - 0.15,

a non-linear function that needs many labels to learn. Gold-standard labels live
on their own scale (a rubric scale ``1 / c`` times wider):

.. math::

    r = \psi(x) + \varepsilon,\quad \psi(x) = f(x) / c,\quad \varepsilon \sim N(0, \sigma_G^2 / c^2),

and preference labels carry a bias :math:`b(x)` on the PB scale:

.. math::

    y = \eta(x) + \varepsilon',\quad \eta(x) = f(x) - b(x),\quad \varepsilon' \sim N(0, \sigma_P^2).

So the bias on the PB scale (gold rescaled by c, the package's Delta) is
:math:`\Delta(x) = c\,\psi(x) - \eta(x) = b(x)`, and on the gold scale it is
:math:`\psi(x) - \eta(x)/c = b(x)/c`. The scenarios differ in b and in how gold
queries are selected:

``"paper"``
    :math:`b(x) = 0.3 + 0.6 z_1 - 0.5 z_6 + 0.3 z_2`: heterogeneous, smooth, in
    leading components, so a global mean shift cannot remove it; gold queries
    drawn at random (propensity = gold share). ``c = 0.25`` (gold on a 4x wider scale).
``"homogeneous"``
    :math:`b(x) = 0.5`: a constant bias a mean shift removes.
``"no_bias"``
    :math:`b = 0` and ``c = 1``: both mechanisms identical.
``"nonlinear_bias"``
    :math:`b(x) = 0.2 + 0.6 \tanh(2 z_1) - 0.4 |z_6| + 0.3 z_2 \mathbb 1\{z_3 > 0\}`:
    heterogeneous and non-linear (checks that defaults do not rely on a linear bias).
``"weak_bias"``
    :math:`b(x) = 0.5 + 0.15 z_1`: heterogeneous but weakly (SD 0.15 against the paper's
    0.84): a hard case for the heterogeneity test and the group averages, where power is
    what a conservative test loses first.
``"step_bias"``
    :math:`b(x) = 0.1 + 0.6\,\mathbb 1\{z_1 > 0\} - 0.4\,\mathbb 1\{z_6 > 0.5\}`: a bias that jumps
    (a judge that turns harsh past a threshold), which no linear or smooth model fits at the jump.
``"sparse_bias"``
    :math:`b(x) = 0.3 + 0.7 z_{12}`: linear in one coordinate of middling variance (the 12th; the
    last when d < 12), so a basis spread over the leading coordinates spends its variance elsewhere.
``"smooth_bias"``
    :math:`b(x) = 0.2 + 0.5 \sin(1.5 z_1) + 0.3 (z_2^2 - 1)`: smooth, additive and curved.
``"selection"``
    the paper scenario's b, but gold queries selected by the covariate:
    drawn without replacement with weights :math:`\exp(1.5 z_1)`
    (covariate-dependent selection): gold queries crowd the upper tail of z1, so overlap
    is poor in the **lower** tail, where preference queries have almost no gold
    neighbours (gold propensity near 0).

Test queries are drawn from the same embedding distribution and carry gold labels.

**Several judges** (:func:`simulate_judges`): judge k labels a query with
:math:`y_k = f(x) - b_k(x) + u_q + \varepsilon_k`, :math:`\varepsilon_k \sim N(0, \sigma_k^2)`,
its bias :math:`b_k` one of the scenarios' bias functions (two judges may share one) and its
noise and price its own (:class:`JudgeSpec`); gold is :math:`c\,r = f(x) + u_q + \varepsilon`.
The default panel (:data:`JUDGES`): ``"strong"`` (the paper's bias, noise 0.5, cost 1),
``"cheap"`` (the smooth bias, noise 1.0, cost 0.1) and ``"twin"`` (the strong judge's bias,
noise 0.7, cost 0.3): two judges biased alike and one biased otherwise.

Two designs (``design=``): ``"unpaired"`` (the paper's: each training query is labelled by
one mechanism, ``n_gold`` by gold and ``n_preference`` by preference) and ``"paired"`` (the
common real design: the judge labels all ``n_preference`` training queries, and a subset of
``n_gold`` of them, drawn as above, also gets a gold label; query ids tie a query's two rows).
In the paired design each query also has a gain of its own that the embedding does not capture,
:math:`u_q \sim N(0, 0.5^2)` on the preference scale, seen by both mechanisms (the answers to a
query are better or worse than its embedding predicts, and judge and experts both see it):
:math:`c\,r = f(x) + u_q + \varepsilon` and :math:`y = f(x) - b(x) + u_q + \varepsilon'`, so psi, eta
and Delta are unchanged, the paired difference cancels :math:`u_q`, and the test queries' gold
labels carry it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_rng, check_positive_int
from .data import RoutingData

__all__ = ["DESIGNS", "JUDGES", "SCENARIOS", "JudgeSpec", "SimulatedJudges", "SimulatedStudy", "simulate",
           "simulate_judges"]

DESIGNS = ("unpaired", "paired")
SCENARIOS = ("paper", "homogeneous", "no_bias", "nonlinear_bias", "weak_bias", "step_bias", "sparse_bias",
             "smooth_bias", "selection")

_SIGMA_GOLD = 0.5  # gold noise sd, on the PB scale (sigma_G)
_SIGMA_QUERY = 0.5  # paired design: each query's own gain, seen by both mechanisms
_SIGMA_PREF = 0.5  # preference noise sd (sigma_P)


def eigen_spectrum(d: int) -> np.ndarray:
    """Variances of the d embedding coordinates of the simulation: 1, 1/sqrt(2), ..., 1/sqrt(d)."""
    return np.arange(1, d + 1, dtype=float) ** -0.5


def standardise(X: np.ndarray) -> np.ndarray:
    """Embeddings with every coordinate scaled to unit variance (the latent z of the simulation's functions)."""
    return X / np.sqrt(eigen_spectrum(X.shape[1]))


def _latent(X: np.ndarray) -> np.ndarray:
    z = standardise(X)
    return (
        0.8 * np.tanh(z[:, 0])
        + 0.5 * np.sin(1.5 * z[:, 1])
        + 0.4 * z[:, 2] * z[:, 3]
        + 0.3 * (z[:, 4] > 0)
        - 0.15
    )


def _bias_paper(X: np.ndarray) -> np.ndarray:
    z = standardise(X)
    return 0.3 + 0.6 * z[:, 0] - 0.5 * z[:, 5] + 0.3 * z[:, 1]


def _bias_nonlinear(X: np.ndarray) -> np.ndarray:
    z = standardise(X)
    return 0.2 + 0.6 * np.tanh(2 * z[:, 0]) - 0.4 * np.abs(z[:, 5]) + 0.3 * z[:, 1] * (z[:, 2] > 0)


def _bias_weak(X: np.ndarray) -> np.ndarray:
    return 0.5 + 0.15 * standardise(X)[:, 0]


def _bias_step(X: np.ndarray) -> np.ndarray:
    z = standardise(X)
    return 0.1 + 0.6 * (z[:, 0] > 0) - 0.4 * (z[:, 5] > 0.5)


def _bias_sparse(X: np.ndarray) -> np.ndarray:
    return 0.3 + 0.7 * standardise(X)[:, min(11, X.shape[1] - 1)]


def _bias_smooth(X: np.ndarray) -> np.ndarray:
    z = standardise(X)
    return 0.2 + 0.5 * np.sin(1.5 * z[:, 0]) + 0.3 * (z[:, 1] ** 2 - 1)


def _bias_constant(value: float) -> Callable[[np.ndarray], np.ndarray]:
    def bias(X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], value)

    return bias


_SPEC: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float, bool]] = {
    # name: (bias on PB scale, c, covariate selection)
    "paper": (_bias_paper, 0.25, False),
    "homogeneous": (_bias_constant(0.5), 0.25, False),
    "no_bias": (_bias_constant(0.0), 1.0, False),
    "nonlinear_bias": (_bias_nonlinear, 0.25, False),
    "weak_bias": (_bias_weak, 0.25, False),
    "step_bias": (_bias_step, 0.25, False),
    "sparse_bias": (_bias_sparse, 0.25, False),
    "smooth_bias": (_bias_smooth, 0.25, False),
    "selection": (_bias_paper, 0.25, True),
}


@dataclass(frozen=True, eq=False, repr=False)
class SimulatedStudy:
    """A simulated training set, test set and the true functions.

    Attributes
    ----------
    train : RoutingData
        Gold and preference labelled training queries.
    X_test : ndarray of shape (n_test, d)
        Test embeddings.
    gold_test : ndarray of shape (n_test,)
        Noisy gold labels of the test queries (gold scale).
    psi_test : ndarray of shape (n_test,)
        True gold gain psi(x) of the test queries (gold scale).
    gold_train : ndarray of shape (n,)
        Gold labels for *every* training query (what an oracle router is given).
    scale : float
        True scale constant c: ``c * gold`` is on the preference scale.
    scenario : str
        Name of the scenario.
    """

    train: RoutingData
    X_test: np.ndarray
    gold_test: np.ndarray
    psi_test: np.ndarray
    gold_train: np.ndarray
    scale: float
    scenario: str

    def __repr__(self) -> str:
        return (f"SimulatedStudy(scenario={self.scenario!r}, scale={self.scale:g}, n_gold={self.train.n_gold}, "
                f"n_preference={self.train.n_preference}, n_test={self.X_test.shape[0]}, d={self.X_test.shape[1]})")

    def draw_preference(self, X: np.ndarray, rng: Any = None) -> np.ndarray:
        """New preference labels of the queries ``X``: eta(x) plus the scenario's preference noise.

        For evaluation sets that carry preference labels on every query (``rng`` seeds the noise).
        """
        X = np.asarray(X, dtype=float)
        return self.eta(X) + _SIGMA_PREF * as_rng(rng).standard_normal(X.shape[0])

    def psi(self, X: np.ndarray) -> np.ndarray:
        """True gold gain psi(x) on the gold scale."""
        return _latent(np.asarray(X, dtype=float)) / self.scale

    def eta(self, X: np.ndarray) -> np.ndarray:
        """True preference gain eta(x) on the preference scale."""
        X = np.asarray(X, dtype=float)
        return _latent(X) - _SPEC[self.scenario][0](X)

    def delta(self, X: np.ndarray, *, scale: str = "gold") -> np.ndarray:
        """True bias Delta(x): gold minus preference.

        ``scale="gold"`` gives psi(x) - eta(x) / c; ``scale="preference"`` gives
        c * psi(x) - eta(x).
        """
        X = np.asarray(X, dtype=float)
        b = _SPEC[self.scenario][0](X)
        if scale == "gold":
            return b / self.scale
        if scale == "preference":
            return b
        raise ValueError(f"`scale` must be 'gold' or 'preference'; got {scale!r}.")


def simulate(
    n_gold: int = 100,
    n_preference: int = 4400,
    n_test: int = 500,
    d: int = 50,
    *,
    scenario: str = "paper",
    design: str = "unpaired",
    rng: Any = None,
) -> SimulatedStudy:
    """Draw a simulated routing study with known psi, eta and Delta.

    See the module docstring for the model of every scenario.

    Parameters
    ----------
    n_gold, n_preference : int
        Gold and preference training rows (each at least 2).
    n_test : int
        Test queries with gold labels.
    d : int
        Embedding dimension (at least 6).
    scenario : str, default "paper"
        Data-generating process, one of ``SCENARIOS``: "paper", "homogeneous", "no_bias",
        "nonlinear_bias", "weak_bias", "step_bias", "sparse_bias", "smooth_bias", "selection".
    design : {"unpaired", "paired"}, default "unpaired"
        ``"paired"``: ``n_preference`` judge-labelled queries, ``n_gold`` of which also carry
        gold (``n_gold <= n_preference``); the training data then have
        ``n_preference + n_gold`` rows, paired by ``query_ids``, and ``gold_train`` holds the
        gold label of every row's query.
    rng : None, int or numpy.random.Generator
        Seed.

    Returns
    -------
    SimulatedStudy

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> study = mrs.simulate(n_gold=50, n_preference=500, n_test=100, rng=0)
    >>> study.train
    RoutingData(n=550, d=50, n_gold=50, n_preference=500, models=('primary', 'alternative'))
    >>> round(study.scale, 2)
    0.25
    """
    n_gold = check_positive_int(n_gold, "n_gold", minimum=2)
    n_preference = check_positive_int(n_preference, "n_preference", minimum=2)
    n_test = check_positive_int(n_test, "n_test", minimum=1)
    d = check_positive_int(d, "d", minimum=6)
    if scenario not in _SPEC:
        raise ValueError(f"`scenario` must be one of {SCENARIOS}; got {scenario!r}.")
    if design not in DESIGNS:
        raise ValueError(f"`design` must be one of {DESIGNS}; got {design!r}.")
    paired = design == "paired"
    if paired and n_gold > n_preference:
        raise ValueError(
            f"`design='paired'` draws the gold queries among the {n_preference} judge-labelled ones; got "
            f"n_gold={n_gold}. Use n_gold <= n_preference."
        )
    bias, c, selected = _SPEC[scenario]
    gen = as_rng(rng)
    sd = np.sqrt(eigen_spectrum(d))
    n = n_preference if paired else n_gold + n_preference
    X = gen.standard_normal((n, d)) * sd
    X_test = gen.standard_normal((n_test, d)) * sd

    source = np.zeros(n, dtype=int)
    if selected:
        w = np.exp(1.5 * standardise(X)[:, 0])
        gold_idx = gen.choice(n, size=n_gold, replace=False, p=w / w.sum())
    else:
        gold_idx = gen.choice(n, size=n_gold, replace=False)
    source[gold_idx] = 1

    f = _latent(X)
    gold_all = (f + _SIGMA_GOLD * gen.standard_normal(n)) / c
    pref_all = f - bias(X) + _SIGMA_PREF * gen.standard_normal(n)
    outcome = np.where(source == 1, gold_all, pref_all)
    f_test = _latent(X_test)
    gold_test = (f_test + _SIGMA_GOLD * gen.standard_normal(n_test)) / c

    if paired:  # every query's judge row, then the gold rows of the gold subset; u_q shared by both
        u = _SIGMA_QUERY * gen.standard_normal(n)
        gold_all = gold_all + u / c
        pref_all = pref_all + u
        gold_test = gold_test + _SIGMA_QUERY * gen.standard_normal(n_test) / c
        rows = np.concatenate((np.arange(n), np.sort(gold_idx)))
        src = np.r_[np.zeros(n, dtype=int), np.ones(n_gold, dtype=int)]
        outcome = np.where(src == 1, gold_all[rows], pref_all[rows])
        X, source, gold_all = X[rows], src, gold_all[rows]
        train = RoutingData(X=X, outcome=outcome, source=source, query_ids=rows)
    else:
        train = RoutingData(X=X, outcome=outcome, source=source, query_ids=np.arange(n))
    for arr in (X_test, gold_test, gold_all):
        arr.setflags(write=False)
    psi_test = f_test / c
    psi_test.setflags(write=False)
    return SimulatedStudy(
        train=train,
        X_test=X_test,
        gold_test=gold_test,
        psi_test=psi_test,
        gold_train=gold_all,
        scale=c,
        scenario=scenario,
    )


@dataclass(frozen=True)
class JudgeSpec:
    """One simulated judge: its bias function, noise and price.

    Parameters
    ----------
    name : str
        The judge's name (the data's ``mechanism``); not ``"gold"``.
    bias : str
        The scenario whose bias function b(x) the judge has (one of ``SCENARIOS`` except
        ``"selection"``); judges with the same ``bias`` are biased alike.
    noise : float
        Standard deviation of the judge's label noise (preference scale).
    cost : float
        Price of one of its labels (gold labels cost 1 by convention in the judge comparison).
    """

    name: str
    bias: str = "paper"
    noise: float = 0.5
    cost: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or self.name == "gold":
            raise ValueError(f"A judge's `name` must be a non-empty string other than 'gold'; got {self.name!r}.")
        if self.bias not in _SPEC or self.bias == "selection":
            raise ValueError(f"`bias` must be one of {tuple(k for k in SCENARIOS if k != 'selection')}; got {self.bias!r}.")
        for field_name in ("noise", "cost"):
            v = getattr(self, field_name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise ValueError(f"A judge's `{field_name}` must be a finite number >= 0; got {v!r}.")

    def b(self, X: np.ndarray) -> np.ndarray:
        """The judge's bias b_k(x) on the preference scale."""
        return _SPEC[self.bias][0](np.asarray(X, dtype=float))


#: The default panel of :func:`simulate_judges`: two judges biased alike, one biased otherwise.
JUDGES = (
    JudgeSpec("strong", bias="paper", noise=0.5, cost=1.0),
    JudgeSpec("cheap", bias="smooth_bias", noise=1.0, cost=0.1),
    JudgeSpec("twin", bias="paper", noise=0.7, cost=0.3),
)


@dataclass(frozen=True, eq=False, repr=False)
class SimulatedJudges:
    """A simulated study with several judges: training data (``mechanism`` per row), test set, truths.

    Attributes
    ----------
    train : RoutingData
        Gold rows and every judge's rows, ``mechanism`` naming each row's judge.
    X_test, gold_test, psi_test
        Test embeddings, their noisy gold labels and true psi (gold scale).
    scale : float
        c (``c * gold`` is on the preference scale).
    judges : tuple of JudgeSpec
    """

    train: RoutingData
    X_test: np.ndarray
    gold_test: np.ndarray
    psi_test: np.ndarray
    scale: float
    judges: tuple[JudgeSpec, ...]

    def __repr__(self) -> str:
        return (f"SimulatedJudges(judges={tuple(j.name for j in self.judges)}, scale={self.scale:g}, "
                f"n_gold={self.train.n_gold}, n={self.train.n}, n_test={self.X_test.shape[0]})")

    def judge(self, name: str) -> JudgeSpec:
        """The spec of the judge called ``name``."""
        for j in self.judges:
            if j.name == name:
                return j
        raise ValueError(f"`name` must be one of {tuple(j.name for j in self.judges)}; got {name!r}.")

    def psi(self, X: np.ndarray) -> np.ndarray:
        """True gold gain psi(x) on the gold scale."""
        return _latent(np.asarray(X, dtype=float)) / self.scale

    def delta(self, X: np.ndarray, judge: str, *, scale: str = "gold") -> np.ndarray:
        """True bias of ``judge``: psi(x) - eta_k(x) / c (``scale="gold"``) or c psi(x) - eta_k(x)."""
        b = self.judge(judge).b(X)
        if scale == "gold":
            return b / self.scale
        if scale == "preference":
            return b
        raise ValueError(f"`scale` must be 'gold' or 'preference'; got {scale!r}.")


def simulate_judges(
    n_gold: int = 100,
    n_queries: int = 2000,
    n_test: int = 500,
    d: int = 50,
    *,
    judges: Any = None,
    design: str = "paired",
    scale: float = 1.0,
    rng: Any = None,
) -> SimulatedJudges:
    """Draw a simulated study with several judges (see the module docstring).

    Parameters
    ----------
    n_gold : int
        Gold-labelled training queries.
    n_queries : int
        Queries each judge labels.
    n_test : int
        Test queries with gold labels.
    d : int
        Embedding dimension (at least 6).
    judges : sequence of JudgeSpec, optional
        Default :data:`JUDGES`.
    design : {"paired", "unpaired"}, default "paired"
        ``"paired"``: every judge labels the same ``n_queries`` queries and ``n_gold`` of them,
        drawn at random, also get gold (query ids tie a query's rows); ``"unpaired"``: gold and
        each judge label queries of their own.
    scale : float, default 1
        c. With c = 1 the data declare one scale (``shared_scale=True``), as judges and
        experts voting on one coding do.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    SimulatedJudges

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> sim = mrs.simulate_judges(n_gold=40, n_queries=300, n_test=50, d=8, rng=0)
    >>> sim.train.judges, sim.train.n_gold, sim.train.n
    (('strong', 'cheap', 'twin'), 40, 940)
    """
    n_gold = check_positive_int(n_gold, "n_gold", minimum=2)
    n_queries = check_positive_int(n_queries, "n_queries", minimum=2)
    n_test = check_positive_int(n_test, "n_test", minimum=1)
    d = check_positive_int(d, "d", minimum=6)
    specs = JUDGES if judges is None else tuple(judges)
    if not specs or not all(isinstance(j, JudgeSpec) for j in specs):
        raise TypeError("`judges` must be a non-empty sequence of JudgeSpec.")
    names = [j.name for j in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"`judges` must have distinct names; got {names}.")
    if design not in DESIGNS:
        raise ValueError(f"`design` must be one of {DESIGNS}; got {design!r}.")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"`scale` must be a positive number; got {scale!r}.")
    paired = design == "paired"
    if paired and n_gold > n_queries:
        raise ValueError(f"`design='paired'` draws the gold queries among the {n_queries} judged ones; got "
                         f"n_gold={n_gold}. Use n_gold <= n_queries.")
    c = float(scale)
    gen = as_rng(rng)
    sd = np.sqrt(eigen_spectrum(d))
    K = len(specs)
    n_q = n_queries if paired else n_gold + K * n_queries
    Xq = gen.standard_normal((n_q, d)) * sd
    u = _SIGMA_QUERY * gen.standard_normal(n_q) if paired else np.zeros(n_q)
    f = _latent(Xq)
    if paired:
        judged = [np.arange(n_queries)] * K
        gold_q = np.sort(gen.choice(n_queries, size=n_gold, replace=False))
    else:
        gold_q = np.arange(n_gold)
        judged = [n_gold + k * n_queries + np.arange(n_queries) for k in range(K)]
    rows, outcome, mech = [], [], []
    for spec, q in zip(specs, judged, strict=True):
        rows.append(q)
        outcome.append(f[q] - spec.b(Xq[q]) + u[q] + spec.noise * gen.standard_normal(q.size))
        mech += [spec.name] * q.size
    rows.append(gold_q)
    outcome.append((f[gold_q] + u[gold_q] + _SIGMA_GOLD * gen.standard_normal(gold_q.size)) / c)
    mech += ["gold"] * gold_q.size
    idx = np.concatenate(rows)
    m = np.array(mech)
    train = RoutingData(X=Xq[idx], outcome=np.concatenate(outcome), source=(m == "gold").astype(int),
                        query_ids=idx, shared_scale=c == 1.0, mechanism=m)
    X_test = gen.standard_normal((n_test, d)) * sd
    f_test = _latent(X_test)
    noise_test = _SIGMA_GOLD * gen.standard_normal(n_test) + (_SIGMA_QUERY * gen.standard_normal(n_test) if paired else 0)
    gold_test = (f_test + noise_test) / c
    psi_test = f_test / c
    for arr in (X_test, gold_test, psi_test):
        arr.setflags(write=False)
    return SimulatedJudges(train=train, X_test=X_test, gold_test=gold_test, psi_test=psi_test, scale=c, judges=specs)
