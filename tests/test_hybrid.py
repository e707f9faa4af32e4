"""BM25 analysis, reciprocal rank fusion, eligibility re-scoring, mentions and diversity (synthetic, fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.hybrid import FusionParams, collapse, fuse, fuse_ranks, group_key, mentioned, pin, rescore
from index.lexical import LexicalIndex, analyse_text
from index.query import analyse
from index.store import Hit
from index.why import Why
from ingest.records import Chunk


def _card(title: str, line: int, **meta) -> Chunk:
    return Chunk(
        source="g.txt",
        line_start=line,
        line_end=line + 9,
        text=f"{title}\nPour les jeunes.",
        title=title,
        kind="action_card",
        metadata=meta,
    )


def _hits(chunks: list[Chunk]) -> list[Hit]:
    return [Hit(c, 1.0 / rank, rank) for rank, c in enumerate(chunks, 1)]


def test_french_analysis_folds_stems_and_drops_stop_words() -> None:
    assert analyse_text("Les décrocheurs de 16 ans à Villeneuve-d’Ascq") == ["decrocheur", "16", "an", "villeneuv", "ascq"]
    assert analyse_text("DÉCROCHAGE") == analyse_text("decrochage")


def test_bm25_finds_the_passage_that_shares_the_words() -> None:
    chunks = [
        Chunk(source="a.txt", line_start=1, line_end=1, text="Aide au permis de conduire pour les jeunes lillois."),
        Chunk(source="a.txt", line_start=2, line_end=2, text="Épicerie solidaire étudiante sur le campus."),
        Chunk(source="a.txt", line_start=3, line_end=3, text="Service civique et engagement citoyen."),
    ]
    index = LexicalIndex(chunks)
    hits = index.search("une epicerie solidaire pour une etudiante", 3)
    assert hits[0].chunk.line_start == 2 and hits[0].rank == 1
    assert index.search("zzz inconnu", 3) == []
    # An elision typed without its apostrophe ("lemploi", "dinsertion") finds the word it hides.
    assert index.search("le sprint vers lengagement", 3)[0].chunk.line_start == 3
    assert index.search("lzzzz", 3) == []


def test_a_word_is_spelled_by_the_index_when_it_or_a_near_spelling_is_indexed() -> None:
    index = LexicalIndex([Chunk(source="a.txt", line_start=1, line_end=1, text="Lutte contre le décrochage : un start rapide.")])
    assert index.spelled("decrochag") and index.spelled("decrochagee")  # a typo of an indexed word
    assert not index.spelled("outlook")
    assert index.spelled("start") and not index.spelled("tarot")  # a short word a letter or two away is another


def test_a_short_documents_paragraphs_are_found_by_the_words_of_its_title_a_long_documents_are_not() -> None:
    def doc(source: str, n: int, title: str, texts: list[str]) -> list[Chunk]:
        return [
            Chunk(source=source, line_start=k * 10 + 1, line_end=k * 10 + 5, text=t, metadata={"document": title})
            for k, t in enumerate(texts + [f"Paragraphe de remplissage {k}." for k in range(n - len(texts))])
        ]

    press = doc("press.txt", 2, "Programme des investissements d'avenir", ["La ville sera soutenue pour 2 millions d'euros."])
    book = doc("book.txt", 12, "Rapport sur les investissements", ["La commune recevra 3 millions d'euros."])
    index = LexicalIndex(press + book)
    # The press release's amount is found by the title's words it leaves implied.
    assert {(h.chunk.source, h.chunk.line_start) for h in index.search("investissements d'avenir", 3)} == {
        ("press.txt", 1),
        ("press.txt", 11),
    }
    # A long document's title says too little of each passage to be indexed with it.
    assert [h.chunk.source for h in index.search("rapport", 3)] == []


def test_an_institution_that_runs_an_action_names_none_of_its_actions() -> None:
    card = _card("PASS TRANSFRONTALIER", 1, porteur="Métropole Européenne de Lille", action="PASS TRANSFRONTALIER")
    assert mentioned(card, "Combien a reçu la Métropole européenne de Lille pour son projet ?") is None
    assert mentioned(card, "Le Pass transfrontalier, c'est pour qui ?") == "PASS TRANSFRONTALIER"
    coop = _card("X", 20, porteur="Unis-Cité")
    assert mentioned(coop, "Unis-Cité recrute ?") == "Unis-Cité"


def test_rrf_prefers_a_passage_found_by_both_lists() -> None:
    a, b, c = _card("A", 1), _card("B", 20), _card("C", 40)
    q = analyse("une action ?")
    fused = fuse("une action ?", q, _hits([a, b]), _hits([c, b]), FusionParams(rrf_k=5), use_eligibility=True)
    assert fused[0][0].title == "B"
    why = fused[0][2]
    assert (why.lexical_rank, why.dense_rank) == (2, 2)


def test_an_excluded_action_goes_down_with_its_reason() -> None:
    adults = _card("ADULTES", 1, age_min=18, age_max=25, territory_scope="MEL", communes=[])
    open_to_all = _card("TOUS", 20, age_min=16, age_max=25, territory_scope="MEL", communes=[])
    question = "quelle action pour un décrocheur de 17 ans à Loos ?"
    q = analyse(question)
    fused = fuse(
        question, q, _hits([adults, open_to_all]), _hits([adults, open_to_all]), FusionParams(rrf_k=5), use_eligibility=True
    )
    assert [chunk.title for chunk, _, _ in fused] == ["TOUS", "ADULTES"]
    why = fused[1][2]
    assert why.status == "excluded" and "17 ans" in why.reasons[0]
    without = fuse(
        question, q, _hits([adults, open_to_all]), _hits([adults, open_to_all]), FusionParams(rrf_k=5), use_eligibility=False
    )
    assert [chunk.title for chunk, _, _ in without] == ["ADULTES", "TOUS"]


def test_a_named_action_is_boosted_and_keeps_all_its_parts() -> None:
    part1 = Chunk(
        source="f.txt",
        line_start=1,
        line_end=5,
        text="x",
        title="« Mon Avenir J'Y Crois » (MAJ'YC)",
        kind="action_part",
        metadata={"action": "« Mon Avenir J'Y Crois » (MAJ'YC)"},
    )
    part2 = Chunk(
        source="f.txt", line_start=6, line_end=9, text="y", title=part1.title, kind="action_part", metadata=dict(part1.metadata)
    )
    other = _card("AUTRE", 30)
    assert mentioned(part1, "Où sont accueillis les jeunes de MAJ'YC ?") == part1.metadata["action"]
    assert mentioned(other, "Où sont accueillis les jeunes de MAJ'YC ?") is None
    question = "Où sont accueillis les jeunes de MAJ'YC ?"
    fused = fuse(question, analyse(question), _hits([other, part1, part2]), [], FusionParams(rrf_k=5), use_eligibility=True)
    assert [c.line_start for c, _, _ in fused] == [1, 6, 30]
    # Not named: the parts of one action collapse into the best one (diversity).
    q2 = "quelles actions de remobilisation ?"
    fused2 = fuse(q2, analyse(q2), _hits([part1, part2, other]), [], FusionParams(rrf_k=5), use_eligibility=True)
    assert [c.line_start for c, _, _ in fused2] == [1, 30]


def test_group_keys() -> None:
    row_a = Chunk(source="t.txt", line_start=7, line_end=7, text="a", kind="table_row")
    row_b = Chunk(source="t.txt", line_start=7, line_end=7, text="b", kind="table_row")
    assert group_key(row_a) == group_key(row_b)
    assert group_key(_card("A", 1)) != group_key(_card("B", 1))


def test_ask_json_explains_filters_and_each_result(
    monkeypatch, tmp_path: Path, mini_corpus: Path, keyword_embeddings, capsys
) -> None:
    from assistant.cli import main

    monkeypatch.setenv("REPERES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REPERES_CORPUS", str(mini_corpus))
    monkeypatch.setattr("assistant.service.make_embeddings", lambda *args, **kwargs: keyword_embeddings)
    assert main(["ask", "--json", "un jeune de 19 ans à Roubaix veut passer le permis de conduire"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["filters"]["age"] == 19 and record["filters"]["communes"] == ["Roubaix"]
    assert "permis" in record["filters"]["needs"]
    top = record["retrieved"][0]
    assert top["source"] == "actions.txt" and {"lexical_rank", "dense_rank", "rrf", "eligibility"} <= set(top["why"])
    assert top["why"]["eligibility"]["status"] == "match"


def test_a_referent_comes_first_as_if_named_with_its_verdict_for_the_new_person() -> None:
    a, b, adults = _card("A", 1), _card("B", 20), _card("ADULTES", 40, age_min=18, age_max=25, communes=[])
    q = analyse("et s'il a 17 ans ?")
    fused = fuse("et s'il a 17 ans ?", q, _hits([a, b]), _hits([b, a]), FusionParams(rrf_k=5), True, referents=(adults,))
    chunk, _, why = fused[0]
    assert chunk.title == "ADULTES" and why.referent is True and why.mention == "ADULTES"
    assert why.status == "excluded"  # still says why it no longer fits
    assert [c.title for c, _, _ in fused[1:]] == ["A", "B"] or [c.title for c, _, _ in fused[1:]] == ["B", "A"]


def test_a_passage_naming_the_young_persons_commune_goes_up_not_for_an_organisation_name() -> None:
    elsewhere, local = _card("AILLEURS", 1, places=[]), _card("COLLÈGE JULES FERRY", 20, places=["Anzin", "Valenciennes"])
    crowded = _card("LISTE", 40, places=["Anzin", "Marly", "Onnaing", "Condé-sur-l'Escaut", "Valenciennes"])
    params = FusionParams(rrf_k=5, place_boost=0.3)
    q = analyse("un jeune de 16 ans d'Anzin a décroché")
    fused = fuse(q.text, q, _hits([elsewhere, local, crowded]), [], params, use_eligibility=False)
    assert fused[0][0].title == "COLLÈGE JULES FERRY" and fused[0][2].place == "Anzin"
    assert next(why for c, _, why in fused if c.title == "LISTE").place is None  # five communes: a list
    # "la Mission locale de Lille": no person described, the commune names an organisation.
    org = analyse("combien de missions la Mission locale de Anzin a-t-elle créées ?")
    assert all(why.place is None for _, _, why in fuse(org.text, org, _hits([elsewhere, local]), [], params, False))


def test_an_action_made_for_the_young_persons_quartier_goes_up() -> None:
    city = _card("EMPLOI LILLE", 1, places=[])
    moulins = _card(
        "CONCIERGERIE DE QUARTIER À MOULINS", 20, places=[], public="Pour les jeunes de 16 à 30 ans du quartier Moulins"
    )
    params = FusionParams(rrf_k=5, place_boost=0.3, quartier_boost=1.0)
    q = analyse("jeune de 25 ans, quartier Moulins à Lille, cherche du travail")
    fused = fuse(q.text, q, _hits([city, moulins]), [], params, use_eligibility=False)
    assert fused[0][0].title.startswith("CONCIERGERIE") and fused[0][2].place == "Lille-Moulins"
    # Another quartier of the same commune is not the young person's.
    wazemmes = analyse("jeune de 25 ans, quartier Wazemmes à Lille, cherche du travail")
    fused = fuse(wazemmes.text, wazemmes, _hits([city, moulins]), [], params, use_eligibility=False)
    assert fused[0][0].title == "EMPLOI LILLE"


def test_an_action_is_listed_by_its_part_that_says_whom_it_is_for() -> None:
    def part(line: int, public: str | None) -> Chunk:
        return Chunk(
            source="f.txt", line_start=line, line_end=line + 5, text="ATTA", title="ATTA", kind="action_part",
            metadata={"action": "ATTA", "public": public, "age_min": 16, "age_max": 25},
        )  # fmt: skip

    details, presentation = part(30, None), part(10, "Jeunes de 16 à 25 ans")
    q = analyse("un décrocheur de 17 ans")
    fused = fuse(q.text, q, _hits([details, presentation]), [], FusionParams(rrf_k=5), True)
    assert [c.line_start for c, _, _ in fused] == [10]
    # At the best part's rank: the details part scored higher, the presentation part takes its place.
    alone = fuse(q.text, q, _hits([details]), [], FusionParams(rrf_k=5), True)
    assert fused[0][1] == alone[0][1]


def test_the_fusion_defaults_are_the_settings_defaults() -> None:
    from dataclasses import fields

    from assistant.settings import Settings

    settings = Settings.from_env(environ={})
    shared = [f.name for f in fields(FusionParams) if hasattr(settings, f.name)]
    assert len(shared) >= 9 and all(getattr(FusionParams(), name) == getattr(settings, name) for name in shared)


def test_fuse_is_rank_fusion_then_rescoring_then_pinning_then_collapsing() -> None:
    a, b, adults = _card("A", 1), _card("B", 20), _card("ADULTES", 40, age_min=18, age_max=25, communes=[])
    q = analyse("un jeune de 17 ans")
    params = FusionParams(rrf_k=5)
    fused = fuse_ranks(_hits([a, b]), _hits([b, adults]), params)
    ranks = [(c.title, why.lexical_rank, why.dense_rank) for c, _, why in fused]
    assert ranks == [("A", 1, None), ("B", 2, 1), ("ADULTES", None, 2)]  # first seen first
    assert fused[1][1] == pytest.approx(1.0 / 7 + 0.2 / 6)
    scored = rescore(q.text, q, fused, params, use_eligibility=True)
    assert [c.title for c, _, _ in scored] == ["A", "B", "ADULTES"]
    assert scored[2][2].status == "excluded" and scored[2][1] == pytest.approx(fused[2][1] * 0.6)
    ranked = pin(scored, (adults,), params)
    assert ranked[0][0].title == "ADULTES" and ranked[0][2].referent is True
    assert scored[2][2].referent is False  # a step never changes its input
    assert [c.title for c, _, _ in pin(scored, (), params)] == ["B", "A", "ADULTES"]  # best first
    whole = fuse(q.text, q, _hits([a, b]), _hits([b, adults]), params, True, referents=(adults,))
    assert collapse(ranked, q) == whole


def test_a_named_actions_unranked_parts_come_after_the_ranking_once() -> None:
    from index.hybrid import with_parts

    def chunk(line: int, text: str, ids: list[str]) -> Chunk:
        return Chunk(
            source="t.txt",
            line_start=line,
            line_end=line,
            text=text,
            title="Action",
            kind="table_row",
            metadata={"action_ids": ids},
        )

    a1, a2, a3 = chunk(5, "objectifs", ["a"]), chunk(5, "indicateurs", ["a", "b"]), chunk(5, "moyens", ["a"])
    other = chunk(9, "autre", ["c"])
    ranked = [(a1, 1.0, Why(1, None, 0.2)), (other, 0.5, Why(2, None, 0.1))]
    out = with_parts(ranked, {"a": (a1, a2, a3), "b": (a2,)})
    assert [c.text for c, _, _ in out] == ["objectifs", "autre", "indicateurs", "moyens"]  # ranking kept, each part once
    assert all(why.part and why.mention for _, _, why in out[2:])


def test_a_named_action_retrieval_missed_comes_first_with_its_verdict() -> None:
    from index.hybrid import with_named

    def chunk(line: int, title: str, ids: list[str], **meta: object) -> Chunk:
        return Chunk(
            source="t.txt",
            line_start=line,
            line_end=line,
            text=title,
            title=title,
            kind="action_card",
            metadata={"action_ids": ids, "action_id": ids[0], **meta},
        )

    shown, missed = chunk(1, "SHOWN", ["a"]), chunk(9, "FABRIQUE TA VILLE", ["f"], age_min=16, age_max=25)
    ranked = [(shown, 1.0, Why(1, 1, 0.5))]
    q = analyse("fabrik ta ville pour un jeune de 27 ans ?")
    out = with_named(q.text, q, ranked, {"a": (shown,), "f": (missed,)}, FusionParams(), True)
    # The question names it (with a typo retrieval missed): it is what the question is about, then the ranking.
    assert [c.title for c, _, _ in out] == ["FABRIQUE TA VILLE", "SHOWN"]
    _, score, why = out[0]
    assert score == 1.0 and why.mention == "FABRIQUE TA VILLE" and not why.part and why.status == "excluded"


def test_an_english_question_is_embedded_with_the_documents_french_words_for_it() -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from index.hybrid import HybridRetriever
    from tests.test_langchain_standard import _DIM, _store

    seen: list[str] = []

    class Recording(DeterministicFakeEmbedding):
        def embed_query(self, text: str) -> list[float]:
            seen.append(text)
            return super().embed_query(text)

    retriever = HybridRetriever(store=_store(), embeddings=Recording(size=_DIM), k=3)
    retriever.invoke("How many priority neighbourhoods are there?")
    assert seen[-1].startswith("How many priority neighbourhoods are there?") and "quartiers prioritaires" in seen[-1]
    retriever.invoke("Combien de jeunes en service civique ?")
    assert seen[-1] == "Combien de jeunes en service civique ?"  # a French question as typed


def test_the_other_chunks_of_a_table_row_shown_come_after_the_ranking_as_parts() -> None:
    from index.hybrid import with_row_parts

    def chunk(line: int, text: str, kind: str = "table_row") -> Chunk:
        return Chunk(source="t.txt", line_start=line, line_end=line, text=text, title="Row", kind=kind)

    means, objectives, other_row = chunk(5, "moyens"), chunk(5, "objectifs EYES"), chunk(9, "autre ligne")
    card, card_part = chunk(20, "fiche", "action_card"), chunk(20, "fiche suite", "action_card")
    ranked = [(means, 1.0, Why(1, None, 0.2)), (card, 0.5, Why(2, None, 0.1))]
    out = with_row_parts(ranked, [means, objectives, other_row, card, card_part])
    # The row's cell retrieval did not keep comes last, at its row's score; another row, or a card, does not come.
    assert [c.text for c, _, _ in out] == ["moyens", "fiche", "objectifs EYES"]
    assert out[2][1] == 1.0 and out[2][2].part and not out[0][2].part


def test_asking_what_the_plans_provide_is_read_from_the_cues_alone() -> None:
    from index.intent import plans_asked

    assert plans_asked("Une action du plan de la MEL travaille-t-elle l'esprit d'entreprise des NEET ?")
    assert plans_asked("Que prévoit le contrat de ville pour elle ?")
    assert not plans_asked("Quelle action pour un décrocheur de 17 ans à Loos ?")


def test_the_need_list_adds_its_rank_and_is_read_only_for_a_person_with_a_need() -> None:
    from index.hybrid import need_query

    a, plan = _card("A", 1), _card("PLAN", 20)
    params = FusionParams(rrf_k=5, need_weight=0.3)
    fused = {c.title: score for c, score, _ in fuse_ranks(_hits([a, plan]), [], params, need=_hits([plan]))}
    assert fused["PLAN"] == pytest.approx(1.0 / 7 + 0.3 / 6) and fused["A"] == pytest.approx(1.0 / 6)
    assert need_query(analyse("quelles actions ?")) == ""  # no person
    assert need_query(analyse("un jeune de 19 ans à Lille")) == ""  # no need
    words = need_query(analyse("un jeune de 19 ans à Lille, pas d'ordinateur, perdu avec les démarches en ligne"))
    assert "inclusion numérique" in words and "Lille" not in words and "19" not in words
