import pytest

from retrieval.mood import moods_for_tags, read_mood, vocabulary


@pytest.mark.parametrize("text, mood, low_energy", [
    ("rainy evening", "melancholic", True),
    ("something for the gym", "energetic", False),
    ("heartbroken after a breakup", "heartbroken", None),
    ("chill vibes", "chill", True),
    ("focus music", "focus", True),
    ("rough day, need something to calm down", "calm", True),
])
def test_english_phrases(text, mood, low_energy):
    read = read_mood(text)
    assert mood in read.moods
    if low_energy is not None:
        assert (read.energy_target < 0.5) is low_energy


@pytest.mark.parametrize("text, mood", [("我今天很伤感", "sad"), ("想放松一下", "calm"), ("运动的时候听", "energetic"),
                                        ("失恋了", "heartbroken"), ("学习用的音乐", "focus")])
def test_chinese_phrases(text, mood):
    assert mood in read_mood(text).moods


def test_sad_means_low_valence_and_gym_high_energy():
    assert read_mood("伤感").valence[1] <= 0.4
    assert read_mood("gym").energy[0] >= 0.7


def test_negation_and_longest_match():
    assert "sad" not in read_mood("not sad at all").moods
    calm_down = read_mood("calm down")
    assert calm_down.phrases == ("calm down",)


def test_no_false_mood_from_love_of_an_artist():
    assert not read_mood("I love Radiohead, anything similar?")


def test_conflicting_ranges_span_instead_of_vanishing():
    both = read_mood("calm party")
    assert both.energy[0] < 0.4 < 0.7 < both.energy[1]


def test_tags_map_into_the_vocabulary():
    moods = moods_for_tags(["Ambient", "Drum & Bass"], "electronic")
    assert "calm" in moods and "energetic" in moods
    assert set(moods) <= set(vocabulary())
