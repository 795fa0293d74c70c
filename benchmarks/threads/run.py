"""A default MetaRouter fit on an idle and on a busy machine, with the thread budget and without.

"Busy" = two other CPU-bound processes (``python -c "while True: pass"``), started and stopped
by this script, on the 2-core machine. Each setting runs in a fresh subprocess (so that the
OpenMP runtime starts with that setting): ``budget-1`` is the package default (one thread),
``budget-2`` sets ``METAROUTER_NUM_THREADS=2``, ``budget-2-passive`` also
``OMP_WAIT_POLICY=PASSIVE`` (waiting OpenMP threads sleep instead of spinning), ``no-budget`` is the pre-budget behaviour
(``OMP_NUM_THREADS`` unset and the budget disabled, so scikit-learn uses every core).

    python benchmarks/threads/run.py [--reps 2]

writes ``benchmarks/threads/summary.md``: wall and CPU seconds, and the busy / idle ratio.
The fitted predictions are compared across settings (they must be identical).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from metarouter_stats.experiment import ChunkStore, write_summary_section  # noqa: E402

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
SUMMARY = HERE / "summary.md"

CHILD = r"""
import json, sys, time, hashlib
import numpy as np
import metarouter_stats as mrs
from metarouter_stats import _threads
if sys.argv[1] == "no-budget":
    _threads.get_thread_budget = lambda: None  # the pre-budget behaviour
s = mrs.simulate(n_gold=100, n_preference=4400, n_test=500, rng=0)
out = []
for _ in range(int(sys.argv[2])):
    t0, c0 = time.perf_counter(), time.process_time()
    r = mrs.MetaRouter(random_state=0).fit(s.train)
    out.append((time.perf_counter() - t0, time.process_time() - c0))
digest = hashlib.sha256(r.predict_gain(s.X_test).tobytes()).hexdigest()[:16]
print(json.dumps({"wall": min(w for w, _ in out), "cpu": min(c for _, c in out), "digest": digest}))
"""


def run(setting: str, reps: int) -> dict:
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env.pop("METAROUTER_NUM_THREADS", None)
    if setting.startswith("budget-2"):
        env["METAROUTER_NUM_THREADS"] = "2"
    if setting.endswith("-passive"):  # OpenMP threads sleep instead of spinning while they wait
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    proc = subprocess.run([sys.executable, "-c", CHILD, setting, str(reps)], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="fits per setting; the fastest is kept")
    parser.add_argument("--settings", default="budget-1,budget-2,budget-2-passive,no-budget",
                        help="comma-separated: budget-1, budget-2, budget-2-passive (OMP_WAIT_POLICY=PASSIVE), no-budget")
    args = parser.parse_args()
    rows = []
    for setting in args.settings.split(","):
        idle = run(setting, args.reps)
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            time.sleep(1.0)
            busy = run(setting, args.reps)
        finally:
            for h in hogs:
                h.kill()
                h.wait()
        rows.append((setting, idle, busy))
        print(setting, idle, busy, flush=True)
    digests = {r[1]["digest"] for r in rows} | {r[2]["digest"] for r in rows}
    lines = [
        "# Thread budget: a default fit on an idle and a busy 2-core machine",
        "",
        "`python benchmarks/threads/run.py` (100 gold, 4,400 preference, d = 50; fastest of "
        f"{args.reps} fits; busy = two `while True: pass` processes started by the script).",
        "",
        "| setting | idle wall s | idle CPU s | busy wall s | busy CPU s | busy / idle wall |",
        "|---|---|---|---|---|---|",
    ]
    for setting, idle, busy in rows:
        lines.append(f"| {setting} | {idle['wall']:.2f} | {idle['cpu']:.2f} | {busy['wall']:.2f} | {busy['cpu']:.2f} | "
                     f"{busy['wall'] / idle['wall']:.2f} |")
    lines += ["", f"Predictions identical across all settings: {len(digests) == 1}."]
    write_summary_section(SUMMARY, "threads", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
