"""What the web app renders and the small pieces its handlers share: track cards and playlist HTML (every
catalog field escaped), M3U8 export, the turn's steps as chat messages, the chat history's shape, and running a
turn in a thread whose texts stream back."""

from __future__ import annotations

import html
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlparse

import gradio as gr

from retrieval import Track
from retrieval.errors import EncoreError

log = logging.getLogger(__name__)
MAX_CHARS = 2000  # longer messages are cut here, and the listener is told
NO_PROFILE = "(none)"  # the profile choice that personalises nothing


# the cards and the "Next:" chips (the page is Gradio's own otherwise)
CSS = """
.encore-card {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;}
.encore-card .n {color: var(--body-text-color-subdued); font-size: 0.85em;}
.encore-card .title {font-weight: 600; font-size: 1.05em;}
.encore-card .meta, .encore-card .license {color: var(--body-text-color-subdued); font-size: 0.85em;}
.encore-card .chip {display: inline-block; border-radius: 999px; padding: 1px 8px; margin: 2px 4px 2px 0;
                    background: var(--background-fill-secondary); font-size: 0.8em;}
.encore-card audio {width: 100%; margin-top: 6px;}
#suggestions {align-items: center; gap: 6px;}
#suggestions .encore-next {flex: 0 0 auto; min-width: 0;}
#suggestions .encore-suggestion {flex: 0 0 auto; border-radius: 999px; min-width: 0;}
"""


def _in_background(call: Callable[[Callable[[str], None]], Any]) -> tuple[Iterator[str], dict[str, Any]]:
    """Run `call(on_text)` in a thread and iterate the texts it emits as they come; once they end, `outcome`
    holds "result" or "error" (logged, and shown by the caller: the app keeps serving)."""
    pieces: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = call(pieces.put)
        except Exception as error:
            log.exception("a background step failed")
            outcome["error"] = error
        finally:
            pieces.put(None)

    threading.Thread(target=work, daemon=True).start()

    def texts() -> Iterator[str]:
        while (piece := pieces.get()) is not None:
            yield piece

    return texts(), outcome


def card_html(pick: dict[str, Any], number: int) -> str:
    """A track card: every catalog field escaped; the audio player only for http(s) links."""
    e = _escape
    meta = " \u00b7 ".join(e(str(x)) for x in (pick.get("year"), pick.get("genre")) if x)
    chips = "".join(f'<span class="chip">{e(m)}</span>' for m in (pick.get("moods") or [])[:5])
    audio = ""
    url = pick.get("audio_url") or ""
    if urlparse(url).scheme in ("http", "https"):
        audio = f'<audio controls preload="metadata" src="{e(url)}"></audio>'
    credit = " \u00b7 ".join(e(str(x)) for x in (pick.get("license"), pick.get("source")) if x)
    return (f'<div class="encore-card" data-track-id="{e(pick["id"])}"><div class="n">#{number}</div>'
            f'<div class="title">{e(pick.get("title", ""))}</div>'
            f'<div class="artist">{e(pick.get("artist") or "unknown artist")}</div>'
            f'<div class="meta">{meta}</div><div class="chips">{chips}</div>'
            f'<p class="why">{e(pick.get("why", ""))}</p>{audio}'
            + (f'<div class="license">{credit}</div>' if credit else "") + "</div>")


def _playlist_html(tracks: list[dict[str, Any]]) -> str:
    if not tracks:
        return "<p>The playlist is empty.</p>"
    rows = "".join(f"<li>{_escape(t.get('title', ''))} \u2014 {_escape(t.get('artist') or 'unknown artist')}"
                   + (f" ({_escape(str(t['year']))})" if t.get("year") else "") + "</li>" for t in tracks)
    return f'<ol class="encore-playlist">{rows}</ol>'


def _track_html(track: Track) -> str:
    return card_html({**track.model_dump(exclude_none=True), "why": track.description or ""}, 1).replace(
        '<div class="n">#1</div>', "")


def to_m3u8(tracks: list[Track], title: str = "") -> str:
    """An extended M3U playlist: #EXTINF with the duration (-1 when unknown) and "artist - title"; the audio URL
    where known, else an encore: URI naming the track. No text can start a line or add one."""
    lines = ["#EXTM3U"]
    if title.strip():
        lines.append(f"#PLAYLIST:{_m3u_text(title)}")
    for track in tracks:
        seconds = int(round(track.duration_s)) if track.duration_s else -1
        name = _m3u_text(f"{track.artist} - {track.title}" if track.artist else track.title)
        lines.append(f"#EXTINF:{seconds},{name}")
        url = track.audio_url or ""
        lines.append(_m3u_text(url) if urlparse(url).scheme in ("http", "https") else f"encore:track:{quote(track.id)}")
    return "\n".join(lines) + "\n"


def _m3u_text(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lstrip("#").strip()


def _file_name(title: str) -> str:
    return re.sub(r"[^\w-]+", "-", (title or "").casefold()).strip("-")[:60]


def _escape(text: Any) -> str:
    return html.escape(str(text or ""), quote=True)


def _text(text: str) -> str:
    """Chat text shown as text: markup in catalog fields or in a message is escaped, not rendered."""
    return html.escape(text or "", quote=False)


def _md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>()#+!|])", r"\\\1", text or "")


def _plain_error(error: BaseException) -> str:
    message = str(error) or type(error).__name__
    if not isinstance(error, EncoreError):
        message = f"Something went wrong ({type(error).__name__}: {message})"
    return message.splitlines()[0][:300]


def _steps(trace: dict[str, Any], seconds: float) -> list[gr.ChatMessage]:
    """The turn's steps, collapsible: what was understood, what the search found, what the ranking kept."""
    if not trace:
        return []
    understood = ", ".join(trace.get("notes") or []) or "no constraints beyond the words"
    steps = [gr.ChatMessage(role="assistant", content=_text(f"Intent: {trace.get('intent')}. Understood: "
                                                           f"{understood}."),
                            metadata={"title": "Understood", "status": "done", "duration": round(seconds, 2)})]
    if trace.get("shows_tracks"):
        found = ", ".join(f"{count} from {source}" for source, count in trace.get("candidates", {}).items())
        steps.append(gr.ChatMessage(role="assistant", content=_text(f"Candidates: {found or 'none'}."),
                                    metadata={"title": "Catalog search", "status": "done"}))
        dropped = trace.get("dropped", 0)
        verdict = (f"the verifier removed {dropped} sentence{'s' if dropped != 1 else ''} of the model's remark "
                   "(a name outside the picks, or off topic)" if dropped else "every sentence of the remark passed")
        steps.append(gr.ChatMessage(role="assistant", content=_text(
            f"{trace.get('picks', 0)} picks after fusion, the hard filters and at most two per artist; every pick "
            f"is a catalog track; {verdict}."), metadata={"title": "Ranking and verification", "status": "done"}))
    return steps


def _last_user_message(history: list) -> str:
    for message in reversed(history or []):
        if _role(message) == "user":
            return html.unescape(_content(message))
    return ""


def _without_last_turn(history: list) -> list:
    history = list(history or [])
    while history and _role(history[-1]) != "user":
        history.pop()
    if history:
        history.pop()
    return history


def _role(message: Any) -> str:
    return message.get("role", "") if isinstance(message, dict) else getattr(message, "role", "")


def _content(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
    if isinstance(content, list):  # Gradio 6 sends blocks: [{"type": "text", "text": ...}]
        return " ".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content or "")
