import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metarouter_stats as mrs
from metarouter_stats import experiment
from metarouter_stats.experiment import StudyConfig, load_config, run_study, study_configs

TINY = dict(
    rounds=3, gold_sizes=(20, 40), n_preference=200, n_test=60, d=6,
    routers=("meta-dr", "pooled", "gold-only", "random"), seed=5,
)


def _strip(frame):
    return frame.drop(columns="fit_seconds").sort_values(["round", "n_gold", "router", "evaluation", "rate"]).reset_index(drop=True)


def _tiny_toml(tmp_path, *, rounds, routers, seed):
    """A tiny study config file (20 gold, 200 preference, 60 test queries, d = 6)."""
    cfg = tmp_path / "tiny.toml"
    names = ", ".join(f'"{r}"' for r in routers)
    cfg.write_text(
        f"[study]\nrounds = {rounds}\ngold_sizes = [20]\nn_preference = 200\nn_test = 60\nd = 6\n"
        f"routers = [{names}]\nseed = {seed}\n"
    )
    return cfg


@pytest.fixture(scope="module")
def serial():
    return run_study(StudyConfig(**TINY), n_jobs=1, progress=False)


def test_frame_shape_and_summaries(serial):
    df = serial.frame
    assert len(df) == 3 * 2 * 4 * 7
    assert set(df["evaluation"]) == {"exact"}
    summ = serial.summary_frame()
    assert list(summ.columns) == ["n_gold", "router", "rate", "mean", "mc_se", "rounds"]
    assert (summ["rounds"] == 3).all()
    areas = serial.area_summary()
    assert len(areas) == 8


def test_same_results_with_two_workers(serial):
    par = run_study(StudyConfig(**TINY), n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(_strip(serial.frame), _strip(par.frame))


@pytest.mark.slow
def test_same_results_on_dask_local_cluster(serial):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            res = run_study(StudyConfig(**TINY), backend="dask", scheduler=client, progress=False)
    pd.testing.assert_frame_equal(_strip(serial.frame), _strip(res.frame))


def test_interrupted_study_resumes_identically(serial, tmp_path, monkeypatch):
    from metarouter_stats.experiment import runner

    real = runner.run_task
    calls = []

    def flaky(config, round_, n_gold, data=None):
        calls.append((round_, n_gold))
        if round_ == 1 and n_gold == 40:
            raise RuntimeError("simulated crash in round 1")
        return real(config, round_, n_gold, data)

    monkeypatch.setattr(runner, "run_task", flaky)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_study(StudyConfig(**TINY), out=tmp_path, progress=False)
    saved = sorted(p.name for p in (tmp_path / "rounds").glob("*.csv"))
    assert saved == ["round_00000_gold_20.csv", "round_00000_gold_40.csv", "round_00001_gold_20.csv"]
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.setattr(runner, "run_task", real)
    calls.clear()
    monkeypatch.setattr(runner, "run_task", lambda c, r, g, d=None: (calls.append((r, g)), real(c, r, g, d))[1])
    res = run_study(StudyConfig(**TINY), out=tmp_path, progress=False)
    assert sorted(calls) == [(1, 40), (2, 20), (2, 40)]  # finished rounds are skipped
    pd.testing.assert_frame_equal(_strip(serial.frame), _strip(res.frame))
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert len(on_disk) == len(serial.frame)  # nothing lost, nothing duplicated
    assert "version" in (tmp_path / "config.json").read_text()


def test_killed_process_resumes(tmp_path):
    cfg = _tiny_toml(tmp_path, rounds=4, routers=("pooled", "gold-only", "random"), seed=1)
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "metarouter_stats.cli", "study", str(cfg), "--out", str(out)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "rounds").glob("*.csv")) if (out / "rounds").exists() else []) < 1:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(list((out / "rounds").glob("*.csv")))
    assert n_before >= 1
    resumed = run_study(StudyConfig.from_toml(cfg), out=out, progress=False)
    fresh = run_study(StudyConfig.from_toml(cfg), progress=False)
    pd.testing.assert_frame_equal(_strip(fresh.frame), _strip(resumed.frame))


def test_other_config_in_same_directory_is_refused(tmp_path):
    small = dict(TINY, rounds=1, gold_sizes=(20,))
    run_study(StudyConfig(**small), out=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"holds a study with other settings \(seed: 5 there, 99 now\)"):
        run_study(StudyConfig(**dict(small, seed=99)), out=tmp_path, progress=False)


def test_more_rounds_extend_a_study_and_a_new_name_reuses_it(tmp_path, serial):
    small = dict(TINY, rounds=2)
    run_study(StudyConfig(**small), out=tmp_path, progress=False)
    res = run_study(StudyConfig(**dict(small, rounds=3, name="renamed")), out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(_strip(serial.frame), _strip(res.frame))  # the 3-round study, rounds 0-1 reused
    assert '"name": "renamed"' in (tmp_path / "config.json").read_text()


SMALL = dict(TINY, rounds=2, gold_sizes=(20,))


@pytest.fixture(scope="module")
def small_reference():
    return run_study(StudyConfig(**SMALL), progress=False)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other_task"])
def test_damaged_round_file_is_named_and_recomputed(tmp_path, small_reference, damage):
    run_study(StudyConfig(**SMALL), out=tmp_path, progress=False)
    f = tmp_path / "rounds" / "round_00001_gold_20.csv"
    text = f.read_text()
    if damage == "truncate":
        f.write_text(text[: len(text) // 2])
    elif damage == "garbage":
        f.write_bytes(b"\x00\xffnot,a,csv\n" * 20)
    else:
        f.write_text((tmp_path / "rounds" / "round_00000_gold_20.csv").read_text())
    (tmp_path / "results.csv").unlink()
    with pytest.warns(UserWarning, match=r"round_00001_gold_20.csv' is damaged .* recomputed"):
        res = run_study(StudyConfig(**SMALL), out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(_strip(small_reference.frame), _strip(res.frame))
    assert (tmp_path / "rounds" / "round_00001_gold_20.csv.damaged").exists()


def test_planted_round_file_is_ignored(tmp_path, small_reference):
    run_study(StudyConfig(**SMALL), out=tmp_path, progress=False)
    planted = tmp_path / "rounds" / "round_00007_gold_20.csv"
    planted.write_text((tmp_path / "rounds" / "round_00000_gold_20.csv").read_text())
    with pytest.warns(UserWarning, match=r"round_00007_gold_20.csv': the study's manifest does not list it"):
        res = run_study(StudyConfig(**SMALL), out=tmp_path, progress=False)
    pd.testing.assert_frame_equal(_strip(small_reference.frame), _strip(res.frame))


def test_truncated_results_file_is_refused_by_the_reader(tmp_path):
    run_study(StudyConfig(**SMALL), out=tmp_path, progress=False)
    res = tmp_path / "results.csv"
    lines = res.read_text().splitlines(keepends=True)
    res.write_text("".join(lines[: len(lines) // 2]))
    with pytest.raises(ValueError, match=r"results.csv' is incomplete or damaged"):
        experiment.StudyResult.load(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config.json' is damaged"):
        experiment.StudyResult.load(tmp_path)


def test_planted_symlinks_are_never_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    out = tmp_path / "out"
    (out / "rounds").mkdir(parents=True)
    # the old predictable temporary names, and a link at a final file name
    for name in ("rounds/round_00000_gold_20.csv.tmp", "config.json.tmp", "results.csv.tmp", "results.csv"):
        (out / name).symlink_to(outside)
    run_study(StudyConfig(**SMALL), out=out, progress=False)
    assert outside.read_text() == "keep me"
    assert not (out / "results.csv").is_symlink()


def test_a_second_process_on_the_same_folder_stops_with_a_clear_message(tmp_path):
    # enough rounds that the first process is still running when the second has started Python and imported the
    # package (about 1.5 s idle, several seconds on a loaded CI machine): 4 rounds left a race
    cfg = _tiny_toml(tmp_path, rounds=12, routers=("meta-dr", "pooled", "gold-only", "random"), seed=5)
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "metarouter_stats.cli", "study", str(cfg), "--out", str(out)]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "config.json").exists():
        time.sleep(0.05)
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    first.wait(timeout=300)
    assert first.returncode == 0, first.stderr.read()
    assert second.returncode == 2 and "Another process is running a study in" in second.stderr
    res = experiment.StudyResult.load(out)
    single = run_study(StudyConfig.from_toml(cfg), progress=False)
    pd.testing.assert_frame_equal(_strip(single.frame), _strip(res.frame))


def test_killed_mid_write_and_corrupted_then_resumed(tmp_path, small_reference):
    """SIGKILL while a study runs, damage a finished round file, resume: identical results."""
    cfg = _tiny_toml(tmp_path, rounds=2, routers=("meta-dr", "pooled", "gold-only", "random"), seed=5)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "metarouter_stats.cli", "study", str(cfg), "--out", str(out)],
        env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "manifest.json").exists():
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sorted((out / "rounds").glob("round_*.csv"))
    assert done, "the study was killed before its first round file"
    done[0].write_text(done[0].read_text().replace("gold-only", "gold-onlx", 1))
    with pytest.warns(UserWarning, match="is damaged"):
        res = run_study(StudyConfig.from_toml(cfg), out=out, progress=False)
    pd.testing.assert_frame_equal(_strip(small_reference.frame), _strip(res.frame))


def test_paper_evaluation_rows():
    res = run_study(StudyConfig(**dict(TINY, rounds=1, gold_sizes=(20,), paper_evaluation=True)), progress=False)
    assert set(res.frame["evaluation"]) == {"exact", "paper"}
    assert len(res.summary_frame(evaluation="paper")) == 4 * 7


def test_shipped_configs_load():
    names = study_configs()
    assert {"figure1a", "main", "ablation_mean_shift", "ablation_no_scale", "ablation_d100", "ablation_judge"} <= set(names)
    for name in names:
        load_config(name)
    fig = load_config("figure1a")
    assert fig.learners == "rf" and fig.paper_evaluation and fig.rounds == 200


def test_plot(serial):
    import matplotlib

    matplotlib.use("Agg")
    axes = serial.plot()
    assert len(axes) == 2 and axes[0].figure is axes[1].figure


def test_study_errors(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown study setting\(s\) \['round'\]"):
        StudyConfig.from_dict({"round": 3})
    with pytest.raises(ValueError, match=r"`routers` must be names among"):
        StudyConfig(routers=("meta-x",))
    with pytest.raises(ValueError, match=r"`learners` must be one of \('default', 'rf'\); got 'xgb'"):
        StudyConfig(learners="xgb")
    with pytest.raises(ValueError, match=r"`scale` must be one of \('auto', 'paired', 'amplitude', 'variance', 'wasserstein', 'none'\)"):
        StudyConfig(scale="std")
    with pytest.raises(ValueError, match=r"`gold_sizes` must be an integer >= 2; got 1"):
        StudyConfig(gold_sizes=(1,))
    with pytest.raises(ValueError, match=r"`truth` must be 'gold' or 'psi'"):
        StudyConfig(truth="oracle")
    bad = tmp_path / "bad.toml"
    bad.write_text("rounds = = 3")
    with pytest.raises(ValueError, match=r"is not valid TOML"):
        StudyConfig.from_toml(bad)
    with pytest.raises(FileNotFoundError, match=r"neither a file nor a shipped config"):
        load_config("no-such-config")
    with pytest.raises(TypeError, match=r"`config` must be a StudyConfig; got dict"):
        run_study({"rounds": 1})
    with pytest.raises(ValueError, match=r"`backend` must be 'loky' or 'dask'"):
        run_study(StudyConfig(**TINY), backend="ray")
    with pytest.raises(ValueError, match=r"`scheduler` is required with backend='dask'"):
        run_study(StudyConfig(**TINY), backend="dask")


def _paired_data(n=400, seed=0):
    """Every query has a gold row; most also have a preference row (from a simulation)."""
    s = mrs.simulate(n_gold=2, n_preference=2, n_test=n, d=6, rng=seed)
    rng = np.random.default_rng(seed)
    X = s.X_test
    gold = s.psi(X) + rng.normal(0, 2, n)
    pref = s.eta(X) + rng.normal(0, 0.5, n)
    has_pref = rng.random(n) < 0.9
    ids = np.arange(n)
    return mrs.RoutingData(
        X=np.vstack([X, X[has_pref]]),
        outcome=np.concatenate([gold, pref[has_pref]]),
        source=np.concatenate([np.ones(n), np.zeros(has_pref.sum())]),
        query_ids=np.concatenate([ids, ids[has_pref]]),
    )


def test_split_data_keeps_queries_apart():
    data = _paired_data()
    from metarouter_stats.experiment import split_data

    st = split_data(data, n_gold=30, n_preference=200, n_test=50, rng=0)
    train_ids = st.train.query_ids
    assert st.train.n_gold == 30 and st.train.n_preference == 200
    assert len(set(train_ids)) == 230  # one mechanism per training query
    assert st.X_test.shape == (50, 6) and st.gold_train.shape == (230,)
    # the oracle's labels are the gold labels of the training queries
    gold_of = dict(zip(data.query_ids[data.source == 1], data.outcome[data.source == 1]))
    np.testing.assert_allclose(st.gold_train, [gold_of[q] for q in train_ids])


def test_study_on_data_is_reproducible(tmp_path):
    data = _paired_data()
    cfg = StudyConfig(scenario="data", rounds=2, gold_sizes=(30,), n_preference=200, n_test=50,
                      routers=("meta-dr", "oracle", "pooled"), seed=3)
    a = run_study(cfg, data=data, out=tmp_path, progress=False)
    b = run_study(cfg, data=data, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(_strip(a.frame), _strip(b.frame))
    with pytest.raises(ValueError, match=r"holds a study on other data"):
        run_study(cfg, data=_paired_data(seed=1), out=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"Pass `data` exactly when the config's scenario is 'data'"):
        run_study(cfg, progress=False)
    with pytest.raises(ValueError, match=r"must have a gold label for every query"):
        from metarouter_stats.experiment import split_data

        bad = mrs.RoutingData(data.X[:6], data.outcome[:6], [1, 1, 0, 0, 0, 0], query_ids=[0, 1, 0, 1, 7, 8])
        split_data(bad, n_gold=1, n_preference=2, n_test=1)


def test_study_with_partly_gold_labelled_test_sets():
    """eval_gold: prediction-powered rows next to the fully labelled ones, consistent with them."""
    cfg = experiment.StudyConfig(rounds=2, gold_sizes=(60,), n_preference=600, n_test=400, d=6,
                                 routers=("meta-dr", "pooled", "random"), eval_gold=60)
    res = experiment.run_study(cfg, progress=False)
    df = res.to_frame()
    ppi = df[df["evaluation"] == "ppi"].set_index(["round", "router", "rate"])
    exact = df[df["evaluation"] == "exact"].set_index(["round", "router", "rate"])
    z = (ppi["per_query"] - exact.loc[ppi.index, "per_query"]) / ppi["std_error"]
    assert np.all(np.abs(z[np.isfinite(z)]) < 4)
    again = experiment.run_study(cfg, progress=False).to_frame()
    pd.testing.assert_frame_equal(again.drop(columns="fit_seconds"), df.drop(columns="fit_seconds"))
    with pytest.raises(ValueError, match="eval_gold"):
        experiment.StudyConfig(scenario="data", eval_gold=50)
    with pytest.raises(ValueError, match="eval_gold"):
        experiment.StudyConfig(n_test=100, eval_gold=200)


def test_study_with_eval_gold_is_stored_and_resumed(tmp_path):
    cfg = experiment.StudyConfig(rounds=1, gold_sizes=(60,), n_preference=400, n_test=200, d=6,
                                 routers=("meta-dr", "random"), eval_gold=40)
    first = experiment.run_study(cfg, out=tmp_path, progress=False).to_frame()
    assert set(first["evaluation"]) == {"exact", "ppi"} and "std_error" in first
    again = experiment.run_study(cfg, out=tmp_path, progress=False).to_frame()  # resumed from the checkpoints
    pd.testing.assert_frame_equal(again, first, check_dtype=False)


def test_resume_sets_aside_a_round_file_replaced_by_a_fifo_folder_or_link(tmp_path):
    import os
    import warnings

    cfg = StudyConfig(rounds=3, gold_sizes=(20,), n_preference=100, n_test=30, d=6, seed=1,
                      routers=("gold-only", "random"), name="tiny")
    first = run_study(cfg, out=tmp_path, n_jobs=1, progress=False).frame
    rounds = sorted((tmp_path / "rounds").glob("round_*_gold_*.csv"))
    assert len(rounds) == 3
    rounds[0].unlink()
    os.mkfifo(rounds[0])  # reading it would block for ever
    rounds[1].unlink()
    rounds[1].mkdir()
    rounds[2].unlink()
    os.symlink("/dev/zero", rounds[2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = run_study(cfg, out=tmp_path, n_jobs=1, progress=False).frame
    assert sum("set aside" in str(w.message) for w in caught) == 3
    cols = [c for c in first.columns if c != "fit_seconds"]  # timings differ, every number does not
    pd.testing.assert_frame_equal(first[cols], again[cols])
