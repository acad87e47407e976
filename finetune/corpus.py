"""The fine-tuning corpus: lyrics (JSONL/TXT folders), listener comments and reviews (CSV/JSONL) and MusicCaps-style
captions, cleaned, de-duplicated (exact and near), length-limited, language-tagged and split deterministically into
train/validation, then turned into chat instruction pairs for the tasks Encore's agent uses: review a track from
its facts, describe a track, write lyrics in a mood, reply as a music-savvy friend.

    from finetune.corpus import build
    corpus = build(lyrics=[Path("data/demo/lyrics.jsonl")], comments=[Path("data/demo/comments.jsonl")])
    print(corpus.stats)
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CorpusError

MIN_CHARS, MAX_CHARS = 40, 1500  # shorter is noise; longer is cut at a sentence/line end
MAX_LINE_BYTES = 200_000  # a "line" longer than this is not text a person wrote: skipped and reported
VALIDATION_PERCENT = 10
NOT_TEXTS = re.compile(r"(?i)^(.*[_-])?(license|licence|readme|copying|notice|changelog)$")  # beside the data
TEXT_COLUMNS = ("text", "comment", "review", "body", "caption", "content", "lyrics")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Example:
    """One instruction pair: what the agent will ask (`prompt`), and what a person wrote (`answer`)."""

    id: str
    task: str  # review | describe | lyrics | friend
    prompt: str
    answer: str
    source: str
    language: str
    split: str = "train"


@dataclass
class Corpus:
    examples: list[Example]
    skipped: list[str] = field(default_factory=list)  # "FILE:LINE: reason"
    duplicates: int = 0
    near_duplicates: int = 0

    @property
    def train(self) -> list[Example]:
        return [e for e in self.examples if e.split == "train"]

    @property
    def validation(self) -> list[Example]:
        return [e for e in self.examples if e.split == "validation"]

    @property
    def stats(self) -> dict:
        words = [len(e.answer.split()) for e in self.examples]
        return {"examples": len(self.examples), "train": len(self.train), "validation": len(self.validation),
                "by_task": dict(Counter(e.task for e in self.examples)),
                "by_source": dict(Counter(e.source for e in self.examples)),
                "by_language": dict(Counter(e.language for e in self.examples)),
                "answer_words_mean": round(float(np.mean(words)), 1) if words else 0,
                "duplicates_removed": self.duplicates, "near_duplicates_removed": self.near_duplicates,
                "skipped": len(self.skipped)}


# --- cleaning ------------------------------------------------------------------------------------------------

def clean(text: str) -> str:
    """Markup out, melisma dashes joined ("Son - ne" -> "Sonne"), whitespace normalised (line breaks kept)."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"<[^>]{1,200}>", " ", text)  # HTML/XML tags
    text = re.sub(r"\[(?:/?[a-z]+|\d+)\]", " ", text, flags=re.I)  # [b], [/i], [1]
    text = re.sub(r"(?<=\w) - (?=[a-zäöüßéèàç])", "", text)  # sung syllables split by dashes
    text = re.sub(r"(?<=\w)-\s+(?=[a-zäöüß])", "", text)  # hyphen at a line break
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def limit(text: str, limit_chars: int = MAX_CHARS) -> str:
    if len(text) <= limit_chars:
        return text
    cut = text[:limit_chars]
    end = max(cut.rfind(". "), cut.rfind("\n"), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1].strip() if end > limit_chars // 2 else cut.rsplit(" ", 1)[0]


STOPWORDS = {"en": {"the", "and", "you", "that", "with", "is", "of", "my", "in", "to"},
             "de": {"und", "die", "der", "ich", "nicht", "das", "ist", "mein", "mit", "du"},
             "fr": {"et", "le", "la", "les", "je", "de", "est", "mon", "tu", "dans"},
             "es": {"el", "la", "que", "de", "y", "en", "mi", "tu", "los", "por"}}


def language(text: str) -> str:
    """A rough language tag from common words (en, de, fr, es), CJK script (zh/ja), else 'other'."""
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if len(re.findall(r"[\u4e00-\u9fff]", text)) > 5:
        return "zh"
    words = re.findall(r"[a-zäöüßéèàçñ']+", text.casefold())
    scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] >= 2 else "other"


def split_of(key: str) -> str:
    """Deterministic: the same text always lands in the same split, whatever else is in the corpus."""
    bucket = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 100
    return "validation" if bucket < VALIDATION_PERCENT else "train"


# --- reading -------------------------------------------------------------------------------------------------

@dataclass
class Raw:
    text: str
    where: str  # FILE:LINE
    meta: dict


def _files(paths: list[Path], suffixes: tuple[str, ...]) -> Iterator[Path]:
    for path in paths:
        if not path.exists():
            raise CorpusError(f"{path}: no such file or folder")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                           and not NOT_TEXTS.match(p.stem))
            if not found:
                raise CorpusError(f"{path}: no {'/'.join(suffixes)} files in this folder")
            yield from found
        else:
            yield path


def read_texts(paths: list[Path], skipped: list[str]) -> Iterator[Raw]:
    """Rows from JSONL, CSV and TXT files (a TXT file is one text). Unreadable rows are reported and skipped."""
    for path in _files(paths, (".jsonl", ".json", ".csv", ".txt")):
        if _is_binary(path):
            skipped.append(f"{path}:1: binary file, not text")
            continue
        suffix = path.suffix.lower()
        if suffix == ".txt":
            data = path.read_bytes()
            if len(data) > MAX_LINE_BYTES * 5:
                skipped.append(f"{path}:1: too long for one text ({len(data)} bytes)")
                continue
            yield Raw(data.decode("utf-8", errors="replace"), f"{path}:1", {"title": path.stem})
        elif suffix == ".csv":
            yield from _csv(path, skipped)
        else:
            yield from _jsonl(path, skipped)


def _is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    return b"\x00" in head


def _jsonl(path: Path, skipped: list[str]) -> Iterator[Raw]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if len(line) > MAX_LINE_BYTES:
                skipped.append(f"{path}:{number}: line of {len(line)} bytes is too long")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                skipped.append(f"{path}:{number}: not valid JSON")
                continue
            text = next((obj[c] for c in TEXT_COLUMNS if isinstance(obj, dict) and isinstance(obj.get(c), str)), None)
            if text is None:
                skipped.append(f"{path}:{number}: no text field ({', '.join(TEXT_COLUMNS)})")
                continue
            yield Raw(text, f"{path}:{number}", obj)


def _csv(path: Path, skipped: list[str]) -> Iterator[Raw]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        column = next((c for c in TEXT_COLUMNS if c in (reader.fieldnames or [])), None)
        if column is None:
            skipped.append(f"{path}:1: no text column; expected one of {', '.join(TEXT_COLUMNS)}, "
                           f"found {', '.join(reader.fieldnames or []) or 'none'}")
            return
        for row in reader:
            number = reader.line_num
            text = row.get(column)
            if None in row or not isinstance(text, str):
                skipped.append(f"{path}:{number}: wrong number of columns")
                continue
            if len(text) > MAX_LINE_BYTES:
                skipped.append(f"{path}:{number}: text of {len(text)} characters is too long")
                continue
            yield Raw(text, f"{path}:{number}", row)


# --- instruction pairs ---------------------------------------------------------------------------------------

def facts(row: dict) -> str:
    """A track's facts as short lines, in the same shape the agent's prompts use."""
    lines = [f"title: {row['title']}"]
    for key in ("artist", "year", "genre"):
        if row.get(key):
            lines.append(f"{key}: {row[key]}")
    for key, label in (("tags", "style"), ("moods", "moods")):
        if row.get(key):
            lines.append(f"{label}: {', '.join(row[key])}")
    if row.get("description"):
        lines.append(f"description: {row['description']}")
    return "\n".join(lines)


def _lyric_example(raw: Raw) -> Example:
    text = limit(clean(raw.text))
    title = str(raw.meta.get("title") or "Untitled").strip() or "Untitled"
    from retrieval.mood import read_mood  # the packaged lexicon (no store needed)

    mood = raw.meta.get("mood") or next(iter(read_mood(text).moods), None)
    art_song = "composer" in raw.meta
    ask = f"Write song lyrics titled \u201c{title}\u201d" + (f" in a {mood} mood" if mood else "")
    if art_song:
        ask = f"Write the words of an art song titled \u201c{title}\u201d, in the manner of a classic Lied"
    return Example(_key(raw), "lyrics", ask + ".", text, "lyrics", language(text))


def _comment_example(raw: Raw, catalog: dict[str, dict]) -> Example:
    meta = raw.meta
    text = limit(clean(raw.text))
    if meta.get("caption") == raw.text:  # a MusicCaps-style caption: the musician's tags -> the description
        aspects = meta.get("aspect_list") or ""
        try:
            aspects = ", ".join(a for a in ast.literal_eval(aspects) if isinstance(a, str))
        except (ValueError, SyntaxError):
            aspects = str(aspects)
        ask = "Describe a piece of music in two or three sentences" + (f". Its qualities: {aspects}." if aspects
                                                                       else ".")
        return Example(_key(raw), "describe", ask, text, "captions", language(text))
    track = catalog.get(str(meta.get("track_id") or meta.get("id") or ""))
    if track is None:
        return Example(_key(raw), "friend", "As a music-savvy friend, share what you think of a song you love.",
                       text, "comments", language(text))
    if meta.get("kind") == "review" or len(text.split()) > 100:
        ask = f"Track facts:\n{facts(track)}\n\nWrite a review of \u201c{track['title']}\u201d."
        return Example(_key(raw), "review", ask, text, "reviews", language(text))
    ask = (f"Track facts:\n{facts(track)}\n\nAs a music-savvy friend, say in a few sentences what you think of "
           f"\u201c{track['title']}\u201d.")
    return Example(_key(raw), "friend", ask, text, "comments", language(text))


def _key(raw: Raw) -> str:
    return hashlib.sha1(_normal(raw.text).encode()).hexdigest()[:16]


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def load_catalog(path: Path | None) -> dict[str, dict]:
    if path is None or not path.is_file():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
            rows[str(row["id"])] = row
        except (ValueError, KeyError, TypeError):
            continue
    return rows


def build(lyrics: list[Path] = (), comments: list[Path] = (), catalog: Path | None = None) -> Corpus:
    """Read, clean, de-duplicate and split every source; CorpusError when nothing usable is left."""
    if not lyrics and not comments:
        raise CorpusError("give at least one source: --lyrics and/or --comments")
    skipped: list[str] = []
    tracks = load_catalog(catalog)
    examples: list[tuple[str, Example]] = []
    for raw in read_texts(list(lyrics), skipped):
        examples.append((raw.where, _lyric_example(raw)))
    for raw in read_texts(list(comments), skipped):
        examples.append((raw.where, _comment_example(raw, tracks)))
    kept = []
    for where, example in examples:
        if len(example.answer) < MIN_CHARS:
            skipped.append(f"{where}: under {MIN_CHARS} characters of text after cleaning")
            continue
        kept.append(example)
    corpus = Corpus([], skipped)
    seen: set[str] = set()
    unique = []
    for example in kept:
        if example.id in seen:
            corpus.duplicates += 1
            continue
        seen.add(example.id)
        unique.append(example)
    near = near_duplicates([e.answer for e in unique])
    corpus.near_duplicates = len(near)
    corpus.examples = [e for i, e in enumerate(unique) if i not in near]
    for example in corpus.examples:
        example.split = split_of(example.id)
    if not corpus.examples:
        reasons = "; ".join(skipped[:3])
        raise CorpusError("no usable text in the sources" + (f" ({reasons})" if reasons else ""))
    return corpus


class MinHash:
    """MinHash signatures with the universal hashes h(x) = (a*x + b) mod p, p = 2^31 - 1 (Broder 1997).

    Shingles are reduced below p and a, b drawn below p, so a*x + b < 2^62 never wraps in uint64: each row is
    the hash it claims to be, and the share of equal rows in two signatures estimates their Jaccard similarity.
    """

    PRIME = (1 << 31) - 1

    def __init__(self, permutations: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, self.PRIME, permutations, dtype=np.uint64)
        self.b = rng.integers(0, self.PRIME, permutations, dtype=np.uint64)

    def signature(self, shingles: set[int]) -> np.ndarray:
        values = np.fromiter((v % self.PRIME for v in shingles), dtype=np.uint64, count=len(shingles))
        if not len(values):
            values = np.zeros(1, dtype=np.uint64)
        return ((self.a[:, None] * values[None, :] + self.b[:, None]) % self.PRIME).min(axis=1)


def shingles(text: str) -> set[int]:
    """Word 3-grams of the normalised text, as 32-bit hashes."""
    import zlib

    words = _normal(text).split()
    return {zlib.crc32(" ".join(words[j:j + 3]).encode()) for j in range(max(1, len(words) - 2))}


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / max(1, len(a | b))


def near_duplicates(texts: list[str], threshold: float = 0.8, bands: int = 16, rows: int = 4) -> set[int]:
    """Indexes of texts that are near-copies of an earlier one: MinHash LSH over word 3-grams finds candidates
    (a pair at Jaccard 0.8 shares a band with probability 1 - (1 - 0.8^4)^16 > 0.999), and the exact Jaccard of
    their shingles decides."""
    hasher = MinHash(bands * rows)
    seen: list[set[int]] = []
    buckets: dict[tuple, list[int]] = {}
    dropped: set[int] = set()
    for i, text in enumerate(texts):
        grams = shingles(text)
        seen.append(grams)
        signature = hasher.signature(grams)
        candidates = set()
        for band in range(bands):
            key = (band, *signature[band * rows:(band + 1) * rows].tolist())
            candidates.update(buckets.get(key, []))
            buckets.setdefault(key, []).append(i)
        if any(j not in dropped and jaccard(grams, seen[j]) >= threshold for j in sorted(candidates)):
            dropped.add(i)
    return dropped


def write(corpus: Corpus, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "validation"):
        with (folder / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for e in corpus.examples:
                if e.split == split:
                    handle.write(json.dumps(e.__dict__, ensure_ascii=False) + "\n")
    (folder / "corpus_stats.json").write_text(json.dumps(corpus.stats, indent=2))
    if corpus.skipped:
        (folder / "skipped.txt").write_text("\n".join(corpus.skipped) + "\n", encoding="utf-8")
