"""`encore eval text`: how much of the generated text the model writes, and whether the final text is grounded.

For each engine (the base model, the adapter, and the templates alone with no model) the same held-back catalog
tracks are reviewed and the same real requests become playlists (title and description), a sample of them also
a chat remark, all through the product's own code (`Intents.review_written`, `Agent.playlist_written`,
`writing.remark`). Reported side by side: the share of raw model sentences the claim checker accepts (Wilson 95%
interval), the share of final sentences the model wrote, facts covered and distinct-2 over the reviews, and the
checks the final text must pass whoever wrote it: no unsafe word the track's own text does not carry, no name or
number outside the union of the text's points, no title saying what the request refused, no two reviews sharing
more than one template frame, the length rule and a first sentence naming the title and the artist.

    encore eval text --reviews 200 --playlists 100 [--adapter DIR] [-c demo -c fm] [--no-server]

    sample = choose({"demo": catalog}, read_requests(path, 100), reviews=200, playlists=100, remarks=50)
    run = evaluate({"demo": catalog}, sample, model, adapter, settings, server=True)  # starts, stops vLLM
    print(run.markdown()); run.save(settings.root() / "reports")  # text.md, text.json, text.png
    engine_figures(write(agents_for(...), sample, None))  # one engine's figures (None: templates alone)
"""

from __future__ import annotations

import csv
import hashlib
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from agent.graph import Agent
from agent.verify import Verifier, asked_names, split_sentences
from agent.writing import REVIEW_SENTENCES, REVIEW_WORDS, refused, remark
from retrieval import Catalog, Track
from retrieval.claims import QUOTED, ClaimChecker, Verdict, frame, unsafe_words
from retrieval.plans import Point, facts_text, remark_point, rich
from retrieval.query import read_request
from retrieval.text import phrase_key

NEGATION = re.compile(r"(?i)\b(no|without|not|nothing|skip|except)\b")
ACTIVITY = re.compile(r"(?i)\b(for|while|when|during)\s+(?:a |an |my |the |some )?(?:\w+ing|party|road ?trip|study|"
                      r"gym|workout|sleep|work|drive|rain|night|morning|evening|dinner|wedding|summer|winter)\b")
PLAYLIST = re.compile(r"(?i)\b(playlist|mix|mixtape|songs|tracks|music|something|anything)\b")
# what follows a negation, up to the next clause: "not weepy", "without the screaming", "NOT Disney"
NEGATED = re.compile(r"(?i)\b(?:no|not|without|nothing|skip|except|never)\b([^.,;:!?()/]{0,40})")
HOLLOW = {"the", "a", "an", "too", "very", "really", "so", "that", "as", "like", "any", "much", "overly", "being", "be",
          "to", "for", "of", "and", "or", "but", "sure", "just", "only", "more", "quite", "all", "at", "it", "its",
          "with", "completely", "even", "necessarily", "i", "i'm", "im", "my", "me", "you", "your", "is", "are", "was",
          "do", "does", "this", "these", "those", "one", "ones", "songs", "song", "music", "stuff", "things", "thing",
          "something", "anything", "sound", "sounds", "particularly", "exactly", "well", "known",
          "looking", "want", "need", "into", "have", "has", "in", "on", "from", "about", "than", "what", "how"}
Progress = Callable[[str, int, int], None]
BOOTSTRAP = 2000


# --- what to write about ---------------------------------------------------------------------------------------

@dataclass
class Sample:
    tracks: list[tuple[str, Track]]  # (collection, track)
    requests: list[tuple[str, str]]  # (collection, request)
    remarks: frozenset[int] = frozenset()  # indexes into `requests` that also get a chat remark
    held_back: int = 0  # how many of the tracks the fine-tuning corpus keeps out of training


def pick_tracks(tracks: list[Track], n: int, held_back: Callable[[str], bool] | None = None) -> list[Track]:
    """`n` tracks, deterministically: the held-back ones first (what an adapter never trained on), each group in
    sha1 order of the id."""
    def order(track: Track) -> tuple[bool, str]:
        return (not held_back(track.id) if held_back else False, hashlib.sha1(track.id.encode()).hexdigest())

    return sorted(tracks, key=order)[:n]


def playlist_like(request: str) -> int:
    """How much a request reads as a playlist brief (a use, a mood or genre, "songs"), not as a question about
    one artist: a rough score for choosing among real requests."""
    reading = read_request(request)
    score = 3 * bool(re.search(r"(?i)\b(playlist|mix|mixtape)\b", request)) + 2 * bool(ACTIVITY.search(request))
    score += 2 * bool(reading.mood.moods) + bool(reading.genres) + bool(PLAYLIST.search(request))
    score -= 2 * bool(re.search(r"(?i)\bsimilar\b|\bsounds? like\b", request)) + (len(request) > 180)
    return score


def read_requests(path: Path, m: int) -> list[str]:
    """`m` real requests (CSV with an `original` column, else one a line): every request with a negation when `m`
    allows (else half of `m`), the rest the most playlist-like; ties in sha1 order."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.casefold() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and "original" not in rows[0]:
            raise ValueError(f"{path}: no 'original' column (columns: {', '.join(rows[0])})")
        found = [r["original"] for r in rows]
    else:
        found = text.splitlines()
    found = list(dict.fromkeys(" ".join(x.split()) for x in found if x and x.strip()))

    def rank(request: str) -> tuple[int, str]:
        return (-playlist_like(request), hashlib.sha1(request.encode()).hexdigest())

    negated = sorted((r for r in found if NEGATION.search(r)), key=rank)
    others = sorted((r for r in found if not NEGATION.search(r)), key=rank)
    if len(negated) > m:
        negated = negated[:(m + 1) // 2]
    return (negated + others)[:m]


def choose(catalogs: dict[str, Catalog], requests: list[str], reviews: int, playlists: int, remarks: int,
           held_back: Callable[[str], bool] | None = None) -> Sample:
    """The tracks split evenly over the collections, the requests dealt to them in turn, and an evenly spaced
    sample of the requests for remarks."""
    names = list(catalogs)
    tracks: list[tuple[str, Track]] = []
    for i, name in enumerate(names):
        share = reviews // len(names) + (i < reviews % len(names))
        tracks += [(name, t) for t in pick_tracks(catalogs[name].tracks(), share, held_back)]
    chosen = [(names[i % len(names)], r) for i, r in enumerate(requests[:playlists])]
    step = len(chosen) / remarks if remarks and chosen else 0
    marked = frozenset(int(i * step) for i in range(min(remarks, len(chosen)))) if step else frozenset()
    back = sum(1 for _, t in tracks if held_back and held_back(t.id))
    return Sample(tracks, chosen, marked, back)


# --- writing -----------------------------------------------------------------------------------------------------

class Bounded(BaseChatModel):
    """A chat model with at most `limit` requests in flight: reviews write their points concurrently, and a
    server is measured at the concurrency asked for, not at whatever the thread pools add up to."""

    inner: BaseChatModel
    limit: int = 16
    _gate: threading.BoundedSemaphore | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        self._gate = threading.BoundedSemaphore(self.limit)

    @property
    def _llm_type(self) -> str:
        return f"bounded-{self.inner._llm_type}"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        with self._gate:  # through the inner model's public path: a streaming server client streams there
            message = self.inner.invoke(messages, stop=stop, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=message.content))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        with self._gate:  # held until the caller stops reading (a point stops at its first sentence)
            for chunk in self.inner.stream(messages, stop=stop, **kwargs):
                yield ChatGenerationChunk(message=AIMessageChunk(content=chunk.content))


def agents_for(catalogs: dict[str, Catalog], folder: Path) -> dict[str, Agent]:
    """One agent per collection, with no model of its own: each call says which model writes (None: templates)."""
    agents = {}
    for name, catalog in catalogs.items():
        agent = Agent(catalog, checkpoint=folder / f"sessions-{name}.sqlite", prose=False)
        catalog.index()  # built once here, not raced for by the writing threads
        catalog.artist_matcher()
        agent.picks("calm music", 3)
        agents[name] = agent
    return agents


def write(agents: dict[str, Agent], sample: Sample, chat: BaseChatModel | None, name: str = "",
          concurrency: int = 1, progress: Progress | None = None) -> dict[str, list[dict]]:
    """Every review, playlist and remark of the sample by one engine (`chat` None: the templates alone), as JSON
    records; `concurrency` > 1 writes several outputs at once (for a server), each keeping its own order."""
    jobs = [("review", i) for i in range(len(sample.tracks))] + [("playlist", i) for i in range(len(sample.requests))]
    out: dict[str, list[dict]] = {"reviews": [{}] * len(sample.tracks), "playlists": [{}] * len(sample.requests)}
    done = [0]
    lock = threading.Lock()

    def one(job: tuple[str, int]) -> None:
        kind, i = job
        if kind == "review":
            collection, track = sample.tracks[i]
            out["reviews"][i] = review_record(agents[collection], collection, track, chat)
        else:
            collection, request = sample.requests[i]
            out["playlists"][i] = playlist_record(agents[collection], collection, request, chat,
                                                  i in sample.remarks)
        with lock:
            done[0] += 1
            if progress:
                progress(name, done[0], len(jobs))

    if concurrency <= 1:
        for job in jobs:
            one(job)
        return out
    pool = ThreadPoolExecutor(max_workers=max(2, concurrency // 4), thread_name_prefix="eval-text")
    try:
        for future in [pool.submit(one, job) for job in jobs]:
            future.result()
    finally:  # Ctrl-C or a failure: what has not started never starts
        pool.shutdown(wait=False, cancel_futures=True)
    return out


def review_record(agent: Agent, collection: str, track: Track, chat: BaseChatModel | None) -> dict:
    start = time.perf_counter()
    written = agent.intents.review_written(track, chat=chat)
    wall = time.perf_counter() - start
    comments = [c for c in _comments(agent, track) if c.strip()]
    index = agent.catalog.index()
    related = [t for x in written.lines if x.point is not None for i in x.point.extra.get("related", [])
               if (t := index.get(i)) is not None]
    carried = " ".join([facts_text(track), track.lyrics or "", track.description or "", *comments])
    union = union_point([x.point for x in written.lines if x.point is not None])
    checker = ClaimChecker(agent.catalog.artist_matcher())
    record = {"collection": collection, "id": track.id, "title": track.title, "artist": track.artist or "",
              "rich": rich(track, comments), **_account(written), "wall_s": round(wall, 3)}
    lines = [(x.source, x.text) for x in written.lines]
    record.update(_final_checks(checker, lines, union, [track, *related], carried))
    record["frames"] = sorted({frame(x.text) for x in written.lines if x.source == "template"})
    record["first_names_track"] = bool(written.lines) and names_track(written.lines[0].text, track)
    return record


def playlist_record(agent: Agent, collection: str, request: str, chat: BaseChatModel | None,
                    with_remark: bool) -> dict:
    result = agent.playlist_written(request, 12, chat=chat)
    written, tracks, no = result["written"], result["tracks"], refused(request, agent.catalog.artist_matcher())
    union = union_point([x.point for x in written.lines if x.point is not None])
    checker = ClaimChecker(agent.catalog.artist_matcher())
    record = {"collection": collection, "request": request, "refused": list(no), "title": result["title"],
              "raw_titles": [{"title": t, "ok": ok} for t, ok in result["titles"]],
              "title_contradiction": contradicts(result["title"], no), "tracks": [t.id for t in tracks],
              **_account(written)}
    record.update(_final_checks(checker, [(x.source, x.text) for x in written.lines], union, tracks, ""))
    record["refused_in_text"] = [s for s in split_sentences(written.text) if contradicts(s, no, words=False)]
    echoes = negated_words(request)
    record["negated_echoes"] = sorted(echoes & set(phrase_key(result["title"]).split()))
    if with_remark:
        record["remark"] = remark_record(agent, request, chat)
    return record


def remark_record(agent: Agent, request: str, chat: BaseChatModel | None) -> dict:
    """The chat remark on the request's picks, as the recommend intent writes it (None: no model, no remark)."""
    _, hits, _ = agent.picks(request, 6)
    tracks = [h.track for h in hits]
    verifier = Verifier(tracks, agent.catalog.artist_matcher(), no_names=True, forbidden=asked_names(request))
    dropped: list[str] = []
    start = time.perf_counter()
    text = remark(chat, request, hits, [], verifier, dropped=dropped) if chat is not None and hits else ""
    record = {"text": text, "dropped": dropped, "seconds": round(time.perf_counter() - start, 3)}
    if text:
        record.update(_final_checks(ClaimChecker(agent.catalog.artist_matcher()), [("model", text)],
                                    remark_point(request, tracks), tracks, ""))
    return record


def _comments(agent: Agent, track: Track) -> list[str]:
    from agent.intents import comments_for

    return list(dict.fromkeys(comments_for(track.id, agent.catalog.settings.comments_path) + list(track.comments)))


def _account(written) -> dict:
    return {"text": written.text, "lines": [{"kind": x.kind, "text": x.text, "source": x.source}
                                            for x in written.lines],
            "judged": [{"kind": k, "sentence": s, "ok": v.ok, "reason": v.reason, "detail": v.detail}
                       for k, s, v in written.judged],
            "first_model_s": written.first_model_s, "seconds": round(written.seconds, 3),
            "words": len(written.text.split()), "sentences": len(split_sentences(written.text))}


# --- checks of the final text --------------------------------------------------------------------------------

def negated_words(request: str) -> set[str]:
    """The words a request puts after a negation ("not weepy", "NOT Disney"), whether or not the request parser
    reads them as a refusal: a title or description that says one of them likely says what was refused."""
    out = set()
    for match in NEGATED.finditer(request):
        words = [w for w in phrase_key(match.group(1)).split() if w not in HOLLOW and len(w) > 2]
        out |= set(words[:2])
    return out


def union_point(points: list[Point]) -> Point:
    """Everything the text's points may say, as one point: what each final sentence is checked against again."""
    facts = tuple(dict.fromkeys(f for p in points for f in p.facts))
    names = tuple(dict.fromkeys(n for p in points for n in p.names))
    return Point("union", facts, names)


def claims_of(checker: ClaimChecker, sentence: str, point: Point, tracks: list[Track] = ()) -> Verdict:
    """Only the claim checks (names, numbers, music terms) of `ClaimChecker.judge`, whatever the sentence's
    form: a quoted listener line ("One listener writes: ...") fails `judge` as a label before its names are
    looked at, and here it must not hide one."""
    text = " ".join(sentence.replace("\u2019", "'").split())
    support = point.support()
    key = f" {phrase_key(support + ' ' + ' '.join(point.names))} "
    quotes, bare, supported = QUOTED.findall(text), QUOTED.sub(" ", text), []
    for check in (checker._names, checker._numbers, checker._terms):
        failed = check(text, bare, quotes, point, support, key, supported, tracks)
        if failed:
            return failed
    return Verdict(True, supported=supported)


def unsafe_hits(sentence: str, carried: str) -> list[str]:
    """The unsafe words in `sentence` that `carried` (the track's own text) does not carry."""
    table, held = unsafe_words(), set(phrase_key(carried).split())
    return [w for w in phrase_key(sentence).split()
            if (table.get(w) or table.get(w.rstrip("s"))) and w not in held and w.rstrip("s") not in held]


def _final_checks(checker: ClaimChecker, lines: list[tuple[str, str]], union: Point, tracks: list[Track],
                  carried: str) -> dict:
    """Each final sentence (of each (source, text) line) checked again: its claims against the union of the
    text's points, its words for anything unsafe the track's own text does not carry."""
    unsupported, unsafe, claims = [], [], set()
    for source, text in lines:
        for sentence in split_sentences(text) or [text]:
            verdict = claims_of(checker, sentence, union, tracks)
            if not verdict.ok:
                unsupported.append({"sentence": sentence, "source": source, "reason": verdict.reason,
                                    "detail": verdict.detail})
            claims |= {phrase_key(c) for c in verdict.supported if phrase_key(c)}
            if hits := unsafe_hits(sentence, union.support() + " " + carried):
                unsafe.append({"sentence": sentence, "source": source, "words": hits})
    return {"unsupported": unsupported, "unsafe": unsafe, "facts": len(claims)}


def contradicts(text: str, no: tuple[str, ...], words: bool = True) -> bool:
    """Says something the request refused: any of its words (`words`, as titles are held to), else any whole
    refused term."""
    key = f" {phrase_key(text)} "
    if words:
        return bool(set(key.split()) & {k for r in no for k in phrase_key(r).split()})
    return any(f" {phrase_key(r)} " in key for r in no if phrase_key(r))


def names_track(sentence: str, track: Track) -> bool:
    key = f" {phrase_key(sentence)} "
    return all(f" {phrase_key(x)} " in key for x in (track.title, track.artist) if x and phrase_key(x))


def length_ok(words: int, sentences: int, is_rich: bool) -> bool:
    low, high = REVIEW_WORDS[is_rich]
    return low <= words <= high and REVIEW_SENTENCES[0] <= sentences <= REVIEW_SENTENCES[1]


# --- figures -----------------------------------------------------------------------------------------------------

def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float, float]:
    """(share, low, high): the Wilson score 95% interval of k successes in n."""
    if n == 0:
        return 0.0, 0.0, 0.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, max(0.0, float(centre - half)), min(1.0, float(centre + half))


def distinct_2(texts: list[str]) -> float:
    """Distinct bigrams over all bigrams, bigrams taken within each text."""
    grams = []
    for text in texts:
        words = re.findall(r"[\w']+", text.casefold())
        grams += list(zip(words, words[1:], strict=False))
    return len(set(grams)) / len(grams) if grams else 0.0


def max_shared_frames(frames: dict[str, set[str]]) -> int:
    """The most template frames any two texts of different tracks have in common (0 for fewer than two)."""
    return max((len(a & b) for (_, a), (_, b) in combinations(frames.items(), 2)), default=0)


def _judged(output: dict) -> list[dict]:
    """Every raw model sentence of an output: its points, its title, its remark."""
    out = list(output.get("judged", []))
    out += [{"kind": "title", "ok": t["ok"], "reason": "" if t["ok"] else "title"}
            for t in output.get("raw_titles", [])]
    mark = output.get("remark") or {}
    out += [{"kind": "remark", "ok": True, "reason": ""}] * bool(mark.get("text"))
    out += [{"kind": "remark", "ok": False, "reason": "remark"}] * len(mark.get("dropped", []))
    return out


def engine_figures(outputs: dict[str, list[dict]]) -> dict:
    reviews, playlists = outputs["reviews"], outputs["playlists"]
    remarks = [p["remark"] for p in playlists if p.get("remark")]
    judged = [j for o in reviews + playlists for j in _judged(o) if j["kind"] != "title"]  # titles: `title_ok`
    parts = {}
    for part, kinds in (("review points", None), ("playlist points", None), ("titles", {"title"}),
                        ("remarks", {"remark"})):
        pool = reviews if part == "review points" else playlists
        items = [j for o in pool for j in _judged(o)
                 if (kinds is None and j["kind"] not in ("title", "remark")) or (kinds and j["kind"] in kinds)]
        parts[part] = _rate(items)
    lines = [x for o in reviews + playlists for x in o["lines"]] + [{"source": "model"} for r in remarks if r["text"]]
    words = [r["words"] for r in reviews]
    frames = {f"{r['collection']}:{r['id']}": set(r["frames"]) for r in reviews}
    finals = reviews + playlists + [r for r in remarks if r.get("text")]
    firsts = [r["first_model_s"] for r in reviews if r["first_model_s"] is not None]
    return {
        "reviews": len(reviews), "playlists": len(playlists), "remarks": len(remarks),
        "accepted": _rate(judged), "accepted_by_part": parts,
        "rejections": dict(Counter(j["reason"] for j in judged if not j["ok"]).most_common()),
        "model_share": _share(sum(x["source"] == "model" for x in lines), len(lines)),
        "facts_per_review": round(statistics.mean(r["facts"] for r in reviews), 2) if reviews else 0.0,
        "distinct_2": round(distinct_2([r["text"] for r in reviews]), 4),
        "unsafe": sum(len(o.get("unsafe", [])) for o in finals),
        "unsupported": sum(sum(u["reason"] in ("name", "number") for u in o.get("unsupported", [])) for o in finals),
        "unsupported_from": {src: sum(sum(u["reason"] in ("name", "number") and u["source"] == src
                                          for u in o.get("unsupported", [])) for o in finals)
                             for src in ("model", "template")},
        "unsupported_terms": sum(sum(u["reason"] == "term" for u in o.get("unsupported", [])) for o in finals),
        "title_contradictions": sum(p["title_contradiction"] for p in playlists),
        "refused_in_descriptions": sum(len(p["refused_in_text"]) for p in playlists),
        "negated_echoes": sum(bool(p["negated_echoes"]) for p in playlists),
        "empty_playlists": sum(not p["tracks"] for p in playlists),
        "max_shared_frames": max_shared_frames(frames),
        "words": [min(words), statistics.median(words), max(words)] if words else [0, 0, 0],
        "length_rule": _share(sum(length_ok(r["words"], r["sentences"], r["rich"]) for r in reviews), len(reviews)),
        "first_sentence": _share(sum(r["first_names_track"] for r in reviews), len(reviews)),
        "seconds_per_review": round(statistics.median(r["wall_s"] for r in reviews), 3) if reviews else 0.0,
        "first_model_s": round(statistics.median(firsts), 3) if firsts else None,
    }


def _rate(items: list[dict]) -> dict:
    k, n = sum(bool(j["ok"]) for j in items), len(items)
    p, low, high = wilson(k, n)
    return {"k": k, "n": n, "rate": round(p, 4), "low": round(low, 4), "high": round(high, 4)}


def _share(k: int, n: int) -> dict:
    return {"k": int(k), "n": n, "rate": round(k / n, 4) if n else 0.0}


def compare(base: dict[str, list[dict]], adapter: dict[str, list[dict]]) -> dict:
    """adapter/base acceptance ratio and difference in points, with 95% intervals from a bootstrap over the
    outputs (paired: the same track or request in both)."""
    items = [(_judged(a), _judged(b)) for part in ("reviews", "playlists") for a, b in zip(adapter[part], base[part],
                                                                                             strict=True)]
    counts = np.array([[sum(j["ok"] for j in a), len(a), sum(j["ok"] for j in b), len(b)] for a, b in items], float)
    if not len(counts) or counts[:, 3].sum() == 0 or counts[:, 1].sum() == 0:
        return {}
    rng = np.random.default_rng(0)
    picks = counts[rng.integers(0, len(counts), size=(BOOTSTRAP, len(counts)))].sum(axis=1)
    rate_a, rate_b = picks[:, 0] / np.maximum(picks[:, 1], 1), picks[:, 2] / np.maximum(picks[:, 3], 1)
    total = counts.sum(axis=0)
    a, b = total[0] / total[1], total[2] / total[3]
    diff = [round(float(x), 2) for x in np.percentile(100 * (rate_a - rate_b), [2.5, 97.5])]
    out = {"ratio": None, "ratio_interval": None, "points": round(float(100 * (a - b)), 2), "points_interval": diff}
    if b > 0:  # no ratio over a base that accepted nothing
        ratios = rate_a / np.maximum(rate_b, 1e-9)
        out.update(ratio=round(float(a / b), 3),
                   ratio_interval=[round(float(x), 3) for x in np.percentile(ratios, [2.5, 97.5])])
    return out


# --- the report ------------------------------------------------------------------------------------------------

def table(report: dict[str, dict]) -> str:
    """The figures side by side, one column per engine, as markdown."""
    names = list(report)
    head = f"| figure | {' | '.join(names)} |\n|---|" + "---:|" * len(names)

    def pct(x: dict) -> str:
        return f"{100 * x['rate']:.1f}% ({x['k']}/{x['n']})" if x["n"] else "\u2014"

    def ci(x: dict) -> str:
        return (f"{100 * x['rate']:.1f}% ({100 * x['low']:.1f}\u2013{100 * x['high']:.1f}%, n={x['n']})"
                if x["n"] else "\u2014")

    rows = [("raw model sentences accepted (95% CI)", lambda f: ci(f["accepted"]))]
    rows += [(f"\u2003{part}", lambda f, p=part: ci(f["accepted_by_part"][p]))
             for part in ("review points", "playlist points", "titles", "remarks")]
    rows += [("final sentences the model wrote", lambda f: pct(f["model_share"])),
             ("facts covered per review (mean)", lambda f: f"{f['facts_per_review']:.2f}"),
             ("distinct-2 over reviews", lambda f: f"{f['distinct_2']:.3f}"),
             ("unsafe sentences in final text (0 expected)", lambda f: str(f["unsafe"])),
             ("unsupported names/numbers in final text (0 expected)",
              lambda f: f"{f['unsupported']} (model {f['unsupported_from']['model']}, templates "
                        f"{f['unsupported_from']['template']})"),
             ("unsupported music terms in final text", lambda f: str(f["unsupported_terms"])),
             ("title contradictions (0 expected)", lambda f: f"{f['title_contradictions']}/{f['playlists']}"),
             ("refused terms in descriptions", lambda f: str(f["refused_in_descriptions"])),
             ("titles echoing a word the request negated", lambda f: f"{f['negated_echoes']}/{f['playlists']}"),
             ("empty playlists (nothing matched)", lambda f: f"{f['empty_playlists']}/{f['playlists']}"),
             ("max template frames shared by two reviews (<= 1)", lambda f: str(f["max_shared_frames"])),
             ("review words min/median/max", lambda f: "/".join(f"{w:g}" for w in f["words"])),
             ("reviews within the length rule", lambda f: pct(f["length_rule"])),
             ("first sentence names title and artist", lambda f: pct(f["first_sentence"])),
             ("seconds per review (median)", lambda f: f"{f['seconds_per_review']:.2f}"),
             ("seconds to first model sentence (median)",
              lambda f: "\u2014" if f["first_model_s"] is None else f"{f['first_model_s']:.2f}")]
    body = "\n".join(f"| {label} | {' | '.join(cell(report[n]) for n in names)} |" for label, cell in rows)
    return f"{head}\n{body}"


def plot(report: dict[str, dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    labels = ["accepted", "model share", "length rule", "first sentence"]
    names = list(report)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        f = report[name]
        values = [f["accepted"]["rate"], f["model_share"]["rate"], f["length_rule"]["rate"],
                  f["first_sentence"]["rate"]]
        low = [f["accepted"]["rate"] - f["accepted"]["low"], 0, 0, 0]
        high = [f["accepted"]["high"] - f["accepted"]["rate"], 0, 0, 0]
        left.bar(np.arange(4) + i * width, values, width, yerr=[low, high], capsize=3, label=name)
    left.set_xticks(np.arange(4) + width * (len(names) - 1) / 2, labels)
    left.set(ylim=(0, 1.05), title="Shares (raw acceptance with its Wilson 95% interval)")
    left.legend(fontsize=8)
    right.bar(names, [report[n]["facts_per_review"] for n in names], color="grey")
    right.set(title="Facts covered per review (mean)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- a server for the run --------------------------------------------------------------------------------------

@dataclass
class Served:
    url: str
    base: str  # the base model's served name
    log: Path
    adapter: bool = False
    started_s: float = 0.0


@contextmanager
def serving(model: Path, adapter: Path | None, settings, log: Path, timeout: float = 900,
            say: Callable[[str], None] | None = None) -> Iterator[Served]:
    """A vLLM server for this run: the base model under its folder name, or with `adapter` the adapter as
    `encore` (merged into the weights on a CPU, where vLLM's LoRA path decodes at half speed; a LoRA module on a
    GPU); stopped, with its whole process group, on every way out (Ctrl-C included)."""
    import subprocess

    from agent.serve import ServeConfig, command, vllm_python, wait_healthy, with_merged
    from retrieval.process import Child

    python, cpu = vllm_python(settings)
    config = ServeConfig(model, adapter, port=_free_port())
    if cpu:
        config = with_merged(config, settings, say)
    args, env = command(config, python, cpu, settings)
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as handle:
        server = Child.start(args, env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{config.port}"
            wait_healthy(url, server.process, timeout=timeout)
            yield Served(url + "/v1", model.name, log, adapter is not None, time.perf_counter() - start)
        finally:
            server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- one whole run -----------------------------------------------------------------------------------------------

@dataclass
class Run:
    """Everything one `encore eval text` wrote and measured."""

    config: dict
    outputs: dict[str, dict[str, list[dict]]]  # engine -> reviews, playlists
    walls: dict[str, float]

    @property
    def report(self) -> dict[str, dict]:
        return {n: {**engine_figures(o), "wall_s": self.walls[n]} for n, o in self.outputs.items()}

    @property
    def comparison(self) -> dict:
        return compare(self.outputs["base"], self.outputs["adapter"]) if "adapter" in self.outputs else {}

    def markdown(self) -> str:
        lines = [table(self.report)]
        if c := self.comparison:
            low, high = c["ratio_interval"] or (0, 0)
            ratio = (f"{c['ratio']:.2f}x (95% bootstrap {low:.2f}\u2013{high:.2f}x)" if c["ratio"] is not None
                     else "no ratio (the base model had no sentence accepted)")
            lines.append(f"\nadapter / base acceptance: {ratio}; difference {c['points']:+.1f} points "
                         f"({c['points_interval'][0]:+.1f} to {c['points_interval'][1]:+.1f})")
        how = "vLLM" if self.config["server"] else "in-process"
        lines.append("\nwall time: " + ", ".join(f"{n} {w:.0f} s" for n, w in self.walls.items())
                     + f" ({how}, model {Path(self.config['model']).name}"
                     + (f", adapter {self.config['adapter']}" if self.config["adapter"] else "") + ")")
        return "\n".join(lines)

    def save(self, folder: Path) -> list[Path]:
        import json

        folder.mkdir(parents=True, exist_ok=True)
        md, js = folder / "text.md", folder / "text.json"
        md.write_text(self.markdown() + "\n", encoding="utf-8")
        js.write_text(json.dumps({"config": self.config, "figures": self.report, "comparison": self.comparison,
                                  "outputs": self.outputs}, indent=1, ensure_ascii=False), encoding="utf-8")
        return [md, js, plot(self.report, folder / "text.png")]


def evaluate(catalogs: dict[str, Catalog], sample: Sample, model: Path, adapter: Path | None, settings,
             server: bool, concurrency: int = 16, say: Callable[[str], None] = print) -> Run:
    """The templates alone, then the base model and the adapter: through one vLLM server (`server`) at
    `concurrency` requests in flight, else in-process, one sentence at a time. `say` gets the progress lines."""
    import tempfile

    from agent.engines import LocalChatModel, served_chat_model

    outputs: dict[str, dict] = {}
    walls: dict[str, float] = {}
    started: dict[str, float] = {}

    def progress(name: str, done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            spent = time.perf_counter() - started[name]
            say(f"{name}: {done}/{total} outputs, {spent / 60:.1f} min, about "
                f"{spent / done * (total - done) / 60:.1f} min left")

    def run(name: str, chat: BaseChatModel | None, workers: int = 1) -> None:
        started[name] = time.perf_counter()
        outputs[name] = write(agents, sample, chat, name, workers, progress)
        walls[name] = round(time.perf_counter() - started[name], 1)

    engines = [("base", None)] + ([("adapter", adapter)] if adapter else [])
    with tempfile.TemporaryDirectory(prefix="encore-eval-text-") as folder:
        agents = agents_for(catalogs, Path(folder))
        run("templates", None)
        points = sum(len(o["lines"]) for part in outputs["templates"].values() for o in part)
        points += len(sample.requests) + len(sample.remarks)  # a title each, and the remarks
        if server:
            say(f"about {points} model sentences per model, {concurrency} requests in flight")
            for name, folder_ in engines:  # one server per engine, so an adapter can be served merged
                log = settings.root() / "reports" / f"text-vllm-{name}.log"
                say(f"starting vLLM ({model.name}{' + adapter as encore' if folder_ else ''}); log: {log}")
                with serving(model, folder_, settings, log, say=say) as served:
                    say(f"vLLM ready in {served.started_s:.0f} s")
                    inner = served_chat_model(served.url, model="encore" if folder_ else served.base, timeout=300,
                                              settings=settings)
                    run(name, Bounded(inner=inner, limit=concurrency), concurrency)
        else:
            say(f"in-process model: about {points} model sentences per model, one at a time; at 1-3 s each on a "
                f"laptop CPU that is {points / 60:.0f}-{points / 20:.0f} min per model (`make vllm-cpu` for a "
                "server, much faster)")
            for name, folder_ in engines:
                run(name, LocalChatModel(model_path=str(model), adapter=str(folder_) if folder_ else None,
                                         temperature=settings.temperature))
    config = {"collections": list(catalogs), "model": str(model), "adapter": str(adapter) if adapter else None,
              "server": server, "concurrency": concurrency if server else 1, "reviews": len(sample.tracks),
              "playlists": len(sample.requests), "remarks": len(sample.remarks), "held_back": sample.held_back}
    order = [n for n, _ in engines] + ["templates"]
    return Run(config, {n: outputs[n] for n in order}, {n: walls[n] for n in order})
