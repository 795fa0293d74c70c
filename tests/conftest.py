"""Shared fixtures and the deterministic hypothesis profile used in CI."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import metarouter_stats as mrs

settings.register_profile(
    "ci", derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _one_thread_per_test_worker():
    """The suite runs on two xdist workers: every OpenMP / BLAS pool of a worker gets one thread
    for the whole session, also outside the package's budgeted calls (numpy in test code), so
    that the two workers never oversubscribe two cores. Results do not depend on it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def small_study():
    """A small paper-like study (fast to fit)."""
    return mrs.simulate(n_gold=60, n_preference=600, n_test=200, rng=0)


@pytest.fixture(scope="session")
def data_dir():
    """Path of the shared real data, from METAROUTER_DATA_DIR; skips when unset."""
    path = os.environ.get("METAROUTER_DATA_DIR")
    if not path:
        pytest.skip("METAROUTER_DATA_DIR is not set: real-data tests need the shared data folder.")
    if not os.path.isdir(path):
        pytest.skip(f"METAROUTER_DATA_DIR={path!r} is not a directory.")
    return path


@pytest.fixture
def traced_peak() -> Callable[[Callable[[], Any]], tuple[Any, int]]:
    """Run a callable under ``tracemalloc``: ``traced_peak(fn)`` returns ``(fn(), peak bytes traced during it)``.

    numpy reports its allocations to ``tracemalloc``, so the peak counts the arrays a call makes."""

    def run(fn: Callable[[], Any]) -> tuple[Any, int]:
        tracemalloc.start()
        try:
            out = fn()
            return out, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    return run
