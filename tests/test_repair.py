"""Text repairs (ingest.repair): each repair on tiny strings, then on the real corpus files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.repair import (
    RepairReport,
    banner_line_numbers,
    build_vocabulary,
    drop_repeated_banners,
    fix_glyph_shift,
    fix_letter_spacing,
    inline_footnotes,
    join_hyphenated,
    normalise_spaces,
    repair_lines,
    strip_markup,
    strip_replacement_and_bullets,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
NAMES = {
    "000": "000_c6d0b74d8e9d71b9.txt",
    "001": "001_1eb8413346c42669.txt",
    "002": "002_b559dacb78ac4717.txt",
    "003": "003_3aef8e652bfca41e.txt",
    "004": "004_2142389b9465621c.txt",
}
# Every character the glyph-shift table replaces (docs/data-quality.md §1), plus the contextual left quote.
GARBLED = set("ŶƌĐŵĠďƋǆǇğġ\u035b\u035a\u037e\u037f\u2018") | {chr(c) for c in range(0x03EC, 0x03F6)}


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[str]]:
    return {key: (CORPUS / name).read_text(encoding="utf-8").split("\n") for key, name in NAMES.items()}


@pytest.fixture(scope="module")
def vocabulary(corpus: dict[str, list[str]]) -> set[str]:
    return build_vocabulary(corpus.values())


@pytest.fixture(scope="module")
def repaired(corpus: dict[str, list[str]], vocabulary: set[str]) -> dict[str, tuple[list[str], RepairReport]]:
    return {key: repair_lines(lines, vocabulary) for key, lines in corpus.items()}


def _line(lines: list[str], number: int) -> str:
    """1-based access, like the line numbers of docs/data-quality.md."""
    return lines[number - 1]


# --- glyph shift -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("garbled", "expected"),
    [
        ("PƌotoĐole d’eŶgageŵeŶts ƌeŶfoƌĐĠs et ƌĠĐipƌoƋues", "Protocole d’engagements renforcés et réciproques"),
        ("l͛AsseŵďlĠe des CoŵŵuŶautĠs \u037eAĐDFͿ", "l’Assemblée des Communautés (AcDF)"),
        ("Ŷ°ϮϬϭϴ-ϭϯϭϳ du Ϯϴ dĠĐeŵďƌe ϮϬϭϴ", "n°2018-1317 du 28 décembre 2018"),
        ("20ϭϵ", "2019"),  # half the digits clean: the Greek digits alone are the signature
        ("0ϰϭ", "041"),
        ("L͛A‘S et le ‘SA", "L’ARS et le RSA"),
        (")oŶe IŶteƌĐoŵŵuŶale", "Zone Intercommunale"),
        ("Teƌƌitoiƌe )Ġƌo Chôŵeuƌs (PMI), fin", "Territoire Zéro Chômeurs (PMI), fin"),
        ("deuǆiğŵe d͛ġtƌe appuǇĠe d͚aĐtivitĠs", "deuxième d’être appuyée d’activités"),
    ],
)
def test_fix_glyph_shift_examples(garbled: str, expected: str) -> None:
    assert fix_glyph_shift(garbled) == expected


def test_fix_glyph_shift_leaves_clean_text_alone() -> None:
    # No signature: genuine left quotes and ")" before a letter stay as they are.
    for clean in ("une ‘citation’ ici", "(cf tableau)et suite", "Protection Maternelle et Infantile (PMI),"):
        assert fix_glyph_shift(clean) == clean


def test_file_003_has_no_garbled_glyph_left(corpus: dict[str, list[str]]) -> None:
    fixed = [fix_glyph_shift(line) for line in corpus["003"]]
    leftovers = [(n, line) for n, line in enumerate(fixed, start=1) if GARBLED & set(line)]
    assert leftovers == []
    assert "Protocole d'engagements renforcés et réciproques" in _line(fixed, 3).replace("’", "'")
    assert "n°2018-1317 du 28 décembre 2018" in _line(fixed, 91)
    assert "162 041 €" in _line(fixed, 379)
    assert "Zéro Chômeurs" in _line(fixed, 1454)


@pytest.mark.parametrize("key", ["000", "001", "002", "004"])
def test_fix_glyph_shift_does_not_touch_other_files(corpus: dict[str, list[str]], key: str) -> None:
    assert [fix_glyph_shift(line) for line in corpus[key]] == corpus[key]


# --- hyphenation ---------------------------------------------------------------------------------


def test_join_hyphenated_ordinary_word_keeps_line_count() -> None:
    assert join_hyphenated(["de l’accompagne-", "ment des jeunes."]) == ["de l’accompagnement", "des jeunes."]


def test_join_hyphenated_skips_a_blank_line_and_empties_a_consumed_line() -> None:
    lines = ["un accompagne-", "", "ment personnalisé", "c.descamps@competencesetem-", "plois.org"]
    assert join_hyphenated(lines) == ["un accompagnement", "", "personnalisé", "c.descamps@competencesetemplois.org", ""]


@pytest.mark.parametrize(
    "lines",
    [
        ["Mission locale Roubaix Lys-", "lez-Lannoy et alentours"],
        ["à Mons-", "en-Barœul"],
        ["à Villeneuve-", "d'Ascq"],
        ["Préfecture Nord-Pas-de-", "Calais Picardie"],  # capital continuation: never touched
        ["Territoire Zéro Chômeurs : co-", "", "construire des activités"],
        ["la Région Hauts-", "", "de-France"],
    ],
)
def test_join_hyphenated_keeps_compounds(lines: list[str]) -> None:
    assert join_hyphenated(lines) == lines


def test_join_hyphenated_uses_the_vocabulary_for_compounds() -> None:
    lines = ["des activités péri et extra-", "scolaires, ici"]
    assert join_hyphenated(lines, {"extra-scolaires"}) == lines
    assert join_hyphenated(lines) == ["des activités péri et extrascolaires,", "ici"]


def test_emails_of_001_are_rejoined(repaired: dict[str, tuple[list[str], RepairReport]]) -> None:
    lines, _ = repaired["001"]
    for number, address, directory_line in [
        (2811, "c.descamps@competencesetemplois.org", 6359),
        (5829, "ebouviergissot.npdc@centressociaux.com", 6418),
        (5898, "u.sperrfechter@laconditionpublique.com", 6367),
    ]:
        assert _line(lines, number) == address
        assert _line(lines, number + 1) == ""  # the fragment moved up; the line itself stays
        assert address in _line(lines, directory_line)  # the directory confirms the spelling
    assert _line(lines, 55).endswith("l’accompagnement")
    assert _line(lines, 56) == "des jeunes métropolitains."


# --- bullets, spaces, markup ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("• \ufffdExpérimenter", "- Expérimenter"),
        ("• \ufffd\ufffdQui accompagne", "- Qui accompagne"),
        ("\uf0b7 Accompagner", "- Accompagner"),
        (" \uf0fc Soutenir", " - Soutenir"),
        ("- ✓ Renforcer", "- Renforcer"),
        ("► Quelques chiffres ?", "- Quelques chiffres ?"),
        ("- ✂ Actions", "- Actions"),
        (" \ufffdAgence", " - Agence"),
        ("Lille\ufffd et ✓ Roubaix", "Lille et  Roubaix"),
        ("- déjà une puce", "- déjà une puce"),
    ],
)
def test_strip_replacement_and_bullets(raw: str, expected: str) -> None:
    assert strip_replacement_and_bullets(raw) == expected


def test_normalise_spaces() -> None:
    assert normalise_spaces("ET SOCIAL DES 16\u2009-\u200917 ANS") == "ET SOCIAL DES 16 - 17 ANS"
    assert normalise_spaces("la\u00a0MEL\u202f:  ici") == "la MEL : ici"
    # Leading / trailing whitespace and tabs (table cells) are kept.
    assert normalise_spaces(" Pour toi\tcellule  ") == " Pour toi\tcellule  "


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("un **partenariat local** engagé", "un partenariat local engagé"),
        ("*Unis*Cité", "UnisCité"),
        ("afev**", "afev"),
        ("(*la santé environnementale)", "(la santé environnementale)"),
        ("- * Créer les conditions", "- * Créer les conditions"),  # a bullet, not emphasis
        ("dès la 4 ^{ème}\tEducation", "dès la 4ème\tEducation"),
        ("depuis le 1^{er} juillet 2024", "depuis le 1er juillet 2024"),
        ("\t<p>Observation</p> <p>Opérer un état</p>\t<p>MEL</p>", "\tObservation ; Opérer un état\tMEL"),
        ("<p>Fin de phrase.</p> <p>Suite</p>", "Fin de phrase. Suite"),
        ("<u>Raison d'être</u> : agir", "Raison d'être : agir"),
        ('financeurs pour : <ul style="list-style-type: none"> - valider', "financeurs pour : - valider"),
        (
            "affiche : <https://www.lot-et-garonne.gouv.fr/x.html> inspiré",
            "affiche : https://www.lot-et-garonne.gouv.fr/x.html inspiré",
        ),
        ("cidTexte=JORF&amp;idArticle=JORFARTI", "cidTexte=JORF&idArticle=JORFARTI"),
    ],
)
def test_strip_markup(raw: str, expected: str) -> None:
    assert strip_markup(raw) == expected


# --- letter spacing -------------------------------------------------------------------------------


def test_fix_letter_spacing_with_a_vocabulary() -> None:
    vocab = {"expérimentation", "numériques", "fait", "économique", "numérique", "de", "leurs", "des"}
    assert fix_letter_spacing("d’expér imentat ion de leurs ", vocab) == "d’expérimentation de leurs "
    assert fix_letter_spacing("numér iques fa i t  des", vocab) == "numériques fait  des"
    # An accented letter extracted as base letter + space.
    assert fix_letter_spacing("inclusion nume rique et e conomique.", vocab) == "inclusion numérique et économique."


def test_fix_letter_spacing_is_conservative() -> None:
    # "de" is a word: "de placement" must not become "déplacement" (002 l.278).
    assert (
        fix_letter_spacing("un suivi de placement immédiat", {"déplacement", "de", "placement"})
        == "un suivi de placement immédiat"
    )
    # Without a vocabulary only the safe "I l" join runs.
    assert fix_letter_spacing("I l  est primordial", set()) == "Il  est primordial"
    assert fix_letter_spacing("numér iques", set()) == "numér iques"


def test_fix_letter_spacing_on_001(corpus: dict[str, list[str]], vocabulary: set[str]) -> None:
    assert fix_letter_spacing(_line(corpus["001"], 121), vocabulary) == "d’expérimentation de leurs "


# --- banners ----------------------------------------------------------------------------------------

BANNER_004 = {5, 7, 9, 246, 248, 250, 343, 345, 347, 497, 499, 501, 660, 662, 665, 721, 723, 725}


def test_banner_line_numbers_on_004(corpus: dict[str, list[str]]) -> None:
    assert banner_line_numbers(corpus["004"]) == BANNER_004


def test_drop_repeated_banners_on_004_keeps_the_content(corpus: dict[str, list[str]]) -> None:
    lines = corpus["004"]
    dropped = drop_repeated_banners(lines)
    assert len(dropped) == len(lines)
    for number, (before, after) in enumerate(zip(lines, dropped, strict=True), start=1):
        assert after == ("" if number in BANNER_004 else before)
    assert "TEMPS FORT" not in dropped
    assert any("Temps d'échanges avec l'assemblée" in line for line in dropped)


@pytest.mark.parametrize("key", ["000", "001", "002", "003"])
def test_no_banner_elsewhere(corpus: dict[str, list[str]], key: str) -> None:
    # 001 repeats card headings, map labels, contacts and a boilerplate paragraph: all content.
    assert banner_line_numbers(corpus[key]) == set()


def test_drop_repeated_banners_synthetic() -> None:
    page = ["", "RAPPORT ANNUEL", "", "Bilan de la première année du dispositif jeunes", ""]
    lines = [*page, "texte un", *page, "texte deux", *page, "texte trois"]
    expected = ["" if line in ("RAPPORT ANNUEL", "Bilan de la première année du dispositif jeunes") else line for line in lines]
    assert drop_repeated_banners(lines) == expected
    # Only twice: not a banner.
    assert drop_repeated_banners(lines[:12]) == lines[:12]


# --- entry point ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(NAMES))
def test_repair_lines_preserves_length(
    corpus: dict[str, list[str]], repaired: dict[str, tuple[list[str], RepairReport]], key: str
) -> None:
    lines, report = repaired[key]
    assert len(lines) == len(corpus[key])
    assert report.repaired_lines == sum(a != b for a, b in zip(corpus[key], lines, strict=True))


@pytest.mark.parametrize("key", list(NAMES))
def test_repair_lines_is_idempotent(
    repaired: dict[str, tuple[list[str], RepairReport]], vocabulary: set[str], corpus: dict[str, list[str]], key: str
) -> None:
    once, _ = repaired[key]
    twice, report = repair_lines(once, vocabulary)
    assert twice == once
    assert report.repaired_lines == 0
    without_vocabulary, _ = repair_lines(corpus[key])
    assert repair_lines(without_vocabulary)[0] == without_vocabulary


def test_clean_file_000_is_unchanged(corpus: dict[str, list[str]], repaired: dict[str, tuple[list[str], RepairReport]]) -> None:
    lines, report = repaired["000"]
    assert lines == corpus["000"]
    assert report.repaired_lines == 0


def test_repair_lines_report_counts() -> None:
    lines = ["• \ufffdun accompagne-", "ment **renforcé**", "", "l͛AsseŵďlĠe"]
    out, report = repair_lines(lines)
    assert out == ["- un accompagnement", "renforcé", "", "l’Assemblée"]
    assert report.repaired_lines == 3
    assert report.counts == {
        "footnotes": 0,
        "glyph_shift": 1,
        "bullets": 1,
        "markup": 1,
        "letter_spacing": 0,
        "spaces": 0,
        "hyphenation": 2,
        "banners": 0,
    }


def test_a_footnote_is_written_where_its_number_is_glued_to_the_text() -> None:
    rule = " " * 49
    lines = [
        # The raw glyph-shifted year ("ϮϬϮϬ" is 2020) then the note's ASCII number.
        "en s'appuyant sur Made in Valenciennes ϮϬϮϬ2 et",
        "l'Institut des transports, les réseaux des consulaires3, les associations.",
        "",
        rule,
        "2 Organisé par l'Office de Tourisme, visites d'entreprises à",
        "destination des habitants (36 entreprises partenaires en 2019).",
        "3 Proposition de la CCI : fédérer un réseau de chefs d'entreprises.",
        "- Une fois mobilisées, les entreprises …",
    ]
    out = inline_footnotes(lines)
    assert out[0] == (
        "en s'appuyant sur Made in Valenciennes ϮϬϮϬ (note 2 : Organisé par l'Office de Tourisme, visites d'entreprises "
        "à destination des habitants (36 entreprises partenaires en 2019).) et"
    )
    assert "consulaires (note 3 : Proposition de la CCI : fédérer un réseau de chefs d'entreprises.), les" in out[1]
    assert out[2:] == lines[2:]  # the notes stay where they are; the list item after them is no note
    # A number no word nearby carries is left alone, and without a rule there are no notes.
    assert inline_footnotes(["Le PIC2 est prévu.", rule, "4 Une note."]) == ["Le PIC2 est prévu.", rule, "4 Une note."]
    assert inline_footnotes(["les consulaires3, les", "3 Proposition."]) == ["les consulaires3, les", "3 Proposition."]


def test_the_footnotes_of_003_are_read_with_what_they_annotate(repaired: dict[str, tuple[list[str], RepairReport]]) -> None:
    lines, _ = repaired["003"]
    assert "Made in Valenciennes 2020 (note 2 : Organisé par l’Office de Tourisme" in lines[1212]
    assert "(36 entreprises partenaires en 2019).) et" in lines[1212]
    assert "consulaires (note 3 : Proposition de la CCI" in lines[1299]
