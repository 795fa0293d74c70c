"""Argument checking shared by every stage.

One message style everywhere: ``"`name` must be ...; got ...."``. Each public
function validates its arguments here (or in a private ``_xxx_iv`` helper built
from these pieces) before doing any work, so that bad input never surfaces as a
traceback from deep inside numpy, scikit-learn or EconML.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_1d_float",
    "as_2d_float",
    "as_rng",
    "as_seed",
    "check_budget",
    "check_known_propensity",
    "check_n_jobs",
    "check_random_state",
    "as_source",
    "check_fraction",
    "check_positive_int",
]


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _real_numbers(arr: np.ndarray, name: str, hint: str) -> np.ndarray:
    """Booleans and object arrays of numbers as floats; complex data refused with scikit-learn's wording."""
    if arr.dtype.kind == "b":
        return arr.astype(float)
    if arr.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: `{name}` must hold real numbers; got dtype {arr.dtype}.")
    if arr.dtype.kind == "O":
        try:
            return arr.astype(float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"`{name}` must hold numbers; an entry of its object array is not one ({exc}).{hint}") from None
    return arr


def as_1d_float(values: Any, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """Return ``values`` as a finite 1-D float array or raise naming ``name``."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"`{name}` must be a 1-D array of numbers; got a string.")
    try:
        arr = np.asarray(values)
    except Exception as exc:  # pragma: no cover - numpy raises rarely here
        raise TypeError(f"`{name}` must be a 1-D array of numbers; got {_describe(values)}.") from exc
    if arr.ndim == 2 and 1 in arr.shape and arr.size > 0:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be 1-D; got an array of shape {arr.shape}. "
            "Pass one value per query."
        )
    arr = _real_numbers(arr, name, "")
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"`{name}` must hold numbers; got dtype {arr.dtype}. Convert it with "
            "`np.asarray(..., dtype=float)` first."
        )
    arr = arr.astype(float, copy=True)
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"`{name}` must not be empty.")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`{name}` must be finite; got {int(bad.sum())} NaN or infinite value(s), "
            f"the first at position {first}. Drop or impute those rows first."
        )
    return arr


def as_2d_float(values: Any, name: str) -> np.ndarray:
    """Return ``values`` as a finite 2-D float array (n x d) or raise naming ``name``.

    The messages for sparse, complex, empty and non-numeric object input contain
    scikit-learn's own wording (``check_array``), so that its estimator checks and users who
    know them recognise them.
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(f"`{name}` must be a 2-D array of numbers; got a string.")
    if hasattr(values, "toarray") and hasattr(values, "nnz"):  # scipy.sparse, without importing it
        raise TypeError(
            f"`{name}`: sparse data was passed, but dense data is required (query embeddings are dense). "
            f"Use `{name}.toarray()` to convert it to a dense numpy array."
        )
    try:
        arr = np.asarray(values)
    except ValueError as err:  # ragged nested lists: numpy's message names no argument
        raise ValueError(f"`{name}` must be a rectangular 2-D array (rows of equal length); {err}") from None
    if arr.ndim == 1:
        raise ValueError(
            f"`{name}` must be 2-D (n_queries x n_features); got a 1-D array of length "
            f"{arr.shape[0]}. Use `{name}.reshape(-1, 1)` for a single feature."
        )
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (n_queries x n_features); got shape {arr.shape}.")
    arr = _real_numbers(arr, name, " Embed text first, e.g. with `metarouter_stats.embed_texts`.")
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"`{name}` must hold numbers; got dtype {arr.dtype}. Embed text first, "
            "e.g. with `metarouter_stats.embed_texts`."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}`: found array with 0 sample(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.shape[1] == 0:
        raise ValueError(f"`{name}`: found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    # no copy when already float64: a million embeddings at d = 384 are 2.9 GB (the package never writes into X)
    arr = np.asarray(arr, dtype=float)
    if np.isfinite(arr.sum()):  # NaN and inf propagate into the sum; an overflow only sends us to the full check
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"`{name}` must be finite; got NaN or infinite values in {rows.size} row(s), "
            f"the first at row {int(rows[0])}. Drop or impute those rows first."
        )
    return arr


_GOLD_WORDS = {"gold", "gs", "gold-standard", "gold_standard"}
_PREF_WORDS = {"preference", "pb", "pref", "preference-based", "preference_based"}


def as_source(values: Any, name: str = "source") -> np.ndarray:
    """Return the evaluation mechanism as an int array: 1 = gold, 0 = preference.

    Accepts 0/1 numbers, booleans, or the strings ``"gold"`` / ``"preference"``
    (case-insensitive, also ``"gs"`` / ``"pb"``).
    """
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got an array of shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty.")
    if arr.dtype.kind in "OUS":
        out = np.empty(arr.size, dtype=int)
        for i, v in enumerate(arr):
            word = str(v).strip().lower()
            if word in _GOLD_WORDS or word in ("1", "1.0", "true"):
                out[i] = 1
            elif word in _PREF_WORDS or word in ("0", "0.0", "false"):
                out[i] = 0
            else:
                raise ValueError(
                    f"`{name}` must be 1 / 'gold' or 0 / 'preference'; got {str(v)!r} at position {i}."
                )
        return out
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be 0/1 or 'gold'/'preference'; got dtype {arr.dtype}.")
    return _numeric_source(arr.astype(float), name)


def _numeric_source(num: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(num).all():
        raise ValueError(f"`{name}` must be 0 or 1; got NaN or infinite values.")
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"`{name}` must be 1 (gold) or 0 (preference); got {float(num[bad][0])!r} at position "
            f"{int(np.flatnonzero(bad)[0])}."
        )
    return num.astype(int)


def check_fraction(value: Any, name: str, *, closed: bool = True) -> float:
    """Check a number in [0, 1] (``closed``) or (0, 1) and return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number; got {_describe(value)}.")
    v = float(value)
    ok = (0.0 <= v <= 1.0) if closed else (0.0 < v < 1.0)
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"`{name}` must be in {interval}; got {value!r}.")
    return v


#: the most resamples or sample splits a call takes: past it the Monte Carlo error is far below the statistical
#: error, and a call would run for hours (the package's per-replicate cost is ~1-10 ms)
MAX_RESAMPLES = 100_000


def check_positive_int(value: Any, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Check an integer >= ``minimum`` (and <= ``maximum``, a bound on work) and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {_describe(value)}.")
    if int(value) < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {value!r}.")
    if maximum is not None and int(value) > maximum:
        raise ValueError(
            f"`{name}` must be at most {maximum:,}; got {int(value):,}. Resampling error falls as 1/sqrt({name}): "
            f"{maximum:,} already puts it far below the statistical error, and more would run for hours."
        )
    return int(value)


def check_resamples(value: Any, name: str = "n_boot", *, minimum: int = 2) -> int:
    """A number of bootstrap replicates or sample splits: an integer from ``minimum`` to ``MAX_RESAMPLES``."""
    return check_positive_int(value, name, minimum=minimum, maximum=MAX_RESAMPLES)


def as_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Normalise ``rng`` (None, int, SeedSequence or Generator) to a Generator (SPEC 7)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ValueError(f"`{name}` must be a non-negative integer seed; got {rng!r}.")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"`{name}` must be None, an integer seed or a numpy.random.Generator; got {_describe(rng)}."
    )


def as_seed(rng: Any, name: str = "rng") -> int | None:
    """An integer seed for a scikit-learn ``random_state`` from ``rng`` (SPEC 7 style).

    None stays None, an integer is used as it is, a Generator or SeedSequence yields a
    drawn integer; a function that hands its randomness to scikit-learn takes ``rng``
    like every other function and passes this on.
    """
    if rng is None:
        return None
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ValueError(f"`{name}` must be a non-negative integer seed; got {rng!r}.")
        return int(rng)
    return int(as_rng(rng, name).integers(2**31 - 1))


def check_random_state(value: Any, name: str = "random_state") -> int | None:
    """An estimator's ``random_state``: None or a non-negative integer (the package's estimators take no other)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be None or a non-negative integer seed; got {_describe(value)}.")
    if int(value) < 0:
        raise ValueError(f"`{name}` must be a non-negative integer seed; got {value!r}.")
    return int(value)


def check_n_jobs(value: Any, name: str = "n_jobs") -> int | None:
    """joblib's ``n_jobs``: None or a non-zero integer (negative counts back from all cores)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) == 0:
        raise ValueError(
            f"`{name}` must be a non-zero integer (negative: all cores but |n_jobs| - 1, as in joblib) or None; "
            f"got {value!r}."
        )
    return int(value)


def check_known_propensity(propensity: Any, t: np.ndarray, *, name: str = "propensity") -> np.ndarray:
    """Validate per-row probabilities of gold labelling known by design; returns a float array.

    Every entry must be finite and in (0, 1] (a query that could not be gold-labelled has
    no identified bias), and below 1 on preference rows (a query labelled with certainty
    cannot be a preference row).
    """
    if isinstance(propensity, str) or np.ndim(propensity) != 1:
        raise ValueError(
            f"`{name}` must be a 1-D array of known probabilities, one per row; got {propensity!r:.60}."
        )
    try:
        pi = np.asarray(propensity, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must hold numbers (probabilities); got {propensity!r:.60}.") from None
    if pi.shape[0] != t.shape[0]:
        raise ValueError(f"`{name}` must have one entry per row ({t.shape[0]}); got {pi.shape[0]}.")
    bad = ~np.isfinite(pi) | (pi <= 0) | (pi > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`{name}` must be in (0, 1] on every row (the design must give every query a chance of a gold "
            f"label); got {int(bad.sum())} row(s) outside, the first {pi[i]!r} at row {i}."
        )
    certain = (pi >= 1) & (t == 0)
    if certain.any():
        raise ValueError(
            f"`{name}` is 1 on {int(certain.sum())} preference row(s) (first at row {int(np.flatnonzero(certain)[0])}): "
            "a query gold-labelled with certainty cannot be a preference row. Check the rows' sources."
        )
    return pi


def check_names(keys: Any, name: str = "scores") -> list[str]:
    """Router names as strings, refusing two keys that print alike (``1`` and ``"1"``): one would replace the other.

    Examples
    --------
    >>> from metarouter_stats._checks import check_names
    >>> check_names({"a": 1, 2: 2})
    ['a', '2']
    """
    names = [str(k) for k in keys]
    if len(set(names)) < len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(
            f"`{name}` has keys that read alike as router names: {dup} (e.g. the number 1 and the text '1'); "
            "give each router a distinct name."
        )
    return names


def check_budget(budget: Any, costs: np.ndarray, name: str = "budget") -> float:
    """A mean cost per query that some routing can meet: a finite number >= the all-cheapest mean cost.

    ``costs`` is the (n, K) cost matrix; every query on its cheapest model costs
    ``costs.min(axis=1).mean()`` on average, the least any router can spend.
    """
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise TypeError(f"`{name}` must be a number (a mean cost per query); got {budget!r}.")
    value = float(budget)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be a finite mean cost per query; got {budget!r}.")
    floor = float(np.min(costs, axis=1).mean())
    if value < floor - 1e-12:
        raise ValueError(
            f"`{name}` {value:g} is below the cheapest possible mean cost per query {floor:g} (every query on its "
            f"cheapest model): no router can meet it; raise `{name}`."
        )
    return value
