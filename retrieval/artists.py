"""Recognising a catalog's artists in text: whole words, short names only with a capital, accents optional, and
small typos in longer names ("Ed Sheran", "addele", "bruno marz")."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from .text import PhraseMatcher, phrase_key, strip_accents

# a typo is forgiven in names of at least this many letters, at this similarity (rapidfuzz ratio, 0-100)
TYPO_MIN_CHARS = 6
TYPO_CUTOFF = {1: 88, 2: 86, 3: 86}  # by the words in the span: one-word spans must be closer
POSSESSIVE = re.compile(r"(\w)['\u2019]s\b")
NAME_CUES = r"(?:by|from|of|play|some|more|love|loved|than|hear|fan of|featuring|feat)"
TYPO_STOP = frozenset("""a an the and or but to of for in on at by with from into about as is are was were be been it
its this that these those i me my we our you your he she they them some any more less no not only just very really
please can could would should will want need give play find show song songs track tracks music something anything
one ones again now then than also like love make get let have has had do does did so too much many other else stuff
thing things kind sort before after since until playlist list mix review write why explain pick picks picked keep
out away apart except without avoid none nothing enough hate dislike whatever everything thanks mood time listen
listening while cleaning working running driving party happy songs artist artists band bands singer singers yes
yeah yep okay ok great good perfect wonderful awesome nice cool thanks thank sure alright hello hi hey wow oh well
so hmm""".split())


class ArtistMatcher:
    """Finds catalog artists named in a request. Short one-word names ("Air", "Eve", "Queen") must be written
    with a capital, so "music in the air" does not summon Air."""

    def __init__(self, artists: dict[str, str], vocabulary: frozenset[str] = frozenset()):
        """`vocabulary`: words that are never a misspelt name (genres, moods: "metallic" is not Metallica)."""
        names: dict[str, str] = {}  # phrase key of a way to write the name -> the artist's key
        for key, name in artists.items():
            for form in _forms(name):
                names.setdefault(phrase_key(form), key)
        self.matcher = PhraseMatcher(names)
        self.keys = names
        self.long_names = [n for n in names if len(n.replace(" ", "")) >= TYPO_MIN_CHARS - 1]
        self.vocabulary = TYPO_STOP | vocabulary

    def find(self, text: str, typos: bool = True) -> tuple[str, ...]:
        return tuple(dict.fromkeys(key for _, key in self.find_written(text, typos)))

    def named_in_prose(self, text: str, ordinary: frozenset[str] = frozenset()) -> tuple[str, ...]:
        """Artists a written sentence (a review, a reply) names: spelt as in the catalog, and a name made only of
        `ordinary` words counts only when written with capitals ("The Chords", not "three chords" or "the
        chords ring")."""
        out = []
        for written, key in self.find_written(text, typos=False):
            if all(w in ordinary for w in written.split()) and not _titled_in(written, text):
                continue
            out.append(key)
        return tuple(dict.fromkeys(out))

    def find_written(self, text: str, typos: bool = True) -> list[tuple[str, str]]:
        """(the words as written, as a phrase key; the artist's key) for every artist `text` names."""
        text = POSSESSIVE.sub(r"\1", text)  # "Drake's songs", "bieber's"
        found = []
        taken: set[str] = set()  # words of names found as written: no typo is looked for in them
        for match in self.matcher.find(text):
            name = match.phrase
            key = phrase_key(name)
            if " " not in key and len(name) < 6 and not (
                    _capitalised_in(name, text, mid_sentence=key in self.vocabulary)  # "Yes," opens a sentence
                    or key not in self.vocabulary and _cued(name, text)):
                continue
            found.append((key, self.keys[key]))
            taken |= set(key.split())
        if typos and self.long_names:
            found += self._misspelt(text, taken)
        return found

    def _misspelt(self, text: str, taken: set[str]) -> list[tuple[str, str]]:
        """Names written with a small typo: spans of one to three words, longest first, away from exact matches
        and never starting or ending with a common or vocabulary word ("like adele" is not a name)."""
        words = [phrase_key(m.group()) for m in re.finditer(r"[^\W_][\w'&.$!+-]*", text)]
        used = [False] * len(words)
        out: list[tuple[int, str, str]] = []
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                keys = words[i:i + size]
                if (any(used[i:i + size]) or any(w in taken or not w for w in keys)
                        or keys[0] in self.vocabulary or keys[-1] in self.vocabulary):
                    continue
                if len("".join(keys)) < TYPO_MIN_CHARS:
                    continue
                gram = " ".join(keys)
                match = process.extractOne(gram, self.long_names, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF[size])
                if match and not (size == 1 and match[0].startswith(gram)):  # "metallic" is a word, not Metallica
                    out.append((i, gram, self.keys[match[0]]))
                    used[i:i + size] = [True] * size
        return [(gram, key) for _, gram, key in sorted(out)]


def _forms(name: str) -> list[str]:
    """The name, without its accents ("Beyonce"), and the leading act of a billing such as "Bob Marley & The
    Wailers" or "Stevie Ray Vaughan and Double Trouble" when that part is a name of two words or more."""
    forms = [name, strip_accents(name)]
    head = re.split(r"\s+(?:&|and|with|feat\.?|featuring|x)\s+", name, maxsplit=1)[0]
    if head != name and len(head.split()) >= 2:
        forms += [head, strip_accents(head)]
    return list(dict.fromkeys(forms))


def _cued(name: str, text: str) -> bool:
    """A short name written in lower case where a name goes: "some from drake", "play quavo", "by abba"."""
    return bool(re.search(rf"\b{NAME_CUES}\s+(?:the\s+)?{re.escape(phrase_key(name))}\b", phrase_key(text)))


def _titled_in(key: str, text: str) -> bool:
    """Some occurrence of the words `key` in `text` has every word but joiners capitalised."""
    pattern = r"\b" + r"\W+".join(re.escape(w) for w in key.split()) + r"\b"
    for m in re.finditer(pattern, strip_accents(text), flags=re.IGNORECASE):
        if all(w[:1].isupper() or w.casefold() in ("the", "and", "of", "a") for w in re.findall(r"[\w']+", m.group())) \
                and m.group()[:1].isupper():
            return True
    return False


def _capitalised_in(name: str, text: str, mid_sentence: bool = False) -> bool:
    """`name` is written with a capital in `text` (and, if `mid_sentence`, not as the first word of a sentence)."""
    for m in re.finditer(r"[\w&]+", text):
        word = m.group()
        if word[:1].isupper() and word.casefold() == phrase_key(name):
            if not mid_sentence or re.search(r"[\w,;:]\s*$", text[:m.start()]):
                return True
    return False
