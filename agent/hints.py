"""Understanding with the model's structured output, on top of the rules: when the chat model can return JSON
that follows a schema (an OpenAI-compatible server such as vLLM, which constrains decoding to the schema), it
reads moods, genres, artists and an era from the message; they are checked against Encore's mood vocabulary
and the catalog before they add to what the rules found. In-process models skip this step.

`ENCORE_UNDERSTAND=rules` turns it off.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from retrieval import Request
from retrieval.mood import vocabulary
from retrieval.query import GENRE_WORDS, ArtistMatcher

from .explain import prompt

log = logging.getLogger(__name__)


class Hints(BaseModel):
    """What a music request asks for, as the model reads it."""

    moods: list[str] = Field(default_factory=list, description="mood words from the allowed list")
    genres: list[str] = Field(default_factory=list, description="music genres, lower case")
    artists: list[str] = Field(default_factory=list, description="artists the listener names")
    year_min: int | None = Field(default=None, description="earliest release year asked for")
    year_max: int | None = Field(default=None, description="latest release year asked for")


def supports_structured(chat: BaseChatModel) -> bool:
    return bool(getattr(chat, "supports_structured_output", False)) or type(chat).__name__ == "ChatOpenAI"


def read_hints(chat: BaseChatModel | None, text: str, rules_only: bool = False) -> Hints | None:
    """The model's reading of `text`, or None when it cannot give one or `rules_only` (the rules then stand
    alone)."""
    if rules_only or chat is None or not text.strip() or not supports_structured(chat):
        return None
    system = SystemMessage(prompt("hints_system.txt").format(moods=", ".join(vocabulary())))
    try:
        return chat.with_structured_output(Hints, method="json_schema").invoke([system, HumanMessage(text[:1000])])
    except Exception as error:  # a model or server without schema support: say so, and go on with the rules
        log.warning("structured understanding unavailable (%s); using the rules alone", error)
        return None


def merge(request: Request, hints: Hints | None, artists: ArtistMatcher | None) -> Request:
    """Add what the model found that the rules missed, keeping only words Encore knows."""
    if hints is None:
        return request
    stated = request.constraints  # where the rules read a refusal, the model cannot turn it into a wish
    refused = set(stated.excluded("genre")) | set(stated.excluded("style"))
    moods = [m for m in hints.moods if m in vocabulary() and m not in request.mood.moods
             and m not in stated.excluded("mood")]
    genres = [w for g in hints.genres for w in GENRE_WORDS.get(g.casefold().strip(), ())
              if w not in request.genres and w not in refused and not refused & set(GENRE_WORDS[g.casefold().strip()])]
    found = list(request.artists)
    if artists:
        for name in hints.artists:
            found += [a for a in artists.find(name) if a not in found and a not in stated.excluded("artist")]
    year_min = request.year_min or _year(hints.year_min)
    year_max = request.year_max or _year(hints.year_max)
    mood = replace(request.mood, moods=request.mood.moods + tuple(moods)) if moods else request.mood
    return replace(request, mood=mood, genres=request.genres + tuple(dict.fromkeys(genres)), artists=tuple(found),
                   year_min=year_min, year_max=year_max)


def _year(value: int | None) -> int | None:
    return value if value and 1900 <= value <= 2100 else None
