"""The chain, the extractive answerer and citations, with fake embeddings (fast)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.app import build_app, respond
from assistant.chain import build_chain
from assistant.citations import best_quote, referenced
from assistant.compose import ComposingAnswerer
from assistant.records import Answer, Citation
from assistant.render import render
from assistant.service import Assistant
from assistant.settings import Settings, SettingsError
from tests.conftest import KeywordEmbeddings


class ListRetriever(BaseRetriever):
    docs: list[Document]

    def _get_relevant_documents(self, query, *, run_manager):
        return self.docs


def _doc(text: str, source: str = "a.txt", start: int = 1, end: int = 3) -> Document:
    return Document(
        page_content=text, metadata={"source": source, "line_start": start, "line_end": end, "title": "T", "score": 0.5}
    )


def test_quote_is_verbatim_and_picks_the_sentences_about_the_question() -> None:
    passage = "Le foyer accueille les apprentis. Il est ouvert le lundi.\nLe permis de conduire est financé pour les 18-25 ans."
    quote = best_quote("financement du permis de conduire", passage, max_chars=80)
    assert quote == "Le permis de conduire est financé pour les 18-25 ans."
    assert quote in " ".join(passage.split())
    gapped = best_quote("apprentis et permis", passage, max_chars=160)
    assert gapped == "Le foyer accueille les apprentis. … Le permis de conduire est financé pour les 18-25 ans."


def test_referenced_maps_markers_and_flags_unknown_numbers() -> None:
    cites = [Citation(n, "a.txt", "T", 1, 2, None, "q") for n in (1, 2, 3)]
    cited, unknown = referenced("Voir [3] et [1], mais pas [7].", cites)
    assert [c.n for c in cited] == [1, 3]
    assert unknown == [7]


def test_chain_answers_with_numbered_citations_and_ranked_retrieved() -> None:
    docs = [_doc("Premier passage sur le logement des apprentis.", start=4, end=6), _doc("Second passage.", source="b.txt")]
    answer = build_chain(ListRetriever(docs=docs), ComposingAnswerer()).invoke("Où loger des apprentis ? logement")
    assert not answer.refused
    assert answer.answer.startswith("Premier passage sur le logement des apprentis. [1]")
    assert [(c.n, c.source, c.line_start, c.line_end) for c in answer.citations] == [(1, "a.txt", 4, 6)]
    assert [r.source for r in answer.retrieved] == ["a.txt", "b.txt"]
    assert set(answer.timings_ms) == {"retrieve", "answer"}


def test_nothing_retrieved_means_a_french_refusal() -> None:
    answer = build_chain(ListRetriever(docs=[]), ComposingAnswerer()).invoke("Quel est le public du programme Booster ?")
    assert answer.refused and answer.citations == () and "ne précisent pas" in answer.answer


def test_the_answer_says_its_kind() -> None:
    answered = build_chain(ListRetriever(docs=[_doc("Le logement des apprentis.")]), ComposingAnswerer()).invoke(
        "logement apprentis"
    )
    assert (answered.kind, answered.to_json()["kind"]) == ("answer", "answer")
    assert (
        build_chain(ListRetriever(docs=[]), ComposingAnswerer()).invoke("Quel est le public du programme Booster ?").kind
        == "refusal"
    )
    assert build_chain(ListRetriever(docs=[]), ComposingAnswerer()).invoke("quoi ?").kind == "clarification"
    # A young person living outside both territories: out of scope (refused, but not "the documents do not say").
    outside = build_chain(ListRetriever(docs=[_doc("Pour les jeunes de la MEL.")]), ComposingAnswerer()).invoke(
        "quelle action pour un jeune de 19 ans à Denain ?"
    )
    assert (outside.kind, outside.refused) == ("out_of_scope", True)
    with pytest.raises(ValueError, match="refused"):
        Answer("q", "texte", refused=False, kind="refusal")


def test_empty_question_is_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="vide"):
        build_chain(ListRetriever(docs=[]), ComposingAnswerer()).invoke("  ")
    # Punctuation alone is nothing to read: an error that says what to type. Emoji say something.
    with pytest.raises(ValueError, match="aucun mot"):
        build_chain(ListRetriever(docs=[]), ComposingAnswerer()).invoke("?!?...;;")
    assert build_chain(ListRetriever(docs=[]), ComposingAnswerer()).invoke("👶🏠❓").kind == "clarification"


def test_assistant_end_to_end_on_the_mini_corpus(settings: Settings, keyword_embeddings) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assert assistant.ingest().rebuilt
    answer = assistant.ask("foyer de jeunes travailleurs logement temporaire", k=2)
    assert answer.citations[0].source == "logement.md"
    assert "logement" in answer.citations[0].quote
    assert not assistant.ingest().rebuilt


def test_settings_from_env_and_their_errors(tmp_path: Path) -> None:
    s = Settings.from_env({"REPERES_HOME": str(tmp_path), "REPERES_TOP_K": "4", "PORT": "9000"})
    assert (s.home, s.top_k, s.port) == (tmp_path, 4, 9000)
    assert s.index_dir.is_relative_to(tmp_path)
    with pytest.raises(SettingsError, match="REPERES_TOP_K"):
        Settings.from_env({"REPERES_TOP_K": "beaucoup"})
    with pytest.raises(SettingsError, match="REPERES_RRF_K"):
        Settings.from_env({"REPERES_RRF_K": "cinq"})


def test_chat_turn_streams_sections_with_sources_and_never_a_traceback(settings: Settings, keyword_embeddings) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    chunks = list(respond(assistant, "permis de conduire Roubaix", []))
    # Streamed as written (each chunk extends the last), then the final answer with its links.
    *partial, reply = chunks
    assert len(partial) > 1 and all(later.startswith(earlier) for earlier, later in itertools.pairwise(partial))
    assert partial[0].startswith("**Pistes pour ce jeune** (Roubaix)")  # the composer's first section, markdown
    # The final answer: the chat's HTML (action cards), its sources linked to their passages.
    assert reply.startswith('<div class="rp-answer rp-person"><h3 class="rp-heading">Pistes pour ce jeune</h3>')
    assert '<details class="rp-sources">' in reply and 'href="passage/actions.txt?lines=' in reply
    assert "Tapez une question" in next(respond(assistant, "   ", []))
    broken = Assistant(
        Settings.from_env(environ={}, home=settings.home / "vide", corpus=settings.corpus), embeddings=keyword_embeddings
    )
    assert list(respond(broken, "où loger un apprenti de 19 ans ?", []))[-1].startswith("Désolé")
    assert render(assistant.ask("où loger un apprenti de 19 ans ?")).count("lignes") >= 1


def test_chat_history_makes_follow_ups(settings: Settings, keyword_embeddings) -> None:
    from assistant.app import earlier_questions

    history = [
        {"role": "user", "content": "un jeune de 19 ans à Roubaix veut passer le permis"},
        {"role": "assistant", "content": "…"},
    ]
    assert earlier_questions(history) == ["un jeune de 19 ans à Roubaix veut passer le permis"]
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    answer = assistant.ask("et s'il a 17 ans ?", history=earlier_questions(history))
    assert answer.filters is not None and (answer.filters["age"], answer.filters["communes"]) == (17, ["Roubaix"])


def test_the_chat_app_builds_without_launching_and_streams(settings: Settings, keyword_embeddings) -> None:
    import inspect

    # Built before any index exists (the catalogue tab reads it when a page is asked for).
    app = build_app(Assistant(settings, embeddings=keyword_embeddings))
    assert app.title.startswith("Repères")
    assert inspect.isgeneratorfunction(app.chat_interface.fn)  # Gradio streams only a generator function


def test_gradio_6_message_parts_are_read_as_questions() -> None:
    from assistant.app import earlier_questions

    history = [
        {"role": "user", "content": [{"type": "text", "text": "jeune de 17 ans à Loos"}]},
        {"role": "assistant", "content": "…"},
    ]
    assert earlier_questions(history) == ["jeune de 17 ans à Loos"]


def test_a_follow_up_without_a_subject_is_about_what_the_previous_answer_showed_first(
    settings: Settings, keyword_embeddings
) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    first = assistant.ask("un jeune de 20 ans à Roubaix veut passer le permis")
    assert "PERMIS SOLIDAIRE" in first.answer.split("\n\n")[1]  # the first action listed
    contact = assistant.ask("tu as un contact ?", history=[first.question])
    assert not contact.refused and "permis@mobilite-test.fr" in contact.answer
    assert (contact.retrieved[0].why or {}).get("referent") is True
    older = assistant.ask("et s'il a 17 ans ?", history=[first.question])
    assert "PERMIS SOLIDAIRE" in older.answer and "18 à 25 ans" in older.answer  # why it no longer fits
    # After a turn the documents could not answer, the next one is still about the same action.
    unstated = assistant.ask("c'est combien ?", history=[first.question])
    assert unstated.refused and (unstated.retrieved[0].why or {}).get("referent") is True
    contact = assistant.ask("et le contact ?", history=[first.question, unstated.question])
    assert (contact.retrieved[0].why or {}).get("referent") is True and "permis@mobilite-test.fr" in contact.answer


def test_a_follow_up_naming_a_piste_by_its_rank_is_about_that_one(settings: Settings, keyword_embeddings) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    first = assistant.ask("un jeune de 20 ans à Roubaix veut passer le permis")
    assert len(first.citations) >= 2
    second = sorted(first.citations, key=lambda c: c.n)[1]
    pointed = assistant.ask("tu as un contact pour la deuxième ?", history=[first.question])
    top = pointed.retrieved[0]
    assert (top.why or {}).get("referent") is True
    assert (top.source, top.line_start) == (second.source, second.line_start)


def test_a_new_person_after_a_list_searches_again_but_after_one_action_keeps_it(settings: Settings, keyword_embeddings) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    first = assistant.ask("un jeune de 20 ans à Roubaix veut passer le permis")
    assert len(first.citations) > 2  # a list of pistes
    moved = assistant.ask("et s'il habitait Lille ?", history=[first.question])
    assert not any((r.why or {}).get("referent") for r in moved.retrieved)  # what fits the new person
    contact = assistant.ask("tu as un contact ?", history=[first.question])
    assert len(contact.citations) <= 2  # about one action
    older = assistant.ask("et s'il a 17 ans ?", history=[first.question, contact.question])
    assert (older.retrieved[0].why or {}).get("referent") is True  # still that action, checked for 17 ans


def test_a_contact_asked_after_pistes_whose_first_gives_none_is_about_the_first_ones_that_do() -> None:
    from langchain_core.documents import Document

    from assistant.chain import _Steps
    from assistant.records import Citation

    def doc(key: str, people: list[dict]) -> Document:
        return Document(page_content=key, metadata={"chunk_id": key, "meta_people": people})

    reachable = [{"name": "A. B.", "emails": ["a@b.fr"], "phones": [], "urls": []}]
    docs = [doc("fund", []), doc("plan", []), doc("card", reachable), doc("other", reachable)]

    class Retriever:
        def invoke(self, text: str, **kwargs: object) -> list[Document]:
            return docs

    def referee(question: str, found: list[Document], analysis: object) -> tuple[str, list[Citation], bool]:
        citations = [
            Citation(n, "g.txt", d.page_content, 1, 2, None, "", chunk_id=d.page_content) for n, d in enumerate(found, 1)
        ]
        return "", citations, False

    steps = _Steps(Retriever(), referee, referee)  # type: ignore[arg-type]
    history = ["jeune de 23 ans à Comines sans moyen de transport"]
    assert steps.referent(history) == ("fund", "plan")  # "c'est pour quel âge ?": what was shown first
    # "et le contact ?" after a list of pistes: the first one with someone to reach, alone (not its neighbour)
    assert steps.referent(history, contact=True) == ("card",)
    docs[0] = doc("fund", reachable)
    assert steps.referent(history, contact=True) == ("fund",)  # the first piste gives a contact: that one
    del docs[2:]  # an answer about two passages (a comparison): a contact for each
    assert steps.referent(history, contact=True) == ("fund", "plan")


def test_a_follow_up_pointing_at_a_piste_by_what_it_does_is_about_that_one(settings: Settings, keyword_embeddings) -> None:
    assistant = Assistant(settings, embeddings=keyword_embeddings)
    assistant.ingest()
    first = assistant.ask("un jeune de 20 ans à Roubaix veut passer le permis")
    shown = sorted(first.citations, key=lambda c: c.n)
    second = next(c for c in shown if "remise à niveau" in c.quote)
    assert second.n > 1  # not the first piste: "celle avec …" picks it out
    pointed = assistant.ask("celle avec la remise à niveau, tu as un contact ?", history=[first.question])
    top = pointed.retrieved[0]
    assert (top.why or {}).get("referent") is True
    assert (top.source, top.line_start) == (second.source, second.line_start)


class _GatedEmbeddings(KeywordEmbeddings):
    """Keyword embeddings whose first question waits for a gate: a model still loading."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.fail = fail
        self.threads: list[str] = []

    def embed_query(self, text: str) -> list[float]:
        self.threads.append(threading.current_thread().name)
        self.gate.wait(timeout=30)
        if self.fail:
            raise RuntimeError("modèle abîmé")
        return super().embed_query(text)


def test_load_returns_with_the_index_while_the_model_loads_in_its_own_thread(settings: Settings) -> None:
    embeddings = _GatedEmbeddings()
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.ingest()
    assistant.load()  # returns although the model is still loading (the gate is closed)
    assert embeddings.threads == ["reperes-model"] and assistant._model_loading is not None
    assert assistant._model_loading.is_alive()
    embeddings.gate.set()
    assistant.wait_loaded()
    assert not assistant._model_loading.is_alive()
    assert assistant.ask("foyer de jeunes travailleurs logement temporaire").citations[0].source == "logement.md"
    assert embeddings.threads[1:] == ["MainThread"]  # the question embedded its own text, once the model was there


def test_a_model_that_fails_to_load_in_the_thread_fails_the_question_not_the_load(settings: Settings) -> None:
    embeddings = _GatedEmbeddings(fail=True)
    embeddings.gate.set()
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.ingest()
    assistant.load()
    assistant.wait_loaded()  # the thread's failure is not raised here…
    with pytest.raises(RuntimeError, match="modèle abîmé"):  # …but by the question's own embedding
        assistant.ask("foyer de jeunes travailleurs logement temporaire")
