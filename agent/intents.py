"""The respond and verify steps of a turn: what Encore says for each intent, and the final check of the whole
reply. Track lists are rendered from the catalog; the model writes only the connecting prose (`writing`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from retrieval import Catalog, Hit, Request, Track
from retrieval.search import Evidence, style_words, why
from retrieval.settings import DEMO_DIR

from . import writing
from .state import Candidate, Extra, Pick, candidates_of, extra_of, picks_of, plan_of
from .suggest import suggestions
from .taste import Taste
from .verify import Verifier, asked_names, split_sentences

OnText = Callable[[str], None] | None
log = logging.getLogger(__name__)
HELP = ("Tell me how you feel or what you are doing (\u201crainy evening\u201d, "
        "\u201c90s hip-hop for a road trip\u201d, \u201csomething like Bon Iver but less sleepy\u201d) and I will "
        "pick songs from the catalog. Then refine: \u201cfaster\u201d, \u201conly before 2000\u201d, "
        "\u201cno more ballads\u201d, \u201cmore like #2\u201d, \u201cI don't like Coldplay\u201d, "
        "\U0001F44D 2 / \U0001F44E 3. Ask \u201cwhy #1?\u201d, \u201cwrite a review of #3\u201d or "
        "\u201cmake this a playlist\u201d.")
EMPTY = "Your message was empty. " + HELP
RESET = ("Starting over: every constraint is cleared (what you liked and disliked is still remembered). "
         "What would you like to hear?")
FIXED = ("help", "empty", "greeting", "reset")  # Encore's own words, not the model's: nothing to verify
VOCALS_NOTE = {"instrumental": "no vocals", "vocals": "with vocals", "female": "female vocals", "male": "male vocals"}


class Intents:
    """One reply per intent (recommend, playlist, review, explain, greeting, ...), and the check of the whole."""
    def __init__(self, catalog: Catalog, chat: Callable[[], BaseChatModel],
                 read: Callable[[str], Request] | None = None):
        self.catalog = catalog
        self.chat = chat
        self.read = read or catalog.read  # the agent's reader, which keeps what its turns parsed

    def write(self, state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
        intent = plan_of(state).intent
        handler = {"playlist": self._playlist, "review": self._review, "explain": self._explain,
                   "greeting": self._greeting, "help": self._fixed(HELP), "empty": self._fixed(EMPTY),
                   "reset": self._fixed(RESET)}.get(
            intent, self._recommend)
        return handler(state, on_text)

    # --- intents ---------------------------------------------------------------------------------------------

    def _recommend(self, state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
        hits = self._hits(picks_of(state))
        taste: Taste = state["taste"]
        plan = plan_of(state)
        if not hits:
            text = self._nothing(taste)
            _emit(on_text, text)
            return {"reply": text}
        verifier = self._verifier(hits, state)
        header = writing.grounded_intro(hits, plan.notes)
        if len(hits) < plan.n and plan.intent != "feedback":
            rules = _asked(taste, self.catalog, self.read)
            header = (f"Only {len(hits)} track{'s' if len(hits) != 1 else ''} in the catalog fit"
                      + (f" {', '.join(rules)}" if rules else " everything you asked for") + ". " + header)
        listing = self._listing(hits, verifier)
        offers = suggestions([h.track for h in hits], taste) or None
        _emit(on_text, f"{header}\n\n{listing}")  # the picks at once; the model's remark follows
        prose = Verifier([h.track for h in hits], self.catalog.artist_matcher(), no_names=True,
                         forbidden=asked_names(plan.text))
        shared = [h for h in hits if h.track.id not in self.private(candidates_of(state))]
        said: list[str] = []

        def streamed(sentence: str) -> None:
            _emit(on_text, ("\n\n" if not said else " ") + sentence)
            said.append(sentence)

        dropped: list[str] = []
        try:
            comment = writing.remark(self.chat(), self.read(plan.text), shared, plan.notes, prose, streamed,
                                     dropped) if shared else ""
        except Exception as error:  # the model is down or failed: the grounded picks stand on their own
            log.warning("no remark from the model: %s", error)
            notice = f"The language model is unavailable ({_first_line(error)}); the picks come from the catalog alone."
            reply = f"{header}\n\n{listing}"
            return {"reply": reply, "extra": Extra(notice=notice, suggestions=offers, sentences=authored(reply))}
        reply = f"{header}\n\n{listing}" + (f"\n\n{comment}" if comment else "")
        return {"reply": reply, "extra": Extra(dropped=len(dropped) if dropped else None, suggestions=offers,
                                               sentences=authored(reply, {comment} if comment else set()))}

    def _playlist(self, state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
        taste: Taste = state["taste"]
        plan = plan_of(state)
        picks = picks_of(state) if plan.has_content or not taste.shown else None
        if picks is None:  # "make this a playlist": the list on screen
            index = self.catalog.index()
            topic = self.read(taste.topic)
            picks = [Pick.of(Hit(t, 1.0, why(t, Evidence(), topic))) for t in (index.get(i) for i in taste.shown)
                     if t]
        hits = self._hits(picks)
        if not hits:
            text = self._nothing(taste)
            _emit(on_text, text)
            return {"reply": text, "picks": []}
        verifier = self._verifier(hits, state)
        asked = plan.text if plan.has_content else taste.topic
        request = self.read(asked) if asked else ""
        private = self.private(candidates_of(state)) & {h.track.id for h in hits}
        title, description = writing.playlist(None if private else self.chat(), request or "a playlist", hits,
                                              verifier)  # a served model never sees what the history brought
        listing = self._listing(hits, verifier)
        text = f"{title}\n{description}\n\n{listing}"
        _emit(on_text, text)
        return {"reply": text, "picks": picks, "extra": Extra(title=title, description=description)}

    def _review(self, state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
        track = self._target(state)
        if track is None:
            text = "Which track should I review? Say \u201creview #2\u201d after a list, or name a title in quotes."
            _emit(on_text, text)
            return {"reply": text}
        related = self._related(track)
        text = self.review(track, related)
        _emit(on_text, text)
        return {"reply": text, "extra": Extra(review=text, track=track, related=[t.id for t in related])}

    def review(self, track: Track, related: list[Track] | None = None, on_text: OnText = None) -> str:
        """A review of `track`; it may compare it with its nearest catalog neighbours (and name only those).
        `on_text` previews the model's checked sentences as they are written."""
        return self.review_written(track, related, on_text).text

    def review_written(self, track: Track, related: list[Track] | None = None, on_text: OnText = None,
                       chat: BaseChatModel | None = None) -> writing.Written:
        """The review with its account (which sentences the model wrote, every raw sentence judged); `chat`
        overrides the agent's model (`encore eval text` compares two)."""
        related = self._related(track) if related is None else related
        comments = comments_for(track.id, self.catalog.settings.comments_path) + list(track.comments)
        return writing.review_written(chat or self.chat(), track, list(dict.fromkeys(comments)),
                                      self.catalog.artist_matcher(), related, on_text)

    def _related(self, track: Track) -> list[Track]:
        vector = self.catalog.vectors([track.id]).get(track.id)
        near = [t for t, _ in self.catalog.near(vector, 6)] if vector else []
        return [t for t in near if t.id != track.id and t.artist_key != track.artist_key][:3]

    def _explain(self, state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
        taste: Taste = state["taste"]
        index = self.catalog.index()
        refs = plan_of(state).refs or list(range(1, len(taste.shown) + 1))
        lines = []
        for position in refs:
            if position > len(taste.shown):
                continue
            track = index.get(taste.shown[position - 1])
            if track is not None:
                lines.append(f"#{position} {track.label()}: " + explain_track(track, taste, self.catalog, self.read))
        if not lines:
            text = "I have not picked anything yet in this session. Tell me what you would like to hear."
        else:
            text = "\n".join(lines) + "\n" + _constraints(taste, self.catalog, self.read)
        _emit(on_text, text)
        return {"reply": text.strip()}

    def _greeting(self, state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
        words = plan_of(state).text.casefold()
        text = ("You're welcome! Ask for more whenever you like." if "thank" in words or "谢" in words
                else "Hi, I'm Encore. " + HELP)
        _emit(on_text, text)
        return {"reply": text}

    def _fixed(self, text: str):
        def handler(state: dict[str, Any], on_text: OnText) -> dict[str, Any]:
            _emit(on_text, text)
            return {"reply": text}

        return handler

    # --- verification ----------------------------------------------------------------------------------------

    def verify(self, text: str, state: dict[str, Any]) -> str:
        """Fixed texts (help, greetings) pass as they are. Otherwise drop any sentence that names music outside
        what this turn may name (picks, the reviewed or explained tracks, the session's seeds and liked tracks);
        list lines that fail fall back to title and artist only."""
        plan = plan_of(state)
        if plan.intent in FIXED:
            return text
        allowed = self._hits(picks_of(state))
        tracks = [h.track for h in allowed]
        index = self.catalog.index()
        taste: Taste = state["taste"]
        tracks += [t for t in (index.get(i) for i in [*taste.shown, *taste.liked, *taste.seeds]) if t]
        extra = extra_of(state)
        if extra.track is not None:
            tracks.append(extra.track)
        tracks += [t for t in (index.get(i) for i in extra.related or ()) if t]
        verifier = Verifier(tracks, self.catalog.artist_matcher(), tuple(plan.named), forbidden=asked_names(plan.text))
        lines = []
        listed = {i + 1: h.track for i, h in enumerate(allowed)}
        for line in text.split("\n"):
            if m := re.match(r"(\d{1,2})\. ", line):  # a list line is one unit, whatever its abbreviations
                track = listed.get(int(m.group(1)))
                ok = verifier.sentence_ok(line[m.end():])
                lines.append(line if ok or track is None else f"{m.group(1)}. {_plain(track)}")
                continue
            kept = [s for s in split_sentences(line) if verifier.sentence_ok(s)]
            if kept or not line.strip():
                lines.append(" ".join(kept))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

    # --- helpers ---------------------------------------------------------------------------------------------

    def private(self, candidates: list[Candidate]) -> frozenset[str]:
        """Tracks the listening profile brought in, which a served model must not see unless the listener turned
        `share_history` on: a pick says what someone plays. The in-process model never leaves the machine."""
        settings = getattr(self.catalog, "settings", None)
        if settings is None or not settings.llm_url or settings.share_history:
            return frozenset()
        return frozenset(r.id for r in candidates if r.source in ("prior", "habit"))

    def _hits(self, picks: list[Pick]) -> list[Hit]:
        index = self.catalog.index()
        return [hit for hit in (p.hit(index) for p in picks) if hit is not None]

    def _listing(self, hits: list[Hit], verifier: Verifier) -> str:
        lines = []
        for i, hit in enumerate(hits, 1):
            sentence = hit.why if verifier.sentence_ok(hit.why) and "\n" not in hit.why else _plain(hit.track)
            lines.append(f"{i}. {sentence}")
        return "\n".join(lines)

    def _verifier(self, hits: list[Hit], state: dict[str, Any]) -> Verifier:
        """What this reply may name: its picks, and the session's seeds and liked tracks it compares them to."""
        taste: Taste = state["taste"]
        index = self.catalog.index()
        related = [t for t in (index.get(i) for i in [*taste.seeds, *taste.liked]) if t]
        plan = plan_of(state)
        return Verifier([h.track for h in hits] + related, self.catalog.artist_matcher(), tuple(plan.named),
                        forbidden=asked_names(plan.text))

    def _target(self, state: dict[str, Any]) -> Track | None:
        taste: Taste = state["taste"]
        index = self.catalog.index()
        plan = plan_of(state)
        if plan.refs and plan.refs[0] <= len(taste.shown):
            return index.get(taste.shown[plan.refs[0] - 1])
        if plan.seed_titles:
            return index.get(plan.seed_titles[0])
        return None

    def _nothing(self, taste: Taste) -> str:
        rules = _constraints(taste, self.catalog, self.read)
        return ("Nothing in the catalog fits all of that. " + (rules + " " if rules else "")
                + "Try loosening a constraint or asking for something else.")


def explain_track(track: Track, taste: Taste, catalog: Catalog, read: Callable[[str], Request] | None = None) -> str:
    """The evidence behind one pick: matched mood words and genres, era and energy limits, liked seeds."""
    request = (read or catalog.read)(taste.topic) if taste.topic else None
    parts = []
    if request is not None:
        moods = [m for m in request.mood.moods if m in track.moods]
        if moods:
            parts.append(f"its moods ({', '.join(moods)}) match what you asked for"
                         + (f" (\u2018{', '.join(request.mood.phrases[:3])}\u2019)" if request.mood.phrases else ""))
        genres = [g for g in request.genres if g in {track.genre, *track.tags}]
        if genres:
            parts.append(f"it is {', '.join(genres)}, as you asked")
        if track.artist_key in request.artists:
            parts.append("it is by an artist you named")
    if track.energy is not None and (taste.energy_min is not None or taste.energy_max is not None):
        inside = (taste.energy_min or 0.0) <= track.energy <= (taste.energy_max if taste.energy_max is not None
                                                               else 1.0)
        parts.append(f"its energy ({track.energy:.2f}) is {'within' if inside else 'outside'} the limit you set")
    if track.year and (taste.year_min or taste.year_max):
        inside = (taste.year_min or track.year) <= track.year <= (taste.year_max or track.year)
        parts.append(f"it is from {track.year}, {'inside' if inside else 'outside'} the era you asked for"
                     + ("" if inside else " (the catalog had too few tracks inside it)"))
    index = catalog.index()
    seeds = [index.get(i) for i in [*taste.seeds, *taste.liked[-5:]]]
    seeds = [s for s in seeds if s]
    if seeds:
        parts.append("it sounds close to " + ", ".join(f"\u201c{s.title}\u201d" for s in seeds[:3]) + " (your seeds)")
    # only the refusals this track keeps to (no names: the verifier allows only the pick's)
    styles = {w.casefold() for w in style_words(track)}
    refusals = [f"no {w}" for w in taste.banned_styles if w.casefold() not in styles]
    refusals += [f"no {w}" for w in taste.banned_moods if w not in track.moods]
    refusals += [f"nothing from {low}\u2013{high}" for low, high in taste.excluded_eras
                 if not (track.year and low <= track.year <= high)]
    refusals += [VOCALS_NOTE[taste.vocals]] if taste.vocals else []
    if refusals:
        parts.append("it keeps to what you ruled out or asked for (" + ", ".join(refusals) + ")")
    if not parts:
        parts.append("its description is among the closest to your words in the catalog")
    facts = ", ".join(x for x in (track.genre, str(track.year) if track.year else None,
                                  ", ".join(track.moods[:3])) if x)
    return "; ".join(parts) + (f". Facts: {facts}." if facts else ".")


def comments_for(track_id: str, extra: Path) -> list[str]:
    """Listener comments about a track: the side file `extra` (`$ENCORE_HOME/comments.jsonl`) and the bundled
    demo corpus."""
    return _comments(extra).get(track_id, [])


@lru_cache(maxsize=4)
def _comments(extra: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in (extra, DEMO_DIR / "comments.jsonl"):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
                found.setdefault(str(row["track_id"]), []).append(str(row["text"]))
            except (ValueError, KeyError, TypeError):
                continue  # a bad line in an optional side file costs only that comment
    return found


def _constraints(taste: Taste, catalog: Catalog, read: Callable[[str], Request]) -> str:
    rules = _asked(taste, catalog, read)
    return ("Your settings: " + "; ".join(rules) + ".") if rules else ""


def _asked(taste: Taste, catalog: Catalog, read: Callable[[str], Request]) -> list[str]:
    """The hard constraints in force, in the listener's terms: "1995–1999", "hip-hop", "no metal"."""
    rules = []
    if taste.topic:
        rules += read(taste.topic).constraints.included("genre")
    if taste.year_min or taste.year_max:
        rules.append(f"years {taste.year_min or '…'}\u2013{taste.year_max or '…'}")
    if taste.energy_min is not None:
        rules.append(f"energy at least {taste.energy_min:.2f}")
    if taste.energy_max is not None:
        rules.append(f"energy at most {taste.energy_max:.2f}")
    names = catalog.index().artists
    rules += [f"no {names.get(a, a)}" for a in taste.excluded_artists]
    rules += [f"no {w}s" for w in taste.blocked if w not in taste.banned_styles]
    rules += [f"no {w}" for w in [*taste.banned_styles, *taste.banned_moods]]
    rules += [f"nothing from {low}–{high}" for low, high in taste.excluded_eras]
    if taste.vocals:
        rules.append(VOCALS_NOTE[taste.vocals])
    if taste.disliked:
        rules.append(f"{len(taste.disliked)} disliked track{'s' if len(taste.disliked) > 1 else ''} left out")
    return rules


def _plain(track: Track) -> str:
    return track.label() + (f" ({track.year})" if track.year else "") + "."


def authored(reply: str, by_model: set[str] = frozenset()) -> list[dict[str, str]]:
    """The reply's sentences in order, each said to be the model's (one of `by_model`) or written from the
    catalog's facts by Encore itself (the intro, the "Only 3 fit" line, every numbered reason)."""
    out = []
    for line in reply.split("\n"):
        if re.match(r"\d{1,2}\. ", line):  # a list line is one unit
            out.append({"text": line, "by": "facts"})
            continue
        for sentence in split_sentences(line):
            out.append({"text": sentence, "by": "model" if sentence in by_model or any(
                sentence in m for m in by_model) else "facts"})
    return out


def _emit(on_text: OnText, text: str) -> None:
    if on_text and text:
        on_text(text)


def _first_line(error: BaseException) -> str:
    return (str(error) or type(error).__name__).splitlines()[0][:200]
