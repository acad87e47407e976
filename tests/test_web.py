"""The web app, started for real on a free port over the demo catalog and driven the ways people and scripts use
it: `gradio_client` for the API, and Debian's headless Chromium through Playwright for what a person sees.
Screenshots go to test-artifacts/ (git-ignored). The model's remark comes from a scripted chat model, so the
picks and replies are deterministic; everything else (graph, Chroma, verifier, Gradio, the browser) is real.
"""

from __future__ import annotations

import http.server
import io
import json
import math
import shutil
import socket
import struct
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent import Agent
from retrieval import Catalog
from retrieval.store import Store
from tests.conftest import missing
from tests.fakes import ScriptedChat, scripted

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
EVIL = "<img src=x onerror=alert(1)>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(catalog: Catalog, tmp_path: Path, chat=None):
    from ui.web import WebApp

    agent = Agent(catalog=catalog, chat=chat or scripted(), checkpoint=tmp_path / "web-sessions.sqlite")
    app = WebApp(settings=catalog.settings, agent=agent)
    page, url = app.launch("127.0.0.1", _free_port(), block=False)
    return app, page, url


@pytest.fixture
def web(demo_catalog, tmp_path):
    app, page, url = _start(demo_catalog, tmp_path)
    yield app, url
    page.close()
    app.close()


@pytest.fixture(scope="module")
def browser():
    from playwright import sync_api as playwright

    executable = shutil.which("chromium")
    if executable is None:
        missing("Debian's chromium is not installed (`.ci/run` installs it: apt-get install chromium)")
    with playwright.sync_playwright() as p:
        # as root it needs --no-sandbox; the others keep it from calling out on a closed network
        launched = p.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


def _page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.alerts = []
    page.on("dialog", lambda dialog: (page.alerts.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.wait_for_selector("#message textarea", timeout=30_000)
    return page


def _say(page, text: str, timeout: float = 90.0) -> str:
    """Send a message and wait for the streamed reply to finish: no pending step, and the last bot message the
    same across two polls (as Gradio's own browser tests wait)."""
    before = page.locator("[data-testid=bot]").count()
    page.fill("#message textarea", text)
    page.press("#message textarea", "Enter")
    return _reply_after(page, before, text, timeout)


def _reply_after(page, before: int, text: str, timeout: float = 90.0) -> str:
    """The last bot message once more than `before` are there and it has stopped changing."""
    deadline = time.monotonic() + timeout
    last, stable = None, 0
    while time.monotonic() < deadline:
        time.sleep(0.5)
        bots = page.locator("[data-testid=bot]")
        if bots.count() <= before or page.locator("#chat .pending, #chat [data-status=pending]").count():
            continue
        now = bots.last.inner_text()
        stable = stable + 1 if now == last and now.strip() else 0
        last = now
        if stable >= 2:
            return now
    raise AssertionError(f"no finished reply to {text!r} within {timeout} s")


def _cards(page) -> list[str]:
    page.wait_for_selector(".encore-card", timeout=30_000)
    return page.locator(".encore-card").evaluate_all("els => els.map(e => e.dataset.trackId)")


def _wait_cards_change(page, old: list[str], timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _cards(page)
        if now and now != old:
            return now
        time.sleep(0.3)
    raise AssertionError("the cards did not change")


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_api_answers_and_eight_at_once_match_alone(web):
    from gradio_client import Client

    _, url = web
    client = Client(url, verbose=False)
    alone = client.predict("calm piano for reading", "", api_name="/chat")
    assert alone["reply"] and len(alone["tracks"]) == 6 and len(alone["session"]) == 32
    requests = ["calm piano for reading", "energetic workout songs", "rainy evening jazz", "90s hip-hop",
                "sad songs for a breakup", "music to study to, no vocals", "upbeat songs from before 1980",
                "something like Bon Iver"]
    singles = {r: [t["id"] for t in client.predict(r, "", api_name="/chat")["tracks"]] for r in requests}
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda r: Client(url, verbose=False).predict(r, "", api_name="/chat"), requests))
    for request, result in zip(requests, together, strict=True):
        assert "error" not in result, result
        assert [t["id"] for t in result["tracks"]] == singles[request], request
    again = client.predict("only before 1990", alone["session"], api_name="/chat")
    assert again["session"] == alone["session"] and all(t["year"] < 1990 for t in again["tracks"])
    assert client.predict("   ", "", api_name="/chat")["error"] == "empty message"


def test_a_script_chats_likes_exports_and_reviews_through_gradio_client(web, demo_catalog):
    import m3u8
    from gradio_client import Client

    _, url = web
    client = Client(url, verbose=False)
    first = client.predict("relaxing instrumental music", "", api_name="/chat")
    session, liked, disliked = first["session"], first["tracks"][0]["id"], first["tracks"][1]["id"]
    assert client.predict(session, liked, "like", api_name="/feedback")["liked"] == [liked]
    assert client.predict(session, disliked, "dislike", api_name="/feedback")["disliked"] == [disliked]
    more = client.predict("more like that", session, api_name="/chat")["tracks"]
    index = demo_catalog.index()
    seed = index.get(liked)
    share = [t for t in more if (x := index.get(t["id"])).artist_key == seed.artist_key or x.genre == seed.genre
             or set(x.tags) & set(seed.tags)]
    assert len(share) >= 3 and disliked not in {t["id"] for t in more}
    made, m3u8_file = client.predict("late-night coding, no vocals", 8, api_name="/playlist")
    assert made["title"] and len(made["tracks"]) == 8
    playlist = m3u8.loads(Path(m3u8_file).read_text(encoding="utf-8"))
    assert [s.title for s in playlist.segments] == [f"{t['artist']} - {t['title']}" for t in made["tracks"]]
    review = client.predict(liked, api_name="/review")
    assert review["track"]["id"] == liked and len(review["review"].split()) >= 100
    assert "error" in client.predict("no-such-track", api_name="/review")


def test_chat_cards_feedback_undo_playlist_and_review_in_a_browser(web, browser, demo_catalog):
    import m3u8

    app, url = web
    page = _page(browser, url)
    reply = _say(page, "relaxing instrumental music")
    assert reply.startswith("Here are 6 picks")
    assert page.locator("[data-testid=bot]").last.locator("li").count() == 6  # the grounded list, in the chat
    first = _cards(page)
    assert len(first) == 6
    session = page.locator("#session textarea").input_value()
    assert len(session) == 32
    _shot(page, "chat-with-cards")
    liked, disliked = first[0], first[1]
    page.click("#like-1")
    page.wait_for_function("document.querySelector('#notice').innerText.includes('noted')")
    page.click("#dislike-2")
    page.wait_for_function("document.querySelector('#notice').innerText.includes('will not come back')")
    taste = app.agent().taste(session)
    assert taste.liked == [liked] and taste.disliked == [disliked]
    _say(page, "more like that")
    more = _wait_cards_change(page, first)
    index = demo_catalog.index()
    seed = index.get(liked)
    share = [i for i in more if (t := index.get(i)).artist_key == seed.artist_key or t.genre == seed.genre
             or set(t.tags) & set(seed.tags)]
    assert len(more) >= 3 and len(share) >= 3, (seed, [index.get(i) for i in more])
    assert disliked not in more and liked not in more
    # a constraint, then undo: the next turn no longer sees it
    _say(page, "only songs from after 2005")
    assert app.agent().taste(session).year_min == 2006
    page.click("#undo")
    page.wait_for_function("document.querySelector('#notice').innerText.includes('undone')")
    assert app.agent().taste(session).year_min is None
    _say(page, "something calm")
    years = [index.get(i).year for i in _cards(page)]
    assert any(y and y <= 2005 for y in years)
    assert disliked not in _cards(page)  # a dislike holds after an undo of a later turn
    # the playlist studio: the chat's picks, reordered, exported
    page.get_by_role("tab", name="Playlist studio").click()
    page.click("#from-chat")
    page.wait_for_selector(".encore-playlist li")
    page.fill("#position input", "2")
    page.get_by_role("button", name="Move up").click()
    page.wait_for_function("document.querySelector('#notice').innerText.includes('Moved')")
    page.click("#describe")
    page.wait_for_function("document.querySelector('#playlist-title textarea, #playlist-title input').value")
    page.click("#export")
    link = page.locator("#m3u8 a").first
    link.wait_for(timeout=30_000)
    titles = page.locator(".encore-playlist li").all_inner_texts()
    _shot(page, "playlist-studio")
    exported = Path(app.exports).rglob("*.m3u8")
    playlist = m3u8.loads(max(exported, key=lambda p: p.stat().st_mtime).read_text(encoding="utf-8"))
    assert [s.title.split(" - ", 1)[1] for s in playlist.segments] == [t.split(" \u2014 ")[0] for t in titles]
    # the review studio
    page.get_by_role("tab", name="Review studio").click()
    page.fill("#review-query textarea", "piano")
    page.click("#review-search")
    page.wait_for_function("document.querySelector('#notice').innerText.includes('found')")
    page.click("#review-write")
    page.wait_for_function("document.querySelector('#review-text textarea').value.split(' ').length > 60",
                           timeout=60_000)
    _shot(page, "review-studio")
    assert not page.alerts


def _chips(page, timeout: float = 30.0) -> list[str]:
    page.wait_for_selector("#suggestions .encore-suggestion", timeout=timeout * 1000)
    return page.locator("#suggestions .encore-suggestion").all_inner_texts()


def test_each_suggestion_chip_clicked_gives_a_turn_that_honours_it(web, browser, demo_catalog):
    from tests.test_suggestions import _honoured

    app, url = web
    page = _page(browser, url)
    _say(page, "songs for a road trip")
    index = demo_catalog.index()
    before = [index.get(i) for i in _cards(page)]
    offers = _chips(page)
    session = page.locator("#session textarea").input_value()
    assert 2 <= len(offers) <= 3 and offers == app.agent().view(session).suggestions, offers
    _shot(page, "chat-with-suggestions")
    page.fill("#message textarea", "typed, not sent")
    for number, offer in enumerate(offers, 1):
        bots = page.locator("[data-testid=bot]").count()
        page.click(f"#suggestion-{number}")
        _reply_after(page, bots, offer)
        assert page.locator("[data-testid=user]").last.inner_text().strip() == offer  # the chip's own words
        after = [index.get(i) for i in _wait_cards_change(page, [t.id for t in before])]
        assert _honoured(offer, before, after) is None, f"{offer!r}: {_honoured(offer, before, after)}"
        page.click("#undo")  # back to the first list and its chips, for the next one
        page.wait_for_function("document.querySelector('#notice').innerText.includes('undone')")
        page.wait_for_function("(want) => [...document.querySelectorAll('#suggestions .encore-suggestion')]"
                               ".map(b => b.innerText.trim()).join('|') === want", arg="|".join(offers),
                               timeout=30_000)
        assert _cards(page) == [t.id for t in before]
    assert page.locator("#message textarea").input_value() == "typed, not sent"
    assert not page.alerts


def test_two_browser_sessions_never_mix(web, browser):
    app, url = web
    one, two = _page(browser, url), _page(browser, url)
    # Playwright's sync pages belong to this thread: send both at once, then wait for both
    one.fill("#message textarea", "heavy metal")
    two.fill("#message textarea", "calm piano for sleeping")
    one.press("#message textarea", "Enter")
    two.press("#message textarea", "Enter")
    cards_one, cards_two = _cards(one), _cards(two)
    time.sleep(3)  # both turns done (the scripted remark takes well under a second)
    cards_one, cards_two = _cards(one), _cards(two)
    session_one = one.locator("#session textarea").input_value()
    session_two = two.locator("#session textarea").input_value()
    assert session_one != session_two and not set(cards_one) & set(cards_two)
    one.click("#like-1")
    one.wait_for_function("document.querySelector('#notice').innerText.includes('noted')")
    assert app.agent().taste(session_one).liked == [cards_one[0]]
    assert app.agent().taste(session_two).liked == []
    # a reload with ?session= resumes the conversation and its cards
    three = _page(browser, f"{url}?session={session_two}")
    three.wait_for_function(f"document.querySelector('#session textarea').value === '{session_two}'")
    assert _cards(three) == cards_two


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(8000)))
    return buffer.getvalue()


@pytest.fixture
def loopback_audio():
    body = _wav()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tone.wav"
    server.shutdown()


def test_hostile_catalog_text_is_shown_as_text_and_audio_plays(tmp_path, embedder, browser, loopback_audio):
    rows = [{"id": "evil", "title": f"Night {EVIL}\n#EXTM3U", "artist": f"The {EVIL} Band",
             "description": f"A calm piano piece {EVIL}.", "genre": "ambient", "moods": ["calm"],
             "audio_url": loopback_audio, "duration_s": 61, "license": "CC BY 4.0", "source": "test"}]
    rows += [{"id": f"t{i}", "title": f"Loud song {i}", "artist": f"Artist {i}", "genre": "punk",
              "description": "A loud, fast punk song with shouted vocals.", "moods": ["energetic"]} for i in range(8)]
    source = tmp_path / "evil.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    catalog = Catalog("hostile", embedder=embedder, store=Store(embedder, url=""))
    catalog.ingest([source], progress=False)
    app, server, url = _start(catalog, tmp_path)
    try:
        page = _page(browser, url)
        _say(page, "calm piano")
        cards = page.locator(".encore-card")
        assert cards.count() >= 3
        assert page.locator(".encore-card img, #chat img[src=x]").count() == 0
        assert EVIL in cards.first.inner_text()  # the calm piano piece comes first, its markup as text
        assert EVIL in page.locator("#chat").inner_text()
        audio = page.locator(".encore-card audio")
        assert audio.count() == 1
        page.wait_for_function("document.querySelector('.encore-card audio').readyState >= 1", timeout=20_000)
        page.get_by_role("tab", name="Playlist studio").click()
        page.click("#from-chat")
        page.click("#export")
        page.locator("#m3u8 a").first.wait_for(timeout=30_000)
        text = max(Path(app.exports).rglob("*.m3u8"), key=lambda p: p.stat().st_mtime).read_text(encoding="utf-8")
        lines = text.splitlines()
        assert lines[0] == "#EXTM3U" and [x for x in lines if x.startswith("#EXTM3U")] == ["#EXTM3U"]
        assert all(line.startswith("#EXTINF:") for line in lines[1::2]) and len(lines) == 1 + 2 * len(
            page.locator(".encore-playlist li").all())  # the title's newline did not start a line of its own
        assert f"#EXTINF:61,The {EVIL} Band - Night {EVIL} #EXTM3U" in lines and loopback_audio in lines
        page.get_by_role("tab", name="Review studio").click()
        page.fill("#review-query textarea", "Night")
        page.click("#review-search")
        page.wait_for_function("document.querySelector('#notice').innerText.includes('found')")
        page.click("#review-write")
        page.wait_for_function("document.querySelector('#review-text textarea').value.length > 50", timeout=60_000)
        assert page.locator("img[src=x], img[onerror]").count() == 0 and not page.alerts
        assert EVIL in page.locator("#review-text textarea").input_value() or EVIL in page.inner_text("body")
    finally:
        server.close()
        app.close()


class _Down(ScriptedChat):
    """A chat model whose server has gone away."""

    def _stream(self, *args, **kwargs):
        raise ConnectionError("Connection refused")

    def _generate(self, *args, **kwargs):
        raise ConnectionError("Connection refused")


def test_a_model_that_is_down_leaves_the_picks_and_says_so(demo_catalog, tmp_path, browser):
    app, server, url = _start(demo_catalog, tmp_path, chat=_Down(calls=[]))
    try:
        page = _page(browser, url)
        _say(page, "rainy evening jazz")
        assert len(_cards(page)) == 6
        page.wait_for_function("document.querySelector('#notice').innerText.includes('language model is unavailable')")
    finally:
        server.close()
        app.close()


def test_a_chroma_server_that_is_down_is_a_clear_message(demo_catalog, tmp_path, browser):
    from ui.web import WebApp

    settings = demo_catalog.settings.model_copy(update={"chroma_url": "http://127.0.0.1:9", "collection": "demo"})
    app = WebApp(settings=settings)
    server, url = app.launch("127.0.0.1", _free_port(), block=False)
    try:
        page = _page(browser, url)
        reply = _say(page, "rainy evening jazz")
        assert "Chroma" in reply or "chroma" in reply, reply
    finally:
        server.close()
        app.close()


def _addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses."""
    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            found.add(s.getsockname()[0])
        except OSError:
            pass
    return [a for a in found if not a.startswith("127.")]


def test_encore_ui_answers_on_loopback_only(tmp_path, monkeypatch):
    import subprocess
    import sys
    import urllib.request

    monkeypatch.setenv("ENCORE_HOME", str(tmp_path / "home"))
    encore = [sys.executable, "-m", "ui.cli"]
    root = Path(__file__).resolve().parent.parent
    subprocess.run([*encore, "setup", "--no-model"], check=True, cwd=root, capture_output=True, timeout=600)
    port = _free_port()
    server = subprocess.Popen([*encore, "ui", "--port", str(port)], cwd=root, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline, body = time.monotonic() + 180, ""
        while time.monotonic() < deadline and not body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(1)
        assert "Encore" in body
        for address in _addresses():
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://{address}:{port}/", timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_with_sign_in_a_session_belongs_to_its_user(demo_catalog, tmp_path):
    from gradio_client import Client

    from ui.web import WebApp

    settings = demo_catalog.settings.model_copy(update={"ui_auth": SecretStr("ann:pw1,bob:pw2")})
    agent = Agent(catalog=demo_catalog, chat=scripted(), checkpoint=tmp_path / "auth.sqlite")
    app = WebApp(settings=settings, agent=agent)
    page, url = app.launch("127.0.0.1", _free_port(), block=False)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, it gets no answer
            Client(url, verbose=False).predict("jazz", "", api_name="/chat")
        ann = Client(url, auth=("ann", "pw1"), verbose=False)
        first = ann.predict("upbeat songs, no metal", "", api_name="/chat")
        bob = Client(url, auth=("bob", "pw2"), verbose=False)
        stolen = bob.predict("more", first["session"], api_name="/chat")
        assert agent.taste(f"ann/{first['session']}").banned_styles == ["metal"]
        assert agent.taste(f"bob/{first['session']}").banned_styles == []  # bob's own, empty conversation
        assert not agent.exists(first["session"])  # no thread outside a user
        assert stolen["session"] == first["session"]
    finally:
        page.close()
        app.close()


def test_undo_shows_the_cards_the_session_now_refers_to(web):
    """After an undo the cards are the picks "#1" now means: a later turn's cards never stay behind."""
    from ui.web import NO_PROFILE

    app, _ = web
    session, history = "undo-cards", []

    def say(text: str) -> list:
        nonlocal history
        *_, (history, picks, _, _) = app.respond(text, history, session, "demo", 6, NO_PROFILE, None)
        return picks

    jazz = say("jazz for a rainy evening")
    assert isinstance(jazz, list) and jazz
    say("why #1?")
    pop = say("upbeat pop for a party")
    assert isinstance(pop, list) and {p["id"] for p in pop} != {p["id"] for p in jazz}
    history, cards, notice = app.undo(history, session, "demo", None)
    assert "undone" in notice
    assert [c["id"] for c in cards] == [p["id"] for p in jazz]
    history, cards, notice = app.undo(history, session, "demo", None)  # back before "why #1?": the same picks
    assert [c["id"] for c in cards] == [p["id"] for p in jazz]
    history, cards, notice = app.undo(history, session, "demo", None)  # back to nothing: no cards
    assert cards == []


class SlowChat(ScriptedChat):
    """The scripted model at the pace of a busy CPU: each word of a remark takes a while."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            time.sleep(0.4)
            yield chunk


def test_a_message_sent_while_a_turn_runs_is_answered_next(demo_catalog, tmp_path, browser):
    """Typed and sent while the first answer is still being written, the second message waits, keeps its words
    in the box, and is answered after the first, in order; the page says what is happening."""
    app, page_, url = _start(demo_catalog, tmp_path, chat=SlowChat(calls=[]))
    try:
        page = _page(browser, url)
        page.fill("#message textarea", "calm piano for a rainy evening")
        page.press("#message textarea", "Enter")
        page.wait_for_function("document.querySelector('#notice').innerText.includes('Answering')")
        page.fill("#message textarea", "now something upbeat for a run")
        page.press("#message textarea", "Enter")
        assert page.locator("#message textarea").input_value() == "now something upbeat for a run"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and page.locator("[data-testid=user]").count() < 2:
            time.sleep(0.5)
        page.wait_for_function("!document.querySelector('#notice').innerText.includes('Answering')",
                               timeout=120_000)
        users = page.locator("[data-testid=user]").all_inner_texts()
        assert [u.strip() for u in users] == ["calm piano for a rainy evening", "now something upbeat for a run"]
        assert page.locator("#message textarea").input_value() == ""
        session = page.locator("#session textarea").input_value()
        state = app.agent().graph.get_state({"configurable": {"thread_id": session}}).values
        assert state["turns"] == 2 and state["message"] == "now something upbeat for a run"
        _shot(page, "queued-message")
    finally:
        page_.close()
        app.close()
