"""The vector store: Chroma embedded under `$ENCORE_HOME/chroma`, or a Chroma server at `ENCORE_CHROMA_URL`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from .embed import ChromaEmbedding, Embedder
from .errors import StoreError
from .settings import Settings

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,510}[a-z0-9]$")


def check_collection_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise StoreError(f"bad collection name {name!r}: use 3-512 lowercase letters, digits, '.', '_' or '-', "
                         "starting and ending with a letter or digit")
    return name


class Store:
    """A thin, typed door to Chroma; everything else in Encore talks to this, not to chromadb."""

    def __init__(self, embedder: Embedder, url: str | None = None, settings: Settings | None = None):
        """`url=None` takes the settings' `chroma_url`; `url=""` forces the embedded store."""
        settings = settings or Settings.load()
        self.embedder = embedder
        self.url = url if url is not None else settings.chroma_url
        path = settings.chroma_path
        chroma = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.url:
                parsed = urlparse(self.url if "://" in self.url else f"http://{self.url}")
                if not parsed.hostname:
                    raise StoreError(f"ENCORE_CHROMA_URL={self.url!r} is not a URL like http://127.0.0.1:8000")
                self.client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000,
                                                  ssl=parsed.scheme == "https", settings=chroma)
                self.client.heartbeat()
                self.where = self.url
            else:
                settings.root()
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma)
                self.where = str(path)
        except StoreError:
            raise
        except Exception as error:
            hint = (" (is `chroma run` up there? unset ENCORE_CHROMA_URL to use the embedded store)"
                    if self.url else "")
            raise StoreError(f"cannot open the Chroma store at {self.url or path}: {error}{hint}") from error

    def collection(self, name: str, create: bool = False) -> Any:
        check_collection_name(name)
        function = ChromaEmbedding(self.embedder)
        if create:
            return self.client.get_or_create_collection(
                name, embedding_function=function, configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder.name.rsplit("/", 1)[-1]})
        try:
            return self.client.get_collection(name, embedding_function=function)
        except Exception as error:
            if "does not exist" in str(error) or "NotFound" in type(error).__name__:
                known = ", ".join(self.names()) or "none yet"
                raise StoreError(f"no collection {name!r} in {self.where} (collections: {known}); "
                                 "run `encore setup` or `encore ingest ... --collection NAME`") from error
            raise StoreError(f"cannot read collection {name!r} from {self.where}: {error}") from error

    def drop(self, name: str) -> None:
        check_collection_name(name)
        if name in self.names():
            self.client.delete_collection(name)

    def names(self) -> list[str]:
        return sorted(c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections())
