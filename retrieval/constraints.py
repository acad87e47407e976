"""What a listener asks for, as typed constraints: each with its polarity and the words it came from.

This is the one model of a request that understanding produces and retrieval, ranking and explanations consume:

    Constraints(terms=[Term(field="genre", value="metal", polarity="exclude", words="keep metal out of it")],
                era=YearRange(low=1990, high=None, words="nothing older than 1990"))

Semantics, stated once:
- `Term.value` is canonical: a catalog genre word ("hip-hop", "r&b"), a style, instrument or description term
  ("piano", "ballad", "strings"), a casefolded catalog artist, a mood from the mood vocabulary, or a language
  code ("en", "zh", "es").
- Year ranges are inclusive at both ends; `None` is an open end. "before 1990" is high=1989, "since 1990" and
  "from 1990 on" are low=1990, "after 1990" is low=1991, "the 90s" is 1990-1999.
- Hard constraints (filter before ranking, never relaxed): every exclusion, eras, vocals, named artists (include),
  counts. Soft (ranking only): included moods, energy and valence, relative moves, "more like" references.
- Where the catalog has no field (vocals, language), an unknown value fails a hard include and passes a hard
  exclude, unless the track's own text names the excluded thing.

`triples()` flattens constraints to (field, polarity, value) for exact comparison in tests.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Polarity = Literal["include", "exclude"]
TermField = Literal["genre", "style", "artist", "mood", "language"]
Vocals = Literal["instrumental", "vocals", "female", "male"]
MoveField = Literal["energy", "valence", "year"]


class Term(BaseModel):
    field: TermField
    value: str
    polarity: Polarity = "include"
    words: str = ""  # the listener's words, quoted back in explanations ("you said no metal")


class YearRange(BaseModel):
    low: int | None = None  # inclusive
    high: int | None = None  # inclusive
    words: str = ""

    def admits(self, year: int | None) -> bool:
        if year is None:
            return False
        return (self.low is None or year >= self.low) and (self.high is None or year <= self.high)

    def text(self) -> str:
        return f"{self.low if self.low is not None else ''}-{self.high if self.high is not None else ''}"


class Move(BaseModel):
    """A relative change against the list on screen: happier (valence +1), older (year -1), calmer (energy -1)."""

    field: MoveField
    direction: Literal[-1, 1]
    words: str = ""


class Constraints(BaseModel):
    terms: list[Term] = Field(default_factory=list)
    era: YearRange | None = None
    excluded_eras: list[YearRange] = Field(default_factory=list)
    vocals: Vocals | None = None  # instrumental = no vocals
    vocals_words: str = ""
    energy: tuple[float, float] | None = None  # a target range, 0..1
    valence: tuple[float, float] | None = None
    moves: list[Move] = Field(default_factory=list)
    count: int | None = None
    refs: list[int] = Field(default_factory=list)  # 1-based positions in the list on screen ("more like #2")
    similar_artists: list[str] = Field(default_factory=list)  # soft: "something like Bon Iver" (casefolded)

    def included(self, field: TermField) -> list[str]:
        return [t.value for t in self.terms if t.field == field and t.polarity == "include"]

    def excluded(self, field: TermField) -> list[str]:
        return [t.value for t in self.terms if t.field == field and t.polarity == "exclude"]

    def triples(self) -> set[tuple[str, str, str]]:
        """Everything stated, as (field, polarity, value); energy/valence targets are left to the mood model."""
        out = {(t.field, t.polarity, t.value) for t in self.terms}
        if self.era is not None:
            out.add(("era", "include", self.era.text()))
        out |= {("era", "exclude", r.text()) for r in self.excluded_eras}
        if self.vocals is not None:
            out.add(("vocals", "include", self.vocals))
        out |= {("move", "include", f"{m.field}{'+' if m.direction > 0 else '-'}") for m in self.moves}
        if self.count is not None:
            out.add(("count", "include", str(self.count)))
        out |= {("ref", "include", str(r)) for r in self.refs}
        out |= {("similar", "include", a) for a in self.similar_artists}
        return out
