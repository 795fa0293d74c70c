"""BiasRScorer: EconML's R-loss score for bias learners, with standard errors."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold

import metarouter_stats as mrs

C = 0.25  # the simulation's scale constant


class Fixed:
    """A 'fitted bias learner' with a known effect function (preference scale)."""

    def __init__(self, f):
        self.f = f

    def effect(self, X):
        return self.f(X)


def _linear_scorer(**kw):
    return mrs.BiasRScorer(model_y=LinearRegression(), model_t=LogisticRegression(C=1e6, max_iter=1000), **kw)


@pytest.fixture(scope="module")
def fitted():
    train = mrs.simulate(n_gold=100, n_preference=800, n_test=1, d=6, rng=0).train
    valid = mrs.simulate(n_gold=120, n_preference=800, n_test=1, d=6, rng=1).train
    routers = {name: mrs.MetaRouter(cate=name, scale=C, random_state=0).fit(train) for name in ("dr", "r")}
    return valid, routers


def test_equals_econml_rscorer_with_the_same_nuisances_and_folds(fitted):
    from econml.score import RScorer

    valid, routers = fitted
    splits = list(StratifiedKFold(5, shuffle=True, random_state=0).split(valid.X, valid.source))
    ours = _linear_scorer(cv=splits).fit(valid)
    y = np.where(valid.source == 1, C * valid.outcome, valid.outcome)  # the learners' outcome scale
    theirs = RScorer(model_y=LinearRegression(), model_t=LogisticRegression(C=1e6, max_iter=1000),
                     discrete_treatment=True, cv=splits).fit(y, valid.source, X=valid.X)

    class AsCate:
        def __init__(self, router):
            self.router = router

        def const_marginal_effect(self, X):
            return self.router.predict_bias(X, units="preference")

    for router in routers.values():
        # OLS is linear in its target, so c * m_1 + m_0 is EconML's E[Y | x] exactly
        assert ours.score(router) == pytest.approx(theirs.score(AsCate(router)), abs=1e-10)


def test_a_splitter_object_gives_the_same_folds_as_its_splits(fitted):
    valid, routers = fitted
    splitter = StratifiedKFold(4, shuffle=True, random_state=1)
    a = _linear_scorer(cv=splitter).fit(valid).score(routers["dr"])
    b = _linear_scorer(cv=list(splitter.split(valid.X, valid.source))).fit(valid).score(routers["dr"])
    assert a == b


def test_standard_errors_match_the_monte_carlo_spread():
    # the true bias against half of it, on 60 fresh validation sets: the delta-method SEs of the
    # score and of the paired difference vs the Monte Carlo SDs (SD precision ~9 %: ratio within 0.7-1.4)
    ref = mrs.simulate(n_gold=2, n_preference=2, n_test=2, d=6, rng=0)
    oracle, half = Fixed(lambda X: C * ref.delta(X)), Fixed(lambda X: 0.5 * C * ref.delta(X))
    rows = []
    for r in range(60):
        v = mrs.simulate(n_gold=100, n_preference=600, n_test=1, d=6, rng=100 + r).train
        tab = _linear_scorer(scale=C, random_state=r).fit(v).score_table({"oracle": oracle, "half": half})
        diff = tab.loc["oracle", "score"] - tab.loc["half", "score"]
        se_diff = tab["difference_std_error"].max()
        rows.append([tab.loc["oracle", "score"], tab.loc["oracle", "std_error"], diff, se_diff])
    score, se, diff, se_diff = np.array(rows).T
    assert 0.7 < se.mean() / score.std(ddof=1) < 1.4
    assert 0.7 < se_diff.mean() / diff.std(ddof=1) < 1.4
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(diff.size)  # the truth scores better than half of it
    assert score.mean() > 0  # and better than a constant bias


def test_score_table_and_best_model(fitted):
    valid, routers = fitted
    scorer = mrs.BiasRScorer(random_state=0).fit(valid)
    table = scorer.score_table({**routers, "constant": Fixed(lambda X: np.full(len(X), routers["dr"].ate(units="preference")))})
    assert list(table.columns) == ["score", "std_error", "difference_from_best", "difference_std_error", "p_value"]
    assert table["score"].is_monotonic_decreasing and table["difference_from_best"].iloc[0] == 0
    assert table.loc["dr", "score"] > table.loc["constant", "score"]  # a linear bias: the learner beats a constant
    assert table.loc["constant", "p_value"] < 0.05
    name, model, scores = scorer.best_model(routers, return_scores=True)
    assert model is routers[name] and scores.index[0] == name
    assert scorer.score(routers["dr"]) == pytest.approx(table.loc["dr", "score"], abs=1e-12)


def test_known_propensity_and_paired_groups():
    s = mrs.simulate(n_gold=80, n_preference=400, n_test=1, d=6, rng=3).train
    pi = np.full(s.n, s.n_gold / s.n)
    known = mrs.RoutingData(s.X, s.outcome, s.source, propensity=pi)
    sc = _linear_scorer(scale=C, random_state=0).fit(known)
    np.testing.assert_allclose(sc.residual_t_, s.source - pi)
    # paired data: both labels of a query in one cross-fitting fold
    X = np.repeat(s.X[:60], 2, axis=0)
    paired = mrs.RoutingData(X, np.random.default_rng(0).normal(size=120), np.tile([1, 0], 60),
                             query_ids=np.repeat(np.arange(60), 2))
    folds = _linear_scorer(random_state=0)._splits(paired.X, paired.source, paired.query_ids)
    for _, test in folds:
        assert set(paired.query_ids[test]).isdisjoint(set(np.delete(paired.query_ids, test)))


def test_errors_name_the_argument(fitted):
    valid, routers = fitted
    with pytest.raises(TypeError, match="`data` must be a RoutingData"):
        mrs.BiasRScorer().fit(valid.X)
    with pytest.raises(ValueError, match="`scale` must be a positive number"):
        mrs.BiasRScorer(scale=-1).fit(valid)
    with pytest.raises(ValueError, match="`scale` must be a positive number"):
        mrs.BiasRScorer(scale="variance").fit(valid)
    with pytest.raises(RuntimeError, match="not fitted"):
        mrs.BiasRScorer().score(routers["dr"])
    with pytest.raises(ValueError, match=r"`cv` must be an int >= 2|cv"):
        _linear_scorer(cv=1).fit(valid)
    with pytest.raises(ValueError, match="exactly one test fold"):
        _linear_scorer(cv=[(np.arange(10), np.arange(10, 20))]).fit(valid)
    sc = _linear_scorer(scale=0.5, random_state=0).fit(valid)
    with pytest.raises(ValueError, match=r"scale_ = 0.25 but the scorer's `scale` is 0.5"):
        sc.score(routers["dr"])
    sc = _linear_scorer(random_state=0).fit(valid)
    other = mrs.MetaRouter(scale=0.5, random_state=0).fit(mrs.simulate(n_gold=60, n_preference=300, n_test=1, d=6, rng=4).train)
    with pytest.raises(ValueError, match="different scale constants"):
        sc.score_table({"a": routers["dr"], "b": other})
    with pytest.raises(TypeError, match="fitted MetaRouter .* or a fitted bias learner"):
        sc.score(object())
    with pytest.raises(TypeError, match="non-empty mapping"):
        sc.score_table([])


def test_scorer_folds_keep_a_querys_rows_together_on_paired_data():
    s = mrs.simulate(n_gold=60, n_preference=300, n_test=2, d=6, design="paired", rng=0)
    d = s.train
    scorer = mrs.BiasRScorer(cv=5, random_state=0).fit(d)
    assert scorer.groups_ is not None
    for train, test in scorer._splits(d.X, d.source.astype(int), scorer.groups_):
        assert not set(d.query_ids[train]) & set(d.query_ids[test]), "a query's judge row crossed to the other side"
