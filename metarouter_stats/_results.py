"""The one contract of every public result object.

Every result the package returns (tests, bands, curves, reports of overlap, calibrations,
frontiers, studies) is

* **frozen**: a frozen dataclass (with slots where no cached property is needed); its
  arrays are read-only and its frames are handed out as copies, so that a result cannot
  be changed after the fact;
* ``summary()`` -> str: a titled, aligned plain-text table; ``__str__`` is the summary and
  ``_repr_html_`` renders **the same rows** as an HTML table (Jupyter);
* ``to_frame()`` -> pandas.DataFrame: the tidy numbers;
* ``plot(ax=None)`` -> the matplotlib Axes drawn on (an ndarray of Axes for multi-panel
  results), where the result has a natural picture;
* ``confidence_interval(confidence_level=0.95)`` wherever an estimate has one.

It sits outside the stage order, like ``_checks``: every stage may use it.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ResultMixin", "frozen_array", "frozen_copy", "new_axes", "plain_log_ticks", "router_style"]

# one colour (and line style) per router name in every figure of the package
_ROUTER_STYLES: dict[str, dict[str, Any]] = {
    "oracle": {"color": "black", "linestyle": "--"},
    "meta-dr": {"color": "#1f77b4"},
    "meta-r": {"color": "#ff7f0e"},
    "meta-forest": {"color": "#8c564b"},
    "gold-only": {"color": "#2ca02c"},
    "preference-only": {"color": "#d62728"},
    "pooled": {"color": "#9467bd"},
    "mean-shift": {"color": "#e377c2"},
    "random": {"color": "grey", "linestyle": ":"},
}
_EXTRA = ("#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a")


def router_style(name: str) -> dict[str, Any]:
    """Matplotlib style of a router, the same in every figure (unknown names: a stable pick by name)."""
    if name in _ROUTER_STYLES:
        return dict(_ROUTER_STYLES[name])
    import zlib  # noqa: PLC0415

    return {"color": _EXTRA[zlib.crc32(name.encode()) % len(_EXTRA)]}


def frozen_array(values: Any, dtype: Any = float) -> np.ndarray:
    """A read-only copy of ``values`` as an ndarray."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def frozen_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """A private copy of a frame to store in a frozen result (hand it out with ``.copy()``)."""
    return frame.copy(deep=True)


def new_axes(ax: Any = None, figsize: tuple[float, float] = (6, 4)) -> Any:
    """``ax`` itself, or a new figure's Axes."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # noqa: PLC0415

    _, ax = plt.subplots(figsize=figsize)
    return ax


class ResultMixin:
    """``summary`` / ``__str__`` / ``_repr_html_`` from one list of rows.

    Subclasses define ``_title`` (str) and ``_rows()`` -> list of (label, text), and
    ``to_frame()``.
    """

    __slots__ = ()
    _title: str = "Result"

    def _rows(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _notes(self) -> list[str]:
        """Free-text lines under the table (what the result covers, caveats)."""
        return []

    def summary(self) -> str:
        """Plain-text summary: a title, one aligned line per quantity, then notes."""
        rows = self._rows()
        width = max((len(k) for k, _ in rows), default=0)
        lines = [self._title, "=" * max(len(self._title), 20)]
        lines += [f"{k:<{width}}  {v}" for k, v in rows]
        notes = self._notes()
        if notes:
            lines += [""] + notes
        return "\n".join(lines)

    def summary_table(self) -> pd.DataFrame:
        """The summary's rows as a two-column frame (quantity, value), labelled in words."""
        return pd.DataFrame(self._rows(), columns=["quantity", "value"])

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        """One line: the class and its scalar fields, with the shapes of its arrays (no draws dumped)."""
        import dataclasses  # noqa: PLC0415

        parts: list[str] = []
        fields: tuple[Any, ...] = dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()
        for f in fields:
            if f.name.startswith("_"):
                continue
            try:
                v = getattr(self, f.name)
            except AttributeError:
                continue
            if isinstance(v, np.ndarray):
                parts.append(f"{f.name}=<array {'x'.join(map(str, v.shape))}>")
            elif isinstance(v, (pd.DataFrame, pd.Series)):
                parts.append(f"{f.name}=<{type(v).__name__} {'x'.join(map(str, v.shape))}>")
            elif isinstance(v, (int, float, str, bool, np.integer, np.floating)) or v is None:
                text = repr(v)
                parts.append(f"{f.name}={text if len(text) <= 60 else text[:57] + '...'}")
            elif isinstance(v, tuple) and len(v) <= 8:
                parts.append(f"{f.name}={v!r}")
            else:
                parts.append(f"{f.name}=<{type(v).__name__}>")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in self._rows()
        )
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self._notes())
        return f"<table><caption>{html.escape(self._title)}</caption>{body}</table>{notes}"

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame of the result's numbers."""
        raise NotImplementedError


def plain_log_ticks(ax: Any) -> None:
    """Label a log x axis with plain numbers (10, 20, 30, 50, ...) and no crowded minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter  # noqa: PLC0415

    low, high = ax.get_xlim()
    ticks = [v * 10**k for k in range(-3, 7) for v in (1, 2, 3, 5) if low <= v * 10**k <= high]
    if len(ticks) >= 2:
        ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
