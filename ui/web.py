"""`encore ui`: the web app (Gradio). Chat that streams, track cards with 👍/👎 and previews, a playlist studio and
a review studio, all on `agent.Agent` (the same graph, sessions and verifier as `encore chat`); the app adds no
recommendation logic of its own.

    encore ui                         # http://127.0.0.1:7860 (loopback only unless --host is given)
    encore ui --host 0.0.0.0 --port 8080 --collection freemusicc
    ENCORE_UI_AUTH=me:secret encore ui

Each browser tab has its own session; `?session=ID` in the URL resumes one after a reload or a restart. With auth
on, a session belongs to its user. Catalog text (titles, descriptions, reviews) is data: it is escaped wherever
it is rendered, never executed. The chat handler is also an API endpoint:

    from gradio_client import Client
    Client("http://127.0.0.1:7860").predict("rainy evening jazz", "", api_name="/chat")
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from agent import Agent
from agent.graph import new_session_id
from agent.listening import Listener, Profiles
from retrieval import Catalog
from retrieval.errors import EncoreError
from retrieval.settings import Settings

from .render import (
    CSS,
    MAX_CHARS,
    NO_PROFILE,
    _in_background,
    _last_user_message,
    _md,
    _plain_error,
    _steps,
    _text,
    _without_last_turn,
    card_html,
)
from .studios import Studios

CONCURRENCY = 8  # chat turns served at once; the rest queue


EXAMPLES = ["rainy evening jazz", "90s hip-hop for a road trip, nothing with a piano",
            "something like Bon Iver but less sleepy", "music to study to, no vocals",
            "upbeat songs from before 1980", "我今天很伤感，想听安静的歌"]
BUSY = "Answering\u2026 you can type your next message: it is sent when this answer is done."
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")




class WebApp(Studios):
    """The app's handlers; one `Agent` per collection, shared by every session (threads)."""

    def __init__(self, settings: Settings | None = None, agent: Agent | None = None, n: int = 6):
        self.settings = settings or Settings.load()
        self.n = n
        self._agents: dict[str, Agent] = {}
        self._lock = threading.Lock()
        if agent is not None:
            self._agents[agent.catalog.name] = agent
            self.default_collection = agent.catalog.name
        else:
            self.default_collection = self.settings.collection
        self.exports = Path(tempfile.mkdtemp(prefix="encore-exports-"))
        self.profiles = Profiles(self.settings)
        self._listeners: dict[tuple[str, str], tuple[int, Listener]] = {}

    # --- plumbing ----------------------------------------------------------------------------------------------

    def agent(self, collection: str | None = None) -> Agent:
        name = collection or self.default_collection
        with self._lock:
            if name not in self._agents:
                self._agents[name] = Agent(Catalog(name, settings=self.settings), settings=self.settings)
            return self._agents[name]

    @staticmethod
    def thread(session: str, request: gr.Request | None) -> str:
        """The checkpoint thread of a session: a signed-in user's sessions are theirs alone."""
        user = getattr(request, "username", None) if request is not None else None
        return f"{user}/{session}" if user else session

    def listener(self, choice: str | None, agent: Agent, request: gr.Request | None) -> Listener | None:
        """The listening profile for this turn: a signed-in listener's own (never another's), else the one picked
        in Settings. Rebuilt when its file changes (a new import)."""
        user = getattr(request, "username", None) if request is not None else None
        name = user or (choice if choice and choice != NO_PROFILE else None)
        try:
            if not name or not self.profiles.exists(name):
                return None
            stamp = self.profiles.path(name).stat().st_mtime_ns
        except (EncoreError, OSError):
            return None
        key = (name, agent.catalog.name)
        with self._lock:
            cached = self._listeners.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        listener = Listener(self.profiles.profile(name, agent.catalog))
        with self._lock:
            self._listeners[key] = (stamp, listener)
        return listener

    def profile_choices(self, request: gr.Request) -> Any:
        """Signed in: only the listener's own profile. Otherwise every profile on this machine."""
        user = getattr(request, "username", None) if request is not None else None
        if user:
            own = [user] if self.profiles.exists(user) else []
            return gr.update(choices=[NO_PROFILE, *own], value=own[0] if own else NO_PROFILE, interactive=False,
                             info="Your login's listening profile" if own else "No listening profile for your login")
        return gr.update(choices=[NO_PROFILE, *self.profiles.names()], value=NO_PROFILE, interactive=True)

    def close(self) -> None:
        for agent in self._agents.values():
            agent.close()

    # --- chat --------------------------------------------------------------------------------------------------

    def start(self, request: gr.Request) -> tuple[str, str, list, list]:
        """A new tab: resume `?session=ID` when it names a conversation, else a fresh session."""
        asked = (request.query_params.get("session") or "").strip() if request else ""
        if SESSION_ID.match(asked):
            agent = self.agent()
            if agent.exists(self.thread(asked, request)):
                history, picks = self._restore(agent, self.thread(asked, request))
                return asked, asked, history, picks
        session = new_session_id()
        return session, session, [], []

    def _restore(self, agent: Agent, thread: str) -> tuple[list, list]:
        """The conversation so far (user turns and replies) and the cards on screen, as the agent sees them."""
        view = agent.view(thread)
        history: list = []
        for message, reply in view.history:
            history += [{"role": "user", "content": _text(message)}, {"role": "assistant", "content": _text(reply)}]
        return history, view.cards

    def respond(self, message: str, history: list, session: str, collection: str, n: float, profile: str,
                request: gr.Request) -> Iterator[tuple[list, list, str, str]]:
        """One turn, streamed: the steps, the grounded list at once, then the model's remark sentence by sentence.
        Yields (chat history, picks for the cards, message box, notice)."""
        history = list(history or [])
        text = (message or "").strip()
        if not text:
            yield history, gr.skip(), "", "Type what you would like to hear, or pick an example below."
            return
        notice = ""
        if len(text) > MAX_CHARS:
            text, notice = text[:MAX_CHARS], f"Your message was long: only its first {MAX_CHARS} characters were read."
        history.append({"role": "user", "content": _text(text)})
        try:
            agent = self.agent(collection)
        except EncoreError as error:
            history.append({"role": "assistant", "content": _text(f"\u26a0 {_plain_error(error)}")})
            yield history, gr.skip(), "", _plain_error(error)
            return
        thread = self.thread(session or new_session_id(), request)  # a script on /chat_stream has no tab state
        started = time.monotonic()
        prior = self.listener(profile, agent, request)
        texts, outcome = _in_background(
            lambda on_text: agent.say(text, thread, on_text=on_text, default_n=int(n) if n else None, prior=prior))
        step = gr.ChatMessage(role="assistant", content="Reading your message and searching the catalog\u2026",
                              metadata={"title": "Working", "status": "pending"})
        # the box is cleared once, now: what the listener types while this turn runs stays there, and is sent
        # as the next turn when this one ends (the chat event runs its last submission after the pending one)
        busy = (notice + " " + BUSY).strip()
        yield [*history, step], gr.skip(), "", busy
        streamed, picks_shown = "", False
        for piece in texts:
            streamed += piece
            picks = gr.skip()
            if not picks_shown:  # the picks are ranked before any text: the cards come with the list
                shown, picks_shown = self._picks(agent, thread), True
                picks = gr.skip() if shown is None else shown
            yield [*history, step, {"role": "assistant", "content": _text(streamed)}], picks, gr.skip(), busy
        if "error" in outcome:
            failure = _plain_error(outcome["error"])
            history.append({"role": "assistant", "content": _text(f"\u26a0 {failure}")})
            yield history, gr.skip(), gr.skip(), failure
            return
        result = outcome["result"]
        steps = _steps(agent.trace(thread), time.monotonic() - started)
        reply = result.reply or streamed
        history += [*steps, {"role": "assistant", "content": _text(reply)}]
        if result.extra.get("notice"):
            notice = (notice + " " + result.extra["notice"]).strip()
        yield history, result.tracks if result.tracks else gr.skip(), gr.skip(), notice

    def offers(self, session: str, collection: str, request: gr.Request) -> list[str]:
        """The next steps the session's last turn offered, for the chips under the chat."""
        try:
            agent = self.agent(collection)
            thread = self.thread(session, request)
            return agent.view(thread, history=False).suggestions if session and agent.exists(thread) else []
        except EncoreError:
            return []

    def send_offer(self, offer: str, history: list, session: str, collection: str, n: float, profile: str,
                   request: gr.Request) -> Iterator[tuple[list, list, str]]:
        """A chip clicked: its words are the next message (what is typed in the box stays there)."""
        for chat, picks, _box, notice in self.respond(offer, history, session, collection, n, profile, request):
            yield chat, picks, notice

    def _picks(self, agent: Agent, thread: str, shown_only: bool = True) -> list | None:
        """The session's picks, which "#2" refers to; with `shown_only`, None when its last turn showed none (a
        question, a "why #2?": the cards stay as they are)."""
        view = agent.view(thread, history=False)
        return view.picks if view.shows_tracks or not shown_only else None

    def retry(self, history: list, session: str, collection: str, n: float, profile: str,
              request: gr.Request) -> Iterator[tuple[list, list, str, str]]:
        """Undo the last turn and send its message again."""
        last = _last_user_message(history)
        if not last:
            yield history, gr.skip(), "", "Nothing to retry yet."
            return
        agent = self.agent(collection)
        agent.undo(self.thread(session, request))
        yield from self.respond(last, _without_last_turn(history), session, collection, n, profile, request)

    def undo(self, history: list, session: str, collection: str, request: gr.Request) -> tuple[list, list, str]:
        agent = self.agent(collection)
        if not agent.undo(self.thread(session, request)):
            return history, gr.skip(), "Nothing to undo."
        thread = self.thread(session, request)
        picks = self._picks(agent, thread, shown_only=False) if agent.exists(thread) else []
        return _without_last_turn(history), picks, "The last turn was undone."

    def new_conversation(self) -> tuple[str, str, list, list, str]:
        session = new_session_id()
        return session, session, [], [], "A new conversation."

    def delete(self, session: str, collection: str, request: gr.Request) -> tuple[str, str, list, list, str]:
        self.agent(collection).delete(self.thread(session, request))
        session = new_session_id()
        return session, session, [], [], "The conversation was deleted."

    def rate(self, track_id: str, liked: bool, session: str, collection: str, request: gr.Request) -> str:
        """👍/👎 on a card: into the session's memory at once, the same path as "👍 2" in chat."""
        agent = self.agent(collection)
        thread = self.thread(session, request)
        if not agent.exists(thread):
            return "Ask for something first: thumbs apply to the picks of this conversation."
        agent.feedback(thread, liked=[track_id] if liked else [], disliked=[] if liked else [track_id])
        track = agent.catalog.index().get(track_id)
        name = track.title if track else track_id
        return (f"\U0001F44D noted: more like \u201c{name}\u201d." if liked
                else f"\U0001F44E noted: \u201c{name}\u201d will not come back.")

    def _like(self, session: str, collection: str, track_id: str, request: gr.Request) -> str:
        return self.rate(track_id, True, session, collection, request)

    def _dislike(self, session: str, collection: str, track_id: str, request: gr.Request) -> str:
        return self.rate(track_id, False, session, collection, request)

    def api_chat(self, message: str, session: str | None, request: gr.Request) -> dict[str, Any]:
        """The chat as an API: {"reply", "tracks", "session"} (a new session when none is given)."""
        text = (message or "").strip()[:MAX_CHARS]
        session = session if session and SESSION_ID.match(session) else new_session_id()
        if not text:
            return {"reply": "", "tracks": [], "session": session, "error": "empty message"}
        try:
            agent = self.agent()
            result = agent.say(text, self.thread(session, request), prior=self.listener(None, agent, request))
        except EncoreError as error:
            return {"reply": "", "tracks": [], "session": session, "error": _plain_error(error)}
        return {"reply": result.reply, "tracks": result.tracks, "session": session}

    def api_feedback(self, session: str, track_id: str, verdict: str, request: gr.Request) -> dict[str, Any]:
        """A card's thumb as an API: verdict "like" or "dislike"; returns the session's likes and dislikes."""
        if verdict not in ("like", "dislike") or not session:
            return {"error": "give a session, a track id and 'like' or 'dislike'"}
        notice = self.rate(track_id, verdict == "like", session, "", request)
        taste = self.agent().taste(self.thread(session, request))
        return {"notice": notice, "liked": taste.liked, "disliked": taste.disliked}

    def api_playlist(self, prompt: str, n: float) -> tuple[dict[str, Any], str | None]:
        """A playlist from a prompt as an API: its JSON and the M3U8 file."""
        tracks, _, title, description, notice = self.playlist_from_prompt(prompt, "", n)
        if not isinstance(tracks, list) or not tracks:
            return {"error": notice, "tracks": []}, None
        m3u8_path, _, _ = self.export(tracks, title, description, "")
        return {"title": title, "description": description, "tracks": tracks}, m3u8_path

    def api_review(self, track_id: str) -> dict[str, Any]:
        try:
            return self.agent().review((track_id or "").strip())
        except EncoreError as error:
            return {"error": _plain_error(error)}

    # --- playlist studio ---------------------------------------------------------------------------------------

    def facts(self) -> str:
        s = self.settings
        engine = f"vLLM server at `{s.llm_url}`" if s.llm_url else "in-process (transformers on this machine)"
        model = s.llm_model or s.model or "SmolLM2-135M-Instruct (the default)"
        return (f"**Engine:** {engine}  \n**Model:** {_md(str(model))}  \n"
                f"**Adapter:** {_md(str(s.adapter)) if s.adapter else 'none'}  \n"
                f"**Catalog store:** {'Chroma server ' + _md(s.chroma_url) if s.chroma_url else 'local Chroma'}")

    def use_collection(self, name: str) -> tuple[str, str]:
        name = (name or "").strip() or self.default_collection
        try:
            count = self.agent(name).catalog.count()
        except EncoreError as error:
            return gr.skip(), _plain_error(error)
        if not count:
            return gr.skip(), f"Collection '{name}' is empty: run `encore ingest FILE --collection {name}`."
        return name, f"Using collection '{name}' ({count} tracks)."

    # --- the page ----------------------------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        with gr.Blocks(title="Encore") as page:
            session = gr.State("")
            picks = gr.State([])
            collection = gr.State(self.default_collection)
            gr.Markdown("# Encore\nTell me your mood or what you are doing; I pick real songs from the catalog and "
                        "say why.")
            notice = gr.Markdown("", elem_id="notice")
            with gr.Tab("Chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Encore", height=540, elem_id="chat", buttons=["copy"])
                        message = gr.Textbox(placeholder="rainy evening jazz, nothing too sad\u2026", lines=1,
                                             show_label=False, elem_id="message", max_length=MAX_CHARS * 2)
                        with gr.Row():
                            send = gr.Button("Send", variant="primary", elem_id="send")
                            retry = gr.Button("Retry", elem_id="retry")
                            undo = gr.Button("Undo", elem_id="undo")
                            new = gr.Button("New conversation", elem_id="new")
                            delete = gr.Button("Delete conversation", variant="stop", elem_id="delete")
                        offers = gr.State([])

                        @gr.render(inputs=[offers])
                        def chips(shown: list) -> None:
                            if not shown:
                                return
                            with gr.Row(elem_id="suggestions"):
                                gr.Markdown("Next:", elem_classes="encore-next")
                                for number, offer in enumerate(shown, 1):
                                    chip = gr.Button(offer, size="sm", elem_id=f"suggestion-{number}",
                                                     elem_classes="encore-suggestion")
                                    chip.click(self.send_offer, [gr.State(offer), chatbot, session, collection,
                                                                 n_picks, profile], [chatbot, picks, notice],
                                               concurrency_limit=CONCURRENCY, concurrency_id="chat",
                                               api_visibility="private").then(
                                        self.offers, [session, collection], offers, api_visibility="private")
                        gr.Examples(EXAMPLES, inputs=message, label="Try")
                        session_box = gr.Textbox(label="Session (add ?session=ID to the address to resume)",
                                                 interactive=False, elem_id="session")
                    with gr.Column(scale=2, elem_id="cards"):
                        gr.Markdown("### Picks")

                        @gr.render(inputs=[picks, session, collection])
                        def cards(shown: list, session_id: str, name: str) -> None:
                            if not shown:
                                gr.Markdown("No picks yet.")
                            for number, pick in enumerate(shown, 1):
                                with gr.Group():
                                    gr.HTML(card_html(pick, number), elem_classes="card")
                                    with gr.Row():
                                        up = gr.Button("\U0001F44D More like this", size="sm",
                                                       elem_id=f"like-{number}")
                                        down = gr.Button("\U0001F44E Not for me", size="sm",
                                                         elem_id=f"dislike-{number}")
                                track = gr.State(pick["id"])
                                up.click(self._like, [session, collection, track], notice, api_visibility="private")
                                down.click(self._dislike, [session, collection, track], notice,
                                           api_visibility="private")
            with gr.Tab("Playlist studio"):
                studio = gr.State([])
                with gr.Row():
                    prompt = gr.Textbox(label="Describe a playlist", placeholder="late-night coding, no vocals",
                                        scale=4, elem_id="playlist-prompt")
                    build = gr.Button("Build from prompt", variant="primary", elem_id="build")
                    from_chat = gr.Button("Use the chat's picks", elem_id="from-chat")
                title = gr.Textbox(label="Title", elem_id="playlist-title")
                description = gr.Textbox(label="Description", lines=3, elem_id="playlist-description")
                listing = gr.HTML("", elem_id="playlist")
                with gr.Row():
                    position = gr.Number(label="Track #", value=1, precision=0, minimum=1, elem_id="position")
                    up_one = gr.Button("Move up")
                    down_one = gr.Button("Move down")
                    drop = gr.Button("Remove")
                    write = gr.Button("Write title and description", elem_id="describe")
                    export = gr.Button("Export", elem_id="export")
                with gr.Row():
                    m3u8_file = gr.File(label="M3U8", elem_id="m3u8")
                    json_file = gr.File(label="JSON", elem_id="json")
            with gr.Tab("Review studio"):
                with gr.Row():
                    query = gr.Textbox(label="Find a track", placeholder="a title, an artist or a mood", scale=4,
                                       elem_id="review-query")
                    find = gr.Button("Search", elem_id="review-search")
                found = gr.Dropdown(label="Track", choices=[], elem_id="review-track")
                write_review = gr.Button("Write the review", variant="primary", elem_id="review-write")
                facts_html = gr.HTML("")
                review_text = gr.Textbox(label="Review", lines=10, buttons=["copy"], elem_id="review-text")
                review_file = gr.File(label="Download")
            with gr.Tab("Settings"):
                collection_box = gr.Textbox(label="Catalog collection", value=self.default_collection)
                n_picks = gr.Slider(3, 20, value=self.n, step=1, label="Picks per answer", elem_id="n-picks")
                profile = gr.Dropdown(label="Listening profile (imported with `encore history import`; it only "
                                            "reorders picks, and stays on this machine)", choices=[NO_PROFILE],
                                      value=NO_PROFILE, elem_id="profile")
                use = gr.Button("Use this collection")
                gr.Markdown(self.facts())
            api_message = gr.Textbox(visible=False)
            api_session = gr.Textbox(visible=False)
            api_out = gr.JSON(visible=False)
            api_button = gr.Button(visible=False)

            turn = dict(fn=self.respond, inputs=[message, chatbot, session, collection, n_picks, profile],
                        outputs=[chatbot, picks, message, notice], concurrency_limit=CONCURRENCY,
                        concurrency_id="chat")
            # one event for Send and Enter: a message sent while a turn runs waits and goes next, in order
            # ("always_last"; the default "once" dropped it); streamed: (history, picks, box, notice) as it comes
            offered = dict(fn=self.offers, inputs=[session, collection], outputs=offers, api_visibility="private")
            gr.on([send.click, message.submit], **turn, trigger_mode="always_last", api_name="chat_stream").then(
                **offered)
            retry.click(self.retry, [chatbot, session, collection, n_picks, profile], [chatbot, picks, message, notice],
                        concurrency_limit=CONCURRENCY, concurrency_id="chat", api_visibility="private").then(**offered)
            undo.click(self.undo, [chatbot, session, collection], [chatbot, picks, notice],
                       api_visibility="private").then(**offered)
            new.click(self.new_conversation, None, [session, session_box, chatbot, picks, notice],
                      api_visibility="private").then(**offered)
            delete.click(self.delete, [session, collection], [session, session_box, chatbot, picks, notice],
                         api_visibility="private").then(**offered)
            from_chat.click(self.playlist_from_picks, picks, [studio, listing, notice], api_visibility="private")
            build.click(self.playlist_from_prompt, [prompt, collection, n_picks, profile],
                        [studio, listing, title, description, notice], concurrency_limit=CONCURRENCY,
                        concurrency_id="chat", api_visibility="private")
            write.click(self.describe, [studio, prompt, collection], [title, description, notice],
                        concurrency_id="chat", api_visibility="private")
            up_one.click(lambda t, p: self.move(t, p, -1), [studio, position], [studio, listing, notice],
                         api_visibility="private")
            down_one.click(lambda t, p: self.move(t, p, 1), [studio, position], [studio, listing, notice],
                           api_visibility="private")
            drop.click(self.remove, [studio, position], [studio, listing, notice], api_visibility="private")
            export.click(self.export, [studio, title, description, collection], [m3u8_file, json_file, notice],
                         api_visibility="private")
            find.click(self.find_tracks, [query, collection], [found, notice], api_visibility="private")
            query.submit(self.find_tracks, [query, collection], [found, notice], api_visibility="private")
            write_review.click(self.review, [found, collection], [review_text, facts_html, review_file, notice],
                               concurrency_id="chat", api_name="review_studio", api_visibility="private")
            use.click(self.use_collection, collection_box, [collection, notice], api_visibility="private")
            api_button.click(self.api_chat, [api_message, api_session], api_out, api_name="chat",
                             concurrency_limit=CONCURRENCY, concurrency_id="chat")
            api_track, api_verdict, api_n = gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Number(
                visible=False)
            api_file = gr.File(visible=False)
            # API-only endpoints, each on a hidden trigger of its own
            gr.Button(visible=False).click(self.api_feedback, [api_session, api_track, api_verdict], api_out,
                                           api_name="feedback")
            gr.Button(visible=False).click(self.api_playlist, [api_message, api_n], [api_out, api_file],
                                           api_name="playlist", concurrency_limit=CONCURRENCY, concurrency_id="chat")
            gr.Button(visible=False).click(self.api_review, api_track, api_out, api_name="review",
                                           concurrency_limit=CONCURRENCY, concurrency_id="chat")
            page.load(self.start, None, [session, session_box, chatbot, picks], api_visibility="private").then(
                **offered)
            page.load(self.profile_choices, None, profile, api_visibility="private")
        return page


    def launch(self, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> tuple[gr.Blocks, str]:
        """Serve the page; `block=False` returns at once (tests, benchmarks). Sign-in when `ui_auth` is set."""
        page = self.build()
        page.queue(default_concurrency_limit=CONCURRENCY)
        auth = self.settings.ui_users() or None
        _, url, _ = page.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block,
                                allowed_paths=[str(self.exports)], css=CSS, quiet=True, footer_links=["api"])
        return page, url


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, collection: str | None = None,
          block: bool = True) -> tuple[gr.Blocks, str]:
    """`encore ui`: the app over the configured (or given) collection."""
    app = WebApp(settings.model_copy(update={"collection": collection}) if collection else settings)
    app.agent()  # fail now, with one clear line, if the catalog cannot be opened
    return app.launch(host, port, block)
