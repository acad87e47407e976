"""Encore's abilities as LangChain tools, and `agent.mode=tools`: a tool-calling model (e.g. Qwen2.5 served by vLLM
with `--enable-auto-tool-choice --tool-call-parser hermes`) drives them through `langchain.agents.create_agent`.
Small local models use the planned graph (`agent/graph.py`) instead; both end in the same verifier.

    encore chat --mode tools          # with ENCORE_LLM_URL pointing at a tool-calling model
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

from retrieval import CatalogError

from .explain import prompt
from .intents import explain_track
from .taste import Taste
from .verify import Verifier


def make_tools(agent: Any) -> list[BaseTool]:
    """The six tools, bound to one `Agent` (its catalog, model and verifier)."""
    catalog = agent.catalog

    def brief(track, why: str | None = None) -> dict[str, Any]:
        data = {"id": track.id, "title": track.title, "artist": track.artist, "year": track.year,
                "genre": track.genre, "moods": track.moods}
        if why:
            data["why"] = why
        return {k: v for k, v in data.items() if v not in (None, [], "")}

    @tool
    def search_catalog(query: str, k: int = 10) -> str:
        """Search the music catalog by free text (mood, genre, era, artist). Returns tracks as JSON."""
        hits = catalog.search(query, k=max(1, min(k, 25)))
        return json.dumps([brief(h.track, h.why) for h in hits], ensure_ascii=False)

    @tool
    def recommend(request: str, n: int = 6) -> str:
        """Recommend tracks for a listener's request, with a one-sentence reason each. Returns JSON."""
        result = agent.playlist(request, max(3, min(n, 12)), describe=False)
        return json.dumps([{k: t.get(k) for k in ("id", "title", "artist", "year", "why")} for t in result["tracks"]],
                          ensure_ascii=False)

    @tool
    def get_track(track_id: str) -> str:
        """All the catalog's facts about one track, by its id. Returns JSON."""
        try:
            return catalog.get(track_id).model_dump_json(exclude_none=True)
        except CatalogError as error:
            return json.dumps({"error": str(error)})

    @tool
    def explain_pick(track_id: str, request: str) -> str:
        """Why a track fits a request: the evidence (matched moods, genres, era) from the catalog."""
        try:
            track = catalog.get(track_id)
        except CatalogError as error:
            return str(error)
        return explain_track(track, Taste(topic=request), catalog)

    @tool
    def write_review(track_id: str) -> str:
        """Write a 120-250-word review of one catalog track from its facts."""
        try:
            return agent.review(track_id)["review"]
        except CatalogError as error:
            return str(error)

    @tool
    def describe_playlist(request: str, n: int = 12) -> str:
        """Build a playlist for a request: a title, a description and the tracks. Returns JSON."""
        return json.dumps(agent.playlist(request, max(3, min(n, 25))), ensure_ascii=False)

    return [search_catalog, recommend, get_track, explain_pick, write_review, describe_playlist]


def run_tools(agent: Any, chat: BaseChatModel, message: str) -> dict[str, Any]:
    """One turn in tools mode: the model calls tools as it sees fit; its final text is verified against the tracks
    the tools returned, and those tracks are the turn's tracks."""
    from langchain.agents import create_agent

    graph = create_agent(chat, make_tools(agent), system_prompt=prompt("tools_system.txt"))
    state = graph.invoke({"messages": [HumanMessage(message)]})
    index = agent.catalog.index()
    seen: list[str] = []
    for m in state["messages"]:
        if isinstance(m, ToolMessage):
            seen += [i for i in _ids(m.content) if index.get(i) is not None and i not in seen]
    final = next((m for m in reversed(state["messages"]) if isinstance(m, AIMessage) and m.content), None)
    tracks = [index.get(i) for i in seen]
    text = Verifier(tracks, agent.catalog.artist_matcher()).check(str(final.content) if final else "").text
    return {"reply": text, "tracks": [t.model_dump(exclude_none=True) for t in tracks[:25]]}


def _ids(content: Any) -> list[str]:
    try:
        data = json.loads(content)
    except (TypeError, ValueError):
        return []
    rows = data.get("tracks", []) if isinstance(data, dict) else data if isinstance(data, list) else []
    if isinstance(data, dict) and "id" in data:
        rows = [data]
    return [str(r["id"]) for r in rows if isinstance(r, dict) and "id" in r]
