"""Writing files safely: one atomic write for every file the package produces.

A fresh temporary file in the target folder (``tempfile.mkstemp``: a unique name, created
exclusively, so a link planted in the folder is never followed), flushed, fsynced and renamed
over the target (a rename replaces a link itself, never its target). It sits outside the stage
order, like ``_checks``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; return its SHA-256."""
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return hashlib.sha256(data).hexdigest()
