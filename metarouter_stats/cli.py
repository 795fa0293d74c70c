"""The ``metarouter`` command.

``metarouter demo`` simulates the paper-like study (100 gold and 4,400 preference
training queries, 500 test queries, d = 50), fits the seven routers and prints the
efficiency gain at usage rates 0.2, ..., 0.8 with its area.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import pandas as pd

from . import __version__
from .experiment import load_config, run_round, run_study, study_configs
from .simulation import SCENARIOS, simulate

__all__ = ["demo_table", "main"]

logger = logging.getLogger("metarouter_stats")


def demo_table(
    *, rounds: int = 5, seed: int = 0, n_gold: int = 100, n_preference: int = 4400, n_test: int = 500,
    scenario: str = "paper",
) -> pd.DataFrame:
    """The demo's table: mean EG per query at each rate, its area and the share of the oracle's area.

    Round ``i`` uses the simulation seed ``seed + i`` and routers seeded with it.
    """
    frames = []
    for i in range(rounds):
        study = simulate(n_gold=n_gold, n_preference=n_preference, n_test=n_test, scenario=scenario, rng=seed + i)
        frame = run_round(study, random_state=seed + i)
        frame["round"] = i
        frames.append(frame)
        logger.info("round %d of %d done", i + 1, rounds)
    df = pd.concat(frames, ignore_index=True)
    order = list(dict.fromkeys(df["router"]))
    wide = df.pivot_table(index="router", columns="rate", values="per_query", aggfunc="mean").loc[order]
    wide.columns = [f"EG@{c:.1f}" for c in wide.columns]
    areas = df.groupby("router")[["auc", "auc_relative"]].mean().loc[order]
    areas.columns = ["area", "share_of_oracle"]
    return pd.concat([wide, areas], axis=1)


def _demo(args: argparse.Namespace) -> int:
    table = demo_table(
        rounds=args.rounds, seed=args.seed, n_gold=args.n_gold, n_preference=args.n_preference,
        n_test=args.n_test, scenario=args.scenario,
    )
    print(
        f"metarouter_stats {__version__} demo: scenario={args.scenario!r}, n_gold={args.n_gold}, "
        f"n_preference={args.n_preference}, n_test={args.n_test}, rounds={args.rounds}, seed={args.seed}"
    )
    print("EG@rho: efficiency gain per test query (gold scale) when the share rho of queries goes")
    print("to the primary model; area: area under EG per query over rho in [0.2, 0.8];")
    print("share_of_oracle: that area relative to ranking by the test gold gains themselves.")
    print(f"Mean over {args.rounds} round(s).\n")
    shown = table.copy()
    shown["area"] = shown["area"] / args.n_test
    print(shown.to_string(float_format=lambda v: f"{v:8.3f}"))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metarouter", description="Meta-Router: LLM routing from gold and preference labels.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="simulate the paper-like study, fit all routers, print the EG table")
    demo.add_argument("--rounds", type=_positive_int, default=5, help="simulation rounds to average (default 5)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the first round (default 0)")
    demo.add_argument("--n-gold", type=_positive_int, default=100)
    demo.add_argument("--n-preference", type=_positive_int, default=4400)
    demo.add_argument("--n-test", type=_positive_int, default=500)
    demo.add_argument("--scenario", choices=SCENARIOS, default="paper")
    demo.set_defaults(func=_demo)
    study = sub.add_parser("study", help="run a Monte Carlo study from a TOML config (resumable)")
    study.add_argument("config", help="TOML file, or the name of a shipped config: " + ", ".join(study_configs()))
    study.add_argument("--out", required=True, help="output directory (checkpoints, results.csv, figure)")
    study.add_argument("--n-jobs", type=int, default=1, help="joblib workers (default 1; -1 = all cores)")
    study.add_argument("--scheduler", default=None, help="Dask scheduler address: run the rounds on that cluster")
    study.set_defaults(func=_study)
    return parser


def _study(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    backend = "dask" if args.scheduler else "loky"
    result = run_study(config, out=args.out, n_jobs=args.n_jobs, backend=backend, scheduler=args.scheduler)
    areas = result.area_summary()
    print(f"study {config.name!r}: {config.n_tasks} tasks; results in {args.out}/results.csv")
    print("Share of the oracle ranking's EG area (mean and Monte Carlo standard error):")
    print(areas.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    fig = result.plot()
    fig.savefig(f"{args.out}/eg_curves.png", dpi=120)
    print(f"figure: {args.out}/eg_curves.png")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``metarouter`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args))
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"metarouter: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
