"""Old spellings keep working for one release, each with a FutureWarning that names the new one."""

from __future__ import annotations

import numpy as np
import pytest

import metarouter_stats as mrs


def test_moved_names_import_from_inference_with_a_warning():
    for name, new in (("evaluate_routers", mrs.evaluate_routers), ("BiasRScorer", mrs.BiasRScorer),
                      ("evaluate_cost_quality", mrs.evaluate_cost_quality)):
        with pytest.warns(FutureWarning, match=name):
            assert getattr(mrs.inference, name) is new
    with pytest.warns(FutureWarning, match="internal engine"):
        assert callable(mrs.inference.refit_bootstrap)
    with pytest.raises(AttributeError):
        mrs.inference.no_such_name  # noqa: B018


def test_pvalue_spellings_are_aliases():
    rng = np.random.default_rng(0)
    res = mrs.bias_ttest(rng.normal(size=30), rng.normal(0.3, 1, 30), paired=True, scale=1.0)
    with pytest.warns(FutureWarning, match="p_value"):
        assert res.pvalue == res.p_value


def test_band_tuples_and_comparison_fields_are_aliases():
    rng = np.random.default_rng(1)
    g = np.where(rng.random(400) < 0.3, rng.normal(size=400), np.nan)
    ev = mrs.evaluate_routers({"a": rng.normal(size=400), "b": rng.normal(size=400)}, g, n_boot=50, rng=0)
    band = ev.band("a")
    with pytest.warns(FutureWarning, match="band.low"):
        low, high = band
    assert np.array_equal(low, band.low) and np.array_equal(high, band.high)
    comp = ev.compare("a", "b")
    with pytest.warns(FutureWarning, match="uniform.low"):
        assert np.array_equal(comp.uniform_low, comp.uniform.low, equal_nan=True)


def test_cost_quality_results_index_like_the_frame_they_were():
    rng = np.random.default_rng(2)
    g = np.column_stack([np.zeros(200), rng.normal(0.5, 1, 200)])
    res = mrs.cost_quality_interval(g, np.tile([1.0, 2.0], (200, 1)), {"r": g + rng.normal(size=g.shape)}, n_boot=20,
                                    rng=0)
    with pytest.warns(FutureWarning, match="to_frame"):
        assert list(res["aiq"]) == list(res.to_frame()["aiq"])
