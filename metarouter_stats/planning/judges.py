r"""Which judge to pay for: each judge's bias, its heterogeneity, and its worth in gold labels.

For every judge k of a multi-judge data set (gold the reference) :func:`compare_judges` reports

* the **mean bias** (gold minus judge, gold scale) with the t-test of
  :func:`~metarouter_stats.bias_ttest` on the gold rows and judge k's rows, and its scale rule;
* whether the bias is **heterogeneous** (the BLP test of
  :func:`~metarouter_stats.bias_heterogeneity_test` on the judge's fitted bias learner);
* the **correlation with gold** of its raw and of its corrected labels
  :math:`y_k + \hat\Delta_k(x)` on the queries both labelled;
* its **worth in gold labels for evaluation**: prediction-powered inference (PPI++ with the
  optimal power, Angelopoulos et al. 2023) estimates a mean of gold quantities (a router's gain,
  a usage rate's quality) from n gold labels and N judge labels with variance
  :math:`\sigma^2_Y / n \cdot (1 - \rho^2 N / (N + n))`, so N judge labels are worth

  .. math:: m = \frac{n}{1 - \rho^2 N / (N + n)} - n

  gold labels, with :math:`\rho` the correlation of gold with the corrected judge label. The
  interval is the percentile interval of m over a query bootstrap of :math:`\rho` (m is monotone
  in :math:`\rho^2`; a percentile interval of the worth's bootstrap draws). With prices, the worth per unit
  of cost and the value relative to buying gold.

A row ``"all judges"`` does the same for every judge's corrected label at once (the multiple
correlation, adjusted for the number of judges), what :func:`~metarouter_stats.evaluate_routers`
with several ``pseudo_gold`` columns reaches: the combination's gain over the best single judge.

The corrected labels that enter the correlations are **cross-fitted** by default (``cv=5``): the
gold queries are split into folds and each fold's corrections come from the judge's bias refitted
without that fold's gold labels. A correction fitted on the gold labels it is then compared with
follows their noise and overstates the correlation, most with few gold labels
(``benchmarks/judges/run.py`` measures both).

What each number covers: the mean-bias interval, the mean bias over the labelled queries'
population; the worth interval, the worth at the data's gold size and the given N, **conditional
on the fitted corrections** (the correlation is a population quantity of the fitted
:math:`\hat\Delta_k`; cross-fitted, of corrections fitted on all but one fold of the gold
labels). The worth for *training* a router (EG area against a gold-only learning curve) is
:func:`~metarouter_stats.judge_training_worth`'s.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_rng, check_fraction, check_positive_int, check_resamples
from .._resampling import bootstrap
from .._results import ResultMixin, frozen_copy, new_axes
from ..data import RoutingData
from ..inference import bias_heterogeneity_test, bias_ttest
from ..multi_judge import MultiJudgeRouter, correct_judge
from ..scaling import SCALE_DEFAULT

__all__ = ["JudgeComparison", "compare_judges", "gold_worth"]

_MIN_PAIRS = 10


def gold_worth(rho: Any, n_gold: int, n_judge: int) -> np.ndarray:
    """Gold labels that ``n_judge`` judge labels are worth in PPI++ next to ``n_gold`` gold labels.

    ``n / (1 - rho^2 N / (N + n)) - n``, the variance of the PPI++ mean with the optimal power
    expressed as a gold-only sample size (see the module docstring).

    Examples
    --------
    >>> from metarouter_stats.planning.judges import gold_worth
    >>> float(gold_worth(0.0, 100, 1000)), round(float(gold_worth(0.8, 100, 1000)), 1)
    (0.0, 139.1)
    """
    r2 = np.clip(np.asarray(rho, dtype=float) ** 2, 0.0, 1.0)
    share = n_judge / (n_judge + n_gold)
    with np.errstate(divide="ignore"):
        return n_gold / (1.0 - r2 * share) - n_gold


@dataclass(frozen=True, eq=False, repr=False)
class JudgeComparison(ResultMixin):
    """Per judge: mean bias, heterogeneity, correlation with gold and worth in gold labels.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per judge (and ``"all judges"``): ``judge``, ``n_labels``, ``n_paired``,
        ``mean_bias``, ``mean_bias_low``, ``mean_bias_high``, ``mean_bias_p_value``, ``scale``,
        ``scale_reason``, ``heterogeneity_p_value``, ``corr_raw``, ``corr_corrected``,
        ``worth``, ``worth_low``, ``worth_high`` (gold labels per ``per_labels`` judge labels),
        and with prices ``cost``, ``worth_per_cost``, ``value_vs_gold``.
    n_gold : int
        Gold labels in the data (the n of the worth).
    per_labels : int
        The N of the worth.
    confidence_level : float
    dropped : dict
        Judges the router left out, and why.
    corrections : str
        How the corrected labels that enter the correlations were fitted (cross-fitted or in-sample).
    """

    _frame: pd.DataFrame
    n_gold: int
    per_labels: int
    confidence_level: float
    dropped: dict
    corrections: str = "cross-fitted"
    _title = "Judges compared against gold"

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the comparison table."""
        return self._frame.copy()

    def to_frame(self) -> pd.DataFrame:
        """The comparison table (one row per judge and one for all judges together)."""
        return self.frame

    def best(self) -> str:
        """The single judge worth the most gold labels (per unit of cost when prices were given)."""
        f = self._frame[self._frame["judge"] != "all judges"]
        col = "worth_per_cost" if "worth_per_cost" in f else "worth"
        values = f[col].to_numpy(dtype=float)
        if np.all(np.isnan(values)):
            raise ValueError("No judge's worth is estimable: too few queries carry both a gold and the judge's label.")
        return str(f["judge"].iloc[int(np.nanargmax(values))])

    def _rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = [("gold labels (n)", str(self.n_gold))]
        for r in self._frame.to_dict("records"):
            name = str(r["judge"])
            if name != "all judges":
                rows.append((f"{name}: mean bias (gold - judge)",
                             f"{r['mean_bias']:+.3f} [{r['mean_bias_low']:+.3f}, {r['mean_bias_high']:+.3f}], "
                             f"p = {r['mean_bias_p_value']:.3g}, c = {r['scale']:.3g}"))
                if np.isfinite(r["heterogeneity_p_value"]):
                    rows.append((f"{name}: heterogeneous bias (BLP test)", f"p = {r['heterogeneity_p_value']:.3g}"))
                rows.append((f"{name}: correlation with gold (raw / corrected)",
                             f"{r['corr_raw']:.3f} / {r['corr_corrected']:.3f} on {int(r['n_paired'])} queries"))
            worth = (f"{r['worth']:.0f} [{r['worth_low']:.0f}, {r['worth_high']:.0f}]"
                     if np.isfinite(r["worth"]) else "not estimable (too few queries with both labels)")
            rows.append((f"{name}: {self.per_labels} labels are worth (gold labels, evaluation)", worth))
            if "worth_per_cost" in r and np.isfinite(r["worth_per_cost"]):
                rows.append((f"{name}: gold labels per unit cost / value vs buying gold",
                             f"{r['worth_per_cost']:.3g} / {r['value_vs_gold']:.2f}x"))
        return rows

    def notes(self) -> list[str]:
        """What the numbers cover (targets, intervals, how the corrections were fitted), as the summary prints it."""
        return self._notes()

    def _notes(self) -> list[str]:
        notes = [
            f"Worth: the gold labels that {self.per_labels} judge labels are worth in prediction-powered evaluation "
            f"next to the {self.n_gold} gold labels (PPI++), from the correlation of gold with the corrected judge "
            f"label; {100 * self.confidence_level:.0f} % intervals from a query bootstrap of that correlation, "
            f"conditional on the fitted corrections. Corrections: {self.corrections}. Mean bias: gold minus judge on "
            "the gold scale of c.",
        ]
        if self.dropped:
            notes.append(f"Left out of the pooled router: {self.dropped}.")
        return notes

    def plot(self, ax: Any = None) -> Any:
        """The worth of each judge (and of all together) with its interval; returns the Axes."""
        ax = new_axes(ax)
        f = self._frame
        y = np.arange(len(f))
        est = f["worth"].to_numpy(dtype=float)
        err = np.vstack([est - f["worth_low"].to_numpy(dtype=float), f["worth_high"].to_numpy(dtype=float) - est])
        ax.barh(y, est, xerr=np.nan_to_num(err), color="tab:blue", alpha=0.7)
        ax.set_yticks(y, [str(j) for j in f["judge"]])
        ax.set_xlabel(f"gold labels that {self.per_labels} judge labels are worth (evaluation)")
        return ax


def _paired_frame(data: RoutingData, judges: tuple[str, ...], corrected: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per query labelled by gold: its gold label and each judge's raw and corrected labels (NaN if none)."""
    if data.query_ids is None:
        return pd.DataFrame(columns=["gold"])
    ids = pd.Series(data.query_ids.astype(str))
    gold = data.source == 1
    out = pd.DataFrame({"gold": pd.Series(data.outcome[gold]).groupby(ids[gold].to_numpy()).mean()})
    for j in judges:
        rows = data.mechanism == j if data.mechanism is not None else ~gold
        raw = pd.Series(data.outcome[rows]).groupby(ids[rows].to_numpy()).mean()
        cor = pd.Series(corrected[j]).groupby(ids[rows].to_numpy()).mean()
        out[f"raw:{j}"] = raw.reindex(out.index)
        out[f"cor:{j}"] = cor.reindex(out.index)
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _multiple_corr(y: np.ndarray, F: np.ndarray) -> float:
    """sqrt of the adjusted R^2 of y on the columns of F (with intercept); 0 when it is negative."""
    n, k = F.shape
    if n <= k + 2 or np.std(y) == 0:
        return float("nan")
    A = np.column_stack([np.ones(n), F])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    r2 = 1.0 - np.sum((y - A @ coef) ** 2) / np.sum((y - y.mean()) ** 2)
    adj = 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1)
    return float(np.sqrt(max(adj, 0.0)))


def compare_judges(
    data: RoutingData,
    *,
    router: MultiJudgeRouter | None = None,
    scale: Any = SCALE_DEFAULT,
    costs: dict[str, float] | None = None,
    gold_cost: float = 1.0,
    per_labels: int = 1000,
    cv: int | None = 5,
    heterogeneity: bool = True,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    rng: Any = None,
) -> JudgeComparison:
    """Compare the judges of a multi-judge data set against gold (see the module docstring).

    Parameters
    ----------
    data : RoutingData
        Gold and judge rows with a ``mechanism`` per row, paired by ``query_ids`` for the
        correlations and the worth (queries labelled by gold and the judge).
    router : MultiJudgeRouter, optional
        A router fitted on ``data`` (its per-judge bias learners give the corrections, its settings
        the cross-fitted refits); default: each judge's bias fitted here as ``MultiJudgeRouter``
        fits it, with ``scale`` and ``random_state`` from ``rng`` (no pooled regression of psi).
    scale : default "auto"
        The scale rule of the mean-bias t-tests (and of the default router): as
        :func:`~metarouter_stats.bias_ttest` (c = 1 when the data declare one scale).
    costs : dict judge -> float, optional
        Price of one label of each judge (any unit); adds the worth per unit of cost and the
        value relative to buying gold at ``gold_cost`` per label.
    gold_cost : float, default 1
    per_labels : int, default 1000
        N: the worth is that of this many judge labels.
    cv : int or None, default 5
        Cross-fit the corrections that enter the correlations: the gold queries in ``cv`` folds,
        each judge's bias refitted without a fold's gold labels to correct that fold's queries
        (``cv`` refits per judge). A correction fitted on the gold labels it is compared with
        overstates the correlation, most with few gold labels. None: the router's own
        (in-sample) corrections; also used, and said, when there are fewer than ``2 cv`` gold queries.
    heterogeneity : bool, default True
        Run the BLP heterogeneity test for each judge (a hundred sample splits each).
    n_boot : int, default 1000
        Query bootstrap replicates of the correlations.
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator

    Returns
    -------
    JudgeComparison

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> sim = mrs.simulate_judges(n_gold=60, n_queries=300, n_test=10, d=8, rng=0)
    >>> cmp = mrs.compare_judges(sim.train, heterogeneity=False, n_boot=200, rng=0)
    >>> list(cmp.to_frame()["judge"])
    ['strong', 'cheap', 'twin', 'all judges']
    """
    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData with a `mechanism` per row; got {type(data).__name__}.")
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    per = check_positive_int(per_labels, "per_labels")
    if cv is not None:
        cv = check_positive_int(cv, "cv", minimum=2)
    gen = as_rng(rng)
    seed = int(gen.integers(2**31 - 1))
    if isinstance(gold_cost, bool) or not isinstance(gold_cost, numbers.Real) or not gold_cost > 0:
        raise ValueError(f"`gold_cost` must be a positive price per gold label; got {gold_cost!r}.")
    if router is None:  # only each judge's bias is needed here: no pooled regression of psi
        template = MultiJudgeRouter(scale=scale, random_state=seed)
        judge_routers = {j: template.judge_router(data, j) for j in data.judges}
        dropped: dict[str, str] = {}
    elif not hasattr(router, "judge_routers_"):
        raise TypeError("`router` must be a fitted MultiJudgeRouter (call fit(data) first).")
    else:
        template, judge_routers, dropped = router, dict(router.judge_routers_), dict(router.dropped_)
    judges = tuple(judge_routers)
    if costs is not None:
        if not isinstance(costs, dict) or set(costs) != set(judges):
            raise ValueError(f"`costs` must give a price for every judge {judges}; got {costs!r}.")
        bad = {k: v for k, v in costs.items() if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0}
        if bad:
            raise ValueError(f"`costs` must be positive prices; got {bad}.")
    gold = data.source == 1
    gold_queries = 0
    if data.query_ids is not None:  # gold queries that a judge also labelled: the pairs the correlations use
        ids = data.query_ids.astype(str)
        gold_queries = np.intersect1d(ids[gold], ids[~gold]).size
    if cv is not None and gold_queries >= 2 * cv:
        corrected = _cross_fitted_corrections(data, template, judges, cv, seed)
        how = f"cross-fitted ({cv} folds of the gold queries: each correction fitted without the query's gold label)"
    else:
        corrected = {j: correct_judge(data, j, judge_routers[j])[1] for j in judges}
        how = ("in-sample (the router's own corrections, fitted on these gold labels: optimistic)" if cv is None else
               f"in-sample: {gold_queries} paired gold queries are too few for {cv} folds (optimistic)")
    pairs = _paired_frame(data, judges, corrected)
    n_gold = int(gold.sum())
    records = []
    for j in judges:
        sub = data if data.mechanism is None else data.for_judge(j)
        test = bias_ttest(sub, scale=scale)
        low, high = test.confidence_interval(level)
        het = (bias_heterogeneity_test(judge_routers[j], rng=seed).p_value if heterogeneity
               else float("nan"))
        both = pairs[["gold", f"raw:{j}", f"cor:{j}"]].dropna() if f"raw:{j}" in pairs else pd.DataFrame()
        rec = {"judge": j, "n_labels": int((data.mechanism == j).sum() if data.mechanism is not None else (~gold).sum()),
               "n_paired": len(both), "mean_bias": test.estimate, "mean_bias_low": low, "mean_bias_high": high,
               "mean_bias_p_value": test.p_value, "scale": test.scale, "scale_reason": test.scale_reason,
               "heterogeneity_p_value": het}
        rec.update(_worth(both["gold"].to_numpy(), both[[f"cor:{j}"]].to_numpy(), n_gold, per, n_boot, seed, level)
                   if len(both) >= _MIN_PAIRS else _no_worth())
        rec["corr_raw"] = _corr(both["gold"].to_numpy(), both[f"raw:{j}"].to_numpy()) if len(both) else float("nan")
        records.append(rec)
    cols = [f"cor:{j}" for j in judges if f"cor:{j}" in pairs]
    every = pairs[["gold"] + cols].dropna() if cols else pd.DataFrame()
    rec_all = {"judge": "all judges", "n_labels": int((~gold).sum()), "n_paired": len(every)}
    rec_all.update(_worth(every["gold"].to_numpy(), every[cols].to_numpy(), n_gold, per, n_boot, seed, level)
                   if len(every) >= _MIN_PAIRS + len(cols) else _no_worth())
    records.append(rec_all)
    frame = pd.DataFrame(records)
    if costs is not None:
        price = frame["judge"].map(lambda j: costs.get(j, float("nan")) if j != "all judges" else sum(costs.values()))
        frame["cost"] = price
        frame["worth_per_cost"] = frame["worth"] / (per * price)
        frame["value_vs_gold"] = frame["worth_per_cost"] * gold_cost
    return JudgeComparison(frozen_copy(frame), n_gold=n_gold, per_labels=per, confidence_level=level,
                           dropped=dropped, corrections=how)


def _cross_fitted_corrections(data: RoutingData, template: MultiJudgeRouter, judges: tuple[str, ...], cv: int,
                              seed: int) -> dict[str, np.ndarray]:
    """Each judge's corrected labels, the correction at a gold query fitted without that query's gold label.

    Gold queries are split into ``cv`` folds; for each fold every judge's router is refitted on the data
    without the fold's gold rows (its judge rows kept: they carry no gold label) and corrects the judge rows
    of the fold's queries. Judge rows of queries without gold keep NaN (they enter no correlation).
    """
    from sklearn.model_selection import KFold  # noqa: PLC0415

    if data.query_ids is None:
        raise ValueError("Cross-fitted corrections need query ids (which judge rows belong to a gold query).")
    ids = data.query_ids.astype(str)
    gold = data.source == 1
    gold_q = np.unique(ids[gold])
    out = {}
    for j in judges:
        rows = data.mechanism == j if data.mechanism is not None else ~gold
        out[j] = np.full(int(rows.sum()), np.nan)
    for _, test in KFold(n_splits=cv, shuffle=True, random_state=seed).split(gold_q):
        held = np.isin(ids, gold_q[test])
        train = data.subset(~(gold & held))
        for j in judges:
            rows, cor = correct_judge(data, j, template.judge_router(train, j))
            here = held[rows]
            out[j][here] = cor[here]
    return out


def _no_worth() -> dict[str, float]:
    return {"corr_corrected": float("nan"), "worth": float("nan"), "worth_low": float("nan"), "worth_high": float("nan")}


def _worth(y: np.ndarray, F: np.ndarray, n_gold: int, per: int, n_boot: int, seed: int, level: float) -> dict[str, float]:
    """Correlation of gold with the corrected label(s), the worth, and its bootstrap interval."""
    rho_of = (lambda yy, FF: _corr(yy, FF[:, 0])) if F.shape[1] == 1 else _multiple_corr
    rho = rho_of(y, F)
    draws = bootstrap(lambda idx: rho_of(y[idx], F[idx]), y.size, n_boot, seed)[:, 0]
    worth = gold_worth(draws, n_gold, per)  # monotone in rho^2: the percentile interval of the worth itself
    lo, hi = np.nanquantile(worth, [0.5 - level / 2, 0.5 + level / 2])
    return {"corr_corrected": rho, "worth": float(gold_worth(rho, n_gold, per)), "worth_low": float(lo),
            "worth_high": float(hi)}
