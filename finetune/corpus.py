"""The fine-tuning corpus: lyrics (JSONL/TXT folders), listener comments and reviews (CSV/JSONL) and MusicCaps
captions, cleaned, de-duplicated (exact and near), length-limited, language-tagged and split deterministically into
train/validation, then turned into the chat instruction pairs the agent serves (`finetune.pairs`: one sentence
from a `retrieval.plans` point's facts), plus two capped free tasks that keep the voice (lyrics, a friend's
comment). MusicCaps clips listed in `finetune/data/musiccaps_heldout.txt` never enter training: their pairs are
the held-out perplexity set (`Corpus.heldout_captions`).

    from finetune.corpus import build
    corpus = build(lyrics=[Path("data/demo/lyrics.jsonl")], comments=[Path("data/demo/comments.jsonl")])
    print(corpus.stats)
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.records import Track
from retrieval.settings import DEMO_DIR

from .dedup import MinHash, jaccard, near_duplicates, shingles  # noqa: F401 - the corpus's front door
from .errors import CorpusError
from .pairs import FREE_TASKS, Example, caption_examples, comment_examples, friend_example, heldout_clips, lyric_example
from .text import clean, language, limit, split_of  # noqa: F401 - the corpus's front door

MIN_CHARS = 40  # a shorter text is noise
MAX_LINE_BYTES = 200_000  # a "line" longer than this is not text a person wrote: skipped and reported
FREE_SHARE = 0.25  # at most this share of the pairs are free tasks, when there are served ones
CAPTION_SHARE = 0.5  # at most this share of the served pairs are MusicCaps captions, when there are other ones
NOT_TEXTS = re.compile(r"(?i)^(.*[_-])?(license|licence|readme|copying|notice|changelog)$")  # beside the data
TEXT_COLUMNS = ("text", "comment", "review", "body", "caption", "content", "lyrics")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Corpus:
    examples: list[Example]
    skipped: list[str] = field(default_factory=list)  # "FILE:LINE: reason"
    duplicates: int = 0
    near_duplicates: int = 0
    free_capped: int = 0  # free-task pairs left out so the served tasks stay most of the corpus
    captions_capped: int = 0  # caption pairs left out so the other served tasks are half of what trains

    @property
    def train(self) -> list[Example]:
        return [e for e in self.examples if e.split == "train"]

    @property
    def validation(self) -> list[Example]:
        return [e for e in self.examples if e.split == "validation"]

    @property
    def heldout_captions(self) -> list[Example]:
        """The pairs of the held-out MusicCaps clips (all captions in validation come from them)."""
        return [e for e in self.validation if e.source == "captions"]

    @property
    def stats(self) -> dict:
        words = [len(e.answer.split()) for e in self.examples]
        return {"examples": len(self.examples), "train": len(self.train), "validation": len(self.validation),
                "heldout_captions": len(self.heldout_captions),
                "by_task": dict(Counter(e.task for e in self.examples)),
                "by_source": dict(Counter(e.source for e in self.examples)),
                "by_language": dict(Counter(e.language for e in self.examples)),
                "answer_words_mean": round(float(np.mean(words)), 1) if words else 0,
                "duplicates_removed": self.duplicates, "near_duplicates_removed": self.near_duplicates,
                "free_tasks_capped": self.free_capped, "captions_capped": self.captions_capped,
                "skipped": len(self.skipped)}


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


# --- building -----------------------------------------------------------------------------------------------

def load_catalog(path: Path | None) -> dict[str, Track]:
    """The catalog's tracks by id (rows that are not valid tracks are left out: this is context, not input)."""
    if path is None or not path.is_file():
        return {}
    tracks = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            track = Track(**json.loads(line))
        except (ValueError, TypeError):
            continue
        tracks[track.id] = track
    return tracks


def _pairs(raw: Raw, text: str, tracks: dict[str, Track], heldout: frozenset[str]) -> list[Example]:
    meta = raw.meta
    if meta.get("caption") == raw.text:  # a MusicCaps-style caption: its sentences from the musician's aspects
        return caption_examples(text, meta, heldout)
    track = tracks.get(str(meta.get("track_id") or meta.get("id") or ""))
    return comment_examples(text, meta, track) if track else [friend_example(text)]


def build(lyrics: list[Path] = (), comments: list[Path] = (), catalog: Path | None = None,
          more: Callable[[list[Example], dict[str, Track]], list[Example]] | None = None) -> Corpus:
    """Read, clean, pair, de-duplicate and split every source; CorpusError when nothing usable is left. Comments
    join `catalog` (default: the bundled demo catalog) by track_id. `more(pairs, tracks)`: served pairs to add
    before the shares are capped (`finetune.sampled`: the base model's kept samples)."""
    if not lyrics and not comments:
        raise CorpusError("give at least one source: --lyrics and/or --comments")
    skipped: list[str] = []
    tracks = load_catalog(catalog or DEMO_DIR / "catalog.jsonl")
    heldout = heldout_clips()
    examples: list[Example] = []
    for is_lyrics, paths in ((True, lyrics), (False, comments)):
        for raw in read_texts(list(paths), skipped):
            text = limit(clean(raw.text))
            if len(text) < MIN_CHARS:
                skipped.append(f"{raw.where}: under {MIN_CHARS} characters of text after cleaning")
            elif is_lyrics:
                examples.append(lyric_example(text, raw.meta))
            else:
                examples.extend(_pairs(raw, text, tracks, heldout))
    corpus = Corpus([], skipped)
    seen: set[str] = set()
    unique = []
    for example in examples:
        if example.id in seen:
            corpus.duplicates += 1
            continue
        seen.add(example.id)
        unique.append(example)
    near = near_duplicates([e.answer for e in unique])
    corpus.near_duplicates = len(near)
    unique = [e for i, e in enumerate(unique) if i not in near]
    if more is not None:
        unique += [e for e in more(unique, tracks) if e.id not in seen and not seen.add(e.id)]
    corpus.examples = cap_captions(cap_free(unique, corpus), corpus)
    if not corpus.examples:
        reasons = "; ".join(skipped[:3])
        raise CorpusError("no usable text in the sources" + (f" ({reasons})" if reasons else ""))
    return corpus


def cap_free(examples: list[Example], corpus: Corpus) -> list[Example]:
    """Keep the free tasks (lyrics, friend) to FREE_SHARE of the training pairs when there are served ones: the
    adapter is for the served tasks. Which ones train is decided by their keys (deterministic); the validation
    split keeps them all (it measures, it does not teach), and the order is kept."""
    train = [e for e in examples if e.split == "train"]
    free = [e for e in train if e.task in FREE_TASKS]
    room = int(FREE_SHARE / (1 - FREE_SHARE) * (len(train) - len(free)))
    if room == 0 or len(free) <= room:  # room 0: only free tasks to train on, nothing to make room for
        return examples
    dropped = {e.id for e in sorted(free, key=lambda e: e.id)[room:]}
    corpus.free_capped = len(dropped)
    return [e for e in examples if e.id not in dropped]


def cap_captions(examples: list[Example], corpus: Corpus) -> list[Example]:
    """Keep the MusicCaps caption pairs to CAPTION_SHARE of the served training pairs when other served pairs are
    there: the shared set's 4,000 captions would otherwise be nine in ten of what the adapter sees, all of one
    task (a clip's sound) in one voice. Which ones train is decided by their keys; validation keeps them all."""
    train = [e for e in examples if e.split == "train" and e.task not in FREE_TASKS]
    captions = [e for e in train if e.source == "captions"]
    room = int(CAPTION_SHARE / (1 - CAPTION_SHARE) * (len(train) - len(captions)))
    if room == 0 or len(captions) <= room:
        return examples
    dropped = {e.id for e in sorted(captions, key=lambda e: e.id)[room:]}
    corpus.captions_capped = len(dropped)
    return [e for e in examples if e.id not in dropped]


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
