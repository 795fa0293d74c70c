"""Reading JSON lines with errors that name the file and the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["read_jsonl", "read_text"]


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a JSON-lines file.

    Raises
    ------
    ValueError
        ``"<file>:<line>: malformed JSON line (...)"`` or ``"... expected a JSON object"``.
    """
    rows = []
    lines = read_text(path).split("\n")  # as a file iterates: a U+2028 inside a JSON string is no line break
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: malformed JSON line ({exc.msg}).") from None
        except RecursionError:
            raise ValueError(f"{path}:{lineno}: JSON nested too deeply to read; one flat object per vote.") from None
        if not isinstance(rec, dict):
            raise ValueError(f"{path}:{lineno}: expected a JSON object; got {type(rec).__name__}.")
        rows.append((lineno, rec))
    return rows


def read_text(path: Path) -> str:
    """A UTF-8 text file (a byte-order mark is dropped); an error naming the file and the byte if it is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}); "
            "save the file as UTF-8."
        ) from None
