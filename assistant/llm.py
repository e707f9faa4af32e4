"""The LLM answerer: a chat model writes the answer from numbered passages; every fact is then checked.

``LLMAnswerer(chat_model)`` has the answerer signature of ``assistant.chain`` (question, documents,
analysis) -> (text, citations, refused), so it replaces ``ComposingAnswerer`` in ``build_chain``.

1. The top passages are numbered [1]..[k] and quoted between ``<<<`` and ``>>>`` in the user message
   (``prompts/answer_fr.md``); the system message (``prompts/system_fr.md`` then
   ``prompts/citation_rules_fr.md``, one message: some chat templates accept a single system turn)
   says to answer only from them, cite ``[n]`` after each fact, treat passages and question as data,
   and start with "Les documents ne précisent pas" when they do not answer.
2. The output is cleaned: reasoning blocks and a model-written "Sources" list removed, ``[1, 2]``
   written ``[1][2]``, markers pointing to no passage removed.
3. ``grounding.check`` drops every sentence holding an e-mail, phone, web address, age range, amount
   or figure absent from the passages it cites (facts of the question excepted).
4. Refusal when the model says the documents do not answer, or when no cited sentence is left: the
   standard refusal (``prompts/refusal.md``) with the closest passages as leads.
5. Only the passages still cited become citations, and a "Sources :" line is appended.

What this guarantees against a passage that says "ignore the instructions…": the text is given to the
model as quoted data under rules that forbid following it, and no contact or figure absent from the
passages a sentence cites survives the check. It cannot stop the model from *repeating* a cited
passage's words: those stay attributed to their ``[n]``, visible to the counsellor.

Dropped sentences: the 3-tuple stays the answerer contract; the (sentence, reason) pairs of the last
call are in the context variable ``GROUNDING_DROPS``, read right after the call *in the same context*
(``GROUNDING_DROPS.get()``). LangChain runs each Runnable step in a copy of the context, so in
``build_chain`` it must be read inside the "answer" step, next to the answerer call, not after
``chain.invoke``. ``LLMAnswerer.run`` returns everything (``LLMAnswer``) for callers that prefer it.

Faults: when the endpoint cannot be reached, stays silent past ``REPERES_LLM_TIMEOUT_S``, answers an
HTTP error (after ``REPERES_LLM_RETRIES`` retries) or sends nothing readable, the answerer given as
``fallback`` (the service passes its composer) answers instead, after ``FALLBACK_NOTICE``. The counsellor
gets an answer from the documents and knows it was not written by the model; the server log gets one
line with the cause, never a traceback. Without a fallback, ``LLMError`` (French) is raised.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from assistant import grounding
from assistant.citations import make_citation
from assistant.compose import _source_label, _title
from assistant.records import Citation
from index.query import QueryAnalysis
from ingest.text import MARKER, fold
from prompts import load

REFUSAL_START = "Les documents ne précisent pas"
FALLBACK_NOTICE = "Le modèle de langue n'a pas répondu : réponse composée à partir des documents."
# (sentence, reason) pairs dropped by the grounding check during the last call in this context.
GROUNDING_DROPS: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("GROUNDING_DROPS", default=())
LLM_KINDS = ("openai", "llamacpp")

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_MARKER_LIST = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)+)\s*\]")
_MARKER_WORD = re.compile(r"\[\s*(?:passage|source|document|doc)\s*(\d+)\s*\]", re.IGNORECASE)
_MODEL_SOURCES = re.compile(r"^\W*Sources?\W*:", re.IGNORECASE | re.MULTILINE)

log = logging.getLogger(__name__)

# The answerer signature of ``assistant.chain`` (kept here: chain imports this module).
Fallback = Callable[[str, list[Document], QueryAnalysis | None], tuple[str, list[Citation], bool | str]]


class LLMError(RuntimeError):
    """The chat model failed (server unreachable, model missing…); the message is in French."""


@dataclass(frozen=True)
class LLMAnswer:
    """Everything one call produced: the answerer's 3-tuple, the dropped sentences and the raw output."""

    text: str
    citations: list[Citation]
    refused: bool | str  # refused, or (after a fallback) the fallback's outcome: a bool or the answer's kind
    dropped: list[tuple[str, str]]
    raw: str  # the model's output before cleaning and checking ("" when the model was not called)
    failure: str = ""  # why the model's answer was replaced by the fallback's ("" when it was not)


def render_passage(n: int, doc: Document) -> str:
    """``[n] (document, lignes a–b)`` then the passage text between ``<<<`` and ``>>>``.

    Delimiters inside the text are neutralised so a passage cannot close its quote and speak outside it.
    """
    body = re.sub(r">{3,}", "›››", re.sub(r"<{3,}", "‹‹‹", doc.page_content.strip()))
    return f"{_header(n, doc)}\n<<<\n{body}\n>>>"


def _header(n: int, doc: Document) -> str:
    m = doc.metadata
    document = m.get("meta_document") or m.get("source") or "document"
    page = f", p. {m['page']}" if m.get("page") else ""
    return f"[{n}] ({document}{page}, lignes {m.get('line_start', '?')}–{m.get('line_end', '?')})"


class LLMAnswerer:
    """Answers with a chat model from the top ``max_passages`` passages; see the module docstring."""

    def __init__(self, chat_model: BaseChatModel, max_passages: int = 6, fallback: Fallback | None = None) -> None:
        """``fallback``: answers when the model fails (see the module docstring); None raises LLMError instead."""
        if max_passages < 1:
            raise ValueError(f"max_passages ({max_passages}) doit être ≥ 1")
        self.max_passages = max_passages
        self.fallback = fallback
        system = load("system_fr") + "\n\n" + load("citation_rules_fr")
        # The system text is a message, not a template: its braces (if any) are never formatted.
        self.prompt = ChatPromptTemplate.from_messages([SystemMessage(content=system), ("human", load("answer_fr"))])
        self.chain = self.prompt | chat_model | StrOutputParser()

    def _inputs(self, question: str, docs: list[Document]) -> dict[str, str]:
        question = re.sub(r">{3,}", "›››", re.sub(r"<{3,}", "‹‹‹", question.strip()))
        passages = "\n\n".join(render_passage(n, doc) for n, doc in enumerate(docs[: self.max_passages], start=1))
        return {"question": question, "passages": passages}

    def messages(self, question: str, docs: list[Document]) -> list[BaseMessage]:
        """The messages sent to the model for this question (for inspection and tests)."""
        return self.prompt.format_messages(**self._inputs(question, docs))

    def __call__(
        self, question: str, docs: list[Document], analysis: QueryAnalysis | None = None
    ) -> tuple[str, list[Citation], bool | str]:
        GROUNDING_DROPS.set(())
        result = self.run(question, docs, analysis)
        GROUNDING_DROPS.set(tuple(result.dropped))
        return result.text, result.citations, result.refused

    def run(self, question: str, docs: list[Document], analysis: QueryAnalysis | None = None) -> LLMAnswer:
        """Answer ``question`` from ``docs`` (``analysis`` only reaches the fallback: the model reads the question)."""
        *_, result = self.stream(question, docs, analysis)
        assert isinstance(result, LLMAnswer)  # stream() always ends with the record
        return result

    def stream(self, question: str, docs: list[Document], analysis: QueryAnalysis | None = None) -> Iterator[str | LLMAnswer]:
        """The checked answer as it is written: each new piece (whole sentences, with the separator
        before it) once it has passed the grounding check, then the ``LLMAnswer`` record, last.

        A sentence is shown only when complete and checked, so nothing unsupported is ever on screen.
        The record's text is authoritative: a refusal (the model's, or nothing cited left) replaces
        whatever was shown.
        """
        numbered = dict(enumerate(docs[: self.max_passages], start=1))
        if not numbered:
            yield LLMAnswer(load("refusal"), [], True, [], "")
            return
        # The passage text only: its header's line and page numbers are not facts a sentence may use.
        support = {n: doc.page_content for n, doc in numbered.items()}
        state = _StreamState()

        def checked(piece: str) -> str | None:
            """The piece as shown (separator first), or None when nothing of it may be shown."""
            if not state.text and is_refusal(piece):
                state.refusing = True
            if state.refusing or state.ended:
                return None
            body, state.ended = _until_sources(piece)
            result = grounding.check(clean(body, set(numbered)), support, question)
            state.dropped += result.dropped
            before = state.tail
            # The whitespace since the last shown piece, a dropped piece's included ("\n\n" wins).
            state.tail = (state.tail if not result.text else "") + piece[len(piece.rstrip()) :]
            if not result.text:
                return None
            shown = (_separator(before) if state.text else "") + result.text
            state.text += shown
            return shown

        try:
            for token in self.chain.stream(self._inputs(question, docs)):
                state.raw += token
                # Whole sentences only, outside reasoning blocks; the marker after a full stop stays
                # with its sentence ("… 25 ans. [1]"): a boundary needs the next word to have begun.
                visible = _THINK.sub("", state.raw)[state.consumed :]
                if "<think>" in visible.lower():
                    continue
                cut = _last_boundary(visible)
                # Only once a marker has come: a sentence without one is checked against the passages
                # its neighbour cites, as a whole answer would be ("… 16 à 25 ans. Durée 6 mois [1].").
                if cut is not None and MARKER.search(visible[:cut]):
                    state.consumed += cut
                    if (shown := checked(visible[:cut])) is not None:
                        yield shown
        except Exception as exc:  # any client error: connection, timeout, HTTP status, bad JSON, missing model…
            if self.fallback is None:
                raise LLMError(f"Le modèle de langage n'a pas pu répondre : {exc}") from exc
            yield self._fall_back(question, docs, analysis, _failure(exc), state.raw)
            return
        if not state.raw.strip():  # a 200 with nothing readable in it (not a stream, an empty message)
            if self.fallback is None:
                raise LLMError("Le modèle de langage n'a rien répondu de lisible.")
            yield self._fall_back(question, docs, analysis, "réponse vide ou illisible", state.raw)
            return
        rest = _THINK.sub("", state.raw)[state.consumed :]
        if rest.strip() and (shown := checked(rest)) is not None:
            yield shown
        text = state.text.strip()
        used = sorted({int(n) for n in MARKER.findall(text)} & set(numbered))
        if state.refusing or not used:  # the model's refusal, or nothing cited left: nothing grounded
            yield self._refusal(question, numbered, state.dropped, state.raw)
            return
        citations = [make_citation(n, question, numbered[n]) for n in used]
        yield LLMAnswer(f"{text}\n\n{_sources(numbered, citations)}", citations, False, state.dropped, state.raw)

    def _fall_back(
        self, question: str, docs: list[Document], analysis: QueryAnalysis | None, failure: str, raw: str
    ) -> LLMAnswer:
        """The fallback's answer after ``FALLBACK_NOTICE`` (what was shown of the model's is replaced)."""
        assert self.fallback is not None
        log.warning("Modèle de langage indisponible (%s) : réponse composée à partir des documents.", failure)
        text, citations, outcome = self.fallback(question, docs, analysis)
        return LLMAnswer(f"{FALLBACK_NOTICE}\n\n{text}", citations, outcome, [], raw, failure)

    def _refusal(self, question: str, numbered: dict[int, Document], dropped: list[tuple[str, str]], raw: str) -> LLMAnswer:
        leads = list(numbered.items())[:2]
        citations = [make_citation(n, question, doc) for n, doc in leads]
        lines = [
            load("refusal"),
            "Passages les plus proches :\n"
            + "\n".join(f"- **{_title(doc) or doc.metadata['source']}** [{n}]" for n, doc in leads),
            _sources(numbered, citations),
        ]
        return LLMAnswer("\n\n".join(lines), citations, True, dropped, raw)


def _failure(exc: BaseException) -> str:
    """One line on why the model failed, for the log (the class says more than many messages: APITimeoutError)."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _sources(numbered: dict[int, Document], citations: list[Citation]) -> str:
    return "Sources : " + " · ".join(f"[{c.n}] {_source_label(numbered[c.n], c)}" for c in citations)


# A sentence boundary: end punctuation then a space and the start of the next word (not a marker),
# or a blank line.
_BOUNDARY = re.compile(r"(?<=[.!?])[ \t]+(?=[^\s\[])|\n\s*\n(?=\S)")


def _last_boundary(text: str) -> int | None:
    """Index after the last complete sentence of ``text`` (None when none is complete yet)."""
    ends = [m.end() for m in _BOUNDARY.finditer(text)]
    return ends[-1] if ends else None


def _until_sources(text: str) -> tuple[str, bool]:
    """``text`` up to a model-written "Sources :" list (ours replaces it), and whether it was found."""
    found = _MODEL_SOURCES.search(text)
    return (text[: found.start()], True) if found else (text, False)


def _separator(whitespace: str) -> str:
    """The model's separator between two pieces, kept: a paragraph break, a line break or a space."""
    return "\n\n" if whitespace.count("\n") >= 2 else "\n" if "\n" in whitespace else " "


@dataclass
class _StreamState:
    raw: str = ""  # everything the model wrote
    consumed: int = 0  # characters of the visible text (reasoning removed) already cut into pieces
    text: str = ""  # what was shown
    tail: str = ""  # the whitespace that ended the last shown piece
    dropped: list[tuple[str, str]] = field(default_factory=list)
    refusing: bool = False
    ended: bool = False  # the model's own "Sources :" list began


def clean(raw: str, known: set[int]) -> str:
    """The model's answer without reasoning blocks nor its own "Sources" list; markers normalised,
    those pointing to no passage (not in ``known``) removed."""
    text = _THINK.sub("", raw)
    sources = list(_MODEL_SOURCES.finditer(text))
    if sources:  # the model's own list (the last one): ours replaces it
        text = text[: sources[-1].start()]
    text = _MARKER_WORD.sub(r"[\1]", text)
    text = _MARKER_LIST.sub(lambda m: "".join(f"[{n}]" for n in re.split(r"\s*[,;]\s*", m.group(1))), text)
    text = re.sub(r"\s*\[(\d+)\]", lambda m: m.group(0) if int(m.group(1)) in known else "", text)
    return text.strip()


def is_refusal(text: str) -> bool:
    """True when the answer starts with "Les documents ne précisent pas" (accents, case, quotes and bold aside)."""
    return fold(text.lstrip(" \t\n*_«\"'>")).startswith(fold(REFUSAL_START))


def make_chat_model(
    kind: str,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    gguf_path: str | None = None,
    timeout_s: float = 20.0,
    retries: int = 1,
) -> BaseChatModel:
    """The chat model named by the settings (REPERES_LLM, REPERES_LLM_BASE_URL, REPERES_LLM_MODEL,
    REPERES_LLM_API_KEY, REPERES_LLM_GGUF, REPERES_LLM_TIMEOUT_S, REPERES_LLM_RETRIES).

    ``timeout_s`` bounds each wait on the endpoint (connecting, then each piece of the streamed answer:
    a long answer still streams as long as it keeps coming); ``retries`` failed calls are retried by the
    client (connection error, timeout, 429, 5xx), with its short backoff. A local GGUF has neither.

    - "openai": any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, OpenAI…) through
      ``langchain-openai``; without an API key and with a ``base_url`` (a local server), a placeholder
      key is sent.
    - "llamacpp": a local GGUF file through ``langchain-community`` and ``llama-cpp-python``.

    Raises ValueError (in French) for an unknown kind, a missing package or a missing setting.
    """
    if not timeout_s > 0:
        raise ValueError(f"REPERES_LLM_TIMEOUT_S ({timeout_s}) doit être un nombre de secondes > 0")
    if retries < 0:
        raise ValueError(f"REPERES_LLM_RETRIES ({retries}) doit être ≥ 0")
    name = (kind or "").strip().lower()
    if name == "openai":
        try:
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr
        except ImportError as exc:
            raise ValueError(
                "REPERES_LLM=openai demande le paquet langchain-openai, absent : pip install langchain-openai"
            ) from exc
        if not model:
            raise ValueError("REPERES_LLM_MODEL est requis avec REPERES_LLM=openai : le nom du modèle servi.")
        key = api_key or ("sans-cle" if base_url else None)  # local servers ignore the key but the client wants one
        return ChatOpenAI(
            base_url=base_url,
            model=model,
            api_key=SecretStr(key) if key else None,
            temperature=0,
            timeout=timeout_s,
            max_retries=retries,
        )
    if name == "llamacpp":
        try:
            from langchain_community.chat_models import ChatLlamaCpp
        except ImportError as exc:
            raise ValueError(
                "REPERES_LLM=llamacpp demande les paquets langchain-community et llama-cpp-python, absents : "
                "pip install langchain-community llama-cpp-python"
            ) from exc
        if not gguf_path or not Path(gguf_path).is_file():
            raise ValueError(f"REPERES_LLM_GGUF doit être le chemin d'un fichier .gguf existant (reçu : {gguf_path!r}).")
        try:
            chat: BaseChatModel = ChatLlamaCpp(model_path=gguf_path, temperature=0)
        except ImportError as exc:
            raise ValueError(
                "REPERES_LLM=llamacpp demande le paquet llama-cpp-python, absent : pip install llama-cpp-python"
            ) from exc
        return chat
    accepted = " ou ".join(f"« {k} »" for k in LLM_KINDS)
    raise ValueError(
        f"REPERES_LLM={kind!r} inconnu : valeurs acceptées : {accepted} "
        "(« openai » : serveur compatible OpenAI ; « llamacpp » : fichier GGUF local)."
    )
