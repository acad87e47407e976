"""`encore eval text`: its figures (Wilson interval, distinct-2, shared template frames, length rule), how it picks
requests and tracks, and the templates-only path over the demo catalog, whose final text must pass every check
the evaluation makes of a model's."""

from __future__ import annotations

import threading
import time

import pytest

from evals import text as text_eval
from retrieval import Track
from retrieval.claims import ClaimChecker
from retrieval.plans import Point
from tests.conftest import run_cli
from tests.fakes import scripted

# --- the figures -------------------------------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values():
    share, low, high = text_eval.wilson(5, 10)
    assert share == 0.5 and low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    share, low, high = text_eval.wilson(0, 20)
    assert share == 0 and low == 0 and high == pytest.approx(0.1611, abs=1e-4)  # never the empty [0, 0]
    assert text_eval.wilson(20, 20)[1:] == (pytest.approx(0.8389, abs=1e-4), 1.0)
    assert text_eval.wilson(0, 0) == (0.0, 0.0, 0.0)
    narrow, wide = text_eval.wilson(400, 1000), text_eval.wilson(4, 10)
    assert narrow[2] - narrow[1] < wide[2] - wide[1]


def test_distinct_2_counts_bigrams_within_each_text():
    assert text_eval.distinct_2(["a b a b"]) == pytest.approx(2 / 3)  # (a b), (b a), (a b)
    assert text_eval.distinct_2(["One two three.", "One two three."]) == pytest.approx(0.5)
    assert text_eval.distinct_2(["x y", "y z"]) == 1.0  # "y" ending one text and "y" starting the next: no (y, y)
    assert text_eval.distinct_2(["solo", ""]) == 0.0


def test_max_shared_frames_is_over_pairs_of_different_tracks():
    frames = {"demo:a": {"f1", "f2", "f3"}, "demo:b": {"f1", "f9"}, "fm:a": {"f2", "f3", "f7"}}
    assert text_eval.max_shared_frames(frames) == 2  # demo:a and fm:a: one id, two collections, two tracks
    assert text_eval.max_shared_frames({"demo:a": {"f1"}}) == 0
    assert text_eval.max_shared_frames({"x": {"f1"}, "y": {"f2"}}) == 0


@pytest.mark.parametrize(("words", "sentences", "is_rich", "ok"), [
    (120, 5, True, True), (250, 14, True, True), (119, 7, True, False), (251, 9, True, False),
    (60, 5, False, True), (150, 14, False, True), (59, 6, False, False), (151, 8, False, False),
    (130, 4, True, False), (130, 15, True, False), (100, 6, True, False), (100, 6, False, True)])
def test_length_rule(words, sentences, is_rich, ok):
    assert text_eval.length_ok(words, sentences, is_rich) is ok


def test_first_sentence_must_name_title_and_artist():
    track = Track(id="t1", title="So What", artist="Miles Davis")
    assert text_eval.names_track("\u201cSo What\u201d by Miles Davis is a modal jazz track.", track)
    assert not text_eval.names_track("\u201cSo What\u201d is a modal jazz track.", track)
    assert not text_eval.names_track("So, what does Miles play here?", track)  # "so what" is not a substring match
    assert text_eval.names_track("The track \u201cSo What\u201d opens the set.", Track(id="t2", title="So What"))


def test_title_contradiction_is_any_word_of_what_the_request_refused():
    assert text_eval.contradicts("Country Roads Drive", ("country",))
    assert text_eval.contradicts("Hip Hop Nights", ("hip-hop",))
    assert not text_eval.contradicts("Open Road Rock", ("country",))
    assert not text_eval.contradicts("Anything", ())


def test_negated_words_are_what_follows_a_negation():
    assert text_eval.negated_words("Looking for slow happy/sad music that's not weepy") == {"weepy"}
    assert text_eval.negated_words("bands like X, but without the screaming? I love the guitar") == {"screaming"}
    assert text_eval.negated_words("road trip songs, nothing too obscure") == {"obscure"}
    assert text_eval.negated_words("calm piano for studying") == set()


def test_final_claims_are_checked_whatever_the_sentence_form():
    """`judge` stops at the form of a quoted listener line (a label); the re-check must still see its names."""
    point = Point("listener", (("title", "Pink Moon"), ("a listener wrote", "So quiet and close.")), ("Pink Moon",))
    checker = ClaimChecker()
    sentence = "One listener writes: \u201cSo quiet and close, like Nick Drake at home.\u201d"
    assert checker.judge(sentence, point).reason in ("garbled", "name")
    verdict = text_eval.claims_of(checker, sentence, point)
    assert not verdict.ok and verdict.reason == "name"
    assert text_eval.claims_of(checker, "One listener writes: \u201cSo quiet and close.\u201d", point).ok
    union = text_eval.union_point([point, Point("identity", (("title", "Pink Moon"), ("year", "1972")), ())])
    assert text_eval.claims_of(checker, "\u201cPink Moon\u201d came out in 1972.", union).ok
    assert text_eval.claims_of(checker, "\u201cPink Moon\u201d came out in 1970.", union).reason == "number"


def test_unsafe_words_count_only_when_the_track_does_not_carry_them():
    from retrieval.claims import unsafe_words

    word = next(iter(unsafe_words()))
    assert text_eval.unsafe_hits(f"The track is about {word} and more.", "a calm piano piece") == [word]
    assert text_eval.unsafe_hits(f"The track is about {word} and more.", f"lyrics: {word} all night") == []


def test_adapter_over_base_ratio_has_a_paired_interval():
    def outputs(accepted: list[int]) -> dict:
        return {"reviews": [{"judged": [{"kind": "sound", "ok": bool(i < a), "reason": ""} for i in range(4)]}
                            for a in accepted], "playlists": []}

    base, adapter = outputs([1, 2, 1, 2] * 10), outputs([2, 3, 2, 3] * 10)
    c = text_eval.compare(base, adapter)
    assert c["ratio"] == pytest.approx(10 / 6, abs=1e-3) and c["points"] == pytest.approx(25.0)
    assert c["ratio_interval"][0] < c["ratio"] < c["ratio_interval"][1] and c["points_interval"][0] > 0
    none = text_eval.compare(outputs([0, 0]), outputs([1, 0]))  # the base accepted nothing: no ratio
    assert none["ratio"] is None and none["points"] == pytest.approx(12.5)
    assert text_eval.compare({"reviews": [], "playlists": []}, {"reviews": [], "playlists": []}) == {}


# --- what it writes about --------------------------------------------------------------------------------------

def test_requests_keep_every_negation_then_the_most_playlist_like(tmp_path):
    rows = ["dataset,original", "1,Songs similar to Blackout by Boris", "1,a playlist for a rainy road trip",
            "2,calm songs for studying", "2,road trip music but no country", "3,anything without vocals",
            '3,"Looking for slow sad music, not weepy"', "4,who sings this song?"]
    path = tmp_path / "requests.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    chosen = text_eval.read_requests(path, 5)
    assert len(chosen) == 5 and chosen == text_eval.read_requests(path, 5)  # deterministic
    assert {"road trip music but no country", "anything without vocals",
            "Looking for slow sad music, not weepy"} <= set(chosen[:3])
    assert chosen[3] == "a playlist for a rainy road trip"  # the most playlist-like of the rest
    assert "Songs similar to Blackout by Boris" not in chosen
    assert len([r for r in text_eval.read_requests(path, 2) if text_eval.NEGATION.search(r)]) == 1  # half of m
    (tmp_path / "bad.csv").write_text("dataset,text\n1,calm\n", encoding="utf-8")
    with pytest.raises(ValueError, match="original"):
        text_eval.read_requests(tmp_path / "bad.csv", 3)


def test_tracks_are_held_back_ones_first_in_a_fixed_order():
    tracks = [Track(id=f"t{i}", title=f"Song {i}") for i in range(20)]
    held = {"t3", "t11", "t17"}
    chosen = text_eval.pick_tracks(tracks, 5, held_back=lambda i: i in held)
    assert {t.id for t in chosen[:3]} == held and len(chosen) == 5
    assert [t.id for t in chosen] == [t.id for t in text_eval.pick_tracks(list(reversed(tracks)), 5,
                                                                          held_back=lambda i: i in held)]


def test_bounded_model_keeps_requests_in_flight_under_its_limit():
    from langchain_core.messages import HumanMessage

    live, peak, lock = [0], [0], threading.Lock()

    def slow(prompt: str) -> str:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        with lock:
            live[0] -= 1
        return "A calm and steady piano piece."

    chat = text_eval.Bounded(inner=scripted(slow), limit=3)
    threads = [threading.Thread(target=lambda: list(chat.stream([HumanMessage("hi")]))) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert chat.invoke([HumanMessage("hi")]).content == "A calm and steady piano piece."


# --- the command line's errors ----------------------------------------------------------------------------------

def test_bad_input_is_one_clear_line(tmp_path, capsys):
    code, _, err = run_cli(["eval", "text", "--queries", str(tmp_path / "missing.csv")], capsys)
    assert code == 1 and "missing.csv: no such file" in err and len(err.strip().splitlines()) == 1
    queries = tmp_path / "q.txt"
    queries.write_text("calm songs\n", encoding="utf-8")
    (tmp_path / "not-an-adapter").mkdir()
    code, _, err = run_cli(["eval", "text", "--queries", str(queries), "--adapter", str(tmp_path / "not-an-adapter")],
                           capsys)
    assert code == 1 and "adapter_config.json" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["eval", "text", "--queries", str(queries), "-c", "nope"], capsys)
    assert code == 1 and "collection 'nope'" in err and len(err.strip().splitlines()) == 1


# --- the templates alone over the demo catalog ------------------------------------------------------------------

@pytest.fixture(scope="module")
def templates_only(demo_catalog, tmp_path_factory, shared):
    """60 reviews and 20 playlists (real requests) written with no model: the grounded sentences alone."""
    from finetune.text import split_of

    requests = text_eval.read_requests(shared / "queries" / "music_requests.csv", 20)
    sample = text_eval.choose({"demo": demo_catalog}, requests, 60, 20, 0,
                              held_back=lambda i: split_of(i) == "validation")
    agents = text_eval.agents_for({"demo": demo_catalog}, tmp_path_factory.mktemp("eval-text"))
    outputs = text_eval.write(agents, sample, None, "templates")
    return outputs, text_eval.engine_figures(outputs)


@pytest.mark.integration
def test_templates_only_final_text_is_safe_and_grounded(templates_only):
    outputs, figures = templates_only
    assert figures["reviews"] == 60 and figures["playlists"] == 20 and figures["model_share"]["rate"] == 0
    assert figures["accepted"]["n"] == 0  # no model, nothing raw to judge
    assert figures["unsafe"] == 0
    assert figures["title_contradictions"] == 0
    assert figures["first_sentence"]["rate"] == 1.0


@pytest.mark.integration
def test_templates_only_final_text_names_and_numbers_are_supported(templates_only):
    outputs, figures = templates_only
    bad = [u for o in outputs["reviews"] + outputs["playlists"] for u in o["unsupported"]
           if u["reason"] in ("name", "number")]
    assert not bad and figures["unsupported"] == 0, bad[:3]


@pytest.mark.integration
def test_templates_only_reviews_share_at_most_one_frame(templates_only):
    _, figures = templates_only
    assert figures["max_shared_frames"] <= 1


@pytest.mark.integration
def test_templates_only_reviews_keep_the_length_rule(templates_only):
    outputs, figures = templates_only
    short = [(r["title"], r["words"], r["sentences"]) for r in outputs["reviews"]
             if not text_eval.length_ok(r["words"], r["sentences"], r["rich"])]
    assert not short, short[:5]


@pytest.mark.integration
def test_a_model_path_writes_concurrently_and_keeps_the_order(demo_catalog, tmp_path):
    """The same code a served model runs through (several outputs at once, a bounded model), with a scripted
    model: outputs in sample order, raw sentences judged, some kept."""
    sample = text_eval.choose({"demo": demo_catalog}, ["calm piano for a rainy evening", "road trip, no country"],
                              4, 2, 1)
    agents = text_eval.agents_for({"demo": demo_catalog}, tmp_path)
    seen: list[int] = []
    outputs = text_eval.write(agents, sample, text_eval.Bounded(inner=scripted(), limit=4), "scripted", 8,
                              lambda name, done, total: seen.append(done))
    assert [r["id"] for r in outputs["reviews"]] == [t.id for _, t in sample.tracks]
    assert [p["request"] for p in outputs["playlists"]] == [r for _, r in sample.requests]
    assert sorted(seen) == list(range(1, 7))
    figures = text_eval.engine_figures(outputs)
    assert figures["accepted"]["n"] > 0 and 0 < figures["model_share"]["rate"] < 1
    assert figures["remarks"] == 1 and "remark" in outputs["playlists"][0]
