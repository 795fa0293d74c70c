"""Gold labels as a budget: which queries to send to the experts, and how many to buy.

* :func:`select_for_gold` (:mod:`~metarouter_stats.planning.selection`): the next batch of
  queries for gold labelling, drawn with known inclusion probabilities that the DR-learner
  then uses exactly (:class:`~metarouter_stats.RoutingData`'s ``propensity``).
"""

from __future__ import annotations

from .selection import STRATEGIES, GoldSelection, select_for_gold, systematic_pps

__all__ = ["STRATEGIES", "GoldSelection", "select_for_gold", "systematic_pps"]
