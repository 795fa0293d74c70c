"""Text embeddings: TF-IDF followed by truncated SVD (scikit-learn, no download).

The paper embeds queries with a sentence encoder and reduces them to d principal
components. Offline and dependency-free, the default here is the classic LSA
pipeline: TF-IDF (sublinear term frequencies, unigrams and bigrams), then
:class:`~sklearn.decomposition.TruncatedSVD` to at most 256 components (sparse-safe),
then :class:`~sklearn.decomposition.PCA` to ``dim`` centred components ordered by
explained variance, as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from .._checks import check_positive_int

__all__ = ["embed_texts"]


def embed_texts(texts: Sequence[str], *, method: str = "tfidf-svd", dim: int = 50, random_state: int | None = 0) -> np.ndarray:
    """Embed query texts as an (n, dim) float array.

    Parameters
    ----------
    texts : sequence of str
    method : {"tfidf-svd"}, default "tfidf-svd"
    dim : int, default 50
        Number of principal components; capped by the vocabulary size and n - 1.
    random_state : int or None, default 0
        Seed of the randomized SVD.

    Returns
    -------
    ndarray of shape (n, dim')

    Examples
    --------
    >>> from metarouter_stats.datasets import embed_texts
    >>> embed_texts(["a cat sat", "a dog ran", "the cat ran", "dogs and cats"], dim=2).shape
    (4, 2)
    """
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("`texts` must be a sequence of strings.")
    if len(texts) < 2:
        raise ValueError(f"`texts` must hold at least 2 texts; got {len(texts)}.")
    dim = check_positive_int(dim, "dim")
    if method != "tfidf-svd":
        raise ValueError(f"`method` must be 'tfidf-svd'; got {method!r}.")
    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1).fit_transform(texts)
    k_svd = max(1, min(256, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
    lsa: Any = TruncatedSVD(n_components=k_svd, random_state=random_state).fit_transform(tfidf)
    k = max(1, min(dim, lsa.shape[1], lsa.shape[0] - 1))
    out = PCA(n_components=k, random_state=random_state).fit_transform(lsa)
    return np.asarray(out, dtype=float)
