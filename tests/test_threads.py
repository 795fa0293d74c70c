"""The thread budget: limits the OpenMP / BLAS pools, respects the user, changes no number."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: F401 - loads scikit-learn's OpenMP runtime
from threadpoolctl import threadpool_info

import metarouter_stats as mrs
from metarouter_stats._threads import ENV_VAR, budgeted


@budgeted
def _pools():
    return {p["user_api"]: p["num_threads"] for p in threadpool_info()}


def test_budget_sources(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert mrs.get_thread_budget() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert mrs.get_thread_budget() is None  # the user's setting governs
    monkeypatch.setenv(ENV_VAR, "3")
    assert mrs.get_thread_budget() == 3
    with mrs.thread_budget(2):
        assert mrs.get_thread_budget() == 2
    monkeypatch.setenv(ENV_VAR, "zero")
    with pytest.raises(ValueError, match=r"METAROUTER_NUM_THREADS must be a positive integer; got 'zero'"):
        mrs.get_thread_budget()
    with pytest.raises(ValueError, match=r"`n_threads` must be an integer >= 1; got 0"):
        with mrs.thread_budget(0):
            pass


def test_pools_are_limited_inside_budgeted_calls(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    pools = _pools()
    assert pools and all(n == 1 for n in pools.values()), pools
    with mrs.thread_budget(2):
        assert all(n <= 2 for n in _pools().values())


def test_same_numbers_with_one_or_two_threads(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    s = mrs.simulate(n_gold=60, n_preference=600, n_test=50, rng=2)
    out = []
    for n in (1, 2):
        with mrs.thread_budget(n):
            r = mrs.MetaRouter(cate="r", random_state=1).fit(s.train)
            out.append((r.predict_gain(s.X_test), r.predict_bias(s.X_test)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
