"""How a default Meta-router fit scales with the number of preference rows (issue 13).

Each configuration runs in a fresh subprocess (so that its peak memory is its own) at the
package's default thread budget (1 thread) and records wall time, CPU time (user + system)
and peak resident memory of the fit, data simulation excluded. Grid: ``--learners`` x
``--gold`` x ``--pref`` x ``--d``; the default is the issue's full grid (DR and R; 100 and
1,000 gold; 4,400 / 44,000 / 440,000 / 1,000,000 preference rows; d = 50 and 384), which
takes hours: pass a subset. The table gets the log-log slope of CPU time against the total
number of rows for each (learner, gold, d) line.

Run::

    python benchmarks/scale/run.py --learners dr --gold 100 --pref 4400,44000,440000 --d 50

Writes ``benchmarks/scale/results.csv.gz`` (appending, one row per configuration) and
``benchmarks/scale/summary.md``. Nothing else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
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
import json, resource, sys, time
import numpy as np
import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section
learner, n_gold, n_pref, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = mrs.simulate(n_gold=n_gold, n_preference=n_pref, n_test=2, d=d, rng=0)
before = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
router = mrs.MetaRouter(cate=learner, random_state=0).fit(s.train)
wall = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"learner": learner, "n_gold": n_gold, "n_preference": n_pref, "d": d, "wall_s": wall,
                  "cpu_s": cpu, "peak_mb": after.ru_maxrss / 1024, "data_mb": s.train.X.nbytes / 2**20}))
"""


def run_one(learner: str, n_gold: int, n_pref: int, d: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, learner, str(n_gold), str(n_pref), str(d)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def slopes(raw: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key, part in raw.groupby(["learner", "n_gold", "d"]):
        if part["n_preference"].nunique() < 2:
            continue
        n = np.log(part["n_gold"] + part["n_preference"])
        rows.append(dict(zip(["learner", "n_gold", "d"], key, strict=True))
                    | {"slope_cpu": float(np.polyfit(n, np.log(part["cpu_s"]), 1)[0]),
                       "slope_peak_memory": float(np.polyfit(n, np.log(part["peak_mb"]), 1)[0])})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", default="dr,r")
    ap.add_argument("--gold", default="100,1000")
    ap.add_argument("--pref", default="4400,44000,440000,1000000")
    ap.add_argument("--d", default="50,384")
    args = ap.parse_args()
    for learner in args.learners.split(","):
        for d in (int(v) for v in args.d.split(",")):
            for n_gold in (int(v) for v in args.gold.split(",")):
                for n_pref in (int(v) for v in args.pref.split(",")):
                    row = run_one(learner, n_gold, n_pref, d)
                    print(row, flush=True)
                    key = f"scale_{learner}_d{d}_g{n_gold}_p{n_pref}"
                    STORE.save(key, pd.DataFrame([row]))
    raw = STORE.rows("scale").drop(columns="chunk").drop_duplicates(["learner", "n_gold", "n_preference", "d"],
                                                                     keep="last")
    md = raw.to_markdown(index=False, floatfmt=".2f") + "\n\nLog-log slopes against total rows:\n\n"
    md += slopes(raw).to_markdown(index=False, floatfmt=".2f")
    write_summary_section(SUMMARY, "scale", 
        "Default Meta-router fit, 1 thread, fresh process per row (wall and CPU seconds of the fit, peak "
        "resident memory of the process in MB, data included).\n\n" + md + "\n")
    print(md)


if __name__ == "__main__":
    main()
