"""Listening profiles: a listener's imported plays, matched to the catalog, and the taste they show.

Each listener has one SQLite file under `$ENCORE_HOME/profiles/`; nothing else on disk holds their plays, so
`forget` deletes that file with its `-wal`/`-shm` companions and every trace goes with it. A play is keyed by
(timestamp, artist, title, kind) after normalisation: importing the same or an overlapping export adds nothing
twice. Listening data never leaves the machine: the profile acts in ranking only (`agent.listening.Listener`).

    profiles = Profiles(settings)
    report = profiles.import_files("ana", [Path("listenbrainz.zip")], catalog)
    profile = profiles.profile("ana", catalog)       # top artists, genres, eras, moods, taste clusters
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from retrieval import Catalog, EncoreError
from retrieval.settings import Settings

from .clusters import Cluster, clusters
from .history import BadPlay, HistoryRead, Play, bulk, read_history
from .matching import TrackMatcher, artist_key, title_key

NAME = re.compile(r"^[\w][\w.@+-]{0,63}$")
SHORT_PLAY_MS = 30_000  # under 30 s a play counts as a skip (the threshold streaming services pay royalties at)
HALF_LIFE_DAYS = 365.0  # a play a year older than the newest one counts half
FULL, SKIP, LOVED = 1.0, -0.6, 3.0  # a whole play; a skip or short play; a loved/hated mark (per unit of score)

SCHEMA = """
CREATE TABLE IF NOT EXISTS plays (
    played_at INTEGER NOT NULL, artist_key TEXT NOT NULL, title_key TEXT NOT NULL, kind TEXT NOT NULL,
    artist TEXT NOT NULL, title TEXT NOT NULL, album TEXT, ms_played INTEGER, skipped INTEGER, score REAL,
    PRIMARY KEY (played_at, artist_key, title_key, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS matches (
    collection TEXT NOT NULL, artist_key TEXT NOT NULL, title_key TEXT NOT NULL, track_id TEXT,
    PRIMARY KEY (collection, artist_key, title_key)) WITHOUT ROWID;
"""


class ProfileError(EncoreError):
    pass


@dataclass
class ImportReport:
    user: str
    read: int = 0  # plays in the files
    added: int = 0  # new plays stored (the rest were already there)
    matched: int = 0  # plays of a catalog track
    unmatched: int = 0
    top_unmatched: list[tuple[str, int]] = field(default_factory=list)  # artists, most played first
    bad: list[BadPlay] = field(default_factory=list)
    skipped_non_music: int = 0
    total: int = 0  # plays stored for this listener afterwards
    formats: dict[str, str] = field(default_factory=dict)


@dataclass
class Profile:
    """What a listener's history says, against one catalog. Weights are net: plays and loves minus skips."""

    user: str
    plays: int
    matched_plays: int
    weights: dict[str, float]  # track id -> net weight (negative: mostly skipped or hated)
    top_artists: list[tuple[str, float]]  # display name, weight share
    genres: list[tuple[str, float]]
    eras: list[tuple[str, float]]  # "1990s"
    moods: list[tuple[str, float]]
    energy: dict[str, float]  # low / mid / high shares
    clusters: list[Cluster]
    span: tuple[int, int] | None = None  # first and last play (unix seconds), when the plays have times

    @property
    def avoided(self) -> frozenset[str]:
        return frozenset(i for i, w in self.weights.items() if w < 0)

    def to_dict(self) -> dict:
        return {"user": self.user, "plays": self.plays, "matched_plays": self.matched_plays,
                "tracks": len(self.weights), "top_artists": _pairs(self.top_artists), "genres": _pairs(self.genres),
                "eras": _pairs(self.eras), "moods": _pairs(self.moods), "energy": self.energy,
                "clusters": [c.to_dict() for c in self.clusters],
                "first_play": _day(self.span[0]) if self.span else None,
                "last_play": _day(self.span[1]) if self.span else None}


def check_name(user: str) -> str:
    name = (user or "").strip()
    if not NAME.match(name):
        raise ProfileError(f"listener name {user!r}: use 1-64 letters, digits and . _ - @ + (no spaces or slashes)")
    return name


class Profiles:
    """The profile store: one SQLite file per listener under `$ENCORE_HOME/profiles/`."""

    def __init__(self, settings: Settings | None = None, folder: Path | None = None):
        self.settings = settings or Settings.load()
        self.folder = folder or self.settings.home / "profiles"  # `folder`: elsewhere (an evaluation's scratch)

    def path(self, user: str) -> Path:
        return self.folder / f"{check_name(user)}.sqlite"

    def exists(self, user: str) -> bool:
        return self.path(user).is_file()

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.sqlite")) if self.folder.is_dir() else []

    def _open(self, user: str, create: bool = False) -> sqlite3.Connection:
        path = self.path(user)
        if not path.is_file() and not create:
            raise ProfileError(f"no listening profile {user!r}; import a history first: "
                               f"encore history import FILE --user {user}")
        self.folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path))
        db.execute("PRAGMA journal_mode = WAL")  # commits without rewriting the file; forget removes the -wal too
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(SCHEMA)
        return db

    def import_files(self, user: str, paths: list[Path], catalog: Catalog, fmt: str = "auto") -> ImportReport:
        """Read every file (any unreadable or corrupt one stops everything before anything is stored), store the
        new plays in one transaction, and match them to `catalog`."""
        user = check_name(user)
        history = read_history(list(paths), fmt)  # raises before the store is touched
        with bulk():
            return self._store(user, history, catalog)

    def _store(self, user: str, history: HistoryRead, catalog: Catalog) -> ImportReport:
        report = ImportReport(user, read=len(history.plays), bad=history.bad,
                              skipped_non_music=history.skipped_non_music, formats=history.formats)
        keys: dict[tuple[str, str], tuple[str, str]] = {}  # written (artist, title) -> their keys, once each
        for play in history.plays:
            if (play.artist, play.title) not in keys:
                keys[play.artist, play.title] = (artist_key(play.artist), title_key(play.title))
        rows = sorted(_row(p, keys[p.artist, p.title]) for p in history.plays)  # key order: the B-tree appends
        with closing(self._open(user, create=True)) as db, db:
            before = db.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
            db.executemany("INSERT OR IGNORE INTO plays VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            report.total = db.execute("SELECT COUNT(*) FROM plays").fetchone()[0]
            report.added = report.total - before
            # a fresh profile's pairs are the files' own; an older one may hold plays not matched to this catalog
            fresh = {key: written for written, key in keys.items()}
            matches = self._match(db, catalog, None if before else fresh)
        unmatched: Counter[str] = Counter()
        for play in history.plays:
            if matches.get(keys[play.artist, play.title]):
                report.matched += 1
            else:
                report.unmatched += 1
                unmatched[play.artist] += 1
        report.top_unmatched = unmatched.most_common(5)
        return report

    def _match(self, db: sqlite3.Connection, catalog: Catalog,
               pairs_of: dict[tuple[str, str], tuple[str, str]] | None = None) -> dict[tuple[str, str], str | None]:
        """Every distinct (artist, title) of the plays -> a track id of `catalog`, cached in the profile.
        `pairs_of`: the plays' pairs when the caller knows them all (a fresh import), sparing a scan."""
        known = {(a, t): i for a, t, i in db.execute(
            "SELECT artist_key, title_key, track_id FROM matches WHERE collection = ?", (catalog.name,))}
        if pairs_of is not None:
            pairs = [(a, t, artist, title) for (a, t), (artist, title) in pairs_of.items()]
        else:
            pairs = db.execute("SELECT DISTINCT artist_key, title_key, artist, title FROM plays").fetchall()
        new = [(a, t, artist, title) for a, t, artist, title in pairs if (a, t) not in known]
        if new:
            found = TrackMatcher(catalog.index()).match_many([(artist, title) for _, _, artist, title in new])
            rows = [(catalog.name, a, t, i) for (a, t, _, _), i in zip(new, found, strict=True)]
            db.executemany("INSERT OR REPLACE INTO matches VALUES (?,?,?,?)", rows)
            known.update(((a, t), i) for _, a, t, i in rows)
        return known

    def forget(self, user: str) -> bool:
        """Delete the listener's profile and every imported play (the database and its journal files), and the
        conversations kept under their login (the web app's `NAME/session` threads), leaving no bytes behind."""
        path = self.path(user)
        found = _purge_threads(self.settings.sessions_path, f"{check_name(user)}/")
        for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                          path.with_name(path.name + "-journal")):
            if companion.exists():
                companion.unlink()
                found = True
        return found

    def profile(self, user: str, catalog: Catalog) -> Profile:
        with closing(self._open(user)) as db, db:
            matches = self._match(db, catalog)
            plays = db.execute("SELECT played_at, artist_key, title_key, kind, ms_played, skipped, score "
                               "FROM plays").fetchall()
        weights: dict[str, float] = {}
        newest = max((p[0] for p in plays if p[0] > 0), default=0)
        matched = 0
        for played_at, a, t, kind, ms_played, skipped, score in plays:
            track_id = matches.get((a, t))
            if track_id is None:
                continue
            matched += 1
            weights[track_id] = weights.get(track_id, 0.0) + _weight(played_at, kind, ms_played, skipped, score,
                                                                     newest)
        profile = summarise(user, len(plays), matched, weights, catalog)
        times = [p[0] for p in plays if p[0] > 0]
        profile.span = (min(times), max(times)) if times else None
        return profile


def _purge_threads(sessions: Path, prefix: str) -> bool:
    """Delete a login's conversation threads from the session store; `secure_delete` and VACUUM overwrite the
    freed pages, and the WAL is truncated, so the bytes are gone from disk, not only unlinked."""
    if not sessions.is_file():
        return False
    with closing(sqlite3.connect(str(sessions))) as db:
        db.execute("PRAGMA secure_delete = ON")
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        deleted = 0
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        for table in tables:
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            if "thread_id" in columns:
                deleted += db.execute(f"DELETE FROM {table} WHERE thread_id LIKE ? ESCAPE '\\'",
                                      (pattern,)).rowcount
        db.commit()
        if deleted:
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return deleted > 0


def _row(play: Play, keys: tuple[str, str]) -> tuple:
    stamp = int(play.played_at.timestamp()) if play.played_at else 0
    skipped = None if play.skipped is None else int(play.skipped)
    return (stamp, *keys, play.kind, play.artist, play.title, play.album, play.ms_played, skipped, play.score)


def _weight(played_at: int, kind: str, ms_played: int | None, skipped: int | None, score: float | None,
            newest: int) -> float:
    """One play's evidence: a whole play counts, a skip or a short play counts against, a rating or a loved/hated
    mark counts three plays' worth; recent plays weigh more (half as much a year before the newest play)."""
    if kind == "feedback":
        value = LOVED * (score or 0.0)
    else:
        value = SKIP if skipped or (ms_played is not None and ms_played < SHORT_PLAY_MS) else FULL
        if score is not None:
            value += LOVED * score
    if played_at > 0 and newest > 0:
        value *= 0.5 ** (max(0, newest - played_at) / 86_400 / HALF_LIFE_DAYS)
    return value


def summarise(user: str, plays: int, matched: int, weights: dict[str, float], catalog: Catalog) -> Profile:
    """Shares of artists, genres, eras, moods and energy among the positively weighted tracks, and the clusters."""
    index = catalog.index()
    artists: Counter[str] = Counter()
    genres: Counter[str] = Counter()
    eras: Counter[str] = Counter()
    moods: Counter[str] = Counter()
    energy: Counter[str] = Counter()
    positive = {i: w for i, w in weights.items() if w > 0 and index.get(i) is not None}
    for track_id, weight in positive.items():
        track = index.get(track_id)
        if track.artist:
            artists[track.artist] += weight
        if track.genre:
            genres[track.genre] += weight
        if track.year:
            eras[f"{track.year // 10 * 10}s"] += weight
        for mood in track.moods:
            moods[mood] += weight
        if not track.moods:  # moods read from the track's own text count by their confidence
            for mood, confidence in (getattr(track, "inferred_moods", None) or {}).items():
                moods[mood] += weight * confidence
        level = track.energy if track.energy is not None else getattr(track, "inferred_energy", None)
        if level is not None:
            energy["low" if level < 0.4 else "high" if level > 0.7 else "mid"] += weight
    vectors = catalog.vectors(list(positive))
    found = clusters({i: v for i, v in vectors.items()}, positive, index)
    return Profile(user, plays, matched, weights, _shares(artists, 10), _shares(genres, 8), _shares(eras, 6),
                   _shares(moods, 8), dict(_shares(energy, 3)), found)


def _shares(counter: Counter[str], n: int) -> list[tuple[str, float]]:
    total = sum(counter.values()) or 1.0
    return [(name, round(value / total, 3)) for name, value in counter.most_common(n)]


def _day(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")


def _pairs(pairs: list[tuple[str, float]]) -> list[dict]:
    return [{"name": name, "share": share} for name, share in pairs]


def describe(profile: Profile) -> str:
    """The profile as a few lines of text (`encore profile show`)."""
    def line(label: str, pairs: list[tuple[str, float]]) -> str:
        return f"{label}: " + (", ".join(f"{n} {round(100 * s)}%" for n, s in pairs) if pairs else "-")

    span = ""
    if profile.span:
        first, last = (_day(t) for t in profile.span)
        span = f" ({first} to {last})"
    out = [f"listener {profile.user}: {profile.plays} plays{span}; {profile.matched_plays} of them are of "
           f"{len(profile.weights)} catalog tracks",
           line("top artists", profile.top_artists), line("genres", profile.genres), line("eras", profile.eras),
           line("moods", profile.moods), line("energy", list(profile.energy.items()))]
    for number, cluster in enumerate(profile.clusters, 1):
        out.append(f"taste {number} ({round(100 * cluster.share)}%): {cluster.label}")
    return "\n".join(out)

