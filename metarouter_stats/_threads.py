"""The package's thread budget: how many threads its own compute may use.

scikit-learn's gradient-boosted trees (the default nuisance models) start one OpenMP thread
per core and spin-wait between parallel regions. On a machine whose cores are shared (other
jobs, notebooks, parallel study workers) that spinning costs far more than it gains: a
default fit took 164 s instead of 8.8 s on a busy 2-core machine. Every public entry point
that fits or predicts therefore runs under a thread budget, applied with ``threadpoolctl``
(which scikit-learn already depends on) to the OpenMP and BLAS pools:

* ``METAROUTER_NUM_THREADS=n`` in the environment sets it (inherited by study workers);
* ``with metarouter_stats.thread_budget(n): ...`` sets it for a block of code;
* otherwise, when the user has set ``OMP_NUM_THREADS``, that setting governs and the
  package imposes nothing;
* otherwise the budget is **1 thread**: never oversubscribed, about 20 % slower for a single
  fit on an idle machine than two threads. On a busy machine more threads than free cores
  are far slower (OpenMP's spin-waiting; ``OMP_WAIT_POLICY=PASSIVE``, set before Python
  starts, softens it at a cost on an idle machine); ``benchmarks/threads/run.py`` measures
  the ratios (``docs/benchmarks.md``). Raise the budget only on a machine you have to yourself, or set that variable
  with it.

Results do not depend on the budget (the fits are bit-for-bit identical with 1 or 2 threads;
``tests/test_threads.py``). It sits outside the stage order, like ``_checks``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ._checks import check_positive_int

__all__ = ["DEFAULT_THREADS", "ENV_VAR", "budgeted", "get_thread_budget", "thread_budget"]

ENV_VAR = "METAROUTER_NUM_THREADS"
DEFAULT_THREADS = 1

_override: contextvars.ContextVar[int | None] = contextvars.ContextVar("metarouter_thread_budget", default=None)
_active: contextvars.ContextVar[bool] = contextvars.ContextVar("metarouter_budget_active", default=False)

F = TypeVar("F", bound=Callable[..., Any])


def get_thread_budget() -> int | None:
    """The current budget in threads, or None when the user's ``OMP_NUM_THREADS`` governs.

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> with mrs.thread_budget(2):
    ...     mrs.get_thread_budget()
    2
    """
    value = _override.get()
    if value is not None:
        return value
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"The environment variable {ENV_VAR} must be a positive integer; got {env!r}.")
        return n
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return None
    return DEFAULT_THREADS


@contextlib.contextmanager
def thread_budget(n_threads: int) -> Iterator[int]:
    """Run the package's compute in this block with at most ``n_threads`` threads per process.

    Parameters
    ----------
    n_threads : int >= 1

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> with mrs.thread_budget(1) as n:
    ...     n
    1
    """
    n = check_positive_int(n_threads, "n_threads")
    token = _override.set(n)
    try:
        yield n
    finally:
        _override.reset(token)


def budgeted(func: F) -> F:
    """Decorator: run ``func`` under the thread budget (once, at the outermost budgeted call)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _active.get():
            return func(*args, **kwargs)
        n = get_thread_budget()
        if n is None:
            return func(*args, **kwargs)
        from threadpoolctl import threadpool_limits  # noqa: PLC0415

        token = _active.set(True)
        try:
            with threadpool_limits(limits=n):
                return func(*args, **kwargs)
        finally:
            _active.reset(token)

    return wrapper  # type: ignore[return-value]
