r"""How many gold labels to detect a heterogeneous bias: the power of the BLP test by gold size.

:func:`~metarouter_stats.bias_heterogeneity_test` aggregates its sample splits in one of two
ways, and the plan follows the pilot test's:

* ``aggregation="bootstrap"`` (the default's): it rejects a constant bias when the **mean** over
  splits of the slope's t statistic, T, exceeds the :math:`1-\alpha` quantile q of its wild
  bootstrap null law, whose SD is :math:`\sigma_0` (below 1: the splits share rows);
* ``aggregation="median"``: CDDF's rule, ``min(1, 2 median p_s) < alpha``, i.e. the median t
  exceeds :math:`q = z_{1-\alpha/2}`, with :math:`\sigma_0 = 1`.

With scarce gold the doubly robust scores' variance is of order :math:`1/m` in the gold size m
(preference labels fixed), so the noncentrality grows like
:math:`\mu(m) = \mu_0 \sqrt{m / m_0}` from the pilot's :math:`\mu_0` (its T) at :math:`m_0` gold
rows, and :func:`plan_heterogeneity` computes

.. math:: \text{power}(m) = \Phi\big((\mu_0 \sqrt{m/m_0} - q) / \sigma_0\big)

with **statsmodels**' ``NormalIndPower`` (one-sample normal test, ``ratio=0``, one-sided at the
level :math:`\bar\Phi(q/\sigma_0)`, effect size :math:`\mu_0/(\sigma_0\sqrt{m_0})` per gold row).
The interval comes from :math:`\mu_0 \pm z \sigma_0`.

What the model leaves out, on the conservative side for detection: the proxy (the final stage
fitted on the auxiliary half) also improves with m, so the pilot's noncentrality grows faster
than :math:`\sqrt m` in simulation. ``benchmarks/planning/run.py heterogeneity`` compares the
plan with the simulated power of the test (``docs/benchmarks.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_1d_float, check_fraction, check_resamples
from .._results import ResultMixin, frozen_array, new_axes, plain_log_ticks

__all__ = ["HeterogeneityPlan", "plan_heterogeneity"]


@dataclass(frozen=True, eq=False, repr=False)
class HeterogeneityPlan(ResultMixin):
    """Predicted power of the heterogeneity (BLP) test against the number of gold labels.

    Attributes
    ----------
    sizes : ndarray of int
        Candidate gold sizes m.
    power, power_low, power_high : ndarray
        Predicted power at each m, and its interval from the pilot noncentrality's uncertainty.
    noncentrality, noncentrality_low, noncentrality_high : float
        The pilot test's statistic (mean or median split t) and its interval (``confidence_level``).
    n_gold_pilot : int
    alpha, confidence_level, target_power : float
    n_for_power : tuple of float
        (estimate, low, high) gold size reaching ``target_power``; inf when the pilot shows no
        heterogeneity to detect (noncentrality <= 0).
    test_rule : str
        The aggregation of the test planned for (the pilot test's).
    """

    sizes: np.ndarray
    power: np.ndarray
    power_low: np.ndarray
    power_high: np.ndarray
    noncentrality: float
    noncentrality_low: float
    noncentrality_high: float
    n_gold_pilot: int
    alpha: float
    confidence_level: float
    target_power: float
    n_for_power: tuple[float, float, float]
    test_rule: str = "CDDF's median-adjusted test"
    _title = "Gold labels: power of the heterogeneity (BLP) test by gold size"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", frozen_array(self.sizes, dtype=int))
        for name in ("power", "power_low", "power_high"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate gold size: predicted power and its interval."""
        return pd.DataFrame({"n_gold": self.sizes, "power": self.power, "power_low": self.power_low,
                             "power_high": self.power_high})

    def _rows(self) -> list[tuple[str, str]]:
        est, lo, hi = self.n_for_power
        reach = ("no heterogeneity to detect in the pilot (split t <= 0)" if not np.isfinite(est)
                 else f"{est:.0f} (from {lo:.0f} to {'never' if not np.isfinite(hi) else f'{hi:.0f}'})")
        rows = [
            ("pilot", f"{self.n_gold_pilot} gold rows; split t {self.noncentrality:.3g} "
                      f"({self.noncentrality_low:.3g} to {self.noncentrality_high:.3g})"),
            ("test", f"BLP test ({self.test_rule}; bias_heterogeneity_test)"),
            (f"gold labels for power {self.target_power:g}", reach),
        ]
        rows += [(f"m = {m}", f"power {p:.2f} ({lo_:.2f} to {hi_:.2f})")
                 for m, p, lo_, hi_ in zip(self.sizes, self.power, self.power_low, self.power_high, strict=True)]
        return rows

    def _notes(self) -> list[str]:
        return ["Noncentrality scaled by sqrt(m / pilot size) (scores' variance ~ 1/m with the preference labels "
                "fixed); the proxy's own improvement with m is left out, which makes the plan conservative. Interval: "
                "the pilot's split t plus or minus z times its SD (1 per split for the median rule; the wild "
                "bootstrap's null SD for the mean), not the uncertainty of that scaling."]

    def plot(self, ax: Any = None) -> Any:
        """Power against gold size with its band; returns the Axes."""
        ax = new_axes(ax, figsize=(6.5, 4))
        ax.plot(self.sizes, self.power, color="#d62728", label="predicted power")
        ax.fill_between(self.sizes, self.power_low, self.power_high, color="#d62728", alpha=0.15)
        ax.axhline(self.target_power, color="#d62728", linestyle="--", linewidth=1)
        ax.axvline(self.n_gold_pilot, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        plain_log_ticks(ax)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("gold labels (log scale)")
        ax.set_ylabel("power of the heterogeneity test")
        ax.set_title("Detecting a heterogeneous bias (dotted: the pilot)")
        return ax


def blp_power(mu0: float, n0: int, m: np.ndarray, alpha: float) -> np.ndarray:
    from statsmodels.stats.power import NormalIndPower  # noqa: PLC0415 - heavy import, deferred

    return np.asarray(NormalIndPower().power(effect_size=mu0 / np.sqrt(n0), nobs1=m.astype(float), alpha=alpha / 2,
                                             ratio=0, alternative="larger"), dtype=float)


def plan_heterogeneity(
    router: Any,
    *,
    sizes: Any = None,
    alpha: float = 0.05,
    target_power: float = 0.8,
    confidence_level: float = 0.95,
    n_splits: int = 100,
    rng: Any = None,
    test: Any = None,
) -> HeterogeneityPlan:
    """Predict the power of the heterogeneity test against the gold size, from a router fitted on the pilot.

    Parameters
    ----------
    router : fitted MetaRouter or bias learner
        Fitted on the pilot (capabilities ``"scores"`` and ``"refit_final"``: ``"dr"``, ``"r"``).
    sizes : array-like of int, optional
        Candidate gold sizes. Default: 20 sizes from 10 to 10 times the pilot's.
    alpha : float, default 0.05
        Level of the test.
    target_power : float, default 0.8
    confidence_level : float, default 0.95
        Of the intervals around the predictions.
    n_splits : int, default 100
        Sample splits of the pilot's test (CDDF use 100).
    rng : None, int or numpy.random.Generator
        Seed of the splits.
    test : HeterogeneityTestResult, optional
        The test already run on this router (its median t is reused; ``n_splits`` and ``rng``
        are then not used).

    Returns
    -------
    HeterogeneityPlan

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=100, n_preference=1000, n_test=1, d=6, rng=0)
    >>> router = mrs.MetaRouter(scale=0.25, random_state=0).fit(s.train)
    >>> plan = mrs.plan_heterogeneity(router, sizes=[50, 100, 400], n_splits=20, rng=0)
    >>> bool(plan.power[0] < plan.power[1] < plan.power[2])
    True
    """
    from ..inference import bias_heterogeneity_test  # noqa: PLC0415

    alpha = check_fraction(alpha, "alpha", closed=False)
    level = check_fraction(confidence_level, "confidence_level", closed=False)
    power_target = check_fraction(target_power, "target_power", closed=False)
    n_splits = check_resamples(n_splits, "n_splits", minimum=2)
    learner = getattr(router, "bias_learner_", router)
    if test is None:
        test = bias_heterogeneity_test(router, n_splits=n_splits, rng=rng)
    elif getattr(test, "scores_fingerprint", "") and test.scores_fingerprint != learner.scores_.fingerprint():
        raise ValueError(
            f"`test` was run on another learner's scores ({test.n} scored rows; this router's learner has "
            f"{learner.scores_.n}): pass the test of this router (bias_heterogeneity_test(router)), or test=None."
        )
    n0 = int(np.sum(learner.scores_.source == 1))
    if sizes is None:
        m = np.unique(np.round(np.geomspace(10, 10 * max(n0, 10), 20)).astype(int))
    else:
        m = np.unique(as_1d_float(sizes, "sizes").astype(int))
        if m.size == 0 or m.min() < 2:
            raise ValueError(f"`sizes` must be gold sizes of at least 2; got {sizes!r}.")
    mu0 = float(test.statistic)
    null = np.asarray(getattr(test, "null_statistics", np.empty(0)), dtype=float)
    if getattr(test, "aggregation", "median") == "bootstrap" and null.size > 1:
        # the mean t over splits: null SD sd0 and critical value from the test's own wild bootstrap
        sd0 = float(np.std(null, ddof=1))
        z_test = float(np.quantile(null, 1 - alpha)) / sd0
        how = f"mean over splits, wild-bootstrap test at level {alpha:g}"
    else:  # CDDF's median rule: reject when the median t exceeds z_{1 - alpha / 2}; unit SD
        sd0, z_test = 1.0, float(stats.norm.ppf(1 - alpha / 2))
        how = f"CDDF's median-adjusted test at level {alpha:g}"
    z = float(stats.norm.ppf(0.5 + level / 2))
    mus = {"est": mu0, "low": mu0 - z * sd0, "high": mu0 + z * sd0}
    power = {k: blp_power(v / sd0, n0, m, 2 * float(stats.norm.sf(z_test))) for k, v in mus.items()}
    z_pow = float(stats.norm.ppf(power_target))

    def needed(mu: float) -> float:  # smallest m with (mu / sd0) sqrt(m / n0) - z_test >= z_pow
        return float(np.ceil(n0 * ((z_test + z_pow) * sd0 / mu) ** 2)) if mu > 0 else float("inf")

    return HeterogeneityPlan(
        sizes=m, power=power["est"], power_low=power["low"], power_high=power["high"], noncentrality=mu0,
        noncentrality_low=mus["low"], noncentrality_high=mus["high"], n_gold_pilot=n0, alpha=alpha,
        confidence_level=level, target_power=power_target,
        n_for_power=(needed(mu0), needed(mus["high"]), needed(mus["low"])), test_rule=how,
    )
