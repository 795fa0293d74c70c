"""The resampling and interval layer (metarouter_stats/_resampling): one engine per idea.

Checked against the truth of a simulation, against the direct formulas the engines replace,
and for the layer's promise: the draws depend on the seed alone (not on chunk size or n_jobs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import metarouter_stats as mrs
from metarouter_stats._resampling import (
    Band, RowSampler, UnitSampler, bootstrap, critical_value, cross_fit_splitter, index_draws, make_band,
    multiplier_draws, replicate_seeds, small_sample_rule, sup_t, tune_power,
)

PACKAGE = Path(mrs.__file__).resolve().parent


def test_row_draws_equal_the_per_replicate_draws_they_replace():
    """Strata in turn, each resampled to its size: the same stream as gen.choice per stratum, replicate by replicate."""
    gold, pref = np.arange(0, 7), np.arange(7, 30)
    ours = list(index_draws(RowSampler([gold, pref]), 5, 3))
    gen = np.random.default_rng(3)
    theirs = [np.concatenate((gen.choice(gold, gold.size), gen.choice(pref, pref.size))) for _ in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_multiplier_draws_do_not_depend_on_the_chunk_size():
    blocks = {c: np.vstack(list(multiplier_draws(np.random.default_rng(1), 37, 11, chunk=c, point=True)))
              for c in (1, 5, 16, 100)}
    first = blocks[1]
    assert first.shape == (38, 11) and np.all(first[0] == 1.0)
    assert all(np.array_equal(first, b) for b in blocks.values())


def test_bootstrap_same_numbers_on_any_number_of_workers():
    x = np.random.default_rng(0).normal(size=40)
    one = bootstrap(lambda rows: [x[rows].mean(), x[rows].std()], 40, 30, rng=5)
    two = bootstrap(lambda rows: [x[rows].mean(), x[rows].std()], 40, 30, rng=5, n_jobs=2)
    assert one.shape == (30, 2) and np.array_equal(one, two)


def test_vectorised_bootstrap_gets_the_draws_of_the_loop_in_blocks_of_any_size():
    x = np.random.default_rng(0).normal(size=40)
    loop = bootstrap(lambda rows: [x[rows].mean(), x[rows].max()], 40, 23, rng=5)
    for batch in (1, 4, 23, 100):
        vec = bootstrap(lambda rows: np.column_stack([x[rows].mean(axis=1), x[rows].max(axis=1)]), 40, 23, rng=5,
                        batch=batch)
        np.testing.assert_array_equal(vec, loop)
    with pytest.raises(TypeError, match="RowSampler"):
        bootstrap(lambda rows: rows[:, :1], UnitSampler(np.array([0, 0, 1]), np.array([True, False])), 5, batch=2)


def test_bootstrap_se_of_a_mean_matches_the_formula():
    """The bootstrap SE of a sample mean is s / sqrt(n) up to resampling error (n_boot = 4000: about 1.1 %)."""
    x = np.random.default_rng(2).exponential(size=200)
    draws = bootstrap(lambda rows: x[rows].mean(), 200, 4000, rng=1)
    assert draws.std(ddof=1) == pytest.approx(x.std() / np.sqrt(200), rel=0.05)


def test_bootstrap_checks_its_arguments():
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap(lambda rows: 0.0, 10, 1)
    with pytest.raises(ValueError, match="at least one row"):
        RowSampler([np.array([], dtype=int)])


def test_unit_sampler_keeps_a_querys_rows_together():
    unit = np.array([0, 0, 1, 2, 2, 3])
    s = UnitSampler(unit, np.array([True, False, True, False]))
    rows, labels = s.draw(np.random.default_rng(0))
    for lab in np.unique(labels):  # every drawn unit brings all of its rows
        assert np.unique(unit[rows[labels == lab]]).size == 1
        assert (labels == lab).sum() == (unit == unit[rows[labels == lab][0]]).sum()


def test_replicate_seeds_are_independent_of_how_many_are_used():
    a = replicate_seeds(np.random.default_rng(4), 10)
    b = replicate_seeds(np.random.default_rng(4), 10)
    assert [s.generate_state(1)[0] for s in a] == [s.generate_state(1)[0] for s in b]


def test_sup_t_band_covers_jointly_at_its_level():
    """Gaussian draws with known law: the uniform band's critical value is the max-|z| quantile (simulated)."""
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(20000, 8))
    crit = critical_value(np.zeros(8), draws, np.ones(8), "uniform", 0.95)
    # P(max_j |Z_j| <= c) = (2 Phi(c) - 1)^8 = 0.95  ->  c = 2.73
    assert crit == pytest.approx(2.734, abs=0.03)
    assert np.all(sup_t(np.zeros(8), draws[:3], np.ones(8)) == np.max(np.abs(draws[:3]), axis=1))


def test_band_confidence_interval_at_another_level_uses_the_same_draws():
    draws = np.random.default_rng(1).normal(size=(2000, 3))
    band = make_band(np.zeros(3), draws, kind="pointwise", confidence_level=0.95, method="demo")
    assert isinstance(band, Band)
    lo, hi = band.confidence_interval(0.5)
    assert np.all(hi - lo < band.high - band.low)


def test_small_sample_rule_is_the_regression_rule_for_a_mean():
    """Equal probabilities, contrast 1: inflation sqrt(n / (n - 1 - k)) and df n - 1 - k."""
    infl, df = small_sample_rule(np.ones(30), np.full(30, 4.0), 1)
    assert infl == pytest.approx(np.sqrt(30 / 28)) and df == pytest.approx(28)
    assert small_sample_rule(np.ones(30), np.ones(30), 1) == (1.0, np.inf)  # gold everywhere: nothing to correct


def test_tuner_minimises_the_variance_it_claims_to():
    """For a mean with gold on a random share, lambda is Cov(y, f) / Var(f), the minimiser of the simulated variance."""
    rng = np.random.default_rng(3)
    n, n_g = 2000, 200

    def estimate(lam, seed):
        r = np.random.default_rng(seed)
        f = r.normal(size=n)
        y = 0.7 * f + r.normal(scale=0.5, size=n)
        gold = r.choice(n, n_g, replace=False)
        return lam * f.mean() + (y[gold] - lam * f[gold]).mean()

    f = rng.normal(size=n)
    y = 0.7 * f + rng.normal(scale=0.5, size=n)
    gold = rng.choice(n, n_g, replace=False)
    lam, _ = tune_power(np.ones((n_g, 1)), f[gold][:, None], y[gold], np.full(n_g, n / n_g),
                        np.array([[f.mean()]]), n_g / n, use_z=False)
    assert lam[0, 0] == pytest.approx(0.7, abs=0.1)
    var = {c: np.var([estimate(c, s) for s in range(400)]) for c in (0.0, 0.35, 0.7, 1.05)}
    assert min(var, key=var.get) == 0.7


def test_one_tuner_same_estimand_same_numbers_in_router_and_cost_quality_evaluation():
    """E[g] of the primary model: RouterEvaluation.mean_gain and evaluate_cost_quality (one weight, every query routed to
    the primary model, no budget binding) are one estimator: same lambda, same estimate, same interval."""
    rng = np.random.default_rng(0)
    n = 600
    g = rng.normal(0.3, 1.0, n)
    f = g + rng.normal(scale=0.5, size=n)
    gold = np.where(rng.random(n) < 0.15, g, np.nan)
    ev = mrs.evaluate_routers({"r": rng.normal(size=n)}, gold, pseudo_gold=f, n_boot=300, rng=7)
    mean = ev.mean_gain()
    G = np.column_stack([np.where(np.isnan(gold), np.nan, 0.0), gold])
    F = np.column_stack([np.zeros(n), f])
    C = np.tile([0.0, 1.0], (n, 1))
    S = np.column_stack([np.zeros(n), np.ones(n)])  # the primary model everywhere at weight 0
    cq = mrs.evaluate_cost_quality(G, C, {"r": S}, pseudo_gold=F, weights=[0.0], budget=10.0, n_boot=300, rng=7)
    q = cq.quality_at_budget[0]
    assert cq.lambda_mean[0] == pytest.approx(mean.power, rel=1e-10)
    assert q.estimate == pytest.approx(mean.estimate, rel=1e-10)
    assert q.std_error == pytest.approx(mean.std_error, rel=1e-10)
    assert (q.low, q.high) == pytest.approx((mean.low, mean.high), rel=1e-10)


def test_cross_fit_splitter_keeps_a_query_in_one_fold():
    groups = np.repeat(np.arange(40), 2)
    y = np.tile([0, 1], 40)
    for _, test in cross_fit_splitter(5, 0, grouped=True).split(np.zeros(80), y, groups):
        assert set(groups[test]).isdisjoint(set(np.delete(groups, test)))
    for _, test in cross_fit_splitter(5, 0, stratify=False, grouped=True).split(np.zeros(80), None, groups):
        assert set(groups[test]).isdisjoint(set(np.delete(groups, test)))


def test_only_the_resampling_layer_draws_bootstrap_randomness():
    """No second bootstrap loop: raw resampling draws appear in the layer only (and in code that draws data by design)."""
    allowed = {"_resampling", "simulation.py", "testing.py", "planning/selection.py", "experiment/runner.py"}
    hits = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if any(rel.startswith(a) or rel == a for a in allowed):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if ">>>" in code:
                continue
            if any(tok in code for tok in ("standard_exponential", "integers(0", ".choice(")):
                hits.append(f"{rel}:{i}: {line.strip()}")
    assert not hits, "resampling outside the layer:\n" + "\n".join(hits)
