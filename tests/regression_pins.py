"""Numbers the package printed for fixed seeds before the architecture refactor (issue 11).

``tests/test_regression.py`` recomputes them with the current API and compares them with
``tests/data/regression_pins.json``, which was written once, from the code before the
refactor, by ``python tests/regression_pins.py --write``. A refactor that moves code must
not move these numbers. Regenerate the file only for a deliberate change of numbers, and
say so in the commit message.

Deliberate changes since: ``dr_heterogeneity`` and ``r_heterogeneity`` (issue 14: the BLP
test now follows CDDF's repeated sample splits; re-pinned from the new code, every other
key untouched); every key that depends on a fitted boosted model (issue 13: the default
``HistGradientBoostingRegressor`` now runs 100 iterations at learning rate 0.1 instead of 200
at 0.05; docs/defaults.md), re-pinned from the new code; the scale, t-test, EG-band, router
and study-key entries untouched; ``dr_band_refit`` once more (the refit band is undersmoothed
like the fast band since issue 14). ``dr_band_refit`` asks for ``resampling="rows"``: the
default became Exp(1) weights in issue 14, and the pin keeps guarding the row resampling.
Issue 41: ``dr_band_refit`` again (the refit replicates hold the router's tuned penalty
instead of re-tuning their own); ``*_heterogeneity`` now asks for ``aggregation="median"``
(unchanged numbers), and ``*_heterogeneity_wild`` (new) pins the default wild-bootstrap test.
Then the default final stage became the stacked ``SelectedFinalStage`` (ridge on x and two
spline bases): re-pinned ``dr_bias``, ``dr_gain``, ``r_bias``, ``r_gain``, ``demo_table``,
``study_gain`` (predictions); every band key and the four heterogeneity keys are unchanged (the
default band and the splits' proxies stay the linear ridge refitted on the scores). Then the fast
uniform band's critical value became the studentised sup-t (``bias_interval(studentize=None)``):
re-pinned ``dr_band_uniform`` and ``r_band_uniform`` only (critical value 2.665 -> 2.891 and
3.041 -> 2.768 at these 60 replicates); the pointwise bands and every other key are unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import metarouter_stats as mrs

PINS = Path(__file__).with_name("data") / "regression_pins.json"


def _list(a) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=float).ravel()]


def compute() -> dict[str, list[float]]:
    """Every pinned number, computed with the current public API."""
    from metarouter_stats.cli import demo_table
    from metarouter_stats.experiment import StudyConfig, run_study

    out: dict[str, list[float]] = {}
    # the demo's table (first two rounds of `metarouter demo`, full size)
    table = demo_table(rounds=2, n_jobs=2)  # rounds run in parallel: same numbers (issue 11's seeding contract)
    out["demo_table"] = _list(table.to_numpy())
    out["demo_routers"] = list(table.index)  # type: ignore[assignment]

    s = mrs.simulate(n_gold=60, n_preference=600, n_test=40, rng=1)
    for cate in ("dr", "r"):
        router = mrs.MetaRouter(cate=cate, random_state=3).fit(s.train)
        out[f"{cate}_gain"] = _list(router.predict_gain(s.X_test))
        out[f"{cate}_bias"] = _list(router.predict_bias(s.X_test))
        out[f"{cate}_scale"] = [float(router.scale_)]
        band = mrs.bias_interval(router, s.X_test[:15], n_boot=60, rng=4)
        out[f"{cate}_band_pointwise"] = _list(np.r_[band.estimate, band.low, band.high])
        ub = mrs.bias_interval(router, s.X_test[:15], n_boot=60, kind="uniform", rng=4)
        out[f"{cate}_band_uniform"] = _list(np.r_[ub.low, ub.high, [ub.critical_value]])
        het = mrs.bias_heterogeneity_test(router, rng=5, aggregation="median")  # CDDF's rule, as first pinned
        out[f"{cate}_heterogeneity"] = [het.statistic, het.slope, het.mean_bias]
        wild = mrs.bias_heterogeneity_test(router, rng=5, n_wild=50)  # the default since issue 41
        out[f"{cate}_heterogeneity_wild"] = [wild.statistic, wild.slope, wild.mean_bias, wild.p_value]
    router = mrs.MetaRouter(cate="dr", random_state=3).fit(s.train)
    # the row-resampling refit bootstrap, as pinned (resampling="auto" chooses Exp(1) weights since issue 14)
    refit = mrs.bias_interval(router, s.X_test[:5], n_boot=3, method="refit", data=s.train, rng=6, resampling="rows")
    out["dr_band_refit"] = _list(np.r_[refit.estimate, refit.std_error])
    for name in ("GoldOnlyRouter", "PooledRouter", "MeanShiftRouter", "PreferenceOnlyRouter"):
        out[name] = _list(getattr(mrs, name)(random_state=3).fit(s.train).predict_gain(s.X_test))

    g, p = s.train.outcome[s.train.source == 1], s.train.outcome[s.train.source == 0]
    res = mrs.bias_ttest(g, p, paired=False, scale=1.0 / s.scale)
    out["ttest"] = [res.estimate, res.statistic, res.p_value, res.df, *res.confidence_interval()]

    rng = np.random.default_rng(7)
    gold = rng.normal(size=300)
    scores = gold + rng.normal(size=300)
    egb = mrs.efficiency_gain_interval(gold, scores, n_boot=100, kind="uniform", rng=8)
    out["eg_band"] = _list(np.r_[egb.estimate, egb.low, egb.high])

    cfg = StudyConfig(rounds=2, gold_sizes=(30, 60), n_preference=300, n_test=80, d=8, seed=11,
                      routers=("meta-dr", "meta-r", "gold-only", "mean-shift", "random"))
    frame = run_study(cfg, n_jobs=1, progress=False).frame
    frame = frame.sort_values(["round", "n_gold", "router", "rate"]).reset_index(drop=True)
    out["study_gain"] = _list(frame["gain"])
    out["study_keys"] = [f"{r}|{g}|{k}|{v:.1f}" for r, g, k, v in  # type: ignore[misc]
                         zip(frame["round"], frame["n_gold"], frame["router"], frame["rate"], strict=True)]
    return out


if __name__ == "__main__":
    if "--write" in sys.argv:
        PINS.parent.mkdir(exist_ok=True)
        PINS.write_text(json.dumps(compute(), indent=1))
        print(f"wrote {PINS}")
