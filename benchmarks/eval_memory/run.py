"""Peak memory of evaluate_routers on many evaluation queries: bootstrap weights drawn block by block.

One process per size (``--sizes``, default 200,000 and 2,000,000 queries), 2 routers, a pseudo-gold
prediction on every query, 1 % gold, ``n_boot`` = 1,000: the process's peak resident memory
(``resource.getrusage``, data included) and the wall time. The multiplier weights are drawn in
blocks of 16 draws when they are used, so memory does not grow with ``n_boot``. Writes
``results.csv`` and ``summary.md`` beside this file. Run::

    OMP_NUM_THREADS=1 python benchmarks/eval_memory/run.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent

CHILD = r"""
import json, resource, sys, time
import numpy as np
import metarouter_stats as mrs
n, n_boot = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
psi = rng.normal(size=n)
gold = np.where(rng.random(n) < 0.01, psi + rng.normal(size=n), np.nan)
f = psi + 0.5 * rng.normal(size=n)
t0 = time.perf_counter()
ev = mrs.evaluate_routers({"good": psi, "noisy": psi + rng.normal(size=n)}, gold, pseudo_gold=f, n_boot=n_boot, rng=0)
sec = time.perf_counter() - t0
print(json.dumps({"n": n, "n_boot": n_boot, "seconds": sec, "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "area_good": float(ev.area("good").estimate)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="200000,2000000")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    rows = []
    for n in map(int, args.sizes.split(",")):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.n_boot)], capture_output=True, text=True,
                             check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], f"({time.perf_counter() - t0:.0f} s with start-up)", flush=True)
    df = pd.DataFrame(rows)
    out_dir = Path(args.out)
    df.to_csv(out_dir / "results.csv", index=False)
    text = ["# Peak memory of evaluate_routers", "",
            "Written by `OMP_NUM_THREADS=1 python benchmarks/eval_memory/run.py` (module docstring: design); peak "
            "resident memory of the whole process in GB (data included), one run each.", "",
            df.to_markdown(index=False, floatfmt=".3f"), ""]
    (out_dir / "summary.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
