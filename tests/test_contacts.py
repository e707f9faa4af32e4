"""People and their own contact details (ingest.contacts): real blocks of the corpus and small invented texts.

Issue 11, item 3: asked for the PIA coordinator, an answer gave Catherine Kev the phone the guide gives
Olivier Letailleur (001 directory, l.6283-6294), because names and phones were paired by position.
Blocks are found by searching for a nearby e-mail, never by hard-coded line offsets.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from ingest.cards import Card, parse_guide
from ingest.contacts import extract_people, format_contact
from ingest.metadata import clean_spaces, join_cut_emails
from ingest.records import Contact, SourceDoc

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"


@pytest.fixture(scope="module")
def guide(corpus_docs: dict[str, SourceDoc]) -> list[str]:
    return corpus_docs["001"].lines


@pytest.fixture(scope="module")
def cards(guide: list[str]) -> list[Card]:
    return parse_guide(guide).cards


@pytest.fixture(scope="module")
def directory_start(guide: list[str]) -> int:
    start = parse_guide(guide).directory_start
    assert start is not None
    return start


def _find(lines: list[str], needle: str, start: int = 0) -> int:
    """0-based index of the first line at or after ``start`` containing ``needle``."""
    return next(i for i in range(start, len(lines)) if needle in lines[i])


def _paragraph(lines: list[str], i: int) -> tuple[int, int]:
    """[start, end) of the blank-line-delimited paragraph around line i."""
    start, end = i, i
    while start > 0 and lines[start - 1].strip():
        start -= 1
    while end < len(lines) and lines[end].strip():
        end += 1
    return start, end


def _card_block(lines: list[str], cards: list[Card], email: str) -> tuple[list[str], int]:
    """A card's contact block ("POUR EN SAVOIR PLUS" lines, blank lines included) and its first line (1-based)."""
    card = next(c for c in cards if any(email in lines[i] for i in c.contacts))
    first, last = card.contacts[0], card.contacts[-1]
    return lines[first : last + 1], first + 1


def _person(contacts: tuple[Contact, ...], name: str) -> Contact:
    matches = [c for c in contacts if c.name == name]
    assert len(matches) == 1, (name, contacts)
    return matches[0]


def _directory_pair(guide: list[str], directory_start: int) -> tuple[list[str], int]:
    """The directory's ADICE and AFEV entries (001 l.6283-6298), found by their e-mails."""
    start = _paragraph(guide, _find(guide, "olivier.letailleur@adice.asso.fr", directory_start))[0]
    end = _paragraph(guide, _find(guide, "catherine.kev@afev.org", start))[1]
    return guide[start:end], start + 1


# --- the reported bug ------------------------------------------------------------------------------


def test_directory_phone_belongs_to_the_entry_that_gives_it_not_to_catherine_kev(guide: list[str], directory_start: int) -> None:
    lines, first = _directory_pair(guide, directory_start)
    contacts = extract_people(lines, first)
    letailleur, kev = _person(contacts, "Olivier Letailleur"), _person(contacts, "Catherine Kev")
    assert letailleur == Contact(
        name="Olivier Letailleur",
        role="Chargé de projet",
        organisation="ADICE",
        emails=("olivier.letailleur@adice.asso.fr",),
        phones=("06 25 74 34 92", "03 20 12 87 36"),
        line=_find(guide, "Chargé de projet", first - 1) + 1,
    )
    assert kev.phones == () and kev.emails == ("catherine.kev@afev.org",)
    assert (kev.role, kev.organisation, kev.line) == ("Coordinatrice", "AFEV", _find(guide, "Coordinatrice", first - 1) + 1)
    assert not re.search(r"\d", format_contact(kev))
    # Nobody else is given the number either: no owner-less copy, no guess.
    assert [c.name for c in contacts if "03 20 12 87 36" in c.phones] == ["Olivier Letailleur"]


def test_whole_directory_gives_every_entry_its_own_details(guide: list[str], directory_start: int) -> None:
    contacts = extract_people(guide[directory_start:], directory_start + 1)
    people = [c for c in contacts if c.name]
    assert len(people) == 53 and all(c.emails and c.organisation for c in people)
    assert _person(contacts, "Catherine Kev").phones == ()
    # An entry without its own organisation line is listed under the previous one's.
    assert _person(contacts, "Mathilde Testart").organisation == "APELS"
    assert _person(contacts, "Magali Nayrac").organisation == "Maison de quartier Moulins"  # after a page break
    assert _person(contacts, "Yves Bourderou").phones == ("03 20 14 85 50",)
    kapusta = _person(contacts, "Jean-Claude Kapusta")
    assert (kapusta.organisation, kapusta.phones) == ("Mission locale Métropole Sud", ("06 99 78 34 23",))
    assert _person(contacts, "Christine Buisine").emails == ("cbuisine@mlmsl.fr",)  # the source's typo, kept
    assert _person(contacts, "Magalie Elias").organisation == "Ville de Lys-Lez-Lannoy"
    # The metropolis' switchboard after its address is nobody's: Juliette Gosset keeps her own number.
    assert _person(contacts, "Juliette Gosset").phones == ("03 20 21 29 05",)
    unowned = [c for c in contacts if not c.name]
    assert [(c.phones, c.organisation) for c in unowned] == [(("+33(0)3 20 21 22 23",), None)]
    assert unowned[0].text is not None and "+33(0)3 20 21 22 23" in unowned[0].text
    # Every e-mail of the directory is given to exactly one person.
    emails = [e for c in people for e in c.emails]
    written = {e for line in guide[directory_start:] for e in re.findall(r"\S+@\S+\.\w+", line)}
    assert sorted(set(emails)) == sorted(written)


# --- guide cards -----------------------------------------------------------------------------------


def test_connect_emploi_card_gives_kapusta_his_own_email_and_phone(guide: list[str], cards: list[Card]) -> None:
    lines, first = _card_block(guide, cards, "jckapusta@mlms.fr")
    contacts = extract_people(lines, first)
    kapusta = _person(contacts, "Jean-Claude Kapusta")
    assert kapusta == Contact(
        name="Jean-Claude Kapusta",
        role="Chargé de projet emploi",
        emails=("jckapusta@mlms.fr",),
        phones=("06 99 78 34 23",),
        line=first + _find(lines, "Chargé de projet emploi"),
    )
    assert format_contact(kapusta) == "Jean-Claude Kapusta (chargé de projet emploi), jckapusta@mlms.fr, 06 99 78 34 23"
    assert _person(contacts, "Christine Buisine").phones == ("07 82 16 95 52",)
    assert _person(contacts, "Sarah Monet").phones == ("07 67 11 47 61",)
    assert len(contacts) == 3


def test_one_person_card_keeps_the_phone_after_a_repaired_cut_email(guide: list[str], cards: list[Card]) -> None:
    lines, first = _card_block(guide, cards, "c.descamps@competencesetemplois.org")
    descamps = _person(extract_people(lines, first), "Catherine Descamps")
    assert descamps.emails == ("c.descamps@competencesetemplois.org",) and descamps.phones == ("03 59 30 67 30",)
    # The raw text (e-mail cut by a hyphen at the line end) gives the same person.
    raw = (CORPUS / "001_1eb8413346c42669.txt").read_text(encoding="utf-8").split("\n")[first - 1 : first - 1 + len(lines)]
    assert any(line.endswith("competencesetem-") for line in raw)
    assert _person(extract_people(raw, first), "Catherine Descamps") == descamps


def test_card_with_two_people_gives_each_their_own_email_and_phone(guide: list[str], cards: list[Card]) -> None:
    lines, first = _card_block(guide, cards, "melgarni@apels.org")
    contacts = extract_people(lines, first)
    el_garni, testart = _person(contacts, "Maidin El Garni"), _person(contacts, "Mathilde Testart")
    assert (el_garni.role, el_garni.emails, el_garni.phones) == ("Coordinateur", ("melgarni@apels.org",), ("07 69 67 67 40",))
    assert (testart.role, testart.emails, testart.phones) == ("Chargée de mission", ("mtestart@apels.org",), ("06 98 13 44 67",))
    # The site under both people is neither's: it is kept without an owner, as written.
    site = [c for c in contacts if not c.name]
    assert [c.urls for c in site] == [("educationparlesport.com",)] and site[0].text == " educationparlesport.com"
    # Two e-mails, no phone (Fibr'&Co): nothing is invented.
    block, start = _card_block(guide, cards, "arcadis.coordination@gmail.com")
    fibr = extract_people(block, start)
    assert _person(fibr, "Émilie Claire").emails == ("emilie.arcadis@gmail.com",)
    assert _person(fibr, "Zorha Haddou") == Contact(
        name="Zorha Haddou",
        role="Coordinatrice Fibr’&Co",
        emails=("arcadis.coordination@gmail.com",),
        line=start + _find(block, "Coordinatrice Fibr"),
    )


def test_forty_card_blocks_give_people_with_their_own_details_only(guide: list[str], cards: list[Card]) -> None:
    assert len(cards) == 40
    people = 0
    for card in cards:
        first, last = card.contacts[0], card.contacts[-1] + 1
        contacts = extract_people(guide[first:last], first + 1)
        named = [c for c in contacts if c.name]
        assert named and all(c.emails for c in named), card.start
        assert not any(c.text for c in named), card.start  # no card block is ambiguous
        people += len(named)
    assert people == 51


def test_icon_lines_and_commune_labels_are_not_people(guide: list[str], cards: list[Card]) -> None:
    lines, first = _card_block(guide, cards, "c.spillemaecker@reussir.asso.fr")
    assert [c.name for c in extract_people(lines, first) if c.name] == ["Coline Spillemaecker"]  # not " Coline Spillemaecker Pro"
    card = next(c for c in cards if c.map_lines)
    assert extract_people(guide[card.map_lines[0] : card.map_lines[-1] + 1]) == ()
    assert (
        extract_people(["A Lille, dans les quartiers Moulins, Wazemmes,", "Bois Blanc, Lille Sud, Fives et à Villeneuve d’Ascq."])
        == ()
    )
    assert extract_people(["POUR EN SAVOIR PLUS", "", "LUTTE CONTRE LE DÉCROCHAGE SCOLAIRE"]) == ()


# --- organisations, one-line contacts, lists ---------------------------------------------------------


def test_switchboard_and_generic_address_stay_the_organisations() -> None:
    text = [
        "Mission Locale Métropole Sud : 03 20 00 11 22",
        "Chargé de projet emploi",
        "Jean-Claude Kapusta",
        "jckapusta@mlms.fr / 06 99 78 34 23",
        "contact@mlms.fr",
    ]
    contacts = extract_people(text, 100)
    kapusta = _person(contacts, "Jean-Claude Kapusta")
    assert (kapusta.organisation, kapusta.emails, kapusta.phones, kapusta.line) == (
        "Mission Locale Métropole Sud",
        ("jckapusta@mlms.fr",),
        ("06 99 78 34 23",),
        101,
    )
    organisation = [(c.organisation, c.emails, c.phones) for c in contacts if not c.name]
    assert organisation == [
        ("Mission Locale Métropole Sud", (), ("03 20 00 11 22",)),
        ("Mission Locale Métropole Sud", ("contact@mlms.fr",), ()),
    ]
    labelled = extract_people(
        ["Ville de Loos", "Standard : 03 20 10 40 00", "Chargée de mission", "Léa Martin", "lmartin@ville-loos.fr"]
    )
    assert _person(labelled, "Léa Martin").phones == ()
    assert [(c.organisation, c.phones) for c in labelled if not c.name] == [("Ville de Loos", ("03 20 10 40 00",))]


def test_name_role_email_phone_on_one_line() -> None:
    (contact,) = extract_people(["Jean Dupont, chargé de mission – jdupont@ville-loos.fr – Tél : 06 11 22 33 44"], 7)
    assert contact == Contact("Jean Dupont", "chargé de mission", None, ("jdupont@ville-loos.fr",), ("06 11 22 33 44",), (), 7)
    two = extract_people(["Jean Dupont (jdupont@x.fr, 06 11 11 11 11) et Marie Durand (mdurand@x.fr)"])
    assert [(c.name, c.emails, c.phones) for c in two] == [
        ("Jean Dupont", ("jdupont@x.fr",), ("06 11 11 11 11",)),
        ("Marie Durand", ("mdurand@x.fr",), ()),
    ]
    prose = extract_people(["Pour plus d'informations, contactez Jean Dupont,", "chargé de mission, au 06 12 34 56 78."])
    assert [(c.name, c.role, c.phones) for c in prose] == [("Jean Dupont", "chargé de mission", ("06 12 34 56 78",))]


def test_ars_directors_one_per_line(corpus_docs: dict[str, SourceDoc]) -> None:
    lines = corpus_docs["003"].lines
    i = _find(lines, "olivier.rovere@ars.sante.fr")
    start, end = i - 8, i + 12
    contacts = [c for c in extract_people(lines[start:end], start + 1) if c.name]
    assert [(c.name, c.emails, c.phones, c.line) for c in contacts][1] == (
        "M. Olivier Rovere",
        ("olivier.rovere@ars.sante.fr",),
        ("03 62 72 86 61",),
        i + 1,
    )
    assert [c.name for c in contacts] == [
        "M. Yves Duchange",
        "M. Olivier Rovere",
        "Mme Sylvie Pionchon",
        "M. Nicolas Brulé",
        "Mme Cécile Guerraud",
    ]
    assert all(len(c.emails) == 1 and len(c.phones) == 1 for c in contacts)


def test_slides_speakers(corpus_docs: dict[str, SourceDoc]) -> None:
    lines = corpus_docs["004"].lines
    i = _find(lines, "Intervenants : Olivier Jastrzab")
    assert [(c.name, c.organisation) for c in extract_people([lines[i]], i + 1)] == [
        ("Olivier Jastrzab", "ML Lille avenir"),
        ("Camille Raingeval", "ML Lille avenir"),
        ("Sarah Trizzuli", "ML Roubaix"),
    ]
    j = _find(lines, "Intervenantes :")
    speakers = extract_people(lines[j : j + 4], j + 1)
    assert [(c.name, c.role) for c in speakers] == [
        ("Emmanuelle Jourdan-Chartier", "Vice-présidente Vie étudiante et de campus"),
        ("Adèle Bréant", "cheffe de projets Épiceries solidaires – Aides Alimentaires"),
    ]
    k = _find(lines, "Francine Blas")
    assert [c.name for c in extract_people(lines[k - 2 : k + 8])] == ["Francine Blas", "Audrey HENNON"]  # "X / pour :"
    assert format_contact(Contact(name="Mme Brembor", role="CPE au lycée")) == "Mme Brembor (CPE au lycée)"


# --- ambiguity and mutations -------------------------------------------------------------------------


def test_two_names_one_phone_without_layout_cue_are_not_paired() -> None:
    text = ["Marie Lefebvre", "Paul Girard", "Tél : 03 20 00 00 00"]
    contacts = extract_people(text, 20)
    assert [c.name for c in contacts if c.name] == ["Marie Lefebvre", "Paul Girard"]
    assert all(c.phones == () and c.text == "\n".join(text) for c in contacts if c.name)
    (shared,) = [c for c in contacts if not c.name]
    assert shared.phones == ("03 20 00 00 00",) and shared.organisation is None and shared.text == "\n".join(text)
    inline = extract_people(["Contacts : Jean Dupont et Marie Durand : 06 12 34 56 78"])
    assert [(c.name, c.phones) for c in inline] == [("Jean Dupont", ()), ("Marie Durand", ()), (None, ("06 12 34 56 78",))]
    # After a blank line, a phone under two people's blocks is nobody's.
    blocks = [
        "Coordinatrice",
        "Anne Martin",
        "amartin@x.fr",
        "",
        "Animateur",
        "Paul Roux",
        "proux@x.fr",
        "",
        "Tél : 03 20 00 00 00",
    ]
    contacts = extract_people(blocks)
    assert [(c.name, c.phones) for c in contacts] == [("Anne Martin", ()), ("Paul Roux", ()), (None, ("03 20 00 00 00",))]


def test_moving_a_phone_moves_its_owner(guide: list[str], directory_start: int, cards: list[Card]) -> None:
    lines, first = _directory_pair(guide, directory_start)
    phone = _find(lines, "Tél :")
    moved = [line for k, line in enumerate(lines) if k != phone]
    moved.insert(_find(moved, "catherine.kev@afev.org") + 1, lines[phone])
    contacts = extract_people(moved, first)
    assert _person(contacts, "Olivier Letailleur").phones == ()
    assert _person(contacts, "Catherine Kev").phones == ("06 25 74 34 92", "03 20 12 87 36")
    # In a card block with two people, swapping their phone lines swaps the owners.
    block, start = _card_block(guide, cards, "melgarni@apels.org")
    a, b = _find(block, "07 69 67 67 40"), _find(block, "06 98 13 44 67")
    swapped = list(block)
    swapped[a], swapped[b] = block[b], block[a]
    contacts = extract_people(swapped, start)
    assert _person(contacts, "Maidin El Garni").phones == ("06 98 13 44 67",)
    assert _person(contacts, "Mathilde Testart").phones == ("07 69 67 67 40",)


def _blocks(
    corpus_docs: dict[str, SourceDoc], guide: list[str], cards: list[Card], directory_start: int
) -> list[tuple[list[str], int]]:
    blocks = [(guide[directory_start:], directory_start + 1)]
    blocks += [(guide[c.contacts[0] : c.contacts[-1] + 1], c.contacts[0] + 1) for c in cards]
    for doc in corpus_docs.values():
        lines = doc.lines
        for start in range(0, len(lines), 40):
            blocks.append((lines[start : start + 40], start + 1))
    rng = random.Random(11)
    for lines, first in list(blocks[: len(cards) + 1]):
        shuffled = list(lines)
        rng.shuffle(shuffled)  # lines out of order: whatever is paired, it must still be written in the input
        blocks.append((shuffled, first))
    return blocks


def test_every_extracted_value_is_written_in_the_input(
    corpus_docs: dict[str, SourceDoc], guide: list[str], cards: list[Card], directory_start: int
) -> None:
    blocks = _blocks(corpus_docs, guide, cards, directory_start)
    assert sum(len(extract_people(lines, first)) for lines, first in blocks) > 250  # the property is not vacuous
    for lines, first in blocks:
        written = join_cut_emails(clean_spaces("\n".join(lines)))
        for contact in extract_people(lines, first):
            for value in (contact.name, contact.role, *contact.emails, *contact.phones, *contact.urls):
                assert value is None or value in written, (first, value)
            if contact.organisation is not None:
                assert all(part in written for part in contact.organisation.split()), (first, contact.organisation)
            if contact.line is not None:
                assert first <= contact.line < first + len(lines)
            assert contact.text is None or contact.text in "\n".join(line.rstrip() for line in lines)


def test_a_persons_details_are_written_between_their_name_and_the_next_person(
    guide: list[str], cards: list[Card], directory_start: int
) -> None:
    blocks = [(guide[directory_start:], directory_start + 1)]
    blocks += [(guide[c.contacts[0] : c.contacts[-1] + 1], c.contacts[0] + 1) for c in cards]
    for lines, first in blocks:
        people = [c for c in extract_people(lines, first) if c.name and c.line is not None]
        for person, following in zip(people, [*people[1:], None], strict=True):
            assert person.line is not None
            stop = following.line if following is not None and following.line is not None else first + len(lines)
            own = join_cut_emails("\n".join(lines[person.line - first : stop - first]))
            for value in (*person.emails, *person.phones, *person.urls):
                assert value in own, (person.name, value)


def test_contact_json_round_trip() -> None:
    contact = Contact("Jean Dupont", "chargé de mission", "Ville de Loos", ("j@x.fr",), ("06 11 22 33 44",), ("x.fr",), 12, None)
    assert Contact.from_json(contact.to_json()) == contact
    assert contact.to_json()["emails"] == ["j@x.fr"]
    assert format_contact(Contact(organisation="Ville de Loos", phones=("03 20 10 40 00",))) == "Ville de Loos, 03 20 10 40 00"
    assert format_contact(contact) == "Jean Dupont (chargé de mission, Ville de Loos), j@x.fr, 06 11 22 33 44, x.fr"
