"""LLM engines behind one interface: every engine is a LangChain chat model (`BaseChatModel`) that streams.

- `LocalChatModel`: in-process transformers (CPU or GPU) with an optional peft LoRA adapter.
- vLLM (or any OpenAI-compatible server): `ChatOpenAI(base_url=ENCORE_LLM_URL)`, the adapter chosen by model name.

`get_chat_model()` picks one: `ENCORE_LLM_URL` wins; otherwise the in-process engine with `ENCORE_MODEL`
(default: the pulled SmolLM2) and `ENCORE_ADAPTER`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from retrieval.settings import Settings

from .models import ModelError, default_model_path
from .serve import merge_adapter

ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
# one generation at a time per loaded model: concurrent UI sessions queue instead of corrupting each other
_LOADED: dict[tuple[str, str | None], tuple[Any, Any, threading.Lock]] = {}
_LOADING = threading.Lock()
_STREAMER: list[Any] = []  # transformers' TextIteratorStreamer, imported once under _LOADING


def _streamer_class() -> Any:
    """transformers resolves its names lazily, and two threads resolving the same one at once can fail
    ("cannot import name 'TextIteratorStreamer'"): import it once, under the loading lock."""
    with _LOADING:
        if not _STREAMER:
            from transformers import TextIteratorStreamer

            _STREAMER.append(TextIteratorStreamer)
        return _STREAMER[0]


def _load(model_path: str, adapter: str | None) -> tuple[Any, Any, threading.Lock]:
    key = (model_path, adapter)
    with _LOADING:
        if key not in _LOADED:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if not Path(model_path).exists() and "/" not in model_path:
                raise ModelError(f"no model at {model_path}; run `encore models pull` first")
            device = "cuda" if torch.cuda.is_available() else "cpu"
            dtype = torch.bfloat16 if device == "cuda" else torch.float32
            try:
                tokenizer = AutoTokenizer.from_pretrained(model_path)
                model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device)
            except OSError as error:
                raise ModelError(f"cannot load the model {model_path}: {error}") from error
            if tokenizer.pad_token is None:  # batches pad their shorter prompts on the left
                tokenizer.pad_token = tokenizer.eos_token
            if adapter:
                if not (Path(adapter) / "adapter_config.json").is_file():
                    raise ModelError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
                # merged into the weights: the adapter's output without the LoRA matmuls at every step
                model = merge_adapter(model, adapter)
            model.eval()
            _LOADED[key] = (model, tokenizer, threading.Lock())
        return _LOADED[key]


class LocalChatModel(BaseChatModel):
    """A Hugging Face causal LM run in this process, with its chat template, stop strings and token streaming."""

    model_path: str
    adapter: str | None = None
    max_new_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.15  # small models loop without it ("The music is played ... The music is played")
    _parts: tuple[Any, Any, threading.Lock] | None = PrivateAttr(default=None)
    _batches: list[tuple[list[Future[str]], threading.Thread]] = PrivateAttr(default_factory=list)
    _batches_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "encore-transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "adapter": self.adapter}

    def _ensure(self) -> tuple[Any, Any, threading.Lock]:
        if self._parts is None:
            self._parts = _load(self.model_path, self.adapter)
        return self._parts

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(chunk.message.content for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        import torch

        model, tokenizer, lock = self._ensure()
        TextIteratorStreamer = _streamer_class()  # noqa: N806 - a class
        chat = [{"role": ROLES.get(m.type, "user"), "content": m.content} for m in messages]
        inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True).to(model.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
        temperature = kwargs.get("temperature", self.temperature)
        settings = {**inputs, "streamer": streamer, "max_new_tokens": kwargs.get("max_tokens", self.max_new_tokens),
                    "do_sample": temperature > 0, "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id,
                    "repetition_penalty": kwargs.get("repetition_penalty", self.repetition_penalty)}
        if temperature > 0:
            settings.update(temperature=temperature, top_p=self.top_p)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                with torch.inference_mode():
                    model.generate(**settings)
            except BaseException as error:  # surfaced in the caller's thread below
                failure.append(error)
                streamer.end()

        halt = threading.Event()  # set when the caller stops reading (a stop string, a closed stream)
        settings["stopping_criteria"] = _halt_criteria(halt)
        with lock:
            worker = _Worker(target=work, name="encore-stream")
            worker.start()
            try:
                yield from _until_stop(streamer, stop or [], run_manager)
            finally:  # generation ends with the reading: the next caller gets the model at once
                halt.set()
                worker.join()
        if failure:
            raise failure[0]


    def batch(self, prompts: list[list[BaseMessage]], ended: Callable[[str], bool], max_tokens: int,
              head: int = 0) -> list[Future[str]]:
        """Several prompts in one generation (on two CPU cores 14 rows of a 170-token prompt and 48 new tokens
        take 8.7 s, one row 1.9 s). Each prompt's future gets its text as soon as `ended(text)` holds, or at the
        end of its tokens; the batch ends when every row has. The first `head` prompts go first, in a batch of
        their own, so that their answers (the first thing a reader waits for) come sooner.

        A reader that no longer wants a row cancels its future: the row counts as ended, and once every row
        has, generation stops at the next token. `close()` cancels every row still wanted and waits."""
        import torch

        model, tokenizer, lock = self._ensure()
        with _LOADING:  # transformers' lazy names, resolved once (see _streamer_class)
            from transformers import StoppingCriteria, StoppingCriteriaList
        futures: list[Future[str]] = [Future() for _ in prompts]
        if not prompts:
            return futures
        texts = [tokenizer.apply_chat_template([{"role": ROLES.get(m.type, "user"), "content": m.content}
                                                for m in messages], add_generation_prompt=True, tokenize=False)
                 for messages in prompts]
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        ends = model.generation_config.eos_token_id
        ends = set(ends if isinstance(ends, list) else [ends] if ends is not None else [])
        temperature = self.temperature

        class Rows(StoppingCriteria):
            def __init__(self, width: int, futures: list[Future[str]]):
                self.width, self.futures = width, futures

            def __call__(self, input_ids, scores, **kwargs):
                done = []
                for row, future in zip(input_ids, self.futures, strict=True):
                    if not future.done():
                        new = row[self.width:].tolist()
                        text = tokenizer.decode(new, skip_special_tokens=True)
                        if ended(text) or (new and new[-1] in ends):
                            _settle(future, text)
                    done.append(future.done())
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        def generate(texts: list[str], futures: list[Future[str]]) -> None:
            inputs = tokenizer(texts, return_tensors="pt", padding=True, padding_side="left",
                               add_special_tokens=False).to(model.device)
            width = inputs["input_ids"].shape[1]
            settings = {"max_new_tokens": max_tokens, "do_sample": temperature > 0, "pad_token_id": pad,
                        "repetition_penalty": self.repetition_penalty,
                        "stopping_criteria": StoppingCriteriaList([Rows(width, futures)])}
            if temperature > 0:
                settings.update(temperature=temperature, top_p=self.top_p)
            with torch.inference_mode():
                out = model.generate(**inputs, **settings)
            for row, future in zip(out, futures, strict=True):
                if not future.done():  # its tokens ran out
                    _settle(future, tokenizer.decode(row[width:], skip_special_tokens=True))

        def work() -> None:
            try:
                with lock:
                    for part in (slice(0, head), slice(head, None)):
                        if not all(f.done() for f in futures[part]):  # an empty or a cancelled part is skipped
                            generate(texts[part], futures[part])
            except BaseException as error:  # surfaced where each future is read
                for future in futures:
                    _settle(future, error=error)

        worker = _Worker(target=work, name="encore-batch")
        with self._batches_lock:
            self._batches[:] = [(f, w) for f, w in self._batches if w.is_alive()] + [(futures, worker)]
        worker.start()
        return futures

    def close(self) -> None:
        """Stop every batch that is still generating (its unread rows are cancelled) and wait for it to end."""
        with self._batches_lock:
            batches, self._batches[:] = list(self._batches), []
        for futures, worker in batches:
            for future in futures:
                future.cancel()
            worker.join()


class _Worker(threading.Thread):
    """A generation thread. Never a daemon: the interpreter waits for it before it finalizes. A daemon thread still
    inside torch when the process exits is stopped as it re-takes the GIL, and the unwinding through torch's C++
    frames aborts the process ("terminate called without an active exception", exit 134)."""

    def __init__(self, target: Callable[[], None], name: str):
        super().__init__(target=target, name=name, daemon=False)


def _settle(future: Future, text: str | None = None, error: BaseException | None = None) -> None:
    """Give a row its outcome unless it has one, or its reader cancelled it in the meantime."""
    if future.done():
        return
    try:
        future.set_exception(error) if error is not None else future.set_result(text)
    except InvalidStateError:  # cancelled between the check and the set
        pass


def _halt_criteria(halt: threading.Event) -> Any:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Halt(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), halt.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Halt()])


def _until_stop(pieces: Iterator[str], stop: list[str],
                run_manager: CallbackManagerForLLMRun | None) -> Iterator[ChatGenerationChunk]:
    """Yield text pieces until a stop string appears; holds back only as much text as a stop could need."""
    held = ""
    hold = max((len(s) for s in stop), default=0)
    for piece in pieces:
        held += piece
        cut = min((held.find(s) for s in stop if s in held), default=-1)
        if cut >= 0:
            held = held[:cut]
            break
        ready, held = (held[:-hold], held[-hold:]) if hold else (held, "")
        if ready:
            if run_manager:
                run_manager.on_llm_new_token(ready)
            yield ChatGenerationChunk(message=AIMessageChunk(content=ready))
    if held:
        if run_manager:
            run_manager.on_llm_new_token(held)
        yield ChatGenerationChunk(message=AIMessageChunk(content=held))


def served_chat_model(url: str, model: str | None = None, timeout: float = 60.0, max_tokens: int = 512,
                      settings: Settings | None = None) -> BaseChatModel:
    """A chat model on an OpenAI-compatible server (vLLM). `model` picks a LoRA module by name; by default the
    `encore` adapter if the server has it, else the base model. Fails fast and clearly if nobody answers."""
    import httpx
    from langchain_openai import ChatOpenAI

    settings = settings or Settings.load()
    base = url.rstrip("/")
    base = base if base.endswith("/v1") else base + "/v1"
    try:
        listed = httpx.get(f"{base}/models", timeout=5.0).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as error:
        raise ModelError(f"cannot reach the LLM server at {base} ({type(error).__name__}); start one with "
                         "`encore serve`, or unset ENCORE_LLM_URL to use the in-process model") from error
    names = [m["id"] for m in listed.get("data", [])]
    chosen = model or settings.llm_model or ("encore" if "encore" in names else names[0])
    if chosen not in names:
        raise ModelError(f"the server at {base} has no model {chosen!r} (it has: {', '.join(names)})")
    return ChatOpenAI(base_url=base, api_key=settings.llm_api_key, model=chosen, timeout=timeout, max_retries=1,
                      streaming=True, temperature=settings.temperature, max_tokens=max_tokens)


def get_chat_model(settings: Settings | None = None, **overrides: Any) -> BaseChatModel:
    """The configured engine: `llm_url` (a vLLM server) wins, else the in-process model."""
    settings = settings or Settings.load()
    if settings.llm_url:
        return served_chat_model(settings.llm_url, settings=settings)
    path = settings.model or str(default_model_path(settings))
    overrides.setdefault("temperature", settings.temperature)
    return LocalChatModel(model_path=path, adapter=str(settings.adapter) if settings.adapter else None, **overrides)


class NoModel(BaseChatModel):
    """Says nothing: replies are then only the grounded text built from the catalog (`--no-model`, baselines)."""

    @property
    def _llm_type(self) -> str:
        return "none"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(""))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content=""))
