r"""Routers: the Meta-router and the baselines, one scikit-learn interface.

Every router is a scikit-learn estimator (``get_params``, ``clone``) with

* ``fit(X, y, source=t)`` -- t = 1 gold, 0 preference (or pass a
  :class:`~metarouter_stats.RoutingData` as ``X``);
* ``predict_gain(X)`` -- the predicted gold quality gain psi_hat(x), **on the gold
  scale**;
* ``route(X, threshold=w)`` -- True (primary model) where psi_hat(x) > w, or
  ``route(X, rate=rho)`` -- the share rho of queries with the highest psi_hat.

Routers that use preference labels first put gold labels on the preference scale,
``r -> c r`` (:mod:`metarouter_stats.scaling`), fit on that scale and divide
their predictions by c on the way out.

The Meta-router (paper, Algorithm 1):

1. c from the gold and preference labels;
2. Delta_hat(x) by a DR- or R-learner on ``(x, t, o)`` with ``o = c r`` for gold
   rows and ``o = y`` for preference rows (:class:`~metarouter_stats.cate.BiasModel`);
3. corrected preference labels ``y' = y + Delta_hat(x)``;
4. psi_hat regressed on gold (``c r``) together with corrected preference rows;
5. ``predict_gain = psi_hat / c``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from ._checks import as_1d_float, as_2d_float, as_rng, as_source, check_fraction, check_known_propensity, check_random_state
from ._threads import budgeted
from ._ranking import decide, eg_area, k_for_rate
from .cate import default_outcome_model, default_propensity_model, has_capability, make_learner, require_capability
from .cate.protocol import checked_effect, checked_fit
from .data import RoutingData, data_digest
from .positivity import check_trim_rule, cross_fit_propensity, density_ratio, trim_mask
from .scaling import SCALE_DEFAULT, choose_scale

__all__ = [
    "TRIM_FALLBACKS",
    "BaseRouter",
    "GoldOnlyRouter",
    "MeanShiftRouter",
    "MetaRouter",
    "OracleRouter",
    "PooledRouter",
    "PreferenceOnlyRouter",
    "RandomRouter",
    "TextRouter",
    "check_units",
]

UNITS = ("gold", "preference")


def check_units(units: Any) -> str:
    """Validate an output-units argument: ``"gold"`` or ``"preference"``."""
    if units not in UNITS:
        raise ValueError(f"`units` must be 'gold' or 'preference'; got {units!r}.")
    return str(units)


def _as_input(X: Any) -> Any:
    """A RoutingData becomes a frame with its feature names (so names are checked), or its array."""
    if isinstance(X, RoutingData):
        return pd.DataFrame(X.X, columns=list(X.feature_names)) if X.feature_names is not None else X.X
    return X


MAX_LABEL = 1e100  # beyond this, squared residuals of the nuisance models overflow


def _unpack(X: Any, y: Any, source: Any, *, need_source: bool = True) -> tuple[np.ndarray, ...]:
    """Validate fit arguments; a RoutingData may be passed as X."""
    X, y, t = _unpack_raw(X, y, source, need_source=need_source)
    big = np.abs(y) > MAX_LABEL
    if big.any():
        raise ValueError(
            f"`y` must be below {MAX_LABEL:g} in magnitude (the models square residuals); got {y[big][0]!r} at "
            f"position {int(np.flatnonzero(big)[0])}. Rescale the labels."
        )
    return X, y, t


def _unpack_raw(X: Any, y: Any, source: Any, *, need_source: bool = True) -> tuple[np.ndarray, ...]:
    if isinstance(X, RoutingData):
        if y is not None or source is not None:
            raise ValueError("Pass either a RoutingData as `X` alone, or `X`, `y` and `source`.")
        return X.X, X.outcome, X.source
    X = as_2d_float(X, "X")
    if X.shape[0] < 2:
        raise ValueError(f"`X` has {X.shape[0]} sample(s) (shape={X.shape}); fitting a router needs several rows "
                         "(the Meta-router: at least 2 gold and 2 preference).")
    if y is None:
        raise ValueError("`y` is required unless `X` is a RoutingData.")
    y = as_1d_float(y, "y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"`y` must have one entry per row of `X`; got {y.shape[0]} for {X.shape[0]} rows.")
    if source is None:
        if need_source:
            raise ValueError("`source` is required: 1 for gold rows, 0 for preference rows.")
        return X, y, np.ones(X.shape[0], dtype=int)
    t = as_source(source, "source")
    if t.shape[0] != X.shape[0]:
        raise ValueError(
            f"`source` must have one entry per row of `X`; got {t.shape[0]} for {X.shape[0]} rows."
        )
    return X, y, t


def _require(t: np.ndarray, *, gold: int = 0, preference: int = 0) -> None:
    n_gold, n_pref = int(t.sum()), int(t.size - t.sum())
    if n_gold < gold or n_pref < preference:
        raise ValueError(
            f"`source` must contain at least {gold} gold and {preference} preference rows for this "
            f"router; got {n_gold} gold and {n_pref} preference."
        )


class BaseRouter(BaseEstimator):
    """Shared predict / route / calibrate logic of the binary routers.

    Subclasses fit ``regressor_`` (psi on the scale of its targets) and set ``scale_`` (the
    factor that brings those targets to the gold scale); ``predict_gain``, ``route``,
    ``score`` and ``calibrate`` then work as for every router of the package.

    Fit records ``n_features_in_`` (and ``feature_names_in_`` when X is a DataFrame or a
    RoutingData with feature names) with scikit-learn's ``validate_data``; prediction refuses
    another number of columns and renamed, reordered or missing named columns.
    """

    def _check_params(self) -> None:
        check_random_state(getattr(self, "random_state", None))

    def _regressor(self) -> Any:
        reg = getattr(self, "regressor", None)
        return clone(reg) if reg is not None else default_outcome_model(getattr(self, "random_state", None))

    def _record_features(self, X: Any) -> None:
        validate_data(self, _as_input(X), reset=True, skip_check_array=True)

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        raw = _as_input(X)
        if isinstance(raw, pd.DataFrame) or hasattr(self, "feature_names_in_"):
            validate_data(self, raw, reset=False, skip_check_array=True)
        X = as_2d_float(raw, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input: `X` must have {self.n_features_in_} columns, "
                             "as in fit.")
        return X

    @budgeted
    def predict_gain(self, X: Any) -> np.ndarray:
        """Predicted gold quality gain psi_hat(x), on the gold scale.

        Parameters
        ----------
        X : array-like of shape (n, d)

        Returns
        -------
        ndarray of shape (n,)
        """
        X = self._check_X(X)
        return np.asarray(self.regressor_.predict(X), dtype=float).reshape(-1) / self.scale_

    def route(self, X: Any, threshold: float | None = None, *, rate: float | None = None) -> np.ndarray:
        """Binary routing decisions: True sends the query to the primary model.

        Parameters
        ----------
        X : array-like of shape (n, d)
        threshold : float, optional
            Send to the primary model where psi_hat(x) > threshold (gold scale).
        rate : float in [0, 1], optional
            Send the ``round(rate * n)`` queries with the highest psi_hat **of this batch** (ties by
            position). On small batches this is not a rate: one query is sent below rate 0.5 never
            and from 0.5 always; a warning says so below ``MIN_BATCH_FOR_RATE`` queries.

        With neither, the threshold stored by :meth:`calibrate` is used: the way to route one
        query at a time.

        Returns
        -------
        ndarray of bool, shape (n,)

        Examples
        --------
        >>> import metarouter_stats as mrs
        >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=400, rng=0)
        >>> r = mrs.MetaRouter(random_state=0).fit(s.train).calibrate(s.X_test, rate=0.3)
        >>> bool(r.route(s.X_test[:1])[0]) in (True, False)
        True
        """
        if threshold is None and rate is None:
            if not hasattr(self, "threshold_"):
                raise ValueError(
                    "Pass `threshold` or `rate`, or calibrate a threshold first: router.calibrate(X_ref, rate=0.3) "
                    "stores one for routing queries one at a time."
                )
            threshold = self.threshold_
        scores = self.predict_gain(X)
        if rate is not None and scores.shape[0] < MIN_BATCH_FOR_RATE:
            warnings.warn(
                f"route(rate={rate}) ranks within the {scores.shape[0]} queries given (fewer than "
                f"{MIN_BATCH_FOR_RATE}): the share sent is round(rate * n), not a rate over your traffic. To route "
                "queries one at a time, calibrate a threshold on reference queries: router.calibrate(X_ref, rate=...), "
                "then router.route(X).",
                UserWarning,
                stacklevel=2,
            )
        return decide(scores, threshold, rate)

    def score(self, X: Any, y: Any, source: Any = None) -> float:
        """Area under the per-query efficiency gain (rates 0.2 to 0.8) on the **gold** rows.

        scikit-learn's model-selection default (``cross_val_score``, ``GridSearchCV`` without
        ``scoring``). Preference labels are biased, so only rows with ``source == 1`` are scored;
        with ``source=None`` every row of ``y`` is taken to be a gold label. For cross-validation on
        mixed data, route ``source`` to ``fit`` and ``score`` with scikit-learn's metadata routing
        (``sklearn.set_config(enable_metadata_routing=True)``, then
        ``router.set_fit_request(source=True).set_score_request(source=True)``), or use
        :func:`~metarouter_stats.gold_scorer`. Higher is better.

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : array-like of shape (n,)
            Labels; those of gold rows are gold gains.
        source : array-like of shape (n,), optional
            1 / "gold" for gold rows, 0 / "preference" for preference rows.

        Returns
        -------
        float
        """
        y = as_1d_float(y, "y")
        scores = self.predict_gain(X)
        if scores.shape[0] != y.shape[0]:
            raise ValueError(f"`y` must have one entry per row of `X`; got {y.shape[0]} for {scores.shape[0]} rows.")
        if source is not None:
            t = as_source(source, "source")
            if t.shape[0] != y.shape[0]:
                raise ValueError(f"`source` must have one entry per row of `X`; got {t.shape[0]}.")
            gold = t == 1
            if gold.sum() < 2:
                raise ValueError(
                    f"Scoring needs at least 2 gold rows (source == 1) in the test fold; got {int(gold.sum())}. "
                    "Use folds stratified by source (StratifiedKFold on `source`)."
                )
            y, scores = y[gold], scores[gold]
        return eg_area(y, scores)

    def calibrate(self, X_ref: Any, rate: float, *, confidence_level: float = 0.95) -> Any:
        """Store the psi_hat threshold that sends the share ``rate`` of reference queries to the primary model.

        What RouteLLM's ``calibrate_threshold`` does, with its uncertainty. The threshold is set
        so that exactly ``k = round(rate * n)`` of the n reference queries score above it (midway
        between the k-th and (k+1)-th highest psi_hat). Queries with tied scores (a repeated
        query) are routed alike, so k is the achievable count nearest ``round(rate * n)``
        (a warning says so when they differ) and ``calibrated_rate_`` is the rate ``route``
        delivers on these queries. On new queries from the same population
        the share routed is then random: it is the population share above an order statistic,
        distributed Beta(k + 1/2, n - k + 1/2) to within 1/n (exactly Beta(k + 1, n - k) at the
        lower and Beta(k, n - k + 1) at the upper order statistic, whatever the law of the
        scores); ``rate_interval_`` holds its central ``confidence_level`` interval.

        Parameters
        ----------
        X_ref : array-like of shape (n, d)
            Reference queries drawn like the traffic to be routed (no labels needed).
        rate : float in (0, 1)
        confidence_level : float, default 0.95

        Returns
        -------
        self
            With ``threshold_``, ``calibrated_rate_`` (k / n) and ``rate_interval_``.
        """
        from scipy import stats  # noqa: PLC0415

        rate = check_fraction(rate, "rate", closed=False)
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        scores = np.sort(self.predict_gain(X_ref))[::-1]
        n = scores.size
        if n < 2:
            raise ValueError(f"`X_ref` must hold at least 2 reference queries; got {n}.")
        wanted = k_for_rate(rate, n)
        # route() sends psi_hat > threshold, so a block of tied scores goes all or none: the rates it can deliver
        # on these queries are the counts at the ends of the tie blocks; take the one nearest the target
        ends = np.r_[0, np.flatnonzero(np.diff(scores) != 0) + 1, n]
        k = int(ends[np.argmin(np.abs(ends - wanted))])
        if k == 0:
            threshold = float(scores[0]) + 1e-12 * max(1.0, abs(float(scores[0])))
        elif k == n:
            threshold = float(np.nextafter(scores[-1], -np.inf))
        else:
            threshold = float((scores[k - 1] + scores[k]) / 2)
        if k != wanted:
            warnings.warn(
                f"calibrate: tied scores among the reference queries (repeated queries?) let route() deliver "
                f"{k / n:.3g} of them to the primary model, not {wanted / n:.3g}: a tie block is routed all or none. "
                "calibrated_rate_ and rate_interval_ describe the rate delivered.", UserWarning, stacklevel=2)
        self.threshold_ = threshold
        self.calibrated_rate_ = k / n
        lo = stats.beta.ppf(0.5 - level / 2, k + 0.5, n - k + 0.5)
        hi = stats.beta.ppf(0.5 + level / 2, k + 0.5, n - k + 0.5)
        self.rate_interval_ = (float(lo), float(hi))
        return self


MIN_BATCH_FOR_RATE = 20  # below this, route(rate=...) warns that it ranks within the batch

TRIM_FALLBACKS = ("drop", "extrapolate", "mean")
_FALLBACK_WORDS = {
    "drop": "they are left out of the regression of psi",
    "extrapolate": "they are corrected by Delta_hat fitted on the overlap",
    "mean": "they are corrected by the mean estimated bias of the kept rows",
}


class MetaRouter(BaseRouter):
    """The Meta-router: debias preference labels by a CATE learner, then regress.

    Parameters
    ----------
    cate : str or bias learner, default "auto"
        ``"auto"``: ``"paired"`` on paired data (query ids pair a judge row with at least 10
        gold queries and half of them, no design probabilities, no trimming), ``"dr"`` otherwise
        (``cate_`` says which; on unpaired data it is exactly ``"dr"``). ``"dr"`` (DR-learner, EconML ``DRLearner``), ``"r"`` (R-learner, EconML
        ``NonParamDML``), ``"paired"`` (:class:`~metarouter_stats.cate.paired.PairedBiasLearner`:
        augmented-IPW scores of the paired differences, one per query), another registered name
        (:func:`~metarouter_stats.cate.available_learners`), or a learner object
        following :mod:`~metarouter_stats.cate.protocol` (e.g.
        ``DRBiasLearner(propensity="share")`` or ``EconMLLearner(CausalForestDML(...))``).
        An object is cloned; its ``random_state``, when None, is set to this router's.
    scale : {"auto", "paired", "variance", "amplitude", "wasserstein"}, float or None, default "auto"
        The constant c that puts gold labels on the preference scale, or the rule that
        chooses it (:func:`~metarouter_stats.scaling.choose_scale`): a number is the known c
        (``scale=1``: both labels on one scale; None means 1); ``"auto"`` uses c = 1 when the
        data declare one scale (``RoutingData.shared_scale``), variance matching on the
        paired queries on paired data, and on every label otherwise. Routing does not depend
        on c; every statement about the bias does (``scale_choice_`` says which c and why).
    regressor : regressor, optional
        Model of psi on gold and corrected preference rows. Default: the gradient-boosted
        trees of :func:`~metarouter_stats.cate.default_outcome_model`.
    trim : None, (low, high) or "crump", default None
        Positivity trimming of preference rows by the cross-fitted density ratio
        w(x) = f_G(x) / f_P(x) (:mod:`metarouter_stats.positivity`). Trimmed rows are
        excluded from the CATE fit. A warning states how many rows were trimmed. The
        propensity model and folds are the learner's ``model_propensity`` and ``cv`` where
        it has them, else the default logistic model and 5 folds.
    trim_fallback : {"drop", "extrapolate", "mean"}, default "drop"
        What happens to the trimmed preference rows in the regression of psi:
        ``"drop"`` leaves them out (psi is learned from gold rows and the corrected
        preference rows inside the overlap); ``"extrapolate"`` corrects them with
        Delta_hat fitted on the overlap; ``"mean"`` corrects them by the mean estimated
        bias of the kept preference rows (a mean shift). Every query is routed in each
        case. "mean" misranks exactly the trimmed rows; "drop" is the default because it
        never extrapolates the bias outside the overlap (``vignettes/positivity_trimming.py``
        compares the three).
    random_state : int or None
        Seed of folds and default models.

    Attributes
    ----------
    scale_ : float
        The constant c (``c * gold`` is on the preference scale).
    bias_learner_ : bias learner
        The fitted CATE learner (its ``capabilities`` say which inference applies).
    regressor_ : regressor
        Fitted model of ``c * psi``.
    n_gold_, n_preference_ : int
    trimmed_ : ndarray of bool
        Training rows removed from the CATE fit (all False without trimming).
    n_trimmed_ : int
    cate_ : str or bias learner
        The learner in use (``cate`` with ``"auto"`` resolved).
    scale_choice_ : ScaleChoice
        c (``scale_``), how it was chosen and why (:class:`~metarouter_stats.scaling.ScaleChoice`).
    density_ratio_ : ndarray or None
        Cross-fitted w(x) of the training rows (None without trimming).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame or a RoutingData with feature names.

    See Also
    --------
    metarouter_stats.bias_interval : confidence bands for Delta_hat(x).
    metarouter_stats.bias_heterogeneity_test : is the bias constant?

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=600, n_test=100, rng=0)
    >>> router = mrs.MetaRouter(cate="dr", random_state=0).fit(s.train)
    >>> router.route(s.X_test, rate=0.4).mean()
    np.float64(0.4)
    """

    def __init__(
        self,
        cate: Any = "auto",
        scale: Any = SCALE_DEFAULT,
        *,
        regressor: Any = None,
        trim: Any = None,
        trim_fallback: str = "drop",
        random_state: int | None = None,
    ) -> None:
        self.cate = cate
        self.scale = scale
        self.regressor = regressor
        self.trim = trim
        self.trim_fallback = trim_fallback
        self.random_state = random_state

    def make_learner(self, random_state: int | None = None) -> Any:
        """An unfitted bias learner as this router builds it (``random_state`` default: the router's)."""
        cate = getattr(self, "cate_", "dr") if isinstance(self.cate, str) and self.cate == "auto" else self.cate
        return make_learner(cate, self.random_state if random_state is None else random_state)

    @budgeted
    def fit(self, X: Any, y: Any = None, source: Any = None, *, propensity: Any = None) -> MetaRouter:
        """Fit the Meta-router.

        Parameters
        ----------
        X : array-like of shape (n, d), DataFrame, or RoutingData
        y : array-like of shape (n,)
            Observed gains, each on its mechanism's scale.
        source : array-like of shape (n,)
            1 / "gold" or 0 / "preference".
        propensity : array-like of shape (n,), optional
            Each row's probability of gold labelling, known by design (default: a
            RoutingData's ``propensity``, if any). The bias learner then uses it exactly in
            place of a propensity model (it needs the ``"known_propensity"`` capability:
            ``"dr"`` and ``"r"``), and trimming reads the density ratio from it.

        Returns
        -------
        self
        """
        self._check_params()
        if not (isinstance(self.cate, str) and self.cate == "auto"):
            self.make_learner()  # checks `cate` before any work
        if self.trim_fallback not in TRIM_FALLBACKS:
            raise ValueError(f"`trim_fallback` must be one of {TRIM_FALLBACKS}; got {self.trim_fallback!r}.")
        if self.trim is not None:
            check_trim_rule(self.trim)
        raw = X
        if propensity is None and isinstance(X, RoutingData):
            propensity = X.propensity
        ids = X.query_ids if isinstance(X, RoutingData) else None
        shared = bool(getattr(X, "shared_scale", False))
        all_ids = ids
        if ids is not None and np.unique(ids).size == ids.size:
            ids = None  # distinct ids: no query has two rows, nothing to keep together
        X, y, t = _unpack(X, y, source)
        _require(t, gold=2, preference=2)
        auto = isinstance(self.cate, str) and self.cate == "auto"
        self.cate_ = _auto_cate(t, all_ids, propensity if self.trim is None else "trim") if auto else self.cate
        learner = self.make_learner()
        known = None if propensity is None else check_known_propensity(propensity, t)
        if known is not None:
            require_capability(learner, "known_propensity", "fitting with known propensities")
        gold = t == 1
        choice = choose_scale(self.scale, y, t, query_ids=all_ids, shared_scale=shared)
        c = choice.value
        o = np.where(gold, c * y, y)
        trimmed = np.zeros(t.size, dtype=bool)
        self.density_ratio_ = None
        if self.trim is not None:
            params = learner.get_params(deep=False) if hasattr(learner, "get_params") else {}
            e = known if known is not None else cross_fit_propensity(
                X, t, model=params.get("model_propensity") or default_propensity_model(),
                cv=int(params.get("cv", 5)), rng=self.random_state,
                groups=ids,
            )
            self.density_ratio_ = density_ratio(e, gold.mean())
            trimmed = trim_mask(self.density_ratio_, t, self.trim)
            if trimmed.any():
                warnings.warn(
                    f"Trimmed {int(trimmed.sum())} of {int((~gold).sum())} preference rows "
                    f"({100 * trimmed.sum() / (~gold).sum():.1f} %) outside the overlap of gold and preference "
                    f"queries (trim={self.trim!r}); trim_fallback={self.trim_fallback!r}: "
                    + _FALLBACK_WORDS[self.trim_fallback] + ".",
                    UserWarning,
                    stacklevel=2,
                )
        keep = ~trimmed
        _require(t[keep], gold=2, preference=2)
        extra: dict[str, Any] = {}
        if known is not None:
            extra["propensity"] = known[keep]
        if ids is not None and has_capability(learner, "groups"):
            extra["groups"] = ids[keep]  # paired data: a query's rows stay in one cross-fitting fold
        X_keep = X if keep.all() else X[keep]  # no copy of X when nothing was trimmed
        self.bias_learner_ = checked_fit(learner, X_keep, o[keep], t[keep], **extra)
        delta = checked_effect(self.bias_learner_, X)
        if trimmed.any() and self.trim_fallback == "mean":
            delta[trimmed] = delta[keep & ~gold].mean()
        corrected = np.where(gold, o, o + delta)
        rows = keep if self.trim_fallback == "drop" else np.ones(t.size, dtype=bool)
        self.regressor_ = self._regressor().fit(X if rows.all() else X[rows], corrected[rows])
        self.scale_ = c
        self.scale_choice_ = choice
        self.training_digest_ = data_digest(X, y, t)
        self.trimmed_ = trimmed
        self.n_trimmed_ = int(trimmed.sum())
        self.n_gold_, self.n_preference_ = int(gold.sum()), int((~gold).sum())
        self._record_features(raw)
        return self

    @budgeted
    def predict_bias(self, X: Any, *, units: str = "gold") -> np.ndarray:
        """Estimated bias Delta_hat(x), gold minus preference.

        Parameters
        ----------
        X : array-like of shape (n, d)
        units : {"gold", "preference"}, default "gold"
            ``"gold"``: psi(x) - eta(x) / c, the bias in gold units; ``"preference"``:
            c psi(x) - eta(x), the correction added to preference labels.

        Returns
        -------
        ndarray of shape (n,)
        """
        units = check_units(units)
        X = self._check_X(X)
        delta = checked_effect(self.bias_learner_, X)
        return delta / self.scale_ if units == "gold" else delta

    def _ate_parts(self) -> tuple[float, float]:
        check_is_fitted(self, "bias_learner_")
        require_capability(self.bias_learner_, "scores", "ate")
        sc = self.bias_learner_.scores_
        phi, w = np.asarray(sc.pseudo_outcomes, dtype=float), np.asarray(sc.weights, dtype=float)
        theta = float(np.sum(w * phi) / np.sum(w))
        infl = np.asarray(w * (phi - theta), dtype=float)
        if getattr(sc, "groups", None) is not None:  # paired rows: a query's rows are one independent unit
            infl = np.asarray(np.bincount(sc.units()[0], weights=infl), dtype=float)
        se = float(np.sqrt(np.sum(infl**2)) / np.sum(w))
        return theta, se

    def ate(self, *, units: str = "gold") -> float:
        """Average bias over the training queries from the learner's cross-fitted scores.

        For the DR-learner the mean of the doubly robust pseudo-outcomes (AIPW): the average
        bias over all training queries, gold and preference, which is the right target when
        gold and preference queries are different queries (unpaired); the R-learner's is the
        residual-weighted (overlap-weighted) mean. EconML's ``ate`` for this package.

        Parameters
        ----------
        units : {"gold", "preference"}, default "gold"

        Returns
        -------
        float
        """
        theta, _ = self._ate_parts()
        return theta / self.scale_ if check_units(units) == "gold" else theta

    def ate_std_error(self, *, units: str = "gold") -> float:
        """Standard error of :meth:`ate`: the sandwich SE of the cross-fitted scores' mean (c treated as known).

        Clustered by query on paired rows; what :meth:`ate_interval` uses.
        """
        _, se = self._ate_parts()
        return se / self.scale_ if check_units(units) == "gold" else se

    def ate_interval(self, alpha: float | None = None, *, confidence_level: float = 0.95,
                     units: str = "gold") -> tuple[float, float]:
        """``(low, high)``: a ``confidence_level`` normal interval for :meth:`ate`.

        The standard error is the sandwich SE of the (weighted) mean of the cross-fitted
        scores (clustered by query on paired rows), with the scale constant c **treated as
        known** (its uncertainty is propagated by :func:`~metarouter_stats.bias_ttest`, which
        uses the labels directly). ``alpha`` (the error rate, ``1 - confidence_level``) is the
        older spelling, deprecated.
        """
        from scipy import stats  # noqa: PLC0415

        level = _level(alpha, confidence_level, "ate_interval")
        theta, se = self._ate_parts()
        z = float(stats.norm.ppf(0.5 + level / 2))
        f = self.scale_ if check_units(units) == "gold" else 1.0
        return (theta - z * se) / f, (theta + z * se) / f

    def summary(self, alpha: float | None = None, *, confidence_level: float = 0.95) -> Any:
        """The bias model in one table, as EconML's ``summary()``: average bias and its linear predictor.

        Parameters
        ----------
        alpha : float in (0, 0.5], optional
            Deprecated: the error rate, ``1 - confidence_level``.
        confidence_level : float in (0, 1), default 0.95
            Level of every interval.

        Returns
        -------
        metarouter_stats.cate.summary.BiasModelSummary
            The average bias (:meth:`ate`, with its interval) and the best linear predictor of
            the bias given x (weighted least squares of the learner's cross-fitted scores on
            ``[1, x]``, HC3 standard errors; gold scale, c treated as known). Needs a learner
            with the ``"scores"`` capability (``"dr"``, ``"r"``).

        Examples
        --------
        >>> import metarouter_stats as mrs
        >>> s = mrs.simulate(n_gold=100, n_preference=1000, n_test=1, d=6, rng=0)
        >>> router = mrs.MetaRouter(scale=0.25, random_state=0).fit(s.train)
        >>> table = router.summary().to_frame()
        >>> list(table.columns)
        ['estimate', 'std_error', 'z', 'p_value', 'ci_low', 'ci_high']
        >>> table.index[:3].tolist()
        ['intercept', 'x0', 'x1']
        """
        from .cate.summary import summarise_bias_model  # noqa: PLC0415

        level = _level(alpha, confidence_level, "summary")
        theta, se = self._ate_parts()
        names = getattr(self, "feature_names_in_", None)
        return summarise_bias_model(
            self.bias_learner_.scores_, ate=theta / self.scale_, ate_std_error=se / self.scale_, scale=self.scale_,
            learner=type(self.bias_learner_).__name__, feature_names=names, confidence_level=level,
        )


class GoldOnlyRouter(BaseRouter):
    """Regress psi on the gold rows only (preference rows ignored).

    Parameters
    ----------
    regressor : regressor, optional
        Default: gradient-boosted trees (as for every router).
    random_state : int or None

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> s = mrs.simulate(n_gold=60, n_preference=200, n_test=10, rng=0)
    >>> mrs.GoldOnlyRouter(random_state=0).fit(s.train).predict_gain(s.X_test).shape
    (10,)
    """

    def __init__(self, *, regressor: Any = None, random_state: int | None = None) -> None:
        self.regressor = regressor
        self.random_state = random_state

    @budgeted
    def fit(self, X: Any, y: Any = None, source: Any = None) -> GoldOnlyRouter:
        """Fit on the rows with ``source == 1``; returns self."""
        self._check_params()
        raw = X
        X, y, t = _unpack(X, y, source)
        _require(t, gold=2)
        gold = t == 1
        self.regressor_ = self._regressor().fit(X[gold], y[gold])
        self.scale_ = 1.0
        self._record_features(raw)
        return self


_MIN_AUTO_PAIRS = 10


def _level(alpha: Any, confidence_level: Any, where: str) -> float:
    """The confidence level from ``confidence_level``, or from the deprecated ``alpha`` (an error rate)."""
    if alpha is None:
        return check_fraction(confidence_level, "confidence_level", closed=False)
    a = check_fraction(alpha, "alpha", closed=False)
    if a > 0.5:
        raise ValueError(
            f"`alpha` is the error rate (0.05 for 95 % intervals); got {alpha!r}, which would give "
            f"{100 * (1 - a):.0f} % intervals. Did you mean `confidence_level={alpha!r}`?"
        )
    warnings.warn(f"{where}(alpha=...) is deprecated: pass confidence_level={1 - a:g} instead.", FutureWarning,
                  stacklevel=3)
    return 1.0 - a


def _auto_cate(t: np.ndarray, ids: np.ndarray | None, propensity: Any) -> str:
    """``cate="auto"``: "paired" when at least 10 gold queries, and at least half of them, also have a judge row
    (no design probabilities, no trimming: ``propensity`` is then not None), else "dr"."""
    if ids is None or propensity is not None:
        return "dr"
    gold_q = pd.Index(pd.unique(pd.Series(ids[t == 1])))
    judge_q = pd.Index(pd.unique(pd.Series(ids[t == 0])))
    paired = judge_q.isin(list(gold_q)).sum()
    if paired >= _MIN_AUTO_PAIRS and 2 * paired >= len(gold_q):  # mostly paired: a few unread verdicts are imputed
        return "paired"
    return "dr"


class _ScaledRouter(BaseRouter):
    """Routers fitted on the preference scale (gold rescaled by c)."""

    def __init__(self, *, scale: Any = SCALE_DEFAULT, regressor: Any = None, random_state: int | None = None) -> None:
        self.scale = scale
        self.regressor = regressor
        self.random_state = random_state

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        """(row mask, targets on the preference scale) used for the regression."""
        raise NotImplementedError

    @budgeted
    def fit(self, X: Any, y: Any = None, source: Any = None) -> _ScaledRouter:
        """Fit the router; returns self. See the class docstring for the targets."""
        self._check_params()
        raw = X
        X, y, t = _unpack(X, y, source)
        _require(t, gold=2, preference=2)
        gold = t == 1
        choice = choose_scale(self.scale, y, t, query_ids=getattr(raw, "query_ids", None),
                              shared_scale=bool(getattr(raw, "shared_scale", False)))
        c = choice.value
        rows, target = self._targets(y, gold, c)
        self.regressor_ = self._regressor().fit(X[rows], target[rows])
        self.scale_ = c
        self.scale_choice_ = choice
        self._record_features(raw)
        return self


class PreferenceOnlyRouter(_ScaledRouter):
    """Regress on preference rows only; predictions divided by c to the gold scale.

    Gold rows are used only to estimate c (with ``scale=None`` they are not used at all).

    Parameters
    ----------
    scale : str, float or None, default "auto"
        c or the rule that chooses it (:func:`~metarouter_stats.scaling.choose_scale`).
    regressor : regressor, optional
    random_state : int or None
    """

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        return ~gold, y


class PooledRouter(_ScaledRouter):
    """Regress on gold (rescaled, ``c r``) and raw preference rows together.

    What RouteLLM-style predictive routers do: the preference bias is ignored.

    Parameters
    ----------
    scale : str, float or None, default "auto"
        c or the rule that chooses it (:func:`~metarouter_stats.scaling.choose_scale`).
    regressor : regressor, optional
    random_state : int or None
    """

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        return np.ones_like(gold), np.where(gold, c * y, y)


class MeanShiftRouter(_ScaledRouter):
    """Pool gold with preference labels shifted by the global mean difference.

    ``y' = y + (mean(c r) - mean(y))``: removes a constant bias, not a
    heterogeneous one. The fitted shift (preference scale) is ``shift_``.

    Parameters
    ----------
    scale : str, float or None, default "auto"
        c or the rule that chooses it (:func:`~metarouter_stats.scaling.choose_scale`).
    regressor : regressor, optional
    random_state : int or None
    """

    def _targets(self, y: np.ndarray, gold: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        self.shift_ = float(np.mean(c * y[gold]) - np.mean(y[~gold]))
        return np.ones_like(gold), np.where(gold, c * y, y + self.shift_)


class OracleRouter(BaseRouter):
    """Regress on gold labels for *every* training query (an upper reference).

    ``fit(X, gold_labels)``: ``source`` may be omitted; if given, it must be all gold.

    Parameters
    ----------
    regressor : regressor, optional
    random_state : int or None
    """

    def __init__(self, *, regressor: Any = None, random_state: int | None = None) -> None:
        self.regressor = regressor
        self.random_state = random_state

    @budgeted
    def fit(self, X: Any, y: Any = None, source: Any = None) -> OracleRouter:
        """Fit on gold labels of all rows; returns self."""
        self._check_params()
        if isinstance(X, RoutingData):
            raise TypeError(
                "`OracleRouter.fit` needs gold labels for every query: call fit(X, gold_labels), "
                "e.g. fit(study.train.X, study.gold_train)."
            )
        raw = X
        X, y, t = _unpack(X, y, source, need_source=False)
        if not np.all(t == 1):
            raise ValueError(
                "`source` must be all gold (1) for OracleRouter: the oracle is given gold labels "
                "for every training query."
            )
        self.regressor_ = self._regressor().fit(X, y)
        self.scale_ = 1.0
        self._record_features(raw)
        return self


class RandomRouter(BaseRouter):
    """Route at random: the reference every efficiency gain is measured against.

    ``predict_gain`` returns i.i.d. uniform scores drawn from ``random_state``
    (the same X size gives the same scores on every call).

    Parameters
    ----------
    random_state : int or None
    """

    def __init__(self, *, random_state: int | None = None) -> None:
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, source: Any = None) -> RandomRouter:
        """Record the number of features; returns self."""
        self._check_params()
        as_2d_float(X.X if isinstance(X, RoutingData) else X, "X")
        self._record_features(X)
        self.scale_ = 1.0
        return self

    def predict_gain(self, X: Any) -> np.ndarray:
        """Uniform random scores (no information about the gain)."""
        X = self._check_X(X)
        return as_rng(self.random_state, "random_state").random(X.shape[0])


class TextRouter(BaseEstimator):
    """A router of query texts: a text embedder fitted on the training queries, then a router.

    Fitted once, it embeds a new text the way the training queries were embedded and routes
    it, so a saved ``TextRouter`` (``joblib.dump``) routes new texts in one call. Build it by
    fitting both on texts (:meth:`fit`) or from an embedder and a router fitted already
    (:meth:`from_fitted`, e.g. ``Judgments.embedder`` and a router fitted on
    ``Judgments.data``).

    Parameters
    ----------
    embedder : transformer, optional
        Unfitted text embedder (``fit`` / ``transform`` on lists of strings); default
        :class:`~metarouter_stats.datasets.TextEmbedder` ``(dim=20)``, as the loaders use.
    router : router, optional
        Unfitted router; default :class:`MetaRouter`.

    Attributes
    ----------
    embedder_, router_ : the fitted embedder and router

    Examples
    --------
    >>> import joblib, tempfile, os
    >>> import metarouter_stats as mrs
    >>> words = ["sort", "list", "prove", "lemma", "poem", "about", "rain", "write", "code", "tests"]
    >>> texts = [f"{words[i % 10]} {words[(3 * i) % 7]} {words[(7 * i) % 9]} item{i}" for i in range(200)]
    >>> s = mrs.simulate(n_gold=40, n_preference=160, n_test=1, d=6, rng=0)
    >>> tr = mrs.TextRouter(router=mrs.MetaRouter(random_state=0)).fit(texts, s.train.outcome, s.train.source)
    >>> path = os.path.join(tempfile.mkdtemp(), "router.joblib")
    >>> _ = joblib.dump(tr, path)
    >>> joblib.load(path).route(["write a poem about rain"], threshold=0.0).shape
    (1,)
    """

    def __init__(self, embedder: Any = None, router: Any = None) -> None:
        self.embedder = embedder
        self.router = router

    def fit(self, texts: Any, y: Any, source: Any, *, query_ids: Any = None, shared_scale: bool = False) -> TextRouter:
        """Fit the embedder on the distinct texts, then the router on every row's embedding; returns self.

        ``query_ids`` and ``shared_scale`` are passed to the :class:`~metarouter_stats.RoutingData`
        the router is fitted on (paired designs, labels on one declared scale).
        """
        from .datasets import TextEmbedder  # noqa: PLC0415

        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("`texts` must be a sequence of strings, one per labelled row.")
        texts = list(texts)
        self.embedder_ = clone(self.embedder) if self.embedder is not None else TextEmbedder(dim=20)
        self.embedder_.fit(list(dict.fromkeys(texts)))  # each query's text once, in order of appearance
        X = np.asarray(self.embedder_.transform(texts), dtype=float)
        names = tuple(str(f) for f in self.embedder_.get_feature_names_out()) \
            if hasattr(self.embedder_, "get_feature_names_out") else None
        data = RoutingData(X, y, source, query_ids=query_ids, feature_names=names, shared_scale=shared_scale)
        self.router_ = (clone(self.router) if self.router is not None else MetaRouter()).fit(data)
        return self

    @classmethod
    def from_fitted(cls, embedder: Any, router: Any) -> TextRouter:
        """Wrap an embedder and a router fitted already (the router on that embedder's output)."""
        check_is_fitted(router)
        width = getattr(embedder, "n_components_", None)
        if width is not None and int(width) != int(router.n_features_in_):
            raise ValueError(
                f"`router` was fitted on {router.n_features_in_} features but `embedder` gives {width}: fit the router "
                "on this embedder's output (e.g. Judgments.data with Judgments.embedder)."
            )
        out = cls(embedder=embedder, router=router)
        out.embedder_, out.router_ = embedder, router
        return out

    def embed(self, texts: Any) -> Any:
        """The router's input for ``texts``: their embedding, with the feature names the router recorded."""
        check_is_fitted(self, "router_")
        if isinstance(texts, str):
            texts = [texts]
        X = np.asarray(self.embedder_.transform(list(texts)), dtype=float)
        names = getattr(self.router_, "feature_names_in_", None)
        return pd.DataFrame(X, columns=list(names)) if names is not None else X

    def predict_gain(self, texts: Any) -> np.ndarray:
        """psi_hat of each text (gold scale); a single string is one text."""
        return self.router_.predict_gain(self.embed(texts))

    def predict_bias(self, texts: Any, **kwargs: Any) -> np.ndarray:
        """Delta_hat of each text (the router's ``predict_bias``)."""
        return self.router_.predict_bias(self.embed(texts), **kwargs)

    def route(self, texts: Any, threshold: float | None = None, *, rate: float | None = None) -> np.ndarray:
        """True = send the text's query to the primary model (the router's ``route``)."""
        return self.router_.route(self.embed(texts), threshold, rate=rate)
