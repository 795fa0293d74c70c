"""Time per section of the default report, on the demo's data and on the real data sets.

Cases (each one ``build_report(..., rng=0, progress=False)`` with its defaults, n_boot = 500):

* ``demo_study``: the demo's simulated study (100 gold and 4,400 preference training rows, d = 50,
  500 test queries): the routers are evaluated on the simulation's test set;
* ``demo_data``: the same 4,500 training rows as a RoutingData without a test set: every router
  cross-fitted over all rows (the default for real data);
* ``mtbench`` and ``pandalm`` (when ``METAROUTER_DATA_DIR`` is set): the shipped loaders' data,
  paired and on one declared scale: cross-fitted, judge labels as pseudo-gold.

Writes ``results.csv`` (case, section, seconds) and ``summary.md`` beside this file. Wall-clock
times: run on a quiet machine (the summary records the machine's core count and what it was
given). Run::

    OMP_NUM_THREADS=1 python benchmarks/report_time/run.py
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import pandas as pd

import metarouter_stats as mrs

HERE = Path(__file__).parent


def cases(data_dir: str | None) -> dict:
    study = mrs.simulate(n_gold=100, n_preference=4400, n_test=500, rng=0)
    out = {"demo_study": lambda: study, "demo_data": lambda: study.train}
    if data_dir:
        out["mtbench"] = lambda: mrs.datasets.load_mtbench(Path(data_dir) / "mtbench", "gpt-4", "gpt-3.5-turbo").data
        out["pandalm"] = lambda: mrs.datasets.load_pandalm(Path(data_dir) / "pandalm", "llama-7b", "bloom-7b").data
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=None, help="comma-separated subset of the cases")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    rows = []
    todo = cases(os.environ.get("METAROUTER_DATA_DIR"))
    for name, make in todo.items():
        if args.cases and name not in args.cases.split(","):
            continue
        obj = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = mrs.build_report(obj, rng=0, progress=False)
        for section, sec in rep.results["section_seconds"].items():
            rows.append({"case": name, "section": section, "seconds": sec})
        rows.append({"case": name, "section": "TOTAL", "seconds": rep.results["seconds"]})
        print(name, f"{rep.results['seconds']:.1f} s", flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    df.to_csv(out / "results.csv", index=False)
    wide = df.pivot_table(index="section", columns="case", values="seconds", aggfunc="sum", sort=False)
    text = ["# Time per section of the default report (seconds, wall clock)", "",
            f"Written by `OMP_NUM_THREADS=1 python benchmarks/report_time/run.py` on {os.cpu_count()} cores.", "",
            wide.to_markdown(floatfmt=".1f"), ""]
    (out / "summary.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
