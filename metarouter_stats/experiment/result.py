"""The result of a Monte Carlo study."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._results import ResultMixin, frozen_copy, router_style
from .config import StudyConfig
from .store import StudyStore

__all__ = ["StudyResult"]

_YLABEL = {"per_query": "EG per query", "relative": "EG / oracle EG"}


@dataclass(frozen=True, init=False, eq=False, repr=False)
class StudyResult(ResultMixin):
    """Results of :func:`~metarouter_stats.experiment.run_study`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy: round, n_gold, router, evaluation, rate, gain, per_query, relative,
        reference, auc, auc_relative, fit_seconds (a private copy is kept).
    config : StudyConfig

    Attributes
    ----------
    frame : pandas.DataFrame
        A copy of the tidy results (the result itself cannot be changed).
    config : StudyConfig
    """

    _frame: pd.DataFrame
    config: StudyConfig
    _title = "Monte Carlo study"

    def __init__(self, frame: pd.DataFrame, config: StudyConfig) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"`frame` must be a pandas DataFrame; got {type(frame).__name__}.")
        if not isinstance(config, StudyConfig):
            raise TypeError(f"`config` must be a StudyConfig; got {type(config).__name__}.")
        object.__setattr__(self, "_frame", frozen_copy(frame))
        object.__setattr__(self, "config", config)

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the tidy results frame."""
        return self._frame.copy()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StudyResult:
        """Read a finished study's output folder (``results.csv``, ``config.json``).

        Raises
        ------
        FileNotFoundError
            If ``results.csv`` or ``config.json`` is missing (the study has not finished).
        """
        frame, config = StudyStore(path).read()
        return cls(frame, config)

    def to_frame(self) -> pd.DataFrame:
        """The tidy results, one row per round, gold size, router, evaluation and rate."""
        return self.frame

    def summary_frame(self, value: str = "per_query", evaluation: str = "exact") -> pd.DataFrame:
        """Mean of ``value`` and its Monte Carlo standard error per gold size, router and rate.

        The standard error is sd / sqrt(rounds) over the rounds.
        """
        df = self._frame[self._frame["evaluation"] == evaluation]
        g = df.groupby(["n_gold", "router", "rate"], sort=False)[value]
        out = pd.DataFrame({"mean": g.mean(), "mc_se": g.std(ddof=1) / np.sqrt(g.count()), "rounds": g.count()})
        return out.reset_index()

    def area_summary(self, evaluation: str = "exact") -> pd.DataFrame:
        """Mean share of the test-label oracle's EG area (``auc_relative``) with its MC standard error."""
        df = self._frame[(self._frame["evaluation"] == evaluation)].drop_duplicates(["round", "n_gold", "router"])
        g = df.groupby(["n_gold", "router"], sort=False)["auc_relative"]
        out = pd.DataFrame({"mean": g.mean(), "mc_se": g.std(ddof=1) / np.sqrt(g.count()), "rounds": g.count()})
        return out.reset_index()

    def _rows(self) -> list[tuple[str, str]]:
        cfg = self.config
        rows = [
            ("scenario", cfg.scenario),
            ("rounds per gold size", f"{cfg.rounds}"),
            ("preference / test queries", f"{cfg.n_preference} / {cfg.n_test}"),
        ]
        if self._frame.empty:
            return rows + [("results", "none")]
        for _, r in self.area_summary().iterrows():
            rows.append((f"{r['router']} @ {int(r['n_gold'])} gold", f"{r['mean']:.3f} (MC se {r['mc_se']:.3f})"))
        return rows

    def _notes(self) -> list[str]:
        return ["Values: share of the test-label oracle's EG area over the rate grid, mean over rounds."]

    def plot(self, ax: Any = None, *, value: str = "per_query", evaluation: str = "exact") -> Any:
        """The reference figure: EG against rate, one line per router, +-1.96 MC SE bands, a panel per gold size.

        Parameters
        ----------
        ax : Axes or sequence of Axes, optional
            One Axes per gold size; new ones by default.

        Returns
        -------
        ndarray of matplotlib Axes
            One per gold size.
        """
        import matplotlib.pyplot as plt  # noqa: PLC0415

        summ = self.summary_frame(value, evaluation)
        sizes = list(dict.fromkeys(summ["n_gold"]))
        if ax is None:
            _, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), squeeze=False, sharey=True)
            axes = axes[0]
        else:
            axes = np.atleast_1d(np.asarray(ax, dtype=object))
            if axes.size != len(sizes):
                raise ValueError(f"`ax` must hold one Axes per gold size ({len(sizes)}); got {axes.size}.")
        for a, n_gold in zip(axes, sizes, strict=True):
            part = summ[summ["n_gold"] == n_gold]
            for router, sub in part.groupby("router", sort=False):
                (line,) = a.plot(sub["rate"], sub["mean"], marker="o", label=router, **router_style(router))
                a.fill_between(
                    sub["rate"], sub["mean"] - 1.96 * sub["mc_se"], sub["mean"] + 1.96 * sub["mc_se"],
                    alpha=0.15, color=line.get_color(),
                )
            a.axhline(0, color="grey", linewidth=0.8)
            a.set_title(f"n_gold = {n_gold}")
            a.set_xlabel("primary-model usage rate")
        axes[0].set_ylabel(_YLABEL.get(value, value))
        axes[-1].legend(fontsize=8)
        axes[0].figure.tight_layout()
        return axes
