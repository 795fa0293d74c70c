r"""Routing quality against the number of gold labels: a learning curve from the pilot, extrapolated.

:func:`gold_learning_curve` refits the Meta-router on random subsets of m of the pilot's gold
rows (all preference rows kept) for a few sizes m, ``n_repeats`` times, and measures each
refit's EG area over usage rates 0.2-0.8 with the package's evaluation
(:func:`~metarouter_stats.evaluate_routers`). Each repeat holds out the same
``n_gold - max(m)`` gold rows for all its sizes and adds the other gold rows in one random
order (nested subsets), so that the sizes of a repeat share their evaluation noise and the
curve's rise is measured far more precisely than its level. The held-out gold rows rectify a
pseudo-gold on every pilot query, the prediction :math:`\hat\psi(x)` of the repeat's largest
refit (prediction-powered; a function of x alone, not fitted on the held-out rows). **The areas
lean high:** at a query whose judge label the refits were fitted on (every query not held out),
that prediction follows the label's noise, and on paired data the query's own gain that gold
shares, as the refits' rankings do, so the pseudo-gold flatters them there. The default plan
(``method="variance"``) does not use the areas (kappa is measured on the refits' predictions);
the areas, the asymptote ``a`` and ``method="power"``'s plan (fitted to the areas) do.
:func:`~metarouter_stats.planning.training_worth.judge_training_worth`, which scores only the
held-out queries and those no fit saw a label of, measured such a lean at 0.003-0.006 of an area
near 0.1 with half the pilot's queries in its fits (``docs/benchmarks.md``, "Training worth"); the
learning curve's own is not measured.

**Extrapolation** (``method="variance"``, the default). The EG at usage rate q is
:math:`\mathrm{Cov}(\psi, 1\{\hat\psi \text{ in the top } q\})`; where :math:`E[\psi \mid \hat\psi]`
is linear in :math:`\hat\psi` (jointly normal scores, for instance) it equals
:math:`\mathrm{corr}(\hat\psi, \psi)` times the oracle's EG at every rate, so the EG area is
proportional to that correlation. Write the scores from m gold labels as
:math:`\hat\psi_m = \tilde\psi + e_m`, the large-sample scores plus an estimation error of variance
:math:`V m^{-\alpha}` uncorrelated with :math:`\psi` (:math:`\alpha = 1` for a regular estimator,
``exponent``). Then

.. math:: A(m) = a\,(1 + \kappa\, m^{-\alpha})^{-1/2}, \qquad \kappa = V / \mathrm{Var}(\tilde\psi),

and the gold size reaching a share s of the large-sample area a is
:math:`m^* = (\kappa / (s^{-2} - 1))^{1/\alpha}` (4.26 kappa for s = 0.9). Kappa, the scores'
noise-to-signal ratio per gold label, is **measured**, not fitted to the curve's slope: across
repeats, a refit on a random m-subset of the pilot's n gold rows varies by
:math:`V (m^{-\alpha} - n^{-\alpha})` per query (the delete-d jackknife's finite-population
correction), and the queries' spread of a refit's scores is :math:`\mathrm{Var}(\tilde\psi) + V m^{-\alpha}`.
The areas then fix only a (weighted least squares with kappa given), which the plan does not need.
The interval of :math:`m^*` is a jackknife over repeats of log kappa (t with ``n_repeats - 1``
df); it covers the repeat-to-repeat noise **given the pilot**, not the pilot's own sampling
variation nor the error of the assumed shape. ``method="power"`` fits the inverse power law
:math:`A(m) = a - b\, m^{-\alpha}` to the areas instead, the earlier default: between 30 and 70
gold labels it reads the local slope as if the curve were already in its :math:`1/m` tail and
plans too low.

``benchmarks/planning/run.py curve`` compares :math:`m^*` from pilots of 100 gold rows with the
size realised in simulation (docs/benchmarks.md, "Gold size for 90 %"). Both methods assume the
bias is in the final stage's class: on ``nonlinear_bias`` the EG area keeps rising slowly up to
thousands of gold labels, which no pilot of 100 can see, and the plan is a lower bound.

The pilot's gold rows must be a random sample (no ``propensity`` design): subsampling them
mimics buying fewer random labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._resampling import RowSampler, index_draws
from .._checks import as_1d_float, as_rng, check_fraction, check_positive_int, check_resamples
from .._results import ResultMixin, frozen_array, new_axes, plain_log_ticks
from ..data import RoutingData, query_units
from .selection import EG_RATES

__all__ = ["GoldLearningCurve", "gold_learning_curve"]

MIN_HELD_OUT = 10


class HeldOutRepeats:
    """Repeats of a pilot's gold queries: held out for evaluation, the others in a random order for nested refits.

    The one engine of :func:`gold_learning_curve` and
    :func:`~metarouter_stats.planning.training_worth.judge_training_worth`. Units are queries (every row
    of a query, gold and judge, falls on one side: a refit never sees any label of a query it is scored
    on) or rows without query ids. Repeat r holds out ``held_n`` gold units at random and orders the
    others; the gold units are drawn from ``gen`` in repeat order (one permutation each).

    Parameters
    ----------
    data : RoutingData
        The pilot.
    held_n : int
        Gold units held out in each repeat.
    reps : int
        Number of repeats.
    gen : numpy.random.Generator

    Examples
    --------
    >>> import numpy as np, metarouter_stats as mrs
    >>> from metarouter_stats.planning.curves import HeldOutRepeats
    >>> s = mrs.simulate(n_gold=20, n_preference=30, n_test=1, d=6, rng=0)
    >>> rep = HeldOutRepeats(s.train, 5, 2, np.random.default_rng(0))
    >>> int(np.isfinite(rep.held_out_gold(0)).sum()), int((rep.gold_rows(0, 8) & s.train.is_gold).sum())
    (5, 8)
    """

    def __init__(self, data: RoutingData, held_n: int, reps: int, gen: np.random.Generator) -> None:
        self.data = data
        self.unit, first_row = query_units(data.query_ids, data.n)
        self.n_units = first_row.size
        self.first_row = first_row
        self.gold_units = np.unique(self.unit[data.is_gold])  # the gold-labelled units, in unit order
        self.plans = []  # per repeat: held-out gold units, and the order in which the others are added
        for _ in range(reps):
            perm = gen.permutation(self.gold_units)
            self.plans.append((np.sort(perm[:held_n]), perm[held_n:]))
        self.held_rows = [np.isin(self.unit, plan[0]) for plan in self.plans]
        gold = data.is_gold
        self._gold_sum = np.bincount(self.unit[gold], weights=data.outcome[gold], minlength=self.n_units)
        self._gold_cnt = np.bincount(self.unit[gold], minlength=self.n_units)

    def gold_rows(self, r: int, m: int) -> np.ndarray:
        """Mask of the gold rows of the first ``m`` units of repeat ``r``'s order (nested in ``m``)."""
        return self.data.is_gold & np.isin(self.unit, self.plans[r][1][:m])

    def held_out_gold(self, r: int) -> np.ndarray:
        """Per unit: its mean gold label where repeat ``r`` holds it out, NaN elsewhere."""
        gold = np.full(self.n_units, np.nan)
        held = self.plans[r][0]
        gold[held] = self._gold_sum[held] / self._gold_cnt[held]
        return gold

    def X_units(self) -> Any:
        """One row per unit (its first), with the feature names each refit records."""
        return self.data.with_feature_names(self.data.X[self.first_row])


@dataclass(frozen=True, eq=False, repr=False)
class GoldLearningCurve(ResultMixin):
    """EG area against the number of gold labels, measured by subsampling the pilot and extrapolated.

    Attributes
    ----------
    sizes : ndarray of int
        Gold size of each refit (one entry per refit, repeat by repeat).
    areas, std_errors : ndarray
        Each refit's estimated EG area per query over [0.2, 0.8] and its standard error.
    method : {"variance", "power"}
        How the curve was planned (:func:`gold_learning_curve`).
    asymptote, coefficient, exponent : float
        The curve: ``asymptote * (1 + coefficient * m ** -exponent) ** -0.5`` (``"variance"``: the
        coefficient is the noise-to-signal ratio kappa measured from the refits' spread) or
        ``asymptote - coefficient * m ** -exponent`` (``"power"``: both fitted to the areas).
    target_share : float
    n_for_target : tuple of float
        (estimate, low, high): gold size reaching ``target_share`` of the asymptote (inf when the
        fitted curve does not rise).
    boot_asymptote, boot_coefficient : ndarray
        Bootstrap draws of the curve's parameters (whole repeats resampled).
    n_gold_pilot : int
    confidence_level : float
    """

    sizes: np.ndarray
    areas: np.ndarray
    std_errors: np.ndarray
    asymptote: float
    coefficient: float
    exponent: float
    method: str
    target_share: float
    n_for_target: tuple[float, float, float]
    boot_asymptote: np.ndarray
    boot_coefficient: np.ndarray
    n_gold_pilot: int
    confidence_level: float
    _title = "Routing quality by number of gold labels (learning curve)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", frozen_array(self.sizes, dtype=int))
        for name in ("areas", "std_errors", "boot_asymptote", "boot_coefficient"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))

    def predict(self, m: Any) -> np.ndarray:
        """The fitted EG area at gold sizes ``m``."""
        m = np.asarray(m, dtype=float)
        return _values(self.method, m, np.asarray(self.asymptote), np.asarray(self.coefficient), self.exponent)

    def band(self, m: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise ``confidence_level`` bootstrap band of the fitted curve at ``m`` (given the pilot)."""
        m = np.asarray(m, dtype=float)
        draws = _values(self.method, m[None, :], self.boot_asymptote[:, None], self.boot_coefficient[:, None],
                        self.exponent)
        q = (1 - self.confidence_level) / 2
        return np.quantile(draws, q, axis=0), np.quantile(draws, 1 - q, axis=0)

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Bootstrap percentile interval of the gold size reaching ``target_share`` (given the pilot)."""
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        draws = n_for_share(self.method, self.boot_asymptote, self.boot_coefficient, self.exponent, self.target_share)
        q = (1 - level) / 2
        return float(np.quantile(draws, q)), float(np.quantile(draws, 1 - q))

    def to_frame(self) -> pd.DataFrame:
        """One row per refit: n_gold, area, std_error."""
        return pd.DataFrame({"n_gold": self.sizes, "area": self.areas, "std_error": self.std_errors})

    def _rows(self) -> list[tuple[str, str]]:
        est, lo, hi = self.n_for_target
        means = self.to_frame().groupby("n_gold")["area"].mean()
        never = ("not reached: the refits' scores are all noise at these sizes" if self.method == "variance"
                 else "not reached: the fitted curve does not rise with more gold")
        reach = f"{est:.0f} ({100 * self.confidence_level:g} % interval {lo:.0f} to {hi:.0f})" if np.isfinite(est) else never
        return [
            ("pilot", f"{self.n_gold_pilot} gold labels; refits on {len(means)} sizes x "
                      f"{len(self.sizes) // max(len(means), 1)} random subsets"),
            ("target", f"gold size at which the Meta-router's EG area over rates 0.2-0.8 reaches "
                       f"{100 * self.target_share:g} % of its large-sample value (same preference labels)"),
            ("mean EG area by size", ", ".join(f"{m}: {a:.3g}" for m, a in means.items())),
            ("fitted curve", f"{self.asymptote:.4g} (1 + {self.coefficient:.4g} m^-{self.exponent:g})^-1/2"
                             if self.method == "variance" else
                             f"{self.asymptote:.4g} - {self.coefficient:.4g} m^-{self.exponent:g}"),
            (f"gold labels for {100 * self.target_share:g} % of the asymptote", reach),
        ]

    def _notes(self) -> list[str]:
        return ["The interval covers the subsampling and evaluation noise given the pilot; not the pilot's own "
                f"sampling variation nor the error of the assumed curve shape ({self.method!r}, exponent "
                f"{self.exponent:g} fixed)."]

    def plot(self, ax: Any = None) -> Any:
        """The refits' areas, the fitted curve with its band, the asymptote and the target size.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(6.5, 4))
        est = self.n_for_target[0]
        top = max(4 * self.n_gold_pilot, 1.5 * est if np.isfinite(est) else 0)
        grid = np.geomspace(max(2, self.sizes.min() / 2), top, 100)
        lo, hi = self.band(grid)
        ax.fill_between(grid, lo, hi, color="#1f77b4", alpha=0.2, label="band (given the pilot)")
        ax.plot(grid, self.predict(grid), color="#1f77b4", label="fitted curve")
        ax.scatter(self.sizes, self.areas, s=12, color="k", alpha=0.6, label="refits on subsets of the pilot")
        ax.axhline(self.asymptote, color="grey", linestyle=":", linewidth=1)
        ax.axhline(self.target_share * self.asymptote, color="#d62728", linestyle="--", linewidth=1,
                   label=f"{100 * self.target_share:g} % of the asymptote")
        if np.isfinite(est):
            ax.axvline(est, color="#d62728", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        plain_log_ticks(ax)
        ax.set_xlabel("gold labels (log scale)")
        ax.set_ylabel("EG area per query, rates 0.2-0.8")
        ax.set_title("Routing quality by number of gold labels")
        ax.legend(fontsize=8, loc="lower right")
        return ax


METHODS = ("variance", "power")


def _values(method: str, m: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """The curve at sizes ``m`` (broadcast against ``a`` and ``b``)."""
    if method == "variance":
        return a * (1.0 + b * m ** (-alpha)) ** -0.5
    return a - b * m ** (-alpha)


def n_for_share(method: str, a: np.ndarray, b: np.ndarray, alpha: float, share: float) -> np.ndarray:
    """Gold size at which the curve reaches ``share`` of its asymptote: at least 1, inf when it never does."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if method == "variance":  # depends on kappa alone: inf when the scores are all noise at these sizes
        a = np.ones_like(b)
    gap = 1 / share**2 - 1 if method == "variance" else (1 - share) * np.where(a > 0, a, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = np.maximum((b / gap) ** (1 / alpha), 1.0)
    return np.where((a > 0) & (b > 0), m, np.where((a > 0) & (b <= 0), 1.0, np.inf))


def fit_curve(sizes: np.ndarray, areas: np.ndarray, ses: np.ndarray, alpha: float,
               method: str = "power", kappa: float = 0.0) -> tuple[float, float]:
    """Weighted least squares of the size means (weights 1 / SE(mean)^2): (asymptote, coefficient).

    ``"power"``: linear in ``[1, -m^-alpha]``. ``"variance"``: the asymptote of
    ``a (1 + kappa m^-alpha)^-1/2`` with ``kappa`` given (measured from the refits' spread).
    """
    us = np.unique(sizes)
    mean = np.array([areas[sizes == m].mean() for m in us])
    var = np.array([np.mean(ses[sizes == m] ** 2) / np.sum(sizes == m) for m in us])
    w = 1.0 / np.maximum(var, 1e-12 * np.max(var) + 1e-300)
    m = us.astype(float)
    if method == "variance":
        if not np.isfinite(kappa):
            return float("nan"), float(kappa)
        g = (1.0 + kappa * m ** (-alpha)) ** -0.5
        return float(np.sum(w * mean * g) / np.sum(w * g**2)), float(kappa)
    design = np.column_stack([np.ones(m.size), -(m ** (-alpha))])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], mean * sw, rcond=None)
    return float(coef[0]), float(coef[1])


def _noise_to_signal(preds: np.ndarray, m: np.ndarray, n: int, alpha: float) -> float:
    r"""kappa = V / Var(psi_tilde) from refits on random m-subsets of n gold rows.

    ``preds`` has shape (repeats, sizes, queries). Across repeats, a refit on a random m-subset of the
    pilot's n gold rows varies about the pilot's own fit by ``V (m^-alpha - n^-alpha)`` per query
    (for alpha = 1 the finite-population correction of the delete-d jackknife, Shao and Wu 1989), so
    each size gives one estimate of V, the sampling variance of one gold label's worth; the queries'
    spread of a refit's centred scores is ``Var(psi_tilde) + V m^-alpha`` (signal plus noise), so the
    signal variance is what is left after the noise is removed. Averaged over sizes.
    """
    centred = preds - preds.mean(axis=2, keepdims=True)
    spread = centred.var(axis=0, ddof=1).mean(axis=1)  # per size: mean over queries of the across-repeat variance
    fpc = m ** (-alpha) - float(n) ** (-alpha)
    v = float(np.mean(spread / fpc))
    signal = float(np.mean(centred.var(axis=2).mean(axis=0) - v * m ** (-alpha)))
    return v / signal if signal > 0 else float("inf")


def gold_learning_curve(
    data: Any,
    *,
    router: Any = None,
    sizes: Any = None,
    n_repeats: int = 12,
    target_share: float = 0.9,
    method: str = "variance",
    exponent: float = 1.0,
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    rng: Any = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> GoldLearningCurve:
    """Learning curve of routing quality against the number of gold labels, from a pilot.

    Parameters
    ----------
    data : RoutingData
        The pilot: gold rows drawn at random, and the preference rows.
    router : MetaRouter, optional
        Unfitted template refitted on each subset (cloned; default ``MetaRouter()``).
    sizes : array-like of int, optional
        Gold sizes of the refits, the largest leaving at least 10 gold rows out for evaluation.
        Default: four sizes from 30 % to 70 % of the pilot's gold rows.
    n_repeats : int, default 12
        Repeats (held-out set and order of the gold rows); at least 3 for ``method="variance"``
        (its interval is a jackknife over repeats). The repeats' noise is most of a plan's error:
        with 6, the jackknife SE of log kappa was 0.20-0.31 against a spread of 0.28-0.40 of the
        plans across pilots (three simulated scenarios); 12 halve it (docs/benchmarks.md, "Gold
        size for 90 %"), for ``n_repeats x len(sizes)`` refits.
    target_share : float, default 0.9
        Share of the large-sample EG area whose gold size is reported.
    method : {"variance", "power"}, default "variance"
        How the curve is extrapolated (module docstring). ``"variance"``: ``A(m) = a (1 + kappa/m)^-1/2``
        (the EG area is proportional to corr(psi_hat, psi)) with the noise-to-signal ratio kappa measured
        from how much the refits' scores vary across random subsets of the gold rows; ``"power"``: the
        inverse power law ``A(m) = a - b / m`` fitted to the refits' areas (biased low in the benchmark).
    exponent : float, default 1
        The rate alpha at which the estimation variance falls with m (``m^-alpha``; module docstring).
    n_boot : int, default 1000
        Bootstrap draws of the curve (whole repeats resampled).
    confidence_level : float, default 0.95
    rng : None, int or numpy.random.Generator
        Seed of the subsets, the refits and the bootstrap: same seed, same curve for any ``n_jobs``.
    n_jobs : int or None
        joblib workers over the refits.
    progress : bool, default True
        A progress bar over the ``n_repeats x len(sizes)`` refits (on a terminal only, tqdm's default).

    Returns
    -------
    GoldLearningCurve

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=300, n_test=5, d=6, rng=0)
    >>> curve = mrs.gold_learning_curve(s.train, sizes=[25, 40], n_repeats=3, n_boot=50, rng=0)
    >>> curve.sizes.tolist()
    [25, 40, 25, 40, 25, 40]
    """
    from joblib import Parallel, delayed  # noqa: PLC0415
    from sklearn.base import clone  # noqa: PLC0415

    from ..evaluation import evaluate_routers  # noqa: PLC0415
    from ..routers import MetaRouter  # noqa: PLC0415

    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData (the pilot); got {type(data).__name__}.")
    if data.propensity is not None and np.ptp(data.propensity) > 1e-12:
        raise ValueError(
            "`data` has gold rows drawn with unequal known probabilities (`propensity`): subsampling them would not "
            "mimic buying fewer random labels. Use a pilot whose gold rows were drawn at random."
        )
    share = check_fraction(target_share, "target_share", closed=False)
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    reps = check_positive_int(n_repeats, "n_repeats", minimum=3 if method == "variance" else 2)
    n_boot = check_resamples(n_boot, "n_boot", minimum=10)
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}; got {method!r}.")
    alpha = float(exponent)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"`exponent` must be a positive number; got {exponent!r}.")
    if np.ptp(data.outcome[data.is_gold]) == 0:
        raise ValueError(
            f"The pilot's {data.n_gold} gold labels are all equal: every router's efficiency gain on them is 0, so "
            "there is no learning curve to fit. Check the labels, or collect a pilot whose gold labels differ."
        )
    # units: queries (every row of a query, gold and judge, falls on one side of a split) or rows without ids
    unit, _ = query_units(data.query_ids, data.n)
    n_g = np.unique(unit[data.is_gold]).size
    if sizes is None:
        m = np.unique(np.round(np.linspace(0.3, 0.7, 4) * n_g).astype(int))
        m = m[(m >= 10) & (m <= n_g - MIN_HELD_OUT)]
        if m.size < 2:
            raise ValueError(f"The pilot's {n_g} gold rows are too few for a learning curve (need about 40).")
    else:
        m = np.unique(as_1d_float(sizes, "sizes").astype(int))
        if m.size < 2 or m.min() < 5 or m.max() > n_g - MIN_HELD_OUT:
            raise ValueError(
                f"`sizes` must hold at least 2 gold sizes from 5 to {n_g - MIN_HELD_OUT} (the pilot's {n_g} gold rows "
                f"minus {MIN_HELD_OUT} held out for evaluation); got {sizes!r}."
            )
    template = MetaRouter() if router is None else router
    if not hasattr(template, "get_params"):
        raise TypeError(f"`router` must be an unfitted MetaRouter (a template); got {type(template).__name__}.")
    gen = as_rng(rng)
    repeats = HeldOutRepeats(data, n_g - int(m.max()), reps, gen)
    seeds = gen.integers(2**31 - 1, size=(reps, m.size))
    jobs = [(r, j) for r in range(reps) for j in range(m.size)]
    X_all = repeats.X_units()

    def fit(r: int, j: int) -> np.ndarray:
        # nested: the first m units of this repeat's order, and the judge rows of the queries not held out
        keep = (~data.is_gold & ~repeats.held_rows[r]) | repeats.gold_rows(r, int(m[j]))
        fitted = clone(template).set_params(random_state=int(seeds[r, j])).fit(data.subset(keep))
        return np.asarray(fitted.predict_gain(X_all), dtype=float)

    from tqdm.auto import tqdm  # noqa: PLC0415 - TTY-aware progress bar

    runs = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fit)(r, j) for r, j in jobs)
    fitted = list(tqdm(runs, total=len(jobs), desc="learning curve refits", unit="refit", leave=False,
                       disable=None if progress else True))
    preds = dict(zip(jobs, fitted, strict=True))
    sz_l: list[int] = []
    area_l: list[float] = []
    se_l: list[float] = []
    for r in range(reps):
        gold = repeats.held_out_gold(r)
        scores = {f"m={int(m[j])}": preds[(r, j)] for j in range(m.size)}
        # one evaluation per repeat: the sizes share the held-out rows, so their differences are precise;
        # pseudo-gold: the largest refit's prediction (a function of x, not fitted on the held-out rows)
        ev = evaluate_routers(scores, gold, pseudo_gold=preds[(r, m.size - 1)], rates=EG_RATES, n_boot=200,
                              rng=int(seeds[r, 0]))
        for j in range(m.size):
            area = ev.area(f"m={int(m[j])}")
            sz_l.append(int(m[j]))
            area_l.append(float(area.estimate))
            se_l.append(float(area.std_error))
    sz, areas, ses = np.array(sz_l), np.array(area_l), np.array(se_l)
    by_repeat = np.arange(sz.size).reshape(reps, m.size)
    mf = m.astype(float)
    if method == "variance":
        stack = np.array([[preds[(r, j)] for j in range(m.size)] for r in range(reps)])
        kappa = _noise_to_signal(stack, mf, n_g, alpha)
        # jackknife over repeats for log kappa (the repeats are the independent units of the spread),
        # a t law with reps - 1 df for its draws
        jack = np.array([_noise_to_signal(np.delete(stack, r, axis=0), mf, n_g, alpha) for r in range(reps)])
        if np.isfinite(kappa) and kappa > 0 and np.all(np.isfinite(jack) & (jack > 0)):
            lj = np.log(jack)
            se_log = float(np.sqrt((reps - 1) / reps * np.sum((lj - lj.mean()) ** 2)))
            kappa_draws = kappa * np.exp(se_log * gen.standard_t(reps - 1, size=n_boot))
        else:
            kappa_draws = np.full(n_boot, kappa)
    else:
        kappa, kappa_draws = 0.0, np.zeros(n_boot)
    a, b = fit_curve(sz, areas, ses, alpha, method, kappa)
    boot_a, boot_b = np.empty(n_boot), np.empty(n_boot)
    # whole repeats are resampled: their sizes share one evaluation
    for k, picked in enumerate(index_draws(RowSampler(reps), n_boot, gen)):
        idx = by_repeat[picked].ravel()
        boot_a[k], boot_b[k] = fit_curve(sz[idx], areas[idx], ses[idx], alpha, method, float(kappa_draws[k]))
    draws = n_for_share(method, boot_a, boot_b, alpha, share)
    q = (1 - level) / 2
    est = float(n_for_share(method, np.array([a]), np.array([b]), alpha, share)[0])
    return GoldLearningCurve(
        sizes=sz, areas=areas, std_errors=ses, asymptote=a, coefficient=b, exponent=alpha, method=method,
        target_share=share,
        n_for_target=(est, float(np.quantile(draws, q)), float(np.quantile(draws, 1 - q))),
        boot_asymptote=boot_a, boot_coefficient=boot_b, n_gold_pilot=int(n_g), confidence_level=level,
    )
