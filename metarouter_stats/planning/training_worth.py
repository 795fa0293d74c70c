r"""What a judge's labels are worth in gold labels for *training* a router, read off a pilot without extrapolation.

:func:`compare_judges` prices a judge for *evaluating* routers (a closed form in the correlation
of gold with the corrected judge label). For *training*, the worth of N judge labels next to m
gold labels is

.. math:: W(m) = m^* - m, \qquad A_{\text{gold}}(m^*) = A_{\text{meta}}(m, N),

where :math:`A_{\text{gold}}(m)` is the expected EG area (usage rates 0.2-0.8) of the gold-only
router (:class:`~metarouter_stats.GoldOnlyRouter`) fitted on m random gold labels, and
:math:`A_{\text{meta}}(m, N)` that of the Meta-router fitted on m gold labels and N of the judge's
labels: the gold labels that the judge's labels replace.

:func:`judge_training_worth` measures both curves on the pilot itself, as
:func:`gold_learning_curve` does: each of ``n_repeats`` repeats holds out about 30 % of the gold
queries (every label of a held-out query, gold and judge, stays out of every fit), orders the
other gold queries at random, fits the gold-only router on the first m' of them for a grid of
sizes m' (nested), and the Meta-router of each judge on the first ``base`` of them plus N of that
judge's labels: those of the queries first in one random order of the queries not held out (on
paired data the same queries for every judge). One prediction-powered evaluation per repeat
(:func:`~metarouter_stats.evaluate_routers`) scores every fit on the held-out queries and on the
queries no fit of the repeat saw a label of, the held-out gold labels rectifying the fits' own
predictions as pseudo-gold; a repeat's differences between fits share its evaluation noise. (A
fit's prediction at a query it was fitted on follows that query's label noise, and on paired data
the query's own gain that gold shares: as pseudo-gold there it inflated the Meta-routers' areas by
0.003-0.006, 3-8 % of them, in ``benchmarks/judge_training``.) :math:`m^*` is where the Meta-router's mean
area meets the gold-only mean curve (made non-decreasing by isotonic regression, linear between
the grid's sizes).

**No extrapolation.** The gold-only curve is known only up to the largest size the pilot can
fit while holding rows out (``n_gold - held_out``). A judge worth more than that is reported as
**censored**: "at least" the largest identifiable worth, an interval open above; one whose
Meta-router falls below the gold-only curve's smallest size, as at most the smallest (negative)
worth. Boosted gold-only curves are far from any parametric shape at small sizes (constant below
twice the trees' leaf size, flat for a while after), which is why an earlier trial that
extrapolated them was biased low by a factor of two or more.

**What the interval covers.** The worth of the pilot's mean curves is known only up to the grid:
a monotone gold-only curve may cross the Meta-router's area anywhere between the two sizes around
the crossing (:func:`worth_bracket`). The interval runs from the lower percentile of the bracket's
low end to the upper percentile of its high end over a bootstrap of the repeats: the noise of the
subsets, the seeds and the held-out evaluation, and the grid's resolution, *given the pilot*, not
the pilot's own sampling variation; ``benchmarks/judge_training`` compares it with the population worth of
simulated judges (``docs/benchmarks.md``, "Training worth").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_1d_float, as_rng, check_fraction, check_positive_int, check_resamples
from .._resampling import bootstrap
from .._results import ResultMixin, frozen_array, frozen_copy, new_axes
from ..data import RoutingData, query_units
from .curves import HeldOutRepeats
from .selection import EG_RATES

__all__ = ["TrainingWorth", "judge_training_worth", "worth_bracket", "worth_from_curves"]

HELD_OUT_SHARE = 0.3
MIN_HELD_OUT = 10


@dataclass(frozen=True, eq=False, repr=False)
class TrainingWorth(ResultMixin):
    """Each judge's worth in gold labels for training a router, measured on a pilot.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per judge (and ``"all judges"`` with ``combined``): ``judge``, ``n_judge_labels``
        (N, the judge labels in each Meta-router fit, the fewest over the repeats), ``base`` (m, the gold labels beside them), ``meta_area`` (mean EG area of the
        Meta-router), ``worth`` (W = m* - m gold labels), ``worth_low``, ``worth_high``
        (percentile interval over the repeats of the grid's bracket, :func:`worth_bracket`; inf
        where the worth may lie beyond the largest size) and ``censored``
        (``"above"``: W is at least ``worth``; ``"below"``: at most ``worth``; ``"none"``).
    curve : pandas.DataFrame
        The gold-only curve: ``size``, ``area`` (mean over repeats), ``area_se`` (SD over repeats /
        sqrt(repeats)), ``isotonic`` (the non-decreasing fit that is inverted).
    areas : ndarray of shape (n_repeats, n_sizes + n_judges)
        Every repeat's EG areas: the gold-only sizes, then the judges' Meta-routers.
    n_gold, held_out, n_repeats : int
        The pilot's gold queries, those held out in each repeat, the repeats.
    confidence_level : float
    """

    _frame: pd.DataFrame
    _curve: pd.DataFrame
    areas: np.ndarray
    n_gold: int
    held_out: int
    n_repeats: int
    confidence_level: float
    _title = "Worth of judge labels in gold labels, for training a router"

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the per-judge table."""
        return self._frame.copy()

    @property
    def curve(self) -> pd.DataFrame:
        """A copy of the gold-only learning curve."""
        return self._curve.copy()

    def to_frame(self) -> pd.DataFrame:
        """The per-judge table."""
        return self.frame

    def best(self) -> str:
        """The single judge whose labels give the Meta-router the largest EG area: the largest worth, censored or not.

        The worth is a non-decreasing function of that area (the gold-only curve is made
        non-decreasing), so the order holds where the worths themselves are censored.
        """
        f = self._frame[self._frame["judge"] != "all judges"]
        return str(f["judge"].iloc[int(np.argmax(f["meta_area"].to_numpy(dtype=float)))])

    def _rows(self) -> list[tuple[str, str]]:
        c = self._curve
        rows = [("gold queries (held out per repeat)", f"{self.n_gold} ({self.held_out})"),
                ("gold-only sizes", ", ".join(str(int(s)) for s in c["size"])),
                ("gold-only EG area (mean)", ", ".join(f"{a:.3f}" for a in c["area"]))]
        for r in self._frame.to_dict("records"):
            lo, hi = (f"{v:.0f}" if np.isfinite(v) else ("-inf" if v < 0 else "inf")
                      for v in (r["worth_low"], r["worth_high"]))
            if r["censored"] == "above":
                what = f"at least {r['worth']:.0f} (above the pilot's range)"
            elif r["censored"] == "below":
                what = f"at most {r['worth']:.0f} (below the pilot's range)"
            else:
                what = f"{r['worth']:.0f}"
            rows.append((f"{r['judge']}: {int(r['n_judge_labels'])} labels beside {int(r['base'])} gold are worth",
                         f"{what} [{lo}, {hi}] gold labels (EG area {r['meta_area']:.3f})"))
        return rows

    def notes(self) -> list[str]:
        """What the numbers cover (the worth's definition, the interval), as the summary prints it."""
        return self._notes()

    def _notes(self) -> list[str]:
        return [
            f"Worth for training: W = m* - m, where the gold-only router (GoldOnlyRouter) reaches with m* gold labels "
            "the mean EG area (rates 0.2-0.8) of the Meta-router fitted on m gold labels and N judge labels; both "
            f"curves measured on the pilot by {self.n_repeats} repeats that hold out {self.held_out} gold queries "
            "(no label of a held-out query in any fit), never extrapolated: a worth beyond the sizes the pilot can fit "
            f"is censored. {100 * self.confidence_level:.0f} % intervals: percentiles over a bootstrap of the repeats of "
            "the worths a monotone gold-only curve through the grid allows, conditional on the pilot (not its own "
            "sampling variation).",
        ]

    def plot(self, ax: Any = None) -> Any:
        """The gold-only curve (mean and isotonic fit) and each judge's Meta-router area at its base size."""
        ax = new_axes(ax)
        c = self._curve
        ax.errorbar(c["size"], c["area"], yerr=1.96 * c["area_se"], fmt="o", color="0.3", label="gold only")
        ax.plot(c["size"], c["isotonic"], "-", color="0.3")
        for k, r in enumerate(self._frame.to_dict("records")):
            color = f"C{k}"
            ax.axhline(r["meta_area"], color=color, ls="--", lw=1)
            ax.plot([r["base"]], [r["meta_area"]], "s", color=color,
                    label=f"{r['judge']} ({int(r['n_judge_labels'])} labels)")
        ax.set_xlabel("gold labels")
        ax.set_ylabel("EG area (rates 0.2-0.8)")
        ax.legend(fontsize="small")
        return ax


def _isotonic(sizes: np.ndarray, areas: np.ndarray) -> np.ndarray:
    from sklearn.isotonic import IsotonicRegression  # noqa: PLC0415

    return np.asarray(IsotonicRegression(increasing=True).fit_transform(sizes.astype(float), areas), dtype=float)


def worth_from_curves(sizes: Any, gold_areas: Any, meta_area: float, base: int) -> tuple[float, str]:
    """``(W, censored)``: where ``meta_area`` meets the non-decreasing fit of the gold-only curve, minus ``base``.

    The curve ``gold_areas`` at ``sizes`` (increasing) is made non-decreasing by isotonic regression
    and read linearly between sizes. Where it reaches ``meta_area`` on a flat stretch [L, U] (a
    boosted router is constant below twice its leaf size), m* is the point of that stretch nearest
    ``base`` (W = 0 if the stretch holds ``base``): the worth nearest 0 that the curve allows. Above
    the curve's last value: ``(sizes[-1] - base, "above")`` (W is at least that); below its first:
    ``(sizes[0] - base, "below")`` (at most that); ``"none"`` inside.

    Examples
    --------
    >>> from metarouter_stats.planning.training_worth import worth_from_curves
    >>> worth_from_curves([10, 20, 40], [0.1, 0.2, 0.3], 0.25, base=10)
    (20.0, 'none')
    >>> worth_from_curves([10, 20, 40], [0.1, 0.2, 0.3], 0.5, base=10)
    (30.0, 'above')
    >>> worth_from_curves([10, 20, 40], [0.0, 0.0, 0.3], 0.0, base=20)  # no better than gold alone
    (0.0, 'none')
    """
    m = np.asarray(sizes, dtype=float)
    fit = _isotonic(m, np.asarray(gold_areas, dtype=float))
    a = float(meta_area)
    if a > fit[-1]:
        return float(m[-1] - base), "above"
    if a < fit[0]:
        return float(m[0] - base), "below"

    def cross(k: int) -> float:
        """The size at which the segment from k to k + 1 takes the value a (its left end if flat)."""
        if k + 1 >= m.size or fit[k + 1] == fit[k]:
            return float(m[k])
        return float(m[k] + (a - fit[k]) / (fit[k + 1] - fit[k]) * (m[k + 1] - m[k]))

    first = int(np.argmax(fit >= a))  # the first size whose fitted area reaches a
    low = float(m[0]) if first == 0 else cross(first - 1)
    last = int(np.flatnonzero(fit <= a)[-1])  # the last size whose fitted area is at most a
    high = cross(last)
    return float(np.clip(base, low, high) - base), "none"


def worth_bracket(sizes: Any, gold_areas: Any, meta_area: float, base: int) -> tuple[float, float]:
    """``(low, high)``: every worth that a non-decreasing gold-only curve through the fitted values allows.

    :func:`worth_from_curves` reads the curve linearly between sizes; a monotone curve may cross
    ``meta_area`` anywhere between the largest size whose fitted area is below it and the smallest
    whose area is above it (a boosted router's curve jumps). ``low`` is the former minus ``base``
    (``-base`` where no size is below: no gold label at all), ``high`` the latter minus ``base``
    (``inf`` where none is above: beyond the sizes fitted).

    Examples
    --------
    >>> from metarouter_stats.planning.training_worth import worth_bracket
    >>> worth_bracket([10, 20, 40], [0.0, 0.0, 0.3], 0.1, base=10)
    (10.0, 30.0)
    >>> worth_bracket([10, 20, 40], [0.1, 0.2, 0.3], 0.3, base=10)
    (10.0, inf)
    """
    m = np.asarray(sizes, dtype=float)
    return _bracket(m, _isotonic(m, np.asarray(gold_areas, dtype=float)), meta_area, base)


def _bracket(m: np.ndarray, fit: np.ndarray, meta_area: float, base: int) -> tuple[float, float]:
    """:func:`worth_bracket` on a curve already made non-decreasing (``fit`` at sizes ``m``)."""
    a = float(meta_area)
    below, above = m[fit < a], m[fit > a]
    low = float(below.max()) if below.size else 0.0
    high = float(above.min()) if above.size else np.inf
    return low - base, high - base


def _design(n_g: int, base: Any, sizes: Any) -> tuple[int, int, np.ndarray]:
    """(gold queries held out per repeat, base, the gold-only sizes) for a pilot of ``n_g`` gold queries, checked."""
    held_n = max(MIN_HELD_OUT, int(round(HELD_OUT_SHARE * n_g)))
    top = n_g - held_n
    if top < 20:
        raise ValueError(f"The pilot's {n_g} gold queries are too few for a training worth: {held_n} are held out in "
                         "each repeat and at least 20 must remain, for the base and the larger sizes of the gold-only "
                         "curve (about 30 gold queries at least).")
    m0 = max(10, int(round(0.2 * n_g))) if base is None else check_positive_int(base, "base", minimum=2)
    if m0 >= top:
        raise ValueError(f"`base` must be below {top} (the gold queries left after {held_n} are held out); got {m0}.")
    if sizes is None:
        grid = np.round(np.geomspace(max(5, m0 // 2), top, 20)).astype(int)
        grid = grid[np.abs(grid - m0) > 0.1 * m0]  # base replaces a size next to it
        m = np.unique(np.concatenate([grid, [m0, top]]))
    else:
        m = np.unique(as_1d_float(sizes, "sizes").astype(int))
        if m.size < 2 or m.min() < 2 or m.min() > m0 or m.max() > top:
            raise ValueError(f"`sizes` must hold at least 2 gold sizes from 2 to {top} (the gold queries minus the "
                             f"{held_n} held out), the smallest at most `base` = {m0}; got {sizes!r}.")
    return held_n, m0, m


def judge_training_worth(
    data: Any,
    *,
    judges: Any = None,
    router: Any = None,
    gold_router: Any = None,
    combined: bool = False,
    base: int | None = None,
    sizes: Any = None,
    per_labels: int = 1000,
    n_repeats: int = 12,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    rng: Any = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> TrainingWorth:
    """Each judge's worth in gold labels for training a router, from a pilot (see the module docstring).

    Parameters
    ----------
    data : RoutingData
        The pilot: gold rows drawn at random (no ``propensity`` design) and the judges' rows, with
        ``mechanism`` naming several judges or without it (one judge, ``"preference"``).
    judges : sequence of str, optional
        The judges to price (default: every judge of ``data``).
    router : MetaRouter, optional
        Unfitted template of each judge's Meta-router (cloned, seeded per fit; default ``MetaRouter()``).
    gold_router : router, optional
        Unfitted template of the gold-only router (default ``GoldOnlyRouter()``).
    combined : bool, default False
        Also price every judge's labels at once: a row ``"all judges"`` for a
        :class:`~metarouter_stats.MultiJudgeRouter` (seeded per fit, its defaults) fitted on the
        base gold labels and the union of the judges' N labels of each repeat (the same labels as
        their single fits). Needs ``mechanism`` with at least two judges priced.
    base : int, optional
        m: the gold labels beside the judge's. Default 20 % of the gold queries (at least 10).
    sizes : array-like of int, optional
        The gold-only curve's sizes, increasing, from at most ``base`` to at most the gold queries
        minus those held out (30 %, at least 10). Default: up to 20 sizes, geometric from half of ``base``
        (at least 5) to that largest size, with ``base`` among them (gold-only fits are cheap; a
        boosted gold-only curve can jump, e.g. where its trees first split, and a coarse grid would
        smear the jump into the worth).
    per_labels : int, default 1000
        N: judge labels in each Meta-router fit: the judge's labels of the queries that come first
        in one random order of the queries not held out (per repeat, the same order for every
        judge, so on paired data every judge's N labels are on the same queries and the others
        stay out of every fit); all of them when there are fewer (the table says how many).
    n_repeats : int, default 12
        Repeats (held-out gold queries, order of the others, seeds): ``n_repeats x (len(sizes) +
        len(judges))`` fits, the judges' Meta-routers the costly ones.
    n_boot : int, default 1000
        Bootstrap draws of the repeats for the intervals.
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator
        Seed of the repeats, the fits and the bootstrap: same seed, same numbers for any ``n_jobs``.
    n_jobs : int, optional
        joblib workers over the fits.
    progress : bool, default True
        A progress bar over the fits (on a terminal only).

    Returns
    -------
    TrainingWorth

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> sim = mrs.simulate_judges(n_gold=60, n_queries=300, n_test=1, d=6, rng=0)
    >>> tw = mrs.judge_training_worth(sim.train, judges=["strong"], per_labels=200, n_repeats=3,
    ...                               n_boot=50, rng=0, progress=False)
    >>> tw.to_frame()[["judge", "n_judge_labels", "base"]].values.tolist()
    [['strong', 200, 12]]
    """
    from joblib import Parallel, delayed  # noqa: PLC0415
    from sklearn.base import clone  # noqa: PLC0415
    from tqdm.auto import tqdm  # noqa: PLC0415 - TTY-aware progress bar

    from ..evaluation import evaluate_routers  # noqa: PLC0415
    from ..multi_judge import MultiJudgeRouter  # noqa: PLC0415
    from ..routers import GoldOnlyRouter, MetaRouter  # noqa: PLC0415

    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData (the pilot); got {type(data).__name__}.")
    if data.propensity is not None and np.ptp(data.propensity) > 1e-12:
        raise ValueError(
            "`data` has gold rows drawn with unequal known probabilities (`propensity`): subsampling them would not "
            "mimic buying fewer random labels. Use a pilot whose gold rows were drawn at random.")
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    reps = check_positive_int(n_repeats, "n_repeats", minimum=2)
    n_boot = check_resamples(n_boot, "n_boot", minimum=10)
    per = check_positive_int(per_labels, "per_labels")
    names = data.judges if judges is None else tuple(str(j) for j in np.atleast_1d(np.asarray(judges, dtype=object)))
    unknown = [j for j in names if j not in data.judges]
    if not names or unknown:
        raise ValueError(f"`judges` must name judges of `data` {data.judges}; got {judges!r}.")
    unit, _ = query_units(data.query_ids, data.n)
    n_g = np.unique(unit[data.is_gold]).size
    held_n, m0, m = _design(n_g, base, sizes)
    meta_template = MetaRouter() if router is None else router
    gold_template = GoldOnlyRouter() if gold_router is None else gold_router
    for name, tpl in (("router", meta_template), ("gold_router", gold_template)):
        if not hasattr(tpl, "get_params"):
            raise TypeError(f"`{name}` must be an unfitted router (a template); got {type(tpl).__name__}.")
    mech = data.mechanism
    judge_rows = {j: (~data.is_gold if mech is None else (mech == j)) for j in names}
    if combined and (mech is None or len(names) < 2):
        raise ValueError("`combined=True` prices several judges at once: it needs data with a `mechanism` naming at "
                         f"least two judges, and at least two of them in `judges`; got {names}.")
    rows_names = names + (("all judges",) if combined else ())

    gen = as_rng(rng)
    repeats = HeldOutRepeats(data, held_n, reps, gen)
    seeds = gen.integers(2**31 - 1, size=(reps, m.size + len(names)))
    boot_seed = int(gen.integers(2**31 - 1))
    if combined:  # drawn after the others: the single fits are those of combined=False
        seeds = np.column_stack([seeds, gen.integers(2**31 - 1, size=reps)])

    # one random order of the queries per repeat: every judge takes its N labels from the queries first in it
    # (on paired data the same queries for every judge), so that many queries stay out of every fit
    ranks = [np.argsort(np.random.default_rng(seeds[r, m.size]).permutation(repeats.n_units)) for r in range(reps)]

    def picks(r: int, k: int) -> np.ndarray:
        """Judge k's N labels in repeat r: its rows of the queries not held out that come first in the order."""
        candidates = np.flatnonzero(judge_rows[names[k]] & ~repeats.held_rows[r])
        return candidates[np.argsort(ranks[r][repeats.unit[candidates]], kind="stable")][:per]

    picked = [[picks(r, k) for k in range(len(names))] for r in range(reps)]  # drawn once, used by every fit
    every_pick = [np.concatenate(p) for p in picked]

    def rows_of(r: int, j: int) -> np.ndarray:
        """Fit j of repeat r: gold-only at size m[j], or a judge's (all judges') Meta-router at ``m0``."""
        if j < m.size:  # with the picked judge rows (RoutingData needs both sources; a gold-only router ignores them)
            keep = repeats.gold_rows(r, int(m[j]))
            keep[every_pick[r]] = True
            return keep
        keep = repeats.gold_rows(r, m0)
        k = j - m.size
        keep[picked[r][k] if k < len(names) else every_pick[r]] = True
        return keep

    def evaluated(r: int) -> np.ndarray:
        """The queries repeat r is scored on: the held-out ones and those no fit of the repeat saw a label of.

        A fit's prediction at a query whose label it was fitted on follows that label's noise (and, on paired
        data, the query's own gain that gold shares); as pseudo-gold there it would inflate the areas.
        """
        touched = np.zeros(repeats.n_units, dtype=bool)
        touched[repeats.unit[repeats.gold_rows(r, int(m.max()))]] = True
        touched[repeats.unit[every_pick[r]]] = True
        return ~touched

    X_all = repeats.X_units()

    def fit(r: int, j: int) -> tuple[np.ndarray, int]:
        keep = rows_of(r, j)
        sub = data.subset(keep)
        if j < m.size:
            template = gold_template
        elif j - m.size == len(names):  # every judge at once
            template = MultiJudgeRouter()
        else:
            template = meta_template
            if sub.mechanism is not None:
                sub = sub.for_judge(names[j - m.size])
        fitted = clone(template).set_params(random_state=int(seeds[r, j])).fit(sub)
        return np.asarray(fitted.predict_gain(X_all), dtype=float), int((keep & ~data.is_gold).sum())

    jobs = [(r, j) for r in range(reps) for j in range(m.size + len(rows_names))]
    runs = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fit)(r, j) for r, j in jobs)
    out = dict(zip(jobs, tqdm(runs, total=len(jobs), desc="training-worth fits", unit="fit", leave=False,
                              disable=None if progress else True), strict=True))
    labels = [f"gold m={int(s)}" for s in m] + [f"judge {j}" for j in rows_names]
    areas = np.empty((reps, len(labels)))
    for r in range(reps):
        keep_q = evaluated(r)
        gold = repeats.held_out_gold(r)[keep_q]
        preds = [out[(r, j)][0][keep_q] for j in range(len(labels))]
        # pseudo-gold: the largest gold-only fit and every single judge's Meta-router (functions of x fitted without
        # any label of these queries), rectified by the held-out gold labels; PPI++ weighs them. Not the combined fit: a
        # row "all judges" then leaves the others' numbers as they are without it
        pseudo = np.column_stack([preds[m.size - 1]] + preds[m.size:m.size + len(names)])
        ev = evaluate_routers(dict(zip(labels, preds, strict=True)), gold, pseudo_gold=pseudo, rates=EG_RATES,
                              n_boot=50, rng=int(seeds[r, 0]))
        areas[r] = [float(ev.area(name).estimate) for name in labels]
    areas[np.abs(areas) < 1e-12] = 0.0  # a constant router (too few rows for a split): 0 up to rounding
    n_used = {j: int(np.min([out[(r, m.size + k)][1] for r in range(reps)])) for k, j in enumerate(rows_names)}

    def brackets(rows: np.ndarray) -> np.ndarray:
        """Per judge, the (low, high) bracket of the worth on the repeats ``rows``' mean curves."""
        mean = areas[rows].mean(axis=0)
        fit = _isotonic(m, mean[: m.size])  # one monotone gold-only curve per draw, for every judge
        return np.array([_bracket(m.astype(float), fit, mean[m.size + k], m0) for k in range(len(rows_names))]).ravel()

    draws = bootstrap(brackets, reps, n_boot, boot_seed).reshape(n_boot, len(rows_names), 2)
    mean = areas.mean(axis=0)
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    records = []
    for k, j in enumerate(rows_names):
        w, cens = worth_from_curves(m, mean[: m.size], mean[m.size + k], m0)
        lo = np.quantile(draws[:, k, 0], lo_q, method="inverted_cdf")
        hi = np.quantile(draws[:, k, 1], hi_q, method="inverted_cdf")
        records.append({"judge": j, "n_judge_labels": n_used[j], "base": m0, "meta_area": float(mean[m.size + k]),
                        "worth": w, "worth_low": float(lo), "worth_high": float(hi), "censored": cens})
    curve = pd.DataFrame({"size": m, "area": mean[: m.size],
                          "area_se": areas[:, : m.size].std(axis=0, ddof=1) / np.sqrt(reps),
                          "isotonic": _isotonic(m, mean[: m.size])})
    return TrainingWorth(frozen_copy(pd.DataFrame(records)), frozen_copy(curve), frozen_array(areas), n_gold=n_g, held_out=held_n,
                         n_repeats=reps, confidence_level=level)
