"""Size of ``bias_ttest`` at small n and on discrete labels, with c estimated from the same labels.

Every cell is a true null (mean bias 0 on the gold scale of the population c), so a test at the
5 % level should reject 5 % of the time. Per cell: ``--reps`` replications (seed from the cell
and the replication), ``n`` gold labels (paired: n pairs; Welch: n gold and 4 n preference
labels of other queries), labels

``normal``
    gold M + f + e and preference C (M + f + e') on the same queries (M = 3, C = 0.5, f, e, e'
    standard normal; Welch: the two samples drawn independently from the same laws): a large
    mean makes c's error move the bias much;
``likert``
    both labels on one 1-5 rubric, ``clip(round(3 + z + 0.8 e), 1, 5)`` from a shared latent z
    (Welch: independent draws of the same law): c = 1 for every method;
``votes``
    both labels in {-1, 0, 1}, ``sign(round(0.3 + 0.7 z + 0.7 e))``: c = 1 for every method.

Scale methods: the default (``"paired"`` on paired labels, ``"variance"`` otherwise),
``"wasserstein"`` (refused on the discrete labels: the row says so) and ``"amplitude"``
(bounded labels only). For the smooth methods both reference laws are scored: the bootstrap-t
(``inference="auto"``, 2,000 resamples, the default) and the delta method's t reference
(``inference="delta"``, the earlier default). ``size_true_c``: the exact test with the true c on
the same replications, the Monte Carlo reference. Writes ``results.csv.gz`` (one row per cell)
and ``summary.md``::

    python benchmarks/ttest_size/run.py --reps 500 --n-jobs 2
    python benchmarks/ttest_size/run.py --reps 2000 --sizes 20,30 --default-only --n-jobs 2
"""

from __future__ import annotations

import argparse
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import metarouter_stats as mrs
from metarouter_stats.experiment import ChunkStore, write_summary_section

HERE = Path(__file__).resolve().parent
STORE = ChunkStore(HERE)
M, C = 3.0, 0.5
SIZES = (20, 30, 50, 100)


def labels(rng: np.random.Generator, n: int, kind: str, paired: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """(gold, preference, true c) of one null replication."""
    n_p = n if paired else 4 * n
    if kind == "normal":
        f = rng.normal(size=n)
        g = M + f + rng.normal(size=n)
        p = C * (M + f + rng.normal(size=n)) if paired else C * (M + np.sqrt(2) * rng.normal(size=n_p))
        if not paired:
            g = M + np.sqrt(2) * rng.normal(size=n)
        return g, p, C
    if kind == "likert":
        def cut(x: np.ndarray) -> np.ndarray:
            return np.clip(np.round(3 + x), 1, 5)
        z = rng.normal(size=n)
        if paired:
            return cut(z + 0.8 * rng.normal(size=n)), cut(z + 0.8 * rng.normal(size=n)), 1.0
        return cut(np.sqrt(1.64) * rng.normal(size=n)), cut(np.sqrt(1.64) * rng.normal(size=n_p)), 1.0
    z = rng.normal(size=n)  # votes

    def vote(x: np.ndarray) -> np.ndarray:
        return np.sign(np.round(x))
    if paired:
        return vote(0.3 + 0.7 * z + 0.7 * rng.normal(size=n)), vote(0.3 + 0.7 * z + 0.7 * rng.normal(size=n)), 1.0
    return vote(0.3 + np.sqrt(0.98) * rng.normal(size=n)), vote(0.3 + np.sqrt(0.98) * rng.normal(size=n_p)), 1.0


def cell(n: int, kind: str, paired: bool, method: str, inference: str, reps: int) -> dict:
    rej = rej_true = done = refused = 0
    message = ""
    t0 = time.perf_counter()
    for r in range(reps):
        seed = zlib.crc32(repr(("ttest_size", n, kind, paired, method, r)).encode())
        g, p, c_true = labels(np.random.default_rng(seed), n, kind, paired)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                res = mrs.bias_ttest(g, p, paired=paired, scale=method, inference=inference, rng=seed)
            except ValueError as exc:
                refused += 1
                message = str(exc).split(":")[0]
                continue
            true = mrs.bias_ttest(g, p, paired=paired, scale=c_true)
        if np.isfinite(res.p_value):
            done += 1
            rej += res.p_value < 0.05
            rej_true += true.p_value < 0.05
    size = rej / done if done else float("nan")
    return {"n": n, "labels": kind, "design": "paired" if paired else "Welch", "method": method,
            "inference": inference, "reps": reps, "tests": done, "refused": refused,
            "size": size, "mc_se": float(np.sqrt(size * (1 - size) / done)) if done else float("nan"),
            "size_true_c": rej_true / done if done else float("nan"), "refusal": message,
            "seconds": time.perf_counter() - t0}


def cells(default_only: bool = False) -> list[tuple]:
    out = []
    for paired in (True, False):
        default = "paired" if paired else "variance"
        for kind in ("normal", "likert", "votes"):
            for n in SIZES:
                if default_only:
                    out.append((n, kind, paired, default, "auto"))
                    continue
                for inference in ("auto", "delta"):
                    out.append((n, kind, paired, default, inference))
                    out.append((n, kind, paired, "wasserstein", inference))
                if kind != "normal":
                    out.append((n, kind, paired, "amplitude", "auto"))
    return out


def summarise(df: pd.DataFrame) -> str:
    # a cell run in several chunks (e.g. more replications of the default later): the run with the most replications
    df = (df.sort_values("reps", ascending=False, kind="stable")
          .drop_duplicates(["n", "labels", "design", "method", "inference"]).copy())
    df["size (MC SE)"] = [f"{s:.3f} ({e:.3f})" if np.isfinite(s) else "refused" for s, e in zip(df["size"], df["mc_se"],
                                                                                              strict=True)]
    wide = df.pivot_table(index=["design", "labels", "method", "inference"], columns="n", values="size (MC SE)",
                          aggfunc="first").reset_index()
    wide.columns = [str(c) if not isinstance(c, (int, np.integer)) else f"n = {c}" for c in wide.columns]
    inside = df[np.isfinite(df["size"])]
    boot = inside[inside["inference"] == "auto"]
    reps = ", ".join(f"{int(r)}" for r in sorted(df["reps"].unique()))
    true_c = df.pivot_table(index=["design", "labels"], columns="n", values="size_true_c", aggfunc="max").round(3)
    lines = [f"Rejection rate of true nulls at the 5 % level (Monte Carlo SE in brackets); {reps} replications per "
             "cell (the default's cells have the most; module docstring: the design). `auto` = bootstrap-t for the smooth methods (the default), "
             "`delta` = the delta method's t reference; `amplitude` uses its own bootstrap either way.", "",
             wide.to_markdown(index=False), "",
             "The exact test with the true c on the same replications (the cells' own Monte Carlo noise; the "
             "largest over a design and label type's methods):", "", true_c.to_markdown(), "",
             f"Default (`auto`) cells inside [0.035, 0.065]: {int(((boot['size'] >= 0.035) & (boot['size'] <= 0.065)).sum())} "
             f"of {len(boot)}; the exact test with the true c on the same replications ranged "
             f"{inside['size_true_c'].min():.3f}-{inside['size_true_c'].max():.3f}."]
    refused = df[df["refused"] > 0]
    if len(refused):
        lines += ["", f"Refused cells ({len(refused)}): {refused['refusal'].iloc[0]}."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="gold sizes n, comma-separated")
    ap.add_argument("--merge", action="store_true", help="only summarise the finished chunks")
    ap.add_argument("--default-only", action="store_true", help="only the default (the package's scale, bootstrap-t)")
    args = ap.parse_args()
    if not args.merge:
        sizes = {int(v) for v in args.sizes.split(",")}
        todo = [c for c in cells(args.default_only) if c[0] in sizes]
        key = (f"ttest_size_r{args.reps}_n{'-'.join(map(str, sorted(sizes)))}"
               + ("_default" if args.default_only else ""))
        if key not in STORE.done():
            rows = Parallel(n_jobs=args.n_jobs)(delayed(cell)(*c, args.reps) for c in todo)
            STORE.save(key, pd.DataFrame(rows))
    text = summarise(STORE.rows("ttest_size").drop(columns="chunk"))
    write_summary_section(HERE / "summary.md", "ttest_size", text, preamble=(
        "# bias_ttest with an estimated c: size at small n and on discrete labels\n\n"
        "Written by `python benchmarks/ttest_size/run.py` (module docstring: design, cells)."))
    print(text)


if __name__ == "__main__":
    main()
