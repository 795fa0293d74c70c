"""Monte Carlo studies: seeded rounds of simulate, fit every router, evaluate.

A *round* is one training/test draw on which every router is fitted and its
efficiency-gain curve computed. :func:`default_routers` lists the routers of the
paper's comparison; :func:`run_round` fits them on one draw; :func:`run_study`
runs a :class:`StudyConfig`'s rounds in parallel (joblib) or on a Dask cluster,
checkpointing every finished round so that a killed study resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._checks import as_1d_float, as_2d_float, as_rng, check_positive_int
from .data import RoutingData
from .evaluation import DEFAULT_RATES, _rates_iv, efficiency_gain
from .routers import (
    GoldOnlyRouter,
    MeanShiftRouter,
    MetaRouter,
    OracleRouter,
    PooledRouter,
    PreferenceOnlyRouter,
    RandomRouter,
)
from .simulation import SCENARIOS, SimulatedStudy, simulate

__all__ = [
    "LEARNER_PRESETS",
    "ROUTER_NAMES",
    "StudyConfig",
    "StudyResult",
    "default_routers",
    "load_config",
    "run_round",
    "run_study",
    "run_task",
    "split_data",
    "study_configs",
]

logger = logging.getLogger("metarouter_stats")

ROUTER_NAMES = ("oracle", "meta-dr", "meta-r", "gold-only", "preference-only", "pooled", "mean-shift", "random")


def _learners(preset: str, random_state: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(MetaRouter keyword arguments, baseline keyword arguments) of a learner preset."""
    if preset == "default":
        return {}, {}
    if preset == "rf":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: PLC0415

        kw = {"n_estimators": 100, "min_samples_leaf": 5, "random_state": random_state}
        reg = RandomForestRegressor(**kw)
        return (
            {
                "model_outcome": reg,
                "model_propensity": RandomForestClassifier(**kw),
                "model_final": RandomForestRegressor(**kw),
                "regressor": reg,
            },
            {"regressor": reg},
        )
    raise ValueError(f"`learners` must be one of {LEARNER_PRESETS}; got {preset!r}.")


LEARNER_PRESETS = ("default", "rf")


def default_routers(
    random_state: int | None = None, *, learners: str = "default", scale: Any = "variance"
) -> dict[str, Any]:
    """The routers of the paper's comparison, keyed by name, with package defaults.

    Parameters
    ----------
    random_state : int or None
        Seed given to every router.
    learners : {"default", "rf"}, default "default"
        ``"default"``: the package's boosted nuisances and ridge final stage;
        ``"rf"``: random forests everywhere (the reference code's choice).
    scale : str, float or None, default "variance"
        Scale normalisation of every router that uses preference labels
        (None = the "no scale normalisation" ablation).

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
    meta, base = _learners(learners, rs)
    return {
        "oracle": OracleRouter(random_state=rs, **base),
        "meta-dr": MetaRouter(cate="dr", scale=scale, random_state=rs, **meta),
        "meta-r": MetaRouter(cate="r", scale=scale, random_state=rs, **meta),
        "gold-only": GoldOnlyRouter(random_state=rs, **base),
        "preference-only": PreferenceOnlyRouter(scale=scale, random_state=rs, **base),
        "pooled": PooledRouter(scale=scale, random_state=rs, **base),
        "mean-shift": MeanShiftRouter(scale=scale, random_state=rs, **base),
        "random": RandomRouter(random_state=rs),
    }


def run_round(
    study: SimulatedStudy,
    routers: dict[str, Any] | None = None,
    *,
    rates: Any = None,
    truth: str = "gold",
    truncate: bool = False,
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
    truncate : bool, default False
        Also evaluate with the reference code's truncation to psi_hat > 0
        (rows with ``evaluation == "paper"``; ours are ``"exact"``).
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
    return pd.concat(frames, ignore_index=True)


# =========================================================================== studies
@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """A Monte Carlo study: many seeded rounds of simulate, fit all routers, evaluate.

    Parameters
    ----------
    scenario : str, default "paper"
        Simulation scenario (:func:`~metarouter_stats.simulate`), or ``"data"`` for
        a study on a user's :class:`~metarouter_stats.RoutingData` passed to
        :func:`run_study` (``data=``): every round then draws its split from it
        (see :func:`split_data`).
    gold_sizes : tuple of int, default (100,)
        Gold training rows; every round is run for every size.
    n_preference : int, default 4400
    n_test : int, default 500
    d : int, default 50
    routers : tuple of str
        Names among ``ROUTER_NAMES``.
    learners : {"default", "rf"}, default "default"
    scale : {"variance", "amplitude", "wasserstein", "none"}, default "variance"
        ``"none"`` is the "no scale normalisation" ablation.
    rates : tuple of float, default (0.2, ..., 0.8)
    rounds : int, default 20
    seed : int, default 0
    truth : {"gold", "psi"}, default "gold"
        Evaluate on noisy test gold labels or the true psi.
    paper_evaluation : bool, default False
        Also report the reference code's evaluation (truncation to psi_hat > 0).
    name : str, default "study"

    Examples
    --------
    >>> from metarouter_stats.experiment import StudyConfig
    >>> StudyConfig(rounds=2, gold_sizes=(100, 500)).n_tasks
    4
    """

    scenario: str = "paper"
    gold_sizes: tuple[int, ...] = (100,)
    n_preference: int = 4400
    n_test: int = 500
    d: int = 50
    routers: tuple[str, ...] = ROUTER_NAMES
    learners: str = "default"
    scale: str = "variance"
    rates: tuple[float, ...] = tuple(float(r) for r in DEFAULT_RATES)
    rounds: int = 20
    seed: int = 0
    truth: str = "gold"
    paper_evaluation: bool = False
    name: str = "study"

    def __post_init__(self) -> None:
        if self.scenario not in (*SCENARIOS, "data"):
            raise ValueError(f"`scenario` must be one of {(*SCENARIOS, 'data')}; got {self.scenario!r}.")
        sizes = tuple(check_positive_int(g, "gold_sizes", minimum=2) for g in np.atleast_1d(self.gold_sizes).tolist())
        if not sizes:
            raise ValueError("`gold_sizes` must name at least one gold size.")
        object.__setattr__(self, "gold_sizes", sizes)
        for name in ("n_preference", "n_test", "rounds"):
            check_positive_int(getattr(self, name), name, minimum=2 if name == "n_preference" else 1)
        check_positive_int(self.d, "d", minimum=6)
        check_positive_int(self.seed, "seed", minimum=0)
        routers = tuple(self.routers)
        unknown = [r for r in routers if r not in ROUTER_NAMES]
        if unknown or not routers:
            raise ValueError(f"`routers` must be names among {ROUTER_NAMES}; got unknown {unknown!r}.")
        object.__setattr__(self, "routers", routers)
        if self.learners not in LEARNER_PRESETS:
            raise ValueError(f"`learners` must be one of {LEARNER_PRESETS}; got {self.learners!r}.")
        if self.scale not in ("variance", "amplitude", "wasserstein", "none"):
            raise ValueError(
                f"`scale` must be 'variance', 'amplitude', 'wasserstein' or 'none'; got {self.scale!r}."
            )
        object.__setattr__(self, "rates", tuple(float(r) for r in _rates_iv(self.rates)))
        if self.truth not in ("gold", "psi"):
            raise ValueError(f"`truth` must be 'gold' or 'psi'; got {self.truth!r}.")

    @property
    def n_tasks(self) -> int:
        """Rounds times gold sizes."""
        return self.rounds * len(self.gold_sizes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (lists for tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StudyConfig:
        """Build from a dictionary, rejecting unknown keys by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown study setting(s) {unknown}; known settings are {sorted(known)}.")
        kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**kw)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> StudyConfig:
        """Read a TOML file whose top-level keys are the settings (or a ``[study]`` table)."""
        import tomllib  # noqa: PLC0415

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Study config {str(path)!r} does not exist.")
        with path.open("rb") as fh:
            try:
                values = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"Study config {str(path)!r} is not valid TOML: {exc}") from None
        return cls.from_dict(values.get("study", values))


def study_configs() -> list[str]:
    """Names of the ready study configs shipped with the package (figure1a, main, ablations, quick)."""
    from importlib import resources  # noqa: PLC0415

    return sorted(p.name[:-5] for p in resources.files("metarouter_stats.configs").iterdir() if p.name.endswith(".toml"))


def load_config(name_or_path: str | os.PathLike[str]) -> StudyConfig:
    """A shipped config by name (see :func:`study_configs`) or a TOML file by path.

    Examples
    --------
    >>> from metarouter_stats.experiment import load_config
    >>> load_config("figure1a").gold_sizes
    (100, 500, 1000)
    """
    from importlib import resources  # noqa: PLC0415

    text = str(name_or_path)
    if text in study_configs():
        with resources.as_file(resources.files("metarouter_stats.configs") / f"{text}.toml") as path:
            return StudyConfig.from_toml(path)
    if not Path(text).is_file():
        raise FileNotFoundError(
            f"Study config {text!r} is neither a file nor a shipped config; shipped configs are {study_configs()}."
        )
    return StudyConfig.from_toml(text)


def _task_seed(config: StudyConfig, round_: int, n_gold: int) -> np.random.SeedSequence:
    """The seed of one (round, gold size) task: independent of order and worker count."""
    return np.random.SeedSequence(config.seed, spawn_key=(round_, n_gold))


def split_data(data: RoutingData, *, n_gold: int, n_preference: int, n_test: int, rng: Any = None) -> SimulatedStudy:
    """Draw a train/test split from data with a gold label for every query.

    ``data`` has one row per (query, mechanism): every query id has a gold row, and
    queries may also have a preference row. A split draws ``n_test`` test queries
    (their gold labels are the evaluation truth), then ``n_gold`` other queries whose
    gold rows are training gold labels, and up to ``n_preference`` of the remaining
    queries whose preference rows are training preference labels, so that each
    training query is evaluated by one mechanism, as in the paper's design. The
    oracle router is given the gold labels of every training query.

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
    ids = np.asarray(data.query_ids)
    gold_rows = np.flatnonzero(data.source == 1)
    gold_ids = ids[gold_rows]
    if np.unique(gold_ids).size != gold_ids.size:
        raise ValueError("`data` must have at most one gold row per query id.")
    row_of = dict(zip(gold_ids.tolist(), gold_rows.tolist(), strict=True))
    pref_rows = np.flatnonzero(data.source == 0)
    missing = [q for q in ids[pref_rows].tolist() if q not in row_of]
    if missing:
        raise ValueError(
            f"`data` must have a gold label for every query; {len(missing)} queries have only a preference "
            f"row (e.g. {missing[0]!r})."
        )
    pref_of = dict(zip(ids[pref_rows].tolist(), pref_rows.tolist(), strict=False))
    queries = np.array(sorted(row_of, key=str), dtype=object)
    if n_test + n_gold >= queries.size:
        raise ValueError(
            f"`n_test` + `n_gold` must be below the {queries.size} queries with gold labels; got {n_test} + {n_gold}."
        )
    order = gen.permutation(queries.size)
    test_q = queries[order[:n_test]]
    gold_q = queries[order[n_test : n_test + n_gold]]
    rest = [q for q in queries[order[n_test + n_gold :]] if q in pref_of][:n_preference]
    if len(rest) < 2:
        raise ValueError("`data` leaves fewer than 2 preference-labelled training queries after the split.")
    g_idx = np.array([row_of[q] for q in gold_q])
    p_idx = np.array([pref_of[q] for q in rest])
    t_idx = np.array([row_of[q] for q in test_q])
    train_rows = np.concatenate((g_idx, p_idx))
    train = data.subset(train_rows)
    gold_train = data.outcome[np.array([row_of[q] for q in np.concatenate((gold_q, np.array(rest, dtype=object)))])]
    gold_test = data.outcome[t_idx].copy()
    X_test = data.X[t_idx].copy()
    for arr in (gold_test, X_test, gold_train):
        arr.setflags(write=False)
    return SimulatedStudy(
        train=train, X_test=X_test, gold_test=gold_test, psi_test=gold_test, gold_train=gold_train,
        scale=float("nan"), scenario="data",
    )


def run_task(config: StudyConfig, round_: int, n_gold: int, data: RoutingData | None = None) -> pd.DataFrame:
    """One round of a study at one gold size: simulate (or split ``data``), fit every router, evaluate."""
    seq = _task_seed(config, round_, n_gold)
    data_seed, router_seed = seq.spawn(2)
    if config.scenario == "data":
        if data is None:
            raise ValueError("`data` is required for a study with scenario='data'.")
        study = split_data(
            data, n_gold=n_gold, n_preference=config.n_preference, n_test=config.n_test,
            rng=np.random.default_rng(data_seed),
        )
    else:
        study = simulate(
            n_gold=n_gold, n_preference=config.n_preference, n_test=config.n_test, d=config.d,
            scenario=config.scenario, rng=np.random.default_rng(data_seed),
        )
    rs = int(router_seed.generate_state(1)[0] % (2**31 - 1))
    scale = None if config.scale == "none" else config.scale
    routers = default_routers(rs, learners=config.learners, scale=scale)
    routers = {k: routers[k] for k in config.routers}
    frame = run_round(
        study, routers, rates=np.array(config.rates), truth=config.truth, truncate=config.paper_evaluation
    )
    frame.insert(0, "round", round_)
    frame.insert(1, "n_gold", n_gold)
    return frame


@dataclass(frozen=True, kw_only=True)
class StudyResult:
    """Results of :func:`run_study`.

    Attributes
    ----------
    frame : pandas.DataFrame
        Tidy: round, n_gold, router, evaluation, rate, gain, per_query, relative,
        reference, auc, auc_relative, fit_seconds.
    config : StudyConfig
    """

    frame: pd.DataFrame
    config: StudyConfig

    def summary(self, value: str = "per_query", evaluation: str = "exact") -> pd.DataFrame:
        """Mean of ``value`` and its Monte Carlo standard error per gold size, router and rate.

        The standard error is sd / sqrt(rounds) over the rounds.
        """
        df = self.frame[self.frame["evaluation"] == evaluation]
        g = df.groupby(["n_gold", "router", "rate"], sort=False)[value]
        out = pd.DataFrame({"mean": g.mean(), "mc_se": g.std(ddof=1) / np.sqrt(g.count()), "rounds": g.count()})
        return out.reset_index()

    def area_summary(self, evaluation: str = "exact") -> pd.DataFrame:
        """Mean share of the oracle ranking's EG area (``auc_relative``) with its MC standard error."""
        df = self.frame[(self.frame["evaluation"] == evaluation)].drop_duplicates(["round", "n_gold", "router"])
        g = df.groupby(["n_gold", "router"], sort=False)["auc_relative"]
        out = pd.DataFrame({"mean": g.mean(), "mc_se": g.std(ddof=1) / np.sqrt(g.count()), "rounds": g.count()})
        return out.reset_index()

    def plot(self, value: str = "per_query", evaluation: str = "exact") -> Any:
        """The reference figure: EG against rate, one line per router, +-1.96 MC SE bands, a panel per gold size.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt  # noqa: PLC0415

        summ = self.summary(value, evaluation)
        sizes = list(dict.fromkeys(summ["n_gold"]))
        fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), squeeze=False, sharey=True)
        for ax, n_gold in zip(axes[0], sizes, strict=True):
            part = summ[summ["n_gold"] == n_gold]
            for router, sub in part.groupby("router", sort=False):
                (line,) = ax.plot(sub["rate"], sub["mean"], marker="o", label=router)
                ax.fill_between(
                    sub["rate"], sub["mean"] - 1.96 * sub["mc_se"], sub["mean"] + 1.96 * sub["mc_se"],
                    alpha=0.15, color=line.get_color(),
                )
            ax.axhline(0, color="grey", linewidth=0.8)
            ax.set_title(f"n_gold = {n_gold}")
            ax.set_xlabel("primary-model usage rate")
        axes[0][0].set_ylabel({"per_query": "EG per query", "relative": "EG / oracle EG"}.get(value, value))
        axes[0][-1].legend(fontsize=8)
        fig.tight_layout()
        return fig


_CONFIG_FILE = "config.json"
_ROUNDS_DIR = "rounds"
_RESULTS_FILE = "results.csv"


def _digest(data: RoutingData | None) -> str | None:
    """SHA-256 of a RoutingData's arrays (None without data)."""
    if data is None:
        return None
    h = hashlib.sha256()
    for arr in (data.X, data.outcome, data.source, np.asarray(data.query_ids, dtype=str)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _prepare_out(out: Path, config: StudyConfig, digest: str | None = None) -> set[tuple[int, int]]:
    """Create or check the output directory; return the finished (round, n_gold) tasks."""
    from . import __version__  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    (out / _ROUNDS_DIR).mkdir(exist_ok=True)
    cfg_path = out / _CONFIG_FILE
    if cfg_path.exists():
        saved = json.loads(cfg_path.read_text())
        if saved.get("data_sha256") != digest:
            raise ValueError(
                f"`out` directory {str(out)!r} holds a study on other data; use a new directory or the same data."
            )
        if saved.get("config") != config.to_dict():
            raise ValueError(
                f"`out` directory {str(out)!r} holds a study with a different config; use a new directory or "
                "the same config to resume."
            )
    else:
        meta = {"config": config.to_dict(), "version": __version__, "data_sha256": digest}
        _atomic_write(cfg_path, json.dumps(meta, indent=2))
    done = set()
    for f in (out / _ROUNDS_DIR).glob("round_*_gold_*.csv"):
        parts = f.stem.split("_")
        done.add((int(parts[1]), int(parts[3])))
    return done


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _save_task(out: Path, frame: pd.DataFrame) -> None:
    r, g = int(frame["round"].iloc[0]), int(frame["n_gold"].iloc[0])
    _atomic_write(out / _ROUNDS_DIR / f"round_{r:05d}_gold_{g}.csv", frame.to_csv(index=False))


class _Progress:
    """Rounds done and time left, on stderr (a bar on a terminal, log lines otherwise)."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done, self.start_done = total, done, done
        self.enabled = enabled
        self.t0 = time.perf_counter()

    def update(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        new = self.done - self.start_done
        left = elapsed / new * (self.total - self.done) if new else float("nan")
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        text = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} rounds, {left:6.0f} s left"
        if sys.stderr.isatty():
            print("\r" + text, end="" if self.done < self.total else "\n", file=sys.stderr, flush=True)
        else:
            logger.info(text)


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
        Output directory. Each finished task is written atomically to
        ``out/rounds/round_RRRRR_gold_G.csv`` (temporary file, fsync, rename), with
        ``out/config.json`` (config and package version) beside them; at the end all
        rounds are collected in ``out/results.csv``. Re-running with the same config
        skips finished tasks (a killed study loses only the tasks in flight); a
        different config in the same directory is refused.
    n_jobs : int or None, default 1
        joblib workers (``backend="loky"``); ignored for Dask.
    backend : {"loky", "dask"}, default "loky"
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or a Client; required for Dask.
    progress : bool, default True
        Report rounds done and time left on stderr.
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
    out_path = Path(out) if out is not None else None
    done = _prepare_out(out_path, config, _digest(data)) if out_path is not None else set()
    tasks = [(r, g) for r in range(config.rounds) for g in config.gold_sizes if (r, g) not in done]
    bar = _Progress(config.n_tasks, len(done), progress)
    frames = []

    def collect(frame: pd.DataFrame) -> None:
        if out_path is not None:
            _save_task(out_path, frame)
        frames.append(frame)
        bar.update()

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

    if out_path is not None:
        parts = sorted((out_path / _ROUNDS_DIR).glob("round_*_gold_*.csv"))
        frames = [pd.read_csv(p) for p in parts]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not frame.empty:
        frame = frame.sort_values(["round", "n_gold"], kind="stable").reset_index(drop=True)
    if out_path is not None:
        _atomic_write(out_path / _RESULTS_FILE, frame.to_csv(index=False))
    return StudyResult(frame=frame, config=config)
