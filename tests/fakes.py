"""A scripted chat model for fast agent tests: answers by looking at the prompt, streams word by word."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


def default_script(prompt: str) -> str:
    if "short, evocative title" in prompt:
        return "Night Drive Glow"
    if "playlist description" in prompt:
        return "A warm, unhurried set for late hours. Soft grooves drift into brighter moments."
    if "Continue the review" in prompt:
        return "On a second listen the details stand out. Play it loud on a long evening drive."
    if "Write a review" in prompt:
        return " ".join(["The arrangement breathes, and every part has room."] * 3
                        + ["It feels like a late walk home with the city still humming."] * 2)
    return "A gentle, unhurried set to soften the edges of the day. Enjoy every moment of it."


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
