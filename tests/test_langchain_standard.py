"""LangChain's own standard suites (``langchain-tests``) run against our Embeddings and Retriever.

A peer's tests, not only ours: these check that our classes honour the LangChain contracts the way
LangChain itself defines them (return types, sync/async, the ``k`` parameter), so that they plug into
any LangChain chain, not just into the code we wrote them for.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from index.embeddings import SentenceTransformerEmbeddings
from index.hybrid import HybridRetriever
from index.lexical import BM25Retriever
from index.retriever import DenseRetriever
from index.store import FaissStore, Manifest
from ingest.records import Chunk

# The suites' async tests are plain ``async def``: run them with anyio (sync tests ignore the mark).
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@cache
def _bundled_model_params() -> dict[str, Any]:
    # Lazy (not at import): converts the bundled model once if missing, so `-m "not slow"` never pays for it.
    from assistant.settings import Settings
    from index.e5_convert import ensure_bundled_model

    return {"model": ensure_bundled_model(Settings.from_env().home), "local_files_only": True}


class _BundledEmbeddings:
    @property
    def embeddings_class(self) -> type[SentenceTransformerEmbeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return _bundled_model_params()


@pytest.mark.slow
class TestEmbeddingsUnit(_BundledEmbeddings, EmbeddingsUnitTests):
    pass


@pytest.mark.slow
class TestEmbeddingsIntegration(_BundledEmbeddings, EmbeddingsIntegrationTests):
    pass


_TEXTS = [
    "Le contrat d'engagement jeune s'adresse aux 16-25 ans sans emploi ni formation.",
    "L'allocation CEJ peut atteindre 528 euros par mois selon les ressources.",
    "Le conseiller fixe avec le jeune un parcours de 15 à 20 heures par semaine.",
    "La garantie jeunes a été remplacée par le contrat d'engagement jeune en 2022.",
    "Le PACEA est le cadre contractuel de l'accompagnement en Mission Locale.",
    "L'aide au permis de conduire peut être demandée auprès de la Mission Locale.",
    "Le service civique est ouvert aux jeunes de 16 à 25 ans, sans condition de diplôme.",
    "Une immersion professionnelle (PMSMP) dure en général une à deux semaines.",
    "Le jeune doit signaler tout changement de situation à son conseiller.",
    "L'aide au logement peut être cumulée avec l'allocation du CEJ.",
    "Les ateliers collectifs portent sur le CV, la lettre de motivation et l'entretien.",
    "Un suivi santé peut être proposé avec le point santé de la Mission Locale.",
]
_DIM = 16


@cache
def _store() -> FaissStore:
    chunks = [Chunk(source="a.txt", line_start=i, line_end=i, text=t) for i, t in enumerate(_TEXTS, 1)]
    vectors = np.asarray(DeterministicFakeEmbedding(size=_DIM).embed_documents(_TEXTS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = Manifest(1, "x", "test", "fake", _DIM, len(chunks), "IndexFlatIP", "2026-01-01")
    return FaissStore(chunks, vectors, manifest)


class TestDenseRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[DenseRetriever]:
        return DenseRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"store": _store(), "embeddings": DeterministicFakeEmbedding(size=_DIM), "k": 5}

    @property
    def retriever_query_example(self) -> str:
        return "Quel est le montant de l'allocation du contrat d'engagement jeune ?"


class TestBM25Retriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BM25Retriever]:
        return BM25Retriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"store": _store(), "k": 5}

    @property
    def retriever_query_example(self) -> str:
        # Words shared with most passages, so k results exist for every k the suite asks for.
        return "jeune jeunes mission locale conseiller contrat allocation aide permis service ateliers suivi"


class TestHybridRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"store": _store(), "embeddings": DeterministicFakeEmbedding(size=_DIM), "k": 5}

    @property
    def retriever_query_example(self) -> str:
        return "Un jeune de 19 ans à Loos : quel montant pour l'allocation du contrat d'engagement jeune ?"
