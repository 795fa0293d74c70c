"""Token costs: what each model costs on each query (prices per million tokens, per-call fees)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._checks import as_1d_float, as_2d_float

__all__ = ["TokenCost", "cost_matrix"]

_PER_MILLION = 1e-6


def _price(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number (price per million tokens); got {value!r}.")
    price = float(value)
    if not np.isfinite(price) or price < 0:
        raise ValueError(f"`{name}` must be a finite price >= 0; got {value!r}.")
    return price


@dataclass(frozen=True, slots=True)
class TokenCost:
    """Price of one model: per million input and output tokens, plus a flat fee per call.

    Parameters
    ----------
    input_price, output_price : float >= 0
        Prices per million input / output tokens.
    per_call : float >= 0, default 0
        Flat cost of one call.

    Examples
    --------
    >>> from metarouter_stats import TokenCost
    >>> TokenCost(2.5, 10.0).cost([1000, 2000], [500, 100]).tolist()
    [0.0075, 0.006]
    >>> TokenCost.flat(1.0).cost([10], [20]).tolist()
    [1.0]
    """

    input_price: float
    output_price: float
    per_call: float = 0.0

    def __post_init__(self) -> None:
        for name in ("input_price", "output_price", "per_call"):
            object.__setattr__(self, name, _price(getattr(self, name), name))

    @classmethod
    def flat(cls, price: float) -> TokenCost:
        """A per-call price regardless of tokens (``flat(1.0)`` vs ``flat(0.0)`` is the unit cost)."""
        return cls(0.0, 0.0, price)

    def cost(self, n_in: Any, n_out: Any) -> np.ndarray:
        """Cost of each query given its input and output token counts."""
        a = as_1d_float(n_in, "n_in")
        b = as_1d_float(n_out, "n_out")
        if a.shape != b.shape:
            raise ValueError(f"`n_in` and `n_out` must have the same length; got {a.size} and {b.size}.")
        if np.any(a < 0) or np.any(b < 0):
            raise ValueError("Token counts `n_in` and `n_out` must be >= 0.")
        with np.errstate(over="ignore", invalid="ignore"):
            cost = (self.input_price * a + self.output_price * b) * _PER_MILLION + self.per_call
        if not np.all(np.isfinite(cost)):
            bad = int(np.flatnonzero(~np.isfinite(cost))[0])
            raise ValueError(
                f"The cost of query {bad} overflows floating point ({a[bad]:.3g} input and {b[bad]:.3g} output tokens "
                f"at {self.input_price:.3g} / {self.output_price:.3g} per million): check the token counts and prices."
            )
        return cost


def cost_matrix(
    costs: Mapping[str, TokenCost], models: Sequence[str], n_in: Any = None, n_out: Any = None, n: int | None = None
) -> np.ndarray:
    """n x K matrix of query costs, columns in the order of ``models``.

    Parameters
    ----------
    costs : mapping model name -> TokenCost
    models : sequence of str
    n_in : array-like of shape (n,), optional
        Input tokens per query (the same for every model); 0 when omitted.
    n_out : array (n,), array (n, K), DataFrame or mapping model -> array (n,), optional
        Output tokens per query: one count per query used for every model (1-D), or one
        column per model in the order of ``models``; 0 when omitted.
    n : int, optional
        Number of queries when no token counts are given.
    """
    if isinstance(models, str):
        raise TypeError(f"`models` must be a list of model names, not one string; got {models!r}.")
    if not isinstance(costs, Mapping):
        raise TypeError(f"`costs` must be a mapping model name -> TokenCost; got {type(costs).__name__}.")
    missing = [m for m in models if m not in costs]
    if missing:
        raise ValueError(f"`costs` has no price for model(s) {missing}; priced models are {list(costs)}.")
    for m in models:
        if not isinstance(costs[m], TokenCost):
            raise TypeError(
                f"`costs[{m!r}]` must be a TokenCost (e.g. TokenCost({costs[m]!r}, {costs[m]!r}) or "
                f"TokenCost.flat({costs[m]!r})); got {type(costs[m]).__name__}."
            )
    if n_in is None and n_out is None and n is None:
        raise ValueError("Pass token counts (`n_in`, `n_out`) or the number of queries `n`.")
    if n_in is not None:
        n_in = as_1d_float(n_in, "n_in")
        n = n_in.size
    if n_out is not None:
        if isinstance(n_out, pd.DataFrame):
            unknown = [c for c in n_out.columns if c not in models]
            if unknown:
                raise ValueError(f"`n_out` has columns for unknown model(s) {unknown}; models are {list(models)}.")
            out = np.column_stack([n_out[m].to_numpy(dtype=float) if m in n_out else np.zeros(len(n_out)) for m in models])
        elif isinstance(n_out, Mapping):
            unknown = [c for c in n_out if c not in models]
            if unknown:
                raise ValueError(f"`n_out` has entries for unknown model(s) {unknown}; models are {list(models)}.")
            length = len(next(iter(n_out.values()))) if n_out else (n or 0)
            out = np.column_stack([as_1d_float(n_out[m], f"n_out[{m!r}]") if m in n_out else np.zeros(length) for m in models])
        elif np.ndim(n_out) == 1:  # one count per query, the same for every model
            col = as_1d_float(n_out, "n_out")
            out = np.column_stack([col] * len(models))
        else:
            out = as_2d_float(n_out, "n_out")
            if out.shape[1] != len(models):
                raise ValueError(f"`n_out` must have one column per model ({len(models)}); got shape {out.shape}.")
        if n is not None and out.shape[0] != n:
            raise ValueError(f"`n_out` must have one row per query ({n}); got {out.shape[0]}.")
        n = out.shape[0]
    else:
        if n is None:  # pragma: no cover - excluded by the check at the top
            raise ValueError("Pass token counts (`n_in`, `n_out`) or the number of queries `n`.")
        out = np.zeros((n, len(models)))
    if n_in is None:
        n_in = np.zeros(n)
    return np.column_stack([costs[m].cost(n_in, out[:, k]) for k, m in enumerate(models)])
