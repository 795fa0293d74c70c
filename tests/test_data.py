import numpy as np
import pandas as pd
import pytest

import metarouter_stats as mrs
from metarouter_stats import RoutingData


def make(n_gold=3, n_pref=5, d=2, seed=0):
    rng = np.random.default_rng(seed)
    n = n_gold + n_pref
    return rng.normal(size=(n, d)), rng.normal(size=n), np.r_[np.ones(n_gold), np.zeros(n_pref)]


def test_basic_properties():
    X, y, t = make()
    data = RoutingData(X, y, t, query_ids=np.arange(8))
    assert (data.n, data.n_features, data.n_gold, data.n_preference) == (8, 2, 3, 5)
    assert data.gold_share == pytest.approx(3 / 8)
    assert "n_gold=3" in repr(data)
    with pytest.raises(ValueError):
        data.X[0, 0] = 1.0  # arrays are read-only
    X[0, 0] = 99.0
    assert data.X[0, 0] != 99.0  # copied on construction


def test_constant_columns_are_fine():
    X, y, t = make()
    X[:, 1] = 3.0
    assert RoutingData(X, y, t).n_features == 2


def test_from_frame_words_and_prefix():
    X, y, t = make()
    df = pd.DataFrame(X, columns=["emb_0", "emb_1"])
    df["gain"] = y
    df["src"] = np.where(t == 1, "Gold", "preference")
    df["qid"] = [f"q{i}" for i in range(8)]
    data = RoutingData.from_frame(df, features="emb_", outcome="gain", source="src", query_id="qid")
    np.testing.assert_array_equal(data.source, t.astype(int))
    assert data.feature_names == ("emb_0", "emb_1")
    back = data.to_frame()
    assert list(back.columns) == ["emb_0", "emb_1", "outcome", "source", "query_id"]


def test_subset_and_split():
    s = mrs.simulate(n_gold=40, n_preference=160, n_test=1, rng=0)
    train, test = s.train.train_test_split(0.25, rng=1)
    assert test.n == 50 and test.n_gold == 10
    a, _ = s.train.train_test_split(0.25, rng=1)
    np.testing.assert_array_equal(a.query_ids, train.query_ids)
    assert set(train.query_ids).isdisjoint(test.query_ids)


def test_a_mechanism_per_row_names_the_judges_and_splits_by_judge():
    X = np.arange(14.0).reshape(7, 2)
    mech = ["gold", "a", "b", "gold", "a", "b", "a"]
    d = RoutingData(X, np.arange(7.0), [1, 0, 0, 1, 0, 0, 0], query_ids=[0, 0, 0, 1, 1, 1, 2], mechanism=mech)
    assert d.judges == ("a", "b")
    a = d.for_judge("a")
    assert a.mechanism is None and a.n_gold == 2 and a.outcome.tolist() == [0.0, 1.0, 3.0, 4.0, 6.0]
    assert a.query_ids.tolist() == [0, 0, 1, 1, 2]
    assert d.subset([0, 1, 2, 3]).mechanism.tolist() == mech[:4]
    assert d.to_frame()["mechanism"].tolist() == mech
    assert "judges=('a', 'b')" in repr(d)
    assert not d.mechanism.flags.writeable
    plain = RoutingData(X, np.arange(7.0), [1, 0, 0, 1, 0, 0, 0])
    assert plain.judges == ("preference",) and plain.mechanism is None
    with pytest.raises(ValueError, match="one preference mechanism"):
        plain.for_judge("a")
    with pytest.raises(ValueError, match=r"`judge` must be one of \('a', 'b'\)"):
        d.for_judge("c")


def test_a_mechanism_must_agree_with_the_source():
    X = np.zeros((4, 1))
    with pytest.raises(ValueError, match=r"`mechanism` and `source` disagree at 1 row\(s\), the first at row 2"):
        RoutingData(X, np.zeros(4), [1, 1, 0, 0], mechanism=["gold", "gold", "gold", "a"])
    with pytest.raises(ValueError, match=r"`mechanism` and `source` disagree"):
        RoutingData(X, np.zeros(4), [1, 1, 0, 0], mechanism=["gold", "a", "a", "a"])
    with pytest.raises(TypeError, match=r"non-empty strings .* row 3 holds None"):
        RoutingData(X, np.zeros(4), [1, 1, 0, 0], mechanism=["gold", "gold", "a", None])
    with pytest.raises(TypeError, match="not one string"):
        RoutingData(X, np.zeros(4), [1, 1, 0, 0], mechanism="gold")
    with pytest.raises(ValueError, match=r"one entry per row \(4\)"):
        RoutingData(X, np.zeros(4), [1, 1, 0, 0], mechanism=["gold", "gold", "a"])
