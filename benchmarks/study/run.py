"""Study runner: one full round, a 20-round study at n_jobs = 1 vs 2, and the main comparison.

1. one full round: 7 routers + oracle, 100 gold, 4,400 preference, 500 test, d = 50;
2. the same 20-round study (n_gold = 100) with n_jobs = 1 and n_jobs = 2: wall time,
   speed-up, and a check that the results are identical;
3. the shipped ``main`` config (default learners) with ``--rounds`` rounds at
   n_gold in {100, 500, 1000}: mean share of the test-label oracle's EG area with its
   Monte Carlo standard error, and the reference figure.

Run::

    python benchmarks/study/run.py --rounds 20

Writes ``benchmarks/study/summary.md``, the chunk ``study_main_areas`` of ``results.csv.gz`` and
``figure.png``. Nothing asserts on wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import metarouter_stats as mrs  # noqa: E402
from metarouter_stats.experiment import load_config, run_round, run_study  # noqa: E402

from metarouter_stats.experiment import ChunkStore, write_summary_section  # noqa: E402

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"

ROUND_CHILD = r"""
import sys, time
import metarouter_stats as mrs
from metarouter_stats.experiment import run_round
study = mrs.simulate(n_gold=100, n_preference=4400, n_test=500, d=50, rng=0)
run_round(study, rng=0)  # imports and first-call costs out of the timing
t0 = time.perf_counter()
for r in range(3):
    run_round(study, rng=r)
print((time.perf_counter() - t0) / 3)
"""


def contention() -> str:
    """Seconds per round of one process alone, then of two identical processes side by side.

    The ratio bounds what two workers can gain on this machine whatever the scheduler
    does: 2 x alone / side-by-side is the speed-up of a study with no start-up cost at all.
    """
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", ROUND_CHILD], stdout=subprocess.PIPE, text=True)

    alone = float(start().communicate()[0])
    pair = [start(), start()]
    both = [float(p.communicate()[0]) for p in pair]
    bound = 2 * alone / (sum(both) / 2)
    return (f"- one round alone: {alone:.2f} s; two rounds side by side (two processes): {both[0]:.2f} s and "
            f"{both[1]:.2f} s per round, so two workers gain at most **{bound:.2f}x** here "
            "before any start-up cost (this bound moved between 1.73x and 2.16x in four runs of a few minutes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--gold", nargs="+", type=int, default=[100, 500, 1000])
    parser.add_argument("--timing-only", action="store_true", help="skip the main comparison (part 3)")
    parser.add_argument("--contention-only", action="store_true",
                        help="only the hardware bound of a 2-worker speed-up (appended to study_timing_only.md)")
    args = parser.parse_args()
    if args.contention_only:
        line = contention()
        write_summary_section(SUMMARY, "study_contention", line)
        print(line)
        return
    lines = []

    study = mrs.simulate(n_gold=100, n_preference=4400, n_test=500, d=50, rng=0)
    t0 = time.perf_counter()
    run_round(study, rng=0)
    one = time.perf_counter() - t0
    lines.append(f"- one full round (8 routers incl. oracle, n_jobs = 1): {one:.2f} s")

    config = dataclasses.replace(load_config("main"), gold_sizes=(100,), rounds=args.rounds, paper_evaluation=False)
    t0 = time.perf_counter()
    serial = run_study(config, n_jobs=1, progress=False)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    parallel = run_study(config, n_jobs=2, progress=False)
    t2 = time.perf_counter() - t0
    # the same study again: joblib's loky executor keeps its two workers, which have now
    # imported scikit-learn and EconML (what a second study in one session sees)
    t0 = time.perf_counter()
    again = run_study(config, n_jobs=2, progress=False)
    t3 = time.perf_counter() - t0
    same = all(serial.frame.drop(columns="fit_seconds").equals(r.frame.drop(columns="fit_seconds")) for r in (parallel, again))
    lines.append(f"- {args.rounds}-round study, n_jobs = 1: {t1:.1f} s")
    lines.append(f"- {args.rounds}-round study, n_jobs = 2, fresh workers: {t2:.1f} s (speed-up {t1 / t2:.2f}x)")
    lines.append(f"- {args.rounds}-round study, n_jobs = 2, workers kept from the previous study: {t3:.1f} s "
                 f"(speed-up {t1 / t3:.2f}x); identical results in all three: {same}")

    lines.append(contention())
    if args.timing_only:
        text = "# Study runner timings\n\n" + "\n".join(lines) + "\n"
        write_summary_section(SUMMARY, "study_timing_only", text)
        print(text)
        return
    main_cfg = dataclasses.replace(load_config("main"), gold_sizes=tuple(args.gold), rounds=args.rounds)
    t0 = time.perf_counter()
    res = run_study(main_cfg, n_jobs=2, progress=False)
    lines.append(f"- main config, {args.rounds} rounds x {len(args.gold)} gold sizes, n_jobs = 2: {time.perf_counter() - t0:.1f} s")
    areas = res.area_summary()
    STORE.save("study_main_areas", areas)
    paper = res.area_summary(evaluation="paper")
    axes = res.plot()
    axes[0].figure.savefig(HERE / "figure.png", dpi=110)
    text = (
        "# Study runner timings and the main comparison\n\n"
        + "\n".join(lines)
        + "\n\nShare of the test-label oracle's EG area (noisy test gold labels), mean and Monte Carlo standard error:\n\n"
        + areas.round(3).to_markdown(index=False)
        + "\n\nSame, with the reference code's truncated evaluation (psi_hat > 0):\n\n"
        + paper.round(3).to_markdown(index=False)
        + "\n"
    )
    write_summary_section(SUMMARY, "study_timing", text)
    print(text)


if __name__ == "__main__":
    main()
