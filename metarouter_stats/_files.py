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

__all__ = ["atomic_write", "default_file_mode"]


def default_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file: 0o666 less the process umask.

    ``mkstemp`` creates its file 0o600 whatever the umask; a report on a shared server must be as
    readable as any other file its author writes. (The umask can only be read by setting it: it
    is set back at once.)
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; return its SHA-256."""
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, default_file_mode())
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
