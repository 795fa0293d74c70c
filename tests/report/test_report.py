"""The HTML report: embedded figures, the numbers it shows, study reports, the CLI."""

import base64
import contextlib
import html
import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import metarouter_stats as mrs  # noqa: E402
from metarouter_stats.cli import main  # noqa: E402
from metarouter_stats.experiment import StudyConfig, run_study  # noqa: E402
from metarouter_stats.experiment import StudyResult  # noqa: E402

COSTS = {"primary": mrs.TokenCost(30.0, 60.0), "alternative": mrs.TokenCost(0.5, 1.5)}


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.srcs.append(dict(attrs).get("src", ""))


def embedded_images(text):
    """Decode every <img> of an HTML page; fail unless each is an inline, non-blank PNG."""
    parser = _Images()
    parser.feed(text)
    images = []
    for src in parser.srcs:
        assert src.startswith("data:image/png;base64,"), src[:60]
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        img = mpimg.imread(io.BytesIO(png), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert float(img[..., :3].std()) > 0.01  # not a blank canvas
        images.append(img)
    return images, parser.tags


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    study = mrs.simulate(n_gold=60, n_preference=600, n_test=200, rng=3)
    out = tmp_path_factory.mktemp("rep") / "report.html"
    rep = mrs.build_report(study, out, costs=COSTS, n_in=300, n_out=400, n_boot=100, rng=5)
    return study, rep, out


def test_every_figure_is_embedded_and_non_empty(small_report):
    _, rep, out = small_report
    text = out.read_text(encoding="utf-8")
    images, tags = embedded_images(text)
    assert len(images) == len(rep.figures) == 5  # scale sensitivity, positivity, bias, EG, frontier
    # self-contained: no scripts, no external stylesheets or sources
    assert "script" not in tags and "link" not in tags
    assert not re.search(r'(src|href)="(https?:|file:|/)', text)
    for heading in ("Data", "Scale constant c", "t-test of the mean bias", "Positivity", "Delta_hat",
                    "Efficiency gain of every router", "Decisions under token costs", "Reproduction"):
        assert heading in text
    plain = html.unescape(text)
    assert f"<td>metarouter_stats</td>\n      <td>{mrs.__version__}</td>" in plain and '"rng": 5' in plain


def test_report_numbers_match_direct_calls(small_report):
    study, rep, _ = small_report
    train = study.train
    g, p = train.outcome[train.is_gold], train.outcome[~train.is_gold]
    direct = mrs.bias_ttest(g, p, paired=False, scale=1)
    shown = rep.results["bias_ttest"]["labels as given (c = 1)"]
    assert shown.statistic == pytest.approx(direct.statistic) and shown.p_value == pytest.approx(direct.p_value)
    # the meta-dr curve is that of an independently fitted router with the same seed
    router = mrs.MetaRouter(cate="dr", random_state=5).fit(train)
    curve = mrs.efficiency_gain(study.gold_test, router.predict_gain(study.X_test))
    np.testing.assert_allclose(rep.results["eg_curves"]["meta-dr"].gain, curve.gain)
    assert set(rep.results["eg_bands"]) == {"oracle", "meta-dr", "meta-r", "gold-only", "preference-only",
                                            "pooled", "mean-shift", "random"}
    band = rep.results["bias_band"]
    assert np.all(band.low <= band.high) and band.estimate.size == 200
    # the simulation's truth is inside the pointwise band for most test queries
    assert np.mean(band.covers(study.delta(study.X_test))) > 0.8
    sieve = rep.results["bias_band_sieve"]  # the band whose target is Delta(x) itself: wider, covers it too
    assert "Delta(x) itself" in sieve.target and np.mean(sieve.high - sieve.low) > np.mean(band.high - band.low)
    assert np.mean(sieve.covers(study.delta(study.X_test))) > 0.8
    assert rep.results["frontier"].areas["oracle"] >= rep.results["frontier"].areas.drop("oracle").max()


def test_same_seed_same_report_numbers():
    study = mrs.simulate(n_gold=40, n_preference=300, n_test=100, rng=1)
    routers = {"meta-r": mrs.MetaRouter(cate="r", random_state=0)}
    a = mrs.build_report(study, routers=routers, n_boot=40, rng=2)
    b = mrs.build_report(study, routers=routers, n_boot=40, rng=2)
    np.testing.assert_array_equal(a.results["bias_band"].high, b.results["bias_band"].high)
    np.testing.assert_array_equal(a.results["eg_bands"]["meta-r"].high, b.results["eg_bands"]["meta-r"].high)


def test_real_data_style_report_with_holdout():
    rng = np.random.default_rng(0)
    n = 120
    X = rng.normal(size=(n, 3))
    gold = X[:, 0] + rng.normal(size=n)
    pref = gold + 0.5 + rng.normal(scale=0.5, size=n)
    ids = np.arange(n).astype(str)
    data = mrs.RoutingData(np.vstack([X, X]), np.concatenate([gold, pref]), np.r_[np.ones(n), np.zeros(n)],
                           query_ids=np.concatenate([ids, ids]))
    train, X_test, gold_test = data.holdout_gold(0.25, rng=0)
    assert X_test.shape == (30, 3) and gold_test.shape == (30,) and train.n == 2 * (n - 30)
    held = [i for i in range(n) if not (train.query_ids == ids[i]).any()]  # both rows of a held-out query leave
    assert len(held) == 30
    np.testing.assert_allclose(np.sort(gold_test), np.sort(gold[held]))
    rep = mrs.build_report(data, holdout=0.25, n_boot=40, routers={"gold-only": mrs.GoldOnlyRouter(random_state=0)})
    assert "paired t" in rep.to_html()
    est = rep.results["bias_ttest"]["labels as given (c = 1)"].estimate
    assert est == pytest.approx(np.mean(gold - pref))  # the t-test uses every pair, held-out ones too
    assert len(rep.figures) == 4  # no costs: no frontier


def test_report_without_test_set_cross_fits_every_router():
    study = mrs.simulate(n_gold=40, n_preference=300, n_test=100, rng=1)
    rep = mrs.build_report(study.train, n_boot=30, routers={"gold-only": mrs.GoldOnlyRouter(random_state=0),
                                                            "preference-only": mrs.PreferenceOnlyRouter(random_state=0)})
    ev, cf = rep.results["router_evaluation"], rep.results["crossfit"]
    assert ev.names == ("meta-dr", "gold-only", "preference-only") and cf["unit"] == "row"
    assert ev.n_gold == 40 and cf["scores"]["meta-dr"].size == 340 and "eg_bands" not in rep.results
    rec = rep.results["recommendation"]
    assert 0.2 <= rec["rate"] <= 0.8 and rec["low"] <= rec["gain"] <= rec["high"]
    assert rec["vs_low"] <= rec["vs_judge"] <= rec["vs_high"]
    summary = " ".join(rep.results["summary"])
    words = ("Recommended: send" if rec["low"] > 0 else "No usage rate shows a gain")
    assert words in summary and f"{rec['rate']:.0%} of queries to the primary model" in summary
    assert "cross-fitted over 340 rows (40 with gold" in summary
    assert len(rep.figures) == 4


def test_report_errors(tmp_path):
    study = mrs.simulate(n_gold=40, n_preference=300, n_test=100, rng=1)
    with pytest.raises(TypeError, match=r"`obj` must be a RoutingData, a SimulatedStudy"):
        mrs.build_report([1, 2])
    with pytest.raises(ValueError, match=r"`holdout` splits real data"):
        mrs.build_report(study, holdout=0.2)
    with pytest.raises(TypeError, match=r"`test` must be a RoutingData"):
        mrs.build_report(study.train, test=np.zeros(3))
    with pytest.raises(ValueError, match=r"`test` must have 50 features"):
        mrs.build_report(study.train, test=(np.zeros((5, 2)), np.zeros(5)))
    with pytest.raises(ValueError, match=r"`routers` \['oracle'\] need gold labels for every training query"):
        mrs.build_report(study.train, test=(study.X_test, study.gold_test), routers={"oracle": mrs.OracleRouter()})
    with pytest.raises(FileNotFoundError, match=r"must be the --out folder of a finished study"):
        mrs.build_report(tmp_path)


def test_study_report(tmp_path):
    cfg = StudyConfig(rounds=2, gold_sizes=(20, 40), n_preference=200, n_test=60, d=6,
                      routers=("meta-dr", "pooled", "random"), name="tiny")
    result = run_study(cfg, out=tmp_path / "s", progress=False)
    rep = mrs.build_report(tmp_path / "s", tmp_path / "s.html")
    images, _ = embedded_images((tmp_path / "s.html").read_text())
    assert len(images) == len(rep.figures) == 2
    pd.testing.assert_frame_equal(rep.results["area_summary"], result.area_summary())
    assert "Rounds completed per gold size: 20 gold: 2, 40 gold: 2." in rep.to_html()
    assert StudyResult.load(tmp_path / "s").config == cfg
    assert main(["report", str(tmp_path / "s"), "--out", str(tmp_path / "cli.html")]) == 0
    assert len(embedded_images((tmp_path / "cli.html").read_text())[0]) == 2
    with pytest.raises(ValueError, match=r"apply to analysis reports"):
        mrs.build_report(result, costs=COSTS)


def test_report_command(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--simulate", "--n-gold", "30", "--n-preference", "300", "--n-test", "80",
                 "--n-boot", "30", "--out", str(out)]) == 0
    assert "figures embedded" in capsys.readouterr().out and len(embedded_images(out.read_text())[0]) == 4
    votes = pd.DataFrame({
        "query_id": [f"q{i}" for i in range(40) for _ in range(2)],
        "mechanism": ["gold", "preference"] * 40,
        "model_a": "big", "model_b": "small",
        "winner": np.random.default_rng(0).choice(["model_a", "model_b", "tie"], size=80),
    })
    votes.to_csv(tmp_path / "v.csv", index=False)
    pd.DataFrame({"query_id": [f"q{i}" for i in range(40)],
                  "text": [f"question {i} about {'math' if i % 2 else 'poetry'} {i % 7}" for i in range(40)]}
                 ).to_csv(tmp_path / "t.csv", index=False)
    assert main(["report", "--judgments", str(tmp_path / "v.csv"), "--primary", "big", "--alternative", "small",
                 "--texts", str(tmp_path / "t.csv"), "--n-boot", "30", "--out", str(tmp_path / "j.html")]) == 0
    assert (tmp_path / "j.html").stat().st_size > 10_000
    data = mrs.simulate(n_gold=60, n_preference=300, n_test=10, d=6, rng=2).train
    data.to_frame().to_csv(tmp_path / "d.csv", index=False)
    assert main(["report", "--data", str(tmp_path / "d.csv"), "--query-id", "query_id", "--n-boot", "30",
                 "--holdout", "0.3", "--out", str(tmp_path / "d.html")]) == 0
    assert "18 queries with gold labels" in (tmp_path / "d.html").read_text()  # 30 % of 60 gold held out
    # the default: no hold-out, every router cross-fitted over all 360 rows
    assert main(["report", "--data", str(tmp_path / "d.csv"), "--query-id", "query_id", "--n-boot", "30",
                 "--out", str(tmp_path / "d0.html")]) == 0
    assert "cross-fitted over 360 rows (60 with gold" in html.unescape((tmp_path / "d0.html").read_text())
    assert main(["report", "--out", str(out)]) == 2
    assert "Give exactly one of" in capsys.readouterr().err


def test_report_command_on_the_mtbench_and_pandalm_folders(tmp_path, capsys, data_dir):
    """`metarouter report --mtbench FOLDER` / `--pandalm FOLDER` read the published files directly."""
    from pathlib import Path

    root = Path(data_dir)
    out = tmp_path / "mt.html"
    assert main(["report", "--mtbench", str(root / "mtbench"), "--n-boot", "30", "--quiet", "--out", str(out),
                 "--price", "gpt-4=30:60", "--price", "gpt-3.5-turbo=0.5:1.5",
                 "--tokens-in", "400", "--tokens-out", "300"]) == 0
    text = out.read_text()
    assert "Meta-router analysis of MT-Bench" in text and "Summary: what the data say" in text
    assert "Decisions under token costs" in text and "AIQ" in text
    assert main(["report", "--pandalm", str(root / "pandalm"), "--judge", "pandalm-7b", "--primary", "llama-7b",
                 "--alternative", "opt-7b", "--n-boot", "30", "--quiet", "--out", str(tmp_path / "pl.html")]) == 0
    text = html.unescape((tmp_path / "pl.html").read_text())
    assert "judge pandalm-7b" in text and "'llama-7b', alternative 'opt-7b'" in text
    capsys.readouterr()
    # a price for a model the data do not have names both sides
    assert main(["report", "--mtbench", str(root / "mtbench"), "--price", "gpt-4=30:60", "--price", "claude=8:24",
                 "--tokens-in", "1", "--tokens-out", "1", "--out", str(tmp_path / "x.html")]) == 2
    assert "--price must name exactly the data's two models ['gpt-4', 'gpt-3.5-turbo']" in capsys.readouterr().err
    assert main(["report", "--mtbench", str(root / "mtbench"), "--judge", "pandalm-7b",
                 "--out", str(tmp_path / "x.html")]) == 2
    assert "--judge applies to --pandalm" in capsys.readouterr().err


def test_report_command_option_errors(tmp_path, capsys):
    out = str(tmp_path / "x.html")
    for argv, message in [
        (["--mtbench", str(tmp_path / "none")], "--mtbench"),
        (["--simulate", "--price", "gpt-4=30"], "expected MODEL=INPUT:OUTPUT[:PER_CALL]"),
        (["--simulate", "--price", "gpt-4=a:1"], "must be numbers"),
        (["--simulate", "--price", "gpt-4=-1:1"], "input_price"),
        (["--simulate", "--price", "primary=1:2", "--price", "alternative=0:1"], "--tokens-in N and --tokens-out N"),
        (["--simulate", "--tokens-in", "3"], "--tokens-in / --tokens-out need prices"),
        (["--simulate", "--tokens-in", "-3"], "must be a number >= 0"),
        (["--simulate", "--mtbench", str(tmp_path)], "Give exactly one of"),
    ]:
        with contextlib.suppress(SystemExit):  # argparse's own errors exit with code 2
            assert main(["report", *argv, "--out", out]) == 2
        assert message in capsys.readouterr().err, argv


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    """`metarouter demo` on small settings: (path of its HTML report, what it printed)."""
    import contextlib

    out = tmp_path_factory.mktemp("demo") / "demo.html"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["demo", "--rounds", "1", "--n-gold", "30", "--n-preference", "300", "--n-test", "100",
                     "--report", str(out)])
    assert code == 0
    return out, buf.getvalue()


def test_demo_writes_report(demo_report):
    out, printed = demo_report
    assert "meta-dr" in printed and "share_of_label_oracle" in printed  # the table
    assert str(out.resolve()) in printed
    images, _ = embedded_images(out.read_text())
    assert len(images) == 5 - 1  # no costs in the demo: scale sensitivity, positivity, bias, EG


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.parametrize("which", ["demo", "with-costs"])
def test_report_renders_in_headless_chromium(which, demo_report, small_report, tmp_path):
    """Chromium loads the page and every <img> decodes to a visible figure (no script in the report itself)."""
    browser = os.environ.get("METAROUTER_CHROMIUM") or _chromium()
    if not browser:
        pytest.skip("no Chromium found (Debian package `chromium`; .ci/run installs it when it can)")
    out = demo_report[0] if which == "demo" else small_report[2]
    n_figures = len(embedded_images(out.read_text(encoding="utf-8"))[0])
    probe = tmp_path / "probe.html"
    check = ('<script>window.addEventListener("load",()=>{const s=[...document.images].map(i=>'
             '(i.complete&&i.naturalWidth>0&&i.getBoundingClientRect().height>50)?"ok":"bad");'
             'document.body.setAttribute("data-figures",s.join(","));});</script></body>')
    probe.write_text(out.read_text(encoding="utf-8").replace("</body>", check))
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'data-figures="([^"]*)"', dom)
    assert found, "Chromium did not finish loading the report"
    assert found.group(1).split(",") == ["ok"] * n_figures


def test_format_number_rules():
    from metarouter_stats.report._html import format_number

    assert format_number(0.00001, pvalue=True) == "<1e-4"
    assert format_number(0.0123, pvalue=True) == "0.0123"
    assert format_number(129.0) == "129"
    assert format_number(2.5e-6) == "2.50e-06"
    assert format_number(0.1234, 3) == "0.123"
    assert format_number(float("nan")) == ""
    assert format_number(0.0) == "0"


def test_report_opens_with_a_summary_that_decides():
    import warnings

    s = mrs.simulate(n_gold=80, n_preference=800, n_test=200, rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = mrs.build_report(s, n_boot=30, progress=False)
    text = rep.to_html()
    first_h2 = text.find("<h2>")
    assert text[first_h2:first_h2 + 40].startswith("<h2>Summary")
    summary = " ".join(rep.results["summary"])
    assert "gold units" in summary and "heterogeneity test p" in summary and "<p>" not in summary
    assert any(w in summary for w in ("Route with", "beats", "no router is distinguishable"))
    assert "router_comparisons" in rep.results and len(rep.results["router_comparisons"]) >= 1


def test_summary_says_how_many_gold_labels_would_sharpen_an_undecided_bias():
    import warnings

    s = mrs.simulate(n_gold=60, n_preference=600, n_test=200, d=8, scenario="no_bias", rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = mrs.build_report(s, n_boot=30, rng=0, progress=False)
    summary = " ".join(rep.results["summary"])
    plan = rep.results["gold_plan"]
    assert "No mean bias detected" in summary and "Halving that interval" in summary
    assert f"{plan.n_for_half_width[0]:.0f} gold labels" in summary and plan.n_for_half_width[0] > 2 * 60


def test_report_plan_section_on_request():
    import warnings

    s = mrs.simulate(n_gold=60, n_preference=300, n_test=100, d=6, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = mrs.build_report(s, n_boot=30, rng=0, progress=False, plan=True)
    html = rep.to_html()
    assert "How many gold labels?" in html and "gold_learning_curve" in html
    assert rep.results["gold_learning_curve"].sizes.size == 16
    het_plan = rep.results["heterogeneity_plan"]
    assert "plan_heterogeneity" in html and het_plan.n_gold_pilot == 60
    assert np.isfinite(het_plan.noncentrality) and het_plan.power.size == 20


def test_summary_calls_wins_losses_and_ties_what_they_are():
    from metarouter_stats.report.verdicts import verdicts as _verdicts

    lines = " ".join(_verdicts("meta-dr", ["random"], ["gold-only"], ["meta-r"], "on 100 test queries"))
    assert "meta-dr beats random" in lines
    assert "meta-dr loses to meta-r" in lines and "prefer it over meta-dr" in lines
    assert "cannot be told from gold-only" in lines and "meta-r" not in lines.split("cannot be told from")[1]
    only_losses = " ".join(_verdicts("meta-dr", [], [], ["meta-r", "pooled"], "on 30 test queries"))
    assert "loses to meta-r, pooled" in only_losses and "cannot be told" not in only_losses
    assert " ".join(_verdicts("m", ["a", "b"], [], [], "here")).startswith("Route with m")
    assert "the data cannot tell which router to use" in " ".join(_verdicts("m", [], ["a"], [], "here"))


def test_bias_headline_names_its_c_and_the_plan_counts_the_same_rows():
    import warnings

    s = mrs.simulate(n_gold=60, n_preference=300, n_test=80, d=6, design="paired", rng=4)
    d = s.train
    shared = mrs.RoutingData(d.X, d.outcome, d.source, query_ids=d.query_ids, shared_scale=True)
    for data, words in ((d, "variance matching on the queries that carry both labels, 60 pairs"),
                        (shared, "c = 1 (both labels declared on one scale")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = mrs.build_report(data, holdout=0.3, n_boot=30, rng=0, progress=False)
        summary = " ".join(rep.results["summary"])
        assert words in summary, summary
        test = list(rep.results["bias_ttest"].values())[-1]
        assert test.n_gold == 60 and rep.results["gold_plan"].n_gold_pilot == 60  # the same 60 pairs
        assert rep.results["scale_choice"].value == test.scale


@pytest.mark.realdata
def test_mtbench_report_quotes_the_readme_bias_at_c_one(tmp_path, data_dir):
    """MT-Bench's expert and GPT-4 votes share one coding: the default report headlines the bias at c = 1."""
    from pathlib import Path

    judg = mrs.datasets.load_mtbench(Path(data_dir) / "mtbench", "gpt-4", "gpt-3.5-turbo")
    res = mrs.bias_ttest(judg.data)
    assert res.scale == 1.0 and round(res.estimate, 3) == -0.369
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "-0.369" in readme and "-0.482" not in readme
    out = tmp_path / "mt.html"
    assert main(["report", "--mtbench", str(Path(data_dir) / "mtbench"), "--n-boot", "30", "--quiet",
                 "--out", str(out)]) == 0
    text = html.unescape(out.read_text())
    assert "mean bias -0.369 gold units" in text and "at c = 1 (both labels declared on one scale" in text


def test_reports_respect_the_umask_and_refuse_other_suffixes(tmp_path):
    import stat

    rep = mrs.report.Report("t")
    rep.paragraph("x")
    old = os.umask(0o022)
    try:
        path = rep.save(tmp_path / "r.html")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by others, as open() would make it
        os.umask(0o077)
        path = rep.save(tmp_path / "private.html")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    for bad in ("r.pdf", "r.txt", "r"):
        with pytest.raises(ValueError, match="ending in .html"):
            rep.save(tmp_path / bad)
    assert main(["report", "--simulate", "--out", str(tmp_path / "x.pdf")]) == 2


def test_report_on_several_judges_compares_each_and_routes_with_one_bias_per_judge():
    """Multi-judge data: the pooled sections stay (one preference mechanism), and the report says so, lists each
    judge's rows, compares each judge with gold (the numbers of compare_judges on the same data and seed) and adds
    the multi-judge Meta-router to the compared routers."""
    sim = mrs.simulate_judges(n_gold=80, n_queries=300, n_test=200, d=6, rng=3)
    rep = mrs.build_report(sim.train, test=(sim.X_test, sim.gold_test), n_boot=50, progress=False)
    data = rep.results["data_summary"]
    assert list(data["mechanism"]) == ["gold", "judge: strong", "judge: cheap", "judge: twin",
                                       "preference (all judges)"]
    assert list(data["rows"]) == [80, 300, 300, 300, 900]
    cmp = rep.results["judges"]
    assert isinstance(cmp, mrs.JudgeComparison)
    seed = int(np.random.SeedSequence(0).spawn(5)[2].generate_state(1)[0])  # the report's heterogeneity seed
    direct = mrs.compare_judges(sim.train, heterogeneity=False, n_boot=50, rng=seed)
    pd.testing.assert_frame_equal(cmp.frame, direct.frame)
    assert "meta-judges" in rep.results["eg_bands"]
    assert rep.results["summary"][0].startswith("Several judges (strong, cheap, twin): the bias verdict below pools")
    page = rep.to_html()
    assert "Several judges: each judge" in page and "MultiJudgeRouter" in page
    one = mrs.simulate_judges(n_gold=80, n_queries=300, n_test=50, d=6, judges=sim.judges[:1], rng=3)
    single = mrs.build_report(one.train, test=(one.X_test, one.gold_test), n_boot=50, progress=False)
    assert "judges" not in single.results and "meta-judges" not in single.results["eg_bands"]
