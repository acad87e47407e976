"""Retrieval: the catalog record and importers, embeddings, the Chroma store, hybrid search and the mood model.

Front door: `Catalog` (ingest, search, get); every package is configured with `Settings`.
`search` ranks; `read_request` and `read_mood` understand text.
Names load on first use, so `retrieval.errors` or `retrieval.mood` do not pull in Chroma.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {"Catalog": "catalog", "IngestReport": "catalog", "CatalogError": "errors", "EmbedderError": "errors",
          "EncoreError": "errors", "StoreError": "errors", "ConfigError": "errors", "FORMATS": "importers",
          "BadRow": "importers",
          "Mood": "mood", "read_mood": "mood", "Request": "query", "read_request": "query", "Track": "records",
          "Filters": "filters", "Hit": "search", "search": "search", "Settings": "settings"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
