"""LLM-written explanations: one sentence per pick, written by the configured model from that track's facts only.

Used by `encore recommend --explain`; without it, `why` stays the fast sentence built from the track's fields.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from importlib import resources

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from retrieval import Hit, Track


def prompt(name: str) -> str:
    return resources.files("agent").joinpath("prompts", name).read_text(encoding="utf-8")


def facts(track: Track) -> str:
    """The track's own fields as short lines: all the model may use."""
    lines = [f"title: {track.title}"]
    for label, value in (("artist", track.artist), ("year", track.year), ("genre", track.genre),
                         ("style", ", ".join(track.tags)), ("moods", ", ".join(track.moods)),
                         ("energy (0-1)", track.energy), ("valence (0-1)", track.valence),
                         ("tempo (BPM)", round(track.tempo_bpm) if track.tempo_bpm else None),
                         ("description", track.description)):
        if value not in (None, ""):
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def first_sentence(text: str) -> str:
    text = " ".join(text.replace("\u201c", '"').replace("\u201d", '"').split()).strip(' "')
    match = re.match(r"(.+?[.!?])[\"')\]]*(\s|$)", text)
    return (match.group(1) if match else text).strip()


def explain(chat: BaseChatModel, request: str, hits: list[Hit], workers: int = 4) -> list[str]:
    """One model-written sentence per hit (in order); a hit whose answer is empty keeps its grounded `why`."""
    system = SystemMessage(prompt("explain_system.txt"))
    template = prompt("explain_user.txt")

    def one(hit: Hit) -> str:
        message = HumanMessage(template.format(request=request, facts=facts(hit.track), title=hit.track.title))
        answer = first_sentence(str(chat.invoke([system, message], max_tokens=60).content))
        return answer if len(answer) > 8 else hit.why

    with ThreadPoolExecutor(max_workers=workers) as pool:  # a server batches these; in-process they queue
        return list(pool.map(one, hits))


def explained(chat: BaseChatModel, request: str, hits: list[Hit]) -> list[Hit]:
    """The same hits, each `why` rewritten by the model."""
    return [replace(hit, why=why) for hit, why in zip(hits, explain(chat, request, hits), strict=True)]
