"""The conversational agent: LLM engines, understanding a turn, tools, the LangGraph graph and session memory.

Front door: `Agent` (one chat turn: `Agent().say(text, session)`; also `playlist()` and `review()`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Agent"]


def __getattr__(name: str) -> Any:  # the graph pulls in LangGraph: load it only when asked for
    if name == "Agent":
        from .graph import Agent

        return Agent
    raise AttributeError(name)
