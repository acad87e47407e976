"""Where Encore keeps its state. One root, `$ENCORE_HOME` (default `~/.encore`), holds everything."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_COLLECTION = "demo"


def encore_home() -> Path:
    """The root folder for the store, indexes, models, adapters, sessions and logs (created on first use)."""
    home = Path(os.environ.get("ENCORE_HOME") or Path.home() / ".encore").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def chroma_path() -> Path:
    return encore_home() / "chroma"


def lexical_path(collection: str) -> Path:
    return encore_home() / "bm25" / collection


def chroma_url() -> str | None:
    """`ENCORE_CHROMA_URL=http://host:port` switches from the embedded store to a Chroma server."""
    return os.environ.get("ENCORE_CHROMA_URL") or None


def embedder_name() -> str | None:
    """`ENCORE_EMBEDDER` names any sentence-transformers model by path or id; unset means the packaged MiniLM."""
    return os.environ.get("ENCORE_EMBEDDER") or None
