"""A listening profile as the ranking's prior: tracks near each of the listener's tastes and more by the artists
they play, within whatever the conversation rules out. It is one signal among the others (`agent.ranking`), so it
breaks ties unless the request points at it ("something like what I usually play").

    listener = Listener(Profiles(settings).profile("ana", catalog))
    agent.say("something for the evening", session, prior=listener)
"""

from __future__ import annotations

from dataclasses import replace

from retrieval import Catalog, Filters, Track

from .profile import Profile

TOP_ARTISTS = 8
OFTEN = 3.0  # net weight (about three whole plays) before Encore says "you often play"


class Listener:
    """A `ranking.Prior` built from one listener's profile."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self.artist_weight: dict[str, float] = {}
        self._artists: list[str] = []  # artist keys, heaviest first
        self._display: dict[str, str] = {}
        self._known = frozenset(profile.weights)
        self.avoided = profile.avoided
        self._cluster_of: dict[str, str] = {}  # track id -> the taste it was found near

    def _load(self, catalog: Catalog) -> None:
        """Artist weights, once (built aside and then set: web sessions share a listener across threads)."""
        if self._artists:
            return
        index = catalog.index()
        weights: dict[str, float] = {}
        display: dict[str, str] = {}
        for track_id, weight in self.profile.weights.items():
            track = index.get(track_id)
            if track is None or not track.artist:
                continue
            weights[track.artist_key] = weights.get(track.artist_key, 0.0) + weight
            display[track.artist_key] = track.artist
        self.artist_weight, self._display = weights, display
        self._artists = [a for a, w in sorted(weights.items(), key=lambda x: (-x[1], x[0])) if w > 0]

    def ranked(self, catalog: Catalog, filters: Filters, k: int) -> list[Track]:
        """Unplayed tracks near each taste cluster (each gets places by its share, and at least a few), interleaved
        with more by the artists played most; nothing the filters rule out, nothing mostly skipped."""
        self._load(catalog)
        filters = replace(filters, exclude_ids=filters.exclude_ids | self._known)
        lists: list[list[Track]] = []
        for cluster in self.profile.clusters:
            places = max(k // (2 * len(self.profile.clusters)), round(k * cluster.share))
            near = [t for t, _ in catalog.near(cluster.centroid, places, filters)]
            genre = cluster.label.split(" (")[0]
            for track in near:
                self._cluster_of.setdefault(track.id, f"close to the {genre} you play" if genre != "music"
                                            else "close to the music you play")
            lists.append(near)
        artists = self._artists[:TOP_ARTISTS]
        billed = catalog.index().billed(set(artists))
        if filters.artists:  # the request names its artists: the profile may only reorder those
            billed = billed & filters.artists
        if artists and billed and self.profile.clusters:
            near = catalog.near(self.profile.clusters[0].centroid, k, replace(filters, artists=billed))
            lists.append(_by_artist(near, artists))
        return _interleave(lists, k)

    def reason(self, track: Track) -> str | None:
        """Why the profile lifted `track`, in the listener's terms ("you often play Nick Drake")."""
        weight = self.artist_weight.get(track.artist_key, 0.0)
        if weight >= OFTEN:
            return f"you often play {self._display[track.artist_key]}"
        if weight > 0:
            return f"you have played {self._display[track.artist_key]}"
        return self._cluster_of.get(track.id)


def _by_artist(near: list[tuple[Track, float]], artists: list[str]) -> list[Track]:
    """Round-robin over the artists, heaviest first, each artist's tracks closest first."""
    per: dict[str, list[Track]] = {a: [] for a in artists}
    for track, _ in near:
        owner = next((a for a in artists if a in track.artist_keys), None)
        if owner:
            per[owner].append(track)
    return _interleave([per[a] for a in artists], len(near))


def _interleave(lists: list[list[Track]], k: int) -> list[Track]:
    out: list[Track] = []
    seen: set[str] = set()
    for position in range(max((len(x) for x in lists), default=0)):
        for items in lists:
            if position < len(items) and items[position].id not in seen:
                seen.add(items[position].id)
                out.append(items[position])
    return out[:k]
