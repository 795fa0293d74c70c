"""The study folder format, written and read in one place.

A study's output folder holds

* ``config.json``: ``{"config": StudyConfig.to_dict(), "version": ..., "data_sha256": ...}``;
* ``rounds/round_RRRRR_gold_G.csv``: one finished (round, gold size) task each, written
  atomically (temporary file, fsync, rename), so that a killed study loses only the tasks
  in flight and resumes from the rest;
* ``results.csv``: every round collected, written at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..data import RoutingData
from .config import StudyConfig

__all__ = ["CONFIG_FILE", "RESULTS_FILE", "ROUNDS_DIR", "StudyStore", "atomic_write", "data_digest"]

CONFIG_FILE = "config.json"
ROUNDS_DIR = "rounds"
RESULTS_FILE = "results.csv"


def data_digest(data: RoutingData | None) -> str | None:
    """SHA-256 of a RoutingData's arrays (None without data)."""
    if data is None:
        return None
    h = hashlib.sha256()
    for arr in (data.X, data.outcome, data.source, np.asarray(data.query_ids, dtype=str)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsync and rename."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class StudyStore:
    """One study's output folder (see the module docstring).

    Parameters
    ----------
    root : path
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def prepare(self, config: StudyConfig, digest: str | None = None) -> set[tuple[int, int]]:
        """Create or check the folder for ``config``; return the finished (round, n_gold) tasks."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ROUNDS_DIR).mkdir(exist_ok=True)
        cfg_path = self.root / CONFIG_FILE
        if cfg_path.exists():
            saved = json.loads(cfg_path.read_text())
            if saved.get("data_sha256") != digest:
                raise ValueError(
                    f"`out` directory {str(self.root)!r} holds a study on other data; use a new directory or the "
                    "same data."
                )
            if saved.get("config") != config.to_dict():
                raise ValueError(
                    f"`out` directory {str(self.root)!r} holds a study with a different config; use a new directory "
                    "or the same config to resume."
                )
        else:
            meta = {"config": config.to_dict(), "version": __version__, "data_sha256": digest}
            atomic_write(cfg_path, json.dumps(meta, indent=2))
        done = set()
        for f in self._round_files():
            parts = f.stem.split("_")
            done.add((int(parts[1]), int(parts[3])))
        return done

    def _round_files(self) -> list[Path]:
        return sorted((self.root / ROUNDS_DIR).glob("round_*_gold_*.csv"))

    def save_task(self, frame: pd.DataFrame) -> None:
        """Checkpoint one finished task's rows."""
        r, g = int(frame["round"].iloc[0]), int(frame["n_gold"].iloc[0])
        atomic_write(self.root / ROUNDS_DIR / f"round_{r:05d}_gold_{g}.csv", frame.to_csv(index=False))

    def collect(self) -> pd.DataFrame:
        """Every checkpointed task, in (round, n_gold) order."""
        frames = [pd.read_csv(p) for p in self._round_files()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def write_results(self, frame: pd.DataFrame) -> None:
        """Write ``results.csv``."""
        atomic_write(self.root / RESULTS_FILE, frame.to_csv(index=False))

    def read(self) -> tuple[pd.DataFrame, StudyConfig]:
        """(results frame, config) of a finished study."""
        cfg_file, res_file = self.root / CONFIG_FILE, self.root / RESULTS_FILE
        for f in (cfg_file, res_file):
            if not f.is_file():
                raise FileNotFoundError(f"{str(f)!r} not found: `path` must be the --out folder of a finished study.")
        meta: dict[str, Any] = json.loads(cfg_file.read_text(encoding="utf-8"))
        config = StudyConfig.from_dict(meta["config"] if "config" in meta else meta)
        return pd.read_csv(res_file), config
