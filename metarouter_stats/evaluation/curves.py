r"""Efficiency gain (EG) curves.

For test queries with gold gains :math:`g_1, \dots, g_n` and router scores
:math:`s_1, \dots, s_n`, at primary-model usage rate rho the router sends the
:math:`k = \mathrm{round}(\rho n)` highest-scoring queries to the primary model (halves
round up). The efficiency gain is their total gold gain minus what a random router
sending k queries gets in expectation:

.. math:: EG(\rho) = \sum_{i \in \mathrm{top}_k(s)} g_i - k \bar g .

Ties in the scores are resolved by the exact expectation over random
tie-breaking: when a block of tied scores straddles the cut-off and m of its b
members are taken, the block contributes m times its mean gold gain. EG is
therefore a deterministic function of the (score, gain) pairs, unchanged by any
permutation of the test set. The oracle ranks by the gold gains themselves.

Normalisations (all returned):

* ``per_query``: EG / n;
* ``relative``: EG / EG_oracle, the share of the oracle router's gain captured (NaN
  where the oracle gain is 0, i.e. at rates 0 and 1);
* ``reference``: EG / (n * mean gold gain), the reference figure's normalisation
  (NaN when the mean gold gain is 0).

``auc`` is the trapezoidal area under EG(rho) over the rate grid (in gain units);
``auc_relative`` is that area divided by the oracle's area on the same grid.

The oracle here is the **test-label oracle**: it ranks by the test gold labels, noise
included, which no router can see. Its area is therefore above what ranking by the true
gain psi(x) achieves (a router ranking by the true psi scores well below 1 of it on the
simulations), so ``auc_relative`` is a share of an unattainable ceiling, comparable across
routers on the same test set but not an absolute "share of the best possible router".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_1d_float, check_fraction, check_names
from .._ranking import eg_area, eg_core, k_for_rate, topk_gain
from .._results import ResultMixin, frozen_copy, new_axes

__all__ = [
    "DEFAULT_RATES",
    "NORMALISATIONS",
    "check_rates",
    "eg_core",
    "frontier_area",
    "normalise_eg",
    "CostQualityFrontier",
    "EfficiencyGainCurve",
    "cost_quality_frontier",
    "efficiency_gain",
    "gold_scorer",
    "topk_gain",
]

DEFAULT_RATES = np.round(np.arange(0.2, 0.8 + 1e-9, 0.1), 10)


NORMALISATIONS = ("gain", "per_query", "relative", "reference")


def normalise_eg(gain: np.ndarray, oracle: np.ndarray, n: int, mean_gold: float, how: str) -> np.ndarray:
    """EG in the units ``how``: "gain", "per_query" (/ n), "relative" (/ oracle EG; NaN where
    the oracle EG is 0: at rates 0 and 1, where both are exactly 0 (:func:`eg_core`), and when
    all gold gains are equal) or "reference" (/ (n * mean gold); NaN if 0). One rule for
    a curve and its bootstrap draws."""
    if how == "gain":
        return np.asarray(gain, dtype=float)
    if how == "per_query":
        return gain / n
    if how == "relative":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(oracle > 0, gain / oracle, np.nan)
    if how == "reference":
        return np.full_like(gain, np.nan, dtype=float) if mean_gold == 0 else gain / (n * mean_gold)
    raise ValueError(f"`normalise` must be one of {NORMALISATIONS}; got {how!r}.")


def check_rates(rates: Any) -> np.ndarray:
    """Usage rates: strictly increasing numbers in [0, 1]; None gives 0.2, ..., 0.8."""
    if rates is None:
        return DEFAULT_RATES.copy()
    r = as_1d_float(np.atleast_1d(np.asarray(rates, dtype=float)), "rates")
    for v in r:
        check_fraction(float(v), "rates")
    if np.any(np.diff(r) <= 0):
        raise ValueError("`rates` must be strictly increasing.")
    return r


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class EfficiencyGainCurve(ResultMixin):
    """Efficiency gain of a router on a test set (see :func:`efficiency_gain`).

    Attributes
    ----------
    rates : ndarray
        Primary-model usage rates.
    gain : ndarray
        EG(rho), in gold-gain units.
    oracle_gain : ndarray
        EG of the oracle ranking (by the test gold gains).
    n : int
        Test queries.
    mean_gold : float
        Mean test gold gain.
    """

    rates: np.ndarray
    gain: np.ndarray
    oracle_gain: np.ndarray
    n: int
    mean_gold: float
    _title = "Efficiency gain (gold scale)"

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("test queries", f"{self.n}"), ("mean test gold gain", f"{self.mean_gold:.4g}")]
        rows += [(f"EG({r:.2f}) per query", f"{v:.4g}  (oracle {o:.4g})")
                 for r, v, o in zip(self.rates, self.per_query, self.oracle_gain / self.n, strict=True)]
        rows += [(f"area per query, rates {self.rates[0]:g}-{self.rates[-1]:g}", f"{self.auc_per_query:.4g}"),
                 ("share of the test-label oracle's area", f"{self.auc_relative:.3f}")]
        return rows

    def _notes(self) -> list[str]:
        return ["EG(rho): gold gain of the top-rho queries by score minus a random router's, on these test queries."]

    def plot(self, ax: Any = None, *, normalise: str = "per_query", label: str | None = None, oracle: bool = True) -> Any:
        """EG against the usage rate (and the oracle ranking's, dashed); returns the Axes."""
        ax = new_axes(ax)
        y = normalise_eg(self.gain, self.oracle_gain, self.n, self.mean_gold, normalise)
        (line,) = ax.plot(self.rates, y, marker="o", label=label)
        if oracle and normalise != "relative":
            yo = normalise_eg(self.oracle_gain, self.oracle_gain, self.n, self.mean_gold, normalise)
            ax.plot(self.rates, yo, color="k", linestyle="--", label="oracle ranking")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("primary-model usage rate")
        ax.set_ylabel(f"efficiency gain ({normalise})")
        if label is not None or oracle:
            ax.legend(fontsize=8)
        return ax

    @property
    def per_query(self) -> np.ndarray:
        """EG / n."""
        return normalise_eg(self.gain, self.oracle_gain, self.n, self.mean_gold, "per_query")

    @property
    def relative(self) -> np.ndarray:
        """EG / EG_oracle (NaN where the oracle gain is 0)."""
        return normalise_eg(self.gain, self.oracle_gain, self.n, self.mean_gold, "relative")

    @property
    def reference(self) -> np.ndarray:
        """EG / (n * mean gold gain), the reference figure's normalisation."""
        return normalise_eg(self.gain, self.oracle_gain, self.n, self.mean_gold, "reference")

    @property
    def auc(self) -> float:
        """Trapezoidal area under the total EG(rho) over ``rates`` (0 for a single rate); see ``auc_per_query``."""
        return float(np.trapezoid(self.gain, self.rates)) if self.rates.size > 1 else 0.0

    @property
    def auc_per_query(self) -> float:
        """``auc / n``: the area under the per-query EG, the scale of every other number of the summary."""
        return self.auc / self.n

    @property
    def auc_relative(self) -> float:
        """``auc`` divided by the oracle's area over the same rates."""
        if self.rates.size < 2:
            return float("nan")
        oracle = float(np.trapezoid(self.oracle_gain, self.rates))
        return self.auc / oracle if oracle > 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: rate, gain, per_query, relative, reference, oracle_gain."""
        return pd.DataFrame(
            {
                "rate": self.rates,
                "gain": self.gain,
                "per_query": self.per_query,
                "relative": self.relative,
                "reference": self.reference,
                "oracle_gain": self.oracle_gain,
            }
        )


def efficiency_gain(gold_test: Any, scores: Any, rates: Any = None, *, truncate: bool = False) -> EfficiencyGainCurve:
    """Efficiency gain of a router's scores on test queries with gold gains.

    Parameters
    ----------
    gold_test : array-like of shape (n,)
        Gold quality gains of the test queries (gold scale).
    scores : array-like of shape (n,)
        Router scores; higher means more worth sending to the primary model
        (e.g. ``router.predict_gain(X_test)``).
    rates : array-like, optional
        Strictly increasing usage rates in [0, 1]; default 0.2, 0.3, ..., 0.8.
    truncate : bool, default False
        The reference code's evaluation: only queries with a positive score may go to
        the primary model, so at rate rho the router sends ``min(k, #{s > 0})``
        queries (and is compared with a random router sending as many).

    Returns
    -------
    EfficiencyGainCurve

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> eg = mrs.efficiency_gain([3.0, -1.0, 0.0, 2.0], [0.9, 0.1, 0.2, 0.5], rates=[0, 0.5, 1])
    >>> eg.gain.tolist()
    [0.0, 3.0, 0.0]
    >>> float(eg.auc)
    1.5
    """
    g = as_1d_float(gold_test, "gold_test")
    s = as_1d_float(scores, "scores")
    if g.shape != s.shape:
        raise ValueError(
            f"`scores` must have one entry per test query; got {s.shape[0]} scores for "
            f"{g.shape[0]} gold gains."
        )
    r = check_rates(rates)
    n = g.size
    ks = np.array([k_for_rate(float(v), n) for v in r])
    mean = float(np.mean(g))
    gain, oracle = eg_core(g, s, ks)
    if truncate:
        ks_router = np.minimum(ks, int(np.sum(s > 0)))
        gain = topk_gain(g, s, ks_router) - ks_router * mean
    for arr in (r, gain, oracle):
        arr.setflags(write=False)
    return EfficiencyGainCurve(rates=r, gain=gain, oracle_gain=oracle, n=n, mean_gold=mean)


# --------------------------------------------------------------------------- model selection

SCORER_METRICS = ("eg_area", "spearman")


def _gold_metric(metric: str) -> Any:
    def score(y_true: Any, y_pred: Any, source: Any = None) -> float:
        g, s = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        if source is not None:
            t = np.asarray(source)
            gold = (t == 1) | (t == "gold")
            g, s = g[gold], s[gold]
        if g.size < 2:
            raise ValueError(
                f"The gold scorer needs at least 2 gold rows in each test fold; got {g.size}. Stratify the folds by "
                "`source` or use fewer folds."
            )
        if metric == "eg_area":
            return eg_area(g, s)
        from scipy import stats  # noqa: PLC0415

        return float(stats.spearmanr(g, s).statistic)

    score.__name__ = f"gold_{metric}"
    return score


def gold_scorer(metric: str = "eg_area") -> Any:
    """A scikit-learn scorer that scores a router on **gold** rows only.

    ``cross_val_score`` / ``GridSearchCV`` with a naive scorer would score on the biased
    preference rows; this one reads ``source`` (routed by scikit-learn's metadata routing)
    and keeps the rows with ``source == 1``.

    Parameters
    ----------
    metric : {"eg_area", "spearman"}, default "eg_area"
        Area under the per-query efficiency gain over rates 0.2-0.8 of the router's
        ``predict_gain`` against the gold gains, or their Spearman rank correlation.

    Returns
    -------
    scorer
        ``make_scorer(..., response_method=("predict_gain",))``; when metadata routing is on
        (``sklearn.set_config(enable_metadata_routing=True)``) it already requests ``source``.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=300, n_test=1, d=6, rng=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(mrs.MetaRouter(random_state=0).set_fit_request(source=True),
    ...                           {"scale": ["variance", "wasserstein"]}, scoring=mrs.gold_scorer(),
    ...                           cv=KFold(3, shuffle=True, random_state=0))
    ...     _ = search.fit(s.train.X, s.train.outcome, source=s.train.source)
    >>> sorted(search.best_params_)
    ['scale']
    """
    if metric not in SCORER_METRICS:
        raise ValueError(f"`metric` must be one of {SCORER_METRICS}; got {metric!r}.")
    import sklearn  # noqa: PLC0415
    from sklearn.metrics import make_scorer  # noqa: PLC0415

    scorer = make_scorer(_gold_metric(metric), response_method=("predict_gain",))
    if sklearn.get_config().get("enable_metadata_routing", False):
        scorer = scorer.set_score_request(source=True)
    return scorer


# --------------------------------------------------------------------------- cost-quality frontier
@dataclass(frozen=True, init=False, eq=False, repr=False)
class CostQualityFrontier(ResultMixin):
    """Mean cost and mean gold quality of routed outcomes over a grid of cost weights.

    Attributes
    ----------
    frame : pandas.DataFrame
        router, weight, mean_cost, mean_quality (quality = gold gain of the chosen model
        over the reference, averaged over test queries). Rows ``oracle`` (routing by the
        true gold gains) and ``random`` (mixing the cheapest and the most expensive model).
    areas : pandas.Series
        Area under each router's non-decreasing hull of quality against cost over the
        cost range [all-cheapest, all-most-expensive], divided by that range (RouterBench's
        AIQ normalisation): the average quality over budgets.
    """

    _frame: pd.DataFrame
    _areas: pd.Series
    _title = "Cost-quality frontier"

    def __init__(self, frame: pd.DataFrame, areas: pd.Series) -> None:
        object.__setattr__(self, "_frame", frozen_copy(frame))
        object.__setattr__(self, "_areas", areas.copy(deep=True))

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the frontier's points: router, weight, mean_cost, mean_quality."""
        return self._frame.copy()

    @property
    def areas(self) -> pd.Series:
        """A copy of the AIQ of every router (oracle and random included)."""
        return self._areas.copy()

    def to_frame(self) -> pd.DataFrame:
        """The frontier's points (router, weight, mean_cost, mean_quality)."""
        return self.frame

    def _rows(self) -> list[tuple[str, str]]:
        return [(f"AIQ {name}", f"{value:.4g}") for name, value in self._areas.items()]

    def _notes(self) -> list[str]:
        return ["AIQ: average gold quality over the budget range [all-cheapest, all-most-expensive]."]

    def plot(self, ax: Any = None) -> Any:
        """Quality against cost, one line per router; returns the matplotlib Axes."""
        ax = new_axes(ax)
        for name, part in self._frame.groupby("router", sort=False):
            part = part.sort_values("mean_cost")
            styles: dict[str, dict[str, Any]] = {"oracle": {"color": "k", "linestyle": "--"},
                                                 "random": {"color": "grey", "linestyle": ":"}}
            style = styles.get(str(name), {})
            ax.plot(part["mean_cost"], part["mean_quality"], label=f"{name} (AIQ {self._areas[name]:.3f})", **style)
        ax.set_xlabel("mean cost per query")
        ax.set_ylabel("mean gold gain over the reference")
        ax.legend(fontsize=8)
        return ax


def frontier_area(cost: np.ndarray, quality: np.ndarray, lo: float, hi: float) -> float:
    """AIQ of one router's trace: mean of its upper envelope of quality over mean cost from ``lo`` to ``hi``.

    The points are sorted by cost and the quality is made non-decreasing (the best quality at
    mean cost <= x); the area over ``[lo, hi]`` (the cheapest and dearest models' mean costs) is
    divided by its width. With ``hi <= lo`` the best quality.
    """
    order = np.argsort(cost, kind="stable")
    c, q = cost[order], np.maximum.accumulate(quality[order])
    if hi <= lo:
        return float(q[-1])
    grid = np.linspace(lo, hi, 2001)
    return float(np.trapezoid(np.interp(grid, c, q), grid) / (hi - lo))


def _pair_breakpoints(gold: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """(n, K(K-1)/2) weights w > 0 at which two models' utilities g - w c cross (NaN elsewhere)."""
    K = gold.shape[1]
    a, b = np.triu_indices(K, k=1)
    dc = costs[:, a] - costs[:, b]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = (gold[:, a] - gold[:, b]) / dc
    return np.where((np.abs(dc) > 0) & (w > 0), w, np.nan)


def _oracle_weights(breaks: np.ndarray) -> np.ndarray:
    """Every weight at which some query's oracle choice can change, just after each, 0 and a last one."""
    w = np.unique(breaks[np.isfinite(breaks)])
    tail = [w.max() * 2 + 1] if w.size else [1.0]
    return np.unique(np.concatenate(([0.0], w, w * (1 + 1e-9), tail)))


def choices_at_weights(gold: np.ndarray, costs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise :func:`~metarouter_stats.decision.choose_models`, each row at its own weight."""
    util = gold - weights[:, None] * costs
    tied = util == util.max(axis=1, keepdims=True)
    return np.argmin(np.where(tied, costs, np.inf), axis=1)


def oracle_trace(gold: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean cost and quality of the oracle choice at every breakpoint weight, by one sweep.

    A query's choice can change only at its own pairwise breakpoints, all of which are grid
    weights. So between grid points j - 1 and j only the queries with a breakpoint at
    either end are re-decided (exactly, with the tie rule of ``choose_models``); all others
    keep their model. That is O(n K^2) re-decisions of O(K) each and one sort, instead of
    evaluating all n queries at each of the O(n K^2) weights.
    """
    n = gold.shape[0]
    rows = np.arange(n)
    breaks = _pair_breakpoints(gold, costs)
    grid = _oracle_weights(breaks)
    qi, _ = np.nonzero(np.isfinite(breaks))
    at = np.searchsorted(grid, breaks[np.isfinite(breaks)])  # grid holds every breakpoint exactly
    ev_grid = np.concatenate((at, at + 1))
    ev_row = np.concatenate((qi, qi))
    keep = ev_grid < grid.size
    # unique (query, grid index) events ordered by query, then grid index: one int64 key
    # (a 1-d unique is ~10x faster than np.unique(..., axis=0) on the pairs)
    key = np.unique(ev_row[keep].astype(np.int64) * grid.size + ev_grid[keep])
    ev_row, ev_grid = key // grid.size, key % grid.size
    start = choices_at_weights(gold, costs, np.zeros(n))
    new = choices_at_weights(gold[ev_row], costs[ev_row], grid[ev_grid])
    # the model each event replaces: the query's previous event, or its choice at weight 0
    first = np.ones(ev_row.size, dtype=bool)
    first[1:] = ev_row[1:] != ev_row[:-1]
    prev = np.where(first, start[ev_row], np.roll(new, 1))
    d_cost = costs[ev_row, new] - costs[ev_row, prev]
    d_gain = gold[ev_row, new] - gold[ev_row, prev]
    cost_sum = costs[rows, start].sum() + np.cumsum(np.bincount(ev_grid, d_cost, minlength=grid.size))
    gain_sum = gold[rows, start].sum() + np.cumsum(np.bincount(ev_grid, d_gain, minlength=grid.size))
    return grid, cost_sum / n, gain_sum / n


def default_cost_weights(g: np.ndarray, c: np.ndarray) -> np.ndarray:
    """0 and 60 log-spaced cost weights spanning the gain / cost ratios of the data."""
    ratio = np.ptp(g) / max(float(np.ptp(c)), 1e-12)
    return np.concatenate(([0.0], np.logspace(-3, 2, 60) * ratio))


def frontier_traces(
    g: np.ndarray, c: np.ndarray, scores: dict[Any, np.ndarray], weights: np.ndarray | None = None
) -> tuple[dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]], tuple[float, float]]:
    """The numbers of :func:`cost_quality_frontier`, as arrays (no checks, no frames).

    Returns ``{name: (weights, mean_cost, mean_quality)}`` for every router in ``scores`` (in
    order), then ``"oracle"`` and ``"random"``, and the AIQ's cost range ``(lo, hi)``. Every
    weight of a router is decided at once (one (W, n, K) pass of the decision rule, the same
    arithmetic and tie rule as :func:`~metarouter_stats.decision.choose_models`), so a
    bootstrap replicate costs a few array passes (``cost_quality_interval``).
    """
    from ..decision.rule import choose_stacked  # noqa: PLC0415 - decision precedes evaluation

    w = default_cost_weights(g, c) if weights is None else weights
    n = g.shape[0]
    rows = np.arange(n)[None, :]
    block = max(1, (1 << 15) // max(1, g.size))  # weights per pass (cache-sized): never the numbers
    out: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, s in scores.items():
        mc, mq = np.empty(w.size), np.empty(w.size)
        for a in range(0, w.size, block):
            k = choose_stacked(s[None], c[None], w[a:a + block])
            mc[a:a + block] = c[rows, k].mean(axis=1)
            mq[a:a + block] = g[rows, k].mean(axis=1)
        out[name] = (w.copy(), mc, mq)
    out["oracle"] = oracle_trace(g, c)  # O(nK^2) points by one sweep
    mean_cost = c.mean(axis=0)
    cheap, dear = int(np.argmin(mean_cost)), int(np.argmax(mean_cost))
    p = np.linspace(0, 1, 21)
    out["random"] = (p, (1 - p) * mean_cost[cheap] + p * mean_cost[dear],
                     (1 - p) * g[:, cheap].mean() + p * g[:, dear].mean())
    return out, (float(mean_cost[cheap]), float(mean_cost[dear]))


def cost_quality_frontier(
    gold_gains: Any, costs: Any, scores: dict[str, Any], weights: Any = None
) -> CostQualityFrontier:
    """Cost-quality frontier of several routers on test queries, with oracle and random references.

    Parameters
    ----------
    gold_gains : array-like of shape (n, K)
        Gold gain of each model over the reference on each test query (reference column 0).
    costs : array-like of shape (n, K)
        Cost of each model on each query (e.g. from :func:`~metarouter_stats.decision.cost_matrix`).
    scores : dict name -> array-like of shape (n, K)
        Each router's predicted gains (e.g. ``MultiModelRouter.predict_gain(X)``).
    weights : array-like, optional
        Cost weights; default 0 and 60 log-spaced values spanning the gain / cost ratios.

    Returns
    -------
    CostQualityFrontier
    """
    g = np.asarray(gold_gains, dtype=float)
    c = np.asarray(costs, dtype=float)
    if g.ndim != 2 or g.shape != c.shape:
        raise ValueError(f"`gold_gains` and `costs` must be (n, K) arrays of one shape; got {g.shape} and {c.shape}.")
    if g.shape[0] < 1 or g.shape[1] < 2:
        raise ValueError(
            f"`gold_gains` must have at least one query and two models (columns) to choose between; got shape {g.shape}."
        )
    if not isinstance(scores, dict):
        raise TypeError(f"`scores` must be a dict router name -> (n, K) predicted gains; got {type(scores).__name__}.")
    if not (np.isfinite(g).all() and np.isfinite(c).all()):
        raise ValueError("`gold_gains` and `costs` must be finite.")
    if weights is None:
        weights = default_cost_weights(g, c)
    w = as_1d_float(weights, "weights")
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise ValueError(f"`weights` must be finite cost weights >= 0; got {w[~(np.isfinite(w) & (w >= 0))][:3]}.")
    check_names(scores, "scores")
    reserved = [name for name in scores if str(name) in ("oracle", "random")]
    if reserved:
        raise ValueError(
            f"`scores` must not use the reserved names {reserved}: the frontier adds its own 'oracle' and 'random' "
            "references. Rename those routers (e.g. 'my-oracle')."
        )
    s_arr = {}
    for name, s in scores.items():
        s = np.asarray(s, dtype=float)
        if s.shape != g.shape:
            raise ValueError(f"`scores[{name!r}]` must have shape {g.shape}; got {s.shape}.")
        if not np.isfinite(s).all():
            raise ValueError(f"`scores[{name!r}]` must be finite predicted gains; it holds NaN or inf.")
        s_arr[name] = s
    traces, (lo, hi) = frontier_traces(g, c, s_arr, w)
    frame = pd.concat(
        [pd.DataFrame({"router": [name] * ww.size, "weight": ww, "mean_cost": mc, "mean_quality": mq})
         for name, (ww, mc, mq) in traces.items()], ignore_index=True)
    areas = pd.Series({str(name): frontier_area(mc, mq, lo, hi) for name, (_, mc, mq) in traces.items()}, name="aiq")
    return CostQualityFrontier(frame, areas)
