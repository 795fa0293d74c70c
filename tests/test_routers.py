import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.utils.validation import check_is_fitted
from sklearn.exceptions import NotFittedError

import metarouter_stats as mrs
from metarouter_stats._ranking import decide
from metarouter_stats.cate import DRBiasLearner
from metarouter_stats.experiment import default_routers, run_round

ALL = [
    mrs.MetaRouter(cate="dr"),
    mrs.MetaRouter(cate="r"),
    mrs.GoldOnlyRouter(),
    mrs.PreferenceOnlyRouter(),
    mrs.PooledRouter(),
    mrs.MeanShiftRouter(),
    mrs.RandomRouter(),
    mrs.OracleRouter(),
]


@pytest.mark.parametrize("router", ALL, ids=lambda r: type(r).__name__)
def test_sklearn_contract(router):
    params = router.get_params()
    twin = clone(router)
    assert twin.get_params() == params
    assert not hasattr(twin, "n_features_in_")


@pytest.mark.parametrize("router", ALL[:-1], ids=lambda r: type(r).__name__)
def test_fit_predict_route(router, small_study):
    s = small_study
    r = clone(router).set_params(random_state=0)
    if isinstance(r, mrs.OracleRouter):
        r.fit(s.train.X, s.gold_train)
    else:
        assert r.fit(s.train) is r
    gain = r.predict_gain(s.X_test)
    assert gain.shape == (200,) and np.all(np.isfinite(gain))
    routed = r.route(s.X_test, rate=0.3)
    assert routed.dtype == bool and routed.sum() == 60
    np.testing.assert_array_equal(r.route(s.X_test, threshold=0.0), gain > 0)


def test_same_seed_same_output(small_study):
    s = small_study
    a = mrs.MetaRouter(cate="dr", random_state=3).fit(s.train).predict_gain(s.X_test)
    b = mrs.MetaRouter(cate="dr", random_state=3).fit(s.train).predict_gain(s.X_test)
    np.testing.assert_array_equal(a, b)
    c = mrs.MetaRouter(cate="r", random_state=3).fit(s.train.X, s.train.outcome, source=s.train.source)
    d = mrs.MetaRouter(cate="r", random_state=3).fit(s.train)
    np.testing.assert_array_equal(c.predict_gain(s.X_test), d.predict_gain(s.X_test))


def test_string_source_equals_numeric(small_study):
    s = small_study
    words = np.where(s.train.source == 1, "gold", "preference")
    a = mrs.PooledRouter(random_state=0).fit(s.train.X, s.train.outcome, source=words)
    b = mrs.PooledRouter(random_state=0).fit(s.train.X, s.train.outcome, source=s.train.source)
    np.testing.assert_array_equal(a.predict_gain(s.X_test), b.predict_gain(s.X_test))


def test_callers_models_are_not_mutated(small_study):
    reg, final = Ridge(), Ridge(alpha=10.0)
    mrs.MetaRouter(cate=DRBiasLearner(model_final=final, model_outcome=Ridge()), regressor=reg, random_state=0).fit(small_study.train)
    for model in (reg, final):
        with pytest.raises(NotFittedError):
            check_is_fitted(model)


def test_bias_scales(small_study):
    r = mrs.MetaRouter(random_state=0).fit(small_study.train)
    np.testing.assert_allclose(
        r.predict_bias(small_study.X_test), r.predict_bias(small_study.X_test, units="preference") / r.scale_
    )
    # the Meta-router's prediction is on the gold scale: the known c gives the same ranking
    known = mrs.MetaRouter(scale=0.25, random_state=0).fit(small_study.train)
    assert known.scale_ == 0.25


def test_mean_shift_shift_matches_definition(small_study):
    t = small_study.train
    r = mrs.MeanShiftRouter(scale=None).fit(t)
    assert r.shift_ == pytest.approx(t.outcome[t.is_gold].mean() - t.outcome[~t.is_gold].mean())


@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=50),
    st.floats(-5, 5, allow_nan=False),
    st.floats(-100, 100, allow_nan=False),
)
def test_threshold_shift_invariance(scores, threshold, shift):
    s = np.array(scores)
    # exact in floating point only for shifts that are exact; use a dyadic shift
    a = np.round(shift * 8) / 8
    s = np.round(s * 8) / 8
    threshold = np.round(threshold * 8) / 8
    np.testing.assert_array_equal(decide(s + a, threshold + a, None), decide(s, threshold, None))
    np.testing.assert_array_equal(decide(s + a, None, 0.5), decide(s, None, 0.5))


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=60), st.floats(0, 1))
def test_rate_sends_the_right_count(scores, rate):
    s = np.array(scores)
    routed = decide(s, None, rate)
    assert routed.sum() == int(np.floor(rate * s.size + 0.5))
    if 0 < routed.sum() < s.size:
        assert s[routed].min() >= s[~routed].max()


# ---------------------------------------------------------------- statistical claims
@pytest.fixture(scope="module")
def paper_rounds():
    """Five fixed seeds of the paper-like scenario, 100 gold, evaluated on the true psi.

    Round i simulates with rng=i and seeds the routers with i (``seeding="offset"``); two
    workers give the same numbers as one.
    """
    from metarouter_stats.experiment import StudyConfig, run_study

    cfg = StudyConfig(rounds=5, seed=0, seeding="offset", truth="psi")
    df = run_study(cfg, n_jobs=2, progress=False).frame
    return df.drop_duplicates(["round", "router"]).groupby("router")["auc_relative"].mean()


@pytest.mark.slow
def test_meta_routers_beat_baselines_on_paper_scenario(paper_rounds):
    area = paper_rounds
    for meta in ("meta-dr", "meta-r"):
        for base in ("pooled", "preference-only", "gold-only", "mean-shift"):
            assert area[meta] > area[base], (meta, base, area.to_dict())
    # the mean shift removes only a constant: it stays far below the Meta-routers
    assert min(area["meta-dr"], area["meta-r"]) - area["mean-shift"] > 0.2
    assert area["oracle"] > max(area["meta-dr"], area["meta-r"])
    assert abs(area["random"]) < 0.1


@pytest.mark.slow
def test_no_bias_delta_near_zero_and_no_worse_than_pooling():
    rmse, meta, pooled = [], [], []
    for seed in range(3):
        s = mrs.simulate(n_gold=300, n_preference=3000, n_test=500, scenario="no_bias", rng=seed)
        r = mrs.MetaRouter(random_state=seed).fit(s.train)
        rmse.append(np.sqrt(np.mean(r.predict_bias(s.X_test) ** 2)))
        meta.append(mrs.efficiency_gain(s.psi_test, r.predict_gain(s.X_test)).auc_relative)
        p = mrs.PooledRouter(random_state=seed).fit(s.train)
        pooled.append(mrs.efficiency_gain(s.psi_test, p.predict_gain(s.X_test)).auc_relative)
    # Gold noise sd is 0.5; a ridge fit of a zero function from 300 gold rows has RMS error
    # about 0.5 * sqrt(df / 300) (< 0.1 for df < 12). 0.15 = 30 % of the label noise.
    assert np.mean(rmse) < 0.15, rmse
    # no worse than pooling: within 0.03 of the oracle share (Monte Carlo sd of the mean ~0.01)
    assert np.mean(meta) > np.mean(pooled) - 0.03, (meta, pooled)


def test_default_routers_are_clones():
    a, b = default_routers(1), default_routers(1)
    assert a.keys() == b.keys()
    assert all(a[k] is not b[k] for k in a)


def test_calibrate_stores_a_threshold_for_one_query_at_a_time_and_its_rate_interval_covers():
    s = mrs.simulate(n_gold=60, n_preference=600, n_test=20_000, rng=0)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    pop = router.predict_gain(s.X_test)
    with pytest.raises(ValueError, match="calibrate"):
        router.route(s.X_test[:1])
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(200):
        ref = rng.choice(20_000, size=200, replace=False)
        router.calibrate(s.X_test[ref], rate=0.3)
        assert router.calibrated_rate_ == 0.3
        assert np.mean(router.predict_gain(s.X_test[ref]) > router.threshold_) == 0.3
        lo, hi = router.rate_interval_
        hits += lo <= np.mean(pop > router.threshold_) <= hi
    assert 0.90 <= hits / 200 <= 0.99  # nominal 0.95, MC SE 0.015
    one = router.route(s.X_test[:1])
    assert one.shape == (1,) and one[0] == (pop[0] > router.threshold_)
    with pytest.warns(UserWarning, match="calibrate"):
        router.route(s.X_test[:5], rate=0.3)
    with pytest.raises(ValueError, match="rate"):
        router.calibrate(s.X_test[:50], rate=1.0)


def test_ate_and_ate_interval_cover_the_average_bias():
    """Average of the cross-fitted DR scores: close to the simulation's average bias over the training queries."""
    s = mrs.simulate(n_gold=300, n_preference=3000, n_test=1, rng=2)
    router = mrs.MetaRouter(random_state=0, scale=s.scale).fit(s.train)
    truth = float(np.mean(s.delta(s.train.X)))
    lo, hi = router.ate_interval()
    assert lo < router.ate() < hi
    assert lo - 0.1 * (hi - lo) <= truth <= hi + 0.1 * (hi - lo)
    lo_p, hi_p = router.ate_interval(units="preference")
    assert lo_p == pytest.approx(lo * router.scale_) and hi_p == pytest.approx(hi * router.scale_)
    with pytest.raises(ValueError, match="alpha"):
        router.ate_interval(alpha=1.5)
    with pytest.raises(ValueError, match=r"Did you mean `confidence_level=0.95`"):  # a level passed as alpha
        router.ate_interval(alpha=0.95)
    with pytest.warns(FutureWarning, match="confidence_level=0.9"):
        assert router.ate_interval(alpha=0.1) == router.ate_interval(confidence_level=0.9)


def test_meta_router_uses_the_known_propensities_of_routing_data():
    import warnings

    rng = np.random.default_rng(4)
    X = rng.normal(size=(1500, 4))
    pi = np.clip(0.06 * np.exp(X[:, 0]), 0.005, 0.9)
    t = (rng.random(1500) < pi).astype(int)
    y = X[:, 1] + t * (0.5 + X[:, 0]) + rng.normal(size=1500)
    data = mrs.RoutingData(X, y, t, propensity=pi)
    r = mrs.MetaRouter(scale=1.0, random_state=0).fit(data)
    np.testing.assert_array_equal(r.bias_learner_.known_propensity_, pi)
    same = mrs.MetaRouter(scale=1.0, random_state=0).fit(X, y, t, propensity=pi)
    np.testing.assert_array_equal(r.predict_bias(X[:20]), same.predict_bias(X[:20]))
    trimmed = mrs.MetaRouter(scale=1.0, trim=(0.1, 10), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        trimmed.fit(data)
    p = t.mean()
    np.testing.assert_allclose(trimmed.density_ratio_, (pi / (1 - pi)) / (p / (1 - p)))  # no model fitted
    band = mrs.bias_interval(r, X[:5], method="refit", data=data, n_boot=3, rng=0, progress=False)
    assert band.low.shape == (5,) and np.all(band.low <= band.high)
    assert data.subset(np.arange(100)).propensity.shape == (100,)


def test_paired_query_ids_group_the_bias_learners_folds():
    from sklearn.base import BaseEstimator

    seen = {}

    class Spy(BaseEstimator):
        capabilities = frozenset({"groups"})

        def __init__(self, random_state=None):
            self.random_state = random_state

        def fit(self, X, y, t, groups=None):
            seen["groups"] = groups
            self.mean_ = float(y[t == 1].mean() - y[t == 0].mean())
            return self

        def effect(self, X):
            return np.full(np.asarray(X).shape[0], self.mean_)

    rng = np.random.default_rng(0)
    n = 120
    X = np.repeat(rng.normal(size=(n, 3)), 2, axis=0)
    ids = np.repeat(np.arange(n), 2)
    t = np.tile([1, 0], n)
    y = X[:, 0] + 0.5 * t + rng.normal(size=2 * n)
    paired = mrs.RoutingData(X, y, t, query_ids=ids)
    mrs.MetaRouter(cate=Spy(), scale=1.0, random_state=0).fit(paired)
    np.testing.assert_array_equal(seen["groups"], ids)
    mrs.MetaRouter(cate=Spy(), scale=1.0, random_state=0).fit(mrs.RoutingData(X, y, t, query_ids=np.arange(2 * n)))
    assert "groups" not in seen or seen["groups"] is None  # distinct ids: nothing to group
    # the DR-learner keeps a query's rows together (EconML's StratifiedGroupKFold), and distinct ids change nothing
    grouped = mrs.MetaRouter(scale=1.0, random_state=0).fit(paired)
    assert np.isfinite(grouped.ate())
    a = mrs.MetaRouter(scale=1.0, random_state=0).fit(X, y, t)
    b = mrs.MetaRouter(scale=1.0, random_state=0).fit(mrs.RoutingData(X, y, t, query_ids=np.arange(2 * n)))
    np.testing.assert_array_equal(a.predict_bias(X[:10]), b.predict_bias(X[:10]))
    assert not np.array_equal(grouped.bias_learner_.scores_.pseudo_outcomes, a.bias_learner_.scores_.pseudo_outcomes)


# ---------------------------------------------------------------- scikit-learn's estimator checks
# scikit-learn's checks call fit(X, y); a router needs `source` too. Each harness below derives
# `source` from the row order (alternate gold and preference rows) and is otherwise the router
# itself, so every generic check (dtypes, sparse / complex / object / empty input, one sample,
# one feature, n_features_in_, pickling, idempotence, sample-order invariance...) runs on it.
# c is given (scale=1.0) where a check's integer labels can have no spread among gold rows.


def _alternate(X):
    return np.arange(np.shape(X)[0]) % 2


def _checked(router_class):
    """A module-level subclass (picklable) whose fit(X, y) passes source=_alternate(X)."""

    def fit(self, X, y, **kw):
        return router_class.fit(self, X, y, source=_alternate(X))

    name = f"Checked{router_class.__name__}"
    cls = type(name, (router_class,), {"fit": fit, "__module__": __name__, "__qualname__": name})
    globals()[name] = cls
    return cls


CheckedMetaRouter, CheckedPooledRouter, CheckedGoldOnlyRouter, CheckedMeanShiftRouter, CheckedPreferenceOnlyRouter = (
    _checked(c) for c in (mrs.MetaRouter, mrs.PooledRouter, mrs.GoldOnlyRouter, mrs.MeanShiftRouter,
                          mrs.PreferenceOnlyRouter)
)


from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([
    CheckedMetaRouter(scale=1.0, random_state=0),
    CheckedPooledRouter(scale=1.0),
    CheckedGoldOnlyRouter(),
    CheckedMeanShiftRouter(scale=1.0),
    CheckedPreferenceOnlyRouter(scale=1.0),
])
def test_sklearn_estimator_checks(estimator, check):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small-batch and overlap warnings on the checks' toy data
        check(estimator)


def test_input_errors_use_scikit_learn_wording():
    import scipy.sparse

    s = mrs.simulate(n_gold=20, n_preference=40, n_test=1, d=6, rng=0).train
    router = mrs.MetaRouter(scale=1.0)
    for X, err, message in [
        (scipy.sparse.csr_matrix(s.X), TypeError, r"sparse data was passed, but dense data is required.*toarray"),
        (s.X + 1j, ValueError, "Complex data not supported"),
        (np.empty((60, 0)), ValueError, r"0 feature\(s\) \(shape=\(60, 0\)\) while a minimum of 1 is required"),
        (s.X[:1], ValueError, r"`X` has 1 sample\(s\)"),
    ]:
        with pytest.raises(err, match=message):
            router.fit(X, s.outcome[: X.shape[0]], source=s.source[: X.shape[0]])
    obj = s.X.astype(object)
    router.fit(obj, s.outcome, source=s.source)  # numbers held in an object array are numbers
    obj[0, 0] = {"not": "a number"}
    with pytest.raises(TypeError, match=r"`X` must hold numbers; an entry of its object array is not one"):
        router.fit(obj, s.outcome, source=s.source)


def test_summary_reports_the_average_bias_and_covers_the_best_linear_predictor():
    import warnings

    big = mrs.simulate(n_gold=2, n_preference=2, n_test=100_000, d=6, rng=99)
    design = np.c_[np.ones(big.X_test.shape[0]), big.X_test]
    truth = np.linalg.lstsq(design, big.delta(big.X_test), rcond=None)[0]  # BLP of the gold-scale bias
    hits = []
    for r in range(10):
        s = mrs.simulate(n_gold=100, n_preference=600, n_test=1, d=6, rng=200 + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            router = mrs.MetaRouter(scale=0.25, random_state=r).fit(s.train)
        summary = router.summary()
        table = summary.to_frame()
        hits.append(((table.ci_low <= truth) & (truth <= table.ci_high)).to_numpy())
        assert summary.ate == pytest.approx(router.ate()) and summary.confidence_interval() == pytest.approx(
            router.ate_interval())
    # 70 nominal-95 % intervals (7 terms x 10 fits): 0.99 here, 0.92 with 1,000 preference rows; 0.8 is ~4 MC SEs below 0.95
    assert np.mean(hits) >= 0.8
    assert "average bias (gold scale)" in str(summary) and list(table.index[:2]) == ["intercept", "x0"]
    with pytest.raises(ValueError, match="alpha"):
        router.summary(alpha=1.5)
    with pytest.raises(ValueError, match=r"Did you mean `confidence_level=0.95`"):
        router.summary(alpha=0.95)


def test_calibrate_states_the_rate_route_delivers_on_repeated_queries():
    s = mrs.simulate(n_gold=30, n_preference=200, n_test=60, d=6, rng=0)
    R = mrs.MetaRouter(random_state=0).fit(s.train)
    X_rep = np.repeat(s.X_test[:10], 10, axis=0)  # 10 queries, each asked 10 times
    with pytest.warns(UserWarning, match="tied scores"):
        R.calibrate(X_rep, rate=0.35)
    delivered = R.route(X_rep, threshold=R.threshold_).mean()
    assert R.calibrated_rate_ == pytest.approx(delivered) and delivered in (0.3, 0.4)
    lo, hi = R.rate_interval_
    assert lo <= delivered <= hi
    one = np.repeat(s.X_test[:1], 50, axis=0)  # one query repeated 50 times: all or none
    with pytest.warns(UserWarning, match="tied scores"):
        R.calibrate(one, rate=0.3)
    assert R.calibrated_rate_ == R.route(one, threshold=R.threshold_).mean() == 0.0
    R.calibrate(s.X_test, rate=0.35)  # distinct queries: exactly round(0.35 * 60) = 21
    assert R.calibrated_rate_ == 21 / 60 == R.route(s.X_test, threshold=R.threshold_).mean()


def test_ate_std_error_is_the_one_ate_interval_uses(small_study):
    from scipy import stats

    r = mrs.MetaRouter(random_state=0).fit(small_study.train)
    lo, hi = r.ate_interval(confidence_level=0.9)
    assert r.ate_std_error() == pytest.approx((hi - lo) / (2 * stats.norm.ppf(0.95)), rel=1e-12)
    assert r.ate_std_error(units="preference") == pytest.approx(r.ate_std_error() * r.scale_, rel=1e-12)
