"""Study configuration: a frozen, validated description of a Monte Carlo study."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_positive_int
from ..evaluation.curves import DEFAULT_RATES, check_rates
from ..scaling import SCALE_CHOICES
from ..simulation import SCENARIOS
from .registry import LEARNER_PRESETS, ROUTER_NAMES, check_router_names

__all__ = ["SEEDINGS", "StudyConfig", "load_config", "study_configs"]

SEEDINGS = ("spawn", "offset")


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """A Monte Carlo study: many seeded rounds of simulate, fit all routers, evaluate.

    Parameters
    ----------
    scenario : str, default "paper"
        Simulation scenario (:func:`~metarouter_stats.simulate`), or ``"data"`` for
        a study on a user's :class:`~metarouter_stats.RoutingData` passed to
        :func:`~metarouter_stats.experiment.run_study` (``data=``): every round then draws
        its split from it (see :func:`~metarouter_stats.experiment.split_data`).
    gold_sizes : tuple of int, default (100,)
        Gold training rows; every round is run for every size.
    n_preference : int, default 4400
    n_test : int, default 500
    d : int, default 50
    routers : tuple of str
        Router names (:func:`~metarouter_stats.experiment.registry.known_router_names`):
        the baselines and ``meta-<learner>`` for every registered bias learner.
    learners : {"default", "rf"}, default "default"
    scale : {"auto", "paired", "variance", "amplitude", "wasserstein", "none"}, default "auto"
        The routers' ``scale`` (:func:`~metarouter_stats.scaling.choose_scale`; on the
        simulations, whose labels are unpaired and not declared on one scale, ``"auto"`` is
        variance matching). ``"none"`` (c = 1) is the "no scale normalisation" ablation.
    rates : tuple of float, default (0.2, ..., 0.8)
    rounds : int, default 20
    seed : int, default 0
    seeding : {"spawn", "offset"}, default "spawn"
        How a (round, gold size) task gets its seeds. ``"spawn"``:
        ``SeedSequence(seed, spawn_key=(round, n_gold))`` split into a data seed and a
        router seed (independent streams). ``"offset"``: round i simulates with
        ``rng=seed + i`` and seeds the routers with ``seed + i`` (what ``metarouter demo``
        does, so that a round can be reproduced by hand with ``mrs.simulate(rng=seed + i)``).
        Both give the same numbers for any number of workers.
    truth : {"gold", "psi"}, default "gold"
        Evaluate on noisy test gold labels or the true psi.
    paper_evaluation : bool, default False
        Also report the reference code's evaluation (truncation to psi_hat > 0).
    eval_gold : int or None, default None
        Simulations: also evaluate every router as a user with only ``eval_gold`` gold-labelled
        test queries would, by prediction-powered evaluation with preference labels on every
        test query (rows with ``evaluation == "ppi"``; see
        :func:`~metarouter_stats.experiment.run_round`).
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
    scale: str = "auto"
    rates: tuple[float, ...] = tuple(float(r) for r in DEFAULT_RATES)
    rounds: int = 20
    seed: int = 0
    seeding: str = "spawn"
    truth: str = "gold"
    paper_evaluation: bool = False
    eval_gold: int | None = None
    name: str = "study"

    def __post_init__(self) -> None:
        if self.scenario not in (*SCENARIOS, "data"):
            raise ValueError(f"`scenario` must be one of {(*SCENARIOS, 'data')}; got {self.scenario!r}.")
        sizes = tuple(check_positive_int(g, "gold_sizes", minimum=2) for g in np.atleast_1d(self.gold_sizes).tolist())
        if not sizes:
            raise ValueError("`gold_sizes` must name at least one gold size.")
        if len(set(sizes)) != len(sizes):
            dup = sorted({g for g in sizes if sizes.count(g) > 1})
            raise ValueError(f"`gold_sizes` must not repeat a size (each would run twice); got {dup} more than once.")
        object.__setattr__(self, "gold_sizes", sizes)
        for name in ("n_preference", "n_test", "rounds"):
            check_positive_int(getattr(self, name), name, minimum=2 if name == "n_preference" else 1)
        check_positive_int(self.d, "d", minimum=6)
        check_positive_int(self.seed, "seed", minimum=0)
        object.__setattr__(self, "routers", check_router_names(self.routers))
        if self.learners not in LEARNER_PRESETS:
            raise ValueError(f"`learners` must be one of {LEARNER_PRESETS}; got {self.learners!r}.")
        if self.scale not in (*SCALE_CHOICES, "none"):
            raise ValueError(f"`scale` must be one of {(*SCALE_CHOICES, 'none')}; got {self.scale!r}.")
        object.__setattr__(self, "rates", tuple(float(r) for r in check_rates(self.rates)))
        if self.seeding not in SEEDINGS:
            raise ValueError(f"`seeding` must be one of {SEEDINGS}; got {self.seeding!r}.")
        if self.truth not in ("gold", "psi"):
            raise ValueError(f"`truth` must be 'gold' or 'psi'; got {self.truth!r}.")
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a string; got {self.name!r}.")
        if self.eval_gold is not None:
            if self.scenario == "data":
                raise ValueError("`eval_gold` needs a simulation: the test queries' preference labels are simulated.")
            check_positive_int(self.eval_gold, "eval_gold", minimum=2)
            if self.eval_gold > self.n_test:
                raise ValueError(f"`eval_gold` must not exceed `n_test` ({self.n_test}); got {self.eval_gold}.")
        if not isinstance(self.paper_evaluation, bool):
            raise TypeError(f"`paper_evaluation` must be true or false; got {self.paper_evaluation!r}.")

    @property
    def n_tasks(self) -> int:
        """Rounds times gold sizes."""
        return self.rounds * len(self.gold_sizes)

    def task_seeds(self, round_: int, n_gold: int) -> tuple[Any, int]:
        """(data rng, router random_state) of one (round, gold size) task; see ``seeding``."""
        if self.seeding == "offset":
            return self.seed + round_, self.seed + round_
        data_seed, router_seed = np.random.SeedSequence(self.seed, spawn_key=(round_, n_gold)).spawn(2)
        return np.random.default_rng(data_seed), int(router_seed.generate_state(1)[0] % (2**31 - 1))

    def differences(self, other: StudyConfig) -> dict[str, tuple[Any, Any]]:
        """Settings that differ from ``other``: name -> (this value, other's value)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (mine[k], theirs.get(k)) for k in mine if mine[k] != theirs.get(k)}

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
        if "study" in values:
            others = sorted(k for k in values if k != "study")
            if others:
                raise ValueError(
                    f"Study config {str(path)!r} has key(s) {others} beside its [study] table; move them into "
                    "[study] (or drop the table and write every setting at the top level)."
                )
            if not isinstance(values["study"], dict):
                raise ValueError(f"Study config {str(path)!r}: `study` must be a table.")
            values = values["study"]
        return cls.from_dict(values)


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
