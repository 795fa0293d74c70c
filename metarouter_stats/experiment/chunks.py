"""Checkpointed chunks of a Monte Carlo benchmark, merged into one results file.

A long benchmark runs in chunks (a few replications of a few cells each, on several machines
or over several days). :class:`ChunkStore` keeps them the way :class:`StudyStore` keeps a
study's rounds:

* ``chunks/<key>.csv``: one finished chunk each, written atomically;
* ``chunks/manifest.json``: the SHA-256 and row count of every chunk, recorded when written;
* ``chunks/.lock``: held (``filelock``) while a process writes;
* ``results.csv.gz``: every chunk merged, one row per replication and a ``chunk`` column
  naming the chunk it came from; the file a benchmark's summary is computed from.

A chunk that fails its checksum is set aside as ``*.damaged`` with a warning and counts as not
done (it is recomputed on the next run); a chunk the manifest does not know is ignored.
Merging replaces the rows of every chunk found in ``chunks/`` and keeps the rows of chunks
merged earlier, so ``results.csv.gz`` can be committed while ``chunks/`` is not.

Examples
--------
>>> import tempfile, pandas as pd
>>> from metarouter_stats.experiment import ChunkStore
>>> with tempfile.TemporaryDirectory() as d:
...     store = ChunkStore(d)
...     store.save("g50_r0", pd.DataFrame({"rep": [0, 1], "covered": [True, False]}))
...     sorted(store.done()), len(store.merge())
(['g50_r0'], 2)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._files import atomic_write, atomic_write_bytes, safe_folder

__all__ = ["ChunkStore", "check_recorded_file", "write_summary_section"]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]*$")
CHUNKS_DIR = "chunks"
MANIFEST = "manifest.json"
RESULTS = "results.csv.gz"


def check_recorded_file(path: Path, entry: Any) -> tuple[str | None, bytes]:
    """(problem or None, the file's bytes) for a file the package wrote and recorded in a manifest.

    Only a regular file is read (a FIFO would block for ever, a link could point anywhere, a
    folder cannot be read); its size must be plausible for its recorded rows and its SHA-256 must
    be the one recorded when it was written.
    """
    if path.is_symlink() or not path.is_file():
        kind = "a symbolic link" if path.is_symlink() else "not a regular file (a folder, FIFO or device)"
        return f"it is {kind}", b""
    size = path.stat().st_size
    rows = int(entry.get("rows", 0)) if isinstance(entry, dict) else 0
    if size > max(1_000_000, 10_000 * (rows + 1)):
        return f"it holds {size} bytes, far more than its {rows} recorded rows", b""
    raw = path.read_bytes()
    if not isinstance(entry, dict) or hashlib.sha256(raw).hexdigest() != entry.get("sha256"):
        return "its checksum differs from the one recorded when it was written", raw
    return None, raw


class ChunkStore:
    """A benchmark's folder of checkpointed chunks and their merged results (see the module docstring).

    Parameters
    ----------
    root : path
        The benchmark's folder (``benchmarks/<name>``).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        if str(root) == "":
            raise ValueError("`root` must be a folder path; got ''.")
        self.root = Path(root)

    @property
    def chunk_dir(self) -> Path:
        return self.root / CHUNKS_DIR

    @property
    def results_path(self) -> Path:
        return self.root / RESULTS

    def _manifest(self) -> dict[str, Any]:
        path = self.chunk_dir / MANIFEST
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            warnings.warn(f"{str(path)!r} is unreadable: every chunk counts as not done.", UserWarning, stacklevel=3)
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _check_key(key: str) -> str:
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"A chunk key must be letters, digits and _ . = - (not starting with one of the last "
                             f"four); got {key!r}.")
        return key

    def save(self, key: str, frame: pd.DataFrame, *, merge: bool = True) -> None:
        """Checkpoint one finished chunk and record its checksum (under the folder's lock); then merge (default)."""
        from filelock import FileLock  # noqa: PLC0415

        self._check_key(key)
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            raise ValueError(f"Chunk {key!r} must be a non-empty DataFrame.")
        safe_folder(self.root, "root")
        safe_folder(self.chunk_dir, "root/chunks")
        with FileLock(str(self.chunk_dir / ".lock")):
            digest = atomic_write(self.chunk_dir / f"{key}.csv", frame.to_csv(index=False))
            manifest = self._manifest()
            manifest[key] = {"sha256": digest, "rows": len(frame)}
            atomic_write(self.chunk_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        if merge:
            self.merge()

    def _chunks(self) -> dict[str, pd.DataFrame]:
        manifest = self._manifest()
        out: dict[str, pd.DataFrame] = {}
        if not self.chunk_dir.is_dir():
            return out
        for path in sorted(self.chunk_dir.glob("*.csv")):
            key = path.stem
            if key not in manifest:
                warnings.warn(f"Ignoring {str(path)!r}: the manifest does not list it.", UserWarning, stacklevel=3)
                continue
            problem, raw = check_recorded_file(path, manifest[key])
            if problem is None:
                try:
                    out[key] = pd.read_csv(io.BytesIO(raw))
                    continue
                except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                    problem = f"unreadable CSV ({exc})"
            os.replace(path, path.with_name(path.name + ".damaged"))
            warnings.warn(f"Chunk {str(path)!r} is damaged ({problem}); set aside as {path.name}.damaged and counted "
                          "as not done.", UserWarning, stacklevel=3)
        return out

    def done(self) -> set[str]:
        """Keys of the verified chunks in ``chunks/`` and of the chunks already merged into the results."""
        merged = set(self.read()["chunk"].astype(str)) if self.results_path.is_file() else set()
        return merged | set(self._chunks())

    def read(self) -> pd.DataFrame:
        """The merged results (empty without any)."""
        if not self.results_path.is_file():
            return pd.DataFrame({"chunk": pd.Series(dtype=str)})
        return pd.read_csv(self.results_path)

    def merge(self) -> pd.DataFrame:
        """Merge every verified chunk into ``results.csv.gz`` (replacing earlier rows of the same chunk); return it."""
        chunks = self._chunks()
        old = self.read()
        keep = old[~old["chunk"].astype(str).isin(chunks)] if len(old) else old
        frames = [keep] + [f.assign(chunk=k) for k, f in sorted(chunks.items())]
        frames = [f for f in frames if len(f)]
        merged = pd.concat(frames, ignore_index=True) if frames else old
        cols = ["chunk"] + [c for c in merged.columns if c != "chunk"]
        merged = merged[cols]
        buf = io.BytesIO()
        merged.to_csv(buf, index=False, compression={"method": "gzip", "mtime": 0})  # same rows, same bytes
        safe_folder(self.root, "root")
        atomic_write_bytes(self.results_path, buf.getvalue())
        return merged

    def chunk(self, key: str) -> pd.DataFrame:
        """The merged rows of one chunk (empty if it is not there), without the ``chunk`` column."""
        merged = self.read()
        if not len(merged):
            return merged.drop(columns="chunk")
        return _restore(merged[merged["chunk"].astype(str) == key].drop(columns="chunk").reset_index(drop=True))

    def rows(self, prefix: str = "") -> pd.DataFrame:
        """The merged rows of the chunks whose key starts with ``prefix`` (merging first).

        Columns that only other chunks have are dropped, and whole-number columns that the merge turned
        into floats (NaN elsewhere) are integers again, so that a chunk reads back as it was written.
        """
        merged = self.merge()
        return _restore(merged[merged["chunk"].astype(str).str.startswith(prefix)].reset_index(drop=True))


def _restore(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop all-NaN columns; float columns holding whole numbers only back to integers."""
    frame = frame.dropna(axis=1, how="all")
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind == "f" and col.notna().all() and bool(((col % 1) == 0).all()):
            frame[c] = col.astype(np.int64)
    return frame


def write_summary_section(path: str | os.PathLike[str], title: str, text: str, *, preamble: str = "") -> None:
    """Write ``text`` as the section ``## title`` of a benchmark's ``summary.md`` (replacing that section only).

    The file starts with ``preamble`` (kept from the file when empty); sections keep their order, a
    new one goes at the end; headings inside ``text`` move two levels down.
    """
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    parts = re.split(r"(?m)^## ", old)
    head, sections = parts[0], {}
    order = []
    for part in parts[1:]:
        name, _, body = part.partition("\n")
        sections[name.strip()] = body
        order.append(name.strip())
    if title not in sections:
        order.append(title)
    body = re.sub(r"(?m)^(#+) ", lambda m: "##" + m.group(1) + " ", text.strip())  # its headings below the section's
    sections[title] = "\n" + body + "\n\n"
    out = (preamble.strip() + "\n\n" if preamble else head) + "".join(f"## {t}\n{sections[t]}" for t in order)
    atomic_write(path, out.rstrip() + "\n")
