"""Passage embedding as a Ray Data pipeline: a pool of embedder actors, one model load each.

``RayEmbeddings`` is a LangChain ``Embeddings``: ``build_index`` takes it unchanged, so ``reperes ingest --ray``
writes the same index as the local path (same chunks and ids, same manifest, vectors in input order from the
same model). Only ``embed_documents`` runs on Ray; ``embed_query`` (one text) runs here.

Parsing (load, repair, chunk, catalogue) stays on the driver: ``build_index`` reads the corpus itself, and a
distributed parse would need a seam there to hand it the records (it is being reworked for incremental ingest).
Parsing the bundled corpus is a small share of an ingest next to embedding it (see the README's numbers).
Each ``embed_documents`` call runs its own pipeline, so its own pool: the actors load the model once per call
(``build_index`` makes at most about 20).

Ray is an optional extra (``pip install -e '.[ray]'``) imported only here, only when ``--ray`` is used.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

import numpy as np
from langchain_core.embeddings import Embeddings

from index.embeddings import make_embeddings
from index.store import IndexNotReady

RAY_INSTALL = "pip install -e '.[ray]'"

# Builds the embedder inside each actor. It travels to the workers with Ray's own serialisation (a reference
# to an importable function with its arguments, e.g. ``make_embeddings`` and the model name): nothing is
# ever written to disk as a pickle.
EmbedderFactory = Callable[[], Embeddings]


# The last line of a Python traceback: "package.module.SomeError: message".
_RAISED = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception|NotReady|Unavailable)): (.+)$")


class RayUnavailable(IndexNotReady):
    """Ray is not installed or the cluster cannot be reached; the message (French) says what to do.

    A kind of IndexNotReady (the index cannot be built this way), so the CLI shows the message, exit code 2."""


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the embedding runs.

    address: ``None`` starts a local Ray here (``num_cpus``); ``"auto"`` joins the cluster this machine is part
        of (``ray start``); ``"ray://host:10001"`` connects to a remote head with Ray Client.
    actors: embedder actors (each loads the model once); default one per ``cpus_per_actor`` CPUs of the cluster.
    batch_size: texts per actor call: small enough to spread a corpus over the pool, large enough that a call
        is mostly model time.
    in_flight: batches queued on an actor at once: 2 overlaps the next batch's transfer with the current one's
        embedding; more lets the first actor up hoard batches the others could take.
    """

    address: str | None = None
    num_cpus: int | None = None
    actors: int | None = None
    cpus_per_actor: float = 1.0
    batch_size: int = 128
    in_flight: int = 2

    def __post_init__(self) -> None:
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ValueError(f"num_cpus ({self.num_cpus}) must be >= 1")
        if self.actors is not None and self.actors < 1:
            raise ValueError(f"actors ({self.actors}) must be >= 1")
        if self.cpus_per_actor <= 0:
            raise ValueError(f"cpus_per_actor ({self.cpus_per_actor}) must be > 0")
        if self.batch_size < 1:
            raise ValueError(f"batch_size ({self.batch_size}) must be >= 1")
        if self.in_flight < 1:
            raise ValueError(f"in_flight ({self.in_flight}) must be >= 1")


def import_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or RayUnavailable (French) naming the pip command."""
    try:
        import ray
        import ray.data  # the extra is ray[data]: a bare ray lacks pyarrow
    except ImportError as exc:
        raise RayUnavailable(
            f"Ray n'est pas installé ({exc.name or 'ray'} introuvable) : l'option --ray demande l'extra ray, "
            f"installez-le avec `{RAY_INSTALL}` (ou `pip install 'reperes[ray]'`)."
        ) from exc
    return ray


class _Embedder:
    """The actor of the pool: builds the embedder once, then embeds the batches it is given.

    ``threads``: the CPUs Ray gives the actor; an ONNX encoder would otherwise start one thread per core of
    the machine in every actor, and the actors of one machine would fight over its cores."""

    def __init__(self, factory: EmbedderFactory, threads: int = 1) -> None:
        self.embeddings = factory()
        encoder = getattr(self.embeddings, "encoder", None)
        if encoder is not None and hasattr(encoder, "threads"):
            encoder.threads = threads

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        vectors = np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32).reshape(len(texts), -1)
        # Said per row: torch answered for a broken ONNX export in this actor (index.embeddings).
        approximate = np.full(len(texts), bool(getattr(self.embeddings, "approximate", False)))
        return {"position": batch["position"], "vector": vectors, "approximate": approximate}


class RayEmbeddings(Embeddings):
    """Embeddings whose ``embed_documents`` runs on a Ray cluster, vectors returned in input order.

    Ray starts (or is joined) on the first ``embed_documents``, so an index that is already current costs
    no Ray start. ``close()`` (or leaving the ``with`` block) shuts down the Ray this object started, and
    only that one: a Ray the caller started stays up.
    """

    # Passages per call the index builder should give at least (index.build reads it): each call starts a pool
    # of actors (about 10 s, one model load each), which a small corpus would pay twenty times over; a large one
    # is still cut in about twenty calls, each cached as it completes, so an interrupted ingest resumes.
    min_call_size = 4096

    def __init__(self, factory: EmbedderFactory, options: RayOptions | None = None) -> None:
        import_ray()  # the missing extra said now, before any work
        self.factory = factory
        self.options = options or RayOptions()
        self._local: Embeddings | None = None
        self._started = False
        self._approximate = False

    @property
    def approximate(self) -> bool:
        """Some vectors of the last ``embed_documents`` are stand-ins (see ``index.embeddings``: torch answering
        for a broken ONNX export, on an actor or here): ``index.build`` does not cache them."""
        return self._approximate or bool(getattr(self._local, "approximate", False))

    @classmethod
    def for_model(
        cls,
        model: str,
        home: Path,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        options: RayOptions | None = None,
    ) -> RayEmbeddings:
        """For a settings value, built in each actor exactly as ``make_embeddings`` builds it here."""
        return cls(functools.partial(make_embeddings, model, home, query_prompt, passage_prompt), options)

    @property
    def local(self) -> Embeddings:
        """The embedder on this machine (for queries). Built before the actors start: a missing bundled model
        is converted here (actors of a local Ray would otherwise wait for the first one's conversion)."""
        if self._local is None:
            self._local = self.factory()
        return self._local

    @property
    def passage_prompt(self) -> str:
        """The local embedder's: part of what identifies a cached vector (index/build.py), so the Ray path and
        the local one share the embedding cache."""
        return str(getattr(self.local, "passage_prompt", ""))

    def embed_query(self, text: str) -> list[float]:
        return self.local.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        self.local  # noqa: B018  (the model ready before the actors ask for it)
        ray = self._ray()
        from ray.data import ActorPoolStrategy, DataContext

        context = DataContext.get_current()
        # Ray Data's English bars and log lines stay off the user's terminal (they are in Ray's log folder):
        # the CLI draws its own French progress.
        context.enable_progress_bars = False
        context.enable_auto_log_stats = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        pool = self._pool_size(ray)
        # A call smaller than pool x batch_size is spread over the whole pool; no actor loads a model for nothing.
        batch = max(1, min(self.options.batch_size, math.ceil(len(texts) / pool)))
        actors = min(pool, math.ceil(len(texts) / batch))
        dataset = ray.data.from_items(
            [{"position": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=math.ceil(len(texts) / batch)
        ).map_batches(
            _Embedder,
            fn_constructor_args=(self.factory, max(1, math.floor(self.options.cpus_per_actor))),
            compute=ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=self.options.in_flight),
            batch_size=batch,
            batch_format="numpy",
            num_cpus=self.options.cpus_per_actor,
        )
        # Ray Data does not keep the input order across actors: each row carries its position back.
        vectors: np.ndarray | None = None
        seen = np.zeros(len(texts), dtype=bool)
        self._approximate = False
        try:
            for out in dataset.iter_batches(batch_format="numpy", batch_size=None):
                positions, rows = out["position"], np.asarray(out["vector"], dtype=np.float32)
                if vectors is None:
                    vectors = np.empty((len(texts), rows.shape[1]), dtype=np.float32)
                vectors[positions] = rows
                seen[positions] = True
                self._approximate = self._approximate or bool(np.any(out["approximate"]))
        except Exception as exc:  # an actor's error (a worker without the model…) arrives wrapped by Ray
            raise RayUnavailable(f"Le calcul des vecteurs sur Ray a échoué : {_actor_error(exc)}") from exc
        if vectors is None or not seen.all():
            raise RuntimeError(f"Ray returned {int(seen.sum())} vectors for {len(texts)} texts")
        return vectors.tolist()

    def _pool_size(self, ray: ModuleType) -> int:
        if self.options.actors is not None:
            return self.options.actors
        cpus = float(ray.cluster_resources().get("CPU", 1))
        return max(1, int(cpus // self.options.cpus_per_actor))

    def _ray(self) -> ModuleType:
        """Ray, started or joined once; RayUnavailable (French) when the cluster cannot be reached."""
        ray = import_ray()
        if ray.is_initialized():
            return ray
        address = self.options.address
        where = f"le cluster Ray {address}" if address else "Ray en local"
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level="WARNING")
            else:
                ray.init(
                    num_cpus=self.options.num_cpus or os.cpu_count() or 1,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level="WARNING",
                )
        except Exception as exc:  # unreachable head, bad address, no room for the object store…: a fix, not a traceback
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            fix = (
                "vérifiez l'adresse (ray://HÔTE:10001, ou auto sur une machine du cluster lancée par `ray start`)"
                if address
                else "vérifiez la mémoire libre et le dossier temporaire (RAY_TMPDIR)"
            )
            raise RayUnavailable(f"Impossible de démarrer {where} ({reason}) : {fix}.") from exc
        self._started = True
        return ray

    def close(self) -> None:
        """Shut down the Ray this object started (not one started by the caller)."""
        if self._started:
            import_ray().shutdown()
            self._started = False

    def __enter__(self) -> RayEmbeddings:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def _actor_error(exc: BaseException) -> str:
    """What went wrong in the actor: the message of the error its traceback ends with (ours are French and
    say the fix; Ray passes it on as text inside its own error), else the first line of Ray's error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for error in chain:
        raised = [m.group(2) for m in map(_RAISED.match, str(error).splitlines()) if m]
        if raised:
            return raised[-1].strip()[:400]
    for error in chain:
        if lines := [line for line in str(error).splitlines() if line.strip()]:
            return lines[0].strip()[:400]
    return type(exc).__name__
