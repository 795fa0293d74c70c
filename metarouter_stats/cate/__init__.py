r"""The bias Delta(x) as a CATE: pluggable learners, EconML inside.

This package is the only place that imports EconML. A bias learner follows the small
protocol of :mod:`~metarouter_stats.cate.protocol` (``fit(X, y, t)``, ``effect(X)``, and
declared optional capabilities); the shipped learners are

* ``"dr"``: :class:`DRBiasLearner` (EconML ``DRLearner``), the default;
* ``"r"``: :class:`RBiasLearner` (EconML ``NonParamDML``);
* any EconML CATE estimator through :class:`EconMLLearner`;
* and every learner that a module of this package registers with
  :func:`register_learner` (modules are discovered on import, so a new learner is one
  new file), e.g. ``"forest"`` (:mod:`metarouter_stats.cate.forest`, when present).

Examples
--------
>>> from metarouter_stats.cate import available_learners
>>> available_learners()[:2]
('dr', 'r')
"""

from __future__ import annotations

import importlib
import pkgutil

from .econml_learners import DRBiasLearner, EconMLLearner, RBiasLearner
from .nuisance import (
    ClippedPropensity,
    ConstantPropensity,
    DropColumn,
    KnownPropensity,
    QuantileBinned,
    check_known_propensity,
    check_propensity,
    default_final_model,
    default_outcome_model,
    default_propensity_model,
    fit_weighted,
    propensity_model,
)
from .scoring import BiasRScorer
from .protocol import (
    CAPABILITIES,
    BiasLearner,
    CrossFitScores,
    available_learners,
    has_capability,
    make_learner,
    register_learner,
    require_capability,
)

__all__ = [
    "CAPABILITIES",
    "BiasLearner",
    "BiasRScorer",
    "ClippedPropensity",
    "ConstantPropensity",
    "CrossFitScores",
    "DRBiasLearner",
    "DropColumn",
    "EconMLLearner",
    "KnownPropensity",
    "QuantileBinned",
    "RBiasLearner",
    "available_learners",
    "check_known_propensity",
    "check_propensity",
    "default_final_model",
    "default_outcome_model",
    "default_propensity_model",
    "fit_weighted",
    "has_capability",
    "make_learner",
    "propensity_model",
    "register_learner",
    "require_capability",
]

# Learner discovery: every public module of this package is imported once, so that the
# learners it registers are available by name. (A plain loop rather than entry points:
# the learners live inside the package and need no installation metadata.)
for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
del _module
