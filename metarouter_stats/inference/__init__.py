r"""Inference: is the preference label biased, is the bias heterogeneous, how sure are we?

Functions of data or of a fitted router / bias learner, each result stating its target:

* :func:`bias_ttest` -- a t-test of the average bias of preference labels against
  gold labels (paired when both label the same queries, Welch otherwise);
* :func:`bias_heterogeneity_test` -- a best-linear-predictor calibration test that
  the bias Delta(x) is not constant, on a learner's cross-fitted scores;
* :func:`bias_by_group` -- the average bias of groups of queries sorted by the
  predicted bias (CDDF's GATES), valid without a model of Delta(x);
* :func:`bias_interval` -- confidence bands (pointwise and uniform) for Delta_hat(x):
  fast final-stage bootstrap, full refit bootstrap, or the learner's own intervals; for
  the best linear predictor of the bias, or (``final_stage="spline"``) for Delta(x) itself
  by an additive spline sieve (:func:`spline_basis`);
* :func:`efficiency_gain_interval` -- bootstrap bands for an efficiency-gain curve on a
  fully gold-labelled test set;
* :func:`evaluate_routers` -- prediction-powered EG(rho) of fixed routers on a partly
  gold-labelled evaluation set (pseudo-gold from :func:`pseudo_gold`), with pointwise and
  uniform intervals, paired comparisons, areas, APGR and CPT;
* :func:`evaluate_cost_quality` -- the same for multi-model routers under token costs: AIQ and
  the quality at a budget from partly gold-labelled queries;
* :func:`scale_sensitivity` -- the mean-bias conclusion over a range of scale constants c;
* :class:`BiasRScorer` -- EconML's R-loss score of bias learners on held-out data, with
  standard errors, to choose a learner.

Sign convention everywhere: the bias is **gold minus preference**,
:math:`\Delta = \psi - \eta` (the package's sign convention), stated on the gold scale unless ``units`` says
otherwise. A negative bias means the preference mechanism (e.g. an LLM judge) overstates
the primary model's gain. Every function asks for the capability it needs of the learner
(:mod:`metarouter_stats.cate.protocol`) and names it when it is missing.
"""

from .bands import Band, make_band
from .cost_value import evaluate_cost_quality
from .bias_bands import bias_interval, fast_bootstrap, refit_bootstrap, spline_basis
from .eg_bands import EfficiencyGainBand, efficiency_gain_interval
from .groups import GroupBiasResult, bias_by_group
from .router_value import (
    RouterComparison,
    RouterEvaluation,
    ScalarEstimate,
    cost_quality_interval,
    cross_fit_scores,
    evaluate_routers,
    pseudo_gold,
)
from .model_selection import BiasRScorer
from .heterogeneity import HeterogeneityTestResult, bias_heterogeneity_test
from .sensitivity import ScaleSensitivity, scale_sensitivity
from .ttest import BiasTestResult, bias_ttest

__all__ = [
    "Band",
    "BiasRScorer",
    "BiasTestResult",
    "EfficiencyGainBand",
    "GroupBiasResult",
    "HeterogeneityTestResult",
    "RouterComparison",
    "RouterEvaluation",
    "ScalarEstimate",
    "ScaleSensitivity",
    "bias_by_group",
    "bias_heterogeneity_test",
    "bias_interval",
    "bias_ttest",
    "cost_quality_interval",
    "cross_fit_scores",
    "efficiency_gain_interval",
    "evaluate_cost_quality",
    "evaluate_routers",
    "fast_bootstrap",
    "make_band",
    "pseudo_gold",
    "refit_bootstrap",
    "scale_sensitivity",
    "spline_basis",
]
