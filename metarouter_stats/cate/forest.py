r"""A causal-forest bias learner: EconML's ``CausalForestDML`` (``cate="forest"``).

The final stage is a generalised random forest (Athey, Tibshirani and Wager, 2019) on
the R-learner's cross-fitted residuals, so Delta_hat(x) is not restricted to a linear
function of x, and EconML's bootstrap-of-little-bags gives pointwise intervals for
Delta(x) itself (asymptotically, for an honest forest). It declares the capabilities

* ``"intervals"``: :meth:`CausalForestLearner.effect_interval` (EconML's BLB intervals);
  :func:`metarouter_stats.bias_interval` uses them (``method="learner"``), since a forest
  has no cheap refittable final stage for the fast bootstrap;
* ``"scores"``: the R-learner scores of the training rows.

Nuisances are the package defaults (boosted outcome model, logistic propensity clipped
relative to the gold share), as for the DR and R learners.
"""

from __future__ import annotations

import numbers
from typing import Any

from sklearn.base import clone

from .._checks import check_positive_int
from .econml_learners import EconMLLearner
from .nuisance import check_propensity, default_outcome_model, propensity_model
from .protocol import register_learner

__all__ = ["CausalForestLearner"]


@register_learner("forest")
class CausalForestLearner(EconMLLearner):
    """Causal forest of the bias (EconML ``CausalForestDML``), with cross-fitted nuisances.

    Parameters
    ----------
    n_estimators : int, default 400
        Trees (a multiple of 4, EconML's sub-forest size for the BLB intervals).
    min_samples_leaf : int, default 10
    max_samples : float, default 0.45
        Share of rows per tree (half-sampling, below 0.5 as the BLB intervals need).
    model_outcome : regressor, optional
        m(x) = E[o | x]. Default :func:`~metarouter_stats.cate.default_outcome_model`.
    model_propensity : classifier, optional
        Used when ``propensity="estimate"``.
    propensity : "estimate", "share" or float, default "estimate"
    cv : int, default 5
        Cross-fitting folds of the nuisances.
    random_state : int or None

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=80, n_preference=400, n_test=5, d=6, rng=0)
    >>> router = mrs.MetaRouter(cate="forest", random_state=0).fit(s.train)
    >>> band = mrs.bias_interval(router, s.X_test)
    >>> band.method, band.low.shape
    ('learner (CausalForestLearner)', (5,))
    """

    def __init__(
        self,
        *,
        n_estimators: int = 400,
        min_samples_leaf: int = 10,
        max_samples: float = 0.45,
        model_outcome: Any = None,
        model_propensity: Any = None,
        propensity: Any = "estimate",
        cv: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_samples = max_samples
        self.model_outcome = model_outcome
        self.model_propensity = model_propensity
        self.propensity = propensity
        self.cv = cv
        self.random_state = random_state
        self.inference = "auto"  # the estimator is built with inference=True: EconML's BLB intervals

    @property
    def estimator(self) -> Any:
        """The unfitted ``CausalForestDML`` these parameters describe."""
        from econml.dml import CausalForestDML  # noqa: PLC0415 - heavy import, deferred

        n = check_positive_int(self.n_estimators, "n_estimators", minimum=4)
        if n % 4:
            raise ValueError(
                f"`n_estimators` must be a multiple of 4 (EconML's sub-forests of 4 trees give the intervals); got {n}."
            )
        check_positive_int(self.min_samples_leaf, "min_samples_leaf")
        if isinstance(self.max_samples, bool) or not isinstance(self.max_samples, numbers.Real) or not (
            0 < float(self.max_samples) <= 0.5
        ):
            raise ValueError(f"`max_samples` must be in (0, 0.5] (half-sampling, for the intervals); got {self.max_samples!r}.")
        check_positive_int(self.cv, "cv", minimum=2)
        check_propensity(self.propensity)
        outcome = (clone(self.model_outcome) if self.model_outcome is not None
                   else default_outcome_model(self.random_state))
        return CausalForestDML(
            model_y=outcome,
            model_t=propensity_model(self.propensity, self.model_propensity),
            discrete_treatment=True,
            cv=self.cv,
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_samples=self.max_samples,
            inference=True,
            n_jobs=1,
            random_state=self.random_state,
        )
