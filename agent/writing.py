"""What the model writes: the short introduction to a list of picks (streamed, verified a sentence at a time),
playlist titles and descriptions, and reviews. Everything is written from the retrieved facts only; the verifier
removes any sentence that names music outside them, and grounded sentences built from the catalog's own fields
fill in when the model says too little.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from retrieval import Hit, Track
from retrieval.query import ArtistMatcher
from retrieval.records import ENERGY_WORDS, energy_level

from .explain import facts, prompt
from .verify import SentenceStream, Verifier, split_sentences

REVIEW_WORDS = (120, 250)
OnText = Callable[[str], None]


def pick_lines(hits: list[Hit]) -> str:
    lines = []
    for i, hit in enumerate(hits, 1):
        t = hit.track
        bits = [x for x in (t.genre, str(t.year) if t.year else None, ", ".join(t.moods[:3])) if x]
        lines.append(f"{i}. \"{t.title}\" by {t.artist or 'unknown artist'} ({'; '.join(bits)})")
    return "\n".join(lines)


def stream_verified(chat: BaseChatModel, messages: list, verifier: Verifier, on_text: OnText | None,
                    max_tokens: int, keep: Callable[[str], bool] | None = None) -> SentenceStream:
    """Stream the model's answer through the verifier; each kept sentence goes to `on_text` as soon as it ends."""
    stream = SentenceStream(verifier, keep=keep or good_sentence)
    try:
        for chunk in chat.stream(messages, max_tokens=max_tokens):
            for sentence in stream.feed(str(chunk.content)):
                if on_text:
                    on_text(sentence)
    except ValueError as error:  # LangChain's "No generation chunks": the model ended at once, said nothing
        if "no generation chunks" not in str(error).casefold():
            raise
    for sentence in stream.close():
        if on_text:
            on_text(sentence)
    return stream


def remark(chat: BaseChatModel | None, message: str, hits: list[Hit], notes: list[str], verifier: Verifier,
           on_text: OnText | None = None, dropped: list[str] | None = None) -> str:
    """The model's one or two sentences on the picks as a whole (streamed after the list; may be empty; none
    without a model). The sentences the verifier or the topic check removed go to `dropped`."""
    if chat is None:
        return ""
    user = prompt("chat_user.txt").format(message=_clip(message, 300),
                                          notes=f"Understood: {', '.join(notes)}." if notes else "",
                                          picks=pick_lines(hits[:5]))
    about = fact_words(hits)
    stream = stream_verified(chat, [SystemMessage(prompt("chat_system.txt")), HumanMessage(user)], verifier,
                             on_text, max_tokens=40, keep=lambda s: good_sentence(s) and on_topic(s, about))
    if dropped is not None:
        dropped += stream.dropped
    return " ".join(stream.kept[:2])


def good_sentence(sentence: str) -> bool:
    """Worth showing: a finished sentence of real words that does not loop or recite the instructions (small
    models do all three)."""
    words = re.findall(r"[^\W\d_]{2,}", sentence.casefold())
    if len(words) < 4 or not re.search(r"[.!?。！？]['\")\]]*$", sentence.strip()):
        return False
    if len(set(words)) / len(words) < 0.6:
        return False
    echo = {"listener", "picks", "instruction", "instructions", "encore", "sentences", "rules"}
    return not echo & set(words)


def fact_words(hits: list[Hit]) -> set[str]:
    """The words the picks' own facts use (genres, styles, moods, descriptions): what a remark may be about."""
    words: set[str] = set()
    for hit in hits:
        t = hit.track
        text = " ".join([t.genre or "", *t.tags, *t.moods, t.description or ""])
        words |= {w[:5] for w in re.findall(r"[^\W\d_]{4,}", text.casefold())}
    return words - {w[:5] for w in ("with", "that", "this", "from", "into", "over", "their", "about", "track",
                                    "song", "songs", "music", "sound")}


def on_topic(sentence: str, about: set[str]) -> bool:
    """Does the sentence speak of something the picks' facts mention? (Prefix match: "dreamy" ~ "dream".)"""
    return any(w[:5] in about for w in re.findall(r"[^\W\d_]{4,}", sentence.casefold()))


def grounded_intro(hits: list[Hit], notes: list[str]) -> str:
    """The opening line, from the picks' own tags: shown at once, before any model text."""
    moods = _common([m for h in hits for m in h.track.moods])[:2]
    genres = _common([h.track.genre for h in hits if h.track.genre])[:3]
    head = f"Here are {len(hits)} pick{'s' if len(hits) != 1 else ''}"
    if notes:
        head += f" ({'; '.join(notes)})"
    kinds = [" and ".join(moods), ", ".join(genres)]
    kinds = [k for k in kinds if k]
    return head + (f": mostly {' '.join(kinds)}" if kinds else "") + "."


def playlist(chat: BaseChatModel | None, request: str, hits: list[Hit], verifier: Verifier) -> tuple[str, str]:
    """(title, description): the model's words, verified, with grounded sentences so there are two to four;
    without a model, the grounded ones alone."""
    if chat is None:
        return _fallback_title(request, hits), " ".join(grounded_playlist(hits)[:4])
    system = SystemMessage(prompt("playlist_system.txt"))
    picks = pick_lines(hits)
    raw_title = str(chat.invoke([system, HumanMessage(prompt("playlist_title.txt").format(
        request=_clip(request, 300), picks=picks))], max_tokens=16).content)
    prose = Verifier([h.track for h in hits], verifier.catalog_artists, no_names=True)
    title = _title(raw_title, prose) or _fallback_title(request, hits)
    answer = str(chat.invoke([system, HumanMessage(prompt("playlist_user.txt").format(
        request=_clip(request, 300), picks=picks))], max_tokens=110).content)
    about = fact_words(hits)
    sentences = [s for s in _unique(split_sentences(prose.check(answer).text))
                 if good_sentence(s) and on_topic(s, about)][:2]
    sentences += grounded_playlist(hits)[: max(0, 4 - len(sentences))]
    return title, " ".join(sentences[:4])


def grounded_playlist(hits: list[Hit]) -> list[str]:
    if not hits:
        return ["This playlist is empty: nothing in the catalog matched."]
    first, last = hits[0].track, hits[-1].track
    out = [f"It opens with {first.label()}" + (f" and closes with {last.label()}" if len(hits) > 1 else "") + "."]
    genres, moods = _common([h.track.genre for h in hits if h.track.genre]), _common(
        [m for h in hits for m in h.track.moods])
    years = sorted(h.track.year for h in hits if h.track.year)
    detail = f"{len(hits)} tracks"
    if genres:
        detail += f" of {', '.join(genres[:3])}"
    if years:
        detail += f" from {years[0]} to {years[-1]}" if years[0] != years[-1] else f" from {years[0]}"
    if moods:
        detail += f", mostly {' and '.join(moods[:2])}"
    return [*out, detail[0].upper() + detail[1:] + "."]


def review(chat: BaseChatModel | None, track: Track, comments: list[str], verifier: Verifier,
           related: list[Track] = (), on_text: OnText | None = None) -> str:
    """A 120-250-word review from the track's facts (and comments/lyrics when known), verified. When the model
    stops short it is asked to go on once; grounded sentences from the facts and the catalog's nearest tracks
    complete it if it is still short. Without a model, the grounded sentences alone. `on_text` sees the model's
    sentences that pass the checks as they are written (a preview: the review returned is the final text)."""
    if chat is None:
        return _fit_words(grounded_review(track, related), REVIEW_WORDS[1])
    context = ""
    if comments:
        context += "Listener comments:\n" + "\n".join(f"- {_clip(c, 300)}" for c in comments[:3]) + "\n"
    if track.lyrics:
        context += f"Lyrics (opening): {_clip(track.lyrics, 300)}\n"
    messages = [SystemMessage(prompt("review_system.txt")), HumanMessage(
        prompt("review_user.txt").format(facts=facts(track), context=context, title=track.title))]
    about = fact_words([Hit(track, 1.0, "")]) | {w[:5] for c in comments[:3] for w in re.findall(r"[^\W\d_]{4,}",
                                                                                               c.casefold())}
    answer = _write(chat, messages, 360, verifier, on_text, lambda x: good_sentence(x) and on_topic(x, about))
    written = _review_sentences(answer, verifier)
    if _words([x for x in written if on_topic(x, about)]) < REVIEW_WORDS[0]:
        messages += [AIMessage(answer), HumanMessage(prompt("review_more.txt").format(title=track.title))]
        more = _write(chat, messages, 200, verifier, on_text, lambda x: good_sentence(x) and on_topic(x, about))
        written = _unique(written + _review_sentences(more, verifier))
    # what speaks of the track's facts first; then grounded sentences; the model's other sentences only if the
    # review would otherwise be too short
    sentences = [x for x in written if on_topic(x, about)]
    if _words(sentences) < REVIEW_WORDS[0]:
        sentences += [x for x in grounded_review(track, related) if x not in sentences]
    for extra in (x for x in written if x not in sentences):
        if _words(sentences) >= REVIEW_WORDS[0]:
            break
        sentences.append(extra)
    return _fit_words(sentences, REVIEW_WORDS[1])


def _write(chat: BaseChatModel, messages: list, max_tokens: int, verifier: Verifier, on_text: OnText | None,
           keep: Callable[[str], bool]) -> str:
    """The model's whole answer, tidied; with `on_text`, streamed, and each sentence that passes shown at once."""
    if on_text is None:
        return _tidy(str(chat.invoke(messages, max_tokens=max_tokens).content))
    stream = SentenceStream(verifier, keep=lambda x: keep(_tidy(x).strip()))
    raw: list[str] = []
    try:
        for chunk in chat.stream(messages, max_tokens=max_tokens):
            raw.append(str(chunk.content))
            for sentence in stream.feed(str(chunk.content)):
                on_text(_tidy(sentence).strip())
    except ValueError as error:  # LangChain's "No generation chunks": the model ended at once
        if "no generation chunks" not in str(error).casefold():
            raise
    for sentence in stream.close():
        on_text(_tidy(sentence).strip())
    return _tidy("".join(raw))


def _review_sentences(text: str, verifier: Verifier) -> list[str]:
    """The model's sentences that pass the verifier and read as sentences."""
    return _unique(s for s in split_sentences(verifier.check(text).text) if good_sentence(s))


def _words(sentences: list[str]) -> int:
    return sum(len(s.split()) for s in sentences)


def grounded_review(track: Track, related: list[Track] = ()) -> list[str]:
    """Sentences from the track's own fields, used when the model writes too little."""
    who = track.label()
    out = []
    style = ", ".join(x for x in (track.genre, *track.tags[:3]) if x)
    out.append(f"{who} is a {style or 'catalog'} track" + (f" released in {track.year}" if track.year else "")
               + (f" on {track.album}" if track.album else "") + ".")
    if track.description:
        out += split_sentences(track.description)
    if track.moods:
        moods = track.moods[0] if len(track.moods) == 1 else ", ".join(track.moods[:-1]) + " and " + track.moods[-1]
        out.append(f"Its mood is {moods}.")
    if track.energy is not None:
        out.append(f"The energy is {ENERGY_WORDS[energy_level(track.energy)]}"
                   + (f", at about {round(track.tempo_bpm)} beats per minute" if track.tempo_bpm else "") + ".")
    if track.valence is not None:
        out.append("It leans " + ("bright and positive" if track.valence > 0.6 else "dark and downcast"
                                  if track.valence < 0.35 else "bittersweet, neither sunny nor gloomy") + ".")
    if track.duration_s:
        out.append(f"It runs {int(track.duration_s // 60)}:{int(track.duration_s % 60):02d}.")
    out.append(f"Put it on when you want {('something ' + track.moods[0]) if track.moods else 'it'}"
               + (f" and you like {track.genre}" if track.genre else "") + ".")
    if related:
        names = [t.label() for t in related[:3]]
        out.append("Its closest neighbours in the catalog are " + ", ".join(names[:-1])
                   + (" and " if len(names) > 1 else "") + names[-1] + ".")
    return out


def verifier_for(tracks: list[Track], artists: ArtistMatcher | None = None,
                 extra_artists: tuple[str, ...] = ()) -> Verifier:
    return Verifier(tracks, artists, extra_artists)


def _title(raw: str, verifier: Verifier) -> str:
    line = next((x for x in raw.splitlines() if x.strip()), "")
    line = re.sub(r"^(title\s*:\s*|#+\s*)", "", line.strip(), flags=re.I).strip(" \"'*“”")
    words = line.split()
    if not 1 <= len(words) <= 8 or not verifier.sentence_ok(line) or re.search(r"[\d():;\"“”]", line):
        return ""
    return line.rstrip(".")


def _fallback_title(request: str, hits: list[Hit]) -> str:
    words = [w for w in re.findall(r"[^\W\d_]+", request) if len(w) > 2][:4]
    if words:
        return " ".join(w.capitalize() for w in words)
    genres = _common([h.track.genre for h in hits if h.track.genre])
    return (genres[0].title() if genres else "Encore") + " Mix"


def _tidy(text: str) -> str:
    text = re.sub(r"(?m)^\s*(#+|\*\*|paragraph \d+:?)\s*", "", text)
    return text.replace("**", "")


def _unique(sentences) -> list[str]:
    """Sentences without repeats or near-repeats (small models loop: "I would recommend it to anyone ...")."""
    kept: list[tuple[set[str], str]] = []
    for s in sentences:
        words = set(re.findall(r"\w+", s.casefold()))
        if words and all(len(words & w) / len(words | w) < 0.6 for w, _ in kept):
            kept.append((words, s))
    return [s for _, s in kept]


def _fit_words(sentences: list[str], limit: int) -> str:
    out, count = [], 0
    for s in sentences:
        n = len(s.split())
        if count + n > limit:
            break
        out.append(s)
        count += n
    return " ".join(out)


def _common(items: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return [k for k, _ in sorted(counts.items(), key=lambda kv: -kv[1])]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "\u2026"
