"""Ranking: how a session's words, named artists and feedback become one ordered list. The one path for `encore
chat`, `encore playlist`, the web app and `encore eval cpcd`.

Each signal is a ranked candidate list; the lists are fused by weighted reciprocal rank (`retrieval.fusion`, one
RRF), then the session's taste applies (blocked style words, artists of disliked tracks ranked down) and the
diversity rule picks the list. Hard constraints (eras, bans, vocals, named artists, dislikes) are filters on every
signal, so no signal can bring back what the listener ruled out.

    found = candidates(catalog, taste, request, n=10, named=["adele"])
    hits = rank(catalog, taste, found, 10, named=["adele"])
    hits = rank(catalog, taste, found, 10, named=["adele"], without={"seeds"})   # an ablation

A listener-profile prior (listening history) plugs in as `prior`: any object with `ranked(catalog, filters, k)`
returning tracks best first and `reason(track)` saying why in the listener's terms; it is one more signal, weighted
like the others, and the picks it lifted say so ("you often play Nick Drake"). Tracks the listener mostly skips
(`prior.avoided`) rank lower, as a disliked artist's do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from retrieval import Catalog, Filters, Hit, Mood, Request, Track
from retrieval.fusion import rrf_score
from retrieval.parse_words import MOOD_AXES
from retrieval.search import Evidence, diversify, hard_filters, style_words, why

from .state import Candidate
from .taste import Taste, reference_ids
from .understand import STOP


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    reason: str


SIGNALS: dict[str, Signal] = {s.name: s for s in (
    Signal("text", 1.0, "the hybrid match (dense + BM25, mood and energy fit) of what the listener asks for now: "
                        "the reference the other weights are set against"),
    Signal("conversation", 0.4, "the dense match of everything said since the session began or was reset: earlier "
                                "turns still describe what they want, but words that no longer apply linger in it"),
    Signal("artists", 2.0, "tracks by an artist named in this message, closest to the request first: a name is the "
                           "most specific thing a listener says"),
    Signal("earlier_artists", 1.0, "artists named earlier in the session: still wanted, no longer the point"),
    Signal("references", 2.0, "tracks like the ones the listener pointed at (\"more like #2\", \"like that one\", "
                              "a title, \"something like Bon Iver\"), by what those are: description neighbours "
                              "scored by shared genre and moods and by energy near the reference's (moved by \"but "
                              "less sleepy\"): a deliberate choice, stronger than the words, and the "
                              "neighbourhood every other signal ranks within"),
    Signal("beside_reference", 0.4, "the request's own words beside a reference, the reference's names taken out "
                                    "(\"like Take Five\" does not search \"take\"): they refine what the "
                                    "reference is, they do not replace it"),
    Signal("seeds", 0.5, "neighbours of the centroid of the last liked tracks: a centroid of a few songs is broad (in "
                         "a pop catalog it is near everything), so it orders what the others found"),
    Signal("liked_artists", 1.2, "more by the artists of liked tracks: the strongest taste evidence a session has"),
    Signal("prior", 0.5, "the listener profile (listening history), when one is plugged in: it knows the person, "
                         "not this request, so it only breaks ties"),
    Signal("habit", 2.0, "the listener profile when the request points at it (\"something like what I usually "
                         "play\"): then the history is what they ask for, as specific as a named artist"),
)}
DISLIKED_ARTIST = 0.6  # a disliked track's artist is ranked down, not banned: one song is not the whole artist
OFF_VALENCE = 0.6  # "happier"/"sadder" are soft: a track outside the target ranks lower, never drops out
MAX_PER_ARTIST = 2  # the diversity rule: at most two per artist, unless the listener named that artist
POOL = 60  # candidates per signal, at least; more when more picks are asked for


class Prior(Protocol):
    """A listener-profile prior: tracks this person is likely to want, best first, within `filters`."""

    avoided: frozenset[str]

    def ranked(self, catalog: Catalog, filters: Filters, k: int) -> list[Track]: ...

    def reason(self, track: Track) -> str | None: ...


def candidates(catalog: Catalog, taste: Taste, request: Request | None, n: int = 6, named: list[str] | None = None,
               fresh: bool = True, prior: Prior | None = None, habitual: bool = False) -> list[Candidate]:
    """Every signal's ranked candidates (they travel in the graph's checkpoint).

    Liked tracks never come again (the listener has them already); `fresh` also leaves out every track shown
    this session (a refinement should bring new music). `habitual`: the request points at the listener's own
    listening ("like what I usually play"), so the profile is what they ask for."""
    habitual = habitual and prior is not None
    if request is None and not (taste.seeds or taste.seed_artists or taste.liked or habitual):
        request = catalog.read(taste.topic or "popular songs")
    wanted = request or Request(text="")
    index = catalog.index()
    session = taste.filters()
    seen = frozenset(taste.liked) | (frozenset(taste.history) if fresh else frozenset())
    session = replace(session, exclude_ids=session.exclude_ids | seen)
    filters = hard_filters(index, session, wanted)  # what the session and this request rule out, for every signal
    pool = max(POOL, 2 * n)
    out: list[Candidate] = []
    pointed = reference_ids(catalog, taste)
    if request is not None and request.text:  # search adds the request's own constraints itself
        if not pointed:
            out += _records(catalog.search(request, k=pool, filters=session, max_per_artist=None), "text")
        elif (words := _without_references(request, [index.get(i) for i in pointed], taste.seed_artists, index)):
            out += _records(catalog.search(words, k=pool, filters=session, max_per_artist=None), "beside_reference")
    said = " ".join(taste.said)
    if len(taste.said) > 1 and said.strip():
        near = catalog.near(catalog.embedder.encode_query(said).tolist(), pool, filters)
        out += _records([_hit(t, s, wanted) for t, s in near], "conversation")
    query = said or wanted.search_text()
    # "something like Bon Iver" names an artist to be near (a seed), not one to play
    named = [a for a in dict.fromkeys(named or ()) if a not in taste.excluded_artists and a not in taste.seed_artists]
    earlier = [a for a in taste.named_artists if a not in named and a not in taste.excluded_artists]
    liked_artists = [t.artist_key for t in (index.get(i) for i in taste.liked[-8:]) if t and t.artist_key]
    disliked_artists = {t.artist_key for t in (index.get(i) for i in taste.disliked) if t}
    liked_artists = [a for a in dict.fromkeys(liked_artists) if a not in named and a not in disliked_artists
                     and a not in taste.excluded_artists]
    for source, artists in (("artists", named), ("earlier_artists", earlier), ("liked_artists", liked_artists)):
        if artists and query:
            out += _records(_by_artists(catalog, artists, query, filters, pool, wanted), source)
    if pointed:
        out += _records(_like(catalog, taste, pointed, filters, pool, wanted), "references")
    liked = [i for i in taste.liked if i not in pointed][-5:]
    if liked:
        out += _records(_neighbours(catalog, liked, filters, pool, wanted), "seeds")
    if prior is not None:
        lifted = prior.ranked(catalog, filters, pool)
        records = _records([_hit(t, 0.0, wanted) for t in lifted], "habit" if habitual else "prior")
        for record, track in zip(records, lifted, strict=True):
            record.note = prior.reason(track)
        out += records
    return out


def rank(catalog: Catalog, taste: Taste, found: list[Candidate], n: int, named: list[str],
         without: frozenset[str] | set[str] = frozenset(), max_per_artist: int | None = MAX_PER_ARTIST,
         avoided: frozenset[str] = frozenset(), kept: list[Hit] | tuple[Hit, ...] = ()) -> list[Hit]:
    """Fuse the candidate lists by weighted reciprocal rank (signals in `without` left out), apply the taste and
    the diversity rule. `avoided`: tracks the listener's history mostly skips; `kept`: picks that stay in their
    places at the top (the list on screen, edited), counted by the diversity rule, the rest filled after them."""
    index = catalog.index()
    fused: dict[str, float] = {}
    first: dict[str, Candidate] = {}
    notes: dict[str, str] = {}  # what the listener profile says of the tracks it lifted
    # a reference is the neighbourhood: the other signals reorder what it found, they bring nothing from outside
    near = {r.id for r in found if r.source == "references"} if "references" not in without else set()
    for record in found:
        signal = SIGNALS.get(record.source)
        if signal is None or signal.name in without or (near and record.id not in near):
            continue
        track = index.get(record.id)
        if track is None or not taste.admits(track):
            continue
        fused[record.id] = fused.get(record.id, 0.0) + rrf_score(record.rank, signal.weight)
        if record.note:
            notes.setdefault(record.id, record.note)
        if record.id not in first or record.source in ("references", "seeds"):  # "close to #2" is the reason
            first[record.id] = record
    disliked_artists = {t.artist_key for t in (index.get(i) for i in taste.disliked) if t}
    scored = []
    for track_id, score in fused.items():
        track = index.get(track_id)
        if track.artist_key in disliked_artists and track.artist_key not in named or track_id in avoided:
            score *= DISLIKED_ARTIST
        if taste.valence_target and track.valence is not None and not (
                taste.valence_target[0] <= track.valence <= taste.valence_target[1]):
            score *= OFF_VALENCE
        scored.append((score, track, first[track_id].evidence))
    scored.sort(key=lambda s: (-s[0], s[1].id))
    scored = _one_each(scored, taste)
    held = {h.track.id for h in kept}
    scored = [(h.score, h.track, h.evidence) for h in kept] + [s for s in scored if s[1].id not in held]
    chosen = diversify(scored, n, max_per_artist, tuple(a for a in named if a not in taste.seed_artists))
    best = rrf_score(0, SIGNALS["text"].weight + SIGNALS["artists"].weight)
    by_id = {h.track.id: h for h in kept}
    return [by_id.get(track.id) or Hit(track, min(1.0, score / best),
                                       _noted(first[track.id].why, notes.get(track.id)), evidence)
            for score, track, evidence in chosen]


def _one_each(scored: list[tuple[float, Track, Evidence]], taste: Taste) -> list[tuple[float, Track, Evidence]]:
    """A track named as a reference ("like Hurt") is not played; an artist named as one ("something like Bon
    Iver") at most once, the best of theirs: the listener asked for what is near them."""
    out, played = [], set()
    for item in scored:
        track = item[1]
        if track.id in taste.seeds:
            continue
        artist = next((a for a in taste.seed_artists if a in track.artist_keys), None)
        if artist is not None:
            if artist in played:
                continue
            played.add(artist)
        out.append(item)
    return out


def still_fitting(catalog: Catalog, taste: Taste, on_screen: list[Hit], request: Request | None) -> list[Hit]:
    """The picks on screen that the session's constraints, now tightened, still admit, in their order; each
    reason said again against what is asked for now (the era in force, not the one first asked for)."""
    wanted = request or Request(text="")
    filters = hard_filters(catalog.index(), taste.filters(), wanted)
    era = (filters.year_min, filters.year_max) if filters.year_min or filters.year_max else None
    out = []
    for hit in on_screen:
        if filters.admits(hit.track) and taste.admits(hit.track):
            evidence = replace(hit.evidence, era_asked=era)
            out.append(Hit(hit.track, hit.score, why(hit.track, evidence, wanted), evidence))
    return out


def _noted(why: str, note: str | None) -> str:
    return f"{why.rstrip('.')}; {note}." if note else why


def _by_artists(catalog: Catalog, artists: list[str], query: str, filters: Filters, pool: int,
                request: Request) -> list[Hit]:
    """Tracks by these artists, interleaved so each gets early places; within one artist, closest to `query`."""
    vector = catalog.embedder.encode_query(query).tolist()
    near = catalog.near(vector, pool, replace(filters, artists=catalog.index().billed(set(artists))))
    per: dict[str, list[tuple[Track, float]]] = {a: [] for a in artists}
    for track, similarity in near:
        billed = next((a for a in artists if a in track.artist_keys), track.artist_key)
        per.setdefault(billed, []).append((track, similarity))
    out: list[Hit] = []
    for position in range(max((len(v) for v in per.values()), default=0)):
        for artist in artists:
            if position < len(per[artist]):
                track, similarity = per[artist][position]
                out.append(_hit(track, similarity, request))
    return out


def _neighbours(catalog: Catalog, seeds: list[str], filters: Filters, pool: int, request: Request) -> list[Hit]:
    vectors = catalog.vectors(seeds)
    if not vectors:
        return []
    centroid = np.mean(np.array(list(vectors.values())), axis=0)
    centroid = (centroid / (np.linalg.norm(centroid) or 1.0)).tolist()
    index = catalog.index()
    near = [(t, s) for t, s in catalog.near(centroid, pool + len(seeds), filters) if t.id not in vectors]
    own = catalog.vectors([t.id for t, _ in near]) if len(vectors) > 1 else {}
    out = []
    for track, similarity in near:
        closest = seeds[0]
        if own.get(track.id):
            closest = max(vectors, key=lambda i: float(np.dot(vectors[i], own[track.id])))
        hit = _hit(track, similarity, request)
        if seed := index.get(closest):
            hit = replace(hit, why=hit.why.rstrip(".") + f", close to {seed.label()}.")
        out.append(hit)
    return out


def _like(catalog: Catalog, taste: Taste, references: list[str], filters: Filters, pool: int,
          request: Request) -> list[Hit]:
    """Tracks like the references by what they are: among the description neighbours of their centroid (more
    than `pool`), the
    similarity plus a share of genres and moods and an energy near the references' own, or near the limit a
    modifier set ("but less sleepy": the floor above the reference's energy)."""
    index = catalog.index()
    tracks = [t for t in map(index.get, references) if t]
    near = _neighbours(catalog, references, filters, 3 * pool, request)
    if not tracks or not near:
        return near
    genres = {t.genre for t in tracks if t.genre}
    styles = {g for t in tracks for g in style_words(t)}
    moved = {"energy"} if taste.energy_min is not None or taste.energy_max is not None else set()
    moved |= {"valence"} if taste.valence_target else set()
    # "but more upbeat" leaves the reference's calm behind: its moods along a moved axis no longer describe it
    moods = {m for t in tracks for m in t.moods if MOOD_AXES.get(m, ("",))[0] not in moved}
    energy = _target([t.energy for t in tracks], taste.energy_min, taste.energy_max)
    valence = _target([t.valence for t in tracks], None, None)

    def score(hit: Hit) -> float:
        track = hit.track
        kind = 1.0 if track.genre in genres else 0.5 if styles & set(style_words(track)) else 0.0
        felt = len(moods & set(track.moods)) / max(1, len(moods | set(track.moods)))
        return (hit.score + 0.6 * kind + 0.4 * felt + 0.3 * _closeness(track.energy, energy)
                + 0.2 * _closeness(track.valence, valence))

    return sorted(near, key=lambda h: (-score(h), h.track.id))[:pool]


def _target(values: list[float | None], floor: float | None, ceiling: float | None) -> float | None:
    """The references' mean, moved inside a floor or ceiling a modifier set (a step past it)."""
    known = [v for v in values if v is not None]
    target = float(np.mean(known)) if known else None
    if floor is not None:
        target = max(target or 0.0, floor + 0.1)
    if ceiling is not None:
        target = min(target if target is not None else 1.0, ceiling - 0.1)
    return target


def _closeness(value: float | None, target: float | None) -> float:
    return 0.5 if value is None or target is None else 1.0 - abs(value - target)


def _without_references(request: Request, tracks: list[Track | None], artists: list[str], index) -> Request | None:
    """What `request` asks for beside the reference: its words less the names of what it points at (titles, their
    artists, the artists of "like Bon Iver"), the comparison ("like", "similar to") and the moves ("but less
    sleepy" moves the target; it is not a word to search). None when nothing is left to search."""
    names = [t.title for t in tracks if t] + [t.artist for t in tracks if t and t.artist]
    names += [index.artists.get(a, a) for a in artists]
    names += [m.words for m in request.constraints.moves if m.words]
    words = request.words or request.text
    for name in sorted(set(names), key=len, reverse=True):
        words = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", words, flags=re.I)
    words = " ".join(re.sub(r"\bby\s*(?=$|[,.;!?])|" + COMPARISON, " ", words, flags=re.I).split())
    if not [w for w in re.findall(r"[^\W\d_]{3,}", words.casefold()) if w not in STOP]:
        return None
    left = words.casefold()
    mood = request.mood if any(p.casefold() in left for p in request.mood.phrases) else Mood()  # "Hurt" is a title
    genres = request.genres if any(p.casefold() in left for p in request.genre_phrases) else ()
    return replace(request, text=words, words=words, artists=(), mood=mood, genres=genres)


COMPARISON = (r"\b(?:more\s+)?(?:like|similar to|in the style of|akin to|reminds? me of|along the lines of|"
              r"in the vein of)\b|像")


def _hit(track: Track, similarity: float, request: Request) -> Hit:
    era = (request.year_min, request.year_max) if request.year_min or request.year_max else None
    evidence = Evidence(era_asked=era)
    return Hit(track, similarity, why(track, evidence, request), evidence)


def _records(hits: list[Hit], source: str) -> list[Candidate]:
    return [Candidate(id=h.track.id, why=h.why, source=source, rank=rank, evidence=h.evidence)
            for rank, h in enumerate(hits)]
