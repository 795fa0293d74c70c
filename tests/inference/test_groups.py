"""bias_by_group's overlap region and its refit standard errors (groups.py)."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import StratifiedShuffleSplit

import metarouter_stats as mrs
from metarouter_stats.cate import DRBiasLearner
from metarouter_stats.positivity import density_ratio


@pytest.fixture(scope="module")
def selected():
    """Gold selected on x: more than 5 % of the preference rows lie outside the overlap."""
    s = mrs.simulate(n_gold=80, n_preference=800, n_test=5, d=6, scenario="selection", rng=1)
    return s, mrs.MetaRouter(scale=s.scale, random_state=0).fit(s.train)


def _quiet(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return mrs.bias_by_group(**kwargs)


def _linear_proxy(learner, X, phi):
    """The splits' proxy, written out: ridge on x at the linear stage's leave-one-out penalty on all the scores."""
    from sklearn.linear_model import Ridge, RidgeCV

    from metarouter_stats.cate.final_stage import FINAL_ALPHAS

    sc = learner.scores_
    return Ridge(alpha=RidgeCV(alphas=FINAL_ALPHAS).fit(sc.X, sc.pseudo_outcomes).alpha_).fit(X, phi)


def _inside(router):
    learner = router.bias_learner_
    sc = learner.scores_
    w = density_ratio(learner.predict_propensity(sc.X), sc.source.mean())
    return (w >= 0.1) & (w <= 10)


def test_overlap_region_is_the_same_procedure_on_the_rows_inside(selected):
    """An independent re-implementation of CDDF's group means on the rows inside [0.1, 10]."""
    s, router = selected
    inside = _inside(router)
    assert 0.05 < 1 - inside[router.bias_learner_.scores_.source == 0].mean()
    res = _quiet(router=router, n_groups=5, region="overlap", n_splits=8, rng=3)
    sc = router.bias_learner_.scores_
    X, phi, src = sc.X[inside], sc.pseudo_outcomes[inside], sc.source[inside]
    seed = int(np.random.default_rng(3).integers(2**31 - 1))
    expected = []
    for aux, main in StratifiedShuffleSplit(n_splits=8, test_size=0.5, random_state=seed).split(X, src):
        proxy = _linear_proxy(router.bias_learner_, X[aux], phi[aux]).predict(X[main])
        group = (np.argsort(np.argsort(proxy)) * 5) // proxy.size  # fifths by rank
        expected.append([phi[main][group == k].mean() for k in range(5)])
    np.testing.assert_allclose(res.split_estimates, np.array(expected) / s.scale, rtol=1e-10)
    assert res.region == "overlap"
    assert res.n_excluded_gold == int(np.sum(~inside & (sc.source == 1)))
    assert res.n_excluded_preference == int(np.sum(~inside & (sc.source == 0)))
    text = res.summary()
    assert "inside the overlap" in text and f"{res.n_excluded_preference} preference" in text
    assert res.gold_per_group.shape == (5,) and res.gold_per_group.sum() <= inside[sc.source == 1].sum()


def test_auto_region_restricts_under_selection_and_says_what_it_left_out(selected):
    _, router = selected
    with pytest.warns(RuntimeWarning, match="restricted to the queries inside"):
        res = mrs.bias_by_group(router, n_splits=4, rng=0)
    assert res.region == "overlap" and res.method == "fast" and res.n_excluded_preference > 0
    every = _quiet(router=router, region="all", n_splits=4, rng=0)
    assert every.region == "all" and every.n_excluded_preference == 0 and "POOR OVERLAP" in every.summary()


def test_auto_keeps_every_query_with_random_gold(small_study):
    router = mrs.MetaRouter(random_state=0).fit(small_study.train)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = mrs.bias_by_group(router, n_splits=4, data=small_study.train, rng=0)
    assert (res.region, res.method, res.n_boot) == ("all", "fast", 0)


def test_both_takes_the_larger_of_the_sandwich_and_the_refit_standard_errors(selected):
    s, router = selected
    fast = _quiet(router=router, n_groups=5, region="overlap", method="fast", n_splits=5, rng=7)
    both = _quiet(router=router, n_groups=5, region="overlap", method="both", data=s.train, n_boot=3, n_splits=5,
                  rng=7, progress=False)
    auto = _quiet(router=router, n_groups=5, data=s.train, n_boot=3, n_splits=5, rng=7, progress=False)
    # same splits, same estimates; the SE is the larger one, split by split and group by group
    np.testing.assert_array_equal(both.split_estimates, fast.split_estimates)
    assert np.all(both.split_std_errors >= fast.split_std_errors)
    assert np.any(both.split_std_errors > fast.split_std_errors)
    assert (both.method, both.n_boot, auto.method) == ("both", 3, "both")
    np.testing.assert_array_equal(auto.split_std_errors, both.split_std_errors)
    assert "weighted refit bootstrap" in both.summary()
    # the refit SD, recomputed from the replicates' own scores with the groups held fixed
    from metarouter_stats.inference.bias_bands import refit_bootstrap
    from metarouter_stats.inference.heterogeneity import cddf_splits
    from metarouter_stats.cate import CrossFitScores

    def groups_of(proxy, k):  # quantile bins by rank, written out here
        ranks = np.empty(proxy.size, dtype=int)
        ranks[np.argsort(proxy, kind="stable")] = np.arange(proxy.size)
        return ranks * k // proxy.size

    def group_means(phi, w, main, group, k):
        return np.array([np.average(phi[main][group == j], weights=w[main][group == j]) for j in range(k)])

    inside = np.flatnonzero(_inside(router))
    sc = router.bias_learner_.scores_
    sub = CrossFitScores(X=sc.X[inside], pseudo_outcomes=sc.pseudo_outcomes[inside], weights=sc.weights[inside],
                         source=sc.source[inside])
    gen = np.random.default_rng(7)
    splits = [(m, groups_of(p, 5)) for m, p in cddf_splits(router.bias_learner_, 5, gen, scores=sub)]

    def stat(learner, w):
        r = learner.scores_
        return np.concatenate([group_means(r.pseudo_outcomes[inside], r.weights[inside], m, g, 5) for m, g in splits])

    draws, _ = refit_bootstrap(router, s.train, np.empty((0, 6)), 3, gen, progress=False, resampling="weights",
                               statistic=stat)
    refit_se = draws.std(axis=0, ddof=1).reshape(5, 5) / s.scale
    np.testing.assert_allclose(both.split_std_errors, np.maximum(fast.split_std_errors, refit_se), rtol=1e-10)


def test_both_is_the_same_for_any_number_of_workers(selected):
    s, router = selected
    one, two = (_quiet(router=router, method="both", data=s.train, n_boot=2, n_splits=3, rng=5, n_jobs=j,
                       progress=False) for j in (1, 2))
    np.testing.assert_array_equal(one.split_std_errors, two.split_std_errors)


def test_group_input_errors(selected, small_study):
    s, router = selected
    with pytest.raises(ValueError, match="`region` must be one of"):
        mrs.bias_by_group(router, region="inside")
    with pytest.raises(ValueError, match="`method` must be one of"):
        mrs.bias_by_group(router, method="refit")
    with pytest.raises(ValueError, match="needs the router's training data"):
        _quiet(router=router, method="both")
    with pytest.raises(ValueError, match="`statistic` needs resampling='weights'"):
        from metarouter_stats.inference.bias_bands import refit_bootstrap

        refit_bootstrap(router, s.train, np.empty((0, 6)), 2, 0, resampling="rows", statistic=lambda m, w: [0.0])
    fitted = router.bias_learner_

    class NoPropensity:  # a learner with scores but no propensity (like a custom or forest learner)
        capabilities = frozenset({"scores", "refit_final"})
        scores_ = fitted.scores_
        refit_final = fitted.refit_final
        effect = fitted.effect
        fit = fitted.fit

    with pytest.raises(ValueError, match="region='overlap' needs the learner's propensity"):
        mrs.bias_by_group(NoPropensity(), region="overlap")
    assert mrs.bias_by_group(NoPropensity(), n_splits=2, rng=0).region == "all"
    # a known constant share has no poor overlap: every query stays
    share = mrs.MetaRouter(cate=DRBiasLearner(propensity="share", random_state=0), random_state=0).fit(small_study.train)
    assert mrs.bias_by_group(share, region="overlap", n_splits=2, rng=0).n_excluded_preference == 0


def test_groups_resting_on_fewer_than_four_gold_rows_are_flagged():
    s = mrs.simulate(n_gold=12, n_preference=600, n_test=5, d=6, rng=2)
    router = mrs.MetaRouter(random_state=0).fit(s.train)
    with pytest.warns(RuntimeWarning, match="fewer than 4 gold.*n_groups='auto'"):
        res = mrs.bias_by_group(router, n_groups=5, n_splits=6, rng=0)
    assert np.any(res.gold_per_group < 4) and "FEW GOLD ROWS" in res.summary() and res.groups_rule == ""
    # six gold rows in each half: two groups give three each, still flagged; auto can do no better and says so
    with pytest.warns(RuntimeWarning, match="Even 2 groups"):
        auto = mrs.bias_by_group(router, n_splits=6, rng=0)
    assert auto.n_groups == 2 and "even 2 groups" in auto.summary()


def test_auto_groups_take_the_most_groups_with_four_gold_rows_each(selected, small_study):
    s, router = selected
    res = _quiet(router=router, n_splits=8, rng=0)
    # an independent count: the same splits, groups cut at k quantiles of the refitted proxy on the main half
    learner = router.bias_learner_
    sc = learner.scores_
    keep = _inside(router)
    rows = np.flatnonzero(keep)
    X, phi, w, src = sc.X[rows], sc.pseudo_outcomes[rows], sc.weights[rows], sc.source[rows]
    seed = int(np.random.default_rng(0).integers(2**31 - 1))
    splits = list(StratifiedShuffleSplit(n_splits=8, test_size=0.5, random_state=seed).split(X, src))
    medians = {}
    for k in range(5, 1, -1):
        counts = []
        for aux, main in splits:
            proxy = _linear_proxy(learner, X[aux], phi[aux]).predict(X[main]).reshape(-1)
            group = np.searchsorted(np.sort(proxy), proxy, side="left") * k // proxy.size
            counts.append([np.sum((group == g) & (src[main] == 1)) for g in range(k)])
        medians[k] = np.median(counts, axis=0)
    chosen = max((k for k in medians if np.all(medians[k] >= 4)), default=2)
    assert res.n_groups == chosen < 5  # gold is crowded in one tail: five groups would starve the others
    np.testing.assert_array_equal(res.gold_per_group, medians[chosen])
    assert res.groups_rule.startswith("auto") and f"{chosen} (auto" in res.summary()
    # random gold with 20 gold rows per group: the five groups of CDDF
    random_gold = mrs.MetaRouter(random_state=0).fit(small_study.train)
    assert _quiet(router=random_gold, n_splits=4, rng=0).n_groups == 5
    with pytest.raises(ValueError, match="n_groups.*'auto'"):
        mrs.bias_by_group(router, n_groups="many")
