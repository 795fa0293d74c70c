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

__all__ = ["atomic_write", "atomic_write_bytes", "default_file_mode", "safe_folder", "save_figure"]


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
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically (a link planted at ``path`` is replaced, never followed); SHA-256."""
    path = Path(path)
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


def safe_folder(path: Path, name: str) -> Path:
    """Create the folder ``path`` (parents too) for the package's own files, refusing a link planted in its place.

    A symbolic link where the package expects its folder would send every file written there into the link's
    target.
    """
    path = Path(path)
    if path.is_symlink():
        raise ValueError(
            f"`{name}` {str(path)!r} is a symbolic link: the package writes its files only into a real folder. "
            "Remove the link or choose another folder."
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig: object, path: Path, *, dpi: int = 120, **kwargs: object) -> Path:
    """Render a matplotlib figure to PNG in memory and write it atomically (``savefig`` would follow a link)."""
    import io  # noqa: PLC0415

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, **kwargs)  # type: ignore[attr-defined]
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)
