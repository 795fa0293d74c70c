"""The ``metarouter`` command.

``metarouter demo`` simulates the paper-like study (100 gold and 4,400 preference
training queries, 500 test queries, d = 50), fits the seven routers and prints the
efficiency gain at usage rates 0.2, ..., 0.8 with its area; it also writes the HTML
report of the first round (``metarouter_demo_report.html`` unless ``--report`` says
otherwise) and prints where.

``metarouter report`` writes the HTML report of a study's output folder, of a
simulation, of a CSV of routing data, or of long-format votes.

``metarouter plan`` reads a pilot (a CSV of routing data, or a simulation) and prints how the
mean-bias interval's half-width and the bias t-test's power grow with the number of gold
labels, and the gold size for a target (:func:`~metarouter_stats.plan_gold`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .experiment import ROUTER_NAMES, StudyConfig, load_config, run_study, study_configs
from .experiment.store import StudyInUseError
from ._files import save_figure
from .scaling import SCALE_CHOICES, SCALE_DEFAULT, parse_scale
from .simulation import SCENARIOS, simulate

DEMO_REPORT = "metarouter_demo_report.html"

__all__ = ["demo_table", "main"]

logger = logging.getLogger("metarouter_stats")


def demo_table(
    *, rounds: int = 5, seed: int = 0, n_gold: int = 100, n_preference: int = 4400, n_test: int = 500,
    scenario: str = "paper", n_jobs: int | None = 1, progress: bool = False,
) -> pd.DataFrame:
    """The demo's table: mean EG per query at each rate, its area and the share of the test-label oracle's area.

    The demo is a study (:func:`~metarouter_stats.experiment.run_study`) with
    ``seeding="offset"``: round ``i`` simulates with ``rng=seed + i`` and seeds the routers
    with ``seed + i``.
    """
    config = StudyConfig(
        scenario=scenario, gold_sizes=(n_gold,), n_preference=n_preference, n_test=n_test, rounds=rounds,
        seed=seed, seeding="offset", name="demo",
    )
    df = run_study(config, n_jobs=n_jobs, progress=progress).frame
    order = list(dict.fromkeys(df["router"]))
    wide = df.pivot_table(index="router", columns="rate", values="per_query", aggfunc="mean").loc[order]
    wide.columns = [f"EG@{c:.1f}" for c in wide.columns]
    areas = df.groupby("router")[["auc", "auc_relative"]].mean().loc[order]
    areas.columns = ["area", "share_of_label_oracle"]
    return pd.concat([wide, areas], axis=1)


def _demo(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer; got {args.seed}.")
    if args.n_gold < 2 or args.n_preference < 2:
        raise ValueError(f"--n-gold and --n-preference must be at least 2 (both label sources are needed); got "
                         f"{args.n_gold} and {args.n_preference}.")
    if args.report != "none":
        from .report import check_output_file  # noqa: PLC0415

        check_output_file(args.report, "--report")
    print(f"metarouter demo: fitting {len(ROUTER_NAMES)} routers on {args.rounds} simulated round(s)...",
          file=sys.stderr, flush=True)
    table = demo_table(
        rounds=args.rounds, seed=args.seed, n_gold=args.n_gold, n_preference=args.n_preference,
        n_test=args.n_test, scenario=args.scenario, n_jobs=args.n_jobs, progress=not args.quiet,
    )
    print(
        f"metarouter_stats {__version__} demo: scenario={args.scenario!r}, n_gold={args.n_gold}, "
        f"n_preference={args.n_preference}, n_test={args.n_test}, rounds={args.rounds}, seed={args.seed}"
    )
    print("EG@rho: efficiency gain per test query (gold scale) when the share rho of queries goes")
    print("to the primary model; area: area under EG per query over rho in [0.2, 0.8];")
    print("share_of_label_oracle: that area relative to ranking by the noisy test gold labels themselves")
    print("(a ceiling no router reaches: ranking by the true gain scores below 1).")
    print(f"Mean over {args.rounds} round(s).\n")
    shown = table.copy()
    shown["area"] = shown["area"] / args.n_test
    print(shown.to_string(float_format=lambda v: f"{v:8.3f}"))
    if args.report != "none":
        from .report import build_report  # noqa: PLC0415

        _agg()
        study = simulate(n_gold=args.n_gold, n_preference=args.n_preference, n_test=args.n_test,
                         scenario=args.scenario, rng=args.seed)
        rep = build_report(study, rng=args.seed, title="metarouter demo: one simulated round", progress=not args.quiet,
                     config={"command": "metarouter demo", "round": 0, "seed": args.seed, "rounds": args.rounds})
        rep.section(f"The demo table: mean over {args.rounds} round(s)")
        rep.paragraph("The table printed by the command (area per test query); the sections above show round 0.")
        rep.table(shown.reset_index())
        path = rep.save(args.report)
        print(f"\nHTML report of round 0 (figures embedded): {path.resolve()}")
    return 0


def _local_file(path: str, option: str) -> str:
    """Refuse URLs (pandas would download them): only local files are read."""
    if "://" in path or path.startswith(("http:", "https:", "ftp:", "s3:", "gs:")):
        raise ValueError(f"{option} must be a local file path; got the URL {path!r}. Download it first.")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{option} {path!r} is not a file.")
    return path


def _agg() -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")


def _read_data(args: argparse.Namespace) -> Any:
    """The RoutingData of ``--data`` and its column options."""
    from .data import RoutingData  # noqa: PLC0415

    frame = pd.read_csv(_local_file(args.data, "--data"))
    names = _models(args, ("primary", "alternative")) if hasattr(args, "primary") else ("primary", "alternative")
    return RoutingData.from_frame(frame, features=args.features, outcome=args.outcome, source=args.source,
                                  query_id=args.query_id, model_names=names)


def _report(args: argparse.Namespace) -> int:
    from .report import build_report, check_output_file  # noqa: PLC0415

    _agg()
    sources = [x for x in (args.study_dir, args.data, args.judgments, args.mtbench, args.pandalm) if x]
    sources += ["simulate"] if args.simulate else []
    if len(sources) != 1:
        raise ValueError("Give exactly one of: a study folder, --simulate, --data CSV, --judgments FILE, "
                         "--mtbench FOLDER or --pandalm FOLDER.")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer; got {args.seed}.")
    check_output_file(args.out, "--out")
    costs = _costs(args)
    common = dict(rng=args.seed, n_boot=args.n_boot, confidence_level=args.confidence_level, progress=not args.quiet,
                  plan=args.plan, scale=parse_scale(args.scale), **costs)
    if args.study_dir:
        if costs:
            raise ValueError("--price, --tokens-in and --tokens-out apply to analysis reports, not to a study folder.")
        rep = build_report(args.study_dir)
    elif args.simulate:
        study = simulate(n_gold=args.n_gold, n_preference=args.n_preference, n_test=args.n_test,
                         scenario=args.scenario, rng=args.seed)
        _check_priced(costs, study.train.model_names)
        rep = build_report(study, config={"scenario": args.scenario, "n_gold": args.n_gold,
                                    "n_preference": args.n_preference, "n_test": args.n_test}, **common)
    else:
        data, config, title = _read_real(args)
        _check_priced(costs, data.model_names)
        rep = build_report(data, holdout=args.holdout or None, title=title, config=config, **common)
    path = rep.save(args.out)
    print(f"HTML report ({len(rep.figures)} figures embedded): {path.resolve()}")
    return 0


def _read_real(args: argparse.Namespace) -> tuple[Any, dict[str, Any], str | None]:
    """(RoutingData, settings to record, report title) of --data, --mtbench, --pandalm or --judgments."""
    if getattr(args, "data", None):  # `judges` has no --data
        return _read_data(args), {"data": args.data}, None
    if getattr(args, "mtbench", None) or args.pandalm:
        judg = _load_benchmark(args)
        return (judg.data, {"data": judg.source, "primary": judg.primary, "alternative": judg.alternative,
                            **judg.counts}, f"Meta-router analysis of {judg.source}")
    from .datasets import from_judgments  # noqa: PLC0415

    if not (args.primary and args.alternative and args.texts):
        raise ValueError("--judgments needs --primary, --alternative and --texts (a CSV with query_id and text columns).")
    _local_file(args.judgments, "--judgments")
    texts = pd.read_csv(_local_file(args.texts, "--texts"), dtype=str, keep_default_na=False)
    missing = [c for c in ("query_id", "text") if c not in texts.columns]
    if missing:
        raise ValueError(f"{args.texts}: missing column(s) {missing}; --texts needs query_id and text columns.")
    dup = texts["query_id"][texts["query_id"].duplicated()]
    if len(dup):
        line = int(dup.index[0]) + 2  # the header is line 1
        raise ValueError(f"{args.texts}:{line}: query_id {dup.iloc[0]!r} appears more than once; give one text per query.")
    judg = from_judgments(args.judgments, primary=args.primary, alternative=args.alternative,
                          texts=dict(zip(texts["query_id"], texts["text"], strict=True)),
                          dim=args.dim, embedding=args.embedding)
    return judg.data, {"judgments": args.judgments, **judg.counts}, None


def _models(args: argparse.Namespace, default: tuple[str, str]) -> tuple[str, str]:
    """(primary, alternative) from the options, each defaulting to the loader's choice."""
    return (args.primary or default[0], args.alternative or default[1])


def _load_benchmark(args: argparse.Namespace) -> Any:
    """The Judgments of ``--mtbench`` or ``--pandalm`` (a folder of the published files)."""
    from .datasets import load_mtbench, load_pandalm  # noqa: PLC0415

    folder = args.mtbench or args.pandalm
    option = "--mtbench" if args.mtbench else "--pandalm"
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{option} {folder!r} is not a folder; give the folder that holds the published files.")
    if args.texts:
        raise ValueError(f"--texts applies to --judgments; {option} reads the texts from its folder.")
    if args.mtbench:
        if args.judge:
            raise ValueError("--judge applies to --pandalm; MT-Bench's preference labels are GPT-4's.")
        primary, alternative = _models(args, ("gpt-4", "gpt-3.5-turbo"))
        return load_mtbench(folder, primary, alternative, dim=args.dim, embedding=args.embedding)
    primary, alternative = _models(args, ("llama-7b", "bloom-7b"))
    return load_pandalm(folder, primary, alternative, judge=args.judge or "gpt-3.5-turbo", dim=args.dim,
                        embedding=args.embedding)


def _price(text: str) -> tuple[str, Any]:
    """``MODEL=INPUT:OUTPUT[:PER_CALL]`` -> (model, TokenCost)."""
    from .decision import TokenCost  # noqa: PLC0415

    model, sep, prices = text.rpartition("=")
    parts = prices.split(":")
    if not sep or not model or len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(
            f"expected MODEL=INPUT:OUTPUT[:PER_CALL] ($ per million input / output tokens, flat $ per call), "
            f"e.g. gpt-4=30:60; got {text!r}")
    try:
        values = [float(v) for v in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"prices in {text!r} must be numbers, e.g. gpt-4=30:60") from None
    try:
        return model, TokenCost(*values)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None


def _costs(args: argparse.Namespace) -> dict[str, Any]:
    """build_report's ``costs``, ``n_in`` and ``n_out`` from --price / --tokens-in / --tokens-out."""
    if not args.price:
        if args.tokens_in is not None or args.tokens_out is not None:
            raise ValueError("--tokens-in / --tokens-out need prices: give --price MODEL=INPUT:OUTPUT for both models.")
        return {}
    costs = dict(args.price)
    if len(costs) != len(args.price):
        raise ValueError("--price names a model twice; give one price per model.")
    if args.tokens_in is None or args.tokens_out is None:
        raise ValueError("--price needs the token counts per query: --tokens-in N and --tokens-out N.")
    return {"costs": costs, "n_in": args.tokens_in, "n_out": args.tokens_out}


def _check_priced(costs: dict[str, Any], models: tuple[str, str]) -> None:
    """Every model of the data has a --price, and every --price names a model of the data."""
    if not costs:
        return
    priced = set(costs["costs"])
    if priced != set(models):
        raise ValueError(f"--price must name exactly the data's two models {list(models)}; got prices for {sorted(priced)}.")


def _nonnegative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0; got {text!r}")
    return value


def _plan(args: argparse.Namespace) -> int:
    from .planning import plan_gold  # noqa: PLC0415

    sources = [x for x in (args.data, args.judgments, args.mtbench, args.pandalm) if x]
    if len(sources) + bool(args.simulate) != 1:
        raise ValueError("Give exactly one of: --data CSV (the pilot), --judgments FILE, --mtbench FOLDER, --pandalm FOLDER "
                         "or --simulate.")
    if args.simulate:
        data = simulate(n_gold=args.n_gold, n_preference=args.n_preference, n_test=1, scenario=args.scenario,
                        rng=args.seed).train
    else:
        data = _read_real(args)[0]
    scale = parse_scale(args.scale)
    plan = plan_gold(data, scale=scale, paired=True if args.paired else None, effect=args.effect,
                     target_half_width=args.target_half_width, target_power=args.target_power)
    print(plan.summary())
    if args.heterogeneity:
        from .planning import plan_heterogeneity  # noqa: PLC0415
        from .routers import MetaRouter  # noqa: PLC0415

        router = MetaRouter(scale=scale, random_state=args.seed).fit(data)
        print()
        print(plan_heterogeneity(router, target_power=args.target_power, rng=args.seed).summary())
    if args.figure:
        if Path(args.figure).is_dir() or Path(args.figure).suffix.lower() != ".png":
            raise ValueError(f"--figure {args.figure!r} must be a PNG file name (ending in .png), not a folder.")
        _agg()
        ax = plan.plot()
        save_figure(ax.figure, Path(args.figure), dpi=120, bbox_inches="tight")
        print(f"figure: {args.figure}")
    return 0


def _judge_price(text: str) -> tuple[str, float]:
    """``JUDGE=PRICE`` -> (judge, price per label)."""
    judge, sep, price = text.rpartition("=")
    try:
        value = float(price)
    except ValueError:
        value = float("nan")
    if not sep or not judge or not value > 0:
        raise argparse.ArgumentTypeError(f"expected JUDGE=PRICE with a positive price per label, e.g. gpt-4=0.01; got {text!r}")
    return judge, value


def _judges(args: argparse.Namespace) -> int:
    from .planning import compare_judges, judge_training_worth  # noqa: PLC0415
    from .report import check_output_file, judges_report  # noqa: PLC0415

    if args.mtbench:
        raise ValueError("MT-Bench has one judge (GPT-4): compare it with gold by `metarouter report --mtbench`.")
    if args.judge:
        raise ValueError("--judge picks one PandaLM judge for `report` and `plan`; `judges` compares both.")
    sources = [x for x in (args.judgments, args.pandalm) if x] + (["simulate"] if args.simulate else [])
    if len(sources) != 1:
        raise ValueError("Give exactly one of: --pandalm FOLDER, --judgments FILE (its mechanism column naming each "
                         "preference vote's judge) or --simulate.")
    out = check_output_file(args.out, "--out") if args.out else None
    if args.simulate:
        from .simulation import simulate_judges  # noqa: PLC0415

        data = simulate_judges(n_gold=args.n_gold, n_queries=args.n_queries, n_test=1, rng=args.seed).train
        where = (f"Simulated judges (simulate_judges: strong, cheap, twin), {args.n_gold} gold labels, "
                 f"{args.n_queries} queries per judge, seed {args.seed}.")
    elif args.pandalm:
        from .datasets import load_pandalm  # noqa: PLC0415

        if not Path(args.pandalm).is_dir():
            raise FileNotFoundError(f"--pandalm {args.pandalm!r} is not a folder; give the folder that holds the published files.")
        primary, alternative = _models(args, ("llama-7b", "bloom-7b"))
        judg = load_pandalm(args.pandalm, primary, alternative, judge=("gpt-3.5-turbo", "pandalm-7b"), dim=args.dim,
                            embedding=args.embedding)
        data = judg.data
        where = f"{judg.source}: {primary} vs {alternative}, gold = the annotators' majority."
    else:
        data = _read_real(args)[0]
        where = f"{args.judgments}: {args.primary} vs {args.alternative}."
    if data.mechanism is None or len(data.judges) < 1:
        raise ValueError("The votes name no judge: give each preference vote's judge in the mechanism column "
                         "(e.g. gpt-4, crowd) instead of 'preference'.")
    costs = dict(args.cost) if args.cost else None
    cmp = compare_judges(data, scale=parse_scale(args.scale), costs=costs, gold_cost=args.gold_cost,
                         per_labels=args.per_labels, heterogeneity=not args.no_heterogeneity, n_boot=args.n_boot,
                         rng=args.seed)
    print(cmp.summary())
    training = None
    if args.training:
        training = judge_training_worth(data, combined=len(data.judges) > 1, per_labels=args.per_labels,
                                        n_repeats=args.training_repeats,
                                        n_boot=args.n_boot, rng=args.seed, n_jobs=args.n_jobs)
        print()
        print(training.summary())
    if out is not None:
        _agg()
        path = judges_report(cmp, description=where, training=training).save(out)
        print(f"report: {path}")
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
    # -v also after the subcommand: SUPPRESS keeps the top-level value when it is not repeated there
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", parents=[common], help="simulate the paper-like study, fit all routers, print the EG table")
    demo.add_argument("--rounds", type=_positive_int, default=5, help="simulation rounds to average (default 5)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the first round (default 0)")
    demo.add_argument("--n-gold", type=_positive_int, default=100, help="gold-labelled training rows per round (default 100)")
    demo.add_argument("--n-preference", type=_positive_int, default=4400, help="preference-labelled training rows per round (default 4400)")
    demo.add_argument("--n-test", type=_positive_int, default=500, help="gold-labelled test queries per round (default 500)")
    demo.add_argument("--scenario", choices=SCENARIOS, default="paper", help="simulation scenario (default paper)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--n-jobs", type=int, default=1,
                      help="rounds run in parallel (default 1; the table is the same for any value)")
    demo.add_argument("--report", default=DEMO_REPORT,
                      help=f"HTML report of round 0 (default {DEMO_REPORT}; 'none' to skip)")
    demo.set_defaults(func=_demo)
    study = sub.add_parser("study", parents=[common], help="run a Monte Carlo study from a TOML config (resumable)")
    study.add_argument("config", help="TOML file, or the name of a shipped config: " + ", ".join(study_configs()))
    study.add_argument("--out", required=True, help="output directory (checkpoints, results.csv, figure)")
    study.add_argument("--n-jobs", type=int, default=1, help="joblib workers (default 1; -1 = all cores)")
    study.add_argument("--scheduler", default=None, help="Dask scheduler address: run the rounds on that cluster")
    study.add_argument("--quiet", action="store_true", help="no progress bar")
    study.set_defaults(func=_study)
    # a CSV of routing data, read the same way by `report` and `plan`
    csv = argparse.ArgumentParser(add_help=False)
    csv.add_argument("--data", help="CSV of routing data: feature columns, outcome, source (1/0 or gold/preference)")
    csv.add_argument("--features", default="x", help="prefix of the feature columns in --data (default 'x')")
    csv.add_argument("--outcome", default="outcome", help="outcome (gain) column in --data (default 'outcome')")
    csv.add_argument("--source", default="source", help="source column in --data: 1 / gold or 0 / preference (default 'source')")
    csv.add_argument("--query-id", default=None, help="query id column in --data (pairs gold and preference labels)")
    # real judgments: votes, MT-Bench, PandaLM, read the same way by `report` and `plan`
    real = argparse.ArgumentParser(add_help=False)
    real.add_argument("--judgments", help="long-format votes (.csv, .jsonl, .json): query_id, mechanism, model_a, model_b, winner")
    real.add_argument("--mtbench", metavar="FOLDER",
                     help="MT-Bench folder (human.jsonl, gpt4_pair.jsonl, question.jsonl): human experts' votes as gold, "
                          "GPT-4's as preference labels")
    real.add_argument("--pandalm", metavar="FOLDER",
                     help="PandaLM folder (testset-v1.json and the judge's file): annotators' majority as gold, "
                          "the --judge's verdicts as preference labels")
    real.add_argument("--judge", choices=("gpt-3.5-turbo", "pandalm-7b"), default=None,
                     help="--pandalm: the judge whose verdicts are the preference labels (default gpt-3.5-turbo)")
    real.add_argument("--primary", help="primary model (required with --judgments; default gpt-4 for --mtbench, "
                                       "llama-7b for --pandalm)")
    real.add_argument("--alternative", help="alternative model (required with --judgments; default gpt-3.5-turbo "
                                           "for --mtbench, bloom-7b for --pandalm)")
    real.add_argument("--texts", help="CSV with query_id and text columns for --judgments")
    real.add_argument("--embedding", choices=("tfidf-svd", "sentence"), default="tfidf-svd",
                     help="text embedding of --judgments, --mtbench, --pandalm (default tfidf-svd; "
                          "'sentence' needs the sentence extra)")
    real.add_argument("--dim", type=_positive_int, default=20,
                     help="embedding dimension for --judgments, --mtbench, --pandalm (default 20)")
    real.add_argument("--scale", default=SCALE_DEFAULT,
                      help="the constant c putting gold labels on the preference scale: a number (1: both labels on one "
                           "scale, e.g. the same rubric or vote coding; 'none' = 1), or how to choose it: "
                           + ", ".join(SCALE_CHOICES) + " (default auto: 1 when the data declare one scale, as the "
                           "vote loaders do; variance matching on the pairs on paired data, on every label otherwise)")
    rep = sub.add_parser("report", parents=[common, csv, real], help="write a self-contained HTML report (study folder, simulation, CSV or votes)")
    rep.add_argument("study_dir", nargs="?", help="output folder of `metarouter study`")
    rep.add_argument("--out", required=True, help="HTML file to write")
    rep.add_argument("--simulate", action="store_true", help="analyse one simulated study")
    rep.add_argument("--scenario", choices=SCENARIOS, default="paper", help="--simulate: scenario (default paper)")
    rep.add_argument("--n-gold", type=_positive_int, default=100, help="--simulate: gold-labelled training rows (default 100)")
    rep.add_argument("--n-preference", type=_positive_int, default=4400, help="--simulate: preference-labelled rows (default 4400)")
    rep.add_argument("--n-test", type=_positive_int, default=500, help="--simulate: gold-labelled test queries (default 500)")
    rep.add_argument("--price", type=_price, action="append", metavar="MODEL=IN:OUT[:CALL]",
                     help="token prices of one model ($ per million input / output tokens, optional flat $ per call); "
                          "give it for both models to add the cost-quality section, e.g. --price gpt-4=30:60 "
                          "--price gpt-3.5-turbo=0.5:1.5")
    rep.add_argument("--tokens-in", type=_nonnegative_float, default=None,
                     help="--price: input tokens per query (the same for both models)")
    rep.add_argument("--tokens-out", type=_nonnegative_float, default=None,
                     help="--price: output tokens per query (the same for both models)")
    rep.add_argument("--holdout", type=float, default=None,
                     help="real data: hold out this share of the gold queries as the test set; default (or 0): no "
                          "hold-out, the routers are evaluated by 5-fold cross-fitting over every query with the "
                          "judge's corrected labels as pseudo-gold (prediction-powered)")
    rep.add_argument("--seed", type=int, default=0, help="seed of every fit, split and bootstrap (default 0)")
    rep.add_argument("--n-boot", type=_positive_int, default=500, help="bootstrap replicates of every band (default 500)")
    rep.add_argument("--confidence-level", type=float, default=0.95, help="level of every interval (default 0.95)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.add_argument("--plan", action="store_true",
                     help="add the section 'How many gold labels?' (plan_gold and the routing learning curve)")
    rep.set_defaults(func=_report)
    plan = sub.add_parser("plan", parents=[common, csv, real],
                          help="how many gold labels to buy: mean-bias precision and t-test power by gold size (--data: the pilot)")
    plan.add_argument("--simulate", action="store_true", help="plan from a simulated pilot")
    plan.add_argument("--scenario", choices=SCENARIOS, default="paper", help="--simulate: scenario (default paper)")
    plan.add_argument("--n-gold", type=_positive_int, default=100, help="--simulate: pilot gold labels (default 100)")
    plan.add_argument("--n-preference", type=_positive_int, default=4400, help="--simulate: preference labels (default 4400)")
    plan.add_argument("--seed", type=int, default=0, help="--simulate: seed (default 0)")
    plan.add_argument("--paired", action="store_true",
                      help="plan the paired test (both labels on the same queries); default: paired when the pilot "
                           "has at least 3 queries labelled by both mechanisms (query ids)")
    plan.add_argument("--effect", type=float, default=None, help="mean bias (gold scale) for the power (default: the pilot's)")
    plan.add_argument("--target-half-width", type=float, default=None, help="half-width of the mean-bias interval to reach")
    plan.add_argument("--target-power", type=float, default=0.8, help="power to reach (default 0.8)")
    plan.add_argument("--figure", default=None, help="PNG file for the planning figure")
    plan.add_argument("--heterogeneity", action="store_true",
                      help="also plan the power of the heterogeneity test (fits the Meta-router on the pilot)")
    plan.set_defaults(func=_plan)
    judges = sub.add_parser("judges", parents=[common, real],
                            help="which judge to pay for: each judge's bias against gold and its worth in gold labels")
    judges.add_argument("--simulate", action="store_true", help="compare the simulated panel (strong, cheap, twin)")
    judges.add_argument("--n-gold", type=_positive_int, default=100, help="--simulate: gold labels (default 100)")
    judges.add_argument("--n-queries", type=_positive_int, default=2000, help="--simulate: queries per judge (default 2000)")
    judges.add_argument("--cost", type=_judge_price, action="append", metavar="JUDGE=PRICE",
                        help="price of one label of a judge (give one per judge), e.g. --cost gpt-3.5-turbo=0.002")
    judges.add_argument("--gold-cost", type=float, default=1.0, help="price of one gold label (default 1)")
    judges.add_argument("--per-labels", type=_positive_int, default=1000, help="worth of this many judge labels (default 1000)")
    judges.add_argument("--n-boot", type=_positive_int, default=1000, help="bootstrap replicates (default 1000)")
    judges.add_argument("--seed", type=int, default=0, help="seed of every fit and bootstrap (default 0)")
    judges.add_argument("--no-heterogeneity", action="store_true", help="skip the heterogeneity test of each judge")
    judges.add_argument("--training", action="store_true",
                        help="also each judge's worth in gold labels for training a router (judge_training_worth: "
                             "refits on subsets of the gold labels, repeats x (about 11 + judges) fits)")
    judges.add_argument("--training-repeats", type=_positive_int, default=12,
                        help="--training: repeats (default 12)")
    judges.add_argument("--n-jobs", type=int, default=None, help="--training: joblib workers over the refits")
    judges.add_argument("--out", default=None, help="HTML report to write (optional)")
    judges.set_defaults(func=_judges)
    return parser


def _study(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    backend = "dask" if args.scheduler else "loky"
    print(f"study {config.name!r}: scenario {config.scenario}, {config.rounds} rounds x gold sizes "
          f"{list(config.gold_sizes)} = {config.n_tasks} tasks, routers {', '.join(config.routers)}; "
          f"{'Dask at ' + args.scheduler if args.scheduler else f'{args.n_jobs} worker(s)'}; checkpoints in {args.out} "
          "(finished tasks there are reused)", flush=True)
    result = run_study(config, out=args.out, n_jobs=args.n_jobs, backend=backend, scheduler=args.scheduler,
                       progress=not args.quiet)
    areas = result.area_summary()
    print(f"study {config.name!r}: {config.n_tasks} tasks; results in {args.out}/results.csv")
    print("Share of the test-label oracle's EG area (mean and Monte Carlo standard error):")
    print(areas.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    axes = result.plot()
    save_figure(axes[0].figure, Path(args.out) / "eg_curves.png", dpi=120)  # atomic: a planted link is replaced
    print(f"figure: {args.out}/eg_curves.png")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``metarouter`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError, ImportError, StudyInUseError) as exc:
        print(f"metarouter: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
