"""Genre words: what a listener may call a genre (English and Chinese), and the catalog genre/tag words it means."""

from __future__ import annotations

# word or phrase -> the genre/tag words it means in a catalog (lowercase). Chinese names included.
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "rock": ("rock",), "摇滚": ("rock",), "indie": ("indie",), "alternative": ("indie", "alternative", "rock"),
    "metal": ("metal",), "heavy metal": ("metal",), "金属": ("metal",), "punk": ("punk",), "grunge": ("grunge",),
    "pop": ("pop",), "流行": ("pop",), "synth-pop": ("synth-pop",), "synthpop": ("synth-pop",),
    "hip hop": ("hip-hop",), "hip-hop": ("hip-hop",), "hiphop": ("hip-hop",), "rap": ("hip-hop", "rap"),
    "说唱": ("hip-hop",), "嘻哈": ("hip-hop",), "trap": ("trap", "hip-hop"),
    "r&b": ("r&b",), "rnb": ("r&b",), "soul": ("soul",), "funk": ("funk",), "disco": ("disco",),
    "motown": ("soul", "motown"), "jazz": ("jazz",), "爵士": ("jazz",), "swing": ("swing", "jazz"),
    "blues": ("blues",), "蓝调": ("blues",), "country": ("country",), "乡村": ("country",),
    "folk": ("folk",), "民谣": ("folk",), "singer-songwriter": ("singer-songwriter",),
    "electronic": ("electronic",), "electronica": ("electronic",), "电子": ("electronic",),
    "edm": ("dance", "electronic"), "dance": ("dance",), "house": ("house",), "techno": ("techno",),
    "trance": ("trance",), "drum and bass": ("drum & bass",), "dnb": ("drum & bass",),
    "dubstep": ("dubstep",), "ambient": ("ambient",), "氛围": ("ambient",), "downtempo": ("downtempo",),
    "trip hop": ("trip hop",), "trip-hop": ("trip hop",), "lo-fi": ("lo-fi",), "lofi": ("lo-fi",),
    "idm": ("idm",), "chiptune": ("chiptune",), "classical": ("classical",), "古典": ("classical",),
    "piano": ("piano",), "钢琴": ("piano",), "orchestral": ("orchestral",), "reggae": ("reggae",),
    "雷鬼": ("reggae",), "latin": ("latin",), "bossa nova": ("bossa nova", "latin"), "salsa": ("salsa", "latin"),
    "reggaeton": ("reggaeton", "latin"), "gospel": ("gospel",), "afrobeat": ("afrobeat", "world"),
    "afrobeats": ("afrobeats", "world"), "world": ("world",), "soundtrack": ("soundtrack",),
    "film score": ("soundtrack",), "k-pop": ("k-pop",), "kpop": ("k-pop",), "j-pop": ("j-pop",),
    "jpop": ("j-pop",), "mandopop": ("mandopop",), "cantopop": ("cantopop",), "c-pop": ("mandopop", "cantopop"),
    "华语": ("mandopop", "cantopop"), "中文歌": ("mandopop", "cantopop"), "粤语": ("cantopop",),
    "post rock": ("post rock",), "post-rock": ("post rock",), "shoegaze": ("shoegaze",),
    "new wave": ("new wave",), "doo-wop": ("doo-wop",), "big band": ("big band",), "acoustic": ("acoustic",),
}
