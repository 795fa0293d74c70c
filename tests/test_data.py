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
