"""Monte Carlo studies: seeded rounds of simulate, fit every router, evaluate.

A *round* is one training/test draw on which every router is fitted and its
efficiency-gain curve computed. :func:`run_round` fits routers on one draw;
:func:`run_task` builds one (round, gold size) task from a :class:`StudyConfig`;
:func:`run_study` runs a config's tasks in parallel (joblib) or on a Dask cluster,
checkpointing every finished task (:class:`~metarouter_stats.experiment.store.StudyStore`)
so that a killed study resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._checks import as_1d_float, as_2d_float, as_rng, as_seed, check_n_jobs
from .._threads import budgeted
from ..data import RoutingData
from ..evaluation import efficiency_gain, evaluate_routers, pseudo_gold
from ..evaluation.curves import DEFAULT_RATES
from ..routers import OracleRouter
from ..simulation import SimulatedStudy, simulate
from .config import StudyConfig
from .registry import default_routers
from .result import StudyResult
from .store import StudyStore, data_digest

__all__ = ["run_round", "run_study", "run_task", "split_data"]

logger = logging.getLogger("metarouter_stats")


@budgeted
def run_round(
    study: SimulatedStudy,
    routers: dict[str, Any] | None = None,
    *,
    rates: Any = None,
    truth: str = "gold",
    truncate: bool = False,
    rng: Any = None,
    eval_gold: int | None = None,
) -> pd.DataFrame:
    """Fit every router on ``study.train`` and evaluate its efficiency gain.

    Parameters
    ----------
    study : SimulatedStudy
        Training data, test embeddings and gold test gains (``gold_train`` is
        used by the oracle router only).
    routers : dict of str to router, optional
        Default :func:`default_routers` (seeded by ``rng``). Each is cloned before
        fitting; the caller's objects are not modified.
    rates : array-like, optional
        Usage rates (default 0.2, ..., 0.8).
    truth : {"gold", "psi"}, default "gold"
        Evaluate against the noisy test gold labels or the true psi (simulation only).
    truncate : bool, default False
        Also evaluate with the reference code's truncation to psi_hat > 0
        (rows with ``evaluation == "paper"``; ours are ``"exact"``).
    rng : None, int or numpy.random.Generator
        Seed for the default routers (and of the partly labelled test set below).
    eval_gold : int, optional
        Simulation only: also evaluate as a user with few gold labels would
        (rows with ``evaluation == "ppi"``): every test query gets a simulated preference label,
        ``eval_gold`` random test queries keep their gold label, and
        :func:`~metarouter_stats.evaluate_routers` estimates each router's EG from the
        first Meta-router's corrected labels and prediction, rectified by those gold rows
        (``per_query`` is the estimate, ``std_error`` its SE).

    Returns
    -------
    pandas.DataFrame
        One row per router and rate: router, rate, gain, per_query, relative,
        reference, auc, auc_relative, fit_seconds (and std_error for ``"ppi"`` rows).
    """
    if truth not in ("gold", "psi"):
        raise ValueError(f"`truth` must be 'gold' or 'psi'; got {truth!r}.")
    routers = default_routers(as_seed(rng)) if routers is None else routers
    X_test = as_2d_float(study.X_test, "study.X_test")
    target = as_1d_float(study.gold_test if truth == "gold" else study.psi_test, "gold_test")
    frames = []
    fitted: dict[str, Any] = {}
    for name, proto in routers.items():
        router = clone(proto)
        t0 = time.perf_counter()
        if isinstance(router, OracleRouter):
            router.fit(study.train.X, np.asarray(study.gold_train))
        else:
            router.fit(study.train)
        seconds = time.perf_counter() - t0
        fitted[name] = (router, seconds)
        scores = router.predict_gain(X_test)
        for evaluation in ("exact", "paper") if truncate else ("exact",):
            curve = efficiency_gain(target, scores, rates=rates, truncate=evaluation == "paper")
            frame = curve.to_frame().drop(columns="oracle_gain")
            frame.insert(0, "router", name)
            frame.insert(1, "evaluation", evaluation)
            frame["auc"] = curve.auc
            frame["auc_relative"] = curve.auc_relative
            frame["fit_seconds"] = seconds
            frames.append(frame)
    if eval_gold is not None:
        frames.append(_ppi_rows(study, fitted, X_test, rates, eval_gold, rng))
    return pd.concat(frames, ignore_index=True)


def _ppi_rows(study: SimulatedStudy, fitted: dict[str, Any], X_test: np.ndarray, rates: Any, eval_gold: int,
              rng: Any) -> pd.DataFrame:
    """EG of every fitted router from a test set with ``eval_gold`` gold labels and preference labels on all."""
    if not hasattr(study, "eta") or not np.isfinite(study.scale):
        raise ValueError("`eval_gold` needs a simulated study (preference labels of the test queries are simulated).")
    n = X_test.shape[0]
    if not 2 <= eval_gold <= n:
        raise ValueError(f"`eval_gold` must be between 2 and the {n} test queries; got {eval_gold}.")
    gen = np.random.default_rng(np.random.SeedSequence(as_seed(rng), spawn_key=(7,)))
    y = study.draw_preference(X_test, gen)
    keep = np.zeros(n, dtype=bool)
    keep[gen.choice(n, size=eval_gold, replace=False)] = True
    gold = np.where(keep, np.asarray(study.gold_test, dtype=float), np.nan)
    metas = [k for k, (r, _) in fitted.items() if hasattr(r, "predict_bias")]
    if not metas:
        raise ValueError("`eval_gold` needs a Meta-router among the routers (its corrections are the pseudo-gold).")
    meta = fitted[metas[0]][0]
    f = np.column_stack([pseudo_gold(meta, X_test, y), pseudo_gold(meta, X_test)])
    grid = np.asarray(rates if rates is not None else DEFAULT_RATES, dtype=float)
    ev = evaluate_routers({k: r.predict_gain(X_test) for k, (r, _) in fitted.items()}, gold, pseudo_gold=f,
                          rates=grid, n_boot=200, rng=gen)
    rows = []
    for i, name in enumerate(ev.names):
        auc = float(np.trapezoid(ev.estimate[i], grid)) * n if grid.size > 1 else 0.0
        for k, rate in enumerate(grid):
            rows.append({"router": name, "evaluation": "ppi", "rate": rate, "gain": ev.estimate[i, k] * n,
                         "per_query": ev.estimate[i, k], "std_error": ev.std_error[i, k], "relative": np.nan,
                         "reference": np.nan, "auc": auc, "auc_relative": np.nan, "fit_seconds": fitted[name][1]})
    return pd.DataFrame(rows)


def split_data(data: RoutingData, *, n_gold: int, n_preference: int, n_test: int, rng: Any = None) -> SimulatedStudy:
    """Draw a train/test split from data with a gold label for every query.

    ``data`` has one row per (query, mechanism): every query id has a gold row, and
    queries may also have a preference row. A split draws ``n_test`` test queries with
    :meth:`RoutingData.test_mask <metarouter_stats.RoutingData.test_mask>` (their gold
    labels are the evaluation truth), then assigns the mechanisms of the training queries:
    ``n_gold`` of them at random keep their gold row, and up to ``n_preference`` of the
    others keep their preference row, so that each training query is evaluated by one
    mechanism, as in the paper's design. The oracle router is given the gold labels of
    every training query.

    Parameters
    ----------
    data : RoutingData
        With ``query_ids``; every query with a preference row has a gold row.
    n_gold, n_preference, n_test : int
    rng : None, int or numpy.random.Generator

    Returns
    -------
    SimulatedStudy
        ``psi_test`` equals ``gold_test`` (no truth beyond the labels); ``scale`` is NaN.
    """
    if not isinstance(data, RoutingData):
        raise TypeError(f"`data` must be a RoutingData; got {type(data).__name__}.")
    if data.query_ids is None:
        raise ValueError("`data` must have `query_ids` so that gold and preference rows of a query can be matched.")
    gen = as_rng(rng)
    ids = np.asarray(data.query_ids).astype(str)
    gold_rows = np.flatnonzero(data.source == 1)
    if np.unique(ids[gold_rows]).size != gold_rows.size:
        raise ValueError("`data` must have at most one gold row per query id.")
    gold_of = dict(zip(ids[gold_rows].tolist(), gold_rows.tolist(), strict=True))
    pref_rows = np.flatnonzero(data.source == 0)
    missing = [q for q in ids[pref_rows].tolist() if q not in gold_of]
    if missing:
        raise ValueError(
            f"`data` must have a gold label for every query; {len(missing)} queries have only a preference "
            f"row (e.g. {missing[0]!r})."
        )
    pref_of = dict(zip(ids[pref_rows].tolist(), pref_rows.tolist(), strict=False))
    if n_test + n_gold >= len(gold_of):
        raise ValueError(
            f"`n_test` + `n_gold` must be below the {len(gold_of)} queries with gold labels; got {n_test} + {n_gold}."
        )
    in_test = data.test_mask(n_test, candidates="gold", rng=gen)
    test_q = sorted(set(ids[in_test].tolist()))
    train_q = np.array(sorted(set(ids[~in_test].tolist())), dtype=object)
    order = gen.permutation(train_q.size)
    gold_q = train_q[order[:n_gold]].tolist()
    rest = [q for q in train_q[order[n_gold:]].tolist() if q in pref_of][:n_preference]
    if len(rest) < 2:
        raise ValueError("`data` leaves fewer than 2 preference-labelled training queries after the split.")
    train_rows = np.array([gold_of[q] for q in gold_q] + [pref_of[q] for q in rest])
    t_idx = np.array([gold_of[q] for q in test_q])
    gold_train = data.outcome[np.array([gold_of[q] for q in gold_q + rest])].copy()
    gold_test = data.outcome[t_idx].copy()
    X_test = data.X[t_idx].copy()
    for arr in (gold_test, X_test, gold_train):
        arr.setflags(write=False)
    return SimulatedStudy(
        train=data.subset(train_rows), X_test=X_test, gold_test=gold_test, psi_test=gold_test,
        gold_train=gold_train, scale=float("nan"), scenario="data",
    )


@budgeted
def run_task(config: StudyConfig, round_: int, n_gold: int, data: RoutingData | None = None) -> pd.DataFrame:
    """One round of a study at one gold size: simulate (or split ``data``), fit every router, evaluate.

    Seeds come from :meth:`StudyConfig.task_seeds`: the task's numbers do not depend on
    the order of tasks or the number of workers.
    """
    data_rng, router_seed = config.task_seeds(round_, n_gold)
    if config.scenario == "data":
        if data is None:
            raise ValueError("`data` is required for a study with scenario='data'.")
        study = split_data(data, n_gold=n_gold, n_preference=config.n_preference, n_test=config.n_test, rng=data_rng)
    else:
        study = simulate(
            n_gold=n_gold, n_preference=config.n_preference, n_test=config.n_test, d=config.d,
            scenario=config.scenario, rng=data_rng,
        )
    scale = None if config.scale == "none" else config.scale
    routers = default_routers(router_seed, learners=config.learners, scale=scale, names=config.routers)
    frame = run_round(
        study, routers, rates=np.array(config.rates), truth=config.truth, truncate=config.paper_evaluation,
        eval_gold=config.eval_gold, rng=router_seed,
    )
    frame.insert(0, "round", round_)
    frame.insert(1, "n_gold", n_gold)
    return frame


def run_study(
    config: StudyConfig,
    *,
    out: str | os.PathLike[str] | None = None,
    n_jobs: int | None = 1,
    backend: str = "loky",
    scheduler: str | Any = None,
    progress: bool = True,
    data: RoutingData | None = None,
) -> StudyResult:
    """Run a Monte Carlo study, in parallel or on a Dask cluster, with checkpoints.

    Every (round, gold size) task draws its data and router seeds from
    ``SeedSequence(config.seed, spawn_key=(round, n_gold))``, so the results do not
    depend on task order or on the number of workers (only ``fit_seconds`` does).

    Parameters
    ----------
    config : StudyConfig
    out : path, optional
        Output directory (:mod:`~metarouter_stats.experiment.store`). Each finished task is
        written atomically to ``out/rounds/round_RRRRR_gold_G.csv`` and its checksum to
        ``out/manifest.json``, with ``out/config.json`` (config and package version) beside
        them; at the end all rounds are collected in ``out/results.csv``. Re-running with the
        same config skips the finished tasks whose files verify (a killed study loses only
        the tasks in flight; a damaged file is named and recomputed); more ``rounds`` extend
        the study; other changed settings are refused, naming them. A second process on the
        same folder stops at once with :class:`~metarouter_stats.experiment.store.StudyInUseError`.
    n_jobs : int or None, default 1
        joblib workers (``backend="loky"``); ignored for Dask.
    backend : {"loky", "dask"}, default "loky"
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or a Client; required for Dask.
    progress : bool or None, default True
        A tqdm bar of tasks done and time left on stderr. It is shown on a terminal only:
        ``True`` (or None) leaves it to tqdm, which switches it off when stderr is not a TTY;
        ``False`` switches it off.
    data : RoutingData, optional
        Required when ``config.scenario == "data"``: queries with gold labels (and
        preference labels), split anew in every round by :func:`split_data`. A digest
        of it is stored with the checkpoints, so that a resume on other data is refused.

    Returns
    -------
    StudyResult
    """
    if not isinstance(config, StudyConfig):
        raise TypeError(f"`config` must be a StudyConfig; got {type(config).__name__}.")
    if backend not in ("loky", "dask"):
        raise ValueError(f"`backend` must be 'loky' or 'dask'; got {backend!r}.")
    if backend == "dask" and scheduler is None:
        raise ValueError("`scheduler` is required with backend='dask': pass an address or a distributed.Client.")
    if (config.scenario == "data") != (data is not None):
        raise ValueError("Pass `data` exactly when the config's scenario is 'data'.")
    if config.scenario == "data" and config.truth == "psi":
        raise ValueError("`truth='psi'` needs a simulation; a study on data is evaluated on its gold labels.")
    n_jobs = check_n_jobs(n_jobs)
    if out is not None:
        store = StudyStore(out)
        with store.lock():
            return _run(config, store, n_jobs, backend, scheduler, progress, data)
    return _run(config, None, n_jobs, backend, scheduler, progress, data)


def _run(
    config: StudyConfig, store: StudyStore | None, n_jobs: int | None, backend: str, scheduler: Any, progress: bool,
    data: RoutingData | None,
) -> StudyResult:
    done = store.prepare(config, data_digest(data)) if store is not None else set()
    tasks = [(r, g) for r in range(config.rounds) for g in config.gold_sizes if (r, g) not in done]
    from tqdm.auto import tqdm  # noqa: PLC0415 - a well-kept progress bar (TTY-aware)

    bar = tqdm(total=config.n_tasks, initial=len(done), desc=f"study {config.name!r}", unit="task",
               disable=None if progress else True, file=sys.stderr, leave=False)
    frames = []

    def collect(frame: pd.DataFrame) -> None:
        if store is not None:
            store.save_task(frame)
        frames.append(frame)
        bar.update()
        logger.info("task round %d, %d gold done", int(frame["round"].iloc[0]), int(frame["n_gold"].iloc[0]))

    if backend == "dask":
        from dask.distributed import Client, as_completed  # noqa: PLC0415

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            futures = [client.submit(run_task, config, r, g, data, pure=False) for r, g in tasks]
            for fut in as_completed(futures):
                collect(fut.result())
        finally:
            if client is not scheduler:
                client.close()
    else:
        from joblib import Parallel, delayed  # noqa: PLC0415

        for frame in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(run_task)(config, r, g, data) for r, g in tasks
        ):
            collect(frame)

    bar.close()
    if store is not None:
        frame = store.collect(done | {(r, g) for r, g in tasks})
    else:
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not frame.empty:
        frame = frame.sort_values(["round", "n_gold"], kind="stable").reset_index(drop=True)
    if store is not None:
        store.write_results(frame)
    return StudyResult(frame, config)
