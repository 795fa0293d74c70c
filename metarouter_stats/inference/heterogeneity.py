r"""Is the bias heterogeneous? The best-linear-predictor calibration test.

It works on any fitted bias learner that declares the capabilities ``"scores"``
(cross-fitted pseudo-outcomes) and ``"refit_final"`` (see
:mod:`metarouter_stats.cate.protocol`), or on a fitted Meta-router holding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_rng, check_positive_int
from .._threads import budgeted
from .._results import ResultMixin
from ..cate import require_capability

__all__ = ["HeterogeneityTestResult", "bias_heterogeneity_test", "fitted_learner"]


def fitted_learner(obj: Any, what: str) -> Any:
    """The fitted bias learner of a fitted Meta-router, or ``obj`` itself if it is a learner."""
    learner = getattr(obj, "bias_learner_", None)
    if learner is not None:
        return learner
    if hasattr(obj, "effect") and hasattr(obj, "fit"):
        return obj
    raise TypeError(
        f"{what} needs a fitted MetaRouter or a fitted bias learner; got {type(obj).__name__} "
        "(call fit first)."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HeterogeneityTestResult(ResultMixin):
    """Best-linear-predictor calibration test of a heterogeneous bias.

    Attributes
    ----------
    statistic : float
        t statistic of the slope on the centred out-of-fold Delta_hat.
    pvalue : float
        One-sided p-value for slope > 0 (heterogeneity the learner detects).
    slope, slope_std_error : float
        The heterogeneity loading and its HC3 standard error (1 = well calibrated).
    mean_bias, mean_bias_std_error : float
        The average bias (intercept), on the scale the learner was fitted on (the
        preference scale for a Meta-router's learner).
    n : int
    """

    statistic: float
    pvalue: float
    slope: float
    slope_std_error: float
    mean_bias: float
    mean_bias_std_error: float
    n: int
    _title = "Heterogeneity of the bias (BLP calibration test)"

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("mean bias (learner's scale)", f"{self.mean_bias:.4f} (se {self.mean_bias_std_error:.4f})"),
            ("heterogeneity slope", f"{self.slope:.3f} (se {self.slope_std_error:.3f})"),
            ("t statistic / one-sided p", f"{self.statistic:.3f} / {self.pvalue:.4g}"),
            ("rows", f"{self.n}"),
        ]

    def _notes(self) -> list[str]:
        return [
            "H0: the learner's Delta_hat carries no heterogeneity (slope 0); a small p rejects a constant bias.",
            "No interval for the slope is offered: under a constant bias the statistic is not yet shown to be "
            "N(0, 1) (known issue; the test is being recalibrated).",
        ]

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per coefficient (mean bias, slope)."""
        return pd.DataFrame(
            {"estimate": [self.mean_bias, self.slope], "std_error": [self.mean_bias_std_error, self.slope_std_error],
             "statistic": [np.nan, self.statistic], "pvalue": [np.nan, self.pvalue]},
            index=["mean bias", "heterogeneity slope"],
        )


@budgeted
def bias_heterogeneity_test(router: Any, *, cv: int = 5, rng: Any = None) -> HeterogeneityTestResult:
    r"""Test that the bias is not constant, on a fitted learner's cross-fitted scores.

    The best-linear-predictor test of Chernozhukov, Demirer, Duflo and
    Fernandez-Val (2018), on doubly robust (or R-learner) scores: with
    :math:`\phi_i` the learner's cross-fitted pseudo-outcomes and
    :math:`\tilde\Delta_i` an out-of-fold prediction of the bias (the final stage
    refitted on the other ``cv`` folds of the scores), regress

    .. math:: \phi_i = \beta_1 + \beta_2 (\tilde\Delta_i - \bar{\tilde\Delta}) + u_i

    by (weighted, for R) least squares with HC3 standard errors.
    :math:`\beta_2 = 0` means the learner finds no heterogeneity; the one-sided test of
    :math:`\beta_2 > 0` rejects a constant bias. :math:`\beta_1` is the average bias.

    Parameters
    ----------
    router : fitted MetaRouter or fitted bias learner
        The learner must declare the capabilities ``"scores"`` and ``"refit_final"``.
    cv : int, default 5
        Folds for the out-of-fold bias predictions.
    rng : None, int or numpy.random.Generator
        Seed of those folds.

    Returns
    -------
    HeterogeneityTestResult

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=10, rng=0)
    >>> router = mrs.MetaRouter(random_state=0).fit(s.train)
    >>> res = mrs.bias_heterogeneity_test(router, rng=0)
    >>> res.n
    660
    """
    import statsmodels.api as sm  # noqa: PLC0415
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    learner = fitted_learner(router, "bias_heterogeneity_test")
    require_capability(learner, "scores", "bias_heterogeneity_test")
    require_capability(learner, "refit_final", "bias_heterogeneity_test")
    cv = check_positive_int(cv, "cv", minimum=2)
    gen = as_rng(rng)
    scores = learner.scores_
    X, t, phi, w = scores.X, scores.source, scores.pseudo_outcomes, scores.weights
    oof = np.empty(t.size)
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=int(gen.integers(2**31 - 1)))
    for train, test in folds.split(X, t):
        oof[test] = learner.refit_final(X[train], phi[train], w[train]).predict(X[test])
    design = sm.add_constant(oof - oof.mean(), has_constant="add")
    fit = sm.WLS(phi, design, weights=w).fit(cov_type="HC3")
    slope, se = float(fit.params[1]), float(fit.bse[1])
    stat = slope / se if se > 0 else float("nan")
    return HeterogeneityTestResult(
        statistic=stat,
        pvalue=float(stats.norm.sf(stat)) if np.isfinite(stat) else float("nan"),
        slope=slope,
        slope_std_error=se,
        mean_bias=float(fit.params[0]),
        mean_bias_std_error=float(fit.bse[0]),
        n=int(t.size),
    )
