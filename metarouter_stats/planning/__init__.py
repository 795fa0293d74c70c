"""Gold labels as a budget: which queries to send to the experts, and how many to buy.

* :func:`select_for_gold` (:mod:`~metarouter_stats.planning.selection`): the next batch of
  queries for gold labelling, drawn with known inclusion probabilities that the DR-learner
  then uses exactly (:class:`~metarouter_stats.RoutingData`'s ``propensity``).
* :func:`plan_gold` (:mod:`~metarouter_stats.planning.budget`): the mean-bias interval's
  half-width and the bias t-test's power against the number of gold labels, and the gold
  size that reaches a target.
* :func:`plan_heterogeneity` (:mod:`~metarouter_stats.planning.heterogeneity_power`): the power
  of the heterogeneity (BLP) test against the number of gold labels, from a fitted pilot.
* :func:`compare_judges` (:mod:`~metarouter_stats.planning.judges`): which judge to pay for: each
  judge's mean and heterogeneous bias against gold and its worth in gold labels.
* :func:`judge_training_worth` (:mod:`~metarouter_stats.planning.training_worth`): what a judge's
  labels are worth in gold labels for training a router, read off a pilot without extrapolation.
* :func:`gold_learning_curve` (:mod:`~metarouter_stats.planning.curves`): routing quality (EG
  area) against the number of gold labels, from refits on subsets of a pilot, extrapolated.
"""

from __future__ import annotations

from .budget import GoldPlan, plan_gold
from .curves import GoldLearningCurve, gold_learning_curve
from .heterogeneity_power import HeterogeneityPlan, plan_heterogeneity
from .judges import JudgeComparison, compare_judges, gold_worth
from .training_worth import TrainingWorth, judge_training_worth
from .selection import STRATEGIES, GoldSelection, select_for_gold, systematic_pps

__all__ = [
    "compare_judges",
    "gold_learning_curve",
    "gold_worth",
    "GoldLearningCurve",
    "GoldPlan",
    "GoldSelection",
    "HeterogeneityPlan",
    "judge_training_worth",
    "JudgeComparison",
    "plan_gold",
    "plan_heterogeneity",
    "select_for_gold",
    "STRATEGIES",
    "systematic_pps",
    "TrainingWorth",
]
