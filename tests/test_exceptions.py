"""Every error message of the public API, checked with ``pytest.raises(match=...)``."""

import os

import numpy as np
import pandas as pd
import pytest

import metarouter_stats as mrs
from metarouter_stats.cate import DRBiasLearner, RBiasLearner
from metarouter_stats import RoutingData

rng = np.random.default_rng(0)
X = rng.normal(size=(8, 2))
y = rng.normal(size=8)
t = np.array([1, 1, 1, 0, 0, 0, 0, 0])


# ------------------------------------------------------------------ RoutingData
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(X=np.where(np.eye(8, 2) == 1, np.nan, X)), ValueError, r"`X` must be finite; got NaN or infinite values in 2 row"),
        (dict(X=X.ravel()[:8]), ValueError, r"`X` must be 2-D .* Use `X.reshape\(-1, 1\)`"),
        (dict(X=np.zeros((8, 2, 1))), ValueError, r"`X` must be 2-D \(n_queries x n_features\); got shape"),
        (dict(X=np.full((8, 2), "a")), TypeError, r"`X` must hold numbers; got dtype"),
        (dict(X="abc"), TypeError, r"`X` must be a 2-D array of numbers; got a string"),
        (dict(outcome=np.r_[y[:7], np.inf]), ValueError, r"`outcome` must be finite; got 1 NaN or infinite value\(s\), the first at position 7"),
        (dict(outcome=y[:7]), ValueError, r"`outcome` must have one entry per row of `X`; got 7 entries for 8 rows"),
        (dict(outcome=np.array(["a"] * 8)), TypeError, r"`outcome` must hold numbers"),
        (dict(source=t[:7]), ValueError, r"`source` must have one entry per row of `X`"),
        (dict(source=np.r_[1, np.zeros(7)]), ValueError, r"at least 2 gold \(1\) and 2 preference \(0\) rows; got 1 gold and 7"),
        (dict(source=np.r_[np.ones(7), 0]), ValueError, r"got 7 gold and 1 preference"),
        (dict(source=np.r_[t[:7], 2]), ValueError, r"`source` must be 1 \(gold\) or 0 \(preference\); got 2.0 at position 7"),
        (dict(source=np.array(["gold"] * 4 + ["silver"] * 4)), ValueError, r"`source` must be 1 / 'gold' or 0 / 'preference'; got 'silver'"),
        (dict(source=np.r_[t[:7], np.nan]), ValueError, r"`source` must be 0 or 1; got NaN"),
        (dict(query_ids=np.arange(7)), ValueError, r"`query_ids` must be 1-D with one entry per row"),
        (dict(model_names=("a",)), ValueError, r"`model_names` must be two strings"),
        (dict(feature_names=("a",)), ValueError, r"`feature_names` must name every column of `X`; got 1 names for 2"),
    ],
)
def test_routing_data_errors(kwargs, error, match):
    args = dict(X=X, outcome=y, source=t) | kwargs
    with pytest.raises(error, match=match):
        RoutingData(**args)


def test_from_frame_errors():
    df = pd.DataFrame(X, columns=["a", "b"]).assign(o=y, s=t)
    with pytest.raises(TypeError, match=r"`frame` must be a pandas DataFrame; got ndarray"):
        RoutingData.from_frame(X, features=["a"], outcome="o", source="s")
    with pytest.raises(ValueError, match=r"`features` prefix 'emb' matches no column"):
        RoutingData.from_frame(df, features="emb", outcome="o", source="s")
    with pytest.raises(ValueError, match=r"`features` must name at least one column"):
        RoutingData.from_frame(df, features=[], outcome="o", source="s")
    with pytest.raises(ValueError, match=r"`outcome` names column 'gain', which is not in `frame`"):
        RoutingData.from_frame(df, features=["a", "b"], outcome="gain", source="s")
    with pytest.raises(ValueError, match=r"`features` names column 'c'"):
        RoutingData.from_frame(df, features=["a", "c"], outcome="o", source="s")


def test_split_and_subset_errors():
    data = RoutingData(X, y, t)
    with pytest.raises(ValueError, match=r"`test_size` must be in \(0, 1\); got 1.5"):
        data.train_test_split(1.5)
    with pytest.raises(ValueError, match=r"`rows` mask must have length 8"):
        data.subset(np.ones(3, dtype=bool))
    with pytest.raises(TypeError, match=r"`rng` must be None, an integer seed or a numpy.random.Generator"):
        data.train_test_split(0.5, rng="x")
    with pytest.raises(ValueError, match=r"`rng` must be a non-negative integer seed"):
        data.train_test_split(0.5, rng=-1)


# ------------------------------------------------------------------ simulation
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(n_gold=1), ValueError, r"`n_gold` must be an integer >= 2; got 1"),
        (dict(n_preference=2.5), TypeError, r"`n_preference` must be an integer; got 2.5"),
        (dict(d=3), ValueError, r"`d` must be an integer >= 6; got 3"),
        (dict(n_test=0), ValueError, r"`n_test` must be an integer >= 1"),
        (dict(scenario="nope"), ValueError, r"`scenario` must be one of \('paper'"),
    ],
)
def test_simulate_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        mrs.simulate(**kwargs)


def test_simulated_delta_scale_error():
    s = mrs.simulate(n_gold=5, n_preference=5, n_test=2, rng=0)
    with pytest.raises(ValueError, match=r"`scale` must be 'gold' or 'preference'; got 'x'"):
        s.delta(s.X_test, scale="x")


# ------------------------------------------------------------------ scaling
def test_scale_errors():
    with pytest.raises(ValueError, match=r"`method` must be one of \('amplitude', 'variance', 'wasserstein'\); got 'std'"):
        mrs.estimate_scale([1, 2], [1, 2], method="std")
    with pytest.raises(ValueError, match=r"`gold` must hold at least 2 labels to estimate a scale; got 1"):
        mrs.estimate_scale([1.0], [1, 2])
    with pytest.raises(ValueError, match=r"`gold` labels have no spread .* pass a known scale"):
        mrs.estimate_scale([1.0, 1.0], [1, 2])
    with pytest.raises(ValueError, match=r"`preference` labels have no spread"):
        mrs.estimate_scale([1.0, 2.0], [0.0, 0.0], method="amplitude")
    with pytest.raises(ValueError, match=r"gives c <= 0: the gold and preference quantiles are negatively aligned"):
        mrs.estimate_scale([1.0, 2.0], [-1.0, -2.0], method="wasserstein")
    with pytest.raises(ValueError, match=r"`preference` must be finite"):
        mrs.estimate_scale([1.0, 2.0], [np.nan, 1.0])
    with pytest.raises(ValueError, match=r"`gold` must be 1-D; got an array of shape \(2, 2\)"):
        mrs.estimate_scale(np.ones((2, 2)), [1.0, 2.0])
    with pytest.raises(TypeError, match=r"`gold` must be a 1-D array of numbers; got a string"):
        mrs.estimate_scale("ab", [1.0, 2.0])


# ------------------------------------------------------------------ routers
def test_router_errors(small_study):
    s = small_study
    with pytest.raises(ValueError, match=r"`cate` must be one of \('dr', 'r', 'forest', 'paired'\) or a learner object .*; got 'x'"):
        mrs.MetaRouter(cate="x").fit(s.train)
    with pytest.raises(ValueError, match=r"`source` is required: 1 for gold rows, 0 for preference rows"):
        mrs.MetaRouter().fit(s.train.X, s.train.outcome)
    with pytest.raises(ValueError, match=r"`y` is required unless `X` is a RoutingData"):
        mrs.MetaRouter().fit(s.train.X)
    with pytest.raises(ValueError, match=r"Pass either a RoutingData as `X` alone"):
        mrs.MetaRouter().fit(s.train, s.train.outcome)
    with pytest.raises(ValueError, match=r"`y` must have one entry per row of `X`; got 3 for 660"):
        mrs.PooledRouter().fit(s.train.X, [1.0, 2.0, 3.0], source=s.train.source)
    with pytest.raises(ValueError, match=r"`source` must have one entry per row of `X`; got 2 for 660"):
        mrs.PooledRouter().fit(s.train.X, s.train.outcome, source=[0, 1])
    with pytest.raises(ValueError, match=r"at least 2 gold and 0 preference rows for this router; got 0 gold"):
        mrs.GoldOnlyRouter().fit(s.train.X, s.train.outcome, source=np.zeros(660))
    with pytest.raises(ValueError, match=r"`scale` must be a positive finite number; got -2"):
        mrs.PooledRouter(scale=-2).fit(s.train)
    with pytest.raises(ValueError, match=r"`propensity` must be 'estimate', 'share' or a number in \(0, 1\); got 'known'"):
        mrs.MetaRouter(cate=DRBiasLearner(propensity="known")).fit(s.train)
    with pytest.raises(ValueError, match=r"`propensity` must be in \(0, 1\) when a number; got 1.5"):
        mrs.MetaRouter(cate=DRBiasLearner(propensity=1.5)).fit(s.train)
    with pytest.raises(TypeError, match=r"`propensity` must be 'estimate', 'share' or a number"):
        mrs.MetaRouter(cate=RBiasLearner(propensity=[0.1])).fit(s.train)
    with pytest.raises(ValueError, match=r"`cv` must be an integer >= 2; got 1"):
        mrs.MetaRouter(cate=DRBiasLearner(cv=1)).fit(s.train)
    with pytest.raises(ValueError, match=r"`cv` must not exceed the number of gold \(3\)"):
        mrs.MetaRouter(cate=DRBiasLearner(cv=5)).fit(X, y, source=t)
    with pytest.raises(TypeError, match=r"`OracleRouter.fit` needs gold labels for every query"):
        mrs.OracleRouter().fit(s.train)
    with pytest.raises(ValueError, match=r"`source` must be all gold \(1\) for OracleRouter"):
        mrs.OracleRouter().fit(s.train.X, s.train.outcome, source=s.train.source)


def test_predict_and_route_errors(small_study):
    s = small_study
    router = mrs.PooledRouter(random_state=0).fit(s.train)
    with pytest.raises(ValueError, match=r"X has 3 features, but PooledRouter is expecting 50 features as input: `X` must have 50 columns"):
        router.predict_gain(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Pass `threshold` or `rate`, or calibrate a threshold first"):
        router.route(s.X_test)
    with pytest.raises(ValueError, match=r"Pass exactly one of `threshold` and `rate`"):
        router.route(s.X_test, 0.0, rate=0.5)
    with pytest.raises(ValueError, match=r"`rate` must be in \[0, 1\]; got 1.5"):
        router.route(s.X_test, rate=1.5)
    with pytest.raises(TypeError, match=r"`threshold` must be a number; got 'high'"):
        router.route(s.X_test, "high")
    with pytest.raises(ValueError, match=r"`threshold` must be finite; got nan"):
        router.route(s.X_test, float("nan"))
    meta = mrs.MetaRouter(random_state=0).fit(s.train)
    with pytest.raises(ValueError, match=r"`units` must be 'gold' or 'preference'; got 'pb'"):
        meta.predict_bias(s.X_test, units="pb")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        mrs.MetaRouter().predict_gain(s.X_test)


def test_bias_model_errors():
    with pytest.raises(ValueError, match=r"`X`, `y` and `t` must have the same length; got 8, 7 and 8"):
        DRBiasLearner().fit(X, y[:7], t)
    m = DRBiasLearner(cv=2, random_state=0).fit(np.tile(X, (5, 1)), np.tile(y, 5), np.tile(t, 5))
    with pytest.raises(ValueError, match=r"X has 1 features, .* `X` must have 2 columns, as in fit"):
        m.effect(np.zeros((2, 1)))


# ------------------------------------------------------------------ evaluation
def test_efficiency_gain_errors():
    with pytest.raises(ValueError, match=r"`scores` must have one entry per test query; got 2 scores for 3"):
        mrs.efficiency_gain([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`rates` must be strictly increasing"):
        mrs.efficiency_gain([1.0, 2.0], [1.0, 2.0], rates=[0.5, 0.2])
    with pytest.raises(ValueError, match=r"`rates` must be in \[0, 1\]; got 1.2"):
        mrs.efficiency_gain([1.0, 2.0], [1.0, 2.0], rates=[0.5, 1.2])
    with pytest.raises(ValueError, match=r"`gold_test` must not be empty"):
        mrs.efficiency_gain([], [])
    with pytest.raises(ValueError, match=r"`scores` must be finite"):
        mrs.efficiency_gain([1.0, 2.0], [np.nan, 1.0])


# ------------------------------------------------------------------ inference and positivity
def test_bias_ttest_errors():
    with pytest.raises(ValueError, match=r"same length when `paired=True`; got 3 and 2. Pass paired=False"):
        mrs.bias_ttest([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`alternative` must be one of \('two-sided', 'less', 'greater'\)"):
        mrs.bias_ttest([1.0, 2.0], [1.0, 3.0], alternative="both")
    with pytest.raises(ValueError, match=r"`null` must be a finite number; got nan"):
        mrs.bias_ttest([1.0, 2.0], [1.0, 3.0], null=float("nan"))
    with pytest.raises(TypeError, match=r"`paired` must be True or False; got 'yes'"):
        mrs.bias_ttest([1.0, 2.0], [1.0, 3.0], paired="yes")
    with pytest.raises(ValueError, match=r"`gold` must hold at least 2 labels; got 1"):
        mrs.bias_ttest([1.0], [1.0, 3.0], paired=False)
    res = mrs.bias_ttest([1.0, 2.0, 4.0], [1.0, 3.0, 3.0])
    with pytest.raises(ValueError, match=r"`confidence_level` must be in \(0, 1\); got 95"):
        res.confidence_interval(95)


def test_positivity_errors():
    with pytest.raises(ValueError, match=r"`band` must be a \(low, high\) band with 0 < low < 1 < high; got \(2, 3\)"):
        mrs.positivity_report(X, t, band=(2, 3), cv=2)
    with pytest.raises(ValueError, match=r"`band` must be None, a \(low, high\) band or 'crump'; got 5"):
        mrs.positivity_report(X, t, band=5, cv=2)
    with pytest.raises(ValueError, match=r"`cv` must not exceed the number of gold \(3\)"):
        mrs.positivity_report(X, t)
    with pytest.raises(ValueError, match=r"`source` must have one entry per row of `X`; got 3 for 8"):
        mrs.positivity_report(X, [0, 1, 1])


def test_trim_and_interval_errors(small_study):
    s = small_study
    with pytest.raises(ValueError, match=r"`trim` must be None, a \(low, high\) band or 'crump'; got 'yes'"):
        mrs.MetaRouter(trim="yes").fit(s.train)
    with pytest.raises(ValueError, match=r"`trim` must be a band of two finite numbers"):
        mrs.MetaRouter(trim=(0.1, np.inf)).fit(s.train)
    with pytest.raises(ValueError, match=r"`trim_fallback` must be one of \('drop', 'extrapolate', 'mean'\); got 'zero'"):
        mrs.MetaRouter(trim=(0.1, 10), trim_fallback="zero").fit(s.train)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    with pytest.raises(ValueError, match=r"`kind` must be 'pointwise' or 'uniform'; got 'sup'"):
        mrs.bias_interval(router, s.X_test, kind="sup")
    with pytest.raises(ValueError, match=r"`method` must be one of \('fast', 'refit', 'both', 'learner'\); got 'slow'"):
        mrs.bias_interval(router, s.X_test, method="slow")
    with pytest.raises(ValueError, match=r"`n_boot` must be an integer >= 2; got 1"):
        mrs.bias_interval(router, s.X_test, n_boot=1)
    with pytest.raises(ValueError, match=r"`undersmooth` must be in \(0, 1\]; got 2"):
        mrs.bias_interval(router, s.X_test, undersmooth=2)
    with pytest.raises(ValueError, match=r"`undersmooth` applies to method='fast' or 'refit'; got method='learner'"):
        mrs.bias_interval(router, s.X_test, undersmooth=0.5, method="learner")
    from sklearn.linear_model import Ridge

    fixed = mrs.MetaRouter(cate=DRBiasLearner(model_final=Ridge()), random_state=0).fit(s.train)
    with pytest.raises(TypeError, match=r"undersmooth < 1\) needs a bias learner with the capability 'undersmooth'"):
        mrs.bias_interval(fixed, s.X_test, undersmooth=0.5, n_boot=3)
    with pytest.raises(TypeError, match=r"bias_heterogeneity_test needs a fitted MetaRouter or a fitted bias learner; got PooledRouter"):
        mrs.bias_heterogeneity_test(mrs.PooledRouter())
    with pytest.raises(ValueError, match=r"`normalise` must be 'per_query', 'gain' or 'relative'; got 'x'"):
        mrs.efficiency_gain_interval([1.0, 2.0], [1.0, 2.0], normalise="x")
    with pytest.raises(ValueError, match=r"`kind` must be one of \('pointwise', 'uniform'\); got 'x'"):
        mrs.efficiency_gain_interval([1.0, 2.0], [1.0, 2.0], kind="x", n_boot=3)


# ------------------------------------------------------------------ datasets: from_judgments, embed_texts
def _votes():
    return pd.DataFrame({"query_id": ["a", "a", "b", "b"], "mechanism": ["gold", "preference"] * 2,
                         "model_a": "x", "model_b": "y", "winner": ["model_a", "tie", "model_b", "model_a"]})


def test_from_judgments_errors(tmp_path):
    v, texts = _votes(), {"a": "one text", "b": "another text"}
    with pytest.raises(TypeError, match=r"`judgments` must be a pandas DataFrame or the path of a .csv"):
        mrs.from_judgments([1, 2], primary="x", alternative="y", texts=texts)
    with pytest.raises(ValueError, match=r"`primary` and `alternative` must be different models"):
        mrs.from_judgments(v, primary="x", alternative="x", texts=texts)
    with pytest.raises(ValueError, match=r"`columns` keys must be among .*; got \['judge'\]"):
        mrs.from_judgments(v, primary="x", alternative="y", texts=texts, columns={"judge": "j"})
    with pytest.raises(ValueError, match=r"judgments: no votes"):
        mrs.from_judgments(v.iloc[:0], primary="x", alternative="y", texts=texts)
    with pytest.raises(ValueError, match=r"`primary` must be one of the models in judgments \['x', 'y'\]; got 'z'"):
        mrs.from_judgments(v, primary="z", alternative="y", texts=texts)
    other = v.assign(model_b=["y", "y", "w", "w"])  # x-y and x-w votes, none of y against w
    with pytest.raises(ValueError, match=r"judgments: no vote compares 'y' with 'w'"):
        mrs.from_judgments(other, primary="y", alternative="w", texts=texts)
    with pytest.raises(TypeError, match=r"`features` must be a pandas DataFrame indexed by query id; got ndarray"):
        mrs.from_judgments(v, primary="x", alternative="y", features=np.zeros((2, 2)))
    dup = pd.DataFrame({"f": [1.0, 2.0]}, index=["a", "a"])
    with pytest.raises(ValueError, match=r"`features` index must be unique query ids; 'a' repeats"):
        mrs.from_judgments(v, primary="x", alternative="y", features=dup)
    with pytest.raises(ValueError, match=r"row 2: field 'query_id' = 'b' has no row in `features`"):
        mrs.from_judgments(v, primary="x", alternative="y", features=pd.DataFrame({"f": [1.0]}, index=["a"]))
    with pytest.raises(TypeError, match=r"`texts\['b'\]` must be a string; got int"):
        mrs.from_judgments(v, primary="x", alternative="y", texts={"a": "t", "b": 3})
    (tmp_path / "l.json").write_text('{"not": "a list"}')
    with pytest.raises(ValueError, match=r"l.json: expected a JSON list of objects, one per vote"):
        mrs.from_judgments(tmp_path / "l.json", primary="x", alternative="y", texts=texts)
    (tmp_path / "m.json").write_text('[{"a": 1},\n oops]')
    with pytest.raises(ValueError, match=r"m.json:2: malformed JSON"):
        mrs.from_judgments(tmp_path / "m.json", primary="x", alternative="y", texts=texts)
    (tmp_path / "n.jsonl").write_text('[1, 2]\n')
    with pytest.raises(ValueError, match=r"n.jsonl:1: expected a JSON object; got list"):
        mrs.from_judgments(tmp_path / "n.jsonl", primary="x", alternative="y", texts=texts)


def test_embed_texts_encoder_errors():
    class Bad:
        def encode(self, texts):
            return np.zeros(len(texts))

    with pytest.raises(ValueError, match=r"`encoder`.encode must return a finite \(n_texts, width\) array; got shape \(3,\)"):
        mrs.embed_texts(["a", "b", "c"], method="sentence", encoder=Bad())
    with pytest.raises(ValueError, match=r"`texts` must hold at least 2 texts; got 1"):
        mrs.embed_texts(["a"])


# ------------------------------------------------------------------ report
def test_report_input_errors():
    s = mrs.simulate(n_gold=40, n_preference=200, n_test=50, d=6, rng=0)
    with pytest.raises(ValueError, match=r"`test` must be \(X_test, gold_test\) of equal length; got 5 and 4 rows"):
        mrs.build_report(s.train, test=(np.zeros((5, 6)), np.zeros(4)))
    with pytest.raises(ValueError, match=r"`holdout`=0.01 of 40 gold queries leaves 0 test and 40 training gold"):
        mrs.build_report(s.train, holdout=0.01)
    with pytest.raises(ValueError, match=r"`n_boot` must be an integer >= 20; got 5"):
        mrs.build_report(s, n_boot=5)
    with pytest.raises(ValueError, match=r"`confidence_level` must be in \(0, 1\)"):
        mrs.build_report(s, confidence_level=1.5)
    costs = {"primary": mrs.TokenCost(1, 1)}
    with pytest.raises(ValueError, match=r"`costs` has no price for model\(s\) \['alternative'\]"):
        mrs.build_report(s, costs=costs, n_boot=20, routers={"gold-only": mrs.GoldOnlyRouter()})


def test_report_command_errors(tmp_path, capsys):
    from metarouter_stats.cli import main

    _votes().to_csv(tmp_path / "v.csv", index=False)
    assert main(["report", "--judgments", str(tmp_path / "v.csv"), "--out", str(tmp_path / "r.html")]) == 2
    assert "--judgments needs --primary, --alternative and --texts" in capsys.readouterr().err
    pd.DataFrame({"id": ["a"], "text": ["t"]}).to_csv(tmp_path / "t.csv", index=False)
    assert main(["report", "--judgments", str(tmp_path / "v.csv"), "--primary", "x", "--alternative", "y",
                 "--texts", str(tmp_path / "t.csv"), "--out", str(tmp_path / "r.html")]) == 2
    assert "t.csv: missing column(s) ['query_id']; --texts needs query_id and text columns" in capsys.readouterr().err


def test_refactor_messages(small_study):
    """Messages of the bias-learner protocol, the inference engines, and the validations added with them."""
    from metarouter_stats.cate import register_learner
    from metarouter_stats.decision import weight_for_budget
    from metarouter_stats.experiment import StudyConfig

    s = small_study
    with pytest.raises(TypeError, match=r"`cate` must be one of .* or a learner object .*; got object"):
        mrs.MetaRouter(cate=object()).fit(s.train)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    with pytest.raises(ValueError, match=r"`data` is required for method='refit': pass the router's training data"):
        mrs.bias_interval(router, s.X_test, method="refit", n_boot=2)
    with pytest.raises(ValueError, match=r"`data` must be the router's training data \(660 rows, 50 columns\)"):
        mrs.bias_interval(router, s.X_test, method="refit", n_boot=2, data=s.train.subset(np.arange(100)))
    with pytest.raises(TypeError, match=r"method='learner' needs a bias learner with the capability 'intervals'"):
        mrs.bias_interval(router, s.X_test, method="learner")
    with pytest.raises(ValueError, match=r"`units` must be 'gold' or 'preference'; got 'pb'"):
        mrs.bias_interval(router, s.X_test, units="pb")
    # columns: another order than at fit is refused (scikit-learn's feature-name contract)
    frame = pd.DataFrame(s.train.X, columns=[f"e{j}" for j in range(50)])
    named = mrs.GoldOnlyRouter(random_state=0).fit(frame, s.train.outcome, source=s.train.source)
    test = pd.DataFrame(s.X_test, columns=[f"e{j}" for j in range(50)])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):  # scikit-learn's own warning
        bare = named.predict_gain(s.X_test)
    np.testing.assert_allclose(named.predict_gain(test), bare)
    with pytest.raises(ValueError, match=r"feature names should match those that were passed during fit"):
        named.predict_gain(test[test.columns[::-1]])
    with pytest.raises(ValueError, match=r"`tol` must be a finite number > 0; got 0"):
        weight_for_budget(np.zeros((3, 2)), np.array([[0.0, 1.0]] * 3), 0.5, tol=0)
    gains, costs = np.column_stack([np.zeros(5), np.arange(5.0)]), np.column_stack([np.zeros(5), np.ones(5)])
    with pytest.raises(ValueError, match=r"`reference` must be a column index in \[0, 1\]"):
        mrs.calibrate_weight(gains, costs, rate=0.5, reference=7)
    with pytest.raises(ValueError, match=r"`confidence_level` must be in \(0, 1\); got 0"):
        mrs.calibrate_weight(gains, costs, rate=0.5, confidence_level=0)
    with pytest.raises(ValueError, match=r"must not use the reserved names \['oracle'\]"):
        mrs.cost_quality_frontier(gains, costs, {"oracle": gains})
    with pytest.raises(TypeError, match=r"`paper_evaluation` must be true or false; got 'false'"):
        StudyConfig(paper_evaluation="false")
    with pytest.raises(ValueError, match=r"`seeding` must be one of \('spawn', 'offset'\); got 'x'"):
        StudyConfig(seeding="x")
    with pytest.raises(ValueError, match=r"`candidates` must be 'all' or 'gold'; got 'x'"):
        s.train.test_mask(0.2, candidates="x")
    with pytest.raises(ValueError, match=r"`test_size`=660 of 660 units leaves 660 for test and 0 for training"):
        s.train.test_mask(660)
    with pytest.raises(ValueError, match=r"A bias learner is already registered as 'dr'"):
        register_learner("dr")(type("Other", (), {}))


def test_reliability_cases(small_study, tmp_path, capsys):
    """Issue 12: each silent wrong result, hang or misplaced message, now a clear error or a correct result."""
    from metarouter_stats.cli import main
    from metarouter_stats.decision import weight_for_budget
    from metarouter_stats.experiment import StudyConfig

    s = small_study
    # bisection: returns for a tolerance at the float limit, bounded iterations
    g, c = np.column_stack([np.zeros(50), np.linspace(0, 1, 50)]), np.column_stack([np.zeros(50), np.ones(50)])
    w = weight_for_budget(g, c, 0.3, tol=np.finfo(float).eps)
    assert np.isfinite(w) and w > 0
    # scale: labels near the float limits give the right c, or an error that says why
    assert mrs.estimate_scale([1e300, -1e300, 5e299], [1.0, -1.0, 0.5]) == pytest.approx(1e-300)
    with pytest.raises(ValueError, match=r"not a positive finite number \(c = 0.0\)"):
        mrs.estimate_scale([1e300, -1e300], [1e-300, -2e-300])
    with pytest.raises(ValueError, match=r"`scale` must be None, a positive number or one of .*; got 'std'"):
        mrs.PooledRouter(scale="std").fit(s.train)
    with pytest.raises(ValueError, match=r"overflow floating point"):
        mrs.bias_ttest([1e308, -1e308, 1e308], [0.0, 1.0, 2.0], scale=1e-10)
    with pytest.raises(ValueError, match=r"The cost of query 0 overflows floating point"):
        mrs.TokenCost(1e300, 1e300).cost([1e300], [1.0])
    # labels too large for the models
    y = s.train.outcome.copy()
    y[3] = 1e300
    with pytest.raises(ValueError, match=r"`y` must be below 1e\+100 in magnitude .* at position 3"):
        mrs.MetaRouter().fit(s.train.X, y, source=s.train.source)
    # from_frame: outcome, source and id columns are never features
    df = pd.DataFrame({"x1": [0.0, 1, 2, 3], "x_gain": [1.0, 2, 3, 4], "src": [1, 1, 0, 0]})
    d = RoutingData.from_frame(df, features="x", outcome="x_gain", source="src")
    assert d.feature_names == ("x1",)
    with pytest.raises(ValueError, match=r"`features` must not include the outcome, source or id column; got \['x_gain'\]"):
        RoutingData.from_frame(df, features=["x1", "x_gain"], outcome="x_gain", source="src")
    with pytest.raises(TypeError, match=r"`model_names` must be two strings .* not one string; got 'ab'"):
        RoutingData(np.zeros((4, 1)), [1.0, 2, 3, 4], [1, 1, 0, 0], model_names="ab")
    with pytest.raises(TypeError, match=r"`models` must be a list of model names, not one string; got 'ab'"):
        mrs.MultiModelRouter("ab", reference="a").fit(np.zeros((4, 1)), [1.0, 2, 3, 4], [1, 1, 0, 0], ["b"] * 4)
    with pytest.raises(TypeError, match=r"`costs\['b'\]` must be a TokenCost \(e.g. TokenCost\(1.0, 1.0\)"):
        mrs.cost_matrix({"a": mrs.TokenCost.flat(0.0), "b": 1.0}, ["a", "b"], n=3)
    # StudyConfig: repeated gold sizes, keys beside [study]
    with pytest.raises(ValueError, match=r"`gold_sizes` must not repeat a size .* got \[20\] more than once"):
        StudyConfig(gold_sizes=(20, 20))
    toml = tmp_path / "c.toml"
    toml.write_text('rounds = 3\n[study]\nname = "x"\n')
    with pytest.raises(ValueError, match=r"has key\(s\) \['rounds'\] beside its \[study\] table"):
        StudyConfig.from_toml(toml)
    # from_judgments: the number 3 and the text "3" are not merged
    votes = pd.DataFrame({"query_id": [3, "3"], "mechanism": ["gold", "preference"], "model_a": "p", "model_b": "q",
                          "winner": ["model_a", "tie"]})
    with pytest.raises(ValueError, match=r"row 0 and row 1: field 'query_id' holds '3' as values of different types"):
        mrs.from_judgments(votes, primary="p", alternative="q", features=pd.DataFrame({"f": [0.0]}, index=["3"]))
    # estimators' random_state and joblib's n_jobs
    with pytest.raises(ValueError, match=r"`random_state` must be a non-negative integer seed; got -1"):
        mrs.GoldOnlyRouter(random_state=-1).fit(s.train)
    with pytest.raises(TypeError, match=r"`random_state` must be None or a non-negative integer seed; got 'a'"):
        mrs.MetaRouter(random_state="a").fit(s.train)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    with pytest.raises(ValueError, match=r"`n_jobs` must be a non-zero integer"):
        mrs.bias_interval(router, s.X_test[:3], n_boot=2, n_jobs=0)
    with pytest.raises(ValueError, match=r"`n_jobs` must be a non-zero integer"):
        mrs.experiment.run_study(StudyConfig(rounds=1), n_jobs=0)
    # messages that named the wrong argument
    with pytest.raises(ValueError, match=r"`test_size`=0.99 leaves .* in the training part"):
        s.train.train_test_split(0.99, rng=0)
    with pytest.raises(ValueError, match=r"`holdout`=0.9 leaves 6 gold rows for training; .* needs at least 10"):
        mrs.build_report(s.train, holdout=0.9)
    # degenerate corpora
    with pytest.raises(ValueError, match=r"`texts` hold no words to embed"):
        mrs.embed_texts(["", "!!", "?"])
    with pytest.warns(UserWarning, match=r"All texts embed to the same point"):
        assert mrs.embed_texts(["same text", "same text"], dim=3).shape == (2, 1)
    # output paths are checked before any work
    with pytest.raises(ValueError, match=r"`out` .* is a folder; give a file name"):
        mrs.build_report(s, tmp_path)
    with pytest.raises(ValueError, match=r"`out` must be a file path; got ''"):
        mrs.build_report(s, "")
    # the command: one clear line and exit code 2
    assert main(["demo", "--seed", "-1", "--rounds", "1"]) == 2
    assert "--seed must be a non-negative integer; got -1" in capsys.readouterr().err
    assert main(["demo", "--rounds", "1", "--report", str(tmp_path)]) == 2
    assert "--report" in capsys.readouterr().err
    assert main(["report", "--data", "https://example.org/x.csv", "--out", str(tmp_path / "r.html")]) == 2
    assert "--data must be a local file path; got the URL" in capsys.readouterr().err
    texts = tmp_path / "t.csv"
    texts.write_text("query_id,text\na,one\na,two\n")
    (tmp_path / "v.csv").write_text("query_id,mechanism,model_a,model_b,winner\na,gold,p,q,model_a\n")
    assert main(["report", "--judgments", str(tmp_path / "v.csv"), "--primary", "p", "--alternative", "q",
                 "--texts", str(texts), "--out", str(tmp_path / "r.html")]) == 2
    assert "t.csv:3: query_id 'a' appears more than once" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root ignores permissions
            assert main(["study", "quick", "--out", str(locked / "out")]) == 2
            assert "cannot be written" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_reliability_siblings():
    """Cases found beyond issue 12's list (closing note): each now a clear error."""
    from metarouter_stats.experiment import StudyConfig

    with pytest.raises(ValueError, match=r"at least one query and two models .* got shape \(0, 2\)"):
        mrs.cost_quality_frontier(np.zeros((0, 2)), np.ones((0, 2)), {"a": np.zeros((0, 2))})
    with pytest.raises(ValueError, match=r"at least one query and two models .* got shape \(3, 1\)"):
        mrs.cost_quality_frontier(np.zeros((3, 1)), np.ones((3, 1)), {"a": np.zeros((3, 1))})
    with pytest.raises(TypeError, match=r"`scores` must be a dict router name"):
        mrs.cost_quality_frontier(np.zeros((3, 2)), np.ones((3, 2)), [np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"`feature_names` must be unique; \['a'\] appear more than once"):
        RoutingData(np.zeros((4, 2)), [1.0, 2, 3, 4], [1, 1, 0, 0], feature_names=("a", "a"))
    frame = pd.DataFrame({"x": [0.0, 1, 2, 3], "o": [1.0, 2, 3, 4], "s": [1, 1, 0, 0]})
    with pytest.raises(ValueError, match=r"`feature_names` must be unique"):
        RoutingData.from_frame(frame, features=["x", "x"], outcome="o", source="s")
    with pytest.raises(ValueError, match=r"`query_ids` must not be missing; got 2 missing id\(s\), the first at row 0"):
        RoutingData(np.zeros((4, 1)), [1.0, 2, 3, 4], [1, 1, 0, 0], query_ids=[None, np.nan, "a", "b"])
    with pytest.raises(TypeError, match=r"`routers` must be a list of router names, not one string; got 'meta-dr'"):
        StudyConfig(routers="meta-dr")


def test_poor_messages_of_the_third_audit_name_the_input_and_the_fix(tmp_path, capsys):
    import pandas as pd

    from metarouter_stats.cli import main

    votes = tmp_path / "v.csv"
    votes.write_bytes("query_id,mechanism,model_a,model_b,winner\nq1,gold,a,b,model_a\n".encode("utf-8") + b"\xff\xfe\n")
    with pytest.raises(ValueError, match=r"v.csv: not UTF-8 text"):
        mrs.from_judgments(votes, primary="a", alternative="b", features=pd.DataFrame({"f": [1.0]}, index=["q1"]))
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"e.csv: empty file"):
        mrs.from_judgments(empty, primary="a", alternative="b", features=pd.DataFrame({"f": [1.0]}, index=["q1"]))
    deep = tmp_path / "d.jsonl"
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ValueError, match=r"d.jsonl:1: (JSON nested too deeply|malformed JSON)"):
        mrs.from_judgments(deep, primary="a", alternative="b", features=pd.DataFrame({"f": [1.0]}, index=["q1"]))
    bom = tmp_path / "b.jsonl"
    rows = [{"query_id": f"q{i}", "mechanism": m, "model_a": "a", "model_b": "b", "winner": "model_a"}
            for i in range(3) for m in (1.0, 0.0)]  # a float mechanism column, BOM-prefixed JSON lines
    bom.write_bytes(b"\xef\xbb\xbf" + "\n".join(__import__("json").dumps(r) for r in rows).encode())
    out = mrs.from_judgments(bom, primary="a", alternative="b",
                             features=pd.DataFrame({"f": [0.0, 1.0, 2.0]}, index=["q0", "q1", "q2"]))
    assert out.data.n_gold == 3 and out.data.n_preference == 3
    g = np.r_[1.0, 2.0, np.full(8, np.nan)]
    with pytest.raises(ValueError, match=r"`gold` has 9 entries but the routers' `scores` have 10"):
        mrs.evaluate_routers({"a": np.arange(10.0)}, g[:-1])
    with pytest.raises(ValueError, match=r"`gold_probability` must be in \[1e-06, 1\]"):
        mrs.evaluate_routers({"a": np.arange(10.0)}, g, gold_probability=1e-300)
    with pytest.raises(TypeError, match=r"got the text '5'"):
        mrs.BiasRScorer(cv="5").fit(mrs.simulate(n_gold=20, n_preference=60, n_test=1, d=6, rng=0).train)
    with pytest.raises(ValueError, match="`rng` must be a non-negative integer seed"):
        mrs.build_report(mrs.simulate(n_gold=20, n_preference=60, n_test=20, d=6, rng=0), rng=-1)
    assert main(["demo", "--n-gold", "1", "--report", "none"]) == 2
    assert "--n-gold and --n-preference must be at least 2" in capsys.readouterr().err
    assert main(["plan", "--simulate", "--figure", str(tmp_path)]) == 2
    assert "must be a PNG file name" in capsys.readouterr().err


def test_budgets_ragged_matrices_texts_and_one_source_say_what_is_wrong():
    g = np.column_stack([np.zeros(20), np.arange(20.0)])
    c = np.column_stack([np.ones(20), 2 * np.ones(20)])
    with pytest.raises(TypeError, match=r"`budget` must be a number \(a mean cost per query\); got '2'"):
        mrs.calibrate_weight(g, c, budget="2")
    for call in (lambda b: mrs.cost_quality_interval(g, c, {"a": g}, budget=b, n_boot=5, rng=0),
                 lambda b: mrs.evaluate_cost_quality(g, c, {"a": g}, budget=b, n_boot=5, rng=0)):
        with pytest.raises(TypeError, match="`budget` must be a number"):
            call("x")
        with pytest.raises(ValueError, match=r"below the cheapest possible mean cost per query 1 .* raise `budget`"):
            call(0.5)
    with pytest.raises(ValueError, match=r"`gains` must be a rectangular 2-D array"):
        mrs.calibrate_weight([[0.0, 1.0], [0.0]], c[:2], rate=0.5)
    with pytest.raises(TypeError, match="`texts` must be a sequence of strings"):
        mrs.embed_texts(None)
    with pytest.raises(ValueError, match="`source` must hold gold and preference rows; got 20 gold of 20"):
        mrs.positivity_report(np.random.default_rng(0).normal(size=(20, 2)), np.ones(20))
