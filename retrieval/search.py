"""Hybrid search: dense (Chroma) + lexical (BM25) candidates fused by reciprocal rank, then ranked with the
mood model, filters and artist diversity. Every hit carries the evidence behind it and a one-sentence `why`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .embed import Embedder
from .filters import SCAN_LIMIT, Filters
from .fusion import fuse, rrf_score
from .lexical import LexicalIndex
from .lexicon import load
from .query import Request
from .records import INFERRED_OUTPUTS, Track, energy_level, style_words_of

WEIGHTS = {"relevance": 0.40, "mood": 0.22, "energy": 0.16, "valence": 0.10, "genre": 0.22,
           "instrumental": 0.15, "artist": 0.30, "rating": 0.03}
OUT_OF_RANGE_PENALTY = {"energy": 0.8, "valence": 0.5}
UNKNOWN_FIT = 0.4  # how well a track of unknown energy (or valence) fits an asked range


# artist fields that name no one: they never count towards the per-artist cap
PLACEHOLDER_ARTISTS = frozenset(load("catalog")["placeholder_artists"])


@dataclass(frozen=True)
class Evidence:
    """What made a track rank where it did; shown by `why` and by "why did you pick that?"."""

    moods: tuple[str, ...] = ()
    mood_words: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    energy_asked: tuple[float, float] | None = None
    era_asked: tuple[int | None, int | None] | None = None
    instrumental: bool = False
    named_artist: bool = False
    dense_rank: int | None = None
    lexical_rank: int | None = None
    inferred_moods: tuple[str, ...] = ()  # asked moods the track's own text reads as (it has no given moods)


@dataclass(frozen=True)
class Hit:
    track: Track
    score: float
    why: str
    evidence: Evidence = field(default_factory=Evidence)
    why_by: str = ""  # with `--explain`: "model" when the served sentence passed the checker, else "facts"

    def to_dict(self) -> dict[str, Any]:
        """The contract's track object: given fields keep their meaning (`moods` are the source's); what Encore
        read from the text comes as `inferred_*`, only when there is some."""
        track = self.track
        data = {"id": track.id, "title": track.title, "artist": track.artist, "score": round(self.score, 4),
                "why": self.why}
        if self.why_by:
            data["why_by"] = self.why_by
        data.update(track.model_dump(exclude_none=True, exclude={"id", "title", "artist", "lyrics", "comments",
                                                                 *INFERRED_OUTPUTS, "mood_model"}))
        if track.inferred_moods:
            data["inferred_moods"] = [{"mood": m, "confidence": round(c, 3)} for m, c in track.inferred_moods.items()]
            data["mood_evidence"] = track.mood_evidence
            data["mood_source"] = track.mood_source
        for name in ("inferred_energy", "inferred_valence", "inferred_confidence"):
            if getattr(track, name) is not None:
                data[name] = getattr(track, name)
        return data


def _fit(value: float | None, wanted: tuple[float, float] | None) -> tuple[float, float]:
    """(closeness to the middle of the wanted range, distance outside it); neutral when unknown."""
    if wanted is None:
        return 0.0, 0.0
    if value is None:
        return UNKNOWN_FIT, 0.0
    target = sum(wanted) / 2
    outside = max(0.0, wanted[0] - value, value - wanted[1])
    return 1.0 - abs(value - target), outside


def _fit_inferred(given: float | None, inferred: float | None, confidence: float | None,
                  wanted: tuple[float, float] | None) -> tuple[float, float]:
    """A given value fits as itself; an inferred one (only where none is given) moves the neutral fit towards its
    own by its confidence, penalties included."""
    if given is not None or inferred is None or wanted is None:
        return _fit(given, wanted)
    fit, outside = _fit(inferred, wanted)
    weight = confidence or 0.0
    return UNKNOWN_FIT + weight * (fit - UNKNOWN_FIT), weight * outside


def style_words(track: Track) -> set[str]:
    """Genre and tags, plus the single words inside them: "alternative rock" also counts as "rock"."""
    return style_words_of(track.genre, track.tags)


def score_track(track: Track, request: Request, relevance: float) -> tuple[float, Evidence]:
    mood = request.mood
    moods = tuple(m for m in mood.moods if m in track.moods)
    # moods read from the text count only where none are given, each by its confidence
    inferred = {} if track.moods else {m: track.inferred_moods[m] for m in mood.moods if m in track.inferred_moods}
    energy_fit, energy_out = _fit_inferred(track.energy, track.inferred_energy, track.inferred_confidence,
                                           mood.energy)
    valence_fit, valence_out = _fit_inferred(track.valence, track.inferred_valence, track.inferred_confidence,
                                             mood.valence)
    words = style_words(track)
    genres = tuple(g for g in request.genres if g in words)
    instrumental = request.instrumental and "instrumental" in words
    named = bool(track.artist_keys & set(request.artists))
    score = WEIGHTS["relevance"] * relevance
    score += WEIGHTS["mood"] * ((len(moods) + sum(inferred.values())) / len(mood.moods) if mood.moods else 0.0)
    score += WEIGHTS["energy"] * energy_fit + WEIGHTS["valence"] * valence_fit
    score -= OUT_OF_RANGE_PENALTY["energy"] * energy_out + OUT_OF_RANGE_PENALTY["valence"] * valence_out
    score += WEIGHTS["genre"] * (1.0 if genres else 0.0) + WEIGHTS["instrumental"] * instrumental
    score += WEIGHTS["artist"] * named + WEIGHTS["rating"] * ((track.rating or 0) / 5)
    era = (request.year_min, request.year_max) if request.year_min or request.year_max else None
    return score, Evidence(moods, mood.phrases, genres, mood.energy, era, instrumental, named,
                           inferred_moods=tuple(inferred))


def search(index: LexicalIndex, collection: Any, embedder: Embedder, request: Request, k: int = 10,
           filters: Filters | None = None, max_per_artist: int | None = 2) -> list[Hit]:
    """The `k` best tracks for `request`; at most `max_per_artist` per artist unless the request names them.

    Everything the request states as hard (an era, refused genres, styles, moods and artists, vocals) filters
    candidates before ranking; when the catalog has fewer such tracks than `k`, fewer come back.
    """
    given = filters or Filters()
    filters = hard_filters(index, given, request)
    scored = _scored(index, collection, embedder, request, k, filters)
    if not scored and filters.genres and not given.genres and not admitted_ids(index, Filters(genres=filters.genres)):
        # the catalog knows no such genre at all (no labels, no words for it): the words still rank
        scored = _scored(index, collection, embedder, request, k, replace(filters, genres=()))
    chosen = diversify(scored, k, max_per_artist, request.artists)
    return [Hit(track, score, why(track, evidence, request), evidence) for score, track, evidence in chosen]


def hard_filters(index: LexicalIndex, given: Filters, request: Request) -> Filters:
    """`given` plus what `request` states, less what this catalog has no field to check: a genre asked for in a
    catalog with no genre labels, an era in one with no years, are matched by the words instead."""
    filters = given.merged(request)
    if filters.artists or filters.exclude_artists:  # "Drake" also means "Drake, 21 Savage"
        filters = replace(filters, artists=index.billed(filters.artists),
                          exclude_artists=index.billed(filters.exclude_artists))
    if filters.genres and not given.genres and not index.labels_genres:
        filters = replace(filters, genres=())
    if (filters.year_min or filters.year_max or filters.excluded_eras) and not index.labels_years:
        filters = replace(filters, year_min=None, year_max=None, excluded_eras=())
    return filters


def _scored(index: LexicalIndex, collection: Any, embedder: Embedder, request: Request, k: int,
            filters: Filters) -> list[tuple[float, Track, Evidence]]:
    """Candidates from both retrievers, fused and scored, best first."""
    pool = max(100, 8 * k)
    text = request.search_text()
    dense = _dense_rows(index, collection, embedder, text, pool, filters)
    if filters.active:  # over-fetch, since some lexical hits will fail the filters
        lexical = [row for row, _ in index.search(text, pool * 3) if filters.admits(index.track(row))][:pool]
    else:
        lexical = [row for row, _ in index.search(text, pool)]
    best = rrf_score(0, 2.0)  # first in both lists
    dense_rank = {row: i + 1 for i, row in enumerate(dense)}
    lexical_rank = {row: i + 1 for i, row in enumerate(lexical)}
    scored = []
    for row, rrf in fuse([dense, lexical]).items():
        track = index.track(row)
        score, evidence = score_track(track, request, rrf / best)
        evidence = replace(evidence, dense_rank=dense_rank.get(row), lexical_rank=lexical_rank.get(row))
        scored.append((score, track, evidence))
    scored.sort(key=lambda item: -item[0])
    return scored


def _dense_rows(index: LexicalIndex, collection: Any, embedder: Embedder, text: str, pool: int,
                filters: Filters) -> list[int]:
    vector = embedder.encode_query(text)
    ids = admitted_ids(index, filters) if filters.needs_ids else None
    if ids is not None and not ids:
        return []
    wanted = pool if ids is not None or not filters.needs_ids else pool * 5  # large catalogs over-fetch instead
    found = collection.query(query_embeddings=[vector.tolist()], n_results=min(wanted, len(ids or index) or 1),
                             ids=ids, where=filters.where(), include=[])
    rows = [index.row.get(track_id) for track_id in found["ids"][0]]
    return [row for row in rows if row is not None and (not filters.active or filters.admits(index.track(row)))]


def admitted_ids(index: LexicalIndex, filters: Filters) -> list[str] | None:
    """The ids that pass `filters`, for Chroma to rank among; None for catalogs too large to scan."""
    if len(index) > SCAN_LIMIT:
        return None
    return [index.ids[row] for row in range(len(index)) if filters.admits(index.track(row))]


def diversify(scored: list[tuple[float, Track, Evidence]], k: int, max_per_artist: int | None,
              named: tuple[str, ...] = ()) -> list[tuple[float, Track, Evidence]]:
    """Best-first, skipping repeats of the same song and artists already at their cap (named artists exempt)."""
    chosen: list[tuple[float, Track, Evidence]] = []
    per_artist: dict[str, int] = {}
    songs: set[tuple[str, str]] = set()
    for item in scored:
        track = item[1]
        song = (track.title.casefold(), track.artist_key)
        if song in songs:
            continue
        artist = "" if track.artist_key in PLACEHOLDER_ARTISTS else track.artist_key  # "Unknown artist" is no one
        if max_per_artist and artist and artist not in named and per_artist.get(artist, 0) >= max_per_artist:
            continue
        songs.add(song)
        per_artist[artist] = per_artist.get(artist, 0) + 1
        chosen.append(item)
        if len(chosen) == k:
            break
    return chosen


def why(track: Track, evidence: Evidence, request: Request) -> str:
    """One sentence, built only from the track's own fields and the words of the request they matched."""
    energy = f"{energy_level(track.energy).replace('medium', 'mid')}-energy" if track.energy is not None else None
    kind = " ".join(x for x in (energy, track.genre or (track.tags[0] if track.tags else None)) if x) or "a"
    subject = track.label()
    article = "an" if kind[:1] in "aeiou" else "a"
    sentence = f"{subject} is {article} {kind} track" if kind != "a" else f"{subject} is a track"
    if track.year:
        sentence += f" from {track.year}"
    details = []
    exact, partial = _asked_genres(track, evidence.genres)
    if tagged := [*evidence.moods, *partial]:
        details.append(f"tagged {_join(tagged)}")
    if evidence.inferred_moods:
        details.append(_reads_as(track, evidence.inferred_moods))
    if exact:
        details.append(f"the {_join(exact)} you asked for")
    if evidence.instrumental:
        details.append("with no vocals")
    if evidence.named_artist:
        details.append("by an artist you named")
    if evidence.mood_words and (evidence.moods or evidence.inferred_moods
                                or evidence.energy_asked and track.energy is not None):
        details.append(f"fitting \u2018{_join(evidence.mood_words[:3])}\u2019")
    if details:
        sentence += ", " + ", ".join(details)
    elif (quoted := _snippet(track.description or "")) and request.text.strip():
        sentence += f" whose description is closest to your request: {quoted}"
    elif quoted:  # found for the listener, not for words (their history, their likes)
        sentence += f": {quoted}"
    return sentence.rstrip(" .") + "."


def _asked_genres(track: Track, asked: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The asked genres as the track's fields have them: (those its genre or a whole tag is: "the pop you asked
    for"; the tags that only hold one: said as they are, "tagged country pop", never promoted to the genre). A
    genre that only holds the word ("alternative rock") is named by the sentence already."""
    whole = {w.casefold() for w in (track.genre, *track.tags) if w}
    exact = [g for g in asked if g in whole]
    partial = [tag for tag in track.tags if any(g not in whole and g in style_words_of(None, [tag.casefold()])
                                                for g in asked)]
    return exact, list(dict.fromkeys(partial))


READS_AS = {"description": "whose description reads as", "lyrics": "whose lyrics read as",
            "comments": "whose listeners' comments read as"}


def _reads_as(track: Track, moods: Iterable[str]) -> str:
    """Moods read from the text, said as read, not as labels: "whose lyrics read as heartbroken"."""
    return f"{READS_AS.get(track.mood_source or 'description', READS_AS['description'])} {_join(moods)}"


def _join(words: Iterable[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _snippet(text: str, short: int = 20, longest: int = 30) -> str:
    """The description's first sentence when short, else its first whole clause (up to a semicolon, colon or
    dash), else the sentence if not too long; never a phrase cut short (then nothing: a reason does not quote half
    a thought)."""
    first = _first_sentence(text)
    if len(first.split()) <= short:
        return first
    cuts = [m.start() for m in CLAUSE_END.finditer(first) if len(first[:m.start()].split()) <= longest]
    if cuts and len((clause := first[:cuts[-1]].strip()).split()) >= 6:
        return clause
    return first if len(first.split()) <= longest else ""


def _first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence: not the one of an initial or a short title ("B.B. King",
    "Ben E. King", "Dr. Dre")."""
    for m in SENTENCE_END.finditer(text):
        if not ABBREVIATION.fullmatch(text[:m.start()].split()[-1]):
            return text[:m.start()].strip()
    return text.strip().rstrip(".")


SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")
ABBREVIATION = re.compile(r"(?:[A-Z]\.?)+|[A-Z][a-z]{0,2}")
CLAUSE_END = re.compile(r"[;:]\s|\s[-\u2013\u2014]\s|\u2014")
