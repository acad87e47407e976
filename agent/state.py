"""A chat turn as it travels through the graph, typed: the understood message (`Plan`), what each signal found
(`Candidate`) and what the ranking kept (`Pick`, with the evidence that ranked it). All three are checkpointed with
the session; the parsed request rides on the plan for the turn only (it is rebuilt from the words, never stored).

Sessions saved before the state was typed hold plain dicts where these models now stand: `plan_of`, `picks_of`
and `candidates_of` read either, so they resume as they were.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from retrieval import Hit, Request, Track
from retrieval.search import Evidence

from .hints import Hints

DEFAULT_N = 6
SHOWS_TRACKS = ("recommend", "refine", "feedback", "playlist")
# the evidence a track object carries in the output (`encore chat --json`, the web app's cards), when set
SHOWN_EVIDENCE = ("moods", "mood_words", "genres", "named_artist", "dense_rank", "lexical_rank")


class Plan(BaseModel):
    """What this turn is to do, as the understand step read it."""

    model_config = ConfigDict(extra="ignore")

    intent: str = "recommend"  # recommend | refine | playlist | review | explain | feedback | greeting | help | ...
    n: int = DEFAULT_N  # how many picks
    refs: list[int] = Field(default_factory=list)  # 1-based positions in the list on screen ("#2")
    notes: list[str] = Field(default_factory=list)  # what was understood, in words, for the reply and "why"
    search: str = ""  # the words to search: this message's, or the session's topic; "" keeps the list on screen
    has_content: bool = False  # the message says what to play, not only how to change it
    narrows: bool = False  # it only tightens the list on screen: the picks that still fit stay
    text: str = ""  # the message, as read
    named: list[str] = Field(default_factory=list)  # casefolded artists the message names or points near
    seed_titles: list[str] = Field(default_factory=list)  # catalog track ids the message names by title
    habitual: bool = False  # "like what I usually play": the listening profile is what they ask for
    shows_tracks: bool = False  # the reply shows a list (the cards change)
    hints: Hints | None = None  # what the model added to the rules, for a new request
    # `search` parsed, for this turn only (rebuilt from the words when needed; never checkpointed)
    request: SkipValidation[Request | None] = Field(default=None, exclude=True)


class Feedback(BaseModel):
    """Given with the message, not said in it: thumbs on cards since the last turn, and how many picks to show."""

    liked: list[str] = Field(default_factory=list)  # catalog track ids
    disliked: list[str] = Field(default_factory=list)
    n: int | None = None  # exactly this many, whatever the message says (the CPCD eval's 100)
    default_n: int | None = None  # this many when the message does not say (the listener's setting)


class Extra(BaseModel):
    """What a reply has beside its text (each is in `encore chat --json` when set)."""

    model_config = ConfigDict(extra="ignore")

    notice: str | None = None  # the model was unavailable: the picks stand alone
    dropped: int | None = None  # model sentences the checker removed
    suggestions: list[str] | None = None  # next steps offered after a list ("only the 90s", "calmer")
    sentences: list[dict[str, str]] | None = None  # a list reply's sentences, each {"text", "by": "model" | "facts"}
    title: str | None = None  # a playlist's
    description: str | None = None
    review: str | None = None
    track: Track | None = None  # the reviewed track
    related: list[str] | None = None  # the catalog neighbours the review may compare it with

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                data[name] = value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value
        return data


class Candidate(BaseModel):
    """One signal's candidate at its rank in that signal's list."""

    model_config = ConfigDict(extra="ignore")

    id: str
    source: str  # the signal (`ranking.SIGNALS`)
    rank: int
    why: str = ""
    evidence: Evidence = Field(default_factory=Evidence)
    note: str | None = None  # what the listening profile says of a track it lifted


class Pick(BaseModel):
    """A ranked pick: the catalog track's id, its score and reason, and the evidence behind them."""

    model_config = ConfigDict(extra="ignore")

    id: str
    score: float = 0.0
    why: str = ""
    evidence: Evidence = Field(default_factory=Evidence)

    @classmethod
    def of(cls, hit: Hit) -> Pick:
        return cls(id=hit.track.id, score=hit.score, why=hit.why, evidence=hit.evidence)

    def hit(self, index: Any) -> Hit | None:
        """The pick with its catalog track again (None once the track has left the catalog)."""
        track = index.get(self.id)
        return Hit(track, self.score, self.why, self.evidence) if track is not None else None


def track_dict(hit: Hit) -> dict[str, Any]:
    """The output's track object (the CLI contract): the track's fields, score, why and the evidence that shows."""
    data = hit.to_dict()
    ev = hit.evidence
    data["evidence"] = {k: list(v) if isinstance(v, tuple) else v
                        for k in SHOWN_EVIDENCE if (v := getattr(ev, k))}
    return data


def plan_of(state: dict[str, Any]) -> Plan:
    stored = state.get("turn")
    return stored if isinstance(stored, Plan) else Plan.model_validate(stored or {})


def picks_of(state: dict[str, Any]) -> list[Pick]:
    return [p if isinstance(p, Pick) else Pick.model_validate(p) for p in state.get("picks") or []]


def extra_of(state: dict[str, Any]) -> Extra:
    stored = state.get("extra")
    return stored if isinstance(stored, Extra) else Extra.model_validate(stored or {})


def candidates_of(state: dict[str, Any]) -> list[Candidate]:
    return [c if isinstance(c, Candidate) else Candidate.model_validate(c) for c in state.get("candidates") or []]
