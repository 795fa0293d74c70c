"""MultiJudgeRouter: one bias function per judge, corrected labels pooled with gold (checked against the
single-judge router it is built from, by hand, and on the truth of the multi-judge simulation)."""

from __future__ import annotations

import numpy as np
import pytest

import metarouter_stats as mrs
from metarouter_stats.simulation import JudgeSpec


@pytest.fixture(scope="module")
def sim():
    return mrs.simulate_judges(n_gold=80, n_queries=600, n_test=3000, d=8, rng=3)


@pytest.fixture(scope="module")
def router(sim):
    return mrs.MultiJudgeRouter(random_state=0).fit(sim.train)


def test_each_judge_has_the_bias_of_the_single_judge_router(sim, router):
    for j in sim.train.judges:
        single = mrs.MetaRouter(random_state=0).fit(sim.train.for_judge(j))
        np.testing.assert_allclose(router.predict_bias(sim.X_test[:50], j), single.predict_bias(sim.X_test[:50]),
                                   rtol=1e-12)


def test_biases_follow_their_judges(sim, router):
    """The strong and twin judges share the paper bias; the cheap one has the smooth bias: each fitted bias is
    closer to its own truth than to the other judge's (3,000 test queries)."""
    X = sim.X_test
    fitted = {j: router.predict_bias(X, j) for j in sim.train.judges}
    for j in ("strong", "twin"):
        own = np.mean((fitted[j] - sim.delta(X, j)) ** 2)
        other = np.mean((fitted[j] - sim.delta(X, "cheap")) ** 2)
        assert own < other
    assert np.mean((fitted["cheap"] - sim.delta(X, "cheap")) ** 2) < np.mean((fitted["cheap"] - sim.delta(X, "strong")) ** 2)


def test_the_noisier_judge_gets_the_smaller_weight(router):
    """cheap (noise 1.0) < twin (0.7) < strong (0.5) in weight, by their residual variances."""
    w = router.weights_
    assert w["gold"] == 1.0 and w["cheap"] < w["twin"] < w["strong"]
    v = router.residual_variance_
    for s in w:
        assert w[s] == pytest.approx(v["gold"] / v[s])


def test_the_pooled_regression_is_gold_and_the_corrected_judges_by_hand(sim, router):
    from sklearn.base import clone

    data = sim.train
    gold = data.source == 1
    X, y, w = [data.X[gold]], [data.outcome[gold]], [np.ones(int(gold.sum()))]
    for j in router.judges_:
        rows = data.mechanism == j
        X.append(data.X[rows])
        y.append(data.outcome[rows] + router.predict_bias(data.X[rows], j, units="preference"))
        w.append(np.full(int(rows.sum()), router.weights_[j]))
    reg = clone(router._regressor()).fit(np.concatenate(X), np.concatenate(y), sample_weight=np.concatenate(w))
    np.testing.assert_allclose(router.predict_gain(sim.X_test), reg.predict(sim.X_test), rtol=1e-12)


def test_pooling_the_judges_beats_the_best_single_judge_on_this_draw(sim, router):
    """On the default panel (judges biased differently) the pooled router ranks test queries closer to the
    truth than each single-judge router (share of the oracle's EG area on 3,000 test queries); the
    benchmark (benchmarks/judges) measures it over many draws."""
    share = mrs.efficiency_gain(sim.psi_test, router.predict_gain(sim.X_test)).auc_relative
    singles = [mrs.efficiency_gain(sim.psi_test, mrs.MetaRouter(random_state=0).fit(sim.train.for_judge(j))
                                   .predict_gain(sim.X_test)).auc_relative for j in sim.train.judges]
    assert share > max(singles) - 0.02, (share, singles)


def test_judges_can_be_chosen_and_dropped(sim):
    r = mrs.MultiJudgeRouter(judges=["cheap"], weighting="equal", random_state=0).fit(sim.train)
    assert r.judges_ == ("cheap",) and r.weights_ == {"gold": 1.0, "cheap": 1.0}
    r = mrs.MultiJudgeRouter(max_bias_se=1e-6, judges=["strong", "cheap"], random_state=0)
    with pytest.raises(ValueError, match="Every judge was dropped"):
        r.fit(sim.train)
    loose = mrs.MultiJudgeRouter(max_bias_se=10.0, random_state=0).fit(sim.train)
    assert loose.dropped_ == {} and len(loose.judges_) == 3


def test_errors_name_the_argument(sim):
    with pytest.raises(TypeError, match="`X` must be a RoutingData with a `mechanism` per row, or features"):
        mrs.MultiJudgeRouter().fit(sim.train.X)
    with pytest.raises(ValueError, match="`weighting` must be one of"):
        mrs.MultiJudgeRouter(weighting="bogus").fit(sim.train)
    with pytest.raises(ValueError, match=r"`judges` must be among the data's judges .*\['nope'\]"):
        mrs.MultiJudgeRouter(judges=["nope"]).fit(sim.train)
    with pytest.raises(ValueError, match="`max_bias_se` must be a positive number"):
        mrs.MultiJudgeRouter(max_bias_se=-1).fit(sim.train)
    r = mrs.MultiJudgeRouter(random_state=0).fit(sim.train)
    with pytest.raises(ValueError, match="`judge` must be one of"):
        r.predict_bias(sim.X_test, "nope")


def test_one_unnamed_judge_is_the_meta_router(sim):
    """Data without a mechanism: one judge called "preference"; its bias is MetaRouter's."""
    plain = mrs.simulate(n_gold=60, n_preference=400, n_test=100, d=8, rng=0)
    r = mrs.MultiJudgeRouter(random_state=0).fit(plain.train)
    assert r.judges_ == ("preference",)
    np.testing.assert_allclose(r.predict_bias(plain.X_test, "preference"),
                               mrs.MetaRouter(random_state=0).fit(plain.train).predict_bias(plain.X_test), rtol=1e-12)


def test_a_judge_with_its_own_scale_is_corrected_on_the_gold_scale():
    """c = 0.25 (gold on a 4x wider scale, not declared): every judge gets its own estimated c and the pooled
    targets are on the gold scale (predicted gains track psi in gold units)."""
    sim = mrs.simulate_judges(n_gold=150, n_queries=800, n_test=2000, d=8, scale=0.25, rng=1,
                              judges=(JudgeSpec("a", noise=0.5), JudgeSpec("b", bias="homogeneous", noise=0.5)))
    assert not sim.train.shared_scale
    r = mrs.MultiJudgeRouter(random_state=0).fit(sim.train)
    for j in ("a", "b"):
        assert r.judge_routers_[j].scale_ == pytest.approx(0.25, rel=0.25)
    slope = np.polyfit(sim.psi_test, r.predict_gain(sim.X_test), 1)[0]
    assert 0.5 < slope < 1.3


def test_multi_model_router_routes_over_several_judges_per_model():
    """MultiModelRouter(router=MultiJudgeRouter()) with each row's judge: one multi-judge router per model,
    the same as fitting each on its model's rows with arrays."""
    a = mrs.simulate_judges(n_gold=40, n_queries=200, n_test=30, d=6, design="unpaired", rng=0).train
    b = mrs.simulate_judges(n_gold=40, n_queries=200, n_test=30, d=6, design="unpaired", rng=1).train
    X = np.vstack([a.X, b.X])
    y = np.r_[a.outcome, b.outcome]
    t = np.r_[a.source, b.source]
    mech = np.r_[a.mechanism, b.mechanism]
    model = np.r_[np.full(a.n, "mid"), np.full(b.n, "big")]
    mm = mrs.MultiModelRouter(["small", "mid", "big"], reference="small", router=mrs.MultiJudgeRouter(),
                              random_state=0).fit(X, y, source=t, model=model, mechanism=mech)
    Xq = np.random.default_rng(5).normal(size=(10, 6))
    direct = mrs.MultiJudgeRouter(random_state=0).fit(b.X, b.outcome, b.source, mechanism=b.mechanism)
    np.testing.assert_allclose(mm.predict_gain(Xq)["big"], direct.predict_gain(Xq), rtol=1e-12)
    assert mm.routers_["mid"].judges_ == ("strong", "cheap", "twin")
    with pytest.raises(TypeError, match="needs a router whose fit takes it"):
        mrs.MultiModelRouter(["small", "mid", "big"], reference="small").fit(X, y, source=t, model=model, mechanism=mech)
    with pytest.raises(TypeError, match="read from the RoutingData"):
        mrs.MultiJudgeRouter().fit(a, y=a.outcome)
    with pytest.raises(TypeError, match="without `y` / `source`"):
        mrs.MultiJudgeRouter().fit(a.X)
