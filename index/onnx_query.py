"""The question encoder in ONNX Runtime: the same weights as the sentence-transformers folder, exported once
beside them, so a question is embedded without importing torch or sentence-transformers.

Why: a one-question `reperes ask` spent about 9 of its 14 s importing torch and sentence-transformers and
loading the model, for one short text; ONNX Runtime and tokenizers import in 0.2 s, and a question takes about
half the time it takes torch. Passages (ingest) still go through sentence-transformers: batches of long texts,
where torch is as fast, and the index's vectors stay what they were.

The exported graph is the whole query stack (transformer, mean pooling over the attention mask, L2 normalise),
checked at export against the torch model (cosine >= MIN_COSINE on texts of several lengths); a file that is
missing, damaged or from another export is never used: the caller falls back to torch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

QUERY_ONNX = "query-encoder.onnx"
QUERY_INFO = "query-encoder.json"  # what was exported (size, opset, check): the file is trusted only if it matches
EXPORT_VERSION = 1
MIN_COSINE = 0.99999
OPSET = 17
_CHECK_TEXTS = (
    "quelle action pour un décrocheur de 17 ans à Loos ?",
    "permis",
    "Un jeune de 22 ans, sans diplôme, cherche une formation qualifiante dans le numérique à Valenciennes.",
)

log = logging.getLogger(__name__)


def _info(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / QUERY_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def query_encoder_ready(folder: Path) -> bool:
    """An export of this version whose file has the size recorded when it was checked."""
    info = _info(folder)
    try:
        size = (folder / QUERY_ONNX).stat().st_size
    except OSError:
        return False
    return bool(info) and info.get("version") == EXPORT_VERSION and info.get("size") == size  # type: ignore[union-attr]


def recorded_max_length(folder: Path) -> int | None:
    """The truncation length recorded at export (None when absent or not a positive integer)."""
    value = (_info(folder) or {}).get("max_length")
    return value if isinstance(value, int) and value > 0 else None


def export_attempted(folder: Path) -> bool:
    """This version's export was tried in ``folder`` (done, or failed for a reason logged then): not retried at
    every process start (it costs about 8 s and imports torch)."""
    info = _info(folder)
    return bool(info) and info.get("version") == EXPORT_VERSION  # type: ignore[union-attr]


def _failed(folder: Path, reason: str) -> bool:
    from index.atomic import write_text_atomic

    with contextlib.suppress(OSError):  # a read-only model folder: tried again next time, torch serves meanwhile
        write_text_atomic(folder / QUERY_INFO, json.dumps({"version": EXPORT_VERSION, "failed": reason[:300]}, indent=2) + "\n")
    return False


def export_query_encoder(folder: Path, query_prompt: str = "query: ") -> bool:
    """Export the query stack of the sentence-transformers model in ``folder`` to ONNX beside it (atomically),
    checked against torch. Returns False (and logs why) when it cannot: the torch path then serves."""
    try:
        return _export(folder, query_prompt)
    except Exception as exc:  # an optimisation: never a reason to fail setup
        log.warning("ONNX query encoder not exported (%s): questions go through torch", exc)
        return _failed(folder, f"{type(exc).__name__}: {exc}")


def _export(folder: Path, query_prompt: str) -> bool:
    import torch
    from sentence_transformers import SentenceTransformer

    from index.e5_convert import load_kwargs

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, **load_kwargs())
    modules = list(model)
    if [type(m).__name__ for m in modules[1:]] != ["Pooling", "Normalize"] or not hasattr(modules[0], "auto_model"):
        log.info("No ONNX query encoder for %s: not a transformer + mean pooling + normalise stack", folder)
        return _failed(folder, "not a transformer + mean pooling + normalise stack")
    transformer: Any = modules[0].auto_model
    transformer.eval()
    max_length = model.max_seq_length
    if not isinstance(max_length, int) or max_length < 1:
        return _failed(folder, f"no usable max_seq_length ({max_length!r})")

    class QueryStack(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, ids: Any, mask: Any) -> Any:
            hidden = self.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = model.tokenizer([query_prompt + _CHECK_TEXTS[0]], return_tensors="pt")
    fd, tmp = tempfile.mkstemp(prefix=f".{QUERY_ONNX}.", dir=folder)
    os.close(fd)
    try:
        import warnings

        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's tracer warnings mean nothing to a user
            torch.onnx.export(
                QueryStack(),
                (sample["input_ids"], sample["attention_mask"]),
                tmp,
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=OPSET,
                dynamo=False,
            )
        expected = model.encode(
            [query_prompt + t for t in _CHECK_TEXTS], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        got = OnnxQueryEncoder(folder, max_length, path=Path(tmp)).encode([query_prompt + t for t in _CHECK_TEXTS])
        cosine = float(np.min(np.sum(expected * got, axis=1)))
        if cosine < MIN_COSINE:
            log.warning("ONNX query encoder rejected (cosine %.6f < %s): questions go through torch", cosine, MIN_COSINE)
            return _failed(folder, f"cosine {cosine:.6f} < {MIN_COSINE}")
        os.replace(tmp, folder / QUERY_ONNX)
        info = {
            "version": EXPORT_VERSION,
            "opset": OPSET,
            "size": (folder / QUERY_ONNX).stat().st_size,
            "max_length": max_length,  # the truncation sentence-transformers applies
            "min_cosine": cosine,
        }
        from index.atomic import write_text_atomic

        write_text_atomic(folder / QUERY_INFO, json.dumps(info, indent=2) + "\n")
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


class OnnxQueryEncoder:
    """Texts (prompt included) -> normalised vectors, by ONNX Runtime over the exported query stack."""

    def __init__(self, folder: Path, max_length: int, path: Path | None = None) -> None:
        if max_length < 1:
            raise ValueError(f"max_length ({max_length}) must be >= 1")
        self.folder = folder
        self.path = path or folder / QUERY_ONNX
        self.max_length = max_length
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
                    pad = tokenizer.token_to_id("<pad>")
                    tokenizer.enable_padding(pad_id=pad if pad is not None else 0, pad_token="<pad>")
                    options = onnxruntime.SessionOptions()
                    options.log_severity_level = 3  # errors only: its warnings are about graph details
                    self._tokenizer = tokenizer
                    self._session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        session, tokenizer = self._load()
        encoded = tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        (vectors,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)
