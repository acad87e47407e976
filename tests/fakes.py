"""A scripted chat model for fast agent tests: answers by looking at the prompt, streams word by word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


def default_script(prompt: str) -> str:
    """A model that does its task from the facts it is given (as a well-behaved larger model would)."""
    facts = dict(re.findall(r"(?m)^- ([^:\n]+): (.*)$", prompt))
    if "Answer with the title only" in prompt:
        return "Night Drive Glow"
    if "Introduce the track" in prompt:
        kind = facts.get("genre") or "catalog"
        return f"{facts.get('title')} by {facts.get('artist', 'an unknown artist')} is a {kind} track. It is fine."
    if "Describe how the music sounds" in prompt:
        qualities = facts.get("qualities", "").split(", ")
        return f"The sound is built on {' and '.join(qualities[:2])}."
    if "Describe the mood" in prompt:
        moods = (facts.get("moods") or facts.get("moods (inferred)") or "").split(", ")
        return f"The mood is {moods[0]} and steady." if moods[0] else "It feels like a late walk home."
    if "Introduce these picks" in prompt or "sound and mood of the playlist" in prompt:
        moods = facts.get("moods", "calm").split(", ")
        return f"A {moods[0]} set that holds together from start to finish. Enjoy every {moods[0]} moment of it."
    return "It feels like a late walk home with the city still humming."


class ScriptedChat(BaseChatModel):
    script: Any = default_script  # (last human message) -> answer
    calls: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _answer(self, messages: list[BaseMessage]) -> str:
        prompt = str(messages[-1].content)
        self.calls.append(prompt)
        return self.script(prompt)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._answer(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for i, word in enumerate(self._answer(messages).split(" ")):
            yield ChatGenerationChunk(message=AIMessageChunk(content=("" if i == 0 else " ") + word))


def scripted(script: Callable[[str], str] = default_script) -> ScriptedChat:
    return ScriptedChat(script=script, calls=[])


class ToolCaller(BaseChatModel):
    """A tool-calling model stand-in: first asks for a catalog search, then answers from the tool's result (and
    slips in a song that does not exist, which the verifier must remove)."""

    @property
    def _llm_type(self) -> str:
        return "tool-caller"

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        import json

        from langchain_core.messages import ToolMessage

        results = [m for m in messages if isinstance(m, ToolMessage)]
        if not results:
            call = {"name": "search_catalog", "args": {"query": "calm jazz piano", "k": 3}, "id": "call-1",
                    "type": "tool_call"}
            return ChatResult(generations=[ChatGeneration(message=AIMessage("", tool_calls=[call]))])
        first = json.loads(results[-1].content)[0]
        text = (f"Try \u201c{first['title']}\u201d by {first['artist']}. "
                "Also \u201cMoonlight Forever\u201d by The Invented Band.")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])


class StructuredChat(ScriptedChat):
    """A scripted model that can also fill a schema (as a vLLM server does with json_schema)."""

    supports_structured_output: bool = True
    filled: Any = None

    def with_structured_output(self, schema, **kwargs):
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(lambda messages: schema(**self.filled))
