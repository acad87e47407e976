"""Fine-tuning errors: shown to the user as one line by the CLI."""

from retrieval.errors import EncoreError


class CorpusError(EncoreError):
    """A source that cannot be used: missing, empty, or nothing usable in it."""


class TrainError(EncoreError):
    """Training cannot start or go on (bad base model, output folder, settings)."""
