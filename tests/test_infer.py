"""Mood inference without Chroma or the embedder: the label set and its split, the readers' output on fake
vectors, given labels never overwritten, the record's round trip, and how search shows inferred moods."""

import hashlib
import json

import numpy as np
import pytest

from evals.moods import gold_moods, half_of, labels, tempo_of
from retrieval import infer
from retrieval.importers import read_source
from retrieval.infer import LexiconReader, MoodModel, PrototypeReader, infer_tracks, levels, packaged_model
from retrieval.mood import read_mood, vocabulary
from retrieval.query import read_request
from retrieval.records import Track
from retrieval.search import Evidence, Hit, score_track, why
from tests.conftest import run_cli

SAD = "A slow, sad and melancholic piano ballad with mournful strings; the singer sounds heartbroken and lonely."
PARTY = "An energetic, upbeat dance track with a groovy bass line, fun and cheerful, made for the club."


def fake_vectors(n: int, dimension: int = 384, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# --- the label set --------------------------------------------------------------------------------------------

def test_label_terms_map_into_the_vocabulary_and_make_the_gold():
    terms = labels().terms
    assert len(terms) >= 40 and all(terms.values())
    assert {m for moods in terms.values() for m in moods} <= set(vocabulary())
    assert gold_moods(["low quality", "Relaxing", " sad ", "acoustic guitar"]) == {"calm", "sad"}
    assert gold_moods(["emotional", "passionate", "piano"]) == set()  # feeling words with no Encore mood
    assert tempo_of(["slow tempo", "mellow"]) == "low" and tempo_of(["slow tempo", "fast tempo"]) is None


def test_the_split_is_a_fixed_hash_of_the_clip_id_in_two_halves():
    ids = [f"clip{i:05d}" for i in range(2000)]
    halves = [half_of(i) for i in ids]
    assert halves == [half_of(i) for i in ids]  # same answer every time
    assert set(halves) == {"tune", "report"} and 900 < halves.count("tune") < 1100
    assert half_of("EUNTykrvpok") == ("tune" if int(hashlib.sha1(b"EUNTykrvpok").hexdigest(), 16) % 2 == 0
                                      else "report")


# --- readers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reader", [packaged_model(), LexiconReader(),
                                    PrototypeReader(fake_vectors(24, seed=3), 0.0, 3)], ids=lambda r: r.name)
def test_readings_have_confidences_evidence_from_the_text_and_a_source(reader):
    texts = [{"description": SAD}, {"lyrics": PARTY}, {"description": "Field recording, 1998."}]
    readings = reader.read(texts, fake_vectors(3))
    assert len(readings) == 3
    for text, reading in zip(texts, readings, strict=True):
        assert set(reading.moods) <= set(vocabulary())
        assert len(reading.moods) <= 4 or reader.name == "lexicon"  # the lexicon asserts every mood it finds
        assert all(0.0 <= c <= 1.0 for c in reading.moods.values())
        assert list(reading.moods.values()) == sorted(reading.moods.values(), reverse=True)
        whole = " ".join(text.values()).casefold()
        assert all(word.casefold() in whole for word in reading.evidence), reading.evidence
        assert reading.source is None or reading.source in text
        for value in (reading.energy, reading.valence, reading.confidence):
            assert value is None or 0.0 <= value <= 1.0
    assert reader.scores(texts, fake_vectors(3)).shape == (3, len(vocabulary()))


def test_the_classifier_reads_sad_and_party_texts_apart_even_on_meaningless_vectors():
    sad, party = packaged_model().read([{"description": SAD}, {"description": PARTY}], fake_vectors(2))
    assert {"sad", "melancholic"} & set(sad.moods) and not {"party", "happy"} & set(sad.moods)
    assert {"energetic", "party", "groovy", "happy"} & set(party.moods)
    assert sad.evidence and party.evidence and sad.source == "description"
    assert sad.energy < party.energy and sad.valence < party.valence


def test_a_mood_musiccaps_cannot_teach_is_read_by_the_lexicon():
    model = packaged_model()
    assert not model.learned[vocabulary().index("heartbroken")]
    reading = model.read([{"lyrics": "After the breakup I am heartbroken, tears on the pillow."}], fake_vectors(1))[0]
    assert "heartbroken" in reading.moods and reading.source == "lyrics" and "heartbroken" in reading.evidence


def test_levels_follow_the_moods_and_the_texts_own_energy_words():
    calm = levels({"calm": 1.0, "peaceful": 0.8}, read_mood(""))
    energetic = levels({"energetic": 1.0}, read_mood(""))
    assert calm[0] < 0.35 < 0.7 < energetic[0]
    assert levels({}, read_mood("an upbeat song"))[0] > 0.65
    assert levels({}, read_mood("")) == (None, None, None)


def test_a_model_refuses_another_vocabulary(tmp_path):
    model = packaged_model()
    with pytest.raises(ValueError, match="vocabulary"):
        MoodModel(model.weights, model.bias, model.thresholds, model.learned, list(reversed(model.moods)),
                  model.words, model.probe, model.prototype)
    model.save(tmp_path / "copy.npz")
    assert MoodModel.load(tmp_path / "copy.npz").version == model.version


def test_the_packaged_model_is_small_and_was_fitted_on_the_tune_half():
    from importlib import resources

    assert len(resources.files("retrieval").joinpath("mood_model.npz").read_bytes()) < 1_000_000
    assert "tune-half MusicCaps captions" in packaged_model().about


# --- tracks: given labels win, stored apart, round trip ---------------------------------------------------------

def test_given_labels_are_never_overwritten_and_only_gaps_are_filled():
    tracks = [Track(id="a", description=SAD),
              Track(id="b", title="B", moods=["happy"], description="Recorded live in Lagos in 1998."),
              Track(id="c", title="C", moods=["calm"], energy=0.2, valence=0.6, description=SAD),
              Track(id="d", title="D")]
    assert [infer.needs_inference(t) for t in tracks] == [True, True, False, False]
    out = infer_tracks(tracks, fake_vectors(4), packaged_model())
    bare, labelled, complete, textless = out
    assert bare.moods == [] and bare.inferred_moods and bare.mood_source == "description"
    assert bare.inferred_energy is not None and bare.mood_model == packaged_model().version
    assert labelled.moods == ["happy"] and labelled.inferred_moods == {} and labelled.mood_evidence == []
    assert labelled.inferred_valence > 0.6 and labelled.inferred_energy is None  # "happy" says nothing of energy
    assert complete == tracks[2] and textless == tracks[3]


def test_inferred_fields_round_trip_through_the_store_metadata():
    track = infer_tracks([Track(id="x", title="X", comments=["So sad, it makes me cry.", "Lonely and blue"])],
                         fake_vectors(1), packaged_model())[0]
    assert track.inferred_moods and track.mood_source == "comments" and "Listeners: So sad" in track.document()
    meta = track.metadata()
    assert "inferred_moods" not in meta and set(meta) >= {"record", "fingerprint"}
    assert Track.from_metadata(meta) == track


def test_the_fingerprint_follows_the_source_and_the_reader_not_the_reading():
    source = Track(id="x", description=SAD)
    prepared = source.model_copy(update={"mood_model": packaged_model().version})
    read = infer_tracks([prepared], fake_vectors(1), packaged_model())[0]
    assert read.inferred_moods and read.fingerprint() == prepared.fingerprint() != source.fingerprint()
    assert prepared.fingerprint() != source.model_copy(update={"mood_model": "mood-model-2"}).fingerprint()
    assert prepared.fingerprint() != prepared.model_copy(update={"description": PARTY}).fingerprint()
    # a record that carries inferred fields of its own (no reader named) hashes them like any field
    assert Track(id="y", title="Y", inferred_moods={"sad": 0.9}).fingerprint() != Track(id="y", title="Y").fingerprint()


def test_importers_keep_listener_comments(tmp_path):
    jsonl = tmp_path / "tracks.jsonl"
    jsonl.write_text(json.dumps({"id": "1", "title": "One", "comments": ["Gorgeous and SAD.", " "]}) + "\n"
                     + json.dumps({"id": "2", "title": "Two", "comments": "Pure joy"}) + "\n")
    csv = tmp_path / "tracks.csv"
    csv.write_text('id,title,comments\n3,Three,"[""Calm, like rain."", ""Soft""]"\n')
    tracks = [r.track for r in [*read_source(jsonl), *read_source(csv)]]
    assert [t.comments for t in tracks] == [["Gorgeous and SAD."], ["Pure joy"], ["Calm, like rain.", "Soft"]]
    assert all(infer.texts_of(t).keys() == {"comments"} for t in tracks) and infer.FIELDS[-1] == "comments"


# --- search: inferred moods count by confidence, are said as read, and keep the contract ------------------------

def _inferred_track(**update) -> Track:
    fields = {"id": "t1", "description": "Soft piano.", "inferred_moods": {"calm": 0.8, "dreamy": 0.6},
              "inferred_energy": 0.2, "inferred_confidence": 0.7, "mood_evidence": ["soft"],
              "mood_source": "description", "mood_model": "mood-model-x"}
    return Track(**{**fields, **update})


def test_inferred_moods_score_by_confidence_only_where_none_are_given():
    request = read_request("something calm")
    bare = score_track(Track(id="t0", description="Soft piano."), request, 0.5)[0]
    sure, evidence = score_track(_inferred_track(), request, 0.5)
    unsure = score_track(_inferred_track(inferred_moods={"calm": 0.3}), request, 0.5)[0]
    assert bare < unsure < sure and evidence.inferred_moods == ("calm",)
    given, given_evidence = score_track(_inferred_track(moods=["happy"]), request, 0.5)
    assert given_evidence.inferred_moods == () and given < sure


def test_the_reason_says_the_mood_was_read_from_the_text():
    request = read_request("something calm")
    track = _inferred_track()
    evidence = score_track(track, request, 0.5)[1]
    sentence = why(track, evidence, request)
    assert "description reads as calm" in sentence and sentence.count(".") == 1 + sentence.count("\u2026")
    lyrics = _inferred_track(mood_source="lyrics", description=None, lyrics="la la", title="Song")
    assert "whose lyrics read as calm" in why(lyrics, score_track(lyrics, request, 0.5)[1], request)
    assert "reads as" not in why(track, Evidence(), read_request("anything"))


def test_recommend_json_keeps_given_moods_and_adds_inferred_ones_only_when_present():
    data = Hit(_inferred_track(), 0.5, "why").to_dict()
    assert data["moods"] == [] and data["inferred_moods"] == [{"mood": "calm", "confidence": 0.8},
                                                              {"mood": "dreamy", "confidence": 0.6}]
    assert data["mood_source"] == "description" and "mood_model" not in data and "comments" not in data
    plain = Hit(Track(id="t2", title="T", moods=["sad"], energy=0.3), 0.5, "why").to_dict()
    assert plain["moods"] == ["sad"] and plain["energy"] == 0.3
    assert not any(k.startswith(("inferred", "mood_")) for k in plain)


def test_eval_moods_without_the_captions_is_one_clear_error(tmp_path, capsys):
    code, _, err = run_cli(["eval", "moods", "--captions", str(tmp_path / "missing.csv")], capsys)
    assert code == 1 and err.strip().count("\n") == 0 and "missing.csv" in err


def test_another_embedder_gets_the_lexicon_and_a_phrase_counts_for_its_leading_mood_only():
    class Other:
        dimension = 384

        def encode(self, texts):
            return fake_vectors(len(texts), seed=9)

    assert isinstance(infer.reader_for(Other()), LexiconReader)
    reading = packaged_model().read([{"lyrics": "Good morning, here comes the sunrise"}], fake_vectors(1))[0]
    assert "hopeful" not in reading.moods  # "morning" stands first for uplifting, and hopeful is not learned...
    focus = packaged_model().read([{"description": "Music to focus and concentrate on"}], fake_vectors(1))[0]
    assert "focus" in focus.moods and "focus" in focus.evidence  # ...but "focus" stands for focus
