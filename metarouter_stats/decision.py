r"""Decisions: token costs, several models, budgets and calibration to a target.

The paper's rule is binary with unit costs: send q to the primary model when
psi_hat(q) > w. With K models (one *reference* model, usually the cheapest, whose
gain is 0 by definition) priced per token, the utility of model k for query q is

.. math:: U_k(q) = \hat\psi_k(q) - w\, C_k(q), \qquad \hat\psi_{\mathrm{ref}} = 0,

and the router chooses :math:`\arg\max_k U_k(q)` (paper, Sec. 2, decision rule
:math:`D(q \mid w, m)` generalised to K models). Ties are broken towards the
cheaper model, then towards the earlier column, so that raising w never raises
the cost of any query's choice.

Costs: :class:`TokenCost` gives :math:`C_k(q) = a_k n_{in}(q) + b_k n_{out,k}(q) + f_k`
with prices per million tokens and an optional flat per-call fee f_k; the binary
unit cost (1 for the primary model, 0 for the alternative) is ``TokenCost.flat(1.0)``
against ``TokenCost.flat(0.0)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from ._checks import as_1d_float, as_2d_float, as_rng, as_source, check_fraction, check_resamples
from ._threads import budgeted
from ._results import ResultMixin, frozen_array
from .routers import MetaRouter

__all__ = [
    "CalibrationResult",
    "MultiModelRouter",
    "TokenCost",
    "calibrate_weight",
    "choose_models",
    "cost_matrix",
    "smallest_weight",
    "weight_for_budget",
]

_PER_MILLION = 1e-6


def _price(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number (price per million tokens); got {value!r}.")
    price = float(value)
    if not np.isfinite(price) or price < 0:
        raise ValueError(f"`{name}` must be a finite price >= 0; got {value!r}.")
    return price


@dataclass(frozen=True, slots=True)
class TokenCost:
    """Price of one model: per million input and output tokens, plus a flat fee per call.

    Parameters
    ----------
    input_price, output_price : float >= 0
        Prices per million input / output tokens.
    per_call : float >= 0, default 0
        Flat cost of one call.

    Examples
    --------
    >>> from metarouter_stats import TokenCost
    >>> TokenCost(2.5, 10.0).cost([1000, 2000], [500, 100]).tolist()
    [0.0075, 0.006]
    >>> TokenCost.flat(1.0).cost([10], [20]).tolist()
    [1.0]
    """

    input_price: float
    output_price: float
    per_call: float = 0.0

    def __post_init__(self) -> None:
        for name in ("input_price", "output_price", "per_call"):
            object.__setattr__(self, name, _price(getattr(self, name), name))

    @classmethod
    def flat(cls, price: float) -> TokenCost:
        """A per-call price regardless of tokens (``flat(1.0)`` vs ``flat(0.0)`` is the unit cost)."""
        return cls(0.0, 0.0, price)

    def cost(self, n_in: Any, n_out: Any) -> np.ndarray:
        """Cost of each query given its input and output token counts."""
        a = as_1d_float(n_in, "n_in")
        b = as_1d_float(n_out, "n_out")
        if a.shape != b.shape:
            raise ValueError(f"`n_in` and `n_out` must have the same length; got {a.size} and {b.size}.")
        if np.any(a < 0) or np.any(b < 0):
            raise ValueError("Token counts `n_in` and `n_out` must be >= 0.")
        with np.errstate(over="ignore", invalid="ignore"):
            cost = (self.input_price * a + self.output_price * b) * _PER_MILLION + self.per_call
        if not np.all(np.isfinite(cost)):
            bad = int(np.flatnonzero(~np.isfinite(cost))[0])
            raise ValueError(
                f"The cost of query {bad} overflows floating point ({a[bad]:.3g} input and {b[bad]:.3g} output tokens "
                f"at {self.input_price:.3g} / {self.output_price:.3g} per million): check the token counts and prices."
            )
        return cost


def cost_matrix(
    costs: Mapping[str, TokenCost], models: Sequence[str], n_in: Any = None, n_out: Any = None, n: int | None = None
) -> np.ndarray:
    """n x K matrix of query costs, columns in the order of ``models``.

    Parameters
    ----------
    costs : mapping model name -> TokenCost
    models : sequence of str
    n_in : array-like of shape (n,), optional
        Input tokens per query (the same for every model); 0 when omitted.
    n_out : array (n,), array (n, K), DataFrame or mapping model -> array (n,), optional
        Output tokens per query: one count per query used for every model (1-D), or one
        column per model in the order of ``models``; 0 when omitted.
    n : int, optional
        Number of queries when no token counts are given.
    """
    if isinstance(models, str):
        raise TypeError(f"`models` must be a list of model names, not one string; got {models!r}.")
    if not isinstance(costs, Mapping):
        raise TypeError(f"`costs` must be a mapping model name -> TokenCost; got {type(costs).__name__}.")
    missing = [m for m in models if m not in costs]
    if missing:
        raise ValueError(f"`costs` has no price for model(s) {missing}; priced models are {list(costs)}.")
    for m in models:
        if not isinstance(costs[m], TokenCost):
            raise TypeError(
                f"`costs[{m!r}]` must be a TokenCost (e.g. TokenCost({costs[m]!r}, {costs[m]!r}) or "
                f"TokenCost.flat({costs[m]!r})); got {type(costs[m]).__name__}."
            )
    if n_in is None and n_out is None and n is None:
        raise ValueError("Pass token counts (`n_in`, `n_out`) or the number of queries `n`.")
    if n_in is not None:
        n_in = as_1d_float(n_in, "n_in")
        n = n_in.size
    if n_out is not None:
        if isinstance(n_out, pd.DataFrame):
            unknown = [c for c in n_out.columns if c not in models]
            if unknown:
                raise ValueError(f"`n_out` has columns for unknown model(s) {unknown}; models are {list(models)}.")
            out = np.column_stack([n_out[m].to_numpy(dtype=float) if m in n_out else np.zeros(len(n_out)) for m in models])
        elif isinstance(n_out, Mapping):
            unknown = [c for c in n_out if c not in models]
            if unknown:
                raise ValueError(f"`n_out` has entries for unknown model(s) {unknown}; models are {list(models)}.")
            length = len(next(iter(n_out.values()))) if n_out else (n or 0)
            out = np.column_stack([as_1d_float(n_out[m], f"n_out[{m!r}]") if m in n_out else np.zeros(length) for m in models])
        elif np.ndim(n_out) == 1:  # one count per query, the same for every model
            col = as_1d_float(n_out, "n_out")
            out = np.column_stack([col] * len(models))
        else:
            out = as_2d_float(n_out, "n_out")
            if out.shape[1] != len(models):
                raise ValueError(f"`n_out` must have one column per model ({len(models)}); got shape {out.shape}.")
        if n is not None and out.shape[0] != n:
            raise ValueError(f"`n_out` must have one row per query ({n}); got {out.shape[0]}.")
        n = out.shape[0]
    else:
        if n is None:  # pragma: no cover - excluded by the check at the top
            raise ValueError("Pass token counts (`n_in`, `n_out`) or the number of queries `n`.")
        out = np.zeros((n, len(models)))
    if n_in is None:
        n_in = np.zeros(n)
    return np.column_stack([costs[m].cost(n_in, out[:, k]) for k, m in enumerate(models)])


def choose_models(gains: Any, costs: Any, weight: float) -> np.ndarray:
    """Index of argmax_k [gains_k - weight * costs_k] per row; ties to the cheaper, then earlier model.

    Parameters
    ----------
    gains, costs : array-like of shape (n, K)
    weight : float >= 0

    Returns
    -------
    ndarray of int, shape (n,)
    """
    g = as_2d_float(gains, "gains")
    c = as_2d_float(costs, "costs")
    if g.shape != c.shape:
        raise ValueError(f"`gains` and `costs` must have the same shape; got {g.shape} and {c.shape}.")
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not np.isfinite(weight) or weight < 0:
        raise ValueError(f"`weight` must be a finite number >= 0; got {weight!r}.")
    util = g - float(weight) * c
    best = util.max(axis=1, keepdims=True)
    tied = util == best
    cost_of_tied = np.where(tied, c, np.inf)
    return np.argmin(cost_of_tied, axis=1)  # first index among the cheapest tied


def _mean_cost(gains: np.ndarray, costs: np.ndarray, weight: float) -> float:
    k = choose_models(gains, costs, weight)
    return float(costs[np.arange(costs.shape[0]), k].mean())


def smallest_weight(ok: Any, *, hi: float = 1.0, tol: float = 1e-10, max_iter: int = 200) -> float:
    """Smallest w >= 0 with ``ok(w)`` True, for a predicate that is monotone in w: the one bisection.

    ``ok(0)`` True gives 0. Otherwise ``hi`` is doubled until ``ok(hi)`` (a ValueError if no
    finite weight qualifies), then [lo, hi] is halved until ``hi - lo <= tol * max(1, hi)``
    or ``max_iter`` halvings; the returned ``hi`` always satisfies ``ok``.
    """
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"`tol` must be a finite number > 0; got {tol!r}.")
    if ok(0.0):
        return 0.0
    hi = float(hi)
    for _ in range(2100):  # 2**2100 > float max: the loop ends on overflow at the latest
        if ok(hi):
            break
        hi *= 2
        if not np.isfinite(hi):
            raise ValueError("No finite weight meets the target: costs differ by less than float precision.")
    lo = 0.0
    for _ in range(max_iter):
        if hi - lo <= tol * max(1.0, hi):
            break
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def weight_for_budget(gains: Any, costs: Any, budget: float, *, tol: float = 1e-10) -> float:
    """Smallest weight w whose mean chosen cost is at most ``budget``.

    The mean cost is non-increasing in w (see the module docstring), so w is found by
    :func:`smallest_weight`, started at a weight at which every query takes its cheapest
    utility-maximising model.

    Raises
    ------
    ValueError
        If the budget is below the mean cost of always choosing each query's cheapest model,
        or ``tol`` is not a positive number.
    """
    g = as_2d_float(gains, "gains")
    c = as_2d_float(costs, "costs")
    if g.shape != c.shape:
        raise ValueError(f"`gains` and `costs` must have the same shape; got {g.shape} and {c.shape}.")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not np.isfinite(budget):
        raise ValueError(f"`budget` must be a finite number; got {budget!r}.")
    floor = float(c.min(axis=1).mean())
    if budget < floor - 1e-15:
        raise ValueError(
            f"`budget` {budget:g} is below the cheapest possible mean cost per query {floor:g} "
            "(every query on its cheapest model); raise the budget."
        )
    spread_g = float(np.ptp(g)) + 1.0
    dc = np.abs(np.diff(np.sort(np.unique(c.ravel()))))
    min_dc = float(dc[dc > 0].min()) if np.any(dc > 0) else 1.0
    hi = min(2 * spread_g / min_dc, 1e300)
    return smallest_weight(lambda w: _mean_cost(g, c, w) <= budget, hi=hi, tol=tol)


class MultiModelRouter(BaseEstimator):
    """Route among K models priced per token: one Meta-router per non-reference model.

    For every model k other than the reference, gold and preference labels of the
    gain of k over the reference (from pairwise judgments against the reference or
    per-model score differences) train a clone of ``router`` (by default a
    :class:`~metarouter_stats.MetaRouter`); the reference's gain is 0. Decisions
    maximise ``psi_hat_k(q) - w C_k(q)``.

    Parameters
    ----------
    models : sequence of str
        All model names, the reference included.
    reference : str
        The model every gain is measured against (usually the cheapest).
    costs : mapping name -> TokenCost, optional
        Prices. Default: unit costs (1 per call for every non-reference model, 0 for
        the reference), the paper's binary case.
    router : estimator, optional
        Binary router cloned for every k. Default ``MetaRouter()``.
    random_state : int or None
        Passed to every clone that has a ``random_state`` parameter.

    Attributes
    ----------
    routers_ : dict name -> fitted router

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=40, n_preference=300, n_test=20, rng=0)
    >>> X, y, t = s.train.X, s.train.outcome, s.train.source
    >>> mm = mrs.MultiModelRouter(["small", "large"], reference="small",
    ...                           router=mrs.PooledRouter(), random_state=0)
    >>> mm = mm.fit(X, y, source=t, model=np.full(len(y), "large"))
    >>> mm.predict_gain(s.X_test).columns.tolist()
    ['small', 'large']
    """

    def __init__(
        self,
        models: Sequence[str],
        reference: str,
        *,
        costs: Mapping[str, TokenCost] | None = None,
        router: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.models = models
        self.reference = reference
        self.costs = costs
        self.router = router
        self.random_state = random_state

    def _check_models(self) -> list[str]:
        if isinstance(self.models, str):
            raise TypeError(f"`models` must be a list of model names, not one string; got {self.models!r}.")
        models = list(self.models)
        if len(models) < 2 or len(set(models)) != len(models) or not all(isinstance(m, str) for m in models):
            raise ValueError(f"`models` must be at least two distinct names; got {self.models!r}.")
        if self.reference not in models:
            raise ValueError(f"`reference` must be one of `models` {models}; got {self.reference!r}.")
        return models

    def _costs(self) -> dict[str, TokenCost]:
        models = self._check_models()
        if self.costs is None:
            return {m: TokenCost.flat(0.0 if m == self.reference else 1.0) for m in models}
        for m, c in self.costs.items():
            if not isinstance(c, TokenCost):
                raise TypeError(f"`costs[{m!r}]` must be a TokenCost; got {type(c).__name__}.")
        return dict(self.costs)

    @budgeted
    def fit(self, X: Any, y: Any, source: Any, model: Any) -> MultiModelRouter:
        """Fit one router per non-reference model from long-format labels.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Embedding of the query of each label.
        y : array-like of shape (n,)
            Gain of ``model[i]`` over the reference on that query.
        source : array-like of shape (n,)
            1 / "gold" or 0 / "preference".
        model : array-like of str, shape (n,)
            Which model's gain each row measures.

        Returns
        -------
        self
        """
        models = self._check_models()
        self._costs()
        X = as_2d_float(X, "X")
        y = as_1d_float(y, "y")
        t = as_source(source, "source")
        which = np.asarray(model).astype(str)
        if not (X.shape[0] == y.size == t.size == which.size):
            raise ValueError(
                f"`X`, `y`, `source` and `model` must have the same length; got {X.shape[0]}, {y.size}, {t.size} "
                f"and {which.size}."
            )
        unknown = sorted(str(m) for m in set(which.tolist()) - set(models))
        if unknown:
            raise ValueError(f"`model` names unknown model(s) {unknown}; models are {models}.")
        if self.reference in set(which.tolist()):
            raise ValueError(
                f"`model` must not contain the reference {self.reference!r}: its gain over itself is 0 by definition."
            )
        unlabelled = [m for m in models if m != self.reference and not np.any(which == m)]
        if unlabelled:
            raise ValueError(
                f"No labels for model(s) {unlabelled}: every non-reference model needs gold and preference labels."
            )
        base = MetaRouter() if self.router is None else self.router
        self.routers_ = {}
        for m in models:
            if m == self.reference:
                continue
            rows = which == m
            est = clone(base)
            if "random_state" in est.get_params():
                est.set_params(random_state=self.random_state)
            self.routers_[m] = est.fit(X[rows], y[rows], source=t[rows])
        self.models_ = models
        self.n_features_in_ = X.shape[1]
        return self

    @budgeted
    def predict_gain(self, X: Any) -> pd.DataFrame:
        """n x K frame of predicted gold gains over the reference (reference column = 0)."""
        check_is_fitted(self, "routers_")
        X = as_2d_float(X, "X")
        cols = {m: np.zeros(X.shape[0]) if m == self.reference else self.routers_[m].predict_gain(X) for m in self.models_}
        return pd.DataFrame(cols, columns=self.models_)

    def route(
        self, X: Any, weight: float | None = None, *, budget: float | None = None, n_in: Any = None, n_out: Any = None
    ) -> np.ndarray:
        """Chosen model name per query: at cost weight ``weight``, or the weight meeting ``budget`` on X.

        Parameters
        ----------
        X : array-like of shape (n, d)
        weight : float >= 0, optional
            Cost weight w (gain units per cost unit).
        budget : float, optional
            Mean cost per query to meet on these queries (the weight is calibrated on X;
            see :func:`calibrate_weight` for calibration with uncertainty).
        n_in, n_out : token counts, optional
            See :func:`cost_matrix`; without them token prices count as 0 and only
            flat fees matter.

        Returns
        -------
        ndarray of str, shape (n,)
        """
        gains = self.predict_gain(X).to_numpy()
        costs = cost_matrix(self._costs(), self.models_, n_in=n_in, n_out=n_out, n=gains.shape[0])
        if costs.shape[0] != gains.shape[0]:
            raise ValueError(f"Token counts must have one row per query ({gains.shape[0]}); got {costs.shape[0]}.")
        if (weight is None) == (budget is None):
            raise ValueError("Pass exactly one of `weight` and `budget`.")
        w = weight_for_budget(gains, costs, budget) if budget is not None else float(weight)  # type: ignore[arg-type]
        return np.asarray(self.models_)[choose_models(gains, costs, w)]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CalibrationResult(ResultMixin):
    """A calibrated cost weight and what it achieves (see :func:`calibrate_weight`).

    Attributes
    ----------
    weight : float
        Calibrated weight on the full calibration set.
    target : float
    kind : {"rate", "cost"}
    achieved : float
        Primary-usage rate (share of queries not on the reference) or mean cost at ``weight``.
    achieved_std_error : float
        Bootstrap standard deviation of ``achieved`` over resampled calibration queries
        at the fixed weight: how far a new batch of queries may drift from the target.
    weight_std_error : float
        Bootstrap standard deviation of the calibrated weight.
    achieved_interval : tuple of float
        Percentile interval (``confidence_level``) of ``achieved``.
    confidence_level : float
    achieved_draws, weight_draws : ndarray
        The bootstrap draws (read-only).
    """

    weight: float
    target: float
    kind: str
    achieved: float
    achieved_std_error: float
    weight_std_error: float
    achieved_interval: tuple[float, float]
    confidence_level: float
    achieved_draws: np.ndarray
    weight_draws: np.ndarray
    _title = "Calibrated cost weight"

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Percentile interval of what the weight achieves on a new batch of queries like these.

        It covers the usage rate (or mean cost) that the fixed ``weight`` gives on a fresh
        calibration-sized batch from the same query population (bootstrap over queries).
        """
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        alpha = 1 - level
        return (float(np.quantile(self.achieved_draws, alpha / 2)), float(np.quantile(self.achieved_draws, 1 - alpha / 2)))

    def _rows(self) -> list[tuple[str, str]]:
        what = "usage rate" if self.kind == "rate" else "mean cost"
        low, high = self.achieved_interval
        return [
            ("weight", f"{self.weight:.6g} (bootstrap se {self.weight_std_error:.3g})"),
            (f"target {what}", f"{self.target:.6g}"),
            (f"achieved {what}", f"{self.achieved:.6g} (se {self.achieved_std_error:.3g})"),
            (f"{self.confidence_level:.0%} interval on a new batch", f"[{low:.6g}, {high:.6g}]"),
        ]

    def to_frame(self) -> pd.DataFrame:
        """One-row frame: weight, target, kind, achieved, their standard errors and interval."""
        low, high = self.achieved_interval
        return pd.DataFrame([{
            "weight": self.weight, "weight_std_error": self.weight_std_error, "target": self.target,
            "kind": self.kind, "achieved": self.achieved, "achieved_std_error": self.achieved_std_error,
            "ci_low": low, "ci_high": high, "confidence_level": self.confidence_level,
        }])


def calibrate_weight(
    gains: Any,
    costs: Any,
    *,
    rate: float | None = None,
    budget: float | None = None,
    reference: int = 0,
    n_boot: int = 500,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> CalibrationResult:
    """Find the cost weight w that meets a usage-rate or mean-cost target on calibration queries.

    What RouteLLM's ``calibrate_threshold`` does, with uncertainty: the weight is
    found on the calibration set, then calibration queries are resampled to give the
    sampling spread of the achieved rate / cost at that weight, and of the weight.

    Parameters
    ----------
    gains, costs : array-like of shape (n, K)
        Predicted gains (reference column 0) and costs on calibration queries.
    rate : float in [0, 1], optional
        Target share of queries sent to a non-reference model.
    budget : float, optional
        Target mean cost per query.
    reference : int, default 0
        Column of the reference model.
    n_boot : int, default 500
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator

    Returns
    -------
    CalibrationResult
    """
    g = as_2d_float(gains, "gains")
    c = as_2d_float(costs, "costs")
    if g.shape != c.shape:
        raise ValueError(f"`gains` and `costs` must have the same shape; got {g.shape} and {c.shape}.")
    if (rate is None) == (budget is None):
        raise ValueError("Pass exactly one of `rate` and `budget`.")
    if isinstance(reference, bool) or not isinstance(reference, numbers.Integral) or not 0 <= reference < g.shape[1]:
        raise ValueError(
            f"`reference` must be a column index in [0, {g.shape[1] - 1}] (the reference model's column); "
            f"got {reference!r}."
        )
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    gen = as_rng(rng)
    if rate is not None:
        rate = check_fraction(rate, "rate")
    target = float(rate if rate is not None else budget)  # exactly one is set

    def usage(gg: np.ndarray, cc: np.ndarray, w: float) -> float:
        return float(np.mean(choose_models(gg, cc, w) != reference))

    def solve(gg: np.ndarray, cc: np.ndarray) -> float:
        if rate is None:
            return weight_for_budget(gg, cc, target)
        return smallest_weight(lambda w: usage(gg, cc, w) <= target)  # usage is non-increasing in w

    w = solve(g, c)

    def achieved_at(gg: np.ndarray, cc: np.ndarray, ww: float) -> float:
        return usage(gg, cc, ww) if rate is not None else _mean_cost(gg, cc, ww)

    ach = achieved_at(g, c, w)
    boots_a, boots_w = np.empty(n_boot), np.empty(n_boot)
    n = g.shape[0]
    from tqdm.auto import tqdm  # noqa: PLC0415 - TTY-aware progress bar

    for b in tqdm(range(n_boot), desc="calibrate_weight bootstrap", unit="draw", leave=False, disable=None):
        idx = gen.integers(0, n, n)
        boots_a[b] = achieved_at(g[idx], c[idx], w)
        boots_w[b] = solve(g[idx], c[idx])
    alpha = 1 - level
    return CalibrationResult(
        weight=w,
        target=target,
        kind="rate" if rate is not None else "cost",
        achieved=ach,
        achieved_std_error=float(boots_a.std(ddof=1)),
        weight_std_error=float(boots_w.std(ddof=1)),
        achieved_interval=(float(np.quantile(boots_a, alpha / 2)), float(np.quantile(boots_a, 1 - alpha / 2))),
        confidence_level=level,
        achieved_draws=frozen_array(boots_a),
        weight_draws=frozen_array(boots_w),
    )
