"""How a default Meta-router fit scales with the number of preference rows (issue 13).

Each configuration runs in a fresh subprocess (so that its peak memory is its own) at the
package's default thread budget (1 thread) and records wall time, CPU time (user + system)
and peak resident memory of the fit, data simulation excluded. Grid: ``--learners`` x
``--gold`` x ``--pref`` x ``--d``; the default is the issue's full grid (DR and R; 100 and
1,000 gold; 4,400 / 44,000 / 440,000 / 1,000,000 preference rows; d = 50 and 384), which
takes hours: pass a subset. The table gets the log-log slope of CPU time against the total
number of rows for each (learner, gold, d) line.

Run (issue 43's cells: d = 384 and 768 on two cores)::

    python benchmarks/scale/run.py --learners dr --gold 100 --pref 4400,44000,440000,1000000 --d 384 --threads 2
    python benchmarks/scale/run.py --learners dr --gold 100 --pref 4400,44000,440000 --d 768 --threads 2

Writes ``benchmarks/scale/results.csv.gz`` (appending, one row per configuration) and
``benchmarks/scale/summary.md``. Nothing else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from metarouter_stats.experiment import ChunkStore, write_summary_section  # noqa: E402

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"

CHILD = r"""
import gc, json, resource, sys, time
import numpy as np
import metarouter_stats as mrs
learner, n_gold, n_pref, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = mrs.simulate(n_gold=n_gold, n_preference=n_pref, n_test=2, d=d, rng=0)

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB
    return float("nan")

gc.collect()
with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM): the simulation's own peak is not the fit's
    f.write("5")
rss_before = status("VmRSS")
before = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
router = mrs.MetaRouter(cate=learner, random_state=0).fit(s.train)
wall = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"learner": learner, "n_gold": n_gold, "n_preference": n_pref, "d": d, "wall_s": wall,
                  "cpu_s": cpu, "peak_mb": status("VmHWM"), "rss_before_mb": rss_before,
                  "data_mb": s.train.X.nbytes / 2**20}))
"""


def run_one(learner: str, n_gold: int, n_pref: int, d: int, threads: int) -> dict:
    env = dict(os.environ, METAROUTER_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", CHILD, learner, str(n_gold), str(n_pref), str(d)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"threads": threads}


def slopes(raw: pd.DataFrame) -> pd.DataFrame:
    """Log-log slope of CPU time and of peak memory against total rows, per (learner, gold, d, threads) line."""
    rows = []
    keys = [k for k in ["learner", "n_gold", "d", "threads"] if k in raw]
    for key, part in raw.groupby(keys):
        if part["n_preference"].nunique() < 2:
            continue
        n = np.log(part["n_gold"] + part["n_preference"])
        rows.append(dict(zip(keys, key, strict=True))
                    | {"slope_cpu": float(np.polyfit(n, np.log(part["cpu_s"]), 1)[0]),
                       "slope_wall": float(np.polyfit(n, np.log(part["wall_s"]), 1)[0]),
                       "slope_peak_memory": float(np.polyfit(n, np.log(part["peak_mb"]), 1)[0])})
    return pd.DataFrame(rows)


SERIES = {
    "scale": "Default Meta-router fit, 1 thread, fresh process per row (wall and CPU seconds of the fit, peak "
             "resident memory of the process in MB, data included). Before issue 43: EconML cross-fitted on the "
             "feature matrix (copies per fold), the router and the learners copied X.",
    "scale_rows": "Default Meta-router fit after issue 43 (cross-fitting on row numbers, no copies of X, "
                  "GramRidgeCV), fresh process per row, thread budget `threads` (METAROUTER_NUM_THREADS). "
                  "peak_mb: the peak resident memory *during the fit* (VmHWM reset after the simulation), data and "
                  "interpreter included; rss_before_mb: resident memory just before the fit (data included); "
                  "peak_over_data: peak_mb / data_mb.",
}


def summarise(series: str) -> str:
    raw = STORE.rows(series).drop(columns="chunk")
    keys = [k for k in ["learner", "n_gold", "n_preference", "d", "threads"] if k in raw]
    raw = raw.drop_duplicates(keys, keep="last").sort_values(keys)
    if "rss_before_mb" in raw:
        raw["peak_over_data"] = raw["peak_mb"] / raw["data_mb"]
    md = raw.to_markdown(index=False, floatfmt=".2f") + "\n\nLog-log slopes against total rows:\n\n"
    md += slopes(raw).to_markdown(index=False, floatfmt=".2f")
    write_summary_section(SUMMARY, series, SERIES[series] + "\n\n" + md + "\n")
    return md


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", default="dr,r")
    ap.add_argument("--gold", default="100,1000")
    ap.add_argument("--pref", default="4400,44000,440000,1000000")
    ap.add_argument("--d", default="50,384")
    ap.add_argument("--threads", type=int, default=1, help="the fit's thread budget (METAROUTER_NUM_THREADS)")
    ap.add_argument("--series", default="scale_rows", choices=sorted(SERIES),
                    help="chunk prefix and summary section of these runs")
    args = ap.parse_args()
    if args.series == "scale":
        raise SystemExit("The series 'scale' records the code before issue 43; new runs go to 'scale_rows'.")
    for learner in args.learners.split(","):
        for d in (int(v) for v in args.d.split(",")):
            for n_gold in (int(v) for v in args.gold.split(",")):
                for n_pref in (int(v) for v in args.pref.split(",")):
                    row = run_one(learner, n_gold, n_pref, d, args.threads)
                    print(row, flush=True)
                    key = f"{args.series}_{learner}_d{d}_g{n_gold}_p{n_pref}_t{args.threads}"
                    STORE.save(key, pd.DataFrame([row]))
    print(summarise(args.series))


if __name__ == "__main__":
    main()
