"""Text helpers of the fine-tuning corpus: cleaning, length limits, a rough language tag, sentences, and the
deterministic keys and splits that make the corpus the same on every run.

    clean("Die Son - ne sinkt")  # "Die Sonne sinkt"
    split_of("a text's key")     # "train" or "validation", always the same for the same key
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from retrieval.lexicon import load
from retrieval.text import split_sentences

from .dedup import normal

MAX_CHARS = 1500  # longer is cut at a sentence/line end
VALIDATION_PERCENT = 10


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


def sentences(text: str) -> list[str]:
    """Whole sentences (cut at . ! ? only, so none ends in a semicolon's half)."""
    return split_sentences(text)


STOPWORDS = {lang: frozenset(words) for lang, words in load("languages")["stopwords"].items()}


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


def key(text: str) -> str:
    """A text's identity: the same words give the same key, whatever the case, punctuation or spacing."""
    return hashlib.sha1(normal(text).encode()).hexdigest()[:16]


def bucket(name: str) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 100


def split_of(name: str) -> str:
    """Deterministic: the same text always lands in the same split, whatever else is in the corpus."""
    return "validation" if bucket(name) < VALIDATION_PERCENT else "train"
