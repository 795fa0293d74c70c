"""The study folder format, written and read in one place.

A study's output folder holds

* ``config.json``: ``{"config": StudyConfig.to_dict(), "version": ..., "data_sha256": ...}``;
* ``rounds/round_RRRRR_gold_G.csv``: one finished (round, gold size) task each;
* ``manifest.json``: the SHA-256 and row count of every round file, recorded when it was
  written;
* ``results.csv``: every round collected, written at the end;
* ``.study.lock``: held (``filelock``) by the process running the study.

Every file is written through a fresh temporary file in the target folder
(``tempfile.mkstemp``: a unique name, created exclusively, so a link planted in the folder is
never followed), flushed, fsynced and renamed over the target (a rename replaces a link
itself, never its target). On resume every round file is checked against the manifest and
the task it claims to be (columns, row count, round and gold size): a damaged file is set
aside as ``*.damaged``, named in a warning and recomputed; a file the manifest does not know
is named and ignored. A study can be extended (more ``rounds``) or renamed in place; any other
change of settings is refused with the list of what differs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._files import atomic_write, safe_folder
from .._version import __version__
from ..data import RoutingData
from .chunks import check_recorded_file
from .config import StudyConfig

__all__ = [
    "CONFIG_FILE",
    "EXTENDABLE",
    "MANIFEST_FILE",
    "RESULTS_FILE",
    "RESULT_COLUMNS",
    "ROUNDS_DIR",
    "StudyInUseError",
    "StudyStore",
    "data_digest",
]

CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"
ROUNDS_DIR = "rounds"
RESULTS_FILE = "results.csv"
LOCK_FILE = ".study.lock"
EXTENDABLE = ("rounds", "name")  # settings a resumed study may change
RESULT_COLUMNS = (
    "round", "n_gold", "router", "evaluation", "rate", "gain", "per_query", "relative", "reference", "auc",
    "auc_relative", "fit_seconds",
)


class StudyInUseError(RuntimeError):
    """Another process holds the study folder's lock."""


def data_digest(data: RoutingData | None) -> str | None:
    """SHA-256 of a RoutingData's arrays (None without data)."""
    if data is None:
        return None
    h = hashlib.sha256()
    for arr in (data.X, data.outcome, data.source, np.asarray(data.query_ids, dtype=str)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{str(path)!r} is damaged ({exc}); remove it, or the whole folder, and run again.") from None
    if not isinstance(value, dict):
        raise ValueError(f"{str(path)!r} is damaged (not a JSON object); remove it and run again.")
    return value


def expected_rows(config: StudyConfig) -> int:
    """Rows of one task's frame: routers x rates x evaluations (exact, paper, ppi)."""
    evaluations = 1 + int(config.paper_evaluation) + int(getattr(config, "eval_gold", None) is not None)
    return len(config.routers) * len(config.rates) * evaluations


def _columns_ok(frame: pd.DataFrame, config: StudyConfig) -> bool:
    """The study's columns; studies with ``eval_gold`` add the prediction-powered rows' ``std_error``."""
    want = RESULT_COLUMNS + (("std_error",) if getattr(config, "eval_gold", None) is not None else ())
    return tuple(frame.columns) == want


def check_task_frame(frame: pd.DataFrame, config: StudyConfig, round_: int, n_gold: int) -> str | None:
    """Why ``frame`` is not the finished task (round_, n_gold) of ``config``, or None if it is."""
    if not _columns_ok(frame, config):
        return f"columns {list(frame.columns)[:6]}... are not the study's"
    if len(frame) != expected_rows(config):
        return f"{len(frame)} rows instead of {expected_rows(config)}"
    if not ((frame["round"] == round_).all() and (frame["n_gold"] == n_gold).all()):
        return "rows of another task"
    if set(frame["router"]) != set(config.routers):
        return "other routers than the config's"
    numeric = frame[["rate", "gain", "per_query", "auc", "fit_seconds"]]
    if numeric.isna().any().any():
        return "missing values"
    return None


class StudyStore:
    """One study's output folder (see the module docstring).

    Parameters
    ----------
    root : path
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        if str(root) == "":
            raise ValueError("`out` must be a folder path; got ''.")
        self.root = Path(root)

    # ------------------------------------------------------------------ checks and lock
    def check_writable(self) -> None:
        """Refuse an output path that is a file or cannot be created, before any work."""
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"`out` {str(self.root)!r} is a file; give a folder.")
        parent = self.root if self.root.exists() else next((p for p in self.root.parents if p.exists()), Path("."))
        if not os.access(parent, os.W_OK | os.X_OK):
            raise PermissionError(f"`out` {str(self.root)!r} cannot be written (no write permission on {str(parent)!r}).")

    def lock(self) -> Any:
        """The folder's lock, acquired: a context manager; StudyInUseError if another process holds it."""
        from filelock import FileLock, Timeout  # noqa: PLC0415

        self.check_writable()
        safe_folder(self.root, "out")
        lock = FileLock(str(self.root / LOCK_FILE), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise StudyInUseError(
                f"Another process is running a study in {str(self.root)!r} (it holds {LOCK_FILE}); wait for it to "
                "finish, or use another `out` folder."
            ) from None
        return lock

    # ------------------------------------------------------------------ resume
    def prepare(self, config: StudyConfig, digest: str | None = None) -> set[tuple[int, int]]:
        """Create or check the folder for ``config``; return the verified finished (round, n_gold) tasks."""
        safe_folder(self.root, "out")
        safe_folder(self.root / ROUNDS_DIR, "out/rounds")
        cfg_path = self.root / CONFIG_FILE
        meta = {"config": config.to_dict(), "version": __version__, "data_sha256": digest}
        if cfg_path.exists():
            saved = _read_json(cfg_path)
            if saved.get("data_sha256") != digest:
                raise ValueError(
                    f"`out` directory {str(self.root)!r} holds a study on other data; use a new directory or the "
                    "same data."
                )
            try:
                old = StudyConfig.from_dict(saved.get("config", {}))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{str(cfg_path)!r} is damaged ({exc}); remove the folder and run again.") from None
            diff = {k: v for k, v in config.differences(old).items() if k not in EXTENDABLE}
            if diff:
                shown = "; ".join(f"{k}: {b!r} there, {a!r} now" for k, (a, b) in diff.items())
                raise ValueError(
                    f"`out` directory {str(self.root)!r} holds a study with other settings ({shown}); use a new "
                    f"directory, or the same settings to resume (only {list(EXTENDABLE)} may change)."
                )
            if saved.get("version") != __version__:
                warnings.warn(
                    f"The study in {str(self.root)!r} was started with metarouter_stats {saved.get('version')}; this is "
                    f"{__version__}. Finished rounds are kept: results may mix versions.",
                    UserWarning,
                    stacklevel=3,
                )
            if config.differences(old):
                atomic_write(cfg_path, json.dumps(meta, indent=2))
        else:
            atomic_write(cfg_path, json.dumps(meta, indent=2))
        return self._verified_tasks(config)

    def _manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST_FILE
        return _read_json(path) if path.exists() else {}

    def _verified_tasks(self, config: StudyConfig) -> set[tuple[int, int]]:
        manifest = self._manifest()
        wanted = {(r, g) for r in range(config.rounds) for g in config.gold_sizes}
        done: set[tuple[int, int]] = set()
        for f in sorted((self.root / ROUNDS_DIR).glob("round_*_gold_*.csv")):
            entry = manifest.get(f.name)
            try:
                parts = f.stem.split("_")
                task = (int(parts[1]), int(parts[3]))
            except (IndexError, ValueError):
                task = None
            if entry is None or task is None:
                warnings.warn(f"Ignoring {str(f)!r}: the study's manifest does not list it.", UserWarning, stacklevel=4)
                continue
            if task not in wanted:
                continue  # a round beyond a reduced `rounds`: kept on disk, not used
            problem = self._check_file(f, entry, config, task)
            if problem is None:
                done.add(task)
            else:
                os.replace(f, f.with_name(f.name + ".damaged"))
                warnings.warn(
                    f"Round file {str(f)!r} is damaged ({problem}); set aside as {f.name}.damaged and recomputed.",
                    UserWarning,
                    stacklevel=4,
                )
        return done

    @staticmethod
    def _check_file(path: Path, entry: Any, config: StudyConfig, task: tuple[int, int]) -> str | None:
        problem, raw = check_recorded_file(path, entry)
        if problem is not None:
            return problem
        try:
            frame = pd.read_csv(io.BytesIO(raw))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            return f"unreadable CSV ({exc})"
        return check_task_frame(frame, config, *task)

    # ------------------------------------------------------------------ write and read
    def save_task(self, frame: pd.DataFrame) -> None:
        """Checkpoint one finished task's rows and record its checksum in the manifest."""
        r, g = int(frame["round"].iloc[0]), int(frame["n_gold"].iloc[0])
        name = f"round_{r:05d}_gold_{g}.csv"
        digest = atomic_write(self.root / ROUNDS_DIR / name, frame.to_csv(index=False))
        manifest = self._manifest()
        manifest[name] = {"sha256": digest, "rows": len(frame)}
        atomic_write(self.root / MANIFEST_FILE, json.dumps(manifest, indent=1, sort_keys=True))

    def collect(self, tasks: set[tuple[int, int]]) -> pd.DataFrame:
        """The round files of ``tasks`` (verified by :meth:`prepare` or written by :meth:`save_task`), in order."""
        frames = [pd.read_csv(self.root / ROUNDS_DIR / f"round_{r:05d}_gold_{g}.csv") for r, g in sorted(tasks)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(RESULT_COLUMNS))

    def write_results(self, frame: pd.DataFrame) -> None:
        """Write ``results.csv``."""
        atomic_write(self.root / RESULTS_FILE, frame.to_csv(index=False))

    def read(self) -> tuple[pd.DataFrame, StudyConfig]:
        """(results frame, config) of a finished study, checked to be complete."""
        cfg_file, res_file = self.root / CONFIG_FILE, self.root / RESULTS_FILE
        for f in (cfg_file, res_file):
            if not f.is_file():
                raise FileNotFoundError(f"{str(f)!r} not found: `path` must be the --out folder of a finished study.")
        meta = _read_json(cfg_file)
        try:
            config = StudyConfig.from_dict(meta["config"] if "config" in meta else meta)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{str(cfg_file)!r} is damaged ({exc}).") from None
        try:
            frame = pd.read_csv(res_file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ValueError(f"{str(res_file)!r} is not a readable CSV ({exc}); run the study again to rebuild it.") from None
        want = config.n_tasks * expected_rows(config)
        if not _columns_ok(frame, config) or len(frame) != want or frame["gain"].isna().any():
            raise ValueError(
                f"{str(res_file)!r} is incomplete or damaged ({len(frame)} rows, {want} expected for "
                f"{config.n_tasks} tasks); run `metarouter study` on the same folder again to rebuild it."
            )
        return frame, config
