"""The paired-design bias learner: its scores by hand, its target by simulation, its errors."""

import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression

import metarouter_stats as mrs
from metarouter_stats.cate.paired import PairedBiasLearner


def _fit(data, c=1.0, **kw):
    """Fit on gold rescaled by c (the preference scale), as the Meta-router does."""
    o = np.where(data.is_gold, c * data.outcome, data.outcome)
    return PairedBiasLearner(random_state=0, **kw).fit(data.X, o, data.source, groups=data.query_ids)


@pytest.fixture(scope="module")
def paired():
    return mrs.simulate(n_gold=80, n_preference=600, n_test=10, d=6, design="paired", rng=0)


def test_scores_by_hand_with_a_zero_control_and_the_share(paired):
    # h = 0, pi = the share of gold queries in each training fold, beta = 1: phi_q = S_q D_q / pi_fold
    d = paired.train
    m = _fit(d, model_outcome=DummyRegressor(strategy="constant", constant=0.0), propensity="share",
             calibrate=False, model_final=LinearRegression())
    sc = m.scores_
    assert sc.n == 600 and sc.source.sum() == 80 and m.n_pairs_ == 80 and m.beta_ == 1.0
    pairs = d.paired()
    D = dict(zip(pairs["query_id"], pairs["gold"] - pairs["preference"], strict=True))
    judge_ids = d.query_ids[~d.is_gold]  # query order = first appearance = the judge rows' order
    want_D = np.array([D.get(q, 0.0) for q in judge_ids])
    gold_q = sc.source == 1
    # each gold query's pi is its training fold's share: 64 / 480 with 5 stratified folds of 16 + 104
    assert np.allclose(sc.pseudo_outcomes[gold_q], want_D[gold_q] / (64 / 480))
    assert np.all(sc.pseudo_outcomes[~gold_q] == 0)
    # the final stage is the least-squares fit of those scores on x
    ref = LinearRegression().fit(sc.X, sc.pseudo_outcomes)
    assert np.allclose(m.effect(paired.X_test), ref.predict(paired.X_test))


def test_average_score_is_unbiased_for_the_average_bias():
    # 30 draws: the mean of the scores (the AIPW average bias) against the true mean of Delta over the queries
    errs, ses = [], []
    for seed in range(30):
        s = mrs.simulate(n_gold=60, n_preference=500, n_test=2, d=6, design="paired", rng=100 + seed)
        m = _fit(s.train, s.scale)
        phi = m.scores_.pseudo_outcomes
        truth = np.mean(s.delta(m.scores_.X, scale="preference"))
        errs.append(phi.mean() - truth)
        ses.append(phi.std(ddof=1) / np.sqrt(phi.size))
    errs = np.array(errs)
    # mean error within 3 Monte Carlo SEs of 0, and the spread matches the scores' own SE (within 25 %)
    assert abs(errs.mean()) < 3 * errs.std(ddof=1) / np.sqrt(errs.size)
    assert 0.75 < errs.std(ddof=1) / np.mean(ses) < 1.25


def test_beta_recovers_the_share_of_the_judges_deviation_the_gold_label_shares():
    # simulate(design="paired"): u_q (sd 0.5) in both labels, judge noise sd 0.5 -> beta = 0.25 / 0.5 = 0.5
    s = mrs.simulate(n_gold=2000, n_preference=4000, n_test=2, d=6, design="paired", scenario="homogeneous", rng=1)
    m = _fit(s.train, s.scale)
    assert m.beta_ == pytest.approx(0.5, abs=0.08)


def test_auto_picks_paired_on_paired_data_and_dr_otherwise(paired):
    r = mrs.MetaRouter(random_state=0).fit(paired.train)
    assert r.cate_ == "paired" and isinstance(r.bias_learner_, PairedBiasLearner)
    unpaired = mrs.simulate(n_gold=40, n_preference=300, n_test=2, d=6, rng=0).train
    assert mrs.MetaRouter(random_state=0).fit(unpaired).cate_ == "dr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mrs.MetaRouter(random_state=0, trim=(0.1, 10)).fit(paired.train).cate_ == "dr"


def test_errors_name_the_fix(paired):
    d = paired.train
    with pytest.raises(ValueError, match="needs query ids"):
        PairedBiasLearner().fit(d.X, d.outcome, d.source)
    drop = np.flatnonzero(~d.is_gold)[np.isin(d.query_ids[~d.is_gold], d.query_ids[d.is_gold])][:3]
    keep = np.setdiff1d(np.arange(d.n), drop)
    # three gold queries lose their judge label (unreadable verdicts): imputed by eta(x), still one score per query
    m = PairedBiasLearner(random_state=0).fit(d.X[keep], d.outcome[keep], d.source[keep], groups=d.query_ids[keep])
    assert (m.n_pairs_, m.n_queries_, int(m.scores_.source.sum())) == (77, 600, 80)
    assert np.all(np.isfinite(m.scores_.pseudo_outcomes))
    few = np.flatnonzero(d.is_gold)[:75]  # only 5 gold queries left with both labels
    rows = np.setdiff1d(np.arange(d.n), np.flatnonzero(~d.is_gold)[np.isin(d.query_ids[~d.is_gold], d.query_ids[few])])
    with pytest.raises(ValueError, match="needs at least 10 queries with a gold and a judge label; got 5"):
        PairedBiasLearner().fit(d.X[rows], d.outcome[rows], d.source[rows], groups=d.query_ids[rows])
    X = d.X.copy()
    X[np.flatnonzero(d.is_gold)[0], 0] += 1.0
    with pytest.raises(ValueError, match="different embeddings"):
        PairedBiasLearner().fit(X, d.outcome, d.source, groups=d.query_ids)
    with pytest.raises(TypeError, match="propensities known by design"):
        PairedBiasLearner().fit(d.X, d.outcome, d.source, groups=d.query_ids, propensity=np.full(d.n, 0.1))


def test_every_resampling_over_the_scores_is_by_query(paired):
    # one score row per query: the fast bootstrap, the heterogeneity test's splits and GATES resample queries
    r = mrs.MetaRouter(random_state=0).fit(paired.train)
    sc = r.bias_learner_.scores_
    assert sc.n == np.unique(paired.train.query_ids).size
    assert np.unique(sc.X, axis=0).shape[0] == sc.n  # no query twice
    band = mrs.bias_interval(r, paired.X_test, n_boot=30, rng=0)
    assert np.all(band.low <= band.high)


class _SpyPaired(PairedBiasLearner):
    """Records (X, groups) of every fit (class-level: clones share the log)."""

    log: list = []

    def fit(self, X, y, t, **kw):
        _SpyPaired.log.append((np.asarray(X), np.asarray(kw.get("groups")), np.asarray(t)))
        return super().fit(X, y, t, **kw)


@pytest.mark.parametrize("resampling", ["rows", "weights"])
def test_refit_bootstrap_keeps_a_querys_rows_together(paired, resampling):
    r = mrs.MetaRouter(cate=_SpyPaired(), random_state=0).fit(paired.train)
    _SpyPaired.log.clear()
    mrs.bias_interval(r, paired.X_test[:3], n_boot=3, method="refit", data=paired.train, resampling=resampling,
                      rng=0, progress=False)
    assert len(_SpyPaired.log) == 3
    for X, groups, t in _SpyPaired.log:
        # every group is one query: its rows share one embedding, and a gold row never comes without its judge row
        for g in np.unique(groups):
            rows = groups == g
            assert np.ptp(X[rows], axis=0).max() == 0
            assert not (t[rows].all() and rows.sum() > 0 and t[rows].sum() == rows.sum())


def test_dr_scores_on_paired_rows_are_resampled_and_split_by_query(paired):
    # cate="dr" on paired data: one score per row, tied by query; the fast bootstrap, the heterogeneity test's
    # halves and GATES move whole queries
    from metarouter_stats.inference import heterogeneity

    r = mrs.MetaRouter(cate="dr", random_state=0).fit(paired.train)
    sc = r.bias_learner_.scores_
    assert sc.groups is not None and sc.n == paired.train.n
    unit, unit_gold = sc.units()
    assert unit_gold.sum() == 80
    for main, _ in heterogeneity.cddf_splits(r.bias_learner_, 5, np.random.default_rng(0)):
        aux = np.setdiff1d(np.arange(sc.n), main)
        assert not set(unit[main]) & set(unit[aux]), "a query's rows fell in both halves"
    res = mrs.bias_heterogeneity_test(r, n_splits=10, rng=0)
    assert np.isfinite(res.p_value)
    assert np.all(np.isfinite(mrs.bias_by_group(r, n_groups=3, n_splits=10, rng=0).estimate))
    band = mrs.bias_interval(r, paired.X_test, n_boot=30, rng=0)
    assert np.all(band.low <= band.high)
    lo, hi = r.ate_interval()
    assert lo < hi


@pytest.mark.slow
def test_folds_on_workers_and_on_a_local_dask_cluster_give_the_one_process_fit(paired):
    """The cross-fitting folds run through joblib (``n_jobs``; joblib's Dask backend puts them on a cluster's
    workers): every fold's models are seeded from random_state alone and predict their own queries, so the
    scores, beta and the final stage are those of the sequential fit, bit for bit."""
    import joblib

    distributed = pytest.importorskip("dask.distributed")
    d = paired.train
    X, y, t, g = d.X, d.outcome, d.source, d.query_ids
    one = PairedBiasLearner(random_state=0).fit(X, y, t, groups=g)
    two = PairedBiasLearner(random_state=0, n_jobs=2).fit(X, y, t, groups=g)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster), joblib.parallel_config(backend="dask"):
            dask = PairedBiasLearner(random_state=0, n_jobs=2).fit(X, y, t, groups=g)
    for other in (two, dask):
        np.testing.assert_array_equal(other.scores_.pseudo_outcomes, one.scores_.pseudo_outcomes)
        assert other.beta_ == one.beta_
        np.testing.assert_array_equal(other.effect(X[:20]), one.effect(X[:20]))
        assert len(other.propensity_models_) == len(one.propensity_models_) == 5
    for bad in (0, "2", 1.5):  # named, before any fit (joblib took 1.5 as 1 and named neither argument nor fix)
        with pytest.raises(ValueError, match="`n_jobs` must be a non-zero integer"):
            PairedBiasLearner(n_jobs=bad).fit(X, y, t, groups=g)
