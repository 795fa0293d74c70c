"""What a fitted bias model says, EconML-style: the average bias and a linear summary of Delta(x).

:meth:`MetaRouter.summary() <metarouter_stats.MetaRouter.summary>` returns a
:class:`BiasModelSummary`, the analogue of the ``summary()`` of EconML's ``LinearDRLearner``:

* the **average bias** from the learner's cross-fitted scores (the AIPW mean for the
  DR-learner; the overlap-weighted mean for the R-learner) with its sandwich standard error;
* the **best linear predictor** of the bias given x: a weighted least-squares regression of
  the same cross-fitted scores on ``[1, x]`` with HC3 standard errors (statsmodels), which
  is what a linear final stage estimates without a penalty. The Meta-router's own final
  stage is a *ridge* (shrunk, for stable routing); these coefficients are the unpenalised
  projection, reported for reading, with intervals that are valid for it.

Both are on the gold scale with the scale constant c treated as known, and conditional on
the cross-fitted nuisance models (first-order negligible by cross-fitting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_fraction
from .._results import ResultMixin, frozen_copy
from .protocol import CrossFitScores

__all__ = ["BiasModelSummary", "summarise_bias_model"]


@dataclass(frozen=True, eq=False, repr=False)
class BiasModelSummary(ResultMixin):
    """The average bias and the best linear predictor of Delta(x) from a learner's cross-fitted scores.

    Attributes
    ----------
    learner : str
        Class name of the bias learner.
    ate, ate_std_error : float
        Average bias over the training queries (gold scale) and its standard error.
    confidence_level : float
    scale : float
        The scale constant c used (treated as known).
    n_gold, n_preference : int
        Training rows behind the scores.
    coefficients : DataFrame
        One row per term (``intercept`` and each feature): estimate, std_error, z, p_value,
        ci_low, ci_high of the best linear predictor (gold scale; HC3). Handed out as a copy
        by :meth:`to_frame`.
    """

    learner: str
    ate: float
    ate_std_error: float
    confidence_level: float
    scale: float
    n_gold: int
    n_preference: int
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    _title = "Bias model: average bias and its best linear predictor"

    def confidence_interval(self, confidence_level: float | None = None) -> tuple[float, float]:
        """Normal interval for the average bias (gold scale)."""
        level = self.confidence_level if confidence_level is None else check_fraction(
            confidence_level, "confidence_level", closed=False)
        z = float(stats.norm.ppf(0.5 + level / 2))
        return self.ate - z * self.ate_std_error, self.ate + z * self.ate_std_error

    def _rows(self) -> list[tuple[str, str]]:
        low, high = self.confidence_interval()
        coef = self.coefficients
        slopes = coef.drop(index="intercept", errors="ignore")
        strongest = slopes.reindex(slopes["z"].abs().sort_values(ascending=False).index).head(5)
        rows = [
            ("bias learner", self.learner),
            ("target", "average bias over the training queries; best linear predictor of the bias given x "
                       "(gold scale, c known, conditional on the cross-fitted nuisances)"),
            ("average bias (gold scale)", f"{self.ate:.4f} (se {self.ate_std_error:.4f})"),
            (f"{self.confidence_level:.0%} CI", f"[{low:.4f}, {high:.4f}]"),
            ("scale c (treated as known)", f"{self.scale:.4g}"),
            ("rows: gold / preference", f"{self.n_gold} / {self.n_preference}"),
            ("linear predictor: terms", f"intercept + {len(slopes)} features"),
            ("slopes with p < 0.05", f"{int((slopes['p_value'] < 0.05).sum())} of {len(slopes)}"),
        ]
        rows += [(f"  {name}", f"{r.estimate:+.4f} (se {r.std_error:.4f}, p {r.p_value:.3g})")
                 for name, r in strongest.iterrows()]
        return rows

    def _notes(self) -> list[str]:
        return [
            "Average bias: the mean of the learner's cross-fitted scores over all training queries (AIPW for the "
            "DR-learner), the target when gold and preference queries differ; c treated as known (bias_ttest "
            "propagates its error). Linear predictor: weighted least squares of the same scores on [1, x] with HC3 "
            "(clustered by query on paired rows) "
            "SEs, i.e. the unpenalised best linear predictor of the bias (the router's own final stage is a ridge); "
            "largest |z| first. Both conditional on the cross-fitted nuisances. p-values are per coefficient, "
            "not adjusted for the number of features.",
        ]

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (gold scale), one row per term."""
        return self.coefficients.copy()


def summarise_bias_model(
    scores: CrossFitScores, *, ate: float, ate_std_error: float, scale: float, learner: str,
    feature_names: Any = None, confidence_level: float = 0.95,
) -> BiasModelSummary:
    """Build a :class:`BiasModelSummary` from a learner's scores (``ate`` on the gold scale).

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.cate.protocol import CrossFitScores
    >>> from metarouter_stats.cate.summary import summarise_bias_model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> sc = CrossFitScores(X=X, pseudo_outcomes=1 + 2 * X[:, 0] + rng.normal(size=400), weights=np.ones(400),
    ...                     source=np.r_[np.ones(100), np.zeros(300)].astype(int))
    >>> s = summarise_bias_model(sc, ate=1.0, ate_std_error=0.05, scale=1.0, learner="demo")
    >>> s.to_frame()["estimate"].round(1).tolist()   # truth: 1, 2, 0
    [1.0, 2.0, 0.1]
    """
    import statsmodels.api as sm  # noqa: PLC0415

    X, phi, w = scores.X, scores.pseudo_outcomes, scores.weights
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
    design = sm.add_constant(X, has_constant="add")
    if getattr(scores, "groups", None) is not None:  # paired rows: standard errors clustered by query
        fit = sm.WLS(phi / scale, design, weights=w).fit(cov_type="cluster",
                                                         cov_kwds={"groups": scores.units()[0]})
    else:
        fit = sm.WLS(phi / scale, design, weights=w).fit(cov_type="HC3")
    z = float(stats.norm.ppf(0.5 + confidence_level / 2))
    est, se = np.asarray(fit.params, dtype=float), np.asarray(fit.bse, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = est / se
    coef = pd.DataFrame(
        {"estimate": est, "std_error": se, "z": zs, "p_value": 2 * stats.norm.sf(np.abs(zs)),
         "ci_low": est - z * se, "ci_high": est + z * se},
        index=pd.Index(["intercept", *names], name="term"),
    )
    return BiasModelSummary(
        learner=learner, ate=float(ate), ate_std_error=float(ate_std_error), confidence_level=float(confidence_level),
        scale=float(scale), n_gold=int(np.sum(scores.source == 1)), n_preference=int(np.sum(scores.source == 0)),
        coefficients=frozen_copy(coef),
    )
