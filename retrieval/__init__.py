"""Retrieval: the catalog record and importers, embeddings, the Chroma store, hybrid search and the mood model.

Front door: `Catalog` (ingest, search, get). `search` ranks; `read_request` and `read_mood` understand text.
"""

from .catalog import Catalog, IngestReport
from .errors import CatalogError, EmbedderError, EncoreError, StoreError
from .importers import FORMATS, BadRow
from .mood import Mood, read_mood
from .query import Request, read_request
from .records import Track
from .search import Filters, Hit, search

__all__ = ["FORMATS", "BadRow", "Catalog", "CatalogError", "EmbedderError", "EncoreError", "Filters", "Hit",
           "IngestReport", "Mood", "Request", "StoreError", "Track", "read_mood", "read_request", "search"]
