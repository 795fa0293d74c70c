"""Monte Carlo rounds: fit every router on one training set and evaluate it.

A *round* is one training/test draw on which every router is fitted and its
efficiency-gain curve computed. :func:`default_routers` lists the seven routers
of the paper's comparison; :func:`run_round` fits them and returns a tidy frame.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._checks import as_1d_float, as_2d_float
from .evaluation import efficiency_gain
from .routers import (
    GoldOnlyRouter,
    MeanShiftRouter,
    MetaRouter,
    OracleRouter,
    PooledRouter,
    PreferenceOnlyRouter,
    RandomRouter,
)
from .simulation import SimulatedStudy

__all__ = ["ROUTER_NAMES", "default_routers", "run_round"]

ROUTER_NAMES = ("oracle", "meta-dr", "meta-r", "gold-only", "preference-only", "pooled", "mean-shift", "random")


def default_routers(random_state: int | None = None) -> dict[str, Any]:
    """The routers of the paper's comparison, keyed by name, with package defaults.

    Parameters
    ----------
    random_state : int or None
        Seed given to every router.

    Returns
    -------
    dict of str to router

    Examples
    --------
    >>> from metarouter_stats.experiment import default_routers
    >>> list(default_routers(0))
    ['oracle', 'meta-dr', 'meta-r', 'gold-only', 'preference-only', 'pooled', 'mean-shift', 'random']
    """
    rs = random_state
    return {
        "oracle": OracleRouter(random_state=rs),
        "meta-dr": MetaRouter(cate="dr", random_state=rs),
        "meta-r": MetaRouter(cate="r", random_state=rs),
        "gold-only": GoldOnlyRouter(random_state=rs),
        "preference-only": PreferenceOnlyRouter(random_state=rs),
        "pooled": PooledRouter(random_state=rs),
        "mean-shift": MeanShiftRouter(random_state=rs),
        "random": RandomRouter(random_state=rs),
    }


def run_round(
    study: SimulatedStudy,
    routers: dict[str, Any] | None = None,
    *,
    rates: Any = None,
    truth: str = "gold",
    random_state: int | None = None,
) -> pd.DataFrame:
    """Fit every router on ``study.train`` and evaluate its efficiency gain.

    Parameters
    ----------
    study : SimulatedStudy
        Training data, test embeddings and gold test gains (``gold_train`` is
        used by the oracle router only).
    routers : dict of str to router, optional
        Default :func:`default_routers` (``random_state``). Each is cloned before
        fitting; the caller's objects are not modified.
    rates : array-like, optional
        Usage rates (default 0.2, ..., 0.8).
    truth : {"gold", "psi"}, default "gold"
        Evaluate against the noisy test gold labels or the true psi (simulation only).
    random_state : int or None
        Seed for the default routers.

    Returns
    -------
    pandas.DataFrame
        One row per router and rate: router, rate, gain, per_query, relative,
        reference, auc, auc_relative, fit_seconds.
    """
    if truth not in ("gold", "psi"):
        raise ValueError(f"`truth` must be 'gold' or 'psi'; got {truth!r}.")
    routers = default_routers(random_state) if routers is None else routers
    X_test = as_2d_float(study.X_test, "study.X_test")
    target = as_1d_float(study.gold_test if truth == "gold" else study.psi_test, "gold_test")
    frames = []
    for name, proto in routers.items():
        router = clone(proto)
        t0 = time.perf_counter()
        if isinstance(router, OracleRouter):
            router.fit(study.train.X, np.asarray(study.gold_train))
        else:
            router.fit(study.train)
        seconds = time.perf_counter() - t0
        curve = efficiency_gain(target, router.predict_gain(X_test), rates=rates)
        frame = curve.to_frame().drop(columns="oracle_gain")
        frame.insert(0, "router", name)
        frame["auc"] = curve.auc
        frame["auc_relative"] = curve.auc_relative
        frame["fit_seconds"] = seconds
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
