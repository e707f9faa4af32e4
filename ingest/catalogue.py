"""The action catalogue: every action, project or measure of every document as one checked record.

Where the actions are is read from the document's structure (never from file names or line offsets):

- a guide of action cards (``ingest.cards``): one action per card, its parts already told apart
  (title, porteur, description, public, territory, contact block, key figure);
- a deck whose pages repeat a banner (``ingest.actions``): one action per presented action;
- anything else (``ingest.locate``): the dispositifs a table row or a prose item names.

Each field is then read from the action's own lines, the same way for every structure:

- ``public``, ages, QPV condition and Mission Locale sectors come only from *eligibility statements*
  (``ingest.metadata.eligibility_statements``: "Pour les jeunes de…", "Cible : …", "à destination
  des…"), never from statistics, counts of people already served or definitions
  (docs/data-quality.md §7);
- ``contacts`` are people and organisations as the text groups them (``ingest.contacts``);
- ``summary`` is the sentence that says what the action does; ``figures`` the sentences with a count;
- ``situations`` and ``themes`` are keys of the domain vocabulary (``ingest.vocabulary``).

So when a document's wording changes, the record changes with it; nothing about an action is typed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ingest.actions import PART, PERSON_FOR, parse_actions
from ingest.cards import guide_page, is_guide, parse_directory, parse_guide
from ingest.contacts import extract_people
from ingest.enrich import document_epci
from ingest.gazetteer import EPCI_NAMES, Gazetteer, load_gazetteer
from ingest.locate import locate_actions
from ingest.metadata import (
    HORS_QPV,
    eligibility_statements,
    extract_age_range,
    extract_porteur,
    is_eligibility_statement,
    territory,
)
from ingest.missions_locales import find_missions_locales
from ingest.records import Action, Figure, SourceDoc
from ingest.text import AGE_MENTION, CONTACT_HINT, SHORT_WORDS, fold, is_caps, sentences, slug, squash
from ingest.vocabulary import concepts_in

_APOS = "['’]"
WHAT_PART = re.compile(r"^\W*Quoi\b", re.IGNORECASE)  # a deck action's "Quoi ?" part says what it does
# A deck action's "Qui ?" part says who runs it ("► Qui ?", "Qui intervient ?"); its "Intervenants" are the people
# who presented it at the event, not who runs it.
WHO_PART = re.compile(r"^\W*Qui(?:\s+intervient|\s+porte)?\s*\?\s*:?\s*(?P<inline>.*)$", re.IGNORECASE)
# "des Missions Locales Lille Avenirs et Impulsions Sud": the commune in a Mission Locale's name is not
# where the action is (its sectors are ``mission_locale_sectors``).
_ML_NAME = re.compile(
    r"\b(?:Missions?\s+Locales?|ML)\s+(?:de\s+|du\s+|d['’]\s*)?[A-ZÀ-Ý][\w'’-]*(?:[ \t-]+(?:et\s+|de\s+)?[A-ZÀ-Ý][\w'’-]*)*",
)


@dataclass(frozen=True)
class _Block:
    """Where one action's parts are, before its fields are read (0-based line numbers)."""

    kind: str
    title: str
    start: int
    end: int  # exclusive
    body: tuple[int, ...]  # the lines of its text, in reading order
    public: str | None = None  # a public line the structure isolated (the guide's "Pour les …")
    porteur: str | None = None
    territory_text: str | None = None
    contact_lines: tuple[int, ...] = ()
    figure_lines: tuple[int, ...] = ()
    summary_lines: tuple[int, ...] = ()
    section: str | None = None
    page: int | None = None
    text: str | None = None  # the action's own text when it is part of a line (a packed table cell)


# ------------------------------------------------------------------------------------------------
# Where the actions are
# ------------------------------------------------------------------------------------------------


def _guide_blocks(doc: SourceDoc) -> list[_Block]:
    lines = doc.lines
    layout = parse_guide(lines)
    directory = parse_directory(lines, layout.directory_start) if layout.directory_start is not None else []
    blocks = []
    for card in layout.cards:
        title = " ".join(lines[i].strip() for i in card.title)
        emails = {e.lower() for i in card.contacts for e in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", lines[i])}
        body = (*card.title, *card.porteur, *card.description, *card.timeline, *card.public, *card.territory, *card.resources)
        blocks.append(
            _Block(
                kind="card",
                title=title,
                start=card.start,
                end=card.end,
                body=tuple(body),
                public=" ".join(lines[i].strip() for i in card.public) or None,
                porteur=" ".join(lines[i].strip() for i in card.porteur) or None,
                territory_text="\n".join([*(lines[i] for i in card.territory), *(lines[i] for i in card.porteur)]),
                contact_lines=card.contacts,
                figure_lines=(*card.figures, *card.timeline),
                summary_lines=card.description,
                section=card.theme or None,
                page=guide_page(title, emails, directory),
            )
        )
    return blocks


def _who_lines(lines: list[str], start: int, end: int) -> list[str]:
    """The lines of a deck action's "Qui ?" part (its heading's own text first), up to the next part."""
    heading = next(((i, m) for i in range(start, end) if (m := WHO_PART.match(lines[i]))), None)
    if heading is None:
        return []
    at, match = heading
    taken = [match["inline"].strip()] if match["inline"].strip() else []
    for line in lines[at + 1 : end]:
        if PART.match(line) or line.lstrip().startswith(("►", "▶")):
            break
        if line.strip() and not line.rstrip().endswith(":"):  # ("Le réseau des Missions locales :" opens the list)
            taken.append(line.strip().lstrip("-•").strip())
    return taken


def _deck_blocks(doc: SourceDoc) -> list[_Block]:
    banners = set(doc.banners)
    blocks = []
    for action in parse_actions(doc.lines, doc.banners):
        body = tuple(i for i in range(action.start, action.end) if i + 1 not in banners and doc.lines[i].strip())
        # What it does: the line under the title ("Une action de prévention du décrochage…"), then its "Quoi ?" part.
        after_title = max(action.title_lines, default=action.start) + 1
        intro_end = action.parts[1][0] if len(action.parts) > 1 else action.end
        what = [p for p in action.parts[1:] if WHAT_PART.match(doc.lines[p[0]])]
        summary_lines = [i for i in range(after_title, intro_end) if doc.lines[i].strip() and not PERSON_FOR.match(doc.lines[i])]
        summary_lines += [i for a, b in what[:1] for i in range(a + 1, b) if doc.lines[i].strip()]
        # Who runs it: the deck's "Qui ?" / "Qui intervient ?" part ("8 volontaires d'Unis Cité",
        # "5 volontaires de l'Afev"), as the slide writes it.
        who_lines = _who_lines(doc.lines, action.start, action.end)
        blocks.append(
            _Block(
                kind="deck",
                title=action.title,
                porteur=squash(" ; ".join(who_lines[:4])) or None,
                start=action.start,
                end=action.end,
                body=body,
                contact_lines=body,
                figure_lines=body,
                summary_lines=tuple(summary_lines) or body,
                page=doc.pages[action.start] if doc.pages else None,
            )
        )
    return blocks


def _located_blocks(doc: SourceDoc) -> list[_Block]:
    blocks = []
    for span in locate_actions(doc.lines):
        body = tuple(i for i in range(span.start, span.end) if doc.lines[i].strip())
        blocks.append(
            _Block(
                kind=span.kind,
                title=span.title,
                start=span.start,
                end=span.end,
                body=body,
                porteur=span.porteur_hint,
                contact_lines=body,
                figure_lines=body,
                summary_lines=body,
                section=span.section,
                page=doc.pages[span.start] if doc.pages else None,
                text=span.text,
            )
        )
    return blocks


def _blocks(doc: SourceDoc) -> list[_Block]:
    if is_guide(doc.lines):
        return _guide_blocks(doc)
    if doc.banners:
        return _deck_blocks(doc)
    return _located_blocks(doc)


# ------------------------------------------------------------------------------------------------
# Fields
# ------------------------------------------------------------------------------------------------

# A token in capitals ("ATTA", "MAJ'YC"), also after an elided article ("la coordination d'ATTA").
_ACRONYM_TOKEN = re.compile(r"(?:(?<![\w'’])|(?<=\b[dlDL]['’]))[A-Z][A-Za-z'’]{1,10}[A-Z](?![\w'’])")


def acronym_of(title: str, text: str) -> str | None:
    """The acronym the text uses for ``title``: "(MAJ'YC)" after « Mon Avenir J'Y Crois », "ATTA" for
    "Accroche toi à ton avenir" (its letters are the initials of the title's words, short words kept
    or skipped), or None."""
    paren = re.search(r"\(([A-Z][A-Za-z'’]{1,12})\)", title)
    if paren and sum(c.isupper() for c in paren.group(1)) >= 2:
        return paren.group(1)
    name = re.split(r"\s[:–-]\s|\(", title)[0]
    words = re.findall(r"[^\W\d_]+", fold(name))
    if len(words) < 3:
        return None
    initials = {"".join(w[0] for w in words), "".join(w[0] for w in words if w not in SHORT_WORDS)}
    for token in dict.fromkeys(_ACRONYM_TOKEN.findall(text)):
        letters = re.sub(r"[^A-Za-z]", "", token).lower()
        if len(letters) >= 3 and sum(c.isupper() for c in token) >= 3 and letters in initials and fold(token) not in words:
            return token
    return None


_QPV_PHRASE = re.compile(
    r"(?:habitants?|jeunes|résidant|issus?|originaires?|publics?|des|les|aux|en)\s+(?:des\s+|de\s+|en\s+|les\s+)?"
    r"(?:QPV|quartiers?\s+(?:prioritaires?|(?:de\s+la\s+|en\s+)?politique\s+de\s+la\s+ville))\b[^,;.]*",
    re.IGNORECASE,
)
_NOT_ONLY = re.compile(
    r"\b(?:principalement|notamment|en\s+priorité|prioritairement|en\s+particulier|particulièrement|y\s+compris|dont)\b",
    re.IGNORECASE,
)


def qpv_condition(statements: list[str]) -> tuple[str | None, str | None]:
    """("excluded" | "only" | None, the phrase it is read from) for an action's eligibility statements.

    "hors politique de la ville" / "hors QPV" -> excluded; "habitants des quartiers prioritaires",
    "jeunes … des QPV" -> only; "principalement issus de quartiers prioritaires" -> None (a priority,
    not a condition).
    """
    for statement in statements:
        match = HORS_QPV.search(statement)
        if match:
            return "excluded", squash(match.group())
    for statement in statements:
        match = _QPV_PHRASE.search(statement)
        if match and not _NOT_ONLY.search(statement[max(0, match.start() - 40) : match.start() + 5]):
            return "only", squash(match.group())
    return None, None


def _age_evidence(statements: list[str]) -> str | None:
    """The statements the ages are read from, joined by " / " (the public line first)."""
    found = []
    for statement in statements:
        if AGE_MENTION.search(statement):
            ages = extract_age_range(statement, statement)
            if ages.age_min is not None or ages.age_max is not None:
                found.append(statement)
    return " / ".join(found) or None


# "L'action a pour objectif de …", "vise à", "consiste à", "il s'agit de", "est un programme": the
# sentence that says what the action is for; a paragraph's first sentence otherwise.
_DOES = re.compile(
    r"\b(?:a\s+pour\s+(?:objectif|but|ambition|vocation)|vise\s+à|visant\s+à|consiste|s['’]agit|est\s+un\w*\s+(?:programme|dispositif|projet|action|espace|lieu)|"
    r"objectif\s+est|objectifs?\s*:)",
    re.IGNORECASE,
)
# "Cette action s'adresse à …", "Le dispositif est destiné aux …": a sentence saying whom, not what.
_WHO_FOR = re.compile(r"\b(?:s['’]adresse(?:nt)?\s+(?:à|aux)|(?:est|sont)\s+destin[ée]e?s?\s+(?:à|aux))", re.IGNORECASE)
_NOT_SUMMARY = re.compile(
    rf"^\W*(?:Porteurs?\s+de\s+l{_APOS}|Pour\s+en\s+savoir|Intervenant|Contact|Tél|Mail|Site)", re.IGNORECASE
)


def _summary(doc: SourceDoc, block: _Block, skip: Iterable[str]) -> str | None:
    """The sentence that says what the action does: the first one with a "does" verb, else the first long one."""
    text_lines = _text_lines(doc, block) if block.text else _lines_of(doc, block.summary_lines)
    skipped = {squash(s) for s in skip if s}
    found = sentences(text_lines)
    candidates = [
        s
        for s in found
        if len(s.text) >= 30
        and not s.text.rstrip().endswith("?")
        and not _NOT_SUMMARY.match(s.text)
        and squash(s.text) not in skipped
        and not is_caps(s.text)
        and not CONTACT_HINT.search(s.text)
    ]
    # The description paragraph's first sentence, unless it only says whom the action is for ("Cette action
    # s'adresse à des jeunes …": the public line's job), then the next; among bullets only, the one saying
    # what it is for.
    prose = [c.text for c in candidates if not c.bullet]
    items = [c.text for c in candidates if c.bullet]
    if len(prose) > 1 and _WHO_FOR.search(prose[0]) and not _DOES.search(prose[0]):
        prose = prose[1:] + prose[:1]
    best = prose[0] if prose else next((c for c in items if _DOES.search(c)), items[0] if items else None)
    return _clip(best) if best else None


def _clip(sentence: str, limit: int = 400) -> str:
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ") + " …"


# A count of something: "75 jeunes", "1 039 élèves", "20 volontaires", "162 041 €", "56 heures", "15,82 %".
_FIGURE = re.compile(
    r"(?<![\w/.,])(?:\d{1,3}(?:[  .]\d{3})+|\d+)(?:,\d+)?\s*"
    r"(?:%|€|euros?|k€|millions?\s+d['’]euros|(?:jeunes|élèves|étudiant[·.]?\w*|participant[·.]?\w*|personnes|bénéficiaires|"
    r"entreprises|structures|volontaires|bénévoles|heures|ateliers|sessions|actions|familles|filles|garçons|mineurs|majeurs|"
    r"habitants|lycées?|collèges?|partenaires|contrats?|emplois?|places?|logements?|sites?|projets?|inscrits?|salariés?|"
    r"demandeurs|accompagnements?|rencontres|colis|repas|paniers|mois|semaines)\b)",
    re.IGNORECASE,
)
_MAX_FIGURES = 8


def _figures(doc: SourceDoc, block: _Block) -> tuple[Figure, ...]:
    if block.text:
        found = [(block.start, s.text) for s in sentences(_text_lines(doc, block))]
    else:
        numbers = sorted(set(block.figure_lines))
        found = []
        for run in _runs(numbers):
            found += [(s.line, s.text) for s in sentences(_lines_of(doc, run), run[0])]
    figures: list[Figure] = []
    seen: set[str] = set()
    for line, text in found:
        match = _FIGURE.search(text)
        if match is None or AGE_MENTION.fullmatch(match.group().strip()):
            continue
        value = squash(match.group())
        if text in seen or len(figures) >= _MAX_FIGURES:
            continue
        seen.add(text)
        figures.append(Figure(value=value, sentence=_clip(text, 300), line=line + 1))
    return tuple(figures)


def _runs(numbers: list[int]) -> list[list[int]]:
    """Consecutive line numbers grouped (a blank line between two lines keeps them in one run)."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n - runs[-1][-1] <= 2:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


_PARTNERS = re.compile(
    rf"^\W*(?:Partenaires?|En\s+partenariat\s+avec|Avec\s+le\s+soutien\s+de|Co-?porteurs?)\s*(?:{_APOS}|:)?\s*(.+)$",
    re.IGNORECASE,
)


def _partners(lines: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for line in lines:
        match = _PARTNERS.match(line)
        if match:
            found += [squash(p).strip(" .") for p in re.split(r"\s*[,;/]\s*|\s+et\s+", match.group(1)) if len(p.strip()) > 2]
    return tuple(dict.fromkeys(found))


def _epci_name(code: str | None) -> str | None:
    return code if code in (None, "MEL") else EPCI_NAMES.get(code, code)


def _action_epci(document: str | None, scope: str | None, communes: Iterable[str], gazetteer: Gazetteer) -> str | None:
    """The territory an action belongs to: its document's; in a document about both (the PIA note), the
    one its own scope or communes name."""
    if document:
        return _epci_name(document)
    if scope in ("MEL", EPCI_NAMES["CAVM"]):
        return scope
    codes = {gazetteer.epci_of(c) for c in communes} - {None}
    return _epci_name(codes.pop()) if len(codes) == 1 else None


def _lines_of(doc: SourceDoc, numbers: Iterable[int]) -> list[str]:
    """The lines ``numbers`` of ``doc``, a blank line where they are not consecutive (a card's parts
    are not adjacent in the file: a sentence must not run from one part into the next)."""
    out: list[str] = []
    previous = None
    for i in numbers:
        if previous is not None and i != previous + 1:
            out.append("")
        out.append(doc.lines[i])
        previous = i
    return out


_CELL_LABEL = re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý' ]{2,40}\s:\s*")  # "OBJECTIFS : " before a table cell's text


def _text_lines(doc: SourceDoc, block: _Block) -> list[str]:
    """The action's own text, line by line; a table row's cells without their column label."""
    if block.text:
        return [_CELL_LABEL.sub("", line) for line in block.text.split("\n")]
    return _lines_of(doc, block.body)


def _action(doc: SourceDoc, block: _Block, epci: str | None, gazetteer: Gazetteer) -> Action:
    lines = doc.lines
    text_lines = _text_lines(doc, block)
    text = "\n".join(text_lines)
    statements = eligibility_statements(text_lines)
    if block.kind == "table_row" and block.section and " — " in block.section:
        # A table row's priority cell says whom its measures are for ("… des jeunes en difficulté âgés 16 à
        # 25 ans"): after the row's own statements.
        priority = block.section.rsplit(" — ", 1)[1]
        statements += [priority] if is_eligibility_statement(priority) and priority not in statements else []
    if block.public:
        statements = [squash(block.public), *(s for s in statements if squash(s) != squash(block.public))]
    public = statements[0] if statements else None
    eligibility_text = "\n".join(statements)
    ages = extract_age_range(eligibility_text, public)
    porteur = extract_porteur(block.porteur or text) or (squash(block.porteur) if block.porteur else None)
    place = territory(
        block.territory_text if block.territory_text is not None else _ML_NAME.sub(" ", eligibility_text),
        _ML_NAME.sub(" ", public) if public else None,
        porteur,
        gazetteer,
        metropole=epci,
    )
    scope, evidence, communes = place.scope, place.evidence, place.communes
    if scope is None and epci is not None and block.kind not in ("card", "deck"):
        # A measure of a contrat de ville protocol applies to the territory the protocol is for.
        scope, evidence = EPCI_NAMES[epci] if epci == "CAVM" else "MEL", "document"
    qpv, qpv_evidence = qpv_condition(statements)
    if block.text or not block.contact_lines:
        contacts = extract_people(text_lines, block.start + 1)
    else:  # the contact block's lines as laid out, blank lines included (they separate people)
        first, last = min(block.contact_lines), max(block.contact_lines)
        contacts = extract_people(lines[first : last + 1], first + 1)
    described = "\n".join([block.title, text])
    # A card's or a slide's public line is shown as such; an item's first sentence is what it does.
    shown_public = public if block.kind in ("card", "deck") else None
    summary = _summary(doc, block, skip=(block.title, shown_public or "", block.porteur or ""))
    return Action(
        id="",  # set by document_actions (unique per document)
        title=_title(block.title),
        source=doc.source,
        line_start=block.start + 1,
        line_end=max(block.end, block.start + 1),
        document=doc.title,
        kind=block.kind,
        page=block.page,
        acronym=acronym_of(block.title, text),
        porteur=porteur,
        partners=_partners(text_lines),
        public=public,
        age_min=ages.age_min,
        age_max=ages.age_max,
        age_max_extended=ages.age_max_extended,
        age_condition=ages.extension_condition,
        age_evidence=_age_evidence(statements),
        communes=tuple(communes),
        epci=_action_epci(epci, scope, communes, gazetteer),
        territory_scope=scope,
        territory_evidence=evidence,
        qpv=qpv,
        qpv_evidence=qpv_evidence,
        mission_locale_sectors=tuple(find_missions_locales(eligibility_text)),
        # "hors politique de la ville" speaks of QPV without being for QPV residents: ``qpv`` says which.
        situations=tuple(k for k in concepts_in(eligibility_text, "situation") if k != "qpv" or qpv == "only"),
        themes=tuple(concepts_in(described, "need")),
        summary=summary,
        figures=_figures(doc, block),
        contacts=tuple(contacts),
        section=block.section,
    )


def _title(raw: str) -> str:
    """The title as written, whitespace and markup tidied; a leading section number is layout."""
    title = squash(raw.replace("*", ""))
    title = re.sub(r"^\d+(?:\.\d+)*\.?\s+(?=\D)", "", title)
    return title.strip(" -–•")


def document_actions(doc: SourceDoc, gazetteer: Gazetteer | None = None) -> list[Action]:
    """The actions of one (repaired) document, in document order, with stable unique ids:
    "<file name's first part>-<slug of the acronym or title>" ("001-connect-emploi", "004-maj-yc")."""
    gazetteer = gazetteer or load_gazetteer()
    epci = document_epci(doc.text, gazetteer)
    prefix = slug(doc.source.rsplit(".", 1)[0].split("_")[0], 16)
    actions: list[Action] = []
    taken: set[str] = set()
    for block in _blocks(doc):
        if not _title(block.title):
            # A damaged or shuffled text can leave a card's title line empty or only markup: there is no
            # name to show a counsellor, so no action (its passages are still chunked and searchable).
            continue
        action = _action(doc, block, epci, gazetteer)
        base = f"{prefix}-{slug(action.acronym or action.title)}"
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        actions.append(replace(action, id=candidate))
    return actions


def build_catalogue(docs: list[SourceDoc], gazetteer: Gazetteer | None = None) -> list[Action]:
    """Every action of ``docs`` (repaired), in corpus order. Two files whose names start alike
    ("001_a.txt", "001_b.txt") keep unique ids: the second one's get its full name's slug."""
    actions: list[Action] = []
    taken: set[str] = set()
    for doc in docs:
        found = document_actions(doc, gazetteer)
        if any(a.id in taken for a in found):
            prefix = slug(doc.source.rsplit(".", 1)[0], 40)
            found = [replace(a, id=prefix + a.id[a.id.index("-") :]) for a in found]
        taken.update(a.id for a in found)
        actions += found
    return actions


@dataclass(frozen=True)
class CatalogueStats:
    """Shares the report and the issue's acceptance read: how complete the records are."""

    actions: int
    with_public: int
    with_ages: int
    with_contact: int
    by_source: dict[str, int] = field(default_factory=dict)


def catalogue_stats(actions: list[Action]) -> CatalogueStats:
    by_source: dict[str, int] = {}
    for action in actions:
        by_source[action.source] = by_source.get(action.source, 0) + 1
    return CatalogueStats(
        actions=len(actions),
        with_public=sum(1 for a in actions if a.public),
        with_ages=sum(1 for a in actions if a.age_min is not None or a.age_max is not None),
        with_contact=sum(1 for a in actions if any(c.emails or c.phones or c.urls for c in a.contacts)),
        by_source=by_source,
    )
