"""Real judgment data: long-format votes (:func:`from_judgments`), MT-Bench and PandaLM loaders, text embeddings."""

from .embed import TextEmbedder, embed_texts
from .judgments import Judgments, from_judgments
from .mtbench import load_mtbench, mtbench_texts, mtbench_votes
from .pandalm import load_pandalm

__all__ = ["Judgments", "TextEmbedder", "embed_texts", "from_judgments", "load_mtbench", "load_pandalm", "mtbench_texts", "mtbench_votes"]
