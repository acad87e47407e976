"""Fine-tuning: the corpus (cleaning, duplicates, splits, bad inputs) and a real training run that is killed and
resumed, whose adapter then loads in-process and changes what the model says (the vLLM check is in test_vllm)."""

from __future__ import annotations

import csv
import json

import pytest

from finetune.corpus import build, clean, language, near_duplicates, split_of
from finetune.errors import CorpusError


def test_cleaning():
    assert clean("Die Son - ne sinkt") == "Die Sonne sinkt"
    assert clean("<i>Hello</i>   world [b]again[/b]") == "Hello world again"
    assert clean("line one  \n\n\n\n line two") == "line one\n\nline two"


def test_language_and_split_are_stable():
    assert language("the night is long and you are gone with the wind in my hair") == "en"
    assert language("ich weiß nicht, was soll es bedeuten, dass ich so traurig bin und die") == "de"
    assert language("我今天很伤感，想听一些安静的音乐，下雨的晚上") == "zh"
    assert split_of("abc") == split_of("abc")
    assert sum(split_of(str(i)) == "validation" for i in range(2000)) in range(150, 250)


def test_near_duplicates_are_found():
    text = "A slow, warm ballad with brushed drums, upright bass and a smoky voice singing about the rain at night."
    texts = [text, text.replace("smoky", "husky"), "A loud punk song with fast drums and shouted vocals all over."]
    assert near_duplicates(texts, threshold=0.6) == {1}


def test_bad_inputs_are_skipped_with_a_report(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps({"id": i, "title": f"Song {i}", "lyrics": f"Verse {i}: " + "la " * 30
                                          + f"and the night {i} goes on and on"}) for i in range(20)) + "\n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "huge.jsonl").write_text(json.dumps({"text": "x" * 5_000_000}) + "\n")
    with (tmp_path / "wrong.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["a", "b"], ["1", "2"]])
    corpus = build(lyrics=[good, tmp_path / "binary.txt"], comments=[tmp_path / "huge.jsonl", tmp_path / "wrong.csv"])
    assert corpus.stats["examples"] == 20
    reasons = "\n".join(corpus.skipped)
    assert "binary file" in reasons and "too long" in reasons and "no text column" in reasons


def test_nothing_usable_is_one_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no .* files in this folder"):
        build(lyrics=[empty])
    with pytest.raises(CorpusError, match="no such file"):
        build(comments=[tmp_path / "missing.csv"])
    (tmp_path / "bin.txt").write_bytes(b"\x00" * 64)
    with pytest.raises(CorpusError, match="no usable text"):
        build(lyrics=[tmp_path / "bin.txt"])


def test_cli_errors_are_one_line(tmp_path, capsys):
    from tests.conftest import run_cli

    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(["finetune", "--lyrics", str(empty), "--out", str(tmp_path / "x")], capsys)
    assert code == 1 and err.startswith("encore: error:") and err.count("\n") == 1
    code, _, err = run_cli(["finetune", "--comments", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "x"),
                            "--rank", "12"], capsys)
    assert code == 1 and "rank" in err


@pytest.mark.integration
def test_training_resumes_after_a_kill_and_exports_what_vllm_loads(trained_adapter):
    manifest = json.loads((trained_adapter / "manifest.json").read_text())
    assert manifest["steps"] == 6 and manifest["resumed_from"].startswith("checkpoint-")
    metrics = manifest["metrics"]
    assert {"perplexity_base", "perplexity_adapter"} <= set(metrics) and manifest["base_model"]
    steps = [int(r["step"]) for r in csv.DictReader((trained_adapter / "loss.csv").open())]
    assert steps[-1] == 6 and set(range(1, 7)) <= set(steps)  # the resumed run continued, it did not restart
    config = json.loads((trained_adapter / "adapter_config.json").read_text())
    assert config["r"] == 8 and not config.get("modules_to_save")
    assert (trained_adapter / "adapter_model.safetensors").is_file()
    assert (trained_adapter / "loss.png").is_file() and "perplexity" in (trained_adapter / "report.md").read_text()


@pytest.mark.integration
def test_trained_adapter_changes_the_in_process_model(trained_adapter, smollm2):
    from langchain_core.messages import HumanMessage

    from agent.engines import LocalChatModel

    prompt = [HumanMessage("Write two lines of a song about the sea.")]
    base = LocalChatModel(model_path=str(smollm2), temperature=0.0).invoke(prompt, max_tokens=24).content
    tuned = LocalChatModel(model_path=str(smollm2), adapter=str(trained_adapter), temperature=0.0).invoke(
        prompt, max_tokens=24).content
    assert base.strip() and tuned.strip() and base != tuned


def test_short_texts_are_reported_with_their_place(tmp_path):
    source = tmp_path / "lyrics.jsonl"
    rows = [{"title": f"T{i}", "lyrics": f"A long enough verse number {i} about the sea and the sky and you."}
            for i in range(12)] + [{"title": "Tiny", "lyrics": "<b>la</b>"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = build(lyrics=[source])
    assert corpus.stats["examples"] == 12
    assert corpus.skipped == [f"{source}:13: under 40 characters of text after cleaning"]
