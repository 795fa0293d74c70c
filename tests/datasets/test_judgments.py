"""from_judgments: a user's own long-format votes."""

import json

import numpy as np
import pandas as pd
import pytest

import metarouter_stats as mrs
from metarouter_stats.datasets import from_judgments, load_mtbench, mtbench_votes

from test_datasets import _subdir

TEXTS = {"q1": "add two numbers", "q2": "write a short poem", "q3": "prove the lemma", "q4": "translate it"}


def _votes():
    return pd.DataFrame(
        {
            "query_id": ["q1", "q1", "q1", "q2", "q2", "q3", "q3", "q4", "q4"],
            "mechanism": ["gold", "gold", "preference", "human", "judge", 1, 0, "gold", "preference"],
            "model_a": ["big", "small", "big", "small", "big", "big", "other", "big", "big"],
            "model_b": ["small", "big", "small", "big", "small", "small", "big", "small", "small"],
            "winner": ["model_a", "tie", "tie (inconsistent)", "big", "model_b", 0.5, "model_a", "small", "draw"],
        }
    )


def test_gains_by_hand():
    out = from_judgments(_votes(), primary="big", alternative="small", texts=TEXTS, dim=2)
    p = out.paired.set_index("query_id")
    # q1 gold: +1 and a tie (small listed first) -> 0.5; preference: tie -> 0
    assert p.loc["q1", "gold"] == 0.5 and p.loc["q1", "n_gold_votes"] == 2
    assert p.loc["q1", "preference"] == 0.0
    # q2 gold: winner named by model name -> big wins although listed second
    assert p.loc["q2", "gold"] == 1.0 and p.loc["q2", "preference"] == -1.0
    # q3: numeric score of model_a; the "other" vote is not this pair and is not used
    assert "q3" not in p.index and "q3" not in out.data.query_ids[out.data.source == 0]
    assert out.data.outcome[(out.data.query_ids == "q3") & (out.data.source == 1)].tolist() == [0.5]
    assert p.loc["q4", "gold"] == -1.0 and p.loc["q4", "preference"] == 0.0
    assert out.counts == {"rows": 9, "rows_used": 8, "gold_queries": 4, "preference_queries": 3, "paired_queries": 3}
    assert out.data.n_gold == 4 and out.data.n_preference == 3 and out.data.X.shape == (7, 2)
    assert out.data.model_names == ("big", "small")
    # the same query gets the same embedding row under both mechanisms
    ids = out.data.query_ids
    q1 = np.flatnonzero(ids == "q1")
    assert np.array_equal(out.data.X[q1[0]], out.data.X[q1[1]])
    # swapping primary and alternative negates every gain
    rev = from_judgments(_votes(), primary="small", alternative="big", texts=TEXTS, dim=2)
    assert np.allclose(rev.paired["gold"], -out.paired["gold"]) and np.allclose(rev.paired["preference"], -out.paired["preference"])


def test_features_and_files_agree(tmp_path):
    feats = pd.DataFrame({"f1": [0.0, 1.0, 2.0, 3.0], "f2": [1.0, 0.0, 1.0, 0.0]}, index=["q1", "q2", "q3", "q4"])
    ref = from_judgments(_votes(), primary="big", alternative="small", features=feats)
    assert ref.data.feature_names == ("f1", "f2")
    assert np.array_equal(ref.data.X[ref.data.query_ids == "q3"][0], [2.0, 1.0])
    votes = _votes().astype({"winner": str, "mechanism": str})
    votes.to_csv(tmp_path / "v.csv", index=False)
    with open(tmp_path / "v.jsonl", "w") as fh:
        for rec in votes.to_dict("records"):
            fh.write(json.dumps(rec) + "\n")
    (tmp_path / "v.json").write_text(json.dumps(votes.to_dict("records")))
    for name in ("v.csv", "v.jsonl", "v.json"):
        got = from_judgments(tmp_path / name, primary="big", alternative="small", features=feats)
        pd.testing.assert_frame_equal(got.paired, ref.paired)
        assert np.array_equal(got.data.outcome, ref.data.outcome)


def test_errors_name_file_line_and_field(tmp_path):
    v = _votes().astype({"winner": str, "mechanism": str})
    with pytest.raises(ValueError, match=r"judgments: missing column\(s\) \['winner'\].*columns=\{"):
        from_judgments(v.drop(columns="winner"), primary="big", alternative="small", texts=TEXTS)
    renamed = v.rename(columns={"winner": "verdict"})
    assert from_judgments(renamed, primary="big", alternative="small", texts=TEXTS, columns={"winner": "verdict"}, dim=2).counts["rows_used"] == 8
    with pytest.raises(ValueError, match=r"`alternative` must be one of the models in judgments \['big', 'other', 'small'\]; got 'tiny'"):
        from_judgments(v, primary="big", alternative="tiny", texts=TEXTS)
    bad = v.copy()
    bad.loc[4, "winner"] = "maybe"
    with pytest.raises(ValueError, match=r"row 4: field 'winner' must be"):
        from_judgments(bad, primary="big", alternative="small", texts=TEXTS)
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"bad.csv:6: field 'winner'"):  # header is line 1
        from_judgments(tmp_path / "bad.csv", primary="big", alternative="small", texts=TEXTS)
    bad = v.copy()
    bad.loc[2, "mechanism"] = "crowd"  # one judge named among anonymous preference votes: ambiguous
    with pytest.raises(ValueError, match=r"field 'mechanism' says 'preference' .* other votes name their judge "
                                         r"\(\['crowd'\]\); name the judge of every preference vote, or of none"):
        from_judgments(bad, primary="big", alternative="small", texts=TEXTS)
    bad["mechanism"] = bad["mechanism"].astype(object)
    bad.loc[2, "mechanism"] = 2.5
    with pytest.raises(ValueError, match=r"row 2: field 'mechanism' must be 'gold', 'preference' \(or 1 / 0\) or a judge"):
        from_judgments(bad, primary="big", alternative="small", texts=TEXTS)
    lines = [json.dumps(r) for r in v.to_dict("records")]
    (tmp_path / "bad.jsonl").write_text("\n".join(lines[:3] + ["{oops"] + lines[3:]) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:4: malformed JSON line"):
        from_judgments(tmp_path / "bad.jsonl", primary="big", alternative="small", texts=TEXTS)
    (tmp_path / "bad.jsonl").write_text("\n".join(lines[:2] + ["", json.dumps({**v.iloc[2].to_dict(), "query_id": ""})]) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:4: field 'query_id' is empty"):
        from_judgments(tmp_path / "bad.jsonl", primary="big", alternative="small", texts=TEXTS)
    with pytest.raises(ValueError, match=r"row 7: field 'query_id' = 'q4' has no entry in `texts`"):
        from_judgments(v, primary="big", alternative="small", texts={k: TEXTS[k] for k in ("q1", "q2", "q3")})
    with pytest.raises(ValueError, match="Exactly one of `texts` and `features`"):
        from_judgments(v, primary="big", alternative="small")
    with pytest.raises(FileNotFoundError, match=r"`judgments` file .*nope.csv' not found"):
        from_judgments(tmp_path / "nope.csv", primary="big", alternative="small", texts=TEXTS)
    with pytest.raises(ValueError, match=r"must end in .csv, .jsonl or .json"):
        (tmp_path / "v.txt").write_text("x")
        from_judgments(tmp_path / "v.txt", primary="big", alternative="small", texts=TEXTS)


@pytest.mark.realdata
def test_mtbench_through_from_judgments_matches_loader(data_dir):
    root = _subdir(data_dir, "mtbench")
    mt = load_mtbench(root, primary="gpt-4", alternative="gpt-3.5-turbo")
    votes = mtbench_votes(root)
    long = pd.DataFrame(
        {
            "query_id": votes["question_id"].astype(str) + "-" + votes["turn"].astype(str),
            "mechanism": votes["mechanism"],
            "model_a": votes["model_a"],
            "model_b": votes["model_b"],
            "winner": votes["score_a"],
        }
    )
    out = from_judgments(long, primary="gpt-4", alternative="gpt-3.5-turbo", texts=mt.texts)
    a = out.paired.set_index("query_id").sort_index()
    b = mt.paired.set_index("query_id").sort_index()
    assert list(a.index) == list(b.index) and len(a) == 130
    assert np.allclose(a["gold"], b["gold"]) and np.allclose(a["preference"], b["preference"])
    r1 = mrs.bias_ttest(a["gold"], a["preference"])
    r2 = mrs.bias_ttest(b["gold"], b["preference"])
    assert r1.estimate == pytest.approx(r2.estimate) and r1.p_value == pytest.approx(r2.p_value)


def test_embedding_method_is_checked_first():
    with pytest.raises(ValueError, match=r"`embedding` must be one of \('tfidf-svd', 'sentence'\); got 'bert'"):
        from_judgments(_votes(), primary="big", alternative="small", texts=TEXTS, embedding="bert")
    with pytest.raises(ValueError, match=r"`embedding` must be one of"):
        load_mtbench("/nonexistent", embedding="bert")


def test_votes_that_name_their_judges_give_one_mechanism_per_judge():
    """mechanism = a judge's name: one preference row per (query, judge), gold rows as before, and the
    data's `mechanism` names each row's judge; a judge's data equal those built from its votes alone."""
    v = _votes()
    is_pref = v["mechanism"].astype(str).isin(["preference", "judge", "0"])
    pref = v[is_pref]
    two = pd.concat([v[~is_pref], pref.assign(mechanism="judge-a"),
                     pref.assign(mechanism="judge-b", winner="tie")], ignore_index=True)
    out = from_judgments(two, primary="big", alternative="small", texts=TEXTS, dim=2)
    d = out.data
    assert d.judges == ("judge-a", "judge-b")
    assert set(d.mechanism[d.source == 1]) == {"gold"}
    single = from_judgments(v, primary="big", alternative="small", texts=TEXTS, dim=2).data
    a = d.for_judge("judge-a")
    order = np.argsort(a.query_ids.astype(str) + a.source.astype(str), kind="stable")
    ref = np.argsort(single.query_ids.astype(str) + single.source.astype(str), kind="stable")
    np.testing.assert_array_equal(a.outcome[order], single.outcome[ref])
    assert np.all(d.for_judge("judge-b").outcome[d.for_judge("judge-b").source == 0] == 0.0)
