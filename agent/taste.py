"""A session's taste: what the person liked, disliked, ruled out and is currently asking for, and how it turns into
the next picks. Stored in the LangGraph checkpoint (as plain JSON) so a resumed session keeps it.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
from pydantic import BaseModel, Field

from retrieval import Catalog, Filters, Request, Track
from retrieval.constraints import Constraints
from retrieval.parse_words import MOOD_AXES
from retrieval.search import hard_filters, style_words

from .understand import Turn


class Taste(BaseModel):
    liked: list[str] = Field(default_factory=list)
    disliked: list[str] = Field(default_factory=list)
    excluded_artists: list[str] = Field(default_factory=list)  # casefolded
    blocked: list[str] = Field(default_factory=list)  # style words kept out ("ballad")
    seeds: list[str] = Field(default_factory=list)  # tracks the current topic is "more like"
    seed_artists: list[str] = Field(default_factory=list)  # "something like Bon Iver"
    topic: str = ""  # the words of the current request
    year_min: int | None = None
    year_max: int | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    valence_target: tuple[float, float] | None = None  # soft: "happier", "sadder" against the list on screen
    shown: list[str] = Field(default_factory=list)  # the last list, in order (for "#2")
    history: list[str] = Field(default_factory=list)  # everything shown this session
    notes: list[str] = Field(default_factory=list)  # what the last turn understood, for explanations
    # bans the listener stated: kept across topics until named again ("jazz after all") or "start over"
    banned_styles: list[str] = Field(default_factory=list)  # genres, styles, instruments
    banned_moods: list[str] = Field(default_factory=list)
    excluded_eras: list[tuple[int | None, int | None]] = Field(default_factory=list)
    banned_languages: list[str] = Field(default_factory=list)
    # the current topic's own hard constraints (a new topic resets them)
    vocals: str | None = None
    languages: list[str] = Field(default_factory=list)
    # the conversation since it began or was reset: what was asked for (refusals taken out), artists named
    said: list[str] = Field(default_factory=list)
    named_artists: list[str] = Field(default_factory=list)  # casefolded, in the order named

    def apply(self, turn: Turn, catalog: Catalog) -> None:
        """Fold one understood message into the taste."""
        if turn.intent == "reset":
            self.reset()
            return
        notes: list[str] = []
        by_position = {i + 1: track_id for i, track_id in enumerate(self.shown)}
        for position in turn.liked:
            if track_id := by_position.get(position):
                self.like(track_id)
                notes.append(f"you liked #{position}")
        for position in turn.disliked:
            if track_id := by_position.get(position):
                self.dislike(track_id)
                notes.append(f"you disliked #{position}")
        for artist in turn.request.artists if turn.request else ():  # named again: they changed their mind
            _drop(self.excluded_artists, artist)
            _add(self.named_artists, artist)
        if turn.request and turn.has_content and (words := turn.request.search_text().strip()):
            self.said.append(words)
        for artist in turn.exclude_artists:
            _add(self.excluded_artists, artist)
            notes.append(f"no {catalog.index().artists.get(artist, artist)}")
        stated = turn.request.constraints if turn.request else Constraints()
        notes += self._bans(stated)
        for word in turn.block_words:
            _add(self.blocked, word)
            notes.append(f"no {_plural(word)}")
        if turn.intent in ("recommend", "playlist") and turn.new_topic:
            self._new_topic(turn)
        elif turn.request and turn.intent in ("refine", "recommend") and turn.has_content:
            self.topic = f"{self.topic} {turn.request.text}".strip()
        refused = [t.value for t in stated.terms if t.field == "mood" and t.polarity == "exclude"]
        if refused and self.topic:  # "uplifting songs", then "nothing uplifting": the topic asks for it no more
            self.topic = _without_moods(self.topic, refused, catalog) or self.topic
        if stated.vocals:
            self.vocals = stated.vocals
            notes.append({"instrumental": "no vocals", "vocals": "with vocals", "female": "female vocals",
                          "male": "male vocals"}[stated.vocals])
        if stated.included("language"):
            self.languages = stated.included("language")
        refs = [by_position[p] for p in turn.refs if p in by_position]
        if turn.intent == "refine" and refs:
            self.seeds = refs
            notes.append("more like " + ", ".join(f"#{p}" for p in turn.refs if p in by_position))
        if turn.pointing and not refs and (pointed := self._pointed(turn.pointing)):
            self.seeds = pointed
            notes.append("more like " + ("the one you liked" if turn.pointing == "one" and set(pointed) <= set(
                self.liked) else "these"))
        if turn.habitual and not refs and not turn.pointing and self.liked:  # "like what I play": what they liked
            self.seeds = self.liked[-5:]
            notes.append("more like the ones you liked")
        if turn.seed_titles:
            self.seeds = list(turn.seed_titles)
        if turn.like_artists:
            self.seed_artists = list(turn.like_artists)
        if turn.year_min or turn.year_max:
            low, high = turn.year_min, turn.year_max
            if turn.intent == "refine":  # "only before 1995" narrows the era already asked for ("90s")
                if low is None and self.year_min and (high is None or self.year_min <= high):
                    low = self.year_min
                if high is None and self.year_max and (low is None or self.year_max >= low):
                    high = self.year_max
            self.year_min, self.year_max = low, high
        bound = bool(turn.year_min or turn.year_max)
        for move in stated.moves:
            if move.field == "year":
                self._shift_era(move.direction, catalog, bound)
                notes.append("older" if move.direction < 0 else "newer")
            elif move.field == "valence":
                self._shift_valence(move.direction, catalog)
                notes.append("happier" if move.direction > 0 else "sadder")
        if bound:  # the era now in force ("1995-1999"), not only the words
            notes.append(_era_note(self.year_min, self.year_max))
        energy_shift = turn.energy_shift
        for field, way in _away_from(refused, stated):  # "nothing sad, something happy": further from the sad
            if field == "valence" and not any(m.field == "valence" for m in stated.moves):
                self._shift_valence(way, catalog)
            elif field == "energy" and not energy_shift:
                energy_shift = 0.2 * way
        if energy_shift:
            anchor = seed_ids(catalog, self) if turn.new_topic else self.shown
            self._shift_energy(energy_shift, catalog, anchor)
            notes.append("faster" if energy_shift > 0 else "calmer")
        self.notes = notes

    def _pointed(self, how: str) -> list[str]:
        """"Like that": the track liked last (else the first on screen); "like these": the liked ones on screen
        (else the first three)."""
        liked_on_screen = [i for i in self.shown if i in self.liked]
        if how == "one":
            recent = self.liked[-1:] if self.liked else []
            return recent or self.shown[:1]
        return liked_on_screen or self.liked[-3:] or self.shown[:3]

    def like(self, track_id: str) -> None:
        _add(self.liked, track_id)
        _drop(self.disliked, track_id)

    def dislike(self, track_id: str) -> None:
        _add(self.disliked, track_id)
        _drop(self.liked, track_id)

    def _new_topic(self, turn: Turn) -> None:
        self.topic = turn.request.text
        self.seeds, self.seed_artists = [], []
        self.year_min, self.year_max = turn.year_min, turn.year_max
        self.energy_min = self.energy_max = None
        self.valence_target = None
        self.vocals, self.languages = None, []

    def _bans(self, stated: Constraints) -> list[str]:
        """Refusals become bans; naming a banned genre or style again lifts its ban."""
        notes = []
        for value in stated.included("genre") + stated.included("style"):
            _drop(self.banned_styles, value)
        for term in stated.terms:
            if term.polarity != "exclude":
                continue
            target = {"genre": self.banned_styles, "style": self.banned_styles, "mood": self.banned_moods,
                      "language": self.banned_languages}.get(term.field)
            if target is not None and term.value not in target:
                target.append(term.value)
                notes.append(f"no {term.value}")
        for era in stated.excluded_eras:
            if (era.low, era.high) not in self.excluded_eras:
                self.excluded_eras.append((era.low, era.high))
                notes.append(f"nothing from {era.low}\u2013{era.high}")
        return notes

    def reset(self) -> None:
        """"Start over": every constraint and ban goes; what was liked, disliked and shown stays known."""
        kept = {"liked": self.liked, "disliked": self.disliked, "history": self.history}
        for name, field in type(self).model_fields.items():
            setattr(self, name, field.get_default(call_default_factory=True))
        for name, value in kept.items():
            setattr(self, name, value)
        self.notes = ["starting over"]

    def _shift_era(self, direction: int, catalog: Catalog, bound: bool = False) -> None:
        """"Older"/"newer": before or after the middle year of the list on screen. With a bound in the same
        message ("older, but nothing before 1970", already in force) the bound holds and the word only says which
        way within it: where the catalog has no unseen track on that side of the bound, the bound alone."""
        years = sorted(t.year for t in (catalog.index().get(i) for i in self.shown) if t and t.year)
        if not years:
            return
        middle = years[len(years) // 2]
        low, high = (None, middle - 1) if direction < 0 else (middle + 1, None)
        if not bound:
            self.year_min, self.year_max = low, high
            return
        low = max((y for y in (low, self.year_min) if y is not None), default=None)
        high = min((y for y in (high, self.year_max) if y is not None), default=None)
        if (low is None or high is None or low <= high) and self._any_unseen(catalog, low, high):
            self.year_min, self.year_max = low, high

    def _any_unseen(self, catalog: Catalog, low: int | None, high: int | None) -> bool:
        """Some track not yet shown is from `low` to `high` and passes everything else the session asks for."""
        index = catalog.index()
        request = catalog.read(self.topic) if self.topic else Request(text="")
        seen = frozenset(self.history) | frozenset(self.liked)
        filters = hard_filters(index, replace(self.filters(), year_min=low, year_max=high), request)
        return any(index.ids[row] not in seen and filters.admits(track := index.track(row)) and self.admits(track)
                   for row in index.rows_in_years(low, high))

    def _shift_valence(self, direction: int, catalog: Catalog) -> None:
        """"Happier"/"sadder": a soft target just past the mean valence of the list on screen. Soft, since a
        catalog's valence is an estimate: tracks outside it rank lower, none is ruled out."""
        values = [t.valence for t in (catalog.index().get(i) for i in self.shown) if t and t.valence is not None]
        anchor = float(np.mean(values)) if values else 0.5
        self.valence_target = ((min(0.95, anchor + 0.15), 1.0) if direction > 0
                               else (0.0, max(0.05, anchor - 0.15)))

    def _shift_energy(self, shift: float, catalog: Catalog, anchor_ids: list[str]) -> None:
        """"Faster"/"calmer": a floor or ceiling just past the mean energy of the list on screen (or the seeds)."""
        energies = [t.energy for t in (catalog.index().get(i) for i in anchor_ids) if t and t.energy is not None]
        anchor = float(np.mean(energies)) if energies else 0.5
        if shift > 0:  # one clear step: calm (0.2) -> mid (0.4), mid -> lively
            self.energy_min, self.energy_max = min(0.9, anchor + 0.2), None
        else:
            self.energy_min, self.energy_max = None, max(0.1, anchor - 0.2)

    def filters(self) -> Filters:
        return Filters(year_min=self.year_min, year_max=self.year_max, energy_min=self.energy_min,
                       energy_max=self.energy_max, exclude_ids=frozenset(self.disliked),
                       exclude_artists=frozenset(self.excluded_artists),
                       exclude_styles=frozenset(self.banned_styles), exclude_moods=frozenset(self.banned_moods),
                       excluded_eras=tuple(self.excluded_eras), vocals=self.vocals,
                       languages=frozenset(self.languages), exclude_languages=frozenset(self.banned_languages))

    def admits(self, track: Track) -> bool:
        """Beyond the filters: no blocked style word in the track's genre, tags, moods or title."""
        if not self.blocked:
            return True
        words = " ".join([*style_words(track), *track.moods, track.title.casefold()])
        return not any(re.search(rf"\b{re.escape(b)}", words) for b in self.blocked)


def seed_ids(catalog: Catalog, taste: Taste) -> list[str]:
    """The tracks the current topic is "more like": referenced ones, tracks of "like <artist>", the last liked."""
    pointed = reference_ids(catalog, taste)
    return pointed + [i for i in taste.liked if i not in pointed][-5:]


def reference_ids(catalog: Catalog, taste: Taste) -> list[str]:
    """The tracks the listener pointed at: "more like #2", a title, "like that one", and 3 tracks of each artist
    of "something like Bon Iver"."""
    seeds = list(taste.seeds)
    if taste.seed_artists:
        index = catalog.index()
        for artist in taste.seed_artists:
            seeds += [h.track.id for h in catalog.search(catalog.read(index.artists.get(artist, artist)), k=5,
                                                         max_per_artist=None) if h.track.artist_key == artist][:3]
    return list(dict.fromkeys(seeds))


def _era_note(low: int | None, high: int | None) -> str:
    if low and high:
        return f"{low}-{high}"
    return f"before {high + 1}" if high else f"after {low - 1}"


def _without_moods(topic: str, moods: list[str], catalog: Catalog) -> str:
    """The topic's words less those that asked for one of `moods`."""
    for term in catalog.read(topic).constraints.terms:
        if term.field == "mood" and term.polarity == "include" and term.value in moods and term.words:
            topic = re.sub(rf"(?<!\w){re.escape(term.words)}(?!\w)", " ", topic, flags=re.I)
    return " ".join(topic.split())


def _away_from(refused: list[str], stated: Constraints) -> list[tuple[str, int]]:
    """A refused mood with a wish for its opposite in the same message ("no sad songs, something happy";
    "not calm, I want energy"): the axis to move along, away from the refused mood. A refusal alone moves
    nothing ("nothing angry" is not a wish for calm)."""
    wished = {MOOD_AXES[t.value] for t in stated.terms
              if t.field == "mood" and t.polarity == "include" and t.value in MOOD_AXES}
    wished |= {(m.field, m.direction) for m in stated.moves}
    out = []
    for mood in refused:
        if mood in MOOD_AXES:
            field, way = MOOD_AXES[mood]
            if (field, -way) in wished and (field, -way) not in out:
                out.append((field, -way))
    return out


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _drop(items: list[str], item: str) -> None:
    if item in items:
        items.remove(item)


def _plural(word: str) -> str:
    """What a block word (kept singular for matching) reads as in a note: "remix" -> "no remixes"."""
    return word + ("es" if word.endswith(("x", "ch", "sh", "ss", "s")) else "s")
