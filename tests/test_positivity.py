import warnings

import numpy as np
import pytest

import metarouter_stats as mrs
from metarouter_stats.positivity import _crump_gamma, density_ratio, trim_mask


@pytest.fixture(scope="module")
def selected():
    return mrs.simulate(n_gold=150, n_preference=3000, n_test=200, scenario="selection", rng=0)


@pytest.fixture(scope="module")
def random_pick():
    return mrs.simulate(n_gold=150, n_preference=3000, n_test=200, scenario="paper", rng=0)


def test_flags_covariate_selection(selected):
    t = selected.train
    with pytest.warns(UserWarning, match="Poor overlap"):
        rep = mrs.positivity_report(t.X, t.source, rng=0)
    assert not rep.good_overlap
    assert rep.auc > 0.7
    assert rep.share_outside_preference > 0.05
    assert rep.gold_ess < 0.5 * rep.n_gold
    assert rep.smd.iloc[0] > 0.8  # gold selected on the first component
    assert "POOR OVERLAP" in rep.summary()


def test_random_selection_has_good_overlap_and_trims_nothing(random_pick):
    t = random_pick.train
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = mrs.positivity_report(t.X, t.source, rng=0)
    assert rep.good_overlap
    assert abs(rep.auc - 0.5) < 4 * rep.auc_null_std_error
    assert trim_mask(rep.ratio, rep.source, (0.1, 10)).sum() == 0
    assert trim_mask(rep.ratio, rep.source, "crump").mean() < 0.02


def test_trimming_removes_preference_rows_outside_gold_support(selected):
    t = selected.train
    with pytest.warns(UserWarning, match=r"Trimmed \d+ of 3000 preference rows"):
        router = mrs.MetaRouter(trim=(0.1, 10), random_state=0).fit(t)
    trimmed = router.trimmed_
    assert router.n_trimmed_ == trimmed.sum() > 0
    assert not np.any(trimmed & t.is_gold)  # gold rows are never trimmed
    w = router.density_ratio_
    assert np.all((w[trimmed] < 0.1) | (w[trimmed] > 10))
    assert not np.any(((w < 0.1) | (w > 10)) & ~trimmed & ~t.is_gold)
    # what is trimmed for a small ratio lies below the gold support in the selection direction
    z1 = t.X[:, 0]
    gold_low = np.quantile(z1[t.is_gold], 0.02)
    low = trimmed & (w < 0.1)
    assert low.sum() > 0.5 * trimmed.sum()
    assert np.mean(z1[low] < gold_low) > 0.8
    # every query still gets a decision
    assert router.route(selected.X_test, rate=0.5).sum() == 100


def test_no_trim_when_overlap_is_good(random_pick):
    t = random_pick.train
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = mrs.MetaRouter(trim=(0.1, 10), random_state=0).fit(t)
    b = mrs.MetaRouter(random_state=0).fit(t)
    assert a.n_trimmed_ == 0
    np.testing.assert_array_equal(a.predict_gain(random_pick.X_test), b.predict_gain(random_pick.X_test))


def test_trim_fallbacks_by_hand(selected):
    """Each fallback equals the regression of psi refitted by hand on the rows it promises."""
    from sklearn.base import clone

    t = selected.train
    fits = {}
    for fb in ("drop", "extrapolate", "mean"):
        with pytest.warns(UserWarning, match=f"trim_fallback='{fb}'"):
            fits[fb] = mrs.MetaRouter(trim=(0.1, 10), trim_fallback=fb, random_state=0).fit(t)
    r = fits["drop"]
    # the CATE fit (on the kept rows) is the same whatever the fallback
    np.testing.assert_array_equal(r.predict_bias(t.X), fits["mean"].predict_bias(t.X))
    c, keep, gold = r.scale_, ~r.trimmed_, t.is_gold
    o = np.where(gold, c * t.outcome, t.outcome)
    delta = r.bias_learner_.effect(t.X)
    corrected = np.where(gold, o, o + delta)
    mean_corr = np.where(gold, o, o + np.where(r.trimmed_, delta[keep & ~gold].mean(), delta))
    expected = {
        "drop": clone(r._regressor()).fit(t.X[keep], corrected[keep]),
        "extrapolate": clone(r._regressor()).fit(t.X, corrected),
        "mean": clone(r._regressor()).fit(t.X, mean_corr),
    }
    for fb, reg in expected.items():
        np.testing.assert_allclose(fits[fb].predict_gain(selected.X_test), reg.predict(selected.X_test) / c)
    assert not np.allclose(fits["drop"].predict_gain(selected.X_test), fits["mean"].predict_gain(selected.X_test))


def test_crump_fixed_point():
    rng = np.random.default_rng(0)
    h = np.exp(rng.normal(0, 1, 5000))
    gamma = _crump_gamma(h)
    assert np.isfinite(gamma)
    assert gamma == pytest.approx(2 * h[h <= gamma].mean(), rel=1e-3)
    assert _crump_gamma(np.ones(10)) == np.inf


def test_density_ratio_is_one_at_the_share():
    e = np.full(5, 0.03)
    np.testing.assert_allclose(density_ratio(e, 0.03), 1.0)


def test_frames_and_plot(random_pick):
    import matplotlib

    matplotlib.use("Agg")
    t = random_pick.train
    rep = mrs.positivity_report(t.X, t.source, rng=0, n_covariates=3)
    assert list(rep.to_frame().columns) == ["source", "propensity", "ratio", "outside"]
    assert "two_sample_auc" in set(rep.summary_frame()["metric"])
    assert len(rep.smd) == 3
    ax = rep.plot()
    assert len(ax.patches) > 0


def test_neg_log_loss_scorer_equals_scikit_learns():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer

    from metarouter_stats.positivity import neg_log_loss

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.normal(size=300) > 1.5).astype(int)
    for C in (1e-4, 1.0, 1e6):  # nearly constant, moderate and nearly separating fits
        model = LogisticRegression(C=C, max_iter=5000).fit(X, y)
        assert neg_log_loss(model, X, y) == pytest.approx(get_scorer("neg_log_loss")(model, X, y), abs=1e-12)


def test_share_outside_lower_bound_is_a_lower_bound_on_selection():
    """The shrunk propensity understates poor overlap: the estimated share (and its lower bound)
    stay below the true share of about 0.227 on `selection` (validity/run.py overlap runs 100+)."""
    s = mrs.simulate(n_gold=100, n_preference=2000, n_test=2, scenario="selection", rng=3)
    with pytest.warns(UserWarning, match="Poor overlap"):
        rep = mrs.positivity_report(s.train.X, s.train.source, rng=0)
    lb = rep.share_outside_lower_bound()
    assert 0 < lb < rep.share_outside_preference < 0.227
    assert rep.share_outside_lower_bound(0.99) < lb
    assert "lower bound" in rep.summary()
    with pytest.raises(ValueError, match="confidence_level"):
        rep.share_outside_lower_bound(1.0)
    random_gold = mrs.positivity_report(*(lambda t: (t.X, t.source))(mrs.simulate(n_gold=100, n_preference=2000,
                                                                                   n_test=2, rng=3).train), rng=0)
    assert random_gold.share_outside_lower_bound() == 0.0


def test_paired_data_grouped_by_query_gives_auc_near_one_half():
    """Every query carries a gold and a preference row (same x): grouped folds keep the twins together."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    Xp = np.vstack([X, X])
    source = np.r_[np.ones(300), np.zeros(300)]
    ids = np.r_[np.arange(300), np.arange(300)]
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=50, random_state=0)
    ungrouped = mrs.positivity_report(Xp, source, rng=0, model=forest)
    grouped = mrs.positivity_report(Xp, source, rng=0, groups=ids, model=forest)
    assert abs(grouped.auc - 0.5) < 2 * grouped.auc_null_std_error
    assert ungrouped.auc < 0.5 - 2 * ungrouped.auc_null_std_error
    with pytest.raises(ValueError, match="groups"):
        mrs.positivity_report(Xp, source, rng=0, groups=ids[:10])


def test_report_reads_probabilities_known_by_design():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 4))
    pi = np.clip(0.05 * np.exp(1.2 * X[:, 0]), 0.002, 0.9)
    t = (rng.random(2000) < pi).astype(int)
    rep = mrs.positivity_report(X, t, propensity=pi)
    p = t.mean()
    np.testing.assert_allclose(rep.ratio, (pi / (1 - pi)) / (p / (1 - p)))
    np.testing.assert_array_equal(rep.propensity, pi)
    assert rep.propensity_known and "known by design" in rep.summary()
    assert dict(rep.summary_frame().to_numpy())["propensity_known"]
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        mrs.positivity_report(X, t, propensity=np.r_[0.0, pi[1:]])


def test_block_scaler_fits_the_scaler_of_scikit_learn_in_one_block_of_memory(traced_peak):
    """Mean and scale as StandardScaler's to rounding (Chan's update over blocks); fitted in place, the
    traced peak is one block (StandardScaler's one-pass fit allocates about 1.1 times the input)."""
    from sklearn.base import clone
    from sklearn.preprocessing import StandardScaler

    from metarouter_stats.positivity import BlockStandardScaler

    X = np.random.default_rng(0).normal(3.0, 2.0, size=(20_000, 40))
    ref = StandardScaler().fit(X)
    ours = BlockStandardScaler(block_bytes=1 << 16).fit(X)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-13)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-13)
    assert ours.n_samples_seen_ == ref.n_samples_seen_ == 20_000
    one_block = BlockStandardScaler().fit(X)  # under 64 MiB: scikit-learn's own fit, bit for bit
    np.testing.assert_array_equal(one_block.scale_, ref.scale_)
    np.testing.assert_array_equal(BlockStandardScaler(block_bytes=1 << 16).fit(X, sample_weight=np.ones(20_000)).mean_,
                                  StandardScaler().fit(X, sample_weight=np.ones(20_000)).mean_)
    assert clone(ours).block_bytes == 1 << 16

    peaks = {}
    for name, scaler in {"blocks": BlockStandardScaler(copy=False, block_bytes=1 << 16),
                         "sklearn": StandardScaler(copy=False)}.items():
        Z = X.copy()
        out, peak = traced_peak(lambda: scaler.fit_transform(Z))  # noqa: B023 (called at once)
        assert out is Z  # standardised in place
        peaks[name] = peak / X.nbytes
    assert peaks["blocks"] < 0.1 < 0.9 < peaks["sklearn"], peaks
    with pytest.raises(ValueError, match="block_bytes"):
        BlockStandardScaler(block_bytes=0).fit(X)


def test_block_logistic_cv_is_scikit_learns_search_without_copies_of_the_folds(traced_peak):
    """Above one block, the penalty search with zero weights on each fold's held-out rows has scikit-learn's
    objective and folds: C, the fold scores, the coefficients and the probabilities equal LogisticRegressionCV's
    to rounding (the same lbfgs iterates; 1e-10 allowed), while the traced peak is a fraction of the input
    (LogisticRegressionCV copies X[train] and X[test]: above 0.9 of it). One block or less, sample weights
    and other settings are LogisticRegressionCV's own fit, bit for bit."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegressionCV

    from metarouter_stats.positivity import BlockLogisticRegressionCV, default_propensity_model

    rng = np.random.default_rng(1)
    X = rng.standard_normal((30_000, 40))
    y = (rng.random(30_000) < 1 / (1 + np.exp(-(0.4 * X[:, 0] - 2.5)))).astype(int)
    ours = default_propensity_model()[-1]
    assert isinstance(ours, BlockLogisticRegressionCV) and ours.get_params()["block_bytes"] == 1 << 26
    settings = {k: v for k, v in ours.get_params().items() if k != "block_bytes"}
    ref = LogisticRegressionCV(**settings).fit(X, y)
    blk = clone(ours).set_params(block_bytes=1 << 20).fit(X, y)
    assert blk.C_ == ref.C_ and blk.C_ not in (settings["Cs"][0], settings["Cs"][-1])  # an interior penalty
    np.testing.assert_allclose(blk.scores_, ref.scores_, rtol=1e-10)
    np.testing.assert_allclose(blk.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(blk.intercept_, ref.intercept_, rtol=1e-10)
    np.testing.assert_allclose(blk.predict_proba(X), ref.predict_proba(X), rtol=1e-10)
    np.testing.assert_array_equal(blk.classes_, ref.classes_)

    small = clone(ours).fit(X[:3000], y[:3000])  # under 64 MiB: LogisticRegressionCV's fit itself
    np.testing.assert_array_equal(small.coef_, LogisticRegressionCV(**settings).fit(X[:3000], y[:3000]).coef_)
    w = rng.uniform(0.5, 2.0, 30_000)
    np.testing.assert_array_equal(clone(blk).fit(X, y, sample_weight=w).coef_,
                                  LogisticRegressionCV(**settings).fit(X, y, sample_weight=w).coef_)

    peaks = {}
    for name, est in {"blocks": clone(blk), "sklearn": LogisticRegressionCV(**settings)}.items():
        _, peak = traced_peak(lambda: est.fit(X, y))  # noqa: B023 (called at once)
        peaks[name] = peak / X.nbytes
    assert peaks["blocks"] < 0.4 < 0.9 < peaks["sklearn"], peaks
