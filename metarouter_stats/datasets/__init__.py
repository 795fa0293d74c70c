"""Loaders for real judgment data and text embeddings (no downloads: pass the path of local files)."""

from .embed import embed_texts
from .judgments import Judgments, from_judgments
from .mtbench import MTBench, load_mtbench, mtbench_votes
from .pandalm import PandaLM, load_pandalm

__all__ = ["Judgments", "MTBench", "PandaLM", "embed_texts", "from_judgments", "load_mtbench", "load_pandalm", "mtbench_votes"]
