import pytest
from pydantic import ValidationError

from retrieval.records import Track


def test_lists_accept_strings_and_json_and_lowercase():
    track = Track(id="1", title="Song", tags="Dream Pop; Shoegaze|lo-fi", moods='["Calm", "dreamy"]')
    assert track.tags == ["dream pop", "shoegaze", "lo-fi"]
    assert track.moods == ["calm", "dreamy"]


def test_numbers_are_checked():
    with pytest.raises(ValidationError):
        Track(id="1", title="Song", energy=1.5)
    with pytest.raises(ValidationError):
        Track(id="1", title="Song", year="nineteen ninety")
    assert Track(id=7, title="Song", year="1999", energy="").year == 1999


def test_required_fields_and_broken_text():
    with pytest.raises(ValidationError):
        Track(id="", title="Song")
    with pytest.raises(ValidationError):
        Track(id="1", title="Bad \ufffd text")


def test_document_and_metadata_round_trip():
    track = Track(id="x", title="Weightless", artist="Marconi Union", year=2011, genre="Ambient",
                  moods=["calm"], energy=0.1, description="Slow drifting synth pads.")
    doc = track.document()
    assert "Weightless by Marconi Union (2011)." in doc and "Ambient." in doc and "Energy: very low" in doc
    meta = track.metadata()
    assert meta["genre"] == "ambient" and meta["artist_key"] == "marconi union" and "valence" not in meta
    assert Track.from_metadata(meta) == track
    assert track.fingerprint() != track.model_copy(update={"energy": 0.2}).fingerprint()
