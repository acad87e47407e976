"""The conversation graph (LangGraph): understand -> retrieve -> rank -> respond -> verify, one path for every
model. Session state (taste, the last list, the conversation) is checkpointed in SQLite under `$ENCORE_HOME`, so
`encore chat --session ID` resumes where it left off.

    from agent import Agent
    agent = Agent()                       # demo collection, the configured chat model
    result = agent.say("rainy evening jazz", session="s1", on_text=print)
    result.tracks                         # the picks, every one from the catalog
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from retrieval import Catalog, Hit
from retrieval.settings import Settings

from .hints import Hints, merge, read_hints
from .intents import Intents
from .ranking import MAX_PER_ARTIST, Prior, candidates, rank
from .taste import Taste
from .understand import TitleMatcher, Turn, read_turn

DEFAULT_N = 6


class ChatState(TypedDict, total=False):
    message: str
    feedback: dict[str, Any]  # given with the message: {"liked": [ids], "disliked": [ids], "n": picks wanted}
    taste: Taste  # the session: constraints, bans, likes, what is on screen (checkpointed as the model itself)
    turn: dict[str, Any]  # intent, n, refs, notes
    candidates: list[dict[str, Any]]
    picks: list[dict[str, Any]]
    reply: str
    extra: dict[str, Any]
    turns: int


@dataclass
class Result:
    reply: str
    tracks: list[dict[str, Any]]
    session: str
    intent: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {"reply": self.reply, "tracks": self.tracks, "session": self.session}
        if self.extra:
            data.update(self.extra)
        return data


class Agent:
    """Encore's front door for conversation: `say()` runs one turn of a session through the graph."""

    def __init__(self, catalog: Catalog | None = None, chat: BaseChatModel | None = None,
                 collection: str | None = None, checkpoint: Path | None = None, settings: Settings | None = None,
                 prior: Prior | None = None, prose: bool = True, repeats: bool = False):
        self.settings = settings or (catalog.settings if catalog else Settings.load())
        self.catalog = catalog or Catalog(collection or self.settings.collection, settings=self.settings)
        self._chat = chat
        self.prior = prior  # a listener-profile prior for the ranking (listening history), if any
        self.prose = prose  # False: no model at all; lists, playlists and reviews from the facts alone
        self.repeats = repeats  # True: tracks already shown this session may come again
        self.intents = Intents(self.catalog, self.chat)
        self._checkpoint = checkpoint or self.settings.sessions_path
        self._db: sqlite3.Connection | None = None
        self._graph: Any = None
        self._graph_lock = threading.Lock()
        self._titles: tuple[Any, TitleMatcher] | None = None
        self._local = threading.local()

    def chat(self) -> BaseChatModel | None:
        if not self.prose:
            return None
        if self._chat is None:
            from .engines import get_chat_model

            self._chat = get_chat_model(self.settings)
        return self._chat

    def close(self) -> None:
        """Ends what the agent started: the model's unfinished generations stop, the session store closes."""
        from .engines import LocalChatModel

        if isinstance(self._chat, LocalChatModel):
            self._chat.close()
        if self._db is not None:
            self._db.close()

    @property
    def graph(self) -> Any:
        """The compiled conversation, its sessions checkpointed in SQLite: opened at the first turn, so a playlist
        or a review (no session) never touches the session store."""
        with self._graph_lock:
            if self._graph is None:
                self._checkpoint.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(self._checkpoint), check_same_thread=False)
                serde = JsonPlusSerializer(allowed_msgpack_modules=[("agent.taste", "Taste")])
                self._graph = self._build().compile(checkpointer=SqliteSaver(self._db, serde=serde))
            return self._graph

    # --- the graph -------------------------------------------------------------------------------------------

    def _build(self) -> StateGraph:
        graph = StateGraph(ChatState)
        graph.add_node("understand", self._understand)
        graph.add_node("retrieve", self._retrieve)
        graph.add_node("rank", self._rank)
        graph.add_node("respond", self._respond)
        graph.add_node("verify", self._verify)
        graph.add_edge(START, "understand")
        graph.add_conditional_edges("understand", self._needs_tracks, {True: "retrieve", False: "respond"})
        graph.add_edge("retrieve", "rank")
        graph.add_edge("rank", "respond")
        graph.add_edge("respond", "verify")
        graph.add_edge("verify", END)
        return graph

    def _understand(self, state: ChatState) -> dict[str, Any]:
        taste = session_taste(state.get("taste"))
        index = self.catalog.index()
        feedback = state.get("feedback") or {}
        for track_id in feedback.get("liked", ()):  # a thumbs-up on a card, or a listener's own list
            if index.get(track_id) is not None:
                taste.like(track_id)
        for track_id in feedback.get("disliked", ()):
            if index.get(track_id) is not None:
                taste.dislike(track_id)
        turn = read_turn(state.get("message", ""), self.catalog.artist_matcher(), self._title_matcher(index),
                         len(taste.shown))
        taste.apply(turn, self.catalog)
        if turn.habitual:  # "like what I usually play": say what that was taken to mean
            if self._prior() is not None:
                taste.notes.append("from your listening history")
            elif not taste.liked:
                taste.notes.append("no listening history yet: `encore history import FILE --user NAME` adds one")
        details = _turn_dict(turn, taste)
        if feedback.get("n"):  # asked for exactly this many (the CPCD eval's 100)
            details["n"] = int(feedback["n"])
        elif feedback.get("default_n") and not turn.n and details["intent"] != "playlist":
            details["n"] = int(feedback["default_n"])  # the listener's setting, unless the message says a count
        if details["search"] and details["search"] == turn.text:  # a new request: the model may add to the rules
            rules_only = self.settings.understand == "rules" or not self.prose
            hints = read_hints(self.chat(), turn.text, rules_only=rules_only)
            details["hints"] = hints.model_dump() if hints else None
        return {"taste": taste, "turn": details, "extra": {}, "turns": state.get("turns", 0) + 1}

    def _needs_tracks(self, state: ChatState) -> bool:
        turn = state["turn"]
        if turn["intent"] in ("recommend", "refine", "feedback"):
            return True
        # "make this a playlist" reuses the list on screen; "a playlist of 90s hip-hop" searches first
        return turn["intent"] == "playlist" and (turn["has_content"] or not state["taste"].shown)

    def _retrieve(self, state: ChatState) -> dict[str, Any]:
        taste = state["taste"]
        turn = state["turn"]
        request = self.catalog.read(turn["search"]) if turn["search"] else None
        if request is not None and turn.get("hints"):
            request = merge(request, Hints(**turn["hints"]), self.catalog.artist_matcher())
        prior = self._prior()
        return {"candidates": candidates(self.catalog, taste, request, turn["n"], turn["named"], fresh=not self.repeats,
                                         prior=prior, habitual=turn.get("habitual", False))}

    def _prior(self) -> Prior | None:
        """This turn's listener profile (`say(prior=...)`), else the agent's."""
        return getattr(self._local, "prior", None) or self.prior

    def _rank(self, state: ChatState) -> dict[str, Any]:
        taste = state["taste"].model_copy(deep=True)
        turn = state["turn"]
        kept: list[dict[str, Any]] = []
        if turn["intent"] == "feedback":  # thumbs up/down edit the list on screen: disliked ones are replaced
            kept = [p for p in state.get("picks", []) if p["id"] in taste.shown and p["id"] not in taste.disliked]
        wanted = max(0, turn["n"] - len(kept)) if kept else turn["n"]
        prior = self._prior()
        hits = rank(self.catalog, taste, state["candidates"], wanted, turn["named"],
                    avoided=_avoided(prior)) if wanted else []
        picks = kept + [_hit_dict(h) for h in hits]
        if picks:  # when nothing fits, the last list stays on screen ("why #2?" still means it)
            taste.shown = [p["id"] for p in picks]
        taste.history += [i for i in taste.shown if i not in taste.history]
        return {"picks": picks, "taste": taste}

    def _respond(self, state: ChatState) -> dict[str, Any]:
        on_text = getattr(self._local, "on_text", None)
        return self.intents.write(state, on_text)

    def _verify(self, state: ChatState) -> dict[str, Any]:
        """Last check on the whole reply: every track returned exists; every sentence names only allowed music."""
        index = self.catalog.index()
        picks = [p for p in state.get("picks", []) if index.get(p["id"]) is not None]
        return {"picks": picks, "reply": self.intents.verify(state.get("reply", ""), state)}

    # --- running a turn --------------------------------------------------------------------------------------

    def say(self, message: str, session: str | None = None, on_text: Callable[[str], None] | None = None,
            liked: list[str] = (), disliked: list[str] = (), n: int | None = None,
            default_n: int | None = None, prior: Prior | None = None) -> Result:
        """One turn. `liked`/`disliked` are catalog track ids the listener marked since the last turn (thumbs on
        cards); `n` how many picks to show whatever the message says; `default_n` how many when the message
        does not say (a setting of the listener's; otherwise 6, or 12 for a playlist); `prior` this listener's
        profile (`agent.Listener`), which is never stored in the session."""
        session = session or new_session_id()
        self._local.on_text = on_text
        self._local.prior = prior
        feedback = {"liked": list(liked), "disliked": list(disliked), "n": n, "default_n": default_n}
        try:
            state = self.graph.invoke({"message": message, "feedback": feedback},
                                      {"configurable": {"thread_id": session}})
        finally:
            self._local.on_text = None
            self._local.prior = None
        return Result(state.get("reply", ""), state.get("picks", []) if state["turn"]["shows_tracks"] else [],
                      session, state["turn"]["intent"], state.get("extra") or {})

    def picks(self, text: str, n: int = 10, prior: Prior | None = None, max_per_artist: int | None = MAX_PER_ARTIST
              ) -> tuple[Turn, list[Hit], frozenset[str]]:
        """One request, no session: how it reads, its ranked picks (`encore recommend --user`, playlists), and
        which of them the listening profile brought (a served model may not see those: `Intents.private`).
        `max_per_artist`: the diversity cap (None: no cap)."""
        index = self.catalog.index()
        turn = read_turn(text, self.catalog.artist_matcher(), self._title_matcher(index))
        taste = Taste()
        taste.apply(turn, self.catalog)
        request = self.catalog.read(turn.request.text) if turn.request and turn.has_content else None
        named = list(turn.request.artists if turn.request else ()) + list(turn.like_artists)
        prior = prior or self.prior
        found = candidates(self.catalog, taste, request, n, named, prior=prior, habitual=turn.habitual)
        hits = rank(self.catalog, taste, found, n, named, max_per_artist=max_per_artist, avoided=_avoided(prior))
        return turn, hits, self.intents.private(found) & {h.track.id for h in hits}

    def playlist(self, text: str, n: int = 12, describe: bool = True, prior: Prior | None = None) -> dict[str, Any]:
        """A one-off playlist (no session): {"title", "description", "tracks"}; `describe=False` skips the model."""
        from . import writing
        from .verify import Verifier

        turn, hits, private = self.picks(text, n, prior)
        if not hits:
            return {"title": "", "description": "Nothing in the catalog fits that request.", "tracks": []}
        if not describe:
            return {"title": "", "description": "", "tracks": [_hit_dict(h) for h in hits]}
        verifier = Verifier([h.track for h in hits], self.catalog.artist_matcher(), tuple(turn.like_artists))
        title, description = writing.playlist(None if private else self.chat(), text, hits, verifier)
        return {"title": title, "description": description, "tracks": [_hit_dict(h) for h in hits]}

    def playlist_written(self, text: str, n: int = 12, chat: BaseChatModel | None = None) -> dict[str, Any]:
        """A playlist with its account (`encore eval text`): {"title", "written" (the description's
        `writing.Written`), "titles" (the model's raw titles, each with whether it was kept), "tracks"}."""
        from . import writing

        _, hits, _ = self.picks(text, n, None)
        title, written, titles = writing.playlist_written(chat or self.chat(), text, hits,
                                                          self.catalog.artist_matcher())
        return {"title": title, "written": written, "titles": titles, "tracks": [h.track for h in hits]}

    def describe(self, request: str, track_ids: list[str]) -> tuple[str, str]:
        """A title and a 2-4-sentence description for these catalog tracks, in this order (the playlist
        studio's list as the listener edited it)."""
        from . import writing
        from .verify import Verifier

        index = self.catalog.index()
        tracks = [t for t in (index.get(i) for i in track_ids) if t is not None]
        if not tracks:
            return "", ""
        hits = [Hit(t, 1.0, "") for t in tracks]
        return writing.playlist(self.chat(), request, hits, Verifier(tracks, self.catalog.artist_matcher()))

    def review(self, track_id: str, on_text: Callable[[str], None] | None = None) -> dict[str, Any]:
        """{"track", "review"}: a review of one catalog track; CatalogError when there is no such track."""
        track = self.catalog.get(track_id)
        return {"track": track.model_dump(exclude_none=True), "review": self.intents.review(track, on_text=on_text)}

    def feedback(self, session: str, liked: list[str] = (), disliked: list[str] = ()) -> Taste:
        """Thumbs on a card, at once and without a turn: the same memory "👍 2" in chat writes."""
        config = {"configurable": {"thread_id": session}}
        taste = session_taste(self.graph.get_state(config).values.get("taste"))
        index = self.catalog.index()
        for track_id in liked:
            if index.get(track_id) is not None:
                taste.like(track_id)
        for track_id in disliked:
            if index.get(track_id) is not None:
                taste.dislike(track_id)
        self.graph.update_state(config, {"taste": taste}, as_node="verify")
        return taste

    def undo(self, session: str) -> bool:
        """Roll the session back to where it stood before its last turn (the next turn no longer sees it);
        False when there is nothing to undo."""
        config = {"configurable": {"thread_id": session}}
        now = self.graph.get_state(config).values
        turns = now.get("turns", 0)
        if not turns:
            return False
        if turns == 1:
            self.delete(session)
            return True
        before = next((h for h in self.graph.get_state_history(config)
                       if h.values.get("turns") == turns - 1 and not h.next), None)
        if before is None:
            return False
        self.graph.update_state(config, before.values, as_node="verify")
        return True

    def delete(self, session: str) -> None:
        """Forget a conversation: every checkpoint of the session goes."""
        self.graph.checkpointer.delete_thread(session)

    def trace(self, session: str) -> dict[str, Any]:
        """What the last turn did, for a UI to show as steps: what was understood, what the search found (per
        signal), what the ranking kept."""
        state = self.graph.get_state({"configurable": {"thread_id": session}}).values
        if not state:
            return {}
        turn = state.get("turn") or {}
        found: dict[str, int] = {}
        for record in state.get("candidates") or []:
            found[record["source"]] = found.get(record["source"], 0) + 1
        return {"intent": turn.get("intent"), "notes": turn.get("notes", []), "named": turn.get("named", []),
                "search": turn.get("search", ""), "candidates": found, "picks": len(state.get("picks") or []),
                "shows_tracks": turn.get("shows_tracks", False),
                "dropped": (state.get("extra") or {}).get("dropped", 0)}

    def taste(self, session: str) -> Taste:
        state = self.graph.get_state({"configurable": {"thread_id": session}}).values
        return session_taste(state.get("taste"))

    def exists(self, session: str) -> bool:
        return bool(self.graph.get_state({"configurable": {"thread_id": session}}).values)

    def _title_matcher(self, index) -> TitleMatcher:
        if self._titles is None or self._titles[0] is not index:
            self._titles = (index, TitleMatcher(index.titles()))
        return self._titles[1]


def session_taste(stored: Taste | dict[str, Any] | None) -> Taste:
    """The session's taste as the checkpoint holds it: the model itself, or the plain dict that sessions saved
    before the state was typed hold (they resume as they were)."""
    if isinstance(stored, Taste):
        return stored.model_copy(deep=True)
    return Taste.model_validate(stored or {})


def new_session_id() -> str:
    """128 random bits: a session id cannot be guessed."""
    return uuid.uuid4().hex


def _avoided(prior: Prior | None) -> frozenset[str]:
    """Tracks the listener's history mostly skips (none without a profile)."""
    return prior.avoided if prior is not None else frozenset()


def _turn_dict(turn: Turn, taste: Taste) -> dict[str, Any]:
    intent = turn.intent
    search = ""
    if intent == "recommend" and turn.new_topic or intent == "playlist" and turn.has_content:
        search = turn.request.text if turn.request else ""
    elif intent in ("refine", "feedback", "playlist", "recommend"):  # "more", "one more": the current topic
        search = taste.topic
    default_n = 12 if intent == "playlist" else DEFAULT_N
    return {"intent": intent, "n": turn.n or default_n, "refs": list(turn.refs), "notes": list(taste.notes),
            "search": search, "has_content": turn.has_content, "text": turn.text,
            "named": list(turn.request.artists if turn.request else ()) + list(turn.like_artists),
            "seed_titles": list(turn.seed_titles), "habitual": turn.habitual,
            "shows_tracks": intent in ("recommend", "refine", "feedback", "playlist")}


def _hit_dict(hit: Hit) -> dict[str, Any]:
    data = hit.to_dict()
    ev = hit.evidence
    data["evidence"] = {k: v for k, v in {"moods": list(ev.moods), "mood_words": list(ev.mood_words),
                                          "genres": list(ev.genres), "named_artist": ev.named_artist,
                                          "dense_rank": ev.dense_rank, "lexical_rank": ev.lexical_rank}.items() if v}
    return data
