"""Sampled pairs (finetune.sampled): which points are sampled, which samples become training pairs, and a run that
resumes from its cache. Fast: a fake generator stands in for the model (the real sampling runs in the training
test of test_finetune and in `encore finetune --sample`)."""

from __future__ import annotations

import json
from collections import Counter

from finetune.corpus import build, load_catalog, split_of
from finetune.sampled import fluent, point_key, sample_pairs, training_points
from retrieval.plans import Point, review_plan
from retrieval.settings import DEMO_DIR

TRACKS = load_catalog(DEMO_DIR / "catalog.jsonl")


def test_only_training_split_tracks_are_sampled_and_every_kind_is_dealt():
    points = training_points(TRACKS, {}, limit=100)
    assert len(points) == 100
    assert all(split_of(p.track_id) == "train" for p in points if p.track_id)
    kinds = Counter(p.kind for p in points)
    assert {"identity", "sound", "feeling", "pace", "detail", "neighbours", "verdict", "arc", "blend"} <= set(kinds)
    assert max(kinds.values()) - min(kinds.values()) <= 1  # dealt kind by kind
    every = training_points(TRACKS, {}, limit=10**6)
    held = {t.id for t in TRACKS.values() if split_of(t.id) == "validation"}
    assert held and not any(p.track_id in held for p in every)  # what eval text reviews is never sampled
    related = [p for p in every if p.kind == "neighbours"]
    assert related and all(set(p.extra["related"]).isdisjoint(held) for p in related)


def test_listener_points_come_from_the_tracks_own_comments():
    track = next(t for t in TRACKS.values() if split_of(t.id) == "train")
    comment = "Listeners call this a slow, warm ballad that suits a rainy evening."
    points = training_points({track.id: track}, {track.id: [comment]}, limit=100)
    listener = [p for p in points if p.kind == "listener"]
    assert len(listener) == 1 and comment in listener[0].support()


def _identity(track_id: str) -> Point:
    return next(p for p in review_plan(TRACKS[track_id], [], []) if p.kind == "identity")


def test_only_whole_supported_sentences_that_do_their_point_become_pairs(tmp_path):
    track = TRACKS["miles-davis--so-what"]
    point = _identity(track.id)
    title, artist, genre = track.title, track.artist, track.genre
    replies = [
        f"{title} is a {genre} track by {artist}. It swings.",  # kept: its first sentence names both
        f"{title} by {artist} is a {genre} record from 1931.",  # a year the facts lack
        f"{title} is a {genre} track.",  # the artist is missing: not an introduction
        f"{title} by {artist} is a {genre} piece that",  # cut off by the token limit
        f"{title} by {artist} is a {genre} {genre} {genre} song.",  # a stutter
        f"{title} is a {genre} track by {artist}. It swings.",  # the same sentence again: taught once
    ]

    def generate(messages, n):
        assert messages == [point.messages()] and n == len(replies)
        return [replies]

    pairs, tally = sample_pairs(generate, [point], tmp_path / "sampled.jsonl", per_point=len(replies))
    assert [p.answer for p in pairs] == [f"{title} is a {genre} track by {artist}."]
    assert pairs[0].messages() == point.messages() and pairs[0].source == "sampled" and pairs[0].split == "train"
    assert tally["samples"] == 6 and tally["kept"] == 1 and tally["by_kind"]["identity"] == {"samples": 6, "kept": 1}


def test_playlist_titles_are_sampled_and_kept_as_the_agent_keeps_a_title(tmp_path):
    titles = [p for p in training_points(TRACKS, {}, limit=2000) if p.kind == "title"]
    assert titles and any("- for: " in p.user() for p in titles) and any("- for: " not in p.user() for p in titles)
    point = next(p for p in titles if "jazz" in p.support())
    replies = [
        "Title: Late Night Jazz",  # kept, without its label
        "Here is a short title for a playlist of calm jazz tracks",  # a sentence, not a title
        "Smooth Metal Evening",  # a genre the list does not hold
        "Jazz",  # one word
        "1959 Jazz Classics",  # a number
    ]

    def generate(messages, n):
        return [replies[:n] for _ in messages]

    pairs, tally = sample_pairs(generate, [point], tmp_path / "sampled.jsonl", per_point=len(replies))
    assert [p.answer for p in pairs] == ["Late Night Jazz"] and tally["by_kind"]["title"]["kept"] == 1
    assert pairs[0].prompt == point.messages()[1]["content"]  # exactly the prompt the agent sends


def test_sampling_resumes_from_its_cache_and_a_cut_line_is_sampled_again(tmp_path):
    points = [_identity(t) for t in sorted(TRACKS)[:5]]
    asked: list[int] = []

    def generate(messages, n):
        asked.append(len(messages))
        return [[f"{dict(p.facts)['title']} by {dict(p.facts)['artist']} is a fine song."] * n
                for p in points if p.messages() in messages]

    cache = tmp_path / "sampled.jsonl"
    first, _ = sample_pairs(generate, points[:3], cache, per_point=1, batch=2)
    assert asked == [2, 1]
    lines = cache.read_text().splitlines()
    cache.write_text("\n".join(lines[:2]) + "\n" + lines[2][:20] + "\n")  # killed while writing the third
    asked.clear()
    again, _ = sample_pairs(generate, points, cache, per_point=1, batch=8)
    assert asked == [3]  # the cut one and the two new ones
    assert {json.loads(line)["key"] for line in cache.read_text().splitlines() if line.endswith("}")} \
        >= {point_key(p) for p in points}
    assert [p.answer for p in again][:len(first)] == [p.answer for p in first]


def test_fluent_refuses_stutters_repeats_and_echoes():
    point = Point("arc", (("first", "x"),))
    assert fluent("It opens on soft piano and builds to loud drums.", point)
    assert not fluent("A song by indie indie dream.", point)
    assert not fluent("Dream pop, more dream pop, all dream pop, still dream pop.", point)
    assert not fluent("The playlist moves from its first track to its last one.", point)
    assert not fluent("", point)


def test_sampled_pairs_join_the_corpus_before_the_shares_are_capped(tmp_path):
    comments = tmp_path / "comments.jsonl"
    track = next(t for t in TRACKS.values() if split_of(t.id) == "train" and t.genre)
    comments.write_text(json.dumps({"track_id": track.id, "kind": "comment",
                                    "text": f"The {track.genre} groove here is easy to love."}) + "\n")
    point = _identity(track.id)
    extra = sample_pairs(lambda m, n: [[f"{track.title} by {track.artist} is {track.genre}."] * n] * len(m),
                         [point], tmp_path / "s.jsonl", per_point=1)[0]
    seen = {}

    def more(pairs, tracks):
        seen["pairs"], seen["tracks"] = pairs, tracks
        return extra

    corpus = build(comments=[comments], more=more)
    assert any(e.source == "sampled" for e in corpus.train)
    assert seen["tracks"][track.id] == track and any(p.track_id == track.id for p in seen["pairs"])
