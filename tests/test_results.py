"""Every public result type keeps the one result contract (metarouter_stats._results).

frozen, arrays read-only, frames handed out as copies; ``summary()`` text, ``__str__`` the
summary, ``_repr_html_`` from the same rows; ``to_frame()`` a frame; ``plot(ax=None)`` returns
the Axes; ``confidence_interval(confidence_level=...)`` where an estimate has one.
"""

from __future__ import annotations

import dataclasses
import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import metarouter_stats as mrs  # noqa: E402
from metarouter_stats import datasets, experiment  # noqa: E402
from metarouter_stats._results import ResultMixin  # noqa: E402


@pytest.fixture(scope="module")
def results():
    s = mrs.simulate(n_gold=60, n_preference=400, n_test=80, d=6, rng=0)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    scores = router.predict_gain(s.X_test)
    g = np.column_stack([np.zeros(80), s.gold_test])
    c = np.column_stack([np.zeros(80), np.ones(80)])
    cfg = experiment.StudyConfig(rounds=2, gold_sizes=(20,), n_preference=100, n_test=40, d=6,
                                 routers=("gold-only", "random"))
    votes = pd.DataFrame({"query_id": ["a", "a", "b", "b", "c"], "mechanism": ["gold", "preference"] * 2 + ["gold"],
                          "model_a": "p", "model_b": "q", "winner": ["model_a", "tie", "model_b", "model_a", "tie"]})
    gold_eval = np.where(np.arange(80) % 4 == 0, s.gold_test, np.nan)
    ev = mrs.evaluate_routers({"meta": scores, "noise": np.arange(80.0) % 7}, gold_eval,
                              pseudo_gold=mrs.pseudo_gold(router, s.X_test), n_boot=40, rng=0)
    return {
        "RouterEvaluation": ev,
        "RouterComparison": ev.compare("meta", "noise"),
        "ScalarEstimate": ev.area("meta"),
        "BiasTestResult": mrs.bias_ttest(s.gold_test, s.gold_test + 0.1 * np.arange(80) % 3),
        "ScaleSensitivity": mrs.scale_sensitivity(s.gold_test, 0.3 * s.gold_test + 0.1 * np.arange(80) % 3),
        "HeterogeneityTestResult": mrs.bias_heterogeneity_test(router, rng=0),
        "GroupBiasResult": mrs.bias_by_group(router, n_splits=10, rng=0),
        "Band": mrs.bias_interval(router, s.X_test[:10], n_boot=30, rng=0),
        "EfficiencyGainBand": mrs.efficiency_gain_interval(s.gold_test, scores, n_boot=50, rng=0),
        "EfficiencyGainCurve": mrs.efficiency_gain(s.gold_test, scores),
        "CostQualityFrontier": mrs.cost_quality_frontier(g, c, {"meta": np.column_stack([np.zeros(80), scores])}),
        "CostQualityEvaluation": mrs.cost_quality_interval(g, c, {"meta": np.column_stack([np.zeros(80), scores])},
                                                           n_boot=30, rng=0),
        "CalibrationResult": mrs.calibrate_weight(np.column_stack([np.zeros(80), scores]), c, rate=0.3, n_boot=30, rng=0),
        "PositivityReport": mrs.positivity_report(s.train.X, s.train.source, rng=0),
        "GoldSelection": mrs.select_for_gold(router, s.train.X[s.train.source == 0], 10, n_boot=20, rng=0),
        "GoldPlan": mrs.plan_gold(s.train, target_half_width=1.0),
        "JudgeComparison": mrs.compare_judges(mrs.simulate_judges(n_gold=30, n_queries=120, n_test=1, d=6, rng=0).train,
                                              heterogeneity=False, n_boot=50, rng=0),
        "HeterogeneityPlan": mrs.plan_heterogeneity(router, n_splits=10, rng=0),
        "BiasModelSummary": router.summary(),
        "GoldLearningCurve": mrs.gold_learning_curve(s.train, sizes=[20, 40], n_repeats=3, n_boot=30, rng=0),
        "TrainingWorth": mrs.judge_training_worth(mrs.simulate_judges(n_gold=40, n_queries=120, n_test=1, d=6,
                                                                      rng=0).train, judges=["strong"], per_labels=60,
                                                  n_repeats=2, n_boot=20, rng=0, progress=False),
        "StudyResult": experiment.run_study(cfg, progress=False),
        "Judgments": datasets.from_judgments(votes, primary="p", alternative="q",
                                             features=pd.DataFrame({"f": [0.0, 1.0, 2.0]}, index=["a", "b", "c"])),
    }


def _public_result_types():
    mods = (mrs, experiment, datasets)
    found = {}
    for mod in mods:
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isclass(obj) and issubclass(obj, ResultMixin):
                found[name] = obj
    return found


def test_every_public_result_type_is_covered(results):
    types = _public_result_types()
    assert set(types) == set(results), "a public result type without a contract check (or vice versa)"


@pytest.mark.parametrize("name", sorted(_public_result_types()))
def test_contract(results, name):
    obj = results[name]
    assert isinstance(obj, _public_result_types()[name])
    # frozen
    first = dataclasses.fields(obj)[0].name
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError)):
        setattr(obj, first, None)
    # arrays read-only, frames copied out
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable, f"{name}.{f.name} is writeable"
    frame = obj.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    before = obj.to_frame().copy()
    # change a value in place (a different value, same dtype): a result that handed out its own
    # frame would see it
    col = next(c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
    j = frame.columns.get_loc(col)
    frame.iloc[0, j] = (frame.iloc[0, j] if np.isfinite(frame.iloc[0, j]) else 0) + 12345
    assert frame.iloc[0, j] != before.iloc[0, j] or not np.isfinite(before.iloc[0, j])
    pd.testing.assert_frame_equal(obj.to_frame(), before)
    # one summary, three views
    text = obj.summary()
    assert isinstance(text, str) and str(obj) == text and text.splitlines()[0] == obj._title
    html = obj._repr_html_()
    assert obj._title in html and "<table>" in html
    # a plot returns the Axes it drew on
    if hasattr(obj, "plot"):
        fig, ax = plt.subplots()
        out = obj.plot(ax=ax)
        assert out is ax or (isinstance(out, np.ndarray) and out[0] is ax)
        drawn = obj.plot()
        assert isinstance(drawn, Axes) or all(isinstance(a, Axes) for a in np.ravel(drawn))
        plt.close("all")
    if hasattr(obj, "confidence_interval"):
        # an interval is a promise: the summary says what it covers (issue 14)
        assert "target" in text.lower(), f"{name}.summary() does not name its target"
        low, high = obj.confidence_interval(confidence_level=0.9)
        assert np.all(np.asarray(low) <= np.asarray(high))
        with pytest.raises((ValueError, TypeError), match="confidence_level"):
            obj.confidence_interval(confidence_level=1.5)


@pytest.mark.parametrize("name", sorted(_public_result_types()))
def test_repr_is_short(results, name):
    text = repr(results[name])
    assert len(text) < 2000 and "\n" not in text and text.startswith(name)


def test_simulated_study_repr_is_short():
    assert len(repr(mrs.simulate(n_gold=20, n_preference=200, n_test=30, rng=0))) < 200
