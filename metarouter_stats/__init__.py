"""metarouter_stats: train LLM routers from scarce gold labels and abundant, biased preference labels.

The bias of preference labels against gold labels is a conditional average
treatment effect (treatment = which mechanism evaluated the query); it is estimated
with EconML's DR- and R-learners, used to correct the preference labels, and the
gold quality gain is regressed on gold and corrected labels (Zhang, Xie, Yang and
Wu, "Meta-Router", ICLR 2026).

Examples
--------
>>> import metarouter_stats as mrs
>>> study = mrs.simulate(n_gold=60, n_preference=600, n_test=200, rng=0)
>>> router = mrs.MetaRouter(cate="dr", random_state=0).fit(study.train)
>>> curve = mrs.efficiency_gain(study.gold_test, router.predict_gain(study.X_test))
>>> curve.rates.tolist()
[0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
"""

from . import datasets, decision, evaluation, inference, planning
from ._threads import get_thread_budget, thread_budget
from ._version import __version__
from .data import RoutingData
from .datasets import embed_texts, from_judgments
from .decision import CalibrationResult, MultiModelRouter, TokenCost, calibrate_weight, cost_matrix
from .cate.summary import BiasModelSummary
from .cate import BiasRScorer
from .evaluation import (
    CostQualityEvaluation,
    CostQualityFrontier,
    EfficiencyGainBand,
    EfficiencyGainCurve,
    RouterComparison,
    RouterEvaluation,
    ScalarEstimate,
    cost_quality_frontier,
    cost_quality_interval,
    cross_fit_scores,
    efficiency_gain,
    efficiency_gain_interval,
    evaluate_cost_quality,
    evaluate_routers,
    gold_scorer,
    pseudo_gold,
)
from .inference import (
    Band,
    BiasTestResult,
    GroupBiasResult,
    HeterogeneityTestResult,
    ScaleSensitivity,
    bias_by_group,
    bias_heterogeneity_test,
    bias_interval,
    bias_ttest,
    scale_sensitivity,
)
from .planning import (
    JudgeComparison,
    compare_judges,
    GoldLearningCurve,
    GoldPlan,
    GoldSelection,
    HeterogeneityPlan,
    gold_learning_curve,
    judge_training_worth,
    plan_gold,
    TrainingWorth,
    plan_heterogeneity,
    select_for_gold,
)
from .positivity import PositivityReport, positivity_report
from .routers import (
    GoldOnlyRouter,
    MeanShiftRouter,
    MetaRouter,
    OracleRouter,
    PooledRouter,
    PreferenceOnlyRouter,
    RandomRouter,
    TextRouter,
)
from .scaling import estimate_scale
from .simulation import JudgeSpec, SimulatedJudges, SimulatedStudy, simulate, simulate_judges
from .multi_judge import MultiJudgeRouter
from .report import Report, build_report


__all__ = [
    "Band",
    "bias_by_group",
    "bias_heterogeneity_test",
    "bias_interval",
    "bias_ttest",
    "BiasModelSummary",
    "BiasRScorer",
    "BiasTestResult",
    "build_report",
    "calibrate_weight",
    "CalibrationResult",
    "compare_judges",
    "cost_matrix",
    "cost_quality_frontier",
    "cost_quality_interval",
    "CostQualityEvaluation",
    "CostQualityFrontier",
    "cross_fit_scores",
    "datasets",
    "decision",
    "efficiency_gain",
    "efficiency_gain_interval",
    "EfficiencyGainBand",
    "EfficiencyGainCurve",
    "embed_texts",
    "estimate_scale",
    "evaluate_cost_quality",
    "evaluate_routers",
    "evaluation",
    "from_judgments",
    "get_thread_budget",
    "gold_learning_curve",
    "gold_scorer",
    "GoldLearningCurve",
    "GoldOnlyRouter",
    "GoldPlan",
    "GoldSelection",
    "GroupBiasResult",
    "HeterogeneityPlan",
    "HeterogeneityTestResult",
    "inference",
    "judge_training_worth",
    "JudgeComparison",
    "JudgeSpec",
    "MeanShiftRouter",
    "MetaRouter",
    "MultiJudgeRouter",
    "MultiModelRouter",
    "OracleRouter",
    "plan_gold",
    "plan_heterogeneity",
    "planning",
    "PooledRouter",
    "positivity_report",
    "PositivityReport",
    "PreferenceOnlyRouter",
    "pseudo_gold",
    "RandomRouter",
    "Report",
    "RouterComparison",
    "RouterEvaluation",
    "RoutingData",
    "ScalarEstimate",
    "scale_sensitivity",
    "ScaleSensitivity",
    "select_for_gold",
    "simulate",
    "simulate_judges",
    "SimulatedJudges",
    "SimulatedStudy",
    "TextRouter",
    "thread_budget",
    "TokenCost",
    "TrainingWorth",
    "__version__",
]
