"""A sentence answers a fact question only when it holds the slot asked for."""

from __future__ import annotations

import pytest

from assistant.answerability import counted_noun, holds, not_stated


@pytest.mark.parametrize(
    ("slot", "sentence", "question", "expected"),
    [
        ("amount", "Une aide de 150 euros par an, 300 euros en situation exceptionnelle.", "", True),
        ("amount", "60 jeunes accompagnés en 2021.", "", False),  # a count is no amount
        ("count", "75 jeunes accompagnés depuis le 1er juillet 2024.", "combien de jeunes ont été accompagnés ?", True),
        ("count", "Un budget de 2 millions d'euros.", "combien de jeunes ?", False),
        ("count", "8 Missions Locales du territoire métropolitain.", "combien de missions locales participent ?", True),
        ("count", "22 lycées professionnels partenaires.", "combien de jeunes ?", False),  # another noun is counted
        ("date", "Le forum a lieu le 12 mars 2019.", "", True),
        ("date", "Lancé en 2016, le dispositif s'étend.", "", True),
        ("date", "Un accompagnement sur mesure.", "", False),
        ("duration", "Un accompagnement de proximité sur une durée d'un an.", "", True),  # in words
        ("duration", "Un parcours de 6 mois.", "", True),
        ("rate", "28% des élèves ont raccroché.", "", True),
        ("hours", "Ouvert de 9h à 12h.", "", True),
        ("hours", "Ouvert le mercredi.", "", False),
        ("phone", "Tél : 03 20 70 32 59", "", True),
        ("papers", "Le jeune fournit son avis d'imposition et une pièce d'identité.", "", True),
        ("papers", "DEVENIR BÉNÉFICIAIRE : prix réduits de -70 à -90 %.", "", False),
        # A group is answered by its own name only; "jeunes" by any name of young people.
        ("count", "8 volontaires d'Unis Cité.", "combien d'élèves ambassadeurs ont été formés ?", False),
        ("count", "91 élèves ambassadeurs formés.", "combien d'élèves ambassadeurs ont été formés ?", True),
        ("count", "8 volontaires d'Unis Cité.", "combien de jeunes ?", True),
        # "c'est gratuit ?" is answered by a sentence saying it is free (or paying), not only by a figure.
        ("amount", "Une offre de formation gratuite au métier de développeur web.", "c'est gratuit ?", True),
        ("amount", "Une offre de formation au métier de développeur web.", "c'est gratuit ?", False),
        # The sum asked is of a thing: another sum of the same passage does not answer it.
        ("amount", "747 € de loyer d'entrée avancés pour trois jeunes.", "le montant du fonds de garantie ?", False),
        ("amount", "Un fonds de garantie de 5 000 € est prévu.", "le montant du fonds de garantie ?", True),
        ("amount", "Budget : 20 000 €.", "le budget de Wi-Filles en 2018 ?", True),  # a name: the action's passage says it
        ("amount", "Cap Quartiers : soutien de 2000€ à tout porteur de projets.", "Cap Quartiers, c'est combien ?", True),
        # "how many permanent jobs": a count of jobs (its last word translated), not any figure.
        ("count", "Une enveloppe de 336 164 euros dédiée aux usages numériques.", "How many permanent jobs were created?", False),
        ("count", "12 emplois créés en CDI.", "How many permanent jobs were created?", True),
        # Those who benefited are counted as "bénéficiaires", whoever the question names; a group otherwise by its name.
        ("count", "852 bénéficiaires depuis septembre 2024.", "How many students have benefited since 2024?", True),
        # … and so are those who used the service it runs.
        ("count", "852 bénéficiaires depuis septembre 2024.", "Combien d'étudiants ont utilisé les épiceries ?", True),
        ("count", "852 bénéficiaires depuis septembre 2024.", "How many students have used the grocery stores?", True),
        ("count", "852 bénéficiaires depuis septembre 2024.", "Combien d'étudiants ont été recrutés ?", False),
        ("count", "852 bénéficiaires depuis septembre 2024.", "combien d'élèves ambassadeurs ont été formés ?", False),
        # How often: a rhythm, not any figure.
        ("frequency", "Le Coop Lab est ouvert une fois par mois.", "il ouvre à quelle fréquence ?", True),
        ("frequency", "Des ateliers hebdomadaires de sport.", "à quel rythme ?", True),
        ("frequency", "Le Coop Lab accueille 40 jeunes.", "il ouvre à quelle fréquence ?", False),
        # A count of an outcome is answered by a count of that outcome, not of young people followed.
        ("count", "149 jeunes accompagnés - 98 entreprises partenaires", "combien ont décroché un emploi ?", False),
        ("count", "60 % de sorties positives, soit 402 jeunes insérés", "combien de jeunes insérés ?", True),
        # A sum per month of a thing named: neither a deposit of it nor another monthly sum.
        ("amount", "747 € de loyer d'entrée avancés pour trois jeunes.", "le loyer mensuel c'est combien ?", False),
        ("amount", "Le CEJ comme tremplin (561,68€/mois)", "le loyer mensuel c'est combien ?", False),
        ("amount", "Le CEJ comme tremplin (561,68€/mois)", "le CEJ, c'est combien par mois ?", True),
        # The year the question gives does not say when.
        ("date", "Création d'un temps fort en 2026.", "c'est quand exactement le temps fort 2026 ?", False),
        ("date", "Un temps fort le 12 mars 2026.", "c'est quand exactement le temps fort 2026 ?", True),
        # A deadline is a date given as one, not the date of another event of the action.
        ("date", "Les candidatures sont ouvertes jusqu'au 15 mai.", "c'est quoi la date limite ?", True),
        ("date", "Résultats des vœux d'orientation le 27 juin.", "c'est quoi la date limite pour orienter un jeune ?", False),
        ("date", "Estimation en 2022 des lycéens décrocheurs.", "la date limite pour s'inscrire ?", False),
    ],
)
def test_holds(slot: str, sentence: str, question: str, expected: bool) -> None:
    assert holds(slot, sentence, question) is expected


def test_counted_noun_and_refusal_text() -> None:
    assert counted_noun("Combien de jeunes MAJ'YC a-t-il accompagnés ?") == "jeunes"
    assert counted_noun("Quel est le budget ?") is None
    assert not_stated("amount", "Cap Quartiers") == "Les documents ne précisent pas le montant pour Cap Quartiers."
    assert not_stated("count", "MAJ'YC", asked="places") == "Les documents ne précisent pas le nombre de places pour MAJ'YC."
    assert not_stated("other") == "Les documents ne précisent pas ce qui est demandé."
    # As written for the answer: accents kept, elided before a vowel.
    assert counted_noun("combien d'élèves ont été formés ?", as_written=True) == "élèves"
    assert not_stated("count", asked="élèves") == "Les documents ne précisent pas le nombre d'élèves."
    assert not_stated("count", asked="emploi") == "Les documents ne précisent pas le nombre d'emplois."
    # A verb of having or remaining between "combien" and what it counts; not any words ("combien coûte …").
    assert counted_noun("Combien reste-t-il de places pour Booster ?", as_written=True) == "places"
    assert counted_noun("combien y a-t-il de sessions par an ?") == "sessions"
    assert counted_noun("combien coûte la formation de développeur ?") is None
    # English: what is counted, in the documents' French (ingest/data/english.tsv)
    assert counted_noun("How many young people did Booster support?") == "jeunes"
    assert counted_noun("how many students use the food banks?", as_written=True) == "étudiants"
    assert holds("count", "Engagement de 20 jeunes en service civique.", "How many young people did Booster support?")
    assert not holds("count", "Un service civique 3 jours par semaine.", "How many young people did Booster support?")
    # Counted so, volunteers or young people are no count of the places left.
    question = "combien reste-t-il de places pour la prochaine promo du programme Booster ?"
    assert not holds("count", "8 volontaires d'Unis Cité", question)
    assert holds("count", "La promotion compte 12 places.", question)


def test_a_share_of_what_is_counted_holds_the_count() -> None:
    question = "combien de sorties positives visées ?"
    assert holds("count", "Le Département prévoit 60% de sorties positives, soit 402 jeunes.", question)
    assert not holds("count", "Le Département prévoit 60% de réussite.", question)


def test_a_count_reads_numbers_in_words_other_names_for_young_people_and_a_count_without_its_noun() -> None:
    question = "combien de jeunes ont signé un contrat ?"
    assert holds("count", "Une dizaine de jeunes par session.", question)
    assert holds("count", "120 bénéficiaires en 2018.", question)  # young people under another name
    assert holds("count", "120 ont signé un contrat d'accompagnement.", question)  # the verb asked, no noun
    assert not holds("count", "Un accompagnement sur mesure des jeunes.", question)  # "un" is an article
    assert not holds("count", "La Ville finance 300 € le BAFA.", question)


def test_a_count_is_a_figure_of_what_is_counted_not_a_year_or_another_thing() -> None:
    from assistant.answerability import counts_noun

    question = "combien de jeunes suivis par l'action ?"
    assert not holds("count", "Estimation en 2022 des jeunes lycéens décrocheurs sur la MEL", question)  # a year
    assert not holds("count", "Présence aux 4 salons de l'étudiant.", question)  # fairs are counted
    assert holds("count", "202 jeunes scolaires en décrochage ont été rencontrés.", question)
    assert holds("count", "15 % des jeunes ont trouvé un emploi.", question)
    partners = "How many partner companies did the programme have?"
    assert holds("count", "(36 entreprises partenaires en 2019).", partners)  # one word before the noun
    # Those an action served ("accompagnés") are its beneficiaries, whoever they are.
    served = "Combien d'étudiants ont été accompagnés par les épiceries ?"
    assert holds("count", "852 bénéficiaires depuis septembre 2024.", served)
    # The very noun counted is the closest answer: "202 jeunes", not "2 430 étudiants".
    assert counts_noun("202 jeunes ont été rencontrés.", question)
    assert not counts_noun("28 % (2 430 étudiants) ne sont plus à l'Université.", question)


def test_an_age_range_is_not_a_duration() -> None:
    assert not holds("duration", "Pour les jeunes de 18 à 26 ans sans emploi.")
    assert holds("duration", "Un accompagnement sur une durée d’un an.")
    assert holds("duration", "Trois semaines de stage en entreprise.")


def test_a_past_year_dates_what_happened_but_not_a_session_to_come() -> None:
    timeline = "2017 Mise en place de l’action - Construction intercommunale du forum."
    assert holds("date", timeline, "Quand a été mis en place le forum emploi ?")
    assert not holds("date", timeline, "C'est quand la prochaine session du forum ?")
    assert not holds("date", "Un accompagnement de 120 jeunes.", "Depuis quand existe l'action ?")
