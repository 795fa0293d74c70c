import numpy as np
import pytest

import metarouter_stats as mrs
from metarouter_stats.simulation import SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_truth_is_consistent(scenario):
    s = mrs.simulate(n_gold=500, n_preference=4000, n_test=300, d=8, scenario=scenario, rng=1)
    X = s.X_test
    np.testing.assert_allclose(s.delta(X), s.psi(X) - s.eta(X) / s.scale)
    np.testing.assert_allclose(s.delta(X, scale="preference"), s.scale * s.psi(X) - s.eta(X))
    np.testing.assert_allclose(s.psi_test, s.psi(X))
    # labels are truth plus noise of the documented size (gold sd 0.5 / c, preference sd 0.5)
    t = s.train
    gold_resid = t.outcome[t.is_gold] - s.psi(t.X[t.is_gold])
    pref_resid = t.outcome[~t.is_gold] - s.eta(t.X[~t.is_gold])
    assert np.std(gold_resid) * s.scale == pytest.approx(0.5, rel=0.1)
    assert np.std(pref_resid) == pytest.approx(0.5, rel=0.05)
    assert abs(pref_resid.mean()) < 4 * 0.5 / np.sqrt(4000)


def test_same_seed_same_data():
    a = mrs.simulate(n_gold=10, n_preference=20, n_test=5, rng=7)
    b = mrs.simulate(n_gold=10, n_preference=20, n_test=5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.gold_test, b.gold_test)


def test_selection_scenario_selects_on_z1():
    s = mrs.simulate(n_gold=300, n_preference=3000, n_test=1, scenario="selection", rng=0)
    x1 = s.train.X[:, 0]
    assert x1[s.train.is_gold].mean() > x1[~s.train.is_gold].mean() + 0.8


def test_bias_heterogeneous_in_paper_not_in_homogeneous():
    for name, hetero in (("paper", True), ("homogeneous", False), ("no_bias", False)):
        s = mrs.simulate(n_gold=10, n_preference=10, n_test=500, scenario=name, rng=0)
        assert bool(np.std(s.delta(s.X_test)) > 0.5) is hetero


def test_paired_design_puts_gold_on_a_subset_of_judge_labelled_queries():
    s = mrs.simulate(n_gold=30, n_preference=200, n_test=10, d=6, design="paired", rng=0)
    d = s.train
    assert (d.n, d.n_gold, d.n_preference) == (230, 30, 200)
    pairs = d.paired()
    assert len(pairs) == 30 and np.unique(d.query_ids[~d.is_gold]).size == 200
    # a query's two rows share its embedding; the gold row is its gold label, as in gold_train
    for q in pairs["query_id"][:5]:
        rows = np.flatnonzero(d.query_ids == q)
        assert np.array_equal(d.X[rows[0]], d.X[rows[1]])
    assert np.allclose(d.outcome[d.is_gold], s.gold_train[d.is_gold])
    with pytest.raises(ValueError, match="n_gold <= n_preference"):
        mrs.simulate(n_gold=30, n_preference=20, design="paired")
    with pytest.raises(ValueError, match="design"):
        mrs.simulate(design="both")


def test_unpaired_design_is_the_default_and_unchanged():
    a = mrs.simulate(n_gold=20, n_preference=50, n_test=5, d=6, rng=3)
    b = mrs.simulate(n_gold=20, n_preference=50, n_test=5, d=6, rng=3, design="unpaired")
    assert np.array_equal(a.train.outcome, b.train.outcome) and np.array_equal(a.gold_test, b.gold_test)


def test_simulated_judges_carry_their_own_bias_noise_and_pairing():
    """Paired design: every judge labels the same queries, gold a subset; on the paired rows the mean of
    gold minus judge k estimates judge k's mean bias (true: 0.3 paper, 0.2 smooth; 4,000 queries)."""
    sim = mrs.simulate_judges(n_gold=4000, n_queries=4000, n_test=10, d=8, rng=0)
    d = sim.train
    assert d.judges == ("strong", "cheap", "twin") and d.shared_scale and sim.scale == 1.0
    gold = d.source == 1
    g = dict(zip(d.query_ids[gold], d.outcome[gold], strict=True))
    for j, truth, noise in (("strong", 0.3, 0.5), ("cheap", 0.2, 1.0), ("twin", 0.3, 0.7)):
        rows = d.mechanism == j
        diff = np.array([g[q] for q in d.query_ids[rows]]) - d.outcome[rows]
        # difference = b_k(x) + gold noise - judge noise: mean b_k, SE about sd / sqrt(4000)
        assert abs(diff.mean() - truth) < 4 * diff.std() / np.sqrt(diff.size)
        assert np.mean(sim.delta(d.X[rows], j)) == pytest.approx(truth, abs=0.05)
    unpaired = mrs.simulate_judges(n_gold=30, n_queries=50, n_test=5, d=8, design="unpaired", rng=0).train
    assert unpaired.n == 30 + 3 * 50 and np.unique(unpaired.query_ids).size == unpaired.n
    same = mrs.simulate_judges(n_gold=30, n_queries=50, n_test=5, d=8, rng=4)
    np.testing.assert_array_equal(same.train.outcome, mrs.simulate_judges(n_gold=30, n_queries=50, n_test=5, d=8,
                                                                          rng=4).train.outcome)


def test_simulate_judges_checks_its_panel():
    from metarouter_stats.simulation import JudgeSpec

    with pytest.raises(ValueError, match="other than 'gold'"):
        JudgeSpec("gold")
    with pytest.raises(ValueError, match="`bias` must be one of"):
        JudgeSpec("a", bias="selection")
    with pytest.raises(ValueError, match="`noise` must be a finite number >= 0"):
        JudgeSpec("a", noise=-1)
    with pytest.raises(ValueError, match="distinct names"):
        mrs.simulate_judges(judges=[JudgeSpec("a"), JudgeSpec("a")])
    with pytest.raises(TypeError, match="JudgeSpec"):
        mrs.simulate_judges(judges=["a"])
    with pytest.raises(ValueError, match="n_gold <= n_queries"):
        mrs.simulate_judges(n_gold=10, n_queries=5)
