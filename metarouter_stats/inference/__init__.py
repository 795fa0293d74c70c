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
* :func:`scale_sensitivity` -- the mean-bias conclusion over a range of scale constants c.

What a router is worth (EG curves, prediction-powered evaluation, cost-quality) lives in
:mod:`metarouter_stats.evaluation`; scoring bias learners (:class:`~metarouter_stats.cate.BiasRScorer`)
in :mod:`metarouter_stats.cate`, next to the learners it scores.

Sign convention everywhere: the bias is **gold minus preference**,
:math:`\Delta = \psi - \eta` (the package's sign convention), stated on the gold scale unless ``units`` says
otherwise. A negative bias means the preference mechanism (e.g. an LLM judge) overstates
the primary model's gain. Every function asks for the capability it needs of the learner
(:mod:`metarouter_stats.cate.protocol`) and names it when it is missing.
"""

import warnings
from typing import Any

from .._resampling import Band
from .bias_bands import bias_interval, spline_basis
from .groups import GroupBiasResult, bias_by_group
from .heterogeneity import HeterogeneityTestResult, bias_heterogeneity_test
from .sensitivity import ScaleSensitivity, scale_sensitivity
from .ttest import BiasTestResult, bias_ttest

__all__ = [
    "Band",
    "bias_by_group",
    "bias_heterogeneity_test",
    "bias_interval",
    "bias_ttest",
    "BiasTestResult",
    "GroupBiasResult",
    "HeterogeneityTestResult",
    "scale_sensitivity",
    "ScaleSensitivity",
    "spline_basis",
]

# names that lived here before router evaluation moved to `evaluation` and learner scoring to `cate`,
# and the band engines that are not public: importable for one more release, with a FutureWarning
_MOVED = {
    **{name: "metarouter_stats.evaluation" for name in (
        "CostQualityEvaluation", "EfficiencyGainBand", "RouterComparison", "RouterEvaluation", "ScalarEstimate",
        "cost_quality_interval", "cross_fit_scores", "efficiency_gain_interval", "evaluate_cost_quality",
        "evaluate_routers", "pseudo_gold")},
    "BiasRScorer": "metarouter_stats.cate",
    "make_band": "metarouter_stats._resampling",
    "fast_bootstrap": "metarouter_stats.inference.band_engines",
    "refit_bootstrap": "metarouter_stats.inference.band_engines",
}
_ENGINES = {"make_band", "fast_bootstrap", "refit_bootstrap"}  # not public: no new place to import them from


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    where = _MOVED[name]
    warnings.warn(
        f"`metarouter_stats.inference.{name}` is deprecated and will be removed in the next release; "
        + ("it is an internal engine, not part of the public API." if name in _ENGINES else f"import it from `{where}`."),
        FutureWarning, stacklevel=2)
    return getattr(importlib.import_module(where), name)
