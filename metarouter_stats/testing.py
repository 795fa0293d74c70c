"""Testing tools for users' own bias learners and properties: a conformance check and hypothesis strategies.

:func:`check_bias_learner` runs, in the spirit of scikit-learn's ``check_estimator``, the bias-
learner protocol (:mod:`metarouter_stats.cate.protocol`) and the invariants every learner must
satisfy, on seeded simulated data; it raises an ``AssertionError`` that names the property that
broke, or returns the list of properties checked. :func:`routing_data` is a hypothesis strategy
that draws valid :class:`~metarouter_stats.RoutingData` (gold and preference rows, optional query
ids pairing them, optional known propensities) for users' property-based tests. hypothesis is a
test dependency: it is imported only when the strategy is built.

This module sits outside the stage order, like the other helpers: it uses the package's public
API only.

Examples
--------
>>> from metarouter_stats.testing import check_bias_learner
>>> check_bias_learner("dr")[:3]
['protocol', 'output shape and finiteness', 'seeded reproducibility']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .cate import CrossFitScores, has_capability, make_learner
from .data import RoutingData
from .simulation import simulate

__all__ = ["check_bias_learner", "routing_data"]

_N_GOLD, _N_PREF, _D = 80, 400, 6


def _fail(prop: str, learner: Any, what: str) -> AssertionError:
    return AssertionError(f"check_bias_learner: property {prop!r} broke for {type(learner).__name__}: {what}")


def _data(paired: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """(X, outcome on one scale, t, query ids or None, evaluation X) of a seeded simulation."""
    s = simulate(n_gold=_N_GOLD, n_preference=_N_PREF, n_test=50, d=_D, rng=20261206,
                 design="paired" if paired else "unpaired")
    d = s.train
    o = np.where(d.is_gold, s.scale * d.outcome, d.outcome)
    return d.X, o, d.source.astype(int), (d.query_ids if paired else None), np.asarray(s.X_test)


def _new(spec: Any, random_state: int) -> Any:
    learner = make_learner(spec, random_state)
    if hasattr(learner, "get_params") and "random_state" in learner.get_params(deep=False):
        learner.set_params(random_state=random_state)
    return learner


def _fit(learner: Any, X: np.ndarray, o: np.ndarray, t: np.ndarray, ids: Any, **kw: Any) -> Any:
    extra = dict(kw)
    if ids is not None:
        extra["groups"] = ids
    out = learner.fit(X, o, t, **extra)
    if out is None:
        raise _fail("protocol", learner, "fit() returned None; it must return the fitted learner (`return self`).")
    return out


def _effect(learner: Any, X: np.ndarray, prop: str = "output shape and finiteness") -> np.ndarray:
    raw = learner.effect(X)
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise _fail(prop, learner, f"effect() returned {type(raw).__name__}, not numbers.") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (X.shape[0],):
        raise _fail(prop, learner, f"effect() returned shape {arr.shape} for {X.shape[0]} rows.")
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1e100):
        raise _fail(prop, learner, "effect() returned non-finite or overflowing values.")
    return arr


def check_bias_learner(learner: Any, *, random_state: int = 0) -> list[str]:
    """Check a bias learner against the protocol and the invariants every learner must satisfy.

    Properties, in order (each on a seeded simulation: 80 gold and 400 preference rows, d = 6,
    gold on the preference scale; paired rows with query ids when the learner needs them):

    1. ``protocol``: ``fit(X, y, t)`` returns the learner; ``effect(X)`` exists.
    2. ``output shape and finiteness``: ``effect`` gives one finite number per row.
    3. ``seeded reproducibility``: two fits with the same ``random_state`` give the same effects.
    4. ``gold shift equivariance``: adding a constant a to every gold label shifts the average
       Delta_hat by a (within 10 % of a, a = 5 standard deviations of the labels).
    5. ``row order``: fitting on the rows in another order changes Delta_hat (root mean square)
       by at most twice what another ``random_state`` changes it, plus 2 % of the labels'
       standard deviation: row order may move the cross-fitting folds, as a seed does, and
       nothing else.
    6. ``declared capabilities``: each capability the learner declares exists and works
       (``scores``: a :class:`~metarouter_stats.cate.CrossFitScores` of finite scores;
       ``refit_final``: a refitted final stage that predicts; ``intervals``: ``low <= high``;
       ``propensity``: probabilities in (0, 1); ``known_propensity``, ``groups``,
       ``sample_weight``: fits that take them, unit weights changing nothing beyond 10 %).

    Parameters
    ----------
    learner : str or learner object
        A registered name (``"dr"``) or an unfitted learner (cloned for every fit).
    random_state : int, default 0

    Returns
    -------
    list of str
        The properties checked, all passed.

    Raises
    ------
    AssertionError
        Naming the first property that broke and what the learner did.

    Examples
    --------
    >>> from metarouter_stats.testing import check_bias_learner
    >>> "declared capabilities" in check_bias_learner("r")
    True
    """
    passed: list[str] = []
    probe = _new(learner, random_state)
    for method in ("fit", "effect"):
        if not callable(getattr(probe, method, None)):
            raise _fail("protocol", probe, f"it has no {method}() method.")
    paired = has_capability(probe, "groups") and type(probe).__name__ == "PairedBiasLearner"
    X, o, t, ids, Xe = _data(paired)
    fitted = _fit(probe, X, o, t, ids)
    passed.append("protocol")
    base = _effect(fitted, Xe)
    passed.append("output shape and finiteness")

    again = _effect(_fit(_new(learner, random_state), X, o, t, ids), Xe, "seeded reproducibility")
    if not np.allclose(base, again, rtol=1e-7, atol=1e-9):
        raise _fail("seeded reproducibility", probe, f"two fits with random_state={random_state} differ by up to "
                    f"{float(np.max(np.abs(base - again))):.3g}.")
    passed.append("seeded reproducibility")

    sd = float(np.std(o))
    a = 5.0 * sd
    shifted = _effect(_fit(_new(learner, random_state), X, np.where(t == 1, o + a, o), t, ids), Xe,
                      "gold shift equivariance")
    moved = float(np.mean(shifted - base))
    if abs(moved - a) > 0.1 * a:
        raise _fail("gold shift equivariance", probe, f"adding {a:.3g} to every gold label moved the average "
                    f"Delta_hat by {moved:.3g}.")
    passed.append("gold shift equivariance")

    # row order may move the cross-fitting folds, as another seed does: no more than that is allowed
    other_seed = _effect(_fit(_new(learner, random_state + 1), X, o, t, ids), Xe, "row order")
    rms_seed = float(np.sqrt(np.mean((other_seed - base) ** 2)))
    perm = np.random.default_rng(random_state).permutation(t.size)
    permuted = _effect(_fit(_new(learner, random_state), X[perm], o[perm], t[perm],
                            None if ids is None else ids[perm]), Xe, "row order")
    rms = float(np.sqrt(np.mean((permuted - base) ** 2)))
    if rms > 2.0 * rms_seed + 0.02 * sd:
        raise _fail("row order", probe, f"fitting on the rows in another order moved Delta_hat by {rms:.3g} (root "
                    f"mean square), more than twice what another seed moves it ({rms_seed:.3g}) plus 2 % of the "
                    f"labels' sd {sd:.3g}.")
    passed.append("row order")

    _check_capabilities(learner, fitted, X, o, t, ids, Xe, base, sd, random_state)
    passed.append("declared capabilities")
    return passed


def _check_capabilities(spec: Any, fitted: Any, X: np.ndarray, o: np.ndarray, t: np.ndarray, ids: Any,
                        Xe: np.ndarray, base: np.ndarray, sd: float, random_state: int) -> None:
    prop = "declared capabilities"
    if has_capability(fitted, "scores"):
        sc = getattr(fitted, "scores_", None)
        if not isinstance(sc, CrossFitScores):
            raise _fail(prop, fitted, "it declares 'scores' but has no CrossFitScores `scores_`.")
        if not (np.all(np.isfinite(sc.pseudo_outcomes)) and np.all(np.isfinite(sc.weights))):
            raise _fail(prop, fitted, "its `scores_` hold non-finite pseudo-outcomes or weights.")
        if has_capability(fitted, "refit_final"):
            model = fitted.refit_final(sc.X, sc.pseudo_outcomes, sc.weights)
            pred = np.asarray(model.predict(Xe), dtype=float).reshape(-1)
            if pred.shape != (Xe.shape[0],) or not np.all(np.isfinite(pred)):
                raise _fail(prop, fitted, "refit_final() gave a model whose predictions are not one finite number per row.")
    if has_capability(fitted, "intervals"):
        low, high = (np.asarray(v, dtype=float).reshape(-1) for v in fitted.effect_interval(Xe, alpha=0.05))
        if low.shape != (Xe.shape[0],) or np.any(low > high):
            raise _fail(prop, fitted, "effect_interval() gave bounds that are not one low <= high pair per row.")
    if has_capability(fitted, "propensity"):
        e = np.asarray(fitted.predict_propensity(Xe), dtype=float)
        if e.shape != (Xe.shape[0],) or np.any((e <= 0) | (e >= 1)):
            raise _fail(prop, fitted, "predict_propensity() gave values outside (0, 1) or of the wrong shape.")
    if has_capability(fitted, "known_propensity"):
        pi = np.where(t == 1, 0.5, 0.5 * t.mean())
        _effect(_fit(_new(spec, random_state), X, o, t, ids, propensity=np.clip(pi, 1e-3, 0.999)), Xe, prop)
    if has_capability(fitted, "sample_weight"):
        weighted = _effect(_fit(_new(spec, random_state), X, o, t, ids, sample_weight=np.ones(t.size)), Xe, prop)
        rms = float(np.sqrt(np.mean((weighted - base) ** 2)))
        if rms > 0.1 * sd:
            raise _fail(prop, fitted, f"sample_weight of ones moved Delta_hat by {rms:.3g} (root mean square).")
    if has_capability(fitted, "groups") and ids is None:
        groups = np.arange(t.size) // 2  # pairs of rows as "queries"
        _effect(_fit(_new(spec, random_state), X, o, t, None, groups=groups), Xe, prop)


def routing_data(
    *, min_gold: int = 4, max_gold: int = 30, min_preference: int = 4, max_preference: int = 60, d: int = 3,
    paired: bool | None = None, propensity: bool = False,
) -> Any:
    """A hypothesis strategy of valid RoutingData: gold and preference rows, optional pairing and propensities.

    Parameters
    ----------
    min_gold, max_gold, min_preference, max_preference : int
        Row counts (at least 2 each; paired data draw the gold queries among the preference ones).
    d : int
        Embedding width.
    paired : bool or None, default None
        True: query ids pair every gold row with a preference row of the same query (same x);
        False: distinct queries; None: either.
    propensity : bool, default False
        Attach known propensities (a gold share in each row's (0, 1) range).

    Returns
    -------
    hypothesis SearchStrategy of RoutingData

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from metarouter_stats.testing import routing_data
    >>> @settings(max_examples=5, deadline=None)
    ... @given(routing_data())
    ... def test_rows(data):
    ...     assert data.n == data.n_gold + data.n_preference
    >>> test_rows()
    """
    from hypothesis import strategies as st  # noqa: PLC0415 - a test dependency, imported when used

    if min_gold < 2 or min_preference < 2:
        raise ValueError("`min_gold` and `min_preference` must be at least 2 (the package needs both label sources).")

    @st.composite
    def draw(draw_: Any) -> RoutingData:
        n_p = draw_(st.integers(min_preference, max_preference))
        n_g = draw_(st.integers(min_gold, max_gold))
        is_paired = draw_(st.booleans()) if paired is None else paired
        if is_paired:
            n_g = min(n_g, n_p)
        seed = draw_(st.integers(0, 2**31 - 1))
        rng = np.random.default_rng(seed)
        Xp = rng.normal(size=(n_p, d))
        if is_paired:
            gold_q = rng.choice(n_p, n_g, replace=False)
            X = np.vstack([Xp, Xp[gold_q]])
            ids = np.r_[np.arange(n_p), gold_q]
        else:
            X = np.vstack([Xp, rng.normal(size=(n_g, d))])
            ids = np.arange(n_p + n_g)
        source = np.r_[np.zeros(n_p, dtype=int), np.ones(n_g, dtype=int)]
        outcome = X[:, 0] + 0.5 * source + rng.normal(size=source.size)
        pi = None
        if propensity:
            base = n_g / (n_g + n_p)
            pi = np.clip(base * rng.uniform(0.5, 1.5, size=source.size), 1e-3, 0.999)
        return RoutingData(X, outcome, source, query_ids=ids, propensity=pi)

    return draw()
