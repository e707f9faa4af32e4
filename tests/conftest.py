"""Shared fixtures: fakes for every model, a tiny French corpus, the real bundled model when needed."""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from langchain_core.embeddings import Embeddings

from assistant.settings import Settings
from ingest.loaders import load_corpus
from ingest.records import SourceDoc

if TYPE_CHECKING:
    from assistant.service import Assistant

# No test may call Gradio's analytics hosts, also those that import gradio before building a page.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

MINI_CORPUS = Path(__file__).parent / "data" / "mini_corpus"
BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


class KeywordEmbeddings(Embeddings):
    """Hand-checkable embeddings: one dimension per hashed (accent-folded) word, L2-normalised.

    Two texts are close exactly when they share words, so "question X retrieves chunk Y"
    tests are predictable without a neural model.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size

    def _vector(self, text: str) -> list[float]:
        folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
        vec = [0.0] * self.size
        for word in re.findall(r"\w{3,}", folded):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.size] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def keyword_embeddings() -> KeywordEmbeddings:
    return KeywordEmbeddings()


@pytest.fixture(scope="session")
def corpus_docs() -> dict[str, SourceDoc]:
    """The bundled corpus, repaired, by the first part of the file name ("001"), loaded once."""
    return {d.source.split("_")[0]: d for d in load_corpus(BUNDLED_CORPUS)[0]}


@pytest.fixture
def mini_corpus() -> Path:
    return MINI_CORPUS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temporary home, on the mini corpus."""
    return Settings.from_env(environ={}, home=tmp_path / "home", corpus=MINI_CORPUS)


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    """The real converted e5 model (built once under REPERES_HOME; `make test` prepares it)."""
    from index.e5_convert import ensure_bundled_model

    return ensure_bundled_model(Settings.from_env().home)


@pytest.fixture
def assistant(settings: Settings, keyword_embeddings: KeywordEmbeddings) -> Assistant:
    """An assistant on the mini corpus with the keyword embeddings, its index built (the API, chat, access,
    bad-input and privacy tests share it; a module may define its own)."""
    from assistant.service import Assistant

    built = Assistant(settings, embeddings=keyword_embeddings)
    built.ingest()
    return built
