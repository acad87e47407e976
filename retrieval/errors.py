"""Encore's error hierarchy. Messages are written for the person at the keyboard: they say what to do next.

The command line and the UI turn these into one line; anything else is a bug and keeps its traceback.
"""


class EncoreError(Exception):
    """A problem a user can act on."""


class CatalogError(EncoreError):
    """Bad catalog input: a missing file, an unknown format, nothing ingestible."""


class StoreError(EncoreError):
    """The vector store cannot be reached or a collection is missing."""


class EmbedderError(EncoreError):
    """The sentence embedder cannot be loaded."""


class ConfigError(EncoreError):
    """A setting (environment variable or config.toml) has a value Encore cannot use."""


class HistoryError(EncoreError):
    """A listening-history export Encore cannot read: a missing or corrupt file, an unknown or unexpected format."""
