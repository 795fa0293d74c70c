r"""Evaluation: what is a router worth, and how sure are we?

* on a **fully gold-labelled test set**: :func:`efficiency_gain` (EG curves of fitted
  routers against the random and oracle routers), :func:`efficiency_gain_interval` (a
  bootstrap band for one router's curve), :func:`cost_quality_frontier` and
  :func:`cost_quality_interval` (several models under token costs: the frontier and AIQ);
* from **partly gold-labelled queries** (prediction-powered, with a pseudo-gold prediction
  such as corrected judge labels, :func:`pseudo_gold`): :func:`evaluate_routers` (EG(rho) of
  fixed routers with pointwise and uniform intervals, paired comparisons, areas, APGR, CPT)
  and :func:`evaluate_cost_quality` (AIQ and the quality at a budget);
* on **one data set**: :func:`cross_fit_scores`, out-of-fold scores of every router for
  :func:`evaluate_routers`.

Every interval here covers the value of the *fixed, fitted* routers on the population the
evaluation queries come from, conditional on the routers; ``docs/benchmarks.md`` reports how
well each keeps its level.
"""

from .cost_quality import CostQualityEvaluation, cost_quality_interval, evaluate_cost_quality
from .crossfit import cross_fit_scores, pseudo_gold
from .curves import (
    CostQualityFrontier,
    EfficiencyGainCurve,
    cost_quality_frontier,
    efficiency_gain,
    gold_scorer,
)
from .eg_bands import EfficiencyGainBand, efficiency_gain_interval
from .ppi import evaluate_routers
from .results import RouterComparison, RouterEvaluation, ScalarEstimate

__all__ = [
    "cost_quality_frontier",
    "cost_quality_interval",
    "CostQualityEvaluation",
    "CostQualityFrontier",
    "cross_fit_scores",
    "efficiency_gain",
    "efficiency_gain_interval",
    "EfficiencyGainBand",
    "EfficiencyGainCurve",
    "evaluate_cost_quality",
    "evaluate_routers",
    "gold_scorer",
    "pseudo_gold",
    "RouterComparison",
    "RouterEvaluation",
    "ScalarEstimate",
]
