import numpy as np
import pandas as pd
import pytest

from metarouter_stats.cli import demo_table, main


def test_demo_table_small():
    table = demo_table(rounds=1, seed=0, n_gold=30, n_preference=300, n_test=100)
    assert list(table.index) == ["oracle", "meta-dr", "meta-r", "gold-only", "preference-only", "pooled", "mean-shift", "random"]
    assert [c for c in table.columns if c.startswith("EG@")] == [f"EG@{r / 10:.1f}" for r in range(2, 9)]


def test_study_command(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[study]\nrounds = 2\ngold_sizes = [20]\nn_preference = 200\nn_test = 50\nd = 6\nrouters = ["pooled", "random"]\n')
    assert main(["study", str(cfg), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "results.csv" in out and (tmp_path / "o" / "eg_curves.png").stat().st_size > 1000


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["study", "nope", "--out", str(tmp_path)]) == 2
    assert "neither a file nor a shipped config" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--rounds", "0"])


# `metarouter demo` (table and report) and `metarouter report` are tested in test_report.py


class _FakeTTY:
    """A stderr that says it is a terminal, to see tqdm's bar."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_study_progress_on_a_terminal_only(monkeypatch, tmp_path):
    import sys

    from metarouter_stats.experiment import StudyConfig, run_study

    cfg = StudyConfig(rounds=2, gold_sizes=(20,), n_preference=100, n_test=40, d=6, routers=("pooled", "random"))
    tty = _FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    run_study(cfg, progress=True)
    assert "/2" in "".join(tty.parts)  # tqdm's bar: tasks done of 2 (which counts it prints depends on timing)
    quiet = _FakeTTY()
    monkeypatch.setattr(sys, "stderr", quiet)
    run_study(cfg, progress=False)
    assert "".join(quiet.parts) == ""


def test_verbose_flag_works_before_and_after_the_subcommand_and_every_option_has_help():
    from metarouter_stats.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["demo", "-v"]).verbose and parser.parse_args(["-v", "demo"]).verbose
    assert not parser.parse_args(["demo"]).verbose
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"`metarouter {name} {action.option_strings[0]}` has no help text"


def test_plan_command(tmp_path, capsys):
    fig = tmp_path / "plan.png"
    assert main(["plan", "--simulate", "--n-gold", "60", "--n-preference", "600", "--target-half-width", "1.0",
                 "--figure", str(fig)]) == 0
    out = capsys.readouterr().out
    assert "gold labels for half-width 1" in out and "gold labels for power 0.8" in out and fig.is_file()
    assert main(["plan", "--simulate", "--n-gold", "60", "--n-preference", "600", "--heterogeneity"]) == 0
    assert "power of the heterogeneity (BLP) test by gold size" in capsys.readouterr().out
    assert main(["plan"]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_plan_reads_votes_detects_pairing_and_takes_a_scale(tmp_path, capsys):
    rng = np.random.default_rng(0)
    votes = pd.DataFrame({
        "query_id": [f"q{i}" for i in range(40) for _ in range(2)],
        "mechanism": ["gold", "preference"] * 40,
        "model_a": "big", "model_b": "small",
        "winner": rng.choice(["model_a", "model_b", "tie"], size=80, p=[0.5, 0.3, 0.2]),
    })
    votes.to_csv(tmp_path / "v.csv", index=False)
    pd.DataFrame({"query_id": [f"q{i}" for i in range(40)],
                  "text": [f"question {i} about {'math' if i % 2 else 'poetry'} topic{i % 7}" for i in range(40)]}
                 ).to_csv(tmp_path / "t.csv", index=False)
    base = ["plan", "--judgments", str(tmp_path / "v.csv"), "--primary", "big", "--alternative", "small",
            "--texts", str(tmp_path / "t.csv")]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "40 gold, 40 preference labels (paired); c = 1 (both labels declared on one scale" in out
    assert main([*base, "--scale", "variance"]) == 0
    assert "c = " in capsys.readouterr().out
    assert main([*base, "--scale", "1"]) == 0 and "given: scale=1.0" in capsys.readouterr().out
    assert main([*base, "--scale", "-2"]) == 2 and "positive" in capsys.readouterr().err


def test_study_never_follows_a_planted_link(tmp_path, capsys):
    import os

    cfg = tmp_path / "tiny.toml"
    cfg.write_text('name = "tiny"\nrounds = 1\ngold_sizes = [20]\nn_preference = 100\nn_test = 30\nd = 6\n'
                   'routers = ["gold-only", "random"]\n')
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.symlink(victim, out / "eg_curves.png")  # a link planted where the figure goes
    assert main(["study", str(cfg), "--out", str(out), "--quiet"]) == 0
    assert victim.read_text() == "keep me" and not (out / "eg_curves.png").is_symlink()
    assert (out / "eg_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a link planted as the rounds folder is refused, not followed
    out2 = tmp_path / "out2"
    out2.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out2 / "rounds")
    capsys.readouterr()
    assert main(["study", str(cfg), "--out", str(out2), "--quiet"]) == 2
    assert "is a symbolic link" in capsys.readouterr().err and not any(elsewhere.iterdir())


def test_judges_command_compares_simulated_judges_and_writes_its_report(tmp_path, capsys):
    out = tmp_path / "judges.html"
    code = main(["judges", "--simulate", "--n-gold", "40", "--n-queries", "200", "--no-heterogeneity", "--n-boot", "50",
                 "--cost", "strong=1", "--cost", "cheap=0.1", "--cost", "twin=0.3", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "strong: 1000 labels are worth" in text and out.is_file()
    assert main(["judges", "--simulate", "--pandalm", str(tmp_path)]) == 2
    assert "Give exactly one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["judges", "--simulate", "--cost", "strong"])
    assert "expected JUDGE=PRICE" in capsys.readouterr().err


def test_judges_command_prices_the_judges_for_training_too(tmp_path, capsys):
    out = tmp_path / "judges.html"
    code = main(["judges", "--simulate", "--n-gold", "50", "--n-queries", "200", "--no-heterogeneity", "--n-boot", "50",
                 "--training", "--training-repeats", "2", "--per-labels", "100", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "Worth of judge labels in gold labels, for training a router" in text
    assert "strong: 100 labels beside 10 gold are worth" in text
    html = out.read_text(encoding="utf-8")
    assert "Worth for training a router" in html and "censored" in html


def test_judges_command_on_pandalm(data_dir, tmp_path, capsys):
    import os
    import warnings

    out = tmp_path / "pandalm_judges.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["judges", "--pandalm", os.path.join(data_dir, "pandalm"), "--n-boot", "200", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "gpt-3.5-turbo: mean bias (gold - judge)" in text and "pandalm-7b" in text
    assert "gold labels (n)" in text and " 111" in text
    assert out.is_file()


def test_judges_command_reads_votes_that_name_their_judges(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows, texts = [], []
    for q in range(40):
        truth = rng.choice([-1, 0, 1])
        rows.append({"query_id": f"q{q}", "mechanism": "gold", "model_a": "big", "model_b": "small",
                     "winner": {1: "model_a", 0: "tie", -1: "model_b"}[truth]})
        for judge, flip in (("judge-a", 0.1), ("judge-b", 0.4)):
            v = truth if rng.random() > flip else rng.choice([-1, 0, 1])
            rows.append({"query_id": f"q{q}", "mechanism": judge, "model_a": "big", "model_b": "small",
                         "winner": {1: "model_a", 0: "tie", -1: "model_b"}[v]})
        texts.append({"query_id": f"q{q}", "text": f"question number {q} about topic {q % 5}"})
    pd.DataFrame(rows).to_csv(tmp_path / "votes.csv", index=False)
    pd.DataFrame(texts).to_csv(tmp_path / "texts.csv", index=False)
    code = main(["judges", "--judgments", str(tmp_path / "votes.csv"), "--texts", str(tmp_path / "texts.csv"),
                 "--primary", "big", "--alternative", "small", "--dim", "3", "--no-heterogeneity", "--n-boot", "100"])
    text = capsys.readouterr().out
    assert code == 0 and "judge-a: 1000 labels are worth" in text and "judge-b" in text
    pd.DataFrame(rows).replace({"judge-a": "preference", "judge-b": "preference"}).to_csv(tmp_path / "one.csv", index=False)
    assert main(["judges", "--judgments", str(tmp_path / "one.csv"), "--texts", str(tmp_path / "texts.csv"),
                 "--primary", "big", "--alternative", "small", "--dim", "3"]) == 2
    assert "name no judge" in capsys.readouterr().err
