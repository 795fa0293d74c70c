"""The router registry of studies: names, learner presets, and the routers they build.

Router names are the baselines (``oracle``, ``gold-only``, ``preference-only``,
``pooled``, ``mean-shift``, ``random``) and ``meta-<learner>`` for every bias learner
registered in :mod:`metarouter_stats.cate` (``meta-dr``, ``meta-r``, and e.g.
``meta-forest`` when that learner is present): a new learner is usable in a study config
without touching this module.
"""

from __future__ import annotations

from typing import Any

from ..cate import DRBiasLearner, RBiasLearner, available_learners
from ..scaling import SCALE_DEFAULT
from ..routers import (
    GoldOnlyRouter,
    MeanShiftRouter,
    MetaRouter,
    OracleRouter,
    PooledRouter,
    PreferenceOnlyRouter,
    RandomRouter,
)

__all__ = [
    "BASELINES",
    "LEARNER_PRESETS",
    "ROUTER_NAMES",
    "check_router_names",
    "default_routers",
    "known_router_names",
    "make_router",
]

ROUTER_NAMES = ("oracle", "meta-dr", "meta-r", "gold-only", "preference-only", "pooled", "mean-shift", "random")
BASELINES = ("oracle", "gold-only", "preference-only", "pooled", "mean-shift", "random")
LEARNER_PRESETS = ("default", "rf")


def known_router_names() -> tuple[str, ...]:
    """Every router name a study accepts (baselines and ``meta-<registered learner>``)."""
    return (*BASELINES, *(f"meta-{name}" for name in available_learners()))


def check_router_names(names: Any) -> tuple[str, ...]:
    """Validate a sequence of router names; returns them as a tuple."""
    if isinstance(names, str):
        raise TypeError(f"`routers` must be a list of router names, not one string; got {names!r}.")
    routers = tuple(names)
    known = known_router_names()
    unknown = [r for r in routers if r not in known]
    if unknown or not routers:
        raise ValueError(f"`routers` must be names among {known}; got unknown {unknown!r}.")
    return routers


def _rf_kwargs(random_state: int | None) -> dict[str, Any]:
    return {"n_estimators": 100, "min_samples_leaf": 5, "random_state": random_state}


def make_router(name: str, random_state: int | None = None, *, learners: str = "default", scale: Any = SCALE_DEFAULT) -> Any:
    """The router called ``name`` with package defaults (or random forests, ``learners="rf"``).

    Parameters
    ----------
    name : str
        A name of :func:`known_router_names`.
    random_state : int or None
        Seed given to the router.
    learners : {"default", "rf"}, default "default"
        ``"default"``: the package's boosted nuisances and ridge final stage; ``"rf"``:
        random forests everywhere (the reference code's choice; DR and R learners only).
    scale : str, float or None, default "variance"
        Scale normalisation of every router that uses preference labels (None = the "no
        scale normalisation" ablation).

    Returns
    -------
    router (unfitted)
    """
    check_router_names([name])
    if learners not in LEARNER_PRESETS:
        raise ValueError(f"`learners` must be one of {LEARNER_PRESETS}; got {learners!r}.")
    rs = random_state
    base: dict[str, Any] = {}
    cate: Any = name[5:] if name.startswith("meta-") else None
    if learners == "rf":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: PLC0415

        base = {"regressor": RandomForestRegressor(**_rf_kwargs(rs))}
        if cate in ("dr", "r"):
            cls = DRBiasLearner if cate == "dr" else RBiasLearner
            cate = cls(
                model_outcome=RandomForestRegressor(**_rf_kwargs(rs)),
                model_propensity=RandomForestClassifier(**_rf_kwargs(rs)),
                model_final=RandomForestRegressor(**_rf_kwargs(rs)),
                random_state=rs,
            )
        elif cate is not None:
            raise ValueError(f"`learners='rf'` sets the DR and R learners' models; {name!r} has its own.")
    if cate is not None:
        return MetaRouter(cate=cate, scale=scale, random_state=rs, **base)
    if name == "oracle":
        return OracleRouter(random_state=rs, **base)
    if name == "gold-only":
        return GoldOnlyRouter(random_state=rs, **base)
    if name == "random":
        return RandomRouter(random_state=rs)
    cls_scaled = {"preference-only": PreferenceOnlyRouter, "pooled": PooledRouter, "mean-shift": MeanShiftRouter}[name]
    return cls_scaled(scale=scale, random_state=rs, **base)


def default_routers(
    random_state: int | None = None, *, learners: str = "default", scale: Any = SCALE_DEFAULT,
    names: Any = ROUTER_NAMES,
) -> dict[str, Any]:
    """The routers of the paper's comparison (or ``names``), keyed by name, with package defaults.

    Parameters
    ----------
    random_state : int or None
        Seed given to every router.
    learners : {"default", "rf"}, default "default"
    scale : str, float or None, default "variance"
    names : sequence of str, default ``ROUTER_NAMES``

    Returns
    -------
    dict of str to router

    Examples
    --------
    >>> from metarouter_stats.experiment import default_routers
    >>> list(default_routers(0))
    ['oracle', 'meta-dr', 'meta-r', 'gold-only', 'preference-only', 'pooled', 'mean-shift', 'random']
    """
    return {name: make_router(name, random_state, learners=learners, scale=scale) for name in check_router_names(names)}
