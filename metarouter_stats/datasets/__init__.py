"""Loaders for real judgment data and text embeddings (no downloads: pass the path of local files)."""

from .embed import embed_texts
from .mtbench import MTBench, load_mtbench, mtbench_votes

__all__ = ["MTBench", "embed_texts", "load_mtbench", "mtbench_votes"]
