"""Encore's settings: one definition, read once at the edge (the command line, the web app) and passed down.

Every setting comes, in this order of precedence, from an argument, an `ENCORE_<NAME>` environment variable,
`$ENCORE_HOME/config.toml` (keys are the lower-case names: `llm_url = "http://127.0.0.1:8000/v1"`) or its default.
This is the only module that reads or writes the process environment:

    settings = Settings.load()        # env + config.toml, validated; bad values raise ConfigError
    settings.chroma_path              # every path under one root, `settings.home`
    settings.child_env()              # the environment for a child server (vLLM)
    encore config                     # prints the effective settings, secrets masked
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .errors import ConfigError

PACKAGE = Path(__file__).resolve().parent
DEMO_DIR = PACKAGE / "demo"  # the bundled demo catalog, comments and lyrics (package data)
DEFAULT_COLLECTION = "demo"
CONFIG_FILE = "config.toml"

# What the Hugging Face libraries must do in an Encore process: never reach a hub for a model we ship or pulled,
# keep quiet, and not fork tokenizer threads under our own worker threads. A user can still override each one.
PROCESS_DEFAULTS = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error",
                    "TOKENIZERS_PARALLELISM": "false", "ANONYMIZED_TELEMETRY": "False"}


def _default_home() -> Path:
    return Path.home() / ".encore"


class Settings(BaseSettings):
    """Everything a user can configure. Field descriptions are the README's variable table."""

    model_config = SettingsConfigDict(env_prefix="ENCORE_", env_ignore_empty=True, extra="ignore",
                                      validate_default=True, frozen=True)

    home: Path = Field(default_factory=_default_home,
                       description="the root folder for all state (default `~/.encore`)")
    collection: str = Field(DEFAULT_COLLECTION, description="default collection for every command (default `demo`)")
    demo_catalog: Path = Field(DEMO_DIR / "catalog.jsonl",
                               description="the catalog file `encore setup` ingests (default the bundled demo catalog)")
    chroma_url: str | None = Field(None, description="use a Chroma server (`chroma run --path DIR --port 8000`) "
                                                     "instead of the embedded store, e.g. `http://127.0.0.1:8000`")
    embedder: str | None = Field(None, description="any sentence-transformers model by local path or name, instead "
                                                   "of the packaged all-MiniLM-L6-v2 (re-ingest after changing it)")
    embedder_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="`auto` (ONNX Runtime for mean-pooled models, else PyTorch), `onnx` or `torch`")
    llm_url: str | None = Field(None, description="an OpenAI-compatible server (vLLM) to write text; wins over the "
                                                  "in-process model")
    llm_model: str | None = Field(None, description="the model name to ask that server for (default: `encore` if "
                                                    "served, else the base model)")
    llm_api_key: SecretStr = Field(SecretStr("EMPTY"), description="the API key that server expects (vLLM's "
                                                                   "`--api-key`; default none)")
    model: str | None = Field(None, description="the in-process model: a folder or hub id (default the pulled "
                                                "SmolLM2)")
    adapter: Path | None = Field(None, description="a LoRA adapter folder for the in-process model")
    temperature: float = Field(0.7, ge=0, le=2, description="sampling temperature of the language model; `0` "
                                                            "decodes greedily (the same text every run)")
    understand: Literal["auto", "rules"] = Field(
        "auto", description="`rules` to skip the model's structured-output reading of chat messages (served models "
                            "only)")
    vllm_python: str | None = Field(None, description="the Python that has vLLM, for `encore serve` (default: `vllm` "
                                                      "beside Encore on a GPU, else `.venv-vllm`)")
    ui_auth: SecretStr | None = Field(None, description="`user:password` (several: `ann:pw1,bob:pw2`) turns on "
                                                        "sign-in for `encore ui`; each user's sessions are their own")
    share_history: bool = Field(False, description="`true` lets a served model (`llm_url`) write about picks the "
                                                   "listening profile lifted; by default none of the history leaves "
                                                   "the machine")

    @field_validator("home", "demo_catalog", "adapter", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("ui_auth", mode="after")
    @classmethod
    def _user_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[^:,]+:[^,]+(?:,[^:,]+:[^,]+)*", value.get_secret_value()):
            raise ValueError("give it as user:password, or several as user:password,user2:password2")
        return value

    def ui_users(self) -> list[tuple[str, str]]:
        """The (user, password) pairs of `ui_auth`; none when sign-in is off."""
        if self.ui_auth is None:
            return []
        return [tuple(pair.split(":", 1)) for pair in self.ui_auth.get_secret_value().split(",")]

    @field_validator("understand", "embedder_backend", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.casefold() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the config file lives under the home, so the home itself can only come from an argument or the env
        given = getattr(init_settings, "init_kwargs", {}).get("home")
        home = Path(given or os.environ.get("ENCORE_HOME") or _default_home()).expanduser()
        return init_settings, env_settings, _HomeFileSource(settings_cls, home / CONFIG_FILE)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """The effective settings; a bad value or config file is one ConfigError naming it."""
        try:
            return cls(**overrides)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            raise ConfigError(f"setting {where} (ENCORE_{where.upper()}): {problem['msg']}") from None

    # --- where things live --------------------------------------------------------------------------------

    def root(self) -> Path:
        """`home`, created on first use."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    def lexical_path(self, collection: str) -> Path:
        return self.home / "bm25" / collection

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def sessions_path(self) -> Path:
        return self.home / "sessions.sqlite"

    @property
    def comments_path(self) -> Path:
        return self.home / "comments.jsonl"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    # --- processes ----------------------------------------------------------------------------------------

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for a child server: ours, with Encore's process defaults, then `extra` where unset."""
        env = {**PROCESS_DEFAULTS, **os.environ}
        for name, value in extra.items():
            env.setdefault(name, value)
        return env

    def shown(self) -> dict[str, str]:
        """The effective settings as text for `encore config`, secrets masked."""
        out = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "(not set)" if value.get_secret_value() in ("", "EMPTY") else "**********"
            out[name] = "(not set)" if value is None else str(value)
        return out


class _HomeFileSource(TomlConfigSettingsSource):
    """`$ENCORE_HOME/config.toml`, if there; an unreadable file is a ConfigError, not a traceback."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        self.path = path
        try:
            super().__init__(settings_cls, toml_file=path)
        except (OSError, ValueError) as error:
            raise ConfigError(f"{path}: not a valid TOML settings file ({error})") from None
        if "home" in self.toml_data:
            raise ConfigError(f"{path}: `home` cannot be set inside the home; use ENCORE_HOME")


def apply_process_defaults() -> None:
    """Set PROCESS_DEFAULTS for this process where the user has not; the entry points call this once, first."""
    for name, value in PROCESS_DEFAULTS.items():
        os.environ.setdefault(name, value)


def variable_table() -> str:
    """The README's table of environment variables, made from the field descriptions above."""
    rows = ["| variable | meaning |", "| --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `ENCORE_{name.upper()}` | {field.description} |")
    return "\n".join(rows)
