"""ChunkStore: the benchmarks' checkpointed chunks, merged into one results file (experiment/chunks.py)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from metarouter_stats.experiment import ChunkStore, write_summary_section


def _frame(v: float, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"rep": range(n), "value": [v] * n})


def test_chunks_merge_into_one_file_and_survive_the_chunk_folder(tmp_path):
    store = ChunkStore(tmp_path)
    store.save("cell_a_r0", _frame(1.0))
    store.save("cell_a_r3", _frame(2.0, 2))
    store.save("cell_b_r0", _frame(3.0))
    merged = store.merge()
    assert list(merged.columns) == ["chunk", "rep", "value"] and len(merged) == 8
    assert store.rows("cell_a")["value"].tolist() == [1.0] * 3 + [2.0] * 2
    # the merged file is what is committed: the chunks can go, their rows stay; a rerun of one chunk replaces its rows
    for f in (tmp_path / "chunks").iterdir():
        f.unlink()
    store.save("cell_a_r0", _frame(9.0, 1))
    assert store.chunk("cell_a_r0")["value"].tolist() == [9.0]
    assert store.done() == {"cell_a_r0", "cell_a_r3", "cell_b_r0"}
    assert len(store.read()) == 6


def test_same_rows_same_bytes(tmp_path):
    a, b = ChunkStore(tmp_path / "a"), ChunkStore(tmp_path / "b")
    for s in (a, b):
        s.save("x", _frame(1.5))
    assert (tmp_path / "a" / "results.csv.gz").read_bytes() == (tmp_path / "b" / "results.csv.gz").read_bytes()


def test_a_damaged_chunk_is_set_aside_and_counts_as_not_done(tmp_path):
    store = ChunkStore(tmp_path)
    store.save("good", _frame(1.0), merge=False)
    store.save("bad", _frame(2.0), merge=False)
    (tmp_path / "chunks" / "bad.csv").write_text("rep,value\n0,999\n")
    with pytest.warns(UserWarning, match="damaged"):
        done = store.done()
    assert done == {"good"} and (tmp_path / "chunks" / "bad.csv.damaged").exists()


def test_unlisted_and_linked_chunks_are_not_read(tmp_path):
    store = ChunkStore(tmp_path)
    store.save("listed", _frame(1.0), merge=False)
    (tmp_path / "chunks" / "stray.csv").write_text("rep,value\n0,1\n")
    target = tmp_path / "elsewhere.csv"
    target.write_text("rep,value\n0,5\n")
    manifest = (tmp_path / "chunks" / "manifest.json").read_text()
    os.replace(tmp_path / "chunks" / "listed.csv", tmp_path / "moved.csv")
    os.symlink(target, tmp_path / "chunks" / "listed.csv")
    assert (tmp_path / "chunks" / "manifest.json").read_text() == manifest
    with pytest.warns(UserWarning):
        assert store.done() == set()


def test_chunk_keys_are_checked(tmp_path):
    with pytest.raises(ValueError, match="chunk key"):
        ChunkStore(tmp_path).save("../escape", _frame(1.0))
    with pytest.raises(ValueError, match="non-empty"):
        ChunkStore(tmp_path).save("empty", pd.DataFrame())


def test_summary_sections_are_replaced_in_place(tmp_path):
    path = tmp_path / "summary.md"
    write_summary_section(path, "first", "# a table\n\n| a |", preamble="# Benchmark\n\nintro")
    write_summary_section(path, "second", "two")
    write_summary_section(path, "first", "one, again")
    text = path.read_text()
    assert text.index("## first") < text.index("## second") and "one, again" in text and "a table" not in text
    write_summary_section(path, "third", "# heading inside")
    assert "### heading inside" in path.read_text()
