"""Monte Carlo studies: configs, the router registry, the runner, the study folder, results.

* :mod:`~metarouter_stats.experiment.config` -- :class:`StudyConfig`, shipped configs;
* :mod:`~metarouter_stats.experiment.registry` -- router names and the routers they build;
* :mod:`~metarouter_stats.experiment.runner` -- :func:`run_round`, :func:`run_task`,
  :func:`run_study` (joblib or Dask; checkpoint and resume), :func:`split_data`;
* :mod:`~metarouter_stats.experiment.store` -- the study folder format, written and read
  in one place;
* :mod:`~metarouter_stats.experiment.result` -- :class:`StudyResult` (``StudyResult.load(dir)``);
* :mod:`~metarouter_stats.experiment.chunks` -- :class:`ChunkStore`, the checkpointed chunks of a
  Monte Carlo benchmark merged into one results file (``benchmarks/``).
"""

from .chunks import ChunkStore, write_summary_section
from .config import SEEDINGS, StudyConfig, load_config, study_configs
from .registry import LEARNER_PRESETS, ROUTER_NAMES, default_routers, known_router_names, make_router
from .result import StudyResult
from .runner import run_round, run_study, run_task, split_data
from .store import StudyInUseError, StudyStore

__all__ = [
    "ChunkStore",
    "LEARNER_PRESETS",
    "ROUTER_NAMES",
    "SEEDINGS",
    "StudyConfig",
    "StudyResult",
    "StudyInUseError",
    "StudyStore",
    "default_routers",
    "known_router_names",
    "load_config",
    "make_router",
    "run_round",
    "run_study",
    "run_task",
    "split_data",
    "study_configs",
    "write_summary_section",
]
