r"""The bias-learner protocol, its declared capabilities, and the learner registry.

A *bias learner* estimates the CATE :math:`\Delta(x) = E[o \mid t=1, x] - E[o \mid t=0, x]`
from embeddings x, outcomes o already on one scale and the treatment t (1 gold, 0
preference). The protocol is two methods:

``fit(X, y, t) -> self``
    fit on outcomes already on one scale;
``effect(X) -> ndarray``
    :math:`\hat\Delta(x)` on that scale.

Everything else is an optional **capability**, declared by the learner in its
``capabilities`` (a frozenset of the names below) and never guessed from attributes.
Inference that needs a capability checks it with :func:`require_capability`, whose
error names the capability and the learners that have it.

``"scores"``
    after fit, ``scores_`` is a :class:`CrossFitScores`: the cross-fitted pseudo-outcomes
    and final-stage weights of the training rows (DR scores; R-learner ratios with
    weights :math:`(t - e)^2`). Used by the heterogeneity test and the fast band.
``"refit_final"``
    ``refit_final(X, pseudo_outcomes, weights, penalty_factor=1.0, model=None)`` returns a
    fresh final stage fitted on given scores (its tuning parameters fixed at the fitted
    values), or the unfitted regressor ``model`` fitted on them the way the learner's final
    stage is (weighted or not).
``"undersmooth"``
    ``refit_final`` accepts ``penalty_factor < 1`` (a penalised final stage).
``"intervals"``
    ``effect_interval(X, alpha=0.05)`` returns the learner's own pointwise
    ``(low, high)`` for :math:`\Delta(x)` (e.g. EconML's bootstrap-of-little-bags
    intervals of a causal forest).
``"propensity"``
    ``predict_propensity(X)`` returns the learner's estimate of P(gold | x) (the average of its
    cross-fitted propensity models); inference uses it to flag points where gold queries
    are rare and the estimate extrapolates. A learner fitted with known probabilities
    drops this capability (its propensities are not a function of x).
``"known_propensity"``
    ``fit(X, y, t, propensity=pi)`` accepts per-row probabilities of gold labelling known
    by design (random, stratified or active selection,
    :func:`~metarouter_stats.select_for_gold`) and uses them exactly, estimating no
    propensity model; after fit ``known_propensity_`` holds them.
``"groups"``
    ``fit(X, y, t, groups=query_ids)`` keeps the rows of one query in one cross-fitting fold
    (paired data: a query with a gold and a preference row).
``"sample_weight"``
    ``fit(X, y, t, sample_weight=w)`` weights every stage by non-negative row weights
    (the weighted bootstrap of :func:`~metarouter_stats.inference.refit_bootstrap`); after
    fit, ``scores_.weights`` include them.

Learners are looked up by name in a registry (:func:`make_learner`,
:func:`available_learners`). A module of the :mod:`metarouter_stats.cate` package that
decorates a class with :func:`register_learner` is found automatically: adding a learner
is adding one file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "CAPABILITIES",
    "BiasLearner",
    "CrossFitScores",
    "available_learners",
    "checked_effect",
    "checked_fit",
    "has_capability",
    "make_learner",
    "register_learner",
    "require_capability",
]

CAPABILITIES = (
    "scores", "refit_final", "undersmooth", "intervals", "propensity", "known_propensity", "groups", "sample_weight",
)


@runtime_checkable
class BiasLearner(Protocol):
    """What :class:`~metarouter_stats.MetaRouter` needs of a CATE learner of the bias."""

    def fit(self, X: Any, y: Any, t: Any) -> Any:
        """Fit on outcomes already on one scale; t = 1 gold, 0 preference. Returns self."""
        ...

    def effect(self, X: Any) -> np.ndarray:
        """Delta_hat(x) on the scale of the fitted outcomes."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossFitScores:
    """Cross-fitted scores of a fitted learner's training rows (capability ``"scores"``).

    The final stage of the learner regresses ``pseudo_outcomes`` on ``X`` with
    ``weights``; the scores themselves came from nuisances fitted out of fold. All arrays
    are read-only; ``X`` is a read-only view of the matrix the learner was fitted on (not a
    copy, as scikit-learn estimators keep their data), so do not write into that matrix
    after fitting.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        Training embeddings (the rows the learner was fitted on, after any trimming).
    pseudo_outcomes : ndarray of shape (n,)
        DR: doubly robust scores. R: ``(o - m(x)) / (t - e(x))``.
    weights : ndarray of shape (n,)
        Final-stage weights: ones (DR) or ``(t - e(x))^2`` (R).
    source : ndarray of int, shape (n,)
        1 gold, 0 preference.
    groups : ndarray of shape (n,) or None
        The query of each scored row when a query has several (paired data, a learner fitted
        with ``groups``): every resampling and sample split over the scores keeps a query's rows
        together. None when each row is its own unit.
    """

    X: np.ndarray
    pseudo_outcomes: np.ndarray
    weights: np.ndarray
    source: np.ndarray
    groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("X", "pseudo_outcomes", "weights", "source", "groups"):
            if getattr(self, name) is None:
                continue
            # X: a read-only view of the training matrix, not a copy (a million rows at d = 384 are 2.9 GB);
            # the one-column arrays are copied
            arr = np.asarray(getattr(self, name)).view() if name == "X" else np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        n = self.X.shape[0]
        if not (self.pseudo_outcomes.shape == self.weights.shape == self.source.shape == (n,)):
            raise ValueError("`CrossFitScores` arrays must have one entry per row of `X`.")
        if self.groups is not None and self.groups.shape != (n,):
            raise ValueError("`CrossFitScores.groups` must have one entry per row of `X`.")

    def fingerprint(self) -> str:
        """A short digest of the scores: results computed from them record it, so they can be matched later."""
        import hashlib  # noqa: PLC0415

        h = hashlib.sha1(usedforsecurity=False)
        for arr in (self.pseudo_outcomes, self.weights, self.source):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        return h.hexdigest()[:16]

    def units(self) -> tuple[np.ndarray, np.ndarray]:
        """(unit of each row, whether each unit has a gold row): rows are units unless ``groups`` pairs them."""
        if self.groups is None:
            return np.arange(self.n), self.source == 1
        unit = np.unique(self.groups, return_inverse=True)[1]
        return unit, np.bincount(unit[self.source == 1], minlength=int(unit.max()) + 1) > 0

    def take(self, rows: np.ndarray) -> CrossFitScores:
        """The scores of the rows ``rows`` (index or mask), groups included."""
        return CrossFitScores(X=self.X[rows], pseudo_outcomes=self.pseudo_outcomes[rows], weights=self.weights[rows],
                              source=self.source[rows], groups=None if self.groups is None else self.groups[rows])

    @property
    def n(self) -> int:
        """Number of training rows."""
        return int(self.X.shape[0])


_MAX_EFFECT = 1e100  # beyond this a bias is no number of the labels' scale: it overflows every later sum


def checked_fit(learner: Any, *args: Any, **kwargs: Any) -> Any:
    """``learner.fit(*args, **kwargs)``, refusing a fit that does not return the learner (the protocol's ``self``)."""
    out = learner.fit(*args, **kwargs)
    if out is None:
        raise TypeError(
            f"The bias learner {type(learner).__name__}.fit() returned None; the protocol's fit returns the fitted "
            "learner (add `return self` at its end)."
        )
    return out


def checked_effect(learner: Any, X: Any) -> np.ndarray:
    """``learner.effect(X)`` as a checked float array of one finite number per row of ``X``, naming the learner."""
    n = int(np.shape(X)[0])
    name = type(learner).__name__
    raw = learner.effect(X)
    if raw is None:
        raise TypeError(f"The bias learner {name}.effect() returned None for {n} queries; it must return {n} numbers.")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"The bias learner {name}.effect() returned {type(raw).__name__}, not numbers; it must "
                        f"return an array of {n} numbers.") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]  # a column of effects (EconML's shape) is one per row
    if arr.shape != (n,):
        raise ValueError(f"The bias learner {name}.effect() returned shape {arr.shape} for {n} queries; it must "
                         f"return one effect per query, shape ({n},).")
    bad = ~np.isfinite(arr) | (np.abs(arr) > _MAX_EFFECT)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"The bias learner {name}.effect() returned {int(bad.sum())} non-finite or overflowing "
                         f"values (the first, {arr[i]!r}, at query {i}); every effect must be a finite number of the "
                         "labels' scale.")
    return arr


def has_capability(learner: Any, capability: str) -> bool:
    """True when ``learner`` declares ``capability`` (see the module docstring)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"`capability` must be one of {CAPABILITIES}; got {capability!r}.")
    return capability in frozenset(getattr(learner, "capabilities", ()))


def require_capability(learner: Any, capability: str, what: str) -> None:
    """Raise a TypeError naming ``capability`` when ``learner`` does not declare it."""
    if not has_capability(learner, capability):
        having = [name for name, cls in _REGISTRY.items() if capability in getattr(cls, "static_capabilities", ())]
        raise TypeError(
            f"{what} needs a bias learner with the capability {capability!r}; "
            f"{type(learner).__name__} declares {sorted(getattr(learner, 'capabilities', ()))}. "
            f"Learners with it: {having or 'none registered'}."
        )


_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_learner(name: str) -> Callable[[type], type]:
    """Class decorator: make a learner available as ``MetaRouter(cate=name)``.

    The class is called with ``random_state=`` (and no other argument) to build the
    shorthand's learner.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string; got {name!r}.")

    def deco(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"A bias learner is already registered as {name!r}: {_REGISTRY[name].__name__}.")
        _REGISTRY[name] = cls
        return cls

    return deco


def available_learners() -> tuple[str, ...]:
    """Names accepted by ``MetaRouter(cate=...)``, in registration order."""
    return tuple(_REGISTRY)


def make_learner(spec: Any, random_state: int | None = None) -> Any:
    """A bias learner from a registered name, or a clone of a learner object.

    Parameters
    ----------
    spec : str or learner
        A name among :func:`available_learners`, or an object with ``fit(X, y, t)`` and
        ``effect(X)`` (it is cloned; the caller's object is never fitted).
    random_state : int or None
        Seed given to the learner; an object's own ``random_state`` wins when it is set.

    Returns
    -------
    learner (unfitted)
    """
    from sklearn.base import clone  # noqa: PLC0415

    if isinstance(spec, str):
        if spec not in _REGISTRY:
            raise ValueError(
                f"`cate` must be one of {available_learners()} or a learner object with fit(X, y, t) and "
                f"effect(X); got {spec!r}."
            )
        return _REGISTRY[spec](random_state=random_state)
    if not isinstance(spec, BiasLearner) or isinstance(spec, type):
        raise TypeError(
            f"`cate` must be one of {available_learners()} or a learner object with fit(X, y, t) and "
            f"effect(X) (e.g. metarouter_stats.cate.EconMLLearner(...)); got {type(spec).__name__}."
        )
    # scikit-learn's clone for estimators; a plain object that follows the protocol (no get_params) is deep-copied
    learner: Any = clone(spec) if hasattr(spec, "get_params") else copy.deepcopy(spec)
    params = learner.get_params(deep=False) if hasattr(learner, "get_params") else {}
    if "random_state" in params and params["random_state"] is None and random_state is not None:
        learner.set_params(random_state=random_state)
    return learner
