r"""Decisions: token costs, several models, budgets and calibration to a target.

The paper's rule is binary with unit costs: send q to the primary model when
psi_hat(q) > w. With K models (one *reference* model, usually the cheapest, whose
gain is 0 by definition) priced per token, the utility of model k for query q is

.. math:: U_k(q) = \hat\psi_k(q) - w\, C_k(q), \qquad \hat\psi_{\mathrm{ref}} = 0,

and the router chooses :math:`\arg\max_k U_k(q)` (paper, Sec. 2, decision rule
:math:`D(q \mid w, m)` generalised to K models). Ties are broken towards the
cheaper model, then towards the earlier column, so that raising w never raises
the cost of any query's choice.

Costs: :class:`TokenCost` gives :math:`C_k(q) = a_k n_{in}(q) + b_k n_{out,k}(q) + f_k`
with prices per million tokens and an optional flat per-call fee f_k; the binary
unit cost (1 for the primary model, 0 for the alternative) is ``TokenCost.flat(1.0)``
against ``TokenCost.flat(0.0)``.

The package holds one module per idea: :mod:`.costs` (token costs), :mod:`.rule` (the decision
rule and the weight for a budget), :mod:`.multi_model` (:class:`MultiModelRouter`) and
:mod:`.calibration` (:func:`calibrate_weight`). The binary router's own calibration to a usage
rate is :meth:`MetaRouter.calibrate <metarouter_stats.MetaRouter.calibrate>` (the router stage
sits below this one).
"""

from .calibration import CalibrationResult, calibrate_weight
from .costs import TokenCost, cost_matrix
from .multi_model import MultiModelRouter
from .rule import choose_models, smallest_weight, smallest_weights, weight_for_budget

__all__ = [
    "calibrate_weight",
    "CalibrationResult",
    "choose_models",
    "cost_matrix",
    "MultiModelRouter",
    "smallest_weight",
    "smallest_weights",
    "TokenCost",
    "weight_for_budget",
]
