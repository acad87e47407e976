"""The catalog record: one typed `Track`, its searchable text, and its flat form for the vector store."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Fields kept as top-level Chroma metadata so they can be filtered on; the full record rides along as JSON.
FILTER_FIELDS = ("artist_key", "genre", "year", "energy", "valence")
# What mood inference (retrieval.infer) wrote: a function of the track's own fields and `mood_model`, so a
# fingerprint need not hash them (re-ingest compares before anything is embedded or inferred).
INFERRED_OUTPUTS = frozenset({"inferred_moods", "inferred_energy", "inferred_valence", "inferred_confidence",
                              "mood_evidence", "mood_source"})


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        value = " ".join(value.split())
        if "\ufffd" in value:
            raise ValueError("broken text encoding (replacement character)")
        return value or None
    return value


def _as_list(value: Any) -> Any:
    """Lists may arrive as a list, a comma/semicolon/pipe separated string, or a JSON list in a CSV cell."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = [text.strip("[]")]
        else:
            for sep in (";", "|"):
                text = text.replace(sep, ",")
            value = text.split(",")
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of words")
    return [str(v).strip().lower() for v in value if str(v).strip()]


class Track(BaseModel):
    """A song in a catalog. `id` and a `title` or a `description` are required (an untitled track is named by its
    id); everything else is what the source knows."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=500)
    artist: str | None = None
    album: str | None = None
    year: int | None = Field(default=None, ge=1000, le=2100)
    genre: str | None = None
    tags: list[str] = Field(default_factory=list)
    moods: list[str] = Field(default_factory=list)
    energy: float | None = Field(default=None, ge=0, le=1)
    valence: float | None = Field(default=None, ge=0, le=1)
    tempo_bpm: float | None = Field(default=None, gt=0, le=400)
    duration_s: float | None = Field(default=None, ge=0)
    rating: float | None = Field(default=None, ge=0, le=5)
    description: str | None = None
    lyrics: str | None = None
    comments: list[str] = Field(default_factory=list)  # what listeners wrote about it
    audio_url: str | None = None
    license: str | None = None
    source: str | None = None
    # Read from the track's own text at ingest when the source gave no moods, energy or valence; kept apart from
    # the given labels, which always win. `inferred_moods`: mood -> confidence 0..1, best first.
    inferred_moods: dict[str, float] = Field(default_factory=dict)
    inferred_energy: float | None = Field(default=None, ge=0, le=1)
    inferred_valence: float | None = Field(default=None, ge=0, le=1)
    inferred_confidence: float | None = Field(default=None, ge=0, le=1)  # of the inferred energy and valence
    mood_evidence: list[str] = Field(default_factory=list)  # words of the text the reading rests on
    mood_source: Literal["description", "lyrics", "comments"] | None = None  # the text that says the most
    mood_model: str | None = None  # which inference produced the fields above (its version)

    @model_validator(mode="before")
    @classmethod
    def _untitled(cls, data: Any) -> Any:
        """A catalog of plain descriptions has no title field: such a track is named by its id. (A source that
        has the field and leaves it empty has a bad row.)"""
        if isinstance(data, dict) and "title" not in data and _clean_text(data.get("description")):
            data = {**data, "title": data.get("id")}
        return data

    @field_validator("id", "title", mode="before")
    @classmethod
    def _required_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        return _clean_text(value)

    @field_validator("artist", "album", "genre", "description", "lyrics", "audio_url", "license", "source",
                     mode="before")
    @classmethod
    def _optional_text(cls, value: Any) -> Any:
        if isinstance(value, list):  # several credited artists
            value = ", ".join(str(v) for v in value)
        return _clean_text(value)

    @field_validator("tags", "moods", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("comments", mode="before")
    @classmethod
    def _comments(cls, value: Any) -> Any:
        """One comment or a list of them (a JSON list in a CSV cell too); case and wording are kept."""
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        values = [value] if isinstance(value, str) else value or []
        if not isinstance(values, list | tuple):
            raise ValueError("expected a comment or a list of comments")
        return [text for text in (_clean_text(str(v)) for v in values) if text]

    @field_validator("year", "energy", "valence", "tempo_bpm", "duration_s", "rating", mode="before")
    @classmethod
    def _blank_numbers(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _normalise(self) -> Track:
        if self.genre:
            self.genre = self.genre.lower()
        return self

    def label(self) -> str:
        """How Encore names a track in prose: “title” by artist (just “title” without an artist)."""
        return f"\u201c{self.title}\u201d" + (f" by {self.artist}" if self.artist else "")

    @property
    def artist_key(self) -> str:
        return (self.artist or "").casefold()

    @property
    def artist_keys(self) -> frozenset[str]:
        """The artist field and every name it bills ("Chris Brown, Lil Wayne" is Chris Brown's too)."""
        return frozenset({self.artist_key, *billed_names(self.artist_key)}) if self.artist else frozenset()

    def document(self) -> str:
        """The text that is embedded and indexed: every descriptive field the source has, in plain words
        (compact, since embedding time grows with every token)."""
        head = self.title + (f" by {self.artist}" if self.artist else "")
        if self.album and self.album.casefold() != self.title.casefold():
            head += f", album {self.album}"
        if self.year:
            head += f" ({self.year})"
        parts = [head + "."]
        style = [w for w in (self.genre, *self.tags) if w]
        if style:
            parts.append(", ".join(dict.fromkeys(style)).capitalize() + ".")
        if self.moods:
            parts.append("Mood: " + ", ".join(self.moods) + ".")
        if self.energy is not None:
            parts.append(f"Energy: {ENERGY_WORDS[energy_level(self.energy)]}.")
        if self.description:
            parts.append(self.description)
        if self.lyrics:
            parts.append("Lyrics: " + self.lyrics[:300])
        if self.comments:
            parts.append("Listeners: " + " ".join(self.comments)[:300])
        return " ".join(parts)

    def fingerprint(self) -> str:
        """Changes whenever anything stored about the track changes; lets a re-ingest skip unchanged rows. What
        Encore inferred counts through `mood_model` (the same fields and model infer the same), so a re-ingest
        can compare a row as read with the stored one before inferring anything."""
        exclude = INFERRED_OUTPUTS if self.mood_model else None
        return hashlib.sha1(self.model_dump_json(exclude=exclude).encode()).hexdigest()[:16]

    def metadata(self) -> dict[str, str | int | float]:
        """Flat, filterable metadata for the vector store (no None values, as Chroma requires)."""
        meta: dict[str, str | int | float] = {"record": self.model_dump_json(exclude_none=True),
                                              "fingerprint": self.fingerprint()}
        for name in FILTER_FIELDS:
            value = getattr(self, name)
            if value not in (None, ""):
                meta[name] = value
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Track:
        return cls.model_validate_json(meta["record"])


def style_words_of(genre: str | None, tags: list[str]) -> set[str]:
    """Genre and tags, plus the single words inside them: "alternative rock" also counts as "rock"."""
    words = {w for w in (genre, *tags) if w}
    return words | {part for w in words for part in w.replace("-", " ").split() if len(part) > 2}


ENERGY_LEVELS = ((0.25, "very low"), (0.45, "low"), (0.65, "medium"), (0.82, "high"), (1.01, "very high"))
ENERGY_WORDS = {"very low": "very low, calm", "low": "low, relaxed", "medium": "medium",
                "high": "high, lively", "very high": "very high, intense"}


def energy_level(energy: float) -> str:
    """'very low' .. 'very high': the one scale used in documents and explanations."""
    return next(name for bound, name in ENERGY_LEVELS if energy < bound)


BILLING = re.compile(r"\s*(?:,|;|/|&|\+|\bfeat\.?|\bfeaturing\b|\bft\.|\bwith\b|\bx\b|\bvs\.?|\band\b)\s*", re.I)


def billed_names(artist: str, keep_case: bool = False) -> list[str]:
    """The names an artist field bills: "Drake, 21 Savage" -> ["drake", "21 savage"]; one name -> itself."""
    parts = [p.strip() for p in BILLING.split(artist or "") if p and p.strip()]
    return [p if keep_case else p.casefold() for p in parts] or ([artist] if artist else [])
