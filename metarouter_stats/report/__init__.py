"""Reports: one self-contained HTML file per analysis or study (figures embedded, no scripts).

:func:`build_report` (``mrs.build_report``) dispatches on what it is given:

* a :class:`~metarouter_stats.RoutingData` (real data) or a
  :class:`~metarouter_stats.SimulatedStudy` -> the **analysis report**: data summary,
  scale constant, bias t-test (c's error propagated), sensitivity of the verdict to c,
  positivity report and figure, Delta_hat with bootstrap bands and the heterogeneity test, EG curves with bands for every router (when a test
  set is available), the cost-quality frontier (when token prices are given), and the
  versions, seed and settings needed to reproduce it;
* a :class:`~metarouter_stats.experiment.StudyResult` or a study's output folder -> the
  **study report**: design, share of the oracle's EG area per router and gold size, EG
  curves with Monte Carlo bands, fit times, configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._threads import budgeted
from ..data import RoutingData
from ..scaling import SCALE_DEFAULT
from ..experiment import StudyResult
from ..simulation import SimulatedStudy
from ._html import Report, check_output_file, figure_png
from .analysis import analyse
from .sections import render_analysis
from .judges import judges_report
from .study import study_report

__all__ = ["Report", "analysis_report", "build_report", "check_output_file", "figure_png", "judges_report",
           "study_report"]


def analysis_report(data: RoutingData | SimulatedStudy, **kwargs: Any) -> Report:
    """An analysis report: every number computed once (:func:`~.analysis.analyse`), then laid out section by
    section (:func:`~.sections.render_analysis`). Arguments as :func:`build_report`."""
    return render_analysis(analyse(data, **kwargs))


@budgeted
def build_report(
    obj: RoutingData | SimulatedStudy | StudyResult | str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    test: Any = None,
    routers: Mapping[str, Any] | None = None,
    scale: Any = SCALE_DEFAULT,
    costs: Mapping[str, Any] | None = None,
    n_in: Any = None,
    n_out: Any = None,
    rates: Any = None,
    confidence_level: float = 0.95,
    n_boot: int = 500,
    rng: int = 0,
    cate: Any = "auto",
    title: str | None = None,
    config: Mapping[str, Any] | None = None,
    holdout: float | None = None,
    progress: bool = True,
    plan: bool = False,
) -> Report:
    """Build an HTML report of an analysis or a study, and write it to ``out`` if given.

    Parameters
    ----------
    obj : RoutingData, SimulatedStudy, StudyResult or path
        Training data (gold and preference rows) for an analysis; a simulated study
        (its training data, test set and true functions); a study result, or the
        ``--out`` folder of ``metarouter study``.
    out : path, optional
        Where to write the HTML file.
    test : RoutingData or (X_test, gold_test), optional
        Held-out queries with gold labels, for the efficiency-gain section (a
        SimulatedStudy brings its own).
    routers : dict name -> router, optional
        Routers to compare; default :func:`~metarouter_stats.experiment.default_routers`
        (the oracle only for simulations, which know every training query's gold label).
    scale : str, float or None, default "auto"
        The constant c of the Meta-router, of the routers that use preference labels and of
        every statement about the bias, or the rule choosing it
        (:func:`~metarouter_stats.scaling.choose_scale`): ``scale=1`` when both labels are
        on one scale; ``"auto"`` uses 1 when the data declare it (``RoutingData.shared_scale``,
        set by the vote loaders), variance matching on the pairs on paired data, and on every
        label otherwise. The report names the c in use and why beside every bias figure.
    costs : mapping model name -> TokenCost, optional
        Prices of the two models (``data.model_names``) for the cost-quality frontier.
    n_in, n_out : optional
        Token counts of the test queries, as for :func:`~metarouter_stats.cost_matrix`.
    rates : array-like, optional
        Usage rates (default 0.2, ..., 0.8).
    confidence_level : float, default 0.95
    n_boot : int, default 500
        Bootstrap replicates of every band.
    rng : int, default 0
        Seed of everything random in the analysis (cross-fitting folds, bootstraps).
    cate : str or bias learner, default "auto"
        The Meta-router's bias learner for the bias section (``MetaRouter(cate=...)``;
        ``"auto"``: the paired learner on paired data, the DR-learner otherwise).
        Learners without a refittable final stage (e.g. ``"forest"``) get their own
        pointwise intervals instead of the fast bootstrap bands.
    title : str, optional
    config : mapping, optional
        Extra settings to record in the reproduction section (e.g. the call that made
        the data).
    holdout : float in (0, 1), optional
        Real data without a test set: hold out this share of the gold-labelled queries
        (all their rows, when query ids pair labels) as the test set of the
        efficiency-gain section (:meth:`RoutingData.holdout_gold <metarouter_stats.RoutingData.holdout_gold>`).
    progress : bool, default True
        A progress bar naming the section being computed (analysis reports; on a terminal
        only, tqdm's default; False switches it off).
    plan : bool, default False
        Analysis reports: add the section "How many gold labels?" (:func:`~metarouter_stats.plan_gold`
        and :func:`~metarouter_stats.gold_learning_curve` on the training data; about 16
        extra Meta-router fits).

    Returns
    -------
    Report
        ``report.results`` holds the numbers and objects shown; ``report.figures`` the
        figure captions; ``report.save(path)`` writes the file.

    Examples
    --------
    >>> import metarouter_stats as mrs
    >>> study = mrs.simulate(n_gold=60, n_preference=600, n_test=200, rng=0)
    >>> rep = mrs.build_report(study, routers={"meta-dr": mrs.MetaRouter(random_state=0),
    ...                                  "gold-only": mrs.GoldOnlyRouter(random_state=0)}, n_boot=50)
    >>> len(rep.figures), sorted(rep.results["eg_bands"])
    (4, ['gold-only', 'meta-dr'])
    """
    if out is not None:
        check_output_file(out, "out")  # before any work
    if isinstance(obj, (str, os.PathLike)):
        obj = StudyResult.load(obj)
    if isinstance(obj, StudyResult):
        extra = [k for k, v in dict(test=test, routers=routers, costs=costs, n_in=n_in, n_out=n_out, rates=rates,
                                    config=config, holdout=holdout).items() if v is not None]
        if extra:
            raise ValueError(f"{extra} apply to analysis reports, not to a study report; drop them.")
        rep = study_report(obj, title=title)
    elif isinstance(obj, (RoutingData, SimulatedStudy)):
        rep = analysis_report(
            obj, test=test, routers=routers, scale=scale, costs=costs, n_in=n_in, n_out=n_out, rates=rates,
            confidence_level=confidence_level, n_boot=n_boot, rng=rng, cate=cate, title=title, config=config,
            holdout=holdout, progress=progress, plan=plan,
        )
    else:
        raise TypeError(
            "`obj` must be a RoutingData, a SimulatedStudy, a StudyResult or a study's output folder; "
            f"got {type(obj).__name__}."
        )
    if out is not None:
        rep.save(Path(out))
    return rep
