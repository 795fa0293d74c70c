"""A self-contained HTML document: inline CSS, figures embedded as base64 PNG, no scripts.

Written with the standard library (``html``, ``base64``) and pandas' ``to_html``:
a template engine would be one more dependency for a single static page.
"""

from __future__ import annotations

import base64
import html
import time
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._files import atomic_write
__all__ = ["Report", "check_output_file", "figure_png", "json_block", "versions_table"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 84rem; padding: 0 1rem; color: #222; line-height: 1.45; }
p, figcaption { max-width: 68rem; }
h1 { border-bottom: 2px solid #345; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: right; }
td:not(:first-child) { white-space: nowrap; }  /* an estimate and its interval stay on one line */
th { background: #f0f3f6; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: .8rem; }
.note { color: #555; font-size: .9rem; }
.verdict-ok { color: #1a7f37; font-weight: bold; }
.verdict-warn { color: #b35900; font-weight: bold; }
"""


def figure_png(fig: Any, *, dpi: int = 110) -> bytes:
    """PNG bytes of a matplotlib figure (closed afterwards so reports do not leak figures)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


@dataclass(frozen=True)
class _Figure:
    data: str
    caption: str


def _is_p_column(name: Any) -> bool:
    text = str(name).lower().replace("-", " ").replace("_", " ")
    return text.startswith("p ") or text in ("p", "pvalue", "p_value", "p value") or "p value" in text or text.startswith("p(")


def format_number(value: Any, digits: int = 3, *, pvalue: bool = False, keep_decimals: bool = False) -> str:
    """One number for a report table.

    p-values below 1e-4 print as ``<1e-4`` (4 decimals otherwise); whole numbers print without
    decimals (a df of 129, not ``129.0000``) unless ``keep_decimals`` (a column of fractions in
    which one value happens to be 1 prints ``1.000`` like its neighbours); non-zero numbers too
    small for ``digits`` decimals print in scientific notation (a price of ``2.5e-06``, not
    ``0.000000``); NaN prints empty.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(v):
        return "" if np.isnan(v) else str(v)
    if pvalue:
        return "<1e-4" if v < 1e-4 else f"{v:.4f}"
    if v == int(v) and abs(v) < 1e15 and not keep_decimals:
        return f"{int(v)}"
    if 0 < abs(v) < 0.5 * 10.0 ** (-digits):
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


@dataclass
class Report:
    """An HTML report: sections of text, tables and embedded figures, plus the numbers behind them.

    Attributes
    ----------
    title : str
    results : dict
        The computed objects shown in the report (test results, bands, curves, ...),
        so every number can be reused without parsing HTML.
    figures : list of str
        Captions of the embedded figures, in order.

    Examples
    --------
    >>> from metarouter_stats.report import Report
    >>> rep = Report("Example")
    >>> rep.section("Numbers")
    >>> rep.paragraph("Two & two.")
    >>> rep.table(__import__("pandas").DataFrame({"a": [1, 2]}))
    >>> "<h2>Numbers</h2>" in rep.to_html() and "Two &amp; two." in rep.to_html()
    True
    """

    title: str
    results: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    _body: list[Any] = field(default_factory=list, repr=False)
    progress: Any = field(default=None, repr=False, compare=False)  # a tqdm bar ticked by section()
    _clock: list[tuple[str, float]] = field(default_factory=list, repr=False, compare=False)

    # ------------------------------------------------------------------ building blocks
    def section(self, heading: str) -> None:
        """Start a section (and tick the progress bar, if any; the start time is kept for ``section_seconds``)."""
        self._clock.append((heading, time.perf_counter()))
        self._body.append(f"<h2>{html.escape(heading)}</h2>")
        if self.progress is not None:
            self.progress.set_description_str(f"report: {heading[:40]}")
            self.progress.update(1)

    def section_seconds(self, until: float | None = None) -> dict[str, float]:
        """Wall-clock seconds from the start of each section to the start of the next (the last: to ``until``,
        default now), in the order the sections were written."""
        end = time.perf_counter() if until is None else until
        out: dict[str, float] = {}
        for (name, t0), (_, t1) in zip(self._clock, [*self._clock[1:], ("", end)], strict=True):
            out[name] = out.get(name, 0.0) + (t1 - t0)
        return out

    def markdown(self, text: str) -> None:
        """Paragraphs of plain text separated by blank lines; ``code`` spans in backticks."""
        for para in text.strip().split("\n\n"):
            esc = html.escape(" ".join(para.split()))
            parts = esc.split("`")
            body = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
            self._body.append(f"<p>{body}</p>")

    def paragraph(self, text: str, *, css_class: str | None = None) -> None:
        """A paragraph of plain text (escaped)."""
        cls = f' class="{css_class}"' if css_class else ""
        self._body.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, *, index: bool = False, digits: int = 3) -> None:
        """A table from a DataFrame, numbers formatted by :func:`format_number` (``digits`` decimals).

        One format per column: a column with any fractional value keeps ``digits`` decimals on
        all its values.
        """
        def fractional(col: Any) -> bool:
            v = frame[col].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            return bool(np.any(v != np.round(v)))

        formatters = {
            col: (lambda v, c=col, keep=fractional(col): format_number(v, digits, pvalue=_is_p_column(c),
                                                                       keep_decimals=keep))
            for col in frame.columns if pd.api.types.is_float_dtype(frame[col])
        }
        self._body.append(
            '<div class="table-wrap">'
            + frame.to_html(index=index, formatters=formatters, border=0, na_rep="")
            + "</div>"
        )

    def preformatted(self, text: str) -> None:
        """Monospaced text (escaped)."""
        self._body.append(f"<pre>{html.escape(text)}</pre>")

    def figure(self, fig: Any, caption: str) -> None:
        """Embed a matplotlib figure as a base64 PNG with a caption (numbered when rendered)."""
        png = figure_png(fig)
        self.figures.append(caption)
        self._body.append(_Figure(base64.b64encode(png).decode("ascii"), caption))

    def insert(self, position: int, other: Report) -> None:
        """Insert another report's blocks at ``position`` of this body (e.g. a summary written last,
        shown first); figures are renumbered when rendered."""
        self._body[position:position] = other._body
        self.figures[0:0] = other.figures if position == 0 else []
        if position != 0:
            self.figures.extend(other.figures)

    def extend(self, other: Report, *, key: str | None = None) -> None:
        """Append another report's sections (figures renumbered); its results go under ``key``."""
        self._body.extend(other._body)
        self.figures.extend(other.figures)
        if key is not None:
            self.results[key] = other.results

    def _render_body(self) -> str:
        parts, k = [], 0
        for block in self._body:
            if isinstance(block, _Figure):
                k += 1
                cap = html.escape(block.caption)
                parts.append(
                    f'<figure id="figure-{k}"><img alt="Figure {k}: {html.escape(block.caption, quote=True)}" '
                    f'src="data:image/png;base64,{block.data}"><figcaption>Figure {k}. {cap}</figcaption></figure>'
                )
            else:
                parts.append(block)
        return "\n".join(parts)

    # ------------------------------------------------------------------ output
    def to_html(self) -> str:
        """The whole document as a string."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1><p class=\"note\">Generated {stamp} by metarouter_stats.</p>"
            + self._render_body()
            + "</body></html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the HTML file (parent folders are created) through a temporary file; returns its path."""
        out = check_output_file(path, "path")
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, self.to_html())
        return out

    def _repr_html_(self) -> str:
        return self.to_html()


def json_block(values: Any) -> str:
    """Pretty JSON of plain values (for configs)."""
    return json.dumps(values, indent=2, sort_keys=True, default=str)


def versions_table() -> pd.DataFrame:
    """Python and package versions, for a report's reproduction section."""
    import platform  # noqa: PLC0415
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    rows = [("python", platform.python_version())]
    for pkg in ("metarouter_stats", "numpy", "scipy", "pandas", "scikit-learn", "statsmodels", "econml", "matplotlib"):
        try:
            rows.append((pkg, version(pkg)))
        except PackageNotFoundError:  # pragma: no cover
            rows.append((pkg, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"])


def check_output_file(path: Any, name: str) -> Path:
    """An HTML output file path that can be written: not '', not a folder, ending in .html (or .htm), in a
    writable (or creatable) folder."""
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise ValueError(f"`{name}` must be a file path; got {path!r}.")
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"`{name}` {str(out)!r} is a folder; give a file name, e.g. {str(out / 'report.html')!r}.")
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(
            f"`{name}` {str(out)!r}: reports are written as HTML; give a file name ending in .html, e.g. "
            f"{str(out.with_suffix('.html'))!r} (print it to PDF from a browser if you need one)."
        )
    existing = next((p for p in (out.parent, *out.parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ValueError(f"`{name}` {str(out)!r}: {str(existing)!r} is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PermissionError(f"`{name}` {str(out)!r} cannot be written (no write permission).")
    return out
