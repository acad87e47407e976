"""Fine-tuning: the corpus (cleaning, duplicates, splits, bad inputs), instruction pairs that are exactly the
messages the agent serves (retrieval.plans points), the committed held-out MusicCaps clips, and a real training
run that is killed and resumed, whose adapter then loads in-process and changes what the model says (the vLLM
check is in test_vllm)."""

from __future__ import annotations

import ast
import csv
import json

import pytest

from finetune.corpus import FREE_SHARE, build, clean, language, near_duplicates, split_of
from finetune.errors import CorpusError
from finetune.pairs import HELDOUT, heldout_clips, kept, mentioned
from retrieval.plans import SYSTEM, caption_point, review_plan
from tests.conftest import ROOT

TRAIN_CLIPS = ["aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc"]
CAPTIONS = [  # (aspect_list, caption) in the shape of musiccaps.dev.csv
    ("['low quality', 'northern soul', 'groovy bass', 'flat male vocal', 'mono']",
     "The low quality recording features a northern soul song with flat male vocals over a groovy bass. "
     "It is noisy and in mono. Someone is clapping along somewhere far away."),
    ("['acoustic guitar', 'soft female vocal', 'mellow', '4 on the floor kick']",
     "A mellow folk tune where an acoustic guitar is strummed under a soft female vocal. "
     'A "4 on the floor" kick pattern comes in halfway. The listener feels at ease.'),
    ("['aggressive', 'metal', 'distorted electric guitar', 'fast tempo']",
     "This is an aggressive metal song with a distorted electric guitar riff at a fast tempo. "
     "The drummer plays double kick."),
]


def _captions_csv(path, clips):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ytid", "start_s", "end_s", "aspect_list", "caption"])
        for i, clip in enumerate(clips):
            aspects, caption = CAPTIONS[i % len(CAPTIONS)]
            writer.writerow([clip, 30, 40, aspects, caption.replace("song", f"song heard in clip {clip}")])
    return path


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
    code, _, err = run_cli(["finetune", "--comments", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "x"),
                            "--sample", "-1"], capsys)
    assert code == 1 and "--sample" in err and err.count("\n") == 1


@pytest.mark.integration
def test_training_resumes_after_a_kill_and_exports_what_vllm_loads(trained_adapter):
    manifest = json.loads((trained_adapter / "manifest.json").read_text())
    assert manifest["steps"] == 6 and manifest["resumed_from"].startswith("checkpoint-")
    metrics = manifest["metrics"]
    assert {"perplexity_base", "perplexity_adapter"} <= set(metrics) and manifest["base_model"]
    assert metrics["perplexity_captions_base"] is None and metrics["perplexity_captions_pairs"] == 0  # no captions
    steps = [int(r["step"]) for r in csv.DictReader((trained_adapter / "loss.csv").open())]
    assert steps[-1] == 6 and set(range(1, 7)) <= set(steps)  # the resumed run continued, it did not restart
    config = json.loads((trained_adapter / "adapter_config.json").read_text())
    assert config["r"] == 8 and not config.get("modules_to_save")
    assert (trained_adapter / "adapter_model.safetensors").is_file()
    assert (trained_adapter / "loss.png").is_file() and "perplexity" in (trained_adapter / "report.md").read_text()
    sampled = [json.loads(line) for line in (trained_adapter / "sampled.jsonl").read_text().splitlines()]
    assert len(sampled) == 6 and all(len(r["samples"]) == 1 for r in sampled)  # the resumed run drew none again
    assert all(r["samples"][0]["raw"].strip() for r in sampled)  # what the real model wrote, kept or not
    assert manifest["data"]["by_source"].get("sampled", 0) <= 6


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


def test_caption_sentences_become_the_served_sound_point(tmp_path):
    corpus = build(comments=[_captions_csv(tmp_path / "musiccaps.csv", TRAIN_CLIPS)])
    pairs = corpus.examples
    assert pairs and all(e.task == "sound" and e.source == "captions" and e.system == SYSTEM for e in pairs)
    aspects = {clip: ast.literal_eval(CAPTIONS[i][0]) for i, clip in enumerate(TRAIN_CLIPS)}
    for e in pairs:  # what the agent sends for a sound point of exactly the qualities the answer names
        assert e.messages() == caption_point(mentioned(aspects[e.track_id], e.answer)).messages()
    answers = {e.answer for e in pairs}
    assert "It is noisy and in mono." in answers  # one sentence per pair, cut at the sentence end
    assert not any("clapping" in a or "at ease" in a or "double kick" in a for a in answers)  # names no aspect
    assert not any(a.startswith("A mellow folk tune") for a in answers)  # "folk" is no aspect: the checker drops it
    assert all(kept(e.answer, caption_point(mentioned(aspects[e.track_id], e.answer))) for e in pairs)
    first = next(e for e in pairs if e.answer.startswith("The low quality"))
    assert "- qualities: low quality, northern soul, groovy bass, flat male vocal" in first.prompt
    assert "mono" not in first.prompt  # an aspect of the clip, but not of this sentence


def test_aspects_match_whole_words_case_and_plurals():
    aspects = ["Flat male vocal", "4 on the floor kick", "bass", "piano", "hip hop"]
    assert mentioned(aspects, 'Flat male vocals over a "4 on the floor" kick and a BASS line.') == aspects[:3]
    assert mentioned(aspects, "A bassoon and a hip-hop beat.") == ["hip hop"]  # not "bass" inside "bassoon"


def test_held_out_clips_never_reach_training(tmp_path):
    held = sorted(heldout_clips())[:3]
    corpus = build(comments=[_captions_csv(tmp_path / "musiccaps.csv", held + TRAIN_CLIPS)])
    assert {e.track_id for e in corpus.heldout_captions} == set(held)
    assert not {e.track_id for e in corpus.train} & heldout_clips()
    assert {e.track_id for e in corpus.train} == {"aaaaaaaaaaa", "ccccccccccc"}  # the other clips train...
    assert not {e.answer for e in corpus.train} & {e.answer for e in corpus.heldout_captions}  # ...minus copies
    assert corpus.stats["heldout_captions"] == len(corpus.heldout_captions)
    # held-out pairs measure, so they are all kept, even one whose claims the checker would refuse
    assert any(e.answer.startswith("A mellow folk tune") for e in corpus.heldout_captions)


def test_the_held_out_list_is_what_its_header_says_and_ships_in_the_wheel(shared):
    import fnmatch
    import hashlib
    import tomllib

    lines = HELDOUT.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and "sha1" in lines[0]
    ids = lines[1:]
    assert len(ids) == len(set(ids)) == len(heldout_clips())
    assert all(int(hashlib.sha1(i.encode()).hexdigest()[:8], 16) % 100 < 10 for i in ids)
    source = shared / "datasets" / "musiccaps" / "musiccaps.dev.csv"
    if source.is_file():
        clips = [row["ytid"] for row in csv.DictReader(source.open(encoding="utf-8"))]
        chosen = [c for c in clips if int(hashlib.sha1(c.encode()).hexdigest()[:8], 16) % 100 < 10]
        assert ids == chosen and 0.07 < len(ids) / len(clips) < 0.13
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["finetune"]
    assert any(fnmatch.fnmatch(str(HELDOUT.relative_to(ROOT / "finetune")), g) for g in globs)


def test_listener_sentences_are_paired_with_the_plan_point_they_realise(tmp_path):
    from finetune.corpus import load_catalog
    from retrieval.settings import DEMO_DIR

    track = load_catalog(DEMO_DIR / "catalog.jsonl")["hank-williams--your-cheatin-heart"]
    text = ("I love this one so much, it is my favourite song. The crying steel guitar and the fiddle ache over a "
            "plaintive honky-tonk lament. Elvis did a country song like this better on the radio. "
            "My granddad played the steel guitar on his jukebox every night.")
    comments = tmp_path / "comments.jsonl"
    comments.write_text(json.dumps({"track_id": track.id, "kind": "comment", "text": text}) + "\n")
    corpus = build(comments=[comments])
    served = [e for e in corpus.examples if e.system]
    assert [e.answer for e in served] == ["The crying steel guitar and the fiddle ache over a plaintive "
                                          "honky-tonk lament."]  # no first person, no name the facts lack
    plan = {tuple(p.messages()[1].values()): p for p in review_plan(track, [], [])}
    point = plan[("user", served[0].prompt)]
    assert point.kind == served[0].task == "described"
    assert served[0].messages() == point.messages() and served[0].track_id == track.id
    friend = [e for e in corpus.examples if e.task == "friend"]
    assert friend and not friend[0].system and friend[0].split == served[0].split  # one track, one split
    assert friend[0].track_id == track.id  # the comment stays with its track (its listener point samples it)


def test_free_tasks_are_capped_beside_served_ones(tmp_path):
    lyrics = tmp_path / "lyrics.jsonl"
    lyrics.write_text("".join(json.dumps({"title": f"Song {i}", "lyrics": f"Verse {i}: the river {i} runs to the "
                                          f"sea and the night number {i} is long and slow"}) + "\n" for i in range(40)))
    captions = _captions_csv(tmp_path / "musiccaps.csv", [f"clip{i:07d}" for i in range(9)])
    corpus = build(lyrics=[lyrics], comments=[captions])
    free = [e for e in corpus.train if e.task in ("lyrics", "friend")]
    assert free and len(free) <= FREE_SHARE * len(corpus.train) and corpus.stats["free_tasks_capped"] > 0
    assert {e.id for e in build(lyrics=[lyrics]).validation} <= {e.id for e in corpus.validation}  # all measured
    assert len(build(lyrics=[lyrics]).examples) == 40  # nothing served: the free tasks are the corpus


class _ChatTokenizer:
    """Characters as tokens, with a chat template in the shape of SmolLM2's."""

    def apply_chat_template(self, messages, tokenize=True, add_generation_prompt=False, return_dict=True, **_):
        text = "".join(f"<|{m['role']}|>{m['content']}<|end|>" for m in messages)
        text += "<|assistant|>" if add_generation_prompt else ""
        return {"input_ids": [ord(c) for c in text]}

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


def test_encoded_pairs_carry_the_system_prompt_and_learn_only_the_answer(tmp_path):
    from finetune.train import encode

    corpus = build(comments=[_captions_csv(tmp_path / "musiccaps.csv", TRAIN_CLIPS)])
    tokenizer = _ChatTokenizer()
    example = corpus.examples[0]
    row = encode(tokenizer, example, 4096)
    assert tokenizer.decode(row["input_ids"]).startswith(f"<|system|>{SYSTEM}<|end|><|user|>{example.prompt}")
    learned = tokenizer.decode([t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label != -100])
    assert learned == f"{example.answer}<|end|>"


@pytest.mark.integration
def test_caption_perplexity_is_measured_on_the_held_out_clips(smollm2, tmp_path):
    from transformers import AutoTokenizer

    from finetune.train import TrainConfig, encode, train

    held = sorted(heldout_clips())[:2]
    corpus = build(comments=[_captions_csv(tmp_path / "musiccaps.csv", held + TRAIN_CLIPS)])
    tokenizer = AutoTokenizer.from_pretrained(str(smollm2))
    served = tokenizer.decode(encode(tokenizer, corpus.train[0], 256)["input_ids"])
    assert SYSTEM in served and corpus.train[0].prompt in served  # the real chat template keeps both messages
    out = tmp_path / "adapter"
    manifest = train(corpus, TrainConfig(base=str(smollm2), out=out, max_steps=2, batch_size=2, grad_accum=1,
                                         max_len=192, rank=8, alpha=16, save_steps=100, learning_rate=1e-2))
    metrics = json.loads((out / "manifest.json").read_text())["metrics"]
    assert metrics == manifest["metrics"]
    assert metrics["perplexity_captions_pairs"] == len(corpus.heldout_captions) > 0
    base, tuned = metrics["perplexity_captions_base"], metrics["perplexity_captions_adapter"]
    assert base > 1 and tuned > 1 and metrics["perplexity_captions_drop"] == pytest.approx(1 - tuned / base, abs=1e-3)
    assert {"perplexity_base", "perplexity_adapter"} <= set(metrics)
    assert "Held-out MusicCaps clips" in (out / "report.md").read_text()


def test_captions_are_capped_to_half_of_the_served_pairs_beside_other_ones(tmp_path):
    from finetune.corpus import CAPTION_SHARE

    captions = _captions_csv(tmp_path / "musiccaps.csv", [f"clip{i:07d}" for i in range(30)])
    alone = build(comments=[captions])
    assert alone.stats["captions_capped"] == 0  # nothing else to make room for
    comments = tmp_path / "comments.jsonl"
    comments.write_text(json.dumps({"track_id": "hank-williams--your-cheatin-heart", "kind": "comment",
                                    "text": "The crying steel guitar and the fiddle ache over a plaintive "
                                            "honky-tonk lament. I love this one so much, it is my "
                                            "favourite song and my granddad's too."}) + "\n")
    both = build(comments=[captions, comments])
    served = [e for e in both.train if e.task not in ("lyrics", "friend")]
    kept_captions = [e for e in served if e.source == "captions"]
    assert served and len(kept_captions) <= CAPTION_SHARE * len(served) + 1 and both.stats["captions_capped"] > 0
    assert {e.id for e in alone.validation} <= {e.id for e in both.validation}  # validation keeps them all
