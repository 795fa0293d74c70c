r"""Scale normalisation: put gold labels on the preference scale, ``r -> c * r``.

Gold labels (rubric points, expert grades) and preference labels (win rates,
vote shares) live on different scales; the bias Delta(x) is only meaningful once
they share one (Meta-Router paper, Sec. 4, "scale normalisation"). Every method
returns a constant c > 0 with ``c * gold`` on the preference scale and is
scale-equivariant: ``estimate_scale(a * gold, preference) == estimate_scale(gold,
preference) / a`` for every a > 0.

``"amplitude"``
    ratio of the largest absolute values, :math:`c = \max_j |y_j| / \max_i |r_i|`.
    Gains are differences of two models' qualities, so 0 means "no gain" on both
    scales; using absolute values keeps 0 fixed (unlike a ratio of ranges).
``"variance"``
    ratio of standard deviations (ddof = 1), :math:`c = s_y / s_r`.
``"wasserstein"``
    the c minimising the 1-D 2-Wasserstein distance between the empirical laws
    of :math:`c\,r` and :math:`y`. With quantile functions :math:`Q_r, Q_y`,
    :math:`W_2^2(c r, y) = \int_0^1 (c Q_r(u) - Q_y(u))^2 du`, a quadratic in c,
    minimised in closed form by

    .. math:: c = \frac{\int_0^1 Q_r(u) Q_y(u)\,du}{\int_0^1 Q_r(u)^2\,du}.

    Empirical quantile functions are step functions with jumps at i / n_G and
    j / n_P; both integrals are computed exactly on the merged grid of jumps.

What each method assumes
------------------------
The bias and c are not separately identified: any c, with its own bias function,
reproduces the two label laws. Each method fixes c by an assumption about the bias, and
a statement about the bias holds only under it (check which survive with
:func:`~metarouter_stats.scale_sensitivity`; routing does not depend on c).

* ``amplitude``: the largest absolute gain is the same on both scales. Its population c
  exists only for bounded labels whose extremes are reached (rubric points, win rates);
  for unbounded labels the ratio of sample maxima has no limit to estimate.
* ``variance``: the rescaled gold label and the preference label have the same spread,
  :math:`\mathrm{sd}(y) = c\,\mathrm{sd}(r)`. A heterogeneous bias changes the spread
  of y, and gold queries selected on x change the spread of r: then this c converges to
  sd(y) / sd(r), not to the c of the data (0.216 on ``nonlinear_bias`` and 0.272 on
  ``selection`` against a true 0.25), and every bias output carries a spurious term
  proportional to psi(x).
* ``wasserstein``: the rescaled gold law is as close as possible to the preference law
  (exact when the bias is 0 in distribution); it inherits the variance method's
  sensitivity to a bias that reshapes the law and to selection on x.

* ``paired`` (paired designs: a judge labels every query and a subset of the same queries
  also has gold): variance matching on the queries that carry both labels,
  :math:`c = s_y / s_r` over the pairs. It assumes the same as ``variance``, but on the same
  queries: which queries got gold (selection on x, active selection) no longer moves it.
  A heterogeneous bias still does.

Which c to use
--------------
The choice of c is a modelling choice, and every statement about the bias depends on it
(routing does not). The one default of the package, ``scale="auto"``
(:func:`choose_scale`), follows the labels:

1. **c = 1 when both labels are on one declared scale**: the same rubric (expert grades and
   judge scores on 0-4), the same vote coding (expert and judge pairwise votes coded
   +1 / 0 / -1). Declare it with ``RoutingData(..., shared_scale=True)`` (the MT-Bench,
   PandaLM and long-format vote loaders do, since both mechanisms vote the same way), or
   say it outright with ``scale=1``. Estimating c here would add an assumption the design
   does not need: variance matching reads any difference in spread (a judge that uses
   fewer extreme grades) as a change of units, and can flip the sign of the mean bias.
2. **On paired data otherwise**: ``"paired"``.
3. **Otherwise**: ``"variance"``.

Give a number when c is known from the labels' definitions (a 1-10 judge score against a
0-4 rubric: ``scale=9 / 4`` if both ends correspond), a method name to impose one.

The sampling error of an estimated c is propagated into the bias t-test
(:func:`~metarouter_stats.bias_ttest`; delta method via :func:`scale_influence`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_1d_float
from .data import paired_labels

__all__ = [
    "SCALE_CHOICES",
    "SCALE_DEFAULT",
    "SCALE_METHODS",
    "ScaleChoice",
    "choose_scale",
    "declared_choice",
    "estimate_scale",
    "parse_scale",
    "reestimate_scale",
    "resolve_scale",
    "resolve_scale_choice",
    "scale_influence",
    "scale_row_influence",
    "wasserstein2",
]

SCALE_METHODS = ("amplitude", "variance", "wasserstein")
#: every spelling of ``scale`` that names a rule rather than a number
SCALE_CHOICES = ("auto", "paired", *SCALE_METHODS)
#: the package's one default for ``scale``: every function, estimator and the CLI use it
SCALE_DEFAULT = "auto"
_MIN_PAIRS = 3


def _merged_quantiles(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widths and values of two empirical quantile functions on their merged grid."""
    qa, qb = np.sort(a), np.sort(b)
    grid = np.union1d(np.arange(1, a.size + 1) / a.size, np.arange(1, b.size + 1) / b.size)
    grid[-1] = 1.0
    widths = np.diff(np.concatenate(([0.0], grid)))
    mid = grid - widths / 2  # a point inside every step
    ia = np.minimum(np.ceil(mid * a.size).astype(int) - 1, a.size - 1)
    ib = np.minimum(np.ceil(mid * b.size).astype(int) - 1, b.size - 1)
    return widths, qa[ia], qb[ib]


def wasserstein2(a: Any, b: Any) -> float:
    """Exact 2-Wasserstein distance between two 1-D empirical distributions.

    Parameters
    ----------
    a, b : array-like
        Samples (sizes may differ).

    Returns
    -------
    float

    Examples
    --------
    >>> from metarouter_stats.scaling import wasserstein2
    >>> wasserstein2([0.0, 1.0], [1.0, 2.0])
    1.0
    """
    a = as_1d_float(a, "a")
    b = as_1d_float(b, "b")
    w, qa, qb = _merged_quantiles(a, b)
    return float(np.sqrt(np.sum(w * (qa - qb) ** 2)))


def estimate_scale(gold: Any, preference: Any, method: str = "variance") -> float:
    """Estimate the constant c that puts gold labels on the preference scale.

    Parameters
    ----------
    gold : array-like of shape (n_gold,)
        Gold-standard labels (at least 2, not all zero / not constant for "variance").
    preference : array-like of shape (n_preference,)
        Preference-based labels.
    method : {"amplitude", "variance", "wasserstein"}, default "variance"
        See the module docstring for each formula.

    Returns
    -------
    float
        c > 0 such that ``c * gold`` is on the preference scale.

    Raises
    ------
    ValueError
        Unknown method, fewer than 2 labels, degenerate labels (zero spread), or a
        Wasserstein fit with c <= 0 (gold and preference quantiles point in
        opposite directions: check the sign convention of the labels).

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> mrs.estimate_scale([-4.0, 0.0, 4.0], [-1.0, 0.0, 1.0], method="variance")
    0.25
    >>> mrs.estimate_scale([-4.0, 0.0, 4.0], [-1.0, 0.0, 1.0], method="wasserstein")
    0.25
    """
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    for name, arr in (("gold", g), ("preference", p)):
        if arr.size < 2:
            raise ValueError(f"`{name}` must hold at least 2 labels to estimate a scale; got {arr.size}.")
    if method not in SCALE_METHODS:
        raise ValueError(f"`method` must be one of {SCALE_METHODS}; got {method!r}.")
    # Each side is divided by its largest magnitude first (every formula is homogeneous of
    # degree one in each side), so that labels near the float limits neither overflow nor
    # underflow; the factors come back as their ratio.
    sg, sp = float(np.max(np.abs(g))), float(np.max(np.abs(p)))
    if not (sg > 0 and sp > 0):
        which = "gold" if not sg > 0 else "preference"
        raise ValueError(
            f"`{which}` labels have no spread (all equal or all zero), so `method={method!r}` "
            "cannot estimate a scale; pass a known scale as a number instead."
        )
    gn, pn = g / sg, p / sp
    if method == "amplitude":
        num, den = 1.0, 1.0
    elif method == "variance":
        num, den = float(np.std(pn, ddof=1)), float(np.std(gn, ddof=1))
    else:
        w, qg, qp = _merged_quantiles(gn, pn)
        num, den = float(np.sum(w * qg * qp)), float(np.sum(w * qg * qg))
    if not (den > 0 and num > 0):
        which = "gold" if not den > 0 else "preference"
        if method == "wasserstein" and den > 0:
            raise ValueError(
                "`method='wasserstein'` gives c <= 0: the gold and preference quantiles are "
                "negatively aligned. Check that both labels measure the gain of the same "
                "primary model, or use method='variance'."
            )
        raise ValueError(
            f"`{which}` labels have no spread (all equal or all zero), so `method={method!r}` "
            "cannot estimate a scale; pass a known scale as a number instead."
        )
    c = float(num / den) * (sp / sg)
    if not (np.isfinite(c) and c > 0):
        raise ValueError(
            f"The scale constant is not a positive finite number (c = {c!r}): gold labels reach {sg:.3g} and "
            f"preference labels {sp:.3g}, a ratio beyond floating point. Rescale the labels to comparable units."
        )
    return c


_METHOD_WORDS = {
    "variance": "variance matching (sd of preference labels / sd of gold labels)",
    "amplitude": "amplitude matching (largest |preference| / largest |gold|)",
    "wasserstein": "2-Wasserstein matching of the two label laws",
    "paired": "variance matching on the queries that carry both labels",
}


@dataclass(frozen=True)
class ScaleChoice:
    """The scale constant c in use, how it was chosen and why.

    Attributes
    ----------
    value : float
        c, with ``c * gold`` on the preference scale.
    method : str
        ``"given"`` (a number, or None for 1), ``"declared"`` (c = 1: the data declare one
        scale), or the estimator: ``"amplitude"``, ``"variance"``, ``"wasserstein"``,
        ``"paired"``.
    reason : str
        One sentence naming c and why, for every headline about the bias.
    n_pairs : int
        Queries carrying both labels that the choice saw (0 when unpaired).
    requested : object
        The ``scale`` argument as given (``"auto"`` by default).

    Examples
    --------
    >>> from metarouter_stats.scaling import choose_scale
    >>> choose_scale(1, [1.0, 2.0, 0.5], [1, 1, 0]).describe()
    'c = 1 (given: scale=1)'
    """

    value: float
    method: str
    reason: str
    n_pairs: int = 0
    requested: Any = SCALE_DEFAULT

    @property
    def estimated(self) -> bool:
        """True when c was estimated from the labels (its sampling error matters)."""
        return self.method in ("paired", *SCALE_METHODS)

    @property
    def estimator(self) -> str | None:
        """The :func:`estimate_scale` method behind c (``"variance"`` for ``"paired"``), None when not estimated."""
        if not self.estimated:
            return None
        return "variance" if self.method == "paired" else self.method

    def describe(self) -> str:
        """``"c = 1.37 (variance matching ...)"``: the phrase every headline about the bias carries."""
        return f"c = {self.value:.4g} ({self.reason})"


def parse_scale(text: Any) -> Any:
    """A ``scale`` argument from text (the CLI): a number, ``"none"`` (c = 1) or a rule's name.

    Examples
    --------
    >>> from metarouter_stats.scaling import parse_scale
    >>> parse_scale("1"), parse_scale("none"), parse_scale("paired")
    (1.0, 1.0, 'paired')
    """
    if not isinstance(text, str):
        return text
    word = text.strip().lower()
    if word in SCALE_CHOICES:
        return word
    if word in ("none", "one", "same"):
        return 1.0
    try:
        value = float(word)
    except ValueError:
        raise ValueError(
            f"`scale` must be a positive number (1: both labels on one scale), 'none' (= 1) or one of "
            f"{SCALE_CHOICES}; got {text!r}."
        ) from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`scale` must be a positive finite number; got {text!r}.")
    return value


def _given(scale: Any) -> float | None:
    """c when ``scale`` is None or a number (checked), else None."""
    if scale is None:
        return 1.0
    if isinstance(scale, numbers.Real) and not isinstance(scale, bool):
        value = float(scale)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"`scale` must be a positive finite number; got {scale!r}.")
        return value
    if isinstance(scale, str):
        if scale not in SCALE_CHOICES:
            raise ValueError(
                f"`scale` must be None, a positive number or one of {SCALE_CHOICES} (the number 1: both labels on "
                f"one scale); got {scale!r}."
            )
        return None
    raise TypeError(f"`scale` must be None, a positive number or one of {SCALE_CHOICES}; got {scale!r}.")


def _given_choice(scale: Any) -> ScaleChoice | None:
    """The choice of a ``scale`` given as a number (or None, meaning 1); None when it names a rule."""
    value = _given(scale)
    if value is None:
        return None
    return ScaleChoice(value, "given", f"given: scale={scale!r}", requested=scale)


def declared_choice(n_pairs: int = 0) -> ScaleChoice:
    """c = 1 because the data declare both labels on one scale (``scale="auto"`` with ``shared_scale``)."""
    return ScaleChoice(1.0, "declared", "both labels declared on one scale (shared_scale=True)", n_pairs,
                       requested="auto")


def _estimated_choice(scale: Any, method: str, gold: np.ndarray, preference: np.ndarray, n_pairs: int,
                      n_labels: tuple[int, int]) -> ScaleChoice:
    """c estimated by ``method`` ("paired": variance matching on the aligned pairs ``gold``, ``preference``)."""
    c = estimate_scale(gold, preference, method="variance" if method == "paired" else method)
    reason = (f"{_METHOD_WORDS['paired']}, {n_pairs} pairs" if method == "paired" else
              f"{_METHOD_WORDS[method]}, {n_labels[0]} gold and {n_labels[1]} preference labels")
    if scale == "auto":
        reason += "; scale='auto': labels not declared on one scale"
    return ScaleChoice(c, method, reason, n_pairs, requested=scale)


def choose_scale(
    scale: Any, outcome: Any, source: Any, *, query_ids: Any = None, shared_scale: bool = False
) -> ScaleChoice:
    """Resolve a ``scale`` argument into c for one data set, saying how and why.

    The one place where ``scale`` is interpreted (the routers, the bias inference, the
    planners and the report call it).

    Parameters
    ----------
    scale : None, float or {"auto", "paired", "amplitude", "variance", "wasserstein"}
        A number: the known c (1: both labels on one scale; None means 1). ``"auto"`` (the
        package's default): c = 1 when ``shared_scale``; else ``"paired"`` when at least 3
        queries carry both labels; else ``"variance"``. ``"paired"``: variance matching on
        the queries carrying both labels (needs ``query_ids``). A method of
        :func:`estimate_scale`: that method on every gold and every preference label.
    outcome, source : array-like of shape (n,)
        Labels and mechanisms (1 gold, 0 preference).
    query_ids : array-like of shape (n,), optional
        Query ids pairing a query's gold and preference rows.
    shared_scale : bool, default False
        Both labels are on one declared scale (``RoutingData.shared_scale``).

    Returns
    -------
    ScaleChoice

    Examples
    --------
    >>> from metarouter_stats.scaling import choose_scale
    >>> y, t, q = [2.0, 1.0, 4.0, 1.0, 0.5], [1, 0, 1, 0, 0], ["a", "a", "b", "b", "c"]
    >>> choose_scale("auto", y, t, query_ids=q, shared_scale=True).describe()
    'c = 1 (both labels declared on one scale (shared_scale=True))'
    >>> choose_scale("auto", y, t).method
    'variance'
    """
    given = _given_choice(scale)
    if given is not None:
        return given
    y = as_1d_float(outcome, "outcome")
    t = np.asarray(source)
    gold = t == 1
    pairs = paired_labels(y, t, None if query_ids is None else np.asarray(query_ids))
    n_pairs = len(pairs)
    method = scale
    if scale == "auto":
        if shared_scale:
            return declared_choice(n_pairs)
        method = "paired" if n_pairs >= _MIN_PAIRS else "variance"
    counts = (int(gold.sum()), int((~gold).sum()))
    if method != "paired":
        return _estimated_choice(scale, method, y[gold], y[~gold], n_pairs, counts)
    if n_pairs < _MIN_PAIRS:
        raise ValueError(
            f"`scale='paired'` needs at least {_MIN_PAIRS} queries labelled by both mechanisms (matched by "
            f"query ids); got {n_pairs}. Give query ids, or use scale='variance'."
        )
    return _estimated_choice(scale, method, pairs["gold"].to_numpy(float), pairs["preference"].to_numpy(float),
                             n_pairs, counts)


def resolve_scale(scale: Any, gold: np.ndarray, preference: np.ndarray, *, paired: bool = False) -> float:
    """Turn a ``scale`` argument into c from two label arrays (no query ids).

    ``"auto"`` is ``"variance"`` here (arrays carry no declaration of a shared scale: pass
    ``scale=1`` for that); ``"paired"`` needs ``paired=True`` (the arrays are the two labels
    of the same queries, aligned).
    """
    return resolve_scale_choice(scale, gold, preference, paired=paired).value


def resolve_scale_choice(scale: Any, gold: Any, preference: Any, *, paired: bool = False) -> ScaleChoice:
    """:func:`resolve_scale` with its :class:`ScaleChoice` (method and reason)."""
    given = _given_choice(scale)
    if given is not None:
        return given
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    method = ("paired" if paired else "variance") if scale == "auto" else scale
    if method == "paired" and not paired:
        raise ValueError(
            "`scale='paired'` needs the two labels of the same queries (paired=True, aligned by query); "
            "with unpaired labels use scale='variance'."
        )
    return _estimated_choice(scale, method, g, p, g.size if paired else 0, (g.size, p.size))


def _transport_potential(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Values at ``a`` of the convex potential whose derivative is the monotone map ``Q_b(F_a(.))``.

    The map is evaluated at the mid-ranks of ``a`` and integrated by the trapezoid rule
    over the sorted sample; the potential is returned centred (mean 0) in the order of ``a``.
    """
    order = np.argsort(a, kind="stable")
    sa = a[order]
    u = (np.arange(a.size) + 0.5) / a.size
    t_map = np.quantile(b, u, method="inverted_cdf")
    steps = np.diff(sa) * (t_map[1:] + t_map[:-1]) / 2
    phi_sorted = np.concatenate(([0.0], np.cumsum(steps)))
    phi = np.empty(a.size)
    phi[order] = phi_sorted
    return phi - phi.mean()


def scale_influence(
    gold: Any, preference: Any, method: str = "variance", *, c: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Influence functions of the estimated scale constant c, one value per label.

    ``estimate_scale(gold, preference, method)`` is a smooth functional of the two
    label distributions for ``"variance"`` and ``"wasserstein"``; its first-order
    expansion is

    .. math:: \hat c - c \approx \frac{1}{n_G}\sum_i \dot c_G(r_i) + \frac{1}{n_P}\sum_j \dot c_P(y_j),

    with mean-zero influence values :math:`\dot c_G, \dot c_P`. For paired labels (the same
    queries) add the two values of each query; for independent samples their variances add.

    * variance, :math:`c = s_y / s_r`:
      :math:`\dot c_G(r) = -\tfrac{c}{2}\,((r-\bar r)^2 - s_r^2)/s_r^2` and
      :math:`\dot c_P(y) = \tfrac{c}{2}\,((y-\bar y)^2 - s_y^2)/s_y^2`.
    * wasserstein, :math:`c = A / B`, :math:`A = \int Q_r Q_y`, :math:`B = E r^2`:
      A is the value of the comonotone (optimal) coupling, so its influence is the
      Brenier potential of each side, :math:`\varphi` with :math:`\varphi' = Q_y \circ F_r`
      (gold) and :math:`\varphi^*` with :math:`{\varphi^*}' = Q_r \circ F_y` (preference):
      :math:`\dot c_G(r) = (\varphi(r) - c\,(r^2 - B)) / B`, :math:`\dot c_P(y) = \varphi^*(y) / B`
      (potentials centred).

    ``"amplitude"`` (a ratio of sample maxima) has no such expansion: its error is of
    extreme-value order, not :math:`n^{-1/2}`, and a ValueError says so.

    Parameters
    ----------
    gold, preference : array-like
        The labels c was estimated from.
    method : {"variance", "wasserstein"}
    c : float, optional
        ``estimate_scale(gold, preference, method)`` when the caller has it already.

    Returns
    -------
    influence_gold : ndarray of shape (n_gold,)
    influence_preference : ndarray of shape (n_preference,)

    Examples
    --------
    >>> import numpy as np
    >>> from metarouter_stats.scaling import scale_influence
    >>> rng = np.random.default_rng(0)
    >>> g, p = rng.normal(size=400), 0.5 * rng.normal(size=900)
    >>> ig, ip = scale_influence(g, p, "variance")
    >>> se = np.sqrt(ig.var() / g.size + ip.var() / p.size)
    >>> bool(0.01 < se < 0.03)
    True
    """
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    if method == "amplitude":
        raise ValueError(
            "`method='amplitude'` (a ratio of sample maxima) has no influence function: its sampling error is "
            "of extreme-value order. Use a bootstrap of the whole procedure, or method='variance' / 'wasserstein'."
        )
    c = estimate_scale(g, p, method=method) if c is None else float(c)
    if method == "variance":
        sq_g, sq_p = (g - g.mean()) ** 2, (p - p.mean()) ** 2
        ig = -(c / 2) * (sq_g - sq_g.mean()) / sq_g.mean()
        ip = (c / 2) * (sq_p - sq_p.mean()) / sq_p.mean()
        return ig, ip
    if method != "wasserstein":
        raise ValueError(f"`method` must be one of {SCALE_METHODS}; got {method!r}.")
    b = float(np.mean(g**2))
    ig = (_transport_potential(g, p) - c * (g**2 - b)) / b
    ip = _transport_potential(p, g) / b
    return ig, ip


def scale_row_influence(choice: ScaleChoice, outcome: Any, source: Any, query_ids: Any = None) -> np.ndarray | None:
    r"""Per-row influence of an estimated c: ``c(w) - c ~= influence @ (w - 1)`` for row weights w.

    Weights are one per unit (a query on paired data: its rows share it) and average 1 within
    each mechanism. For the methods on every label, a gold row carries
    :math:`\dot c_G(r_i) / n_G` and a preference row :math:`\dot c_P(y_j) / n_P`
    (:func:`scale_influence`); for ``"paired"``, the influence of each pair,
    :math:`(\dot c_G + \dot c_P) / n_{pairs}`, sits on that query's rows (split evenly among
    them) and unpaired rows carry 0. None when c was not estimated.

    Raises
    ------
    ValueError
        ``"amplitude"`` (no first-order expansion).
    """
    if not choice.estimated:
        return None
    y = as_1d_float(outcome, "outcome")
    t = np.asarray(source)
    gold = t == 1
    out = np.zeros(y.size)
    if choice.method != "paired":
        ig, ip = scale_influence(y[gold], y[~gold], choice.method, c=choice.value)
        out[gold], out[~gold] = ig / gold.sum(), ip / (~gold).sum()
        return out
    ids = np.asarray(query_ids)
    pairs = paired_labels(y, t, ids)
    ig, ip = scale_influence(pairs["gold"].to_numpy(float), pairs["preference"].to_numpy(float), "variance",
                             c=choice.value)
    n_pairs = len(pairs)
    pos = {q: k for k, q in enumerate(pairs["query_id"])}
    k = np.array([pos.get(q, -1) for q in ids])
    hit = k >= 0
    rows_g = pairs["n_gold_rows"].to_numpy(int)
    rows_p = pairs["n_preference_rows"].to_numpy(int)
    g_hit, p_hit = hit & gold, hit & ~gold
    out[g_hit] = ig[k[g_hit]] / rows_g[k[g_hit]] / n_pairs
    out[p_hit] = ip[k[p_hit]] / rows_p[k[p_hit]] / n_pairs
    return out


def reestimate_scale(choice: ScaleChoice, outcome: Any, source: Any, query_ids: Any = None) -> float:
    """c by the same rule as ``choice`` on other rows (a bootstrap replicate): fixed when it was not estimated."""
    if not choice.estimated:
        return choice.value
    return choose_scale(choice.method, outcome, source, query_ids=query_ids).value
