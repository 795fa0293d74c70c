"""judge_training_worth: the inversion of the gold-only curve, what each fit sees (no held-out label, nested
gold subsets, N judge labels), the table against its own areas, seeds and workers, errors. Its coverage of the
population worth is measured in benchmarks/judge_training (a Monte Carlo, not a test)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import metarouter_stats as mrs
from metarouter_stats.planning.training_worth import worth_bracket, worth_from_curves


def test_the_worth_inverts_the_gold_curve_and_censors_outside_it():
    sizes = [10, 20, 40, 80]
    areas = [0.10, 0.20, 0.30, 0.40]
    assert worth_from_curves(sizes, areas, 0.25, base=20) == (10.0, "none")  # m* = 30, halfway from 20 to 40
    assert worth_from_curves(sizes, areas, 0.40, base=20) == (60.0, "none")  # reached at the last size exactly
    assert worth_from_curves(sizes, areas, 0.41, base=20) == (60.0, "above")  # at least 60
    assert worth_from_curves(sizes, areas, 0.05, base=20) == (-10.0, "below")  # at most -10
    assert worth_from_curves(sizes, areas, 0.10, base=20) == (-10.0, "none")
    # a dip (noise) is pooled by the isotonic fit: 0.3 and 0.2 become 0.25 at 20 and 40
    w, cens = worth_from_curves(sizes, [0.1, 0.3, 0.2, 0.4], 0.25, base=10)
    assert (w, cens) == (10.0, "none")
    # a flat stretch (a constant router below twice its leaf size): the point of it nearest base
    flat = [0.0, 0.0, 0.0, 0.4]
    assert worth_from_curves(sizes, flat, 0.0, base=20) == (0.0, "none")  # no better than gold alone
    assert worth_from_curves(sizes, flat, 0.1, base=20) == (30.0, "none")  # 40 + a quarter of the way to 80
    assert worth_from_curves(sizes, [0.0, 0.1, 0.1, 0.4], 0.1, base=50) == (-10.0, "none")  # [20, 40]: 40 nearest
    assert worth_from_curves(sizes, [0.0, 0.1, 0.1, 0.4], 0.1, base=10) == (10.0, "none")  # [20, 40]: 20 nearest


def test_the_bracket_holds_every_worth_a_monotone_curve_through_the_grid_allows():
    sizes, areas = np.array([10, 20, 40, 80]), np.array([0.0, 0.1, 0.3, 0.4])
    rng = np.random.default_rng(0)
    for a in (0.05, 0.1, 0.2, 0.35):
        low, high = worth_bracket(sizes, areas, a, base=20)
        w, _ = worth_from_curves(sizes, areas, a, base=20)
        assert low <= w <= high
        for _ in range(200):  # random non-decreasing curves on every integer size through the grid's values
            m = np.arange(10, 81)
            curve = np.empty(m.size)
            for (s0, s1), (a0, a1) in zip(zip(sizes, sizes[1:]), zip(areas, areas[1:])):
                inside = (m >= s0) & (m <= s1)
                curve[inside] = np.sort(rng.uniform(a0, a1, inside.sum()))
                curve[m == s0], curve[m == s1] = a0, a1
            reach = m[np.argmax(curve >= a)] - 20
            assert low <= reach <= high
    assert worth_bracket(sizes, areas, 0.5, base=20) == (60.0, np.inf)  # beyond the grid: open above
    assert worth_bracket(sizes, areas, 0.0, base=20) == (-20.0, 0.0)  # below the second size, at least no gold


class _SpyGold(mrs.GoldOnlyRouter):
    seen: list = []

    def fit(self, X, y=None, source=None):
        _SpyGold.seen.append(("gold", set(X.query_ids[X.source == 1]), set(X.query_ids[X.source == 0])))
        return super().fit(X, y, source)


class _SpyMeta(mrs.MetaRouter):
    seen: list = []

    def fit(self, X, y=None, source=None):
        _SpyMeta.seen.append(("meta", set(X.query_ids[X.source == 1]), list(X.query_ids[X.source == 0])))
        return super().fit(X, y, source)


@pytest.fixture(scope="module")
def sim():
    return mrs.simulate_judges(n_gold=60, n_queries=300, n_test=1, d=6, rng=3)


@pytest.fixture(scope="module")
def spied(sim):
    _SpyGold.seen.clear()
    _SpyMeta.seen.clear()
    tw = mrs.judge_training_worth(sim.train, router=_SpyMeta(), gold_router=_SpyGold(), per_labels=150,
                                  n_repeats=3, n_boot=100, rng=0, progress=False)
    return tw, list(_SpyGold.seen), list(_SpyMeta.seen)


def test_no_fit_sees_a_label_of_a_held_out_query_and_gold_subsets_are_nested(sim, spied):
    tw, gold_fits, meta_fits = spied
    sizes = tw.curve["size"].tolist()
    n_judges = len(sim.train.judges)
    assert len(gold_fits) == 3 * len(sizes) and len(meta_fits) == 3 * n_judges
    all_gold = set(sim.train.query_ids[sim.train.source == 1])
    for r in range(3):
        golds = gold_fits[r * len(sizes):(r + 1) * len(sizes)]
        metas = meta_fits[r * n_judges:(r + 1) * n_judges]
        assert [len(g) for _, g, _ in golds] == sizes
        for (_, small, _), (_, large, _) in zip(golds, golds[1:]):
            assert small < large  # nested subsets of one order
        seen = set().union(*(g | set(j) for _, g, j in golds + metas))
        held = all_gold - seen
        assert len(held) == tw.held_out  # the same held-out queries for every fit of the repeat
        for _, gold_ids, judge_ids in metas:
            assert len(gold_ids) == int(tw.frame["base"].iloc[0])
            assert gold_ids <= golds[-1][1]  # the first `base` queries of the repeat's order
            assert len(judge_ids) == 150 and not held & set(judge_ids)
        # paired data: every judge's labels come from the same queries, so that the others stay out of every fit
        assert all(set(j) == set(metas[0][2]) for _, _, j in metas)
        assert len(set(sim.train.query_ids) - seen - held) >= 100  # queries the repeat is also scored on


def test_the_table_is_the_inversion_of_its_own_mean_areas(spied):
    tw = spied[0]
    sizes = tw.curve["size"].to_numpy()
    mean = tw.areas.mean(axis=0)
    np.testing.assert_allclose(tw.curve["area"], mean[: sizes.size])
    for k, row in enumerate(tw.frame.to_dict("records")):
        w, cens = worth_from_curves(sizes, mean[: sizes.size], mean[sizes.size + k], row["base"])
        assert (row["worth"], row["censored"]) == (w, cens)
        assert row["meta_area"] == pytest.approx(mean[sizes.size + k])
        assert row["worth_low"] <= w <= row["worth_high"]
    assert "worth for training" in tw.summary().lower()
    single = tw.frame[tw.frame["judge"] != "all judges"]
    assert tw.best() == single.sort_values("meta_area")["judge"].iloc[-1]
    assert (np.diff(single.sort_values("meta_area")["worth"]) >= 0).all()  # the worth follows the area


def test_same_seed_same_worth_on_one_or_two_workers(sim):
    kw = dict(judges=["strong"], per_labels=100, n_repeats=2, n_boot=50, rng=5, progress=False)
    a = mrs.judge_training_worth(sim.train, **kw)
    b = mrs.judge_training_worth(sim.train, n_jobs=2, **kw)
    np.testing.assert_array_equal(a.areas, b.areas)
    assert a.frame.equals(b.frame)


def test_all_judges_at_once_use_the_union_of_the_single_fits_labels(sim):
    tw = mrs.judge_training_worth(sim.train, judges=["strong", "cheap"], combined=True, per_labels=80, n_repeats=2,
                                  n_boot=50, rng=1, progress=False)
    f = tw.frame.set_index("judge")
    assert list(f.index) == ["strong", "cheap", "all judges"]
    assert f.loc["all judges", "n_judge_labels"] == 160 and f.loc["all judges", "base"] == f.loc["strong", "base"]
    alone = mrs.judge_training_worth(sim.train, judges=["strong", "cheap"], per_labels=80, n_repeats=2, n_boot=50,
                                     rng=1, progress=False)
    # adding the row leaves every other number as it is without it (same fits, same pseudo-gold)
    np.testing.assert_allclose(alone.areas, tw.areas[:, :-1], rtol=1e-12, atol=1e-15)
    pd.testing.assert_frame_equal(alone.frame, tw.frame.iloc[:2])
    with pytest.raises(ValueError, match="`combined=True`"):
        mrs.judge_training_worth(sim.train, judges=["strong"], combined=True, progress=False)


def test_errors_name_the_argument(sim):
    with pytest.raises(ValueError, match="`judges`"):
        mrs.judge_training_worth(sim.train, judges=["nobody"], progress=False)
    with pytest.raises(ValueError, match="`base`"):
        mrs.judge_training_worth(sim.train, base=50, progress=False)
    with pytest.raises(ValueError, match="`sizes`"):
        mrs.judge_training_worth(sim.train, sizes=[20, 200], progress=False)
    small = mrs.simulate_judges(n_gold=20, n_queries=100, n_test=1, d=6, rng=0)
    with pytest.raises(ValueError, match="too few"):
        mrs.judge_training_worth(small.train, progress=False)
    with pytest.raises(TypeError, match="`data`"):
        mrs.judge_training_worth((sim.train.X, sim.train.outcome, sim.train.source), progress=False)
