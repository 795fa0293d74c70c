r"""The t-test of the mean bias of preference labels against gold labels.

Sign convention: the bias is **gold minus preference**, :math:`\Delta = \psi - \eta`
(the package's sign convention), stated on the gold scale. A negative bias means the preference mechanism
(e.g. an LLM judge) overstates the primary model's gain.
"""

from __future__ import annotations

import numbers
import warnings
from itertools import islice
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._resampling import RowSampler, bootstrap, index_draws
from .._checks import as_1d_float, as_rng, check_fraction, check_resamples
from .._results import ResultMixin, frozen_array
from ..data import RoutingData
from ..scaling import SCALE_DEFAULT, declared_choice, estimate_scale, resolve_scale_choice, scale_influence

__all__ = ["ALTERNATIVES", "BiasTestResult", "bias_ttest"]

ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class BiasTestResult(ResultMixin):
    """Result of :func:`bias_ttest`.

    Attributes
    ----------
    statistic : float
        t statistic of ``estimate - null``.
    p_value : float
    df : float
        Degrees of freedom (n - 1 paired; Welch-Satterthwaite unpaired).
    estimate : float
        Mean bias, gold minus preference, on the gold scale.
    std_error : float
        Standard error of ``estimate``.
    null : float
        Hypothesised mean bias.
    scale : float
        Constant c used (``c * gold`` on the preference scale).
    scale_std_error : float
        Standard error of c: 0 when c was given (known), else the delta-method
        ("variance", "wasserstein") or bootstrap ("amplitude") standard error.
    scale_uncertainty : str
        How c's sampling error enters the test: "known (given)", "bootstrap-t", "delta method"
        or "bootstrap of the whole procedure".
    scale_reason : str
        Which c and why (:class:`~metarouter_stats.scaling.ScaleChoice`): every headline
        about the bias names it, since its sign can depend on c.
    paired : bool
    n_gold, n_preference : int
    alternative : str
    t_draws : ndarray
        The bootstrap-t distribution of the studentised mean bias, (estimate* - estimate) / se*,
        from which the p-value and the interval come (empty unless ``scale_uncertainty`` is
        "bootstrap-t").
    """

    statistic: float
    p_value: float
    df: float
    estimate: float
    std_error: float
    null: float
    scale: float
    scale_std_error: float = 0.0
    scale_uncertainty: str = "known (given)"
    scale_reason: str = "given"
    paired: bool
    n_gold: int
    n_preference: int
    alternative: str
    t_draws: np.ndarray = field(default_factory=lambda: frozen_array(np.empty(0)))
    _title = "Bias of preference labels against gold labels"

    @property
    def pvalue(self) -> float:
        """Deprecated alias of ``p_value`` (removed in the next release)."""
        warnings.warn("`pvalue` is deprecated and will be removed in the next release; use `p_value`.", FutureWarning,
                      stacklevel=2)
        return self.p_value

    def confidence_interval(self, confidence_level: float = 0.95) -> tuple[float, float]:
        """Confidence interval for the mean bias (gold scale), matching ``alternative``.

        It inverts the test: the p-value of ``null = low`` (or ``high``) is
        ``1 - confidence_level``. It covers the mean bias over the queries' population
        (paired: the labelled queries' population; Welch: valid when gold and preference
        queries come from the same population), on the gold scale defined by the true c
        (the population value of the chosen scale method); an estimated c's error is in
        ``std_error`` (see ``scale_uncertainty``).
        """
        level = check_fraction(confidence_level, "confidence_level", closed=False)
        if not np.isfinite(self.std_error) or self.std_error == 0:
            return (float("nan"), float("nan"))
        if self.t_draws.size:  # bootstrap-t: the quantiles of the studentised draws (symmetric when two-sided)
            t, se = self.t_draws, self.std_error
            if self.alternative == "two-sided":
                q = float(np.quantile(np.abs(t), level))
                return (self.estimate - q * se, self.estimate + q * se)
            if self.alternative == "less":
                return (float("-inf"), self.estimate - float(np.quantile(t, 1 - level)) * se)
            return (self.estimate - float(np.quantile(t, level)) * se, float("inf"))
        dist = _reference(self.df)
        if self.alternative == "two-sided":
            q = float(dist.ppf(0.5 + level / 2))
            return (self.estimate - q * self.std_error, self.estimate + q * self.std_error)
        q = float(dist.ppf(level))
        if self.alternative == "less":
            return (float("-inf"), self.estimate + q * self.std_error)
        return (self.estimate - q * self.std_error, float("inf"))

    def _notes(self) -> list[str]:
        pop = ("the population of the labelled queries" if self.paired else
               "the query population, if gold and preference queries are drawn from it alike")
        return [f"Target: the mean bias (gold - preference / c) over {pop}, on the gold scale of c; "
                f"c = {self.scale:.4g} ({self.scale_reason}); c's error: {self.scale_uncertainty}."]

    def to_frame(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """One-row frame: estimate, std_error, statistic, df, p_value, ci_low, ci_high, ..."""
        low, high = self.confidence_interval(confidence_level)
        return pd.DataFrame(
            [
                {
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.p_value,
                    "ci_low": low,
                    "ci_high": high,
                    "null": self.null,
                    "scale": self.scale,
                    "scale_std_error": self.scale_std_error,
                    "scale_uncertainty": self.scale_uncertainty,
                    "scale_reason": self.scale_reason,
                    "paired": self.paired,
                    "n_gold": self.n_gold,
                    "n_preference": self.n_preference,
                }
            ],
            index=["bias (gold - preference)"],
        )

    def _rows(self) -> list[tuple[str, str]]:
        low, high = self.confidence_interval()
        kind = "paired t-test" if self.paired else "Welch two-sample t-test"
        return [
            ("test", kind),
            ("H0: mean bias (gold - preference) =", f"{self.null:.4g}  ({self.alternative})"),
            ("estimate (gold scale)", f"{self.estimate:.4f}"),
            ("std. error", f"{self.std_error:.4f}"),
            ("t statistic", f"{self.statistic:.3f}"),
            ("df", f"bootstrap-t ({self.t_draws.size} draws)" if self.t_draws.size else
             "normal reference" if np.isinf(self.df) else f"{self.df:.1f}"),
            ("p-value", f"{self.p_value:.4g}"),
            ("95% CI", f"[{low:.4f}, {high:.4f}]"),
            ("scale c", f"{self.scale:.4g}" + ("" if self.scale_std_error == 0 else f" (se {self.scale_std_error:.3g})")),
            ("c chosen by", self.scale_reason),
            ("c's error in the std. error", self.scale_uncertainty),
            ("n gold / n preference", f"{self.n_gold} / {self.n_preference}"),
        ]


def _bias_ttest_iv(gold: Any, preference: Any, paired: Any, null: Any, alternative: Any) -> tuple[np.ndarray, np.ndarray]:
    g = as_1d_float(gold, "gold")
    p = as_1d_float(preference, "preference")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"`alternative` must be one of {ALTERNATIVES}; got {alternative!r}.")
    if isinstance(null, bool) or not isinstance(null, numbers.Real) or not np.isfinite(float(null)):
        raise ValueError(f"`null` must be a finite number; got {null!r}.")
    if not isinstance(paired, bool):
        raise TypeError(f"`paired` must be True or False; got {paired!r}.")
    if paired and g.shape != p.shape:
        raise ValueError(
            f"`gold` and `preference` must have the same length when `paired=True`; got {g.size} "
            f"and {p.size}. Pass paired=False for labels of different queries."
        )
    for name, arr in (("gold", g), ("preference", p)):
        if arr.size < 2:
            raise ValueError(f"`{name}` must hold at least 2 labels; got {arr.size}.")
    return g, p


def _reference(df: float) -> Any:
    """The t reference with ``df`` degrees of freedom, or the normal one when df is infinite."""
    return stats.t(df) if np.isfinite(df) else stats.norm


def _bootstrap_se(g: np.ndarray, p: np.ndarray, method: str, paired: bool, n_boot: int, rng: Any) -> tuple[float, float]:
    """Bootstrap SEs of the mean bias and of c, c re-estimated in every resample."""
    # paired: one stratum of pairs; Welch: gold and preference labels resampled each within its own sample
    n_g = g.size
    pooled = np.r_[g, p]  # Welch: rows 0 .. n_g - 1 gold, the rest preference

    def statistic(rows: np.ndarray) -> tuple[float, float]:
        gb, pb = (g[rows], p[rows]) if paired else (pooled[rows[:n_g]], pooled[rows[n_g:]])
        c = estimate_scale(gb, pb, method=method)
        return gb.mean() - pb.mean() / c, c

    sampler = RowSampler(n_g) if paired else RowSampler([np.arange(n_g), n_g + np.arange(p.size)])
    draws = bootstrap(statistic, sampler, n_boot, as_rng(rng))
    return float(draws[:, 0].std(ddof=1)), float(draws[:, 1].std(ddof=1))


INFERENCES = ("auto", "bootstrap-t", "delta")
MIN_DISTINCT_WASSERSTEIN = 10  # fewer distinct label values: W2's c is not differentiable at the null
_BLOCK = 2_000_000  # label values per block of bootstrap-t replicates (memory, not numbers)


def _bias_and_se(gb: np.ndarray, pb: np.ndarray, method: str, paired: bool) -> tuple[np.ndarray, ...]:
    """Row-wise (mean bias, its delta-method SE, c) for label matrices (replicates x labels).

    The same formulas as :func:`bias_ttest`'s delta method: the mean bias mean(g) - mean(p) / c with
    c's influence values (:func:`~metarouter_stats.scaling.scale_influence`) added to the bias's own.
    """
    n_g, n_p = gb.shape[1], pb.shape[1]
    gc, pc = gb - gb.mean(axis=1, keepdims=True), pb - pb.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "variance":
            sq_g, sq_p = gc**2, pc**2
            mg, mp = sq_g.mean(axis=1, keepdims=True), sq_p.mean(axis=1, keepdims=True)
            c = np.sqrt(mp[:, 0] * n_p / (n_p - 1)) / np.sqrt(mg[:, 0] * n_g / (n_g - 1))
            ig = -(c[:, None] / 2) * (sq_g - mg) / mg
            ip = (c[:, None] / 2) * (sq_p - mp) / mp
        else:  # wasserstein: the transport potentials, one replicate at a time
            c = np.full(gb.shape[0], np.nan)
            ig, ip = np.full(gb.shape, np.nan), np.full(pb.shape, np.nan)
            for b in range(gb.shape[0]):
                try:
                    c[b] = estimate_scale(gb[b], pb[b], method=method)
                    ig[b], ip[b] = scale_influence(gb[b], pb[b], method, c=c[b])
                except ValueError:  # a replicate without spread: no c, no draw
                    continue
        est = gb.mean(axis=1) - pb.mean(axis=1) / c
        lever = (pb.mean(axis=1) / c**2)[:, None]
        a, b_ = gc + lever * ig, -pc / c[:, None] + lever * ip
        if paired:
            se = (a + b_).std(axis=1, ddof=1) / np.sqrt(n_g)
        else:
            se = np.sqrt(a.var(axis=1, ddof=1) / n_g + b_.var(axis=1, ddof=1) / n_p)
    return est, se, c


def _bootstrap_t(g: np.ndarray, p: np.ndarray, method: str, paired: bool, n_boot: int, rng: Any,
                 est: float) -> tuple[np.ndarray, np.ndarray]:
    """(t draws, c draws) of the studentised bootstrap: pairs (paired) or each sample (Welch) resampled, c
    re-estimated, t* = (estimate* - estimate) / se* with each replicate's own delta-method SE.

    Replicates without a finite t (a resample with no spread in a label) are dropped; the draws come
    from the resampling layer (same seed, same draws)."""
    sampler = RowSampler(g.size) if paired else RowSampler([np.arange(g.size), g.size + np.arange(p.size)])
    pooled = np.r_[g, p]
    per_block = max(1, _BLOCK // (g.size + p.size))
    t_parts, c_parts = [], []
    rows = index_draws(sampler, n_boot, rng)
    while block := list(islice(rows, per_block)):
        R = np.vstack(block)
        gb, pb = (g[R], p[R]) if paired else (pooled[R[:, :g.size]], pooled[R[:, g.size:]])
        e, se, c = _bias_and_se(gb, pb, method, paired)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_parts.append((e - est) / se)
        c_parts.append(c)
    t, c = np.concatenate(t_parts), np.concatenate(c_parts)
    ok = np.isfinite(t)
    return t[ok], c[ok]


def _few_distinct(g: np.ndarray, p: np.ndarray) -> bool:
    return min(np.unique(g).size, np.unique(p).size) < MIN_DISTINCT_WASSERSTEIN


def bias_ttest(
    gold: Any,
    preference: Any = None,
    *,
    paired: bool | None = None,
    scale: Any = SCALE_DEFAULT,
    null: float = 0.0,
    alternative: str = "two-sided",
    inference: str = "auto",
    n_boot: int = 2000,
    rng: Any = None,
) -> BiasTestResult:
    r"""t-test of the mean bias of preference labels against gold labels.

    The bias is gold minus preference on the gold scale, ``d = gold - preference / c``,
    where c puts gold on the preference scale (``scale``). With c known (None or a
    number) the test is exactly scipy's:

    * ``paired=True``: both labels of the same queries (arrays aligned by query);
      :func:`scipy.stats.ttest_1samp` of the differences (= :func:`scipy.stats.ttest_rel`).
    * ``paired=False``: labels of different queries; Welch's two-sample test
      (:func:`scipy.stats.ttest_ind` with ``equal_var=False``). It compares
      the average gold gain of the gold queries with the average preference gain of
      the preference queries, so it tests the average bias only when both sets of
      queries come from the same population (random assignment of mechanisms).

    With c **estimated** from the same labels (a method name), c's sampling error moves
    the mean bias by :math:`(\bar y / c^2)(\hat c - c)`, which grows with the mean
    preference gain; treating c as known does not keep the test's level. Here it is propagated:

    * ``"variance"``, ``"paired"``, ``"wasserstein"``: the standard error is the delta
      method's, that of the sum of the mean bias's and c's influence values
      (:func:`~metarouter_stats.scaling.scale_influence`). With ``inference="bootstrap-t"``
      (what ``"auto"`` does) the reference law is the **studentised bootstrap**: pairs
      (paired) or each sample (Welch) resampled ``n_boot`` times, c re-estimated and each
      replicate studentised by its own delta-method SE; the p-value (symmetric when
      two-sided) and the interval come from those draws (``t_draws``). The delta method's
      t reference (n - 1 df paired, Welch-Satterthwaite otherwise) is first-order only and
      over-rejects at small n when c moves the bias much (``inference="delta"`` keeps it).
      The Wasserstein c is not differentiable where both label laws jump at the same
      values, which is the null on discrete labels (votes, Likert scores): with fewer than
      ``MIN_DISTINCT_WASSERSTEIN`` (10) distinct values in either sample it is refused,
      naming what to use instead.
    * ``"amplitude"`` (a ratio of maxima, no influence function): the standard error of a
      bootstrap of the whole procedure (c re-estimated in each of ``n_boot`` resamples,
      within sample for Welch), normal reference. The bootstrap of a maximum is not
      consistent for unbounded labels; it is for labels whose extremes are attained
      (bounded scales, e.g. win rates), where c's error vanishes.

    The size of each variant is measured in ``benchmarks/validity/run.py``
    (docs/benchmarks.md).

    Parameters
    ----------
    gold, preference : array-like, or a RoutingData and None
        Gold-standard and preference labels (equal length when paired). Or the data
        (``bias_ttest(data)``): its paired labels (:meth:`RoutingData.paired
        <metarouter_stats.RoutingData.paired>`) when at least 2 queries carry both, else
        every gold and every preference label; its ``shared_scale`` declaration makes
        ``scale="auto"`` use c = 1, as everywhere else in the package.
    paired : bool or None, default None
        None: True for two arrays (they are taken as the two labels of the same queries),
        and for a RoutingData whenever it has pairs.
    scale : float, None or {"auto", "paired", "amplitude", "variance", "wasserstein"}, default "auto"
        A number: the known c (``scale=1``, or None: both labels on one scale, e.g. the
        same rubric or vote coding; say so whenever it holds). A method name: c estimated
        by :func:`~metarouter_stats.estimate_scale` from these labels, its error propagated
        as above; ``"paired"`` (paired=True only) is variance matching on the pairs.
        ``"auto"`` (the package's default, :func:`~metarouter_stats.scaling.choose_scale`)
        is ``"paired"`` when paired and ``"variance"`` otherwise: plain arrays carry no
        declaration that the labels share a scale, so pass ``scale=1`` when they do. The
        target is the mean bias on the gold scale defined by the population value of c (the
        assumption each method makes is in :mod:`metarouter_stats.scaling`);
        ``scale_reason`` on the result names c and why.
    null : float, default 0
        Hypothesised mean bias (gold scale).
    alternative : {"two-sided", "less", "greater"}
        Alternative to ``mean bias != / < / > null``.
    inference : {"auto", "bootstrap-t", "delta"}, default "auto"
        The reference law when c is estimated by a smooth method (above): "auto" is the
        bootstrap-t; "delta" the delta method's t reference. Ignored when c is known.
    n_boot : int, default 2000
        Bootstrap resamples (the bootstrap-t, or ``scale="amplitude"``'s bootstrap).
    rng : None, int or numpy.random.Generator
        Seed of that bootstrap. None derives it from the labels, so the same labels always
        give the same p-value.

    Returns
    -------
    BiasTestResult

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> res = mrs.bias_ttest([1.0, 0.0, 1.0, 0.5], [1.0, 1.0, 1.0, 1.0], scale=1)
    >>> round(res.estimate, 3), round(res.p_value, 3)
    (-0.375, 0.215)
    >>> [round(v, 3) for v in res.confidence_interval(0.95)]
    [-1.137, 0.387]

    On a RoutingData the pairs and the data's declaration of one scale are used:

    >>> data = mrs.simulate(n_gold=40, n_preference=400, n_test=5, rng=0).train
    >>> res = mrs.bias_ttest(data)            # unpaired rows, c by variance matching
    >>> res.paired, res.scale_reason.split(",")[0]
    (False, 'variance matching (sd of preference labels / sd of gold labels)')
    """
    shared = False
    if isinstance(gold, RoutingData):
        if preference is not None:
            raise TypeError("`preference` must be None when `gold` is a RoutingData (the data hold both labels).")
        data, shared = gold, gold.shared_scale
        pairs = data.paired()
        if paired is None:
            paired = len(pairs) >= 2
        if paired:
            gold, preference = pairs["gold"].to_numpy(float), pairs["preference"].to_numpy(float)
        else:
            gold, preference = data.outcome[data.is_gold], data.outcome[~data.is_gold]
    elif preference is None:
        raise TypeError("`preference` is required: the preference labels (or pass a RoutingData as the only argument).")
    if paired is None:
        paired = True
    g, p = _bias_ttest_iv(gold, preference, paired, null, alternative)
    n_boot = check_resamples(n_boot, "n_boot", minimum=2)
    if inference not in INFERENCES:
        raise ValueError(f"`inference` must be one of {INFERENCES}; got {inference!r}.")
    if rng is None:  # the same labels, the same p-value
        rng = int(np.random.SeedSequence([int(b) for b in np.frombuffer(
            np.r_[g, p].tobytes(), dtype=np.uint32)[:4096]] or [0]).generate_state(1)[0])
    if scale == "auto" and shared:
        choice = declared_choice(g.size if paired else 0)
    else:
        choice = resolve_scale_choice(scale, g, p, paired=paired)
    c = choice.value
    estimated = choice.estimated
    method = choice.estimator
    if method == "wasserstein" and _few_distinct(g, p):
        raise ValueError(
            f"`scale='wasserstein'` on labels with few distinct values (gold {np.unique(g).size}, preference "
            f"{np.unique(p).size}; votes or Likert scores): the Wasserstein c is not differentiable where both "
            "label laws jump at the same values, which is the null, so its test does not keep its level. Use "
            "scale='variance' (or 'paired' on paired labels), or scale=1 when both labels share one rubric or coding."
        )
    p_gold = p / c  # preference labels on the gold scale
    t_draws = np.empty(0)
    c_se, how = 0.0, "known (given)" if choice.method == "given" else "known (c = 1, labels on one scale)"
    if paired:
        d = g - p_gold
        est = float(d.mean())
        se = float(d.std(ddof=1) / np.sqrt(d.size))
        df = float(d.size - 1)
    else:
        v1, v2 = g.var(ddof=1) / g.size, p_gold.var(ddof=1) / p.size
        est = float(g.mean() - p_gold.mean())
        se = float(np.sqrt(v1 + v2))
        df = float("nan")
    if estimated and method != "amplitude":
        # influence values of the mean bias mean(g) - mean(p) / c, with c's own influence added
        ig, ip = scale_influence(g, p, str(method), c=c)
        lever = p.mean() / c**2  # d(bias) / dc
        a, b = (g - g.mean()) + lever * ig, -(p - p.mean()) / c + lever * ip
        if paired:
            se = float((a + b).std(ddof=1) / np.sqrt(g.size))
            c_se = float((ig + ip).std(ddof=1) / np.sqrt(g.size))
        else:
            v1, v2 = a.var(ddof=1) / g.size, b.var(ddof=1) / p.size
            se = float(np.sqrt(v1 + v2))
            df = float((v1 + v2) ** 2 / (v1**2 / (g.size - 1) + v2**2 / (p.size - 1))) if v1 + v2 > 0 else float("nan")
            c_se = float(np.sqrt(ig.var(ddof=1) / g.size + ip.var(ddof=1) / p.size))
        how = "delta method"
        if inference in ("auto", "bootstrap-t") and np.isfinite(se) and se > 0:
            t_draws, c_draws = _bootstrap_t(g, p, str(method), paired, n_boot, rng, est)
            if t_draws.size >= max(20, n_boot // 2):
                how = f"bootstrap-t ({t_draws.size} resamples, c re-estimated in each)"
                c_se = float(np.std(c_draws, ddof=1))
            else:  # too few resamples with spread (tiny samples of a few label values): the delta method
                t_draws = np.empty(0)
    elif estimated:
        se, c_se = _bootstrap_se(g, p, str(method), paired, n_boot, rng)
        df = float("inf")
        how = f"bootstrap of the whole procedure ({n_boot} resamples)"
    if not (np.isfinite(est) and np.isfinite(se)):
        raise ValueError(
            f"The mean bias or its standard error is not finite (estimate {est!r}, std. error {se!r}): the labels "
            f"(gold up to {np.max(np.abs(g)):.3g}, preference / c up to {np.max(np.abs(p_gold)):.3g}) overflow "
            "floating point. Rescale the labels to comparable units."
        )
    if se == 0:
        warnings.warn(
            "The bias has zero standard error (all differences equal): the t statistic is undefined "
            "and NaN is returned.",
            RuntimeWarning,
            stacklevel=2,
        )
        stat = pval = float("nan")
    elif not estimated:
        if paired:
            res = stats.ttest_1samp(g - p_gold, float(null), alternative=alternative)
        else:
            res = stats.ttest_ind(g - float(null), p_gold, equal_var=False, alternative=alternative)
        stat, pval, df = float(res.statistic), float(res.pvalue), float(res.df)  # scipy's result
    elif t_draws.size:
        stat = (est - float(null)) / se
        k = t_draws.size  # Monte Carlo p-value with the usual +1 (Davison and Hinkley 1997, ch. 4)
        hits = {"two-sided": np.sum(np.abs(t_draws) >= abs(stat)), "less": np.sum(t_draws <= stat),
                "greater": np.sum(t_draws >= stat)}[alternative]
        pval = float((1 + hits) / (1 + k))
        df = float("inf")
    else:
        stat = (est - float(null)) / se
        dist = _reference(df)
        pval = {"two-sided": 2 * float(dist.sf(abs(stat))), "less": float(dist.cdf(stat)),
                "greater": float(dist.sf(stat))}[alternative]
    return BiasTestResult(
        statistic=float(stat),
        p_value=float(pval),
        df=df,
        estimate=est,
        std_error=se,
        null=float(null),
        scale=c,
        scale_std_error=c_se,
        scale_uncertainty=how,
        scale_reason=choice.reason,
        paired=paired,
        n_gold=int(g.size),
        n_preference=int(p.size),
        alternative=alternative,
        t_draws=frozen_array(t_draws),
    )
