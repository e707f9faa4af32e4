"""`reperes ingest --ray`: the Ray Data path writes the same index as the local one (index/distributed.py).

The slow tests start a local Ray cluster (2 CPUs) once for the module (3 to 9 s, about 1 GB), then each
pool of embedder actors loads its embedder once. The fake embedder covers the order and the contract, the
bundled model the vectors themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import conftest
import numpy as np
import pytest
from conftest import MINI_CORPUS, KeywordEmbeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from assistant import cli
from index.build import build_index
from index.distributed import RayEmbeddings, RayOptions, RayUnavailable, import_ray
from index.embeddings import BUNDLED, make_embeddings, model_fingerprint
from index.store import FaissStore, IndexNotReady, ModelNotReady


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A local Ray of 2 CPUs for the module; its sockets under a short temporary path (Unix socket paths are
    limited to about 100 characters, which pytest's tmp paths can exceed)."""
    ray = import_ray()
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_TMPDIR")}
    tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    os.environ["RAY_TMPDIR"] = tmp
    # The fake embedder lives in conftest, which the workers cannot import: it travels by value.
    ray.cloudpickle.register_pickle_by_value(conftest)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        yield ray
    finally:
        ray.shutdown()
        ray.cloudpickle.unregister_pickle_by_value(conftest)
        shutil.rmtree(tmp, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _index(folder: Path) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """Chunk ids, vectors (as FAISS holds them) and manifest of an index folder."""
    import faiss

    store = FaissStore.load(folder)
    index = faiss.read_index(str(folder / "vectors.faiss"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [c.id for c in store.chunks], index.reconstruct_n(0, index.ntotal), manifest


def _same_index(local: Path, distributed: Path) -> None:
    ids, vectors, manifest = _index(local)
    ray_ids, ray_vectors, ray_manifest = _index(distributed)
    assert ray_ids == ids and len(ids) >= 5
    assert ray_vectors.shape == vectors.shape
    cosines = np.sum(vectors * ray_vectors, axis=1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(ray_vectors, axis=1))
    assert cosines.min() >= 0.9999, f"chunk {ids[int(cosines.argmin())]}: cosine {cosines.min():.6f}"
    for key in ("corpus_fingerprint", "chunker", "embed_model", "dimension", "count", "faiss_index"):
        assert ray_manifest[key] == manifest[key], key


@pytest.mark.slow
def test_ray_vectors_come_back_in_input_order(local_ray: Any, tmp_path: Path) -> None:
    texts = [f"passage {n} : action numéro{n} pour les jeunes de {16 + n} ans" for n in range(5)]
    marker = tmp_path / "last-done"

    class FirstAfterLast(KeywordEmbeddings):  # local: travels to the actors by value
        """The batch of the first text waits for the batch of the last one: its rows come back after."""

        def embed_documents(self, batch: list[str]) -> list[list[float]]:
            if texts[-1] in batch:
                marker.touch()
            deadline = time.monotonic() + 20
            while texts[0] in batch and not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return super().embed_documents(batch)

    # Batches of 2 on two actors, one batch at a time each: [0 1] waits while the other actor does [2 3] and [4].
    with RayEmbeddings(FirstAfterLast, RayOptions(actors=2, batch_size=2, in_flight=1)) as embeddings:
        vectors = embeddings.embed_documents(texts)
    assert marker.exists()
    assert np.allclose(vectors, KeywordEmbeddings().embed_documents(texts), atol=1e-6)
    assert local_ray.is_initialized()  # a Ray the caller started is left running


@pytest.mark.slow
def test_ray_index_equals_local_with_fake(local_ray: Any, tmp_path: Path) -> None:
    local = build_index(MINI_CORPUS, tmp_path / "local", KeywordEmbeddings(), "keyword")
    with RayEmbeddings(KeywordEmbeddings, RayOptions(actors=2, batch_size=2)) as embeddings:
        distributed = build_index(MINI_CORPUS, tmp_path / "ray", embeddings, "keyword")
    assert local.rebuilt and distributed.rebuilt
    _same_index(tmp_path / "local", tmp_path / "ray")


def test_ray_and_local_paths_share_the_embedding_cache(tmp_path: Path) -> None:
    # The cache key holds the passage prompt, which RayEmbeddings reports as its local embedder does: the
    # vectors the local path cached are reused, and Ray is not even started.
    cache = tmp_path / "cache"
    build_index(MINI_CORPUS, tmp_path / "local", KeywordEmbeddings(), "keyword", cache=cache)
    embeddings = RayEmbeddings(KeywordEmbeddings, RayOptions(address="ray://nulle-part:10001"))
    report = build_index(MINI_CORPUS, tmp_path / "ray", embeddings, "keyword", cache=cache)
    assert report.rebuilt and report.embedded == 0 and report.manifest.count >= 5
    _same_index(tmp_path / "local", tmp_path / "ray")


@pytest.mark.slow
def test_ray_index_equals_local_with_bundled_model(local_ray: Any, bundled_model: Path, tmp_path: Path) -> None:
    home = bundled_model.parents[1]  # REPERES_HOME/models/<model>: the actors build it as make_embeddings does
    model_id = model_fingerprint(BUNDLED)
    build_index(MINI_CORPUS, tmp_path / "local", make_embeddings(BUNDLED, home), model_id)
    # One actor: the model loads once more, not twice (the order over several actors is tested above).
    embeddings = RayEmbeddings.for_model(BUNDLED, home, options=RayOptions(actors=1, batch_size=2))
    build_index(MINI_CORPUS, tmp_path / "ray", embeddings, model_id)
    _same_index(tmp_path / "local", tmp_path / "ray")


@pytest.mark.slow
def test_a_worker_without_the_model_is_a_french_error(local_ray: Any) -> None:
    here = os.getpid()

    def missing_on_workers() -> KeywordEmbeddings:
        if os.getpid() != here:  # in an actor, on a "worker" without the model
            raise ModelNotReady("Modèle introuvable dans /nulle/part : lancez la conversion sur ce nœud.")
        return KeywordEmbeddings()

    embeddings = RayEmbeddings(missing_on_workers, RayOptions(actors=1))
    with pytest.raises(IndexNotReady, match=r"Modèle introuvable dans /nulle/part"):
        embeddings.embed_documents(["un passage", "un autre passage"])


class _RayFakeEmbeddings(RayEmbeddings):
    """The standard suite builds the class with keyword arguments: the fake embedder, one actor per call
    (each call starts its pool: one actor keeps the suite within seconds)."""

    def __init__(self, size: int = 16) -> None:
        super().__init__(lambda: KeywordEmbeddings(size), RayOptions(actors=1, batch_size=2))


@pytest.mark.slow
@pytest.mark.anyio  # the suite's async tests are plain `async def` (as in test_langchain_standard.py)
@pytest.mark.usefixtures("local_ray")
class TestRayEmbeddingsIntegration(EmbeddingsIntegrationTests):
    """LangChain's own Embeddings contract (types, sync and async, batches) on the Ray path."""

    @property
    def embeddings_class(self) -> type[RayEmbeddings]:
        return _RayFakeEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"size": 16}

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"


def test_without_ray_installed_ingest_says_which_pip_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if the extra were missing
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    with pytest.raises(RayUnavailable):
        import_ray()
    code = cli.main(["ingest", "--corpus", str(MINI_CORPUS), "--ray"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install -e '.[ray]'" in err and "Ray n'est pas installé" in err
    assert not (tmp_path / "home" / "indexes").exists()  # refused before any work


def test_ray_actors_must_be_positive(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    assert cli.main(["ingest", "--corpus", str(MINI_CORPUS), "--ray", "--ray-actors", "0"]) == 2
    assert "--ray-actors (0) doit être ≥ 1" in capsys.readouterr().err


def test_unreachable_cluster_is_a_french_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = import_ray()

    def refuse(**kwargs: Any) -> None:
        raise ConnectionError(f"Failed to connect to {kwargs.get('address')}")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as in a fresh `reperes ingest --ray`
    monkeypatch.setattr(ray, "init", refuse)
    embeddings = RayEmbeddings(KeywordEmbeddings, RayOptions(address="ray://nulle-part:10001"))
    with pytest.raises(RayUnavailable, match=r"Impossible de démarrer le cluster Ray ray://nulle-part:10001 .*ray://HÔTE:10001"):
        embeddings.embed_documents(["bonjour"])
    assert embeddings.embed_documents([]) == []  # nothing to embed: Ray not even asked
