"""Music terms: the genres, instruments, sounds and moods a sentence about music can claim, each mapped to a
canonical term, so that "guitars", "guitar" and "guitarist" are one claim and "mellow" is the mood "calm".

    terms("a mellow piano ballad with brushed drums")  # {"calm", "piano", "ballad", "drums"}

Used to read instruments and production out of a description (content planning) and to find the music terms a
written sentence claims (the claim checker).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .genres import GENRE_WORDS
from .mood import _lexicon, vocabulary
from .text import PhraseMatcher, is_cjk, phrase_key

# canonical term -> the words and phrases that claim it (plural and player forms included)
INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "guitar": ("guitar", "guitars", "guitarist", "guitar riff", "guitar riffs", "riff", "riffs", "strumming",
               "strummed", "fingerpicked", "fingerpicking"),
    "acoustic guitar": ("acoustic guitar", "acoustic guitars"),
    "electric guitar": ("electric guitar", "electric guitars", "distorted guitar", "distorted guitars"),
    "steel guitar": ("steel guitar", "pedal steel", "slide guitar", "lap steel"),
    "bass": ("bass", "bassline", "basslines", "bass line", "bass lines", "bass guitar", "upright bass",
             "double bass", "slap bass", "slapped bass", "bassist", "808", "808 bass", "sub bass"),
    "drums": ("drums", "drum", "drummer", "drumming", "drum kit", "kick", "kick drum", "snare", "snares",
              "hi hat", "hi hats", "hi-hat", "hi-hats", "hats", "cymbal", "cymbals", "toms", "brushes",
              "brushed drums", "breakbeat", "breakbeats", "drum machine", "beat", "beats", "percussion",
              "percussions", "percussive", "claps", "handclaps", "shaker", "tambourine", "congas", "bongos",
              "tabla", "timpani"),
    "piano": ("piano", "pianos", "pianist", "keys", "keyboard", "keyboards", "electric piano", "rhodes",
              "grand piano", "upright piano"),
    "organ": ("organ", "organs", "hammond", "church organ"),
    "synth": ("synth", "synths", "synthesizer", "synthesizers", "synthesiser", "synthesisers", "synth pad",
              "synth pads", "pads", "pad", "synth lead", "arpeggio", "arpeggios", "arpeggiated", "keytar"),
    "strings": ("strings", "string section", "string quartet", "violin", "violins", "violinist", "viola",
                "cello", "cellos", "cellist", "fiddle", "fiddles", "orchestra", "orchestral", "harp"),
    "brass": ("brass", "horn", "horns", "horn section", "trumpet", "trumpets", "trumpeter", "muted trumpet",
              "trombone", "trombones", "tuba", "french horn", "flugelhorn", "cornet"),
    "saxophone": ("saxophone", "saxophones", "sax", "saxophonist", "tenor sax", "alto sax", "baritone sax"),
    "woodwinds": ("flute", "flutes", "flutist", "clarinet", "clarinets", "oboe", "bassoon", "woodwind",
                  "woodwinds", "recorder", "pan flute"),
    "vocals": ("vocal", "vocals", "vocalist", "vocalists", "voice", "voices", "singer", "singers", "singing",
               "sings", "sung", "croon", "croons", "crooning", "croons", "falsetto", "harmonies", "harmony",
               "backing vocals", "background vocals", "choir", "choral", "chorus", "chant", "chants", "chanting",
               "humming", "vocal harmonies", "lead vocal", "lead vocals"),
    "male vocals": ("male vocal", "male vocals", "male voice", "male singer", "baritone", "tenor"),
    "female vocals": ("female vocal", "female vocals", "female voice", "female singer", "soprano", "alto"),
    "rap": ("rap", "rapping", "rapper", "raps", "rapped", "mc", "flow", "verses", "bars"),
    "harmonica": ("harmonica", "harp solo", "blues harp"),
    "banjo": ("banjo", "banjos", "mandolin", "mandolins", "ukulele", "ukuleles"),
    "accordion": ("accordion", "accordions", "bandoneon", "concertina"),
    "sitar": ("sitar", "oud", "koto", "erhu", "guzheng", "pipa", "bouzouki", "kalimba", "marimba",
              "vibraphone", "vibes", "xylophone", "glockenspiel", "steel drum", "steel drums", "bells", "chimes"),
    "turntables": ("turntable", "turntables", "scratching", "scratches", "sample", "samples", "sampled",
                   "sampling", "loop", "loops", "looped"),
}

# how a recording sounds: production, texture, tempo, form
SOUNDS: dict[str, tuple[str, ...]] = {
    "acoustic": ("acoustic", "unplugged"),
    "electric": ("electric", "amplified"),
    "electronic": ("electronic", "electronica", "electro", "programmed"),
    "distortion": ("distortion", "distorted", "fuzz", "fuzzy", "overdriven", "overdrive", "crunchy", "gritty"),
    "reverb": ("reverb", "reverberant", "echo", "echoes", "echoing", "delay", "spacious", "airy", "washed out"),
    "lo-fi": ("lo-fi", "lofi", "low fidelity", "low quality", "tape hiss", "hiss", "crackle", "crackling",
              "vinyl crackle", "noisy", "muffled", "mono"),
    "live": ("live recording", "live performance", "recorded live", "concert recording"),
    "instrumental": ("instrumental", "instrumentals", "no vocals", "without vocals", "wordless"),
    "solo": ("solo", "solos", "improvisation", "improvised", "improvising", "improvises"),
    "groove": ("groove", "grooves", "groovy", "grooving", "swing", "swinging", "shuffle", "syncopated",
               "syncopation", "four on the floor", "4 on the floor"),
    "melody": ("melody", "melodies", "melodic", "hook", "hooks", "tune", "tunes", "catchy"),
    "rhythm": ("rhythm", "rhythms", "rhythmic", "pulse", "pulsing", "tempo", "tempos"),
    "slow": ("slow", "slower", "slow tempo", "slow paced", "unhurried", "languid", "downtempo", "leisurely"),
    "fast": ("fast", "faster", "fast tempo", "fast paced", "uptempo", "up tempo", "up-tempo", "driving",
             "brisk", "rapid", "frantic", "racing"),
    "mid-tempo": ("mid tempo", "mid-tempo", "midtempo", "moderate tempo", "medium tempo"),
    "loud": ("loud", "high volume", "heavy", "heavier", "pounding", "thundering", "thunderous", "crushing"),
    "quiet": ("quiet", "soft", "softly", "hushed", "whispered", "whispering", "delicate", "sparse", "minimal",
              "minimalist", "intimate"),
    "ballad": ("ballad", "ballads", "lament", "lullaby", "love song"),
    "anthem": ("anthem", "anthems", "singalong", "sing-along", "stomper"),
    "bass-heavy": ("bass heavy", "bass-heavy", "booming", "boomy", "wobble", "wobbles", "drop", "drops"),
    "dance": ("dance", "dancing", "danceable", "dancefloor", "dance floor", "dance-floor", "club", "clubs"),
    "lyrics": ("lyrics", "lyric", "words", "verse", "verses", "refrain", "refrains", "chorus", "choruses"),
}

# genres and styles beyond the request words in `genres.py` (a style tag names its genre)
STYLES: tuple[str, ...] = (
    "rock and roll", "rock n roll", "rockabilly", "electric blues", "delta blues", "rhythm and blues",
    "honky-tonk", "honky tonk", "bluegrass", "americana", "alt-country", "outlaw country", "modal jazz",
    "cool jazz", "bebop", "hard bop", "free jazz", "jazz fusion", "fusion", "smooth jazz", "acid jazz",
    "vocal jazz", "latin jazz", "nu jazz", "soul jazz", "northern soul", "neo soul", "neo-soul", "motown",
    "gospel", "spiritual", "doo wop", "doo-wop", "surf", "surf rock", "garage rock", "psychedelic",
    "psychedelic rock", "psychedelia", "prog", "progressive rock", "progressive", "art rock", "hard rock",
    "glam rock", "glam", "heavy metal", "thrash", "thrash metal", "death metal", "black metal", "doom",
    "doom metal", "sludge", "stoner rock", "metalcore", "hardcore", "post-punk", "post punk", "punk rock",
    "pop punk", "emo", "grunge", "britpop", "indie rock", "indie pop", "indie folk", "dream pop", "shoegaze",
    "noise", "noise rock", "post rock", "post-rock", "math rock", "krautrock", "new wave", "synthwave",
    "synth-pop", "synthpop", "electropop", "electro", "industrial", "ebm", "darkwave", "goth", "gothic",
    "chillwave", "vaporwave", "lo-fi hip hop", "boom bap", "trap", "drill", "grime", "gangsta rap",
    "conscious hip hop", "g-funk", "crunk", "reggae", "dub", "dancehall", "ska", "rocksteady", "calypso",
    "soca", "afrobeat", "afrobeats", "highlife", "bossa nova", "samba", "tango", "flamenco", "cumbia",
    "salsa", "bachata", "reggaeton", "mariachi", "bolero", "fado", "celtic", "klezmer", "polka", "chanson",
    "cabaret", "musical", "show tune", "schlager", "baroque", "romantic era", "classical", "chamber music",
    "chamber", "symphony", "symphonic", "concerto", "sonata", "opera", "operatic", "aria", "lied",
    "minimalism", "contemporary classical", "neoclassical", "new age", "ambient", "drone", "dark ambient",
    "downtempo", "trip hop", "trip-hop", "idm", "glitch", "breakbeat", "big beat", "jungle", "drum and bass",
    "drum & bass", "dnb", "liquid", "dubstep", "garage", "uk garage", "2-step", "house", "deep house",
    "tech house", "acid house", "techno", "minimal techno", "trance", "hardstyle", "eurodance", "disco",
    "nu-disco", "funk", "p-funk", "boogie", "swing", "big band", "ragtime", "dixieland", "blues rock",
    "country rock", "folk rock", "soft rock", "yacht rock", "easy listening", "lounge", "exotica", "jazz pop",
    "chiptune", "8-bit", "video game", "soundtrack", "score", "film score", "cinematic", "world", "latin",
    "singer-songwriter", "a cappella", "barbershop", "hymn", "carol", "chant", "experimental", "avant-garde",
    "field recording", "spoken word", "poetry", "beat poetry", "pop", "rock", "jazz", "blues", "country",
    "folk", "soul", "hip hop", "hip-hop", "rap", "r&b", "electronic", "dance", "metal", "punk", "indie",
    "alternative", "k-pop", "j-pop", "mandopop", "cantopop", "c-pop", "instrumental hip hop", "beats",
    "jam band", "blue-eyed soul", "quiet storm", "new jack swing", "contemporary r&b", "teen pop",
    "bubblegum", "power pop", "jangle pop", "twee", "baroque pop", "chamber pop", "sunshine pop", "exotica",
    "tropicalia", "mpb", "rai", "qawwali", "bhangra", "bollywood", "enka", "city pop", "j-rock", "visual kei",
    "rock ballad", "power ballad", "torch song", "standard", "standards", "lullaby", "march", "waltz",
)

MOOD_WORDS_EXTRA: dict[str, tuple[str, ...]] = {  # mood words the request lexicon does not list as phrases
    "happy": ("joyful", "joyous", "joy", "cheerful", "cheery", "sunny", "bright", "upbeat", "jubilant", "fun",
              "lively", "lighthearted", "light-hearted", "positive", "feel-good", "happiness"),
    "sad": ("sorrowful", "sorrow", "mournful", "plaintive", "aching", "somber", "sombre", "tearful", "loss"),
    "calm": ("serene", "relaxation", "tranquil", "soothing", "mellow", "gentle", "relaxed", "relaxing", "laid back",
             "laid-back", "easygoing", "placid", "smooth"),
    "energetic": ("energetic", "energizing", "energising", "excitement", "exciting", "thrilling", "exhilarating",
                  "electrifying",
                  "vigorous", "exuberant", "rousing", "explosive", "fiery", "high energy",
                  "intense", "punchy", "bouncy", "propulsive", "urgent"),
    "romantic": ("romantic", "tender", "loving", "passionate", "sweet", "affectionate", "intimate"),
    "melancholic": ("melancholic", "melancholy", "brooding", "bittersweet", "longing", "yearning", "haunting",
                    "haunted", "moody"),
    "angry": ("angry", "furious", "fierce", "aggressive", "defiant", "raging", "snarling", "menacing", "rage"),
    "uplifting": ("uplifting", "inspiring", "glorious", "triumphant", "soaring", "euphoric", "euphoria", "anthemic",
                  "heartwarming"),
    "dreamy": ("dreamy", "ethereal", "hazy", "floating", "floaty", "otherworldly", "hypnotic", "trippy", "enchanting",
               "surreal", "wonder"),
    "nostalgic": ("nostalgic", "nostalgia", "retro", "vintage", "old-fashioned", "old school", "old-school",
                  "memories", "regret", "regretful"),
    "dark": ("dark", "ominous", "sinister", "gloomy", "eerie", "creepy", "grim", "shadowy", "gothic", "chilly",
             "cold", "depressing", "bleak", "harsh", "brutal", "trauma"),
    "party": ("party", "festive", "celebratory", "partying"),
    "chill": ("chill", "chilled", "laid back", "breezy", "lazy", "easy"),
    "focus": ("focus", "meditative"),
    "epic": ("epic", "grand", "majestic", "sweeping", "monumental", "dramatic", "cinematic", "heroic"),
    "playful": ("playful", "quirky", "whimsical", "cheeky", "goofy", "silly", "humorous", "witty", "funny"),
    "hopeful": ("hopeful", "optimistic", "hope", "reassuring", "gratitude", "grateful", "kindhearted",
                "compassionate", "compassion", "resilience"),
    "tense": ("tense", "suspenseful", "anxious", "nervous", "edgy", "restless", "uneasy", "unnerving", "frenetic",
              "suffocating", "unsettling", "claustrophobic", "disturbing"),
    "sensual": ("sensual", "sultry", "seductive", "sexy", "steamy", "slinky", "smoky", "sexual"),
    "peaceful": ("peaceful", "tranquil", "pastoral", "calming"),
    "groovy": ("groovy", "funky", "grooving", "swinging", "toe-tapping"),
    "heartbroken": ("heartbroken", "heartbreak", "heartache", "lovelorn", "lonely", "loneliness", "grief"),
    "confident": ("confident", "swagger", "bold", "cocky", "proud", "assertive", "strutting", "brash"),
    "reflective": ("reflective", "introspective", "introspection", "thoughtful", "pensive", "wistful",
                   "philosophical", "contemplative", "reflection"),
}

KINDS = ("instrument", "sound", "genre", "mood")
# genre words that are mostly ordinary words in a sentence ("a world where", "all that noise"): a genre only in
# their longer forms ("world music", "noise rock")
AMBIGUOUS = {"world", "noise", "score", "standard", "standards", "march", "chamber", "liquid", "drill", "beats",
             "musical", "spiritual", "live"}


@lru_cache(maxsize=1)
def _table() -> tuple[PhraseMatcher, dict[str, tuple[str, str]]]:
    """phrase key -> (kind, canonical term); the matcher finds the longest phrases first."""
    table: dict[str, tuple[str, str]] = {}

    def add(kind: str, term: str, phrases) -> None:
        for phrase in phrases:
            key = phrase_key(phrase)
            if key and not is_cjk(phrase):
                table.setdefault(key, (kind, term))

    for term, phrases in INSTRUMENTS.items():
        add("instrument", term, (term, *phrases))
    for word, meant in GENRE_WORDS.items():
        if word not in AMBIGUOUS:
            add("genre", meant[0], (word,))
    for style in STYLES:
        if style not in AMBIGUOUS:
            add("genre", phrase_key(style), (style,))
    add("genre", "world", ("world music",))
    for mood in vocabulary():
        add("mood", mood, (mood,))
    for mood, phrases in MOOD_WORDS_EXTRA.items():
        add("mood", mood, phrases)
    for entry_phrase, entry in _lexicon().entries.items():  # request phrases that are mood words themselves
        if entry.moods and len(entry_phrase.split()) == 1 and entry_phrase in _MOODY:
            add("mood", entry.moods[0], (entry_phrase,))
    for term, phrases in SOUNDS.items():
        add("sound", term, (term, *phrases))
    return PhraseMatcher(table), table


_MOODY = {"calming", "relaxing", "soothing", "mellow", "gentle", "tranquil", "melancholy", "gloomy", "joyful",
          "cheerful", "upbeat", "romantic", "sexy", "angry", "furious", "peaceful", "dreamy", "nostalgic", "epic",
          "playful", "hopeful", "tense", "sensual", "groovy", "funky", "confident", "reflective", "lonely"}


def claims(text: str, negated: bool = False) -> list[tuple[str, str, str]]:
    """The music terms `text` claims, in order: (kind, canonical term, the words used). A negated term ("not too
    intense", "no drums") claims nothing, unless `negated` asks for those too."""
    matcher, table = _table()
    return [(*table[phrase_key(m.phrase)], m.phrase) for m in matcher.find(text)
            if phrase_key(m.phrase) in table and (negated or not m.negated)]


def terms(text: str) -> set[str]:
    """The canonical music terms in `text`."""
    return {term for _, term, _ in claims(text)}


def instruments(text: str) -> list[str]:
    """The instruments and sounds a description names, as its own words ("crying steel guitar" -> "steel
    guitar"), in order, without repeats."""
    out: list[str] = []
    for kind, _, words in claims(text):
        if kind in ("instrument", "sound") and words not in out:
            out.append(words)
    return out


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lower-case English words (from the default model's tokenizer vocabulary): a capitalised one that opens a
    sentence is not read as a name, and a name made only of them needs its capitals."""
    data = json.loads(resources.files("retrieval").joinpath("common_words.json").read_text(encoding="utf-8"))
    return frozenset(data["words"])
