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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from retrieval import Catalog, Hit, Request
from retrieval.settings import Settings

from .hints import merge, read_hints
from .intents import Intents, authored
from .ranking import MAX_PER_ARTIST, Prior, candidates, rank, still_fitting
from .state import (
    DEFAULT_N,
    SHOWS_TRACKS,
    Candidate,
    Extra,
    Feedback,
    Pick,
    Plan,
    candidates_of,
    extra_of,
    picks_of,
    plan_of,
    track_dict,
)
from .taste import Taste
from .understand import TitleMatcher, Turn, read_turn

READINGS = 64  # parsed requests an agent keeps: a refinement's topic was read at its own turn


class ChatState(TypedDict, total=False):
    """One session's state, checkpointed after every step (`agent.state` holds the models)."""

    message: str
    feedback: Feedback  # given with the message: thumbs on cards, how many picks
    taste: Taste  # the session: constraints, bans, likes, what is on screen
    turn: Plan  # what this message asks for, as understood
    candidates: list[Candidate]  # what each signal found
    picks: list[Pick]  # what the ranking kept: the list on screen
    reply: str
    extra: Extra
    turns: int


@dataclass
class View:
    """A session as a UI shows it: the conversation so far, and the list on screen."""

    history: list[tuple[str, str]]  # (message, reply), oldest first (empty unless asked for)
    picks: list[dict[str, Any]]  # the list on screen as track objects: what "#2" refers to
    shows_tracks: bool  # the last turn showed that list (a question or a "why #2?" leaves the cards as they are)
    suggestions: list[str] = field(default_factory=list)  # the next steps the last turn offered

    @property
    def cards(self) -> list[dict[str, Any]]:
        return self.picks if self.shows_tracks else []


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
        self.intents = Intents(self.catalog, self.chat, self.read)
        self._checkpoint = checkpoint or self.settings.sessions_path
        self._db: sqlite3.Connection | None = None
        self._graph: Any = None
        self._graph_lock = threading.Lock()
        self._titles: tuple[Any, TitleMatcher] | None = None
        self._readings: OrderedDict[str, Request] = OrderedDict()
        self._readings_for: Any = None  # the artist matcher they were read with
        self._readings_lock = threading.Lock()

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
                serde = JsonPlusSerializer(allowed_msgpack_modules=[
                    ("agent.taste", "Taste"), *(("agent.state", m.__name__) for m in STORED)])
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

    def _understand(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        taste = session_taste(state.get("taste"))
        index = self.catalog.index()
        feedback = state.get("feedback") or Feedback()
        for track_id in feedback.liked:  # a thumbs-up on a card, or a listener's own list
            if index.get(track_id) is not None:
                taste.like(track_id)
        for track_id in feedback.disliked:
            if index.get(track_id) is not None:
                taste.dislike(track_id)
        turn = read_turn(state.get("message", ""), self.catalog.artist_matcher(), self._title_matcher(index),
                         len(taste.shown), reader=self.read)
        taste.apply(turn, self.catalog)
        if turn.habitual:  # "like what I usually play": say what that was taken to mean
            if _prior(config, self.prior) is not None:
                taste.notes.append("from your listening history")
            elif not taste.liked:
                taste.notes.append("no listening history yet: `encore history import FILE --user NAME` adds one")
        plan = _plan(turn, taste)
        if feedback.n:  # asked for exactly this many (the CPCD eval's 100)
            plan.n = int(feedback.n)
        elif feedback.default_n and not turn.n and plan.intent != "playlist":
            plan.n = int(feedback.default_n)  # the listener's setting, unless the message says a count
        if plan.search:
            plan.request = self.read(plan.search)  # this message's own reading, or the topic's from its turn
        if plan.search and plan.search == turn.text:  # a new request: the model may add to the rules
            rules_only = self.settings.understand == "rules" or not self.prose
            plan.hints = read_hints(self.chat(), turn.text, rules_only=rules_only)
        return {"taste": taste, "turn": plan, "extra": Extra(), "turns": state.get("turns", 0) + 1}

    def _needs_tracks(self, state: ChatState) -> bool:
        plan = plan_of(state)
        if plan.intent in ("recommend", "refine", "feedback"):
            return True
        # "make this a playlist" reuses the list on screen; "a playlist of 90s hip-hop" searches first
        return plan.intent == "playlist" and (plan.has_content or not state["taste"].shown)

    def _retrieve(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        plan = plan_of(state)
        # set at understand; a turn resumed from its checkpoint has only the words (the reading is not stored)
        request = plan.request or (self.read(plan.search) if plan.search else None)
        if request is not None and plan.hints:
            request = merge(request, plan.hints, self.catalog.artist_matcher())
        return {"candidates": candidates(self.catalog, state["taste"], request, plan.n, plan.named,
                                         fresh=not self.repeats, prior=_prior(config, self.prior),
                                         habitual=plan.habitual)}

    def _rank(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        taste = state["taste"].model_copy(deep=True)
        plan = plan_of(state)
        index = self.catalog.index()
        on_screen = [h for h in (p.hit(index) for p in picks_of(state) if p.id in taste.shown) if h is not None]
        kept: list[Hit] = []
        if plan.intent == "feedback":  # thumbs up/down edit the list on screen: disliked ones are replaced
            kept = [h for h in on_screen if h.track.id not in taste.disliked]
        elif plan.narrows:  # "only before 1995", "just the rock ones": what still fits stays, in its places
            kept = still_fitting(self.catalog, taste, on_screen, plan.request or
                                 (self.read(plan.search) if plan.search else None))[:plan.n]
        prior = _prior(config, self.prior)
        hits = rank(self.catalog, taste, candidates_of(state), plan.n, plan.named, avoided=_avoided(prior),
                    kept=kept)
        picks = [Pick.of(h) for h in hits]
        if picks:  # when nothing fits, the last list stays on screen ("why #2?" still means it)
            taste.shown = [p.id for p in picks]
        taste.history += [i for i in taste.shown if i not in taste.history]
        return {"picks": picks, "taste": taste}

    def _respond(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        return self.intents.write(state, config["configurable"].get("on_text"))

    def _verify(self, state: ChatState) -> dict[str, Any]:
        """Last check on the whole reply: every track returned exists; every sentence names only allowed music."""
        index = self.catalog.index()
        picks = [p for p in picks_of(state) if index.get(p.id) is not None]
        reply = self.intents.verify(state.get("reply", ""), state)
        extra = extra_of(state)
        if extra.sentences is None:
            return {"picks": picks, "reply": reply}
        by_model = {s["text"] for s in extra.sentences if s["by"] == "model"}  # as the check left them
        return {"picks": picks, "reply": reply,
                "extra": extra.model_copy(update={"sentences": authored(reply, by_model)})}

    def read(self, text: str) -> Request:
        """`text` parsed against this catalog; the agent keeps its last readings, so a message is parsed once
        however many steps of its turn (and later turns refining it) ask."""
        matcher = self.catalog.artist_matcher()
        with self._readings_lock:
            if self._readings_for is not matcher:  # the catalog changed: its artists may read differently
                self._readings_for = matcher
                self._readings.clear()
            if text in self._readings:
                self._readings.move_to_end(text)
                return self._readings[text]
        request = self.catalog.read(text)
        with self._readings_lock:
            self._readings[text] = request
            while len(self._readings) > READINGS:
                self._readings.popitem(last=False)
        return request

    # --- running a turn --------------------------------------------------------------------------------------

    def say(self, message: str, session: str | None = None, on_text: Callable[[str], None] | None = None,
            liked: list[str] = (), disliked: list[str] = (), n: int | None = None,
            default_n: int | None = None, prior: Prior | None = None) -> Result:
        """One turn. `liked`/`disliked` are catalog track ids the listener marked since the last turn (thumbs on
        cards); `n` how many picks to show whatever the message says; `default_n` how many when the message
        does not say (a setting of the listener's; otherwise 6, or 12 for a playlist); `prior` this listener's
        profile (`agent.Listener`), which is never stored in the session."""
        session = session or new_session_id()
        feedback = Feedback(liked=list(liked), disliked=list(disliked), n=n, default_n=default_n)
        # what only this call has (where text goes, whose profile) rides on the run's config, never the checkpoint
        state = self.graph.invoke({"message": message, "feedback": feedback},
                                  {"configurable": {"thread_id": session, "on_text": on_text, "prior": prior}})
        plan = plan_of(state)
        tracks = self._tracks(picks_of(state)) if plan.shows_tracks else []
        return Result(state.get("reply", ""), tracks, session, plan.intent, extra_of(state).to_dict())

    def _tracks(self, picks: list[Pick]) -> list[dict[str, Any]]:
        index = self.catalog.index()
        return [track_dict(hit) for hit in (p.hit(index) for p in picks) if hit is not None]

    def picks(self, text: str, n: int = 10, prior: Prior | None = None, max_per_artist: int | None = MAX_PER_ARTIST
              ) -> tuple[Turn, list[Hit], frozenset[str]]:
        """One request, no session: how it reads, its ranked picks (`encore recommend --user`, playlists), and
        which of them the listening profile brought (a served model may not see those: `Intents.private`).
        `max_per_artist`: the diversity cap (None: no cap)."""
        index = self.catalog.index()
        turn = read_turn(text, self.catalog.artist_matcher(), self._title_matcher(index), reader=self.read)
        taste = Taste()
        taste.apply(turn, self.catalog)
        request = turn.request if turn.request and turn.has_content else None
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
            return {"title": "", "description": "", "tracks": [track_dict(h) for h in hits]}
        verifier = Verifier([h.track for h in hits], self.catalog.artist_matcher(), tuple(turn.like_artists))
        title, description = writing.playlist(None if private else self.chat(), self.read(text.strip()), hits,
                                              verifier)
        return {"title": title, "description": description, "tracks": [track_dict(h) for h in hits]}

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
        state = self._values(session)
        if not state:
            return {}
        plan = plan_of(state)
        found: dict[str, int] = {}
        for record in candidates_of(state):
            found[record.source] = found.get(record.source, 0) + 1
        return {"intent": plan.intent, "notes": plan.notes, "named": plan.named, "search": plan.search,
                "candidates": found, "picks": len(picks_of(state)), "shows_tracks": plan.shows_tracks,
                "dropped": extra_of(state).dropped or 0}

    def view(self, session: str, history: bool = True) -> View:
        """The session as a UI shows it: every turn's message and reply (unless `history` is False), and the
        list on screen."""
        turns: dict[int, tuple[str, str]] = {}
        for snapshot in self.graph.get_state_history({"configurable": {"thread_id": session}}) if history else ():
            values = snapshot.values
            if not snapshot.next and values.get("turns") and values["turns"] not in turns:
                turns[values["turns"]] = (values.get("message", ""), values.get("reply", ""))
        state = self._values(session)
        picks = self._tracks(picks_of(state)) if state else []
        shows = bool(state) and plan_of(state).shows_tracks
        offers = (extra_of(state).suggestions or []) if shows else []
        return View([turns[n] for n in sorted(turns)], picks, shows, offers)

    def _values(self, session: str) -> dict[str, Any]:
        return self.graph.get_state({"configurable": {"thread_id": session}}).values

    def taste(self, session: str) -> Taste:
        return session_taste(self._values(session).get("taste"))

    def exists(self, session: str) -> bool:
        return bool(self._values(session))

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


def _prior(config: RunnableConfig, default: Prior | None) -> Prior | None:
    """This turn's listener profile (`say(prior=...)`), else the agent's."""
    return config["configurable"].get("prior") or default


def _plan(turn: Turn, taste: Taste) -> Plan:
    intent = turn.intent
    search = ""
    if intent == "recommend" and turn.new_topic or intent == "playlist" and turn.has_content:
        search = turn.request.text if turn.request else ""
    elif intent in ("refine", "feedback", "playlist", "recommend"):  # "more", "one more": the current topic
        search = taste.topic
    default_n = 12 if intent == "playlist" else DEFAULT_N
    return Plan(intent=intent, n=turn.n or default_n, refs=list(turn.refs), notes=list(taste.notes), search=search,
                has_content=turn.has_content, narrows=turn.narrows, text=turn.text,
                named=list(turn.request.artists if turn.request else ()) + list(turn.like_artists),
                seed_titles=list(turn.seed_titles), habitual=turn.habitual, shows_tracks=intent in SHOWS_TRACKS)


STORED = (Plan, Candidate, Pick, Extra, Feedback)  # the state's models, which a checkpoint may rebuild
