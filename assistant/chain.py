"""The retrieval chain: question -> retriever -> answerer -> Answer, as a LangChain Runnable.

Built from its parts (``build_chain``) so the CLI, the web app and tests share one path and
tests can pass fakes.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from assistant.citations import referenced
from assistant.compose import PISTES, asks_contact, has_contact
from assistant.llm import GROUNDING_DROPS
from assistant.records import ANSWER, OUT_OF_SCOPE, Answer, Citation, Piste, Retrieved
from index.query import Filters, QueryAnalysis, in_context, leans_on_previous, ordinal, picked_by, with_filters
from index.query import analyse as analyse_question
from ingest.text import fold_words
from ingest.texting import written_out

# (question, retrieved documents, what was understood of the question) -> (text, citations, outcome): the
# outcome is ``refused`` (a bool) or the answer's kind (one of ``assistant.records.ANSWER_KINDS``).
Answerer = Callable[[str, list[Document], QueryAnalysis], tuple[str, list[Citation], bool | str]]


def _retrieved(doc: Document) -> Retrieved:
    m = doc.metadata
    return Retrieved(
        source=str(m["source"]),
        line_start=int(m["line_start"]),
        line_end=int(m["line_end"]),
        score=float(m.get("score", 0.0)),
        title=str(m.get("title", "")),
        chunk_id=str(m.get("chunk_id", doc.id or "")),
        why=m.get("why"),
    )


def build_chain(retriever: BaseRetriever, answerer: Answerer, referee: Answerer | None = None) -> Runnable[Any, Answer]:
    """A Runnable taking a question (str, or {"question", "history", "filters"}) and returning an ``Answer``.

    ``filters`` (a ``Filters``, or a dict of its fields) is the chat's filters panel: it completes what
    the question says about the person.

    Args:
        retriever: any LangChain retriever whose documents carry the provenance keys
            (source, line_start, line_end, title, page, score).
        answerer: (question, documents, analysis) -> (text, citations, refused).
        referee: the answerer replayed on the previous question to learn what a follow-up such as
            "tu as un contact ?" is about (default: ``answerer``; pass a cheap one when it is an LLM).
    """
    steps = _Steps(retriever, answerer, referee or answerer)
    return RunnableLambda(steps.retrieve).with_config(run_name="retrieve") | RunnableLambda(steps.answer).with_config(
        run_name="answer"
    )


def build_stream(retriever: BaseRetriever, answerer: Answerer, referee: Answerer | None = None) -> Runnable[Any, Any]:
    """The same chain for the chat: ``.stream(request)`` yields the answer's new text as it is written
    (str pieces: the composer's sections, an LLM's checked sentences), then the ``Answer``, last.

    The ``Answer``'s text is authoritative: a refusal decided at the end replaces what was shown.
    """
    steps = _Steps(retriever, answerer, referee or answerer)
    return RunnableLambda(steps.retrieve).with_config(run_name="retrieve") | RunnableGenerator(steps.answer_stream).with_config(
        run_name="answer"
    )


def _outcome(outcome: bool | str) -> tuple[bool, str]:
    """(refused, kind) of an answerer's outcome: a bool (refused or not) or the answer's kind."""
    if isinstance(outcome, str):
        return outcome != ANSWER, outcome
    return outcome, ""


class _Steps:
    """The chain's steps: analysis and retrieval (with follow-ups and filters), then the answer."""

    def __init__(self, retriever: BaseRetriever, answerer: Answerer, referee: Answerer) -> None:
        self.retriever, self.answerer, self.referee = retriever, answerer, referee

    def referent(
        self,
        history: list[str],
        filters: Filters | None = None,
        depth: int = 0,
        focused: bool = False,
        pick: int = 0,
        contact: bool = False,
        feature: frozenset[str] = frozenset(),
    ) -> tuple[str, ...]:
        """The chunks the answer to the last earlier question showed first (what "it" is): its first two
        citations, so "tu as un contact ?" finds one when the first piste has none (``contact``: the first two
        that give a contact, when the new question asks for one). ``focused``: only when that answer was about
        one or two passages (a contact, a fact), not a list of pistes: "et s'il habitait Mons ?" after a list
        asks what fits the new person, not about the first pistes. ``feature``: the words a follow-up points at
        one piste by ("celle avec les clubs de sport"): the shown passage holding most of them."""
        if not history or depth > 2:
            return ()
        question, earlier = history[-1], history[:-1]
        text, analysis = in_context(question, earlier)
        analysis = with_filters(analysis, filters)  # replayed as it was shown: with the filters panel
        moved = analyse_question(question).has_person  # replayed as ``retrieve`` ran it
        before = self.referent(earlier, filters, depth + 1, focused=moved) if earlier and leans_on_previous(question) else ()
        docs = self.retriever.invoke(text, analysis=analysis, referents=before)
        _text, citations, outcome = self.referee(question, docs, analysis)
        refused, kind = _outcome(outcome)
        if refused and not kind and before:
            # "c'est combien ?" of the earlier answer's action, not stated: the next follow-up ("et le contact
            # ?") is still about that action.
            return before
        if refused or (focused and len(citations) > 2):
            return ()
        # Citations are numbered in the order the answer uses them: [1] and [2] are what it showed first
        # ("la troisième" asks for [3]: ``pick``).
        shown = [c.chunk_id for c in sorted(citations, key=lambda c: c.n) if c.chunk_id]
        if feature and not pick:
            texts = {str(d.metadata.get("chunk_id")): d.page_content for d in docs}
            held = {i: len(feature & {w[:5] for w in fold_words(texts.get(i, "")).split()}) for i in shown}
            best = max(shown, key=lambda i: held[i], default=None)
            if best is not None and held[best] > 0:
                return (best,)
        if contact and not pick:
            reachable = {str(d.metadata.get("chunk_id")) for d in docs if has_contact(d)}
            if shown and shown[0] not in reachable:
                # The first piste gives no one to reach: the first ones that do (stable: the answer's order).
                shown = sorted(shown, key=lambda i: i not in reachable)
            if len(shown) > 2 and shown[0] in reachable:
                # "et le contact ?" after a list of pistes: the first one's, not its neighbour's too.
                return (shown[0],)
        return (shown[pick - 1],) if pick and len(shown) >= pick else tuple(shown[:2])

    def retrieve(self, request: str | dict[str, Any]) -> dict[str, Any]:
        question, history = (request, []) if isinstance(request, str) else (request["question"], request.get("history") or [])
        if not question or not question.strip():
            raise ValueError("La question est vide : tapez une question.")
        if not any(c.isalnum() or unicodedata.category(c) == "So" for c in question):
            # "?!?...;;": nothing to read (an emoji still says something: "👶🏠❓" gets a request for details).
            raise ValueError(
                "La question ne contient aucun mot : tapez une question en toutes lettres, par exemple "
                "« Quelle action pour un décrocheur de 17 ans à Loos ? »."
            )
        start = time.perf_counter()
        # "g 1 jeune de 17a ki a lach l'ecole": every reading below is written for French as the documents
        # write it; the shorthand is written out once, here (the record keeps the question as typed).
        asked, question, history = question, written_out(question), [written_out(h) for h in history]
        # Once: the retriever filters with it, the answer shows it. A follow-up ("et s'il a 19 ans ?")
        # carries the earlier questions' person and subject.
        text, analysis = in_context(question, history)
        given = None if isinstance(request, str) else request.get("filters")
        filters = Filters(**given) if isinstance(given, dict) else given
        analysis = with_filters(analysis, filters)
        # "tu as un contact ?", "c'est pour quel âge ?": about what the previous answer showed first.
        # "et s'il habitait Mons ?" changes the person: the search runs again for the same need, without
        # pinning what suited the earlier person.
        moved = analyse_question(question).has_person
        referents = (
            self.referent(
                list(history),
                filters,
                focused=moved,
                pick=ordinal(question),
                contact=asks_contact(question),
                feature=picked_by(question),
            )
            if history and leans_on_previous(question)
            else ()
        )
        docs = self.retriever.invoke(text, analysis=analysis, referents=referents)
        return {
            "question": question,
            "asked": asked,
            "docs": docs,
            "analysis": analysis,
            "retrieve_ms": (time.perf_counter() - start) * 1000,
        }

    def answer(self, state: dict[str, Any]) -> Answer:
        start = time.perf_counter()
        GROUNDING_DROPS.set(())  # an LLM answerer records here the sentences its grounding check removed
        PISTES.set(())  # the composer records here a person answer's pistes in fields (the chat's cards)
        text, citations, refused = self.answerer(state["question"], state["docs"], state["analysis"])
        return self._record(state, text, citations, refused, GROUNDING_DROPS.get(), start, PISTES.get())

    def answer_stream(self, states: Iterator[dict[str, Any]]) -> Iterator[str | Answer]:
        for state in states:
            stream = getattr(self.answerer, "stream", None)
            if stream is None:  # the composer: all at once (a millisecond), shown section by section
                answer = self.answer(state)
                for i, section in enumerate(answer.answer.split("\n\n")):
                    yield section if i == 0 else "\n\n" + section
                yield answer
                continue
            start = time.perf_counter()
            for item in stream(state["question"], state["docs"], state["analysis"]):
                if isinstance(item, str):
                    yield item
                else:  # the record, last
                    yield self._record(state, item.text, item.citations, item.refused, tuple(item.dropped), start)

    @staticmethod
    def _record(
        state: dict[str, Any],
        text: str,
        citations: list[Citation],
        outcome: bool | str,
        drops: Any,
        start: float,
        pistes: tuple[Piste, ...] = (),
    ) -> Answer:
        cited, _unknown = referenced(text, citations)
        refused, kind = _outcome(outcome)
        # A young person living outside both territories: the documents do not cover them.
        kind = kind or (OUT_OF_SCOPE if refused and state["analysis"].lives_outside else "")
        return Answer(
            question=state.get("asked", state["question"]),
            answer=text,
            refused=refused,
            citations=tuple(cited),
            retrieved=tuple(_retrieved(d) for d in state["docs"]),
            timings_ms={"retrieve": state["retrieve_ms"], "answer": (time.perf_counter() - start) * 1000},
            filters=state["analysis"].to_json(),
            grounding_drops=tuple(drops),
            kind=kind,
            pistes=pistes if not refused else (),
        )
