"""The encoder in ONNX Runtime: the weights of the sentence-transformers folder, exported once beside them,
fused and quantised to int8, so questions and passages are embedded without torch.

Why: a one-question `reperes ask` spent most of its time importing torch and loading the model for one short
text, and an ingest embedded the bundled corpus at about 4 passages a second with torch on 2 cores. The int8
graph's session loads in about 0.2 s (118 MB instead of 470; the tokenizer takes another second, see
``index.prefetch``), embeds a question in about 7.5 ms and passages at 20-24 a second (numbers in the README).

The exported graph is the whole encoding stack (transformer, mean pooling over the attention mask, L2
normalise). The export traces the model with eager attention (so ONNX Runtime's BERT optimiser can fuse
attention, LayerNorm and GELU), fuses it, then quantises its weights to int8 per channel (MatMul, attention,
embedding table); activations are quantised at run time. It is checked against the torch model at export
(cosine >= MIN_COSINE on questions and passages of several lengths); a file that is missing, damaged or from
another export is never used.

int8 vectors are not torch's (cosine 0.997 on average, 0.992 at least, over the bundled corpus and the dev
questions), so they define the model's vectors:
``index.embeddings.model_fingerprint`` names this export, and an index or cache of another one is rebuilt.
Each text runs alone: dynamic quantisation scales activations over a whole call, so a text batched with
others would get a vector that depends on its neighbours (and the embedding cache keys vectors by text).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ENCODER_ONNX = "encoder.onnx"
ENCODER_INFO = "encoder.json"  # what was exported (size, check): the file is trusted only if it matches
LEGACY_FILES = ("query-encoder.onnx", "query-encoder.json")  # export 1 (fp32, questions only): removed by export 2
# 2: int8, fused, questions and passages. A bump re-exports every folder and (through the model fingerprint)
# rebuilds every index and embedding cache made with the previous export.
EXPORT_VERSION = 2
PRECISION = "int8"
# Per-channel int8 keeps cosine >= 0.992 to torch on every passage and question of the bundled corpus and dev
# set (per tensor: 0.975); the bar is 0.99.
MIN_COSINE = 0.99
OPSET = 17
# Quantised to int8: the projections, the fused attention's weights and the embedding table (96M of the
# 118M weights: the file goes from 470 MB to 118 MB, what a cold start reads).
QUANTISED_OPS = ("MatMul", "Attention", "EmbedLayerNormalization", "Gather")
_CHECK_QUERIES = (
    "quelle action pour un décrocheur de 17 ans à Loos ?",
    "permis",
    "Un jeune de 22 ans, sans diplôme, cherche une formation qualifiante dans le numérique à Valenciennes.",
)
_CHECK_PASSAGE = (  # the shape of an action card (title, porteur, public), not one of the corpus's
    "ATELIER DÉCOUVERTE\n\nPorteur de l’action : une association de quartier. Pour les jeunes de 16 à 25 ans sans "
    "emploi ni formation, sur tout le territoire de la métropole."
)

log = logging.getLogger(__name__)


def _info(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / ENCODER_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def encoder_ready(folder: Path) -> bool:
    """An export of this version whose file has the size recorded when it was checked."""
    info = _info(folder)
    try:
        size = (folder / ENCODER_ONNX).stat().st_size
    except OSError:
        return False
    return bool(info) and info.get("version") == EXPORT_VERSION and info.get("size") == size  # type: ignore[union-attr]


def recorded_max_length(folder: Path) -> int | None:
    """The truncation length recorded at export (None when absent or not a positive integer)."""
    value = (_info(folder) or {}).get("max_length")
    return value if isinstance(value, int) and value > 0 else None


def export_failed(folder: Path) -> bool:
    """This version's export failed in ``folder`` (the reason was logged then): not retried at every process
    start (it costs tens of seconds and imports torch). An export that succeeded but whose file is now missing
    or damaged is not a failure: it is exported again."""
    info = _info(folder)
    return bool(info) and info.get("version") == EXPORT_VERSION and "failed" in info  # type: ignore[operator,union-attr]


def _failed(folder: Path, reason: str) -> bool:
    from index.atomic import write_text_atomic

    with contextlib.suppress(OSError):  # a read-only model folder: tried again next time, torch serves meanwhile
        write_text_atomic(folder / ENCODER_INFO, json.dumps({"version": EXPORT_VERSION, "failed": reason[:300]}, indent=2) + "\n")
    return False


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """ONNX Runtime's optimiser and quantiser log English advice (some through the root logger, which would
    configure it): not for the user, and not a reason to touch the process' logging."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)  # a handler present: logging.warning() does not call basicConfig
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
        root.removeHandler(guard)


def export_encoder(folder: Path, query_prompt: str = "query: ", passage_prompt: str = "passage: ") -> bool:
    """Export the encoding stack of the sentence-transformers model in ``folder`` to int8 ONNX beside it
    (atomically), checked against torch. Returns False (and logs why) when it cannot: torch then serves."""
    try:
        return _export(folder, query_prompt, passage_prompt)
    except Exception as exc:  # an optimisation: never a reason to fail setup
        log.warning("ONNX encoder not exported (%s): questions and passages go through torch", exc)
        return _failed(folder, f"{type(exc).__name__}: {exc}")


def _export(folder: Path, query_prompt: str, passage_prompt: str) -> bool:
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from index.e5_convert import CHECK_SENTENCES, load_kwargs

    hf_logging.disable_progress_bar()  # its English bars are not for the user
    kwargs = load_kwargs()
    # Eager attention traces to the MatMul/Softmax pattern the BERT optimiser fuses; SDPA's graph is not fused.
    kwargs["model_kwargs"] = {**kwargs.get("model_kwargs", {}), "attn_implementation": "eager"}
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, **kwargs)
    modules = list(model)
    if [type(m).__name__ for m in modules[1:]] != ["Pooling", "Normalize"] or not hasattr(modules[0], "auto_model"):
        log.info("No ONNX encoder for %s: not a transformer + mean pooling + normalise stack", folder)
        return _failed(folder, "not a transformer + mean pooling + normalise stack")
    transformer: Any = modules[0].auto_model
    transformer.eval()
    max_length = model.max_seq_length
    if not isinstance(max_length, int) or max_length < 1:
        return _failed(folder, f"no usable max_seq_length ({max_length!r})")

    class EncoderStack(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, ids: Any, mask: Any) -> Any:
            hidden = self.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    # Questions, passages of a few words to a card, and one past the truncation length (571 tokens: the export
    # must truncate as torch does). Natural text: a line repeated 40 times drifts further (cosine 0.989).
    passages = [_CHECK_PASSAGE, *CHECK_SENTENCES, " ".join(CHECK_SENTENCES * 3)]
    texts = [query_prompt + t for t in _CHECK_QUERIES] + [passage_prompt + t for t in passages]
    sample = model.tokenizer([texts[0]], return_tensors="pt")
    config = transformer.config
    # Work files (470 MB each) in the model folder, so the final rename stays on one file system.
    with tempfile.TemporaryDirectory(prefix=".encoder-export.", dir=folder) as work:
        traced, fused, quantised = (Path(work) / name for name in ("fp32.onnx", "fused.onnx", "int8.onnx"))
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's tracer warnings mean nothing to a user
            torch.onnx.export(
                EncoderStack(),
                (sample["input_ids"], sample["attention_mask"]),
                str(traced),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=OPSET,
                dynamo=False,
            )
        with _quiet():
            optimised = optimizer.optimize_model(
                str(traced),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=0,
            )
            fusions = {k: v for k, v in optimised.get_fused_operator_statistics().items() if v}
            optimised.save_model_to_file(str(fused))
            traced.unlink()
            quantize_dynamic(
                str(fused),
                str(quantised),
                op_types_to_quantize=list(QUANTISED_OPS),
                per_channel=True,
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # types the fused ops leave unknown
            )
        expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        got = OnnxEncoder(folder, max_length, path=quantised).encode(texts)
        cosine = float(np.min(np.sum(expected * got, axis=1)))
        if cosine < MIN_COSINE:
            log.warning("ONNX encoder rejected (cosine %.6f < %s): questions and passages go through torch", cosine, MIN_COSINE)
            return _failed(folder, f"cosine {cosine:.6f} < {MIN_COSINE}")
        os.replace(quantised, folder / ENCODER_ONNX)
    info = {
        "version": EXPORT_VERSION,
        "precision": PRECISION,
        "opset": OPSET,
        "size": (folder / ENCODER_ONNX).stat().st_size,
        "max_length": max_length,  # the truncation sentence-transformers applies
        "min_cosine": cosine,
        "fusions": fusions,
    }
    from index.atomic import write_text_atomic

    write_text_atomic(folder / ENCODER_INFO, json.dumps(info, indent=2) + "\n")
    for name in LEGACY_FILES:  # the fp32 questions-only export (470 MB) is no longer read
        with contextlib.suppress(OSError):
            (folder / name).unlink()
    return True


class OnnxEncoder:
    """Texts (prompt included) -> normalised vectors, by ONNX Runtime over the exported encoding stack.

    Each text runs alone (see the module's docstring): a text's vector never depends on the texts beside it,
    and there is no padding to compute. Texts run in parallel, ``threads`` at a time, each on one thread: one
    text is too small to share well between cores (on 2 busy cores, ONNX Runtime's two threads per text embed
    passages at half the rate of one, and a question takes 7 ms instead of 3.4), texts side by side are not.
    ``threads``: None is one per CPU this process may use; set it before the first ``encode``."""

    def __init__(self, folder: Path, max_length: int, path: Path | None = None, threads: int | None = None) -> None:
        if max_length < 1:
            raise ValueError(f"max_length ({max_length}) must be >= 1")
        if threads is not None and threads < 1:
            raise ValueError(f"threads ({threads}) must be >= 1")
        self.folder = folder
        self.path = path or folder / ENCODER_ONNX
        self.max_length = max_length
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime
                    from tokenizers import Tokenizer

                    tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                    tokenizer.enable_truncation(self.max_length)
                    tokenizer.no_padding()
                    options = onnxruntime.SessionOptions()
                    options.log_severity_level = 3  # errors only: its warnings are about graph details
                    options.intra_op_num_threads = 1  # one thread per text; texts run side by side (encode)
                    options.inter_op_num_threads = 1
                    self._tokenizer = tokenizer
                    self._session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def _workers(self, texts: int) -> int:
        if self.threads is not None:
            return min(self.threads, texts)
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not Linux
            cpus = os.cpu_count() or 1
        return max(1, min(cpus, texts))

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        session, tokenizer = self._load()

        def run(encoded: Any) -> np.ndarray:
            ids = np.asarray([encoded.ids], dtype=np.int64)
            (vector,) = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            return np.asarray(vector[0], dtype=np.float32)

        encodings = tokenizer.encode_batch(list(texts))
        workers = self._workers(len(encodings))
        if workers == 1:
            return np.stack([run(e) for e in encodings])
        from concurrent.futures import ThreadPoolExecutor

        # ONNX Runtime's run is thread-safe and releases the GIL: the texts share the cores, in input order.
        # Longest first, so the pool does not end on one long text while the other threads idle.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids), reverse=True)
        rows: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(encodings)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i, vector in zip(order, pool.map(run, [encodings[i] for i in order]), strict=True):
                rows[i] = vector
        return np.stack(rows)


def _encode_stdin(argv: list[str]) -> int:
    """``python -m index.onnx_query FOLDER MAX_LENGTH``: texts (a JSON list, prompts included, on stdin) ->
    their vectors (a JSON list of lists on stdout). The question prefetch's child (``index.prefetch``)."""
    import sys

    folder, max_length = Path(argv[0]), int(argv[1])
    texts = json.loads(sys.stdin.buffer.read())
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ValueError("stdin: a JSON list of texts expected")
    vectors = OnnxEncoder(folder, max_length, threads=1).encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    sys.stdout.write(json.dumps([[float(x) for x in row] for row in vectors]))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_encode_stdin(sys.argv[1:]))
