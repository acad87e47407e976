"""The words the request parser knows (`retrieval.parse`): its vocabularies, from `lexicon/request.json` (genres
beyond the retrieval lexicon, styles and instruments, vocals, languages, relative moves, refusal cues, numbers,
ordinals), and the patterns of structure it matches by regular expression: eras, counts, clause breaks."""

from __future__ import annotations

import re

from .lexicon import load

_WORDS = load("request")
NOT_GENRES = frozenset(_WORDS["not_genres"])  # instruments and textures: styles, not genres
EXTRA_GENRES: dict[str, str] = _WORDS["extra_genres"]  # genres beyond the retrieval lexicon, each canonical
AMBIGUOUS_GENRES = frozenset(_WORDS["ambiguous_genres"])  # also plain words ("soul", "house")
NOT_GENRE_PHRASES: dict[str, str] = _WORDS["not_genre_phrases"]  # "house party" is a party, not house music
NOT_STYLE_WORDS = frozenset(_WORDS["not_style_words"])  # style names that are mostly names or plain words
CANONICAL: dict[str, str] = _WORDS["canonical"]  # a phrase that names a genre under another name
STYLES: dict[str, str] = _WORDS["styles"]  # instruments and textures: phrase -> the style it means
HYPHEN_SUFFIXES: tuple[str, ...] = _WORDS["hyphen_suffixes"]  # "guitar-driven", "piano-led"
VOCALS: dict[str, tuple[str | None, str | None]] = _WORDS["vocals"]  # value when stated, value when refused
LANGUAGES: dict[str, str] = _WORDS["languages"]
MOVES: dict[str, tuple[str, int]] = _WORDS["moves"]  # relative changes against the list on screen: (field, direction)
MOOD_AXES: dict[str, tuple[str, int]] = _WORDS["mood_axes"]  # which way a mood word points, for "less X" / "more X"
PRE_CUES: tuple[str, ...] = _WORDS["pre_cues"]  # a refusal before what it refuses ("no", "anything but")
CJK_CUES: tuple[str, ...] = _WORDS["cjk_cues"]
POST_CUES = re.compile(r"^\W*(?:(?:music|songs?|stuff|tracks?|genre|is|are|please|really|just)\s+){0,3}"
                       r"(?:is\s+|are\s+)?(?:not my thing|isn't my thing|aren't my thing|not for me|isn't for me|"
                       r"is a no|no thanks|no thank you|no\b|nope|nah|need not apply|is out|are out|can go|banned|"
                       r"not allowed|off the table|off-limits|off limits|not welcome|far away|away\b|"
                       r"getting (?:boring|old)|is boring|gets old|is overdone|"
                       r"is too much|不要|不行)")
KEEP_OUT = re.compile(r"\b(?:keep|leave|take|cut|throw|kick)\b")
BARE_NO = re.compile(r"^\W*(?:no|nope|nah|no thanks|no thank you|please no|not really|(?:drop|lose|skip|ditch|cut|"
                     r"remove|enough of|no more of|get rid of|forget)\s+(?:it|that|those|them|this))\W*$")
RESETS = re.compile(r"\b(?:more like|maybe|rather|instead|prefer|just|only|yes|but)\b")
# "like" after a subject or an adverb is the verb ("I like Xilent": play them), not a comparison
LIKE_VERB = "".join(rf"(?<!\b{w}\s)" for w in ("i", "we", "you", "they", "really", "also", "do", "generally",
                                                 "typically", "usually", "totally", "especially", "personally",
                                                 "would", "i'd", "we'd", "kinda", "just", "still", "mostly"))
SIMILAR = re.compile(r"(?:" + LIKE_VERB + r"\blike|\bsimilar to|\bin the style of|\bakin to|\breminds? me of|像)"
                     r"\s*(?:the\s+)?(?:[\w'&.-]+\s+){0,3}?(?:(?:or|and|,)\s+)?$")
BREAK = re.compile(r"[,;.!?，。；！？\n]|\s(?:but|yet|though|although|however|instead(?!\s+of)|whereas)\s|"
                   r"但是|但|可是|不过")
ERA_FILLER = re.compile(r"^\W*(?:(?:anything|something|songs?|stuff|music|tracks?|released|made|recorded|written|"
                        r"from|the|that|which|came|come|out|any|of|in|were|are|is|was|one|ones|too|really|please|"
                        r"all|at|me|play|give|hits?|的|歌|放|听|来点|要)\W*)*$")
# an open refusal (a refused phrase no lexicon knows): the fillers after its cue, where it stops, what it may be
OPEN_FILLER = re.compile(r"\s*(?:(?:like|love|want|any|more|of|the|songs by|music by|to hear|hear)\s+)*")
OPEN_STOP = re.compile(r"\s+(and|or|nor|please|anymore|any more|thanks|thank you|tonight|today|for now)\b")
OPEN_PHRASE = re.compile(r"[^\W\d_][\w&-]{1,30}(?:'\w+)?(?:\s+[\w&-]{1,30}(?:'\w+)?){0,3}")
COORDINATED = re.compile(r"^\W*(?:(?:and|or|nor|either|neither|any|no|the|more|of|&|/|、|和|或|也)\W*)*$")
PRONOUN = re.compile(r"\b(?:not|no|without|except)\s+(?:her|him|them|it|itself|himself|herself|themselves)\b")

NUMBER_WORDS: dict[str, int] = _WORDS["number_words"]
CJK_NUMBERS: dict[str, int] = _WORDS["cjk_numbers"]
ORDINALS: dict[str, int] = _WORDS["ordinals"]  # "last" is -1
DECADE_WORDS: dict[str, int] = _WORDS["decade_words"]
UNITS = r"(?:songs?|tracks?|tunes?|picks?|ones|recommendations|records|numbers)"
YEAR = r"((?:19|20)\d\d)"
DECADE = (r"(?:the\s+)?(?:(?:(19|20)(\d)0|'?(\d)0)\s*'?s\b|(" + "|".join(DECADE_WORDS) + r")\b|"
          r"(?:(19|20)?(\d)0)\s*年代)")
