"""The words the request parser knows: genres beyond the retrieval lexicon, styles and instruments, vocals,
languages, relative moves, negation cues and the patterns of eras, counts and clause breaks (`retrieval.parse`)."""

from __future__ import annotations

import re

NOT_GENRES = {"piano", "钢琴", "acoustic", "orchestral"}  # instruments and textures: styles, not genres
EXTRA_GENRES = {  # genres beyond the retrieval lexicon, each its own canonical word
    "dancehall": "dancehall", "hard rock": "hard rock", "rock and roll": "rock and roll",
    "rock n roll": "rock and roll",
    "ska": "ska", "opera": "opera", "pop punk": "pop punk", "emo": "emo", "hardcore": "hardcore",
    "bluegrass": "bluegrass", "americana": "americana", "grime": "grime", "drill": "drill", "flamenco": "flamenco",
    "tango": "tango", "samba": "samba", "cumbia": "cumbia", "bachata": "bachata", "city pop": "city pop",
    "post-punk": "post-punk", "britpop": "britpop", "rockabilly": "rockabilly", "surf rock": "surf rock",
    "death metal": "death metal", "black metal": "black metal", "metalcore": "metalcore", "nu metal": "nu metal",
    "smooth jazz": "smooth jazz", "bebop": "bebop", "neo-soul": "neo-soul", "dream pop": "dream pop",
    "psychedelic rock": "psychedelic rock", "progressive rock": "progressive rock", "prog rock": "progressive rock",
    "new age": "new age", "garage rock": "garage rock", "opera music": "opera", "朋克": "punk", "灵魂乐": "soul",
    "放克": "funk", "迪斯科": "disco", "布鲁斯": "blues", "舞曲": "dance", "歌剧": "opera", "独立": "indie",
    "后摇": "post rock", "重金属": "metal",
}
AMBIGUOUS_GENRES = {"soul", "world", "house", "blues", "funk", "trap", "swing", "soundtrack"}  # also plain words
NOT_GENRE_PHRASES = {"house party": "party", "soul searching": "reflective", "world cup": "energetic"}
NOT_STYLE_WORDS = {"lied", "carol", "rai", "progressive"}  # style names that are mostly names or plain words
CANONICAL = {"rap": "hip-hop"}  # a phrase that names a genre under another name
STYLES = {
    "piano": "piano", "pianos": "piano", "solo piano": "piano", "钢琴": "piano", "guitar": "guitar",
    "guitars": "guitar", "吉他": "guitar", "acoustic guitar": "acoustic guitar", "acoustic guitars": "acoustic guitar",
    "electric guitar": "electric guitar", "electric guitars": "electric guitar", "guitar solo": "guitar solo",
    "guitar solos": "guitar solo", "saxophone": "saxophone", "saxophones": "saxophone", "sax": "saxophone",
    "萨克斯": "saxophone", "strings": "strings", "string section": "strings", "弦乐": "strings", "violin": "violin",
    "violins": "violin", "小提琴": "violin", "cello": "cello", "cellos": "cello", "synth": "synth", "synths": "synth",
    "synthesizer": "synth", "synthesizers": "synth", "synthesiser": "synth", "合成器": "synth", "horns": "horns",
    "horn section": "horns", "brass": "horns", "organ": "organ", "organs": "organ", "trumpet": "trumpet",
    "trumpets": "trumpet", "drums": "drums", "drum machine": "drum machine", "drum machines": "drum machine",
    "choir": "choir", "choirs": "choir", "choral": "choir", "ballad": "ballad", "ballads": "ballad",
    "love song": "love song", "love songs": "love song", "情歌": "love song", "distortion": "distortion",
    "distorted guitars": "distortion", "autotune": "autotune", "auto-tune": "autotune", "acoustic": "acoustic",
    "orchestral": "orchestral", "orchestra": "orchestral", "harmonica": "harmonica", "banjo": "banjo",
    "flute": "flute", "ukulele": "ukulele", "accordion": "accordion", "harp": "harp", "vocal jazz": "vocal jazz",
    "slow jam": "slow jam", "slow jams": "slow jam", "steel guitar": "steel guitar", "pedal steel": "steel guitar",
    "fiddle": "fiddle", "fiddles": "fiddle", "screaming": "screaming", "screamo vocals": "screaming",
    "growling": "screaming", "bass guitar": "bass guitar", "bassline": "bassline", "basslines": "bassline",
    "808s": "808", "harpsichord": "harpsichord", "mandolin": "mandolin", "sitar": "sitar", "whistling": "whistling",
    "rap verses": "rap verse", "guitar riffs": "guitar riff", "guitar riff": "guitar riff", "riffs": "riff",
}
HYPHEN_SUFFIXES = ("driven", "heavy", "based", "led", "laden", "centric", "forward", "focused")
VOCALS = {  # value when stated, value when refused
    "vocals": ("vocals", "instrumental"), "vocal": ("vocals", "instrumental"), "singing": ("vocals", "instrumental"),
    "lyrics": ("vocals", "instrumental"), "words": ("vocals", "instrumental"), "voice": ("vocals", "instrumental"),
    "voices": ("vocals", "instrumental"), "singer": ("vocals", "instrumental"), "singers": ("vocals", "instrumental"),
    "vocalist": ("vocals", "instrumental"), "vocalists": ("vocals", "instrumental"),
    "人声": ("vocals", "instrumental"), "歌词": ("vocals", "instrumental"),
    "instrumental": ("instrumental", "vocals"), "instrumentals": ("instrumental", "vocals"),
    "纯音乐": ("instrumental", "vocals"), "无人声": ("instrumental", "vocals"),
    "female vocals": ("female", None), "female vocalist": ("female", None), "female vocalists": ("female", None),
    "female singer": ("female", None), "female singers": ("female", None), "female voice": ("female", None),
    "woman singing": ("female", None), "sung by a woman": ("female", None), "sung by women": ("female", None),
    "女声": ("female", None), "女歌手": ("female", None), "male vocals": ("male", None),
    "male vocalist": ("male", None), "male vocalists": ("male", None), "male singer": ("male", None),
    "male singers": ("male", None), "male voice": ("male", None), "sung by a man": ("male", None),
    "man singing": ("male", None), "sung by men": ("male", None), "men singing": ("male", None),
    "男声": ("male", None), "男歌手": ("male", None),
}
LANGUAGES = {"english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it", "portuguese": "pt",
             "korean": "ko", "japanese": "ja", "chinese": "zh", "mandarin": "zh", "cantonese": "yue", "hindi": "hi",
             "arabic": "ar", "russian": "ru", "swedish": "sv", "turkish": "tr", "英文": "en", "日语": "ja",
             "韩语": "ko", "西班牙语": "es", "法语": "fr"}
MOVES = {  # relative changes against the list on screen: (field, direction)
    "happier": ("valence", 1), "more cheerful": ("valence", 1), "cheerier": ("valence", 1), "brighter": ("valence", 1),
    "more positive": ("valence", 1), "more uplifting": ("valence", 1), "more hopeful": ("valence", 1),
    "sadder": ("valence", -1), "darker": ("valence", -1), "gloomier": ("valence", -1), "moodier": ("valence", -1),
    "more melancholic": ("valence", -1), "more depressing": ("valence", -1), "more sad": ("valence", -1),
    "faster": ("energy", 1), "more upbeat": ("energy", 1), "more energy": ("energy", 1),
    "more energetic": ("energy", 1), "livelier": ("energy", 1), "louder": ("energy", 1), "heavier": ("energy", 1),
    "harder": ("energy", 1), "more intense": ("energy", 1), "pick up the pace": ("energy", 1),
    "speed it up": ("energy", 1), "less sleepy": ("energy", 1), "less slow": ("energy", 1),
    "less mellow": ("energy", 1), "less chill": ("energy", 1), "slower": ("energy", -1), "calmer": ("energy", -1),
    "softer": ("energy", -1), "quieter": ("energy", -1), "gentler": ("energy", -1), "mellower": ("energy", -1),
    "more chill": ("energy", -1), "more mellow": ("energy", -1), "more relaxed": ("energy", -1),
    "less energy": ("energy", -1), "less intense": ("energy", -1), "less upbeat": ("energy", -1),
    "slow it down": ("energy", -1), "tone it down": ("energy", -1), "chiller": ("energy", -1),
    "older": ("year", -1), "older stuff": ("year", -1), "older songs": ("year", -1), "more classic": ("year", -1),
    "newer": ("year", 1), "more recent": ("year", 1), "more modern": ("year", 1), "fresher": ("year", 1),
    "开心一点": ("valence", 1), "开心点": ("valence", 1), "欢快一点": ("valence", 1), "伤感一点": ("valence", -1),
    "更快": ("energy", 1), "更嗨": ("energy", 1), "更有活力": ("energy", 1), "快一点": ("energy", 1),
    "更慢": ("energy", -1), "慢一点": ("energy", -1), "安静一点": ("energy", -1), "老一点": ("year", -1),
    "新一点": ("year", 1), "不要太吵": ("energy", -1), "别太吵": ("energy", -1), "太吵了": ("energy", -1),
    "不要太慢": ("energy", 1), "不要太老": ("year", 1),
}
# which way a mood word points, for "less X" / "more X"
MOOD_AXES = {"sad": ("valence", -1), "melancholic": ("valence", -1), "dark": ("valence", -1),
             "heartbroken": ("valence", -1), "happy": ("valence", 1), "uplifting": ("valence", 1),
             "hopeful": ("valence", 1), "energetic": ("energy", 1), "party": ("energy", 1), "angry": ("energy", 1),
             "tense": ("energy", 1), "epic": ("energy", 1), "calm": ("energy", -1), "chill": ("energy", -1),
             "peaceful": ("energy", -1), "dreamy": ("energy", -1)}

PRE_CUES = ("no", "not", "never", "none", "nothing", "without", "except", "except for", "excluding", "but not",
            "anything but", "everything but", "all but", "anything except", "other than", "apart from",
            "aside from", "avoid", "skip", "exclude", "cut", "stop with", "no longer", "nobody", "no one",
            "rather than", "instead of", "not so", "not as", "minus", "sans", "no more", "none of", "enough",
            "enough with",
            "enough of", "tired of", "sick of", "hate", "dislike", "can't stand", "cannot stand", "cant stand",
            "don't", "dont", "do not", "doesn't", "didn't", "isn't", "aren't", "not into", "stay away from",
            "spare me", "drop", "lose", "ditch", "remove", "leave out", "neither", "nor", "less", "rather not",
            "no need for", "get rid of", "ban", "hold the", "i'm done with", "done with", "too much")
CJK_CUES = ("不要", "别再", "别", "不想听", "不想", "没有", "不听", "不喜欢", "去掉", "除了", "不", "没")
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
COORDINATED = re.compile(r"^\W*(?:(?:and|or|nor|either|neither|any|no|the|more|of|&|/|、|和|或|也)\W*)*$")
PRONOUN = re.compile(r"\b(?:not|no|without|except)\s+(?:her|him|them|it|itself|himself|herself|themselves)\b")

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "a couple of": 2,
                "a few": 3, "a dozen": 12, "dozen": 12}
CJK_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
ORDINALS = {"last": -1, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8,
            "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6}
DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990,
                "noughties": 2000, "aughts": 2000, "twenties": 2020}
UNITS = r"(?:songs?|tracks?|tunes?|picks?|ones|recommendations|records|numbers)"
YEAR = r"((?:19|20)\d\d)"
DECADE = (r"(?:the\s+)?(?:(?:(19|20)(\d)0|'?(\d)0)\s*'?s\b|(" + "|".join(DECADE_WORDS) + r")\b|"
          r"(?:(19|20)?(\d)0)\s*年代)")
