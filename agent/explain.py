"""`encore recommend --explain`: each pick's `why` rewritten by the model from that track's facts and the
request, through the claim checker (`writing.explained`); a sentence that fails keeps the grounded `why`.
Also the loader of the packaged prompts the tool-calling agent and the request reader use.
"""

from __future__ import annotations

from importlib import resources

from langchain_core.language_models import BaseChatModel

from retrieval import Hit
from retrieval.query import ArtistMatcher

from . import writing


def prompt(name: str) -> str:
    return resources.files("agent").joinpath("prompts", name).read_text(encoding="utf-8")


def explained(chat: BaseChatModel, request: str, hits: list[Hit], artists: ArtistMatcher | None = None) -> list[Hit]:
    """The same hits, each `why` the model's checked sentence, or the grounded one when it has none."""
    return writing.explained(chat, request, hits, artists)
