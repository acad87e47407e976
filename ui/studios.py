"""The web app's two studios: the playlist studio (the chat's picks or a prompt, reordered, described by the
model, exported as M3U8 and JSON) and the review studio (find a track, have it reviewed). `WebApp` takes these
handlers from `Studios`; they use its agents, listener profiles and export folder."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr

from retrieval import Track
from retrieval.errors import EncoreError

from .render import (
    MAX_CHARS,
    NO_PROFILE,
    _file_name,
    _in_background,
    _plain_error,
    _playlist_html,
    _track_html,
    to_m3u8,
)


class Studios:
    """The studio tabs' handlers, mixed into `WebApp`."""

    def playlist_from_picks(self, picks: list) -> tuple[list, str, str]:
        if not picks:
            return [], "", "No picks yet: chat first, or build from a prompt."
        return list(picks), _playlist_html(picks), f"{len(picks)} tracks from the chat."

    def playlist_from_prompt(self, prompt: str, collection: str, n: float, profile: str = NO_PROFILE,
                             request: gr.Request | None = None) -> tuple[list, str, str, str, str]:
        text = (prompt or "").strip()[:MAX_CHARS]
        if not text:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Describe the playlist first."
        try:
            agent = self.agent(collection)
            made = agent.playlist(text, n=int(n or 12), prior=self.listener(profile, agent, request))
        except EncoreError as error:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), _plain_error(error)
        tracks = made["tracks"]
        return tracks, _playlist_html(tracks), made["title"], made["description"], (
            f"{len(tracks)} tracks." if tracks else made["description"])

    def describe(self, tracks: list, prompt: str, collection: str) -> tuple[str, str, str]:
        """The model's title and description for the studio's tracks as they stand."""
        if not tracks:
            return gr.skip(), gr.skip(), "The playlist is empty."
        agent = self.agent(collection)
        try:
            title, description = agent.describe(prompt or "a playlist", [t["id"] for t in tracks])
        except EncoreError as error:
            return gr.skip(), gr.skip(), _plain_error(error)
        return title, description, "Title and description written."

    @staticmethod
    def move(tracks: list, position: float, step: int) -> tuple[list, str, str]:
        index = int(position or 0) - 1
        target = index + step
        if not 0 <= index < len(tracks) or not 0 <= target < len(tracks):
            return tracks, _playlist_html(tracks), "Pick a track number within the list."
        tracks = list(tracks)
        tracks[index], tracks[target] = tracks[target], tracks[index]
        return tracks, _playlist_html(tracks), f"Moved #{index + 1} to #{target + 1}."

    @staticmethod
    def remove(tracks: list, position: float) -> tuple[list, str, str]:
        index = int(position or 0) - 1
        if not 0 <= index < len(tracks):
            return tracks, _playlist_html(tracks), "Pick a track number within the list."
        tracks = [t for i, t in enumerate(tracks) if i != index]
        return tracks, _playlist_html(tracks), f"Removed #{index + 1}."

    def export(self, tracks: list, title: str, description: str, collection: str) -> tuple[str | None, str | None,
                                                                                          str]:
        if not tracks:
            return None, None, "The playlist is empty."
        index = self.agent(collection).catalog.index()
        full = [index.get(t["id"]) or Track.model_validate(t) for t in tracks]
        stem = self.exports / uuid.uuid4().hex
        stem.mkdir()
        name = _file_name(title) or "encore-playlist"
        m3u8_path, json_path = stem / f"{name}.m3u8", stem / f"{name}.json"
        m3u8_path.write_text(to_m3u8(full, title), encoding="utf-8")
        json_path.write_text(json.dumps({"title": title, "description": description, "tracks": [
            t.model_dump(exclude_none=True, exclude={"lyrics"}) for t in full]}, ensure_ascii=False, indent=2),
            encoding="utf-8")
        return str(m3u8_path), str(json_path), f"Exported {len(full)} tracks."

    # --- review studio -----------------------------------------------------------------------------------------

    def find_tracks(self, query: str, collection: str) -> tuple[Any, str]:
        text = (query or "").strip()[:200]
        if not text:
            return gr.update(choices=[], value=None), "Type a title, an artist or a mood."
        hits = self.agent(collection).catalog.search(text, k=10, max_per_artist=None)
        choices = [(f"{h.track.title} \u2014 {h.track.artist or 'unknown artist'}", h.track.id) for h in hits]
        return gr.update(choices=choices, value=choices[0][1] if choices else None), (
            f"{len(choices)} tracks found." if choices else "Nothing found.")

    def review(self, track_id: str | None, collection: str) -> Iterator[tuple[str, str, str | None, str]]:
        if not track_id:
            yield "", "", None, "Find a track and pick it first."
            return
        agent = self.agent(collection)
        try:
            track = agent.catalog.get(track_id)
        except EncoreError as error:
            yield "", "", None, _plain_error(error)
            return
        card = _track_html(track)
        yield "", card, None, "Writing the review\u2026"
        texts, outcome = _in_background(lambda on_text: agent.review(track_id, on_text=on_text)["review"])
        preview: list[str] = []
        for sentence in texts:  # the model's checked sentences as they come
            preview.append(sentence)
            yield " ".join(preview), card, None, "Writing the review\u2026"
        if "error" in outcome:
            yield " ".join(preview), card, None, _plain_error(outcome["error"])
            return
        text = outcome["result"]
        folder = self.exports / uuid.uuid4().hex
        folder.mkdir()
        path = folder / f"review-{_file_name(track.title) or 'track'}.txt"
        path.write_text(f"{track.title} \u2014 {track.artist or 'unknown artist'}\n\n{text}\n", encoding="utf-8")
        yield text, _track_html(track), str(path), f"{len(text.split())} words."

    # --- settings ----------------------------------------------------------------------------------------------
