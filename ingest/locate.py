"""Locate the actions named inside table and prose documents (contrats de ville, notes): spans for the catalogue.

The guide's cards (``ingest.cards``) and the deck's presented actions (``ingest.actions``) already have spans.
This module finds the actions, projects and measures of the other documents, from the text alone (never from
file names or line numbers):

- **tables** (``table_actions``): tab-separated tables whose header names objectives and means or authorities
  ("PRIORITES / OBJECTIFS / AUTORITES RESPONSABLES / MOYENS MOBILISABLES / INDICATEURS DE SUIVI"). The
  objectives cell of a row begins with the action's name glued to its description ("Start'Avenir, un forum
  emploi … Organiser un forum …"): the name ends where the description starts (a capitalised infinitive, a new
  sentence, a colon). A row whose objective is a verb phrase ("Faciliter l'accès …") states an objective, not an
  action. A cell packing several dispositifs (former ``<p>`` items, " ; ") gives one action per dispositif, the
  other cells' items going to the dispositif they share words with. A row with no objective of its own continues
  the action above; an item of the next row that names an action belongs to it (a shifted cell).
- **prose** (``prose_actions``): an item or paragraph that NAMES a dispositif: a cue ("le dispositif X", "le
  projet de X", "l'expérimentation X", "Accompagner X pour", "Suivre X", "s'appuyer sur X", "tel que X") followed
  by a proper name (capitalised words linked by "de", "du", "et"…, an acronym with its expansion, a «quoted»
  name), a capitalised "Projet …"/"Plateforme …", or a name heading an item of a list introduced as
  "dispositifs". Institutions, communes and national frameworks are not actions
  (``ingest/data/not_action_names.tsv``, ``ingest.gazetteer``); items of "Exemples de questions" and "Sources"
  lists are skipped. The porteur hint is the organisation the item says runs or supports it ("… de la Région
  Hauts de France", "porté par la MEL", "Valenciennes Métropole pourra s'appuyer sur …").
- ``locate_actions`` = both, the same action named twice in a document kept once (the mention with the most
  description; adjacent mentions merged).

Every span is 0-based and end-exclusive over the lines of the original file (line ``i`` of the repaired text is
line ``i`` of the file). Pure functions of the lines; the stop-list is package data read once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from itertools import pairwise

from ingest.gazetteer import load_gazetteer
from ingest.text import ITEM_SPLIT, fold, is_section_heading, printed_length
from ingest.tsv import data_rows


@dataclass(frozen=True)
class ActionSpan:
    """One action found in a document: its name, where its description is, who runs it, its context."""

    title: str  # the action's name as written (tidy whitespace, no bullet, no surrounding quotes)
    start: int  # 0-based first line of the description
    end: int  # 0-based, end-exclusive
    kind: str  # "table_row", "item" or "paragraph"
    porteur_hint: str | None  # the authorities cell of a row, or the organisation the item says runs/supports it
    section: str | None  # heading / THEMATIQUES / PRIORITES context
    text: str  # the action's own text (for a packed cell: only that dispositif's items)


# ------------------------------------------------------------------------------------------------
# Words
# ------------------------------------------------------------------------------------------------

_APOS = "['’]"
_WORD = re.compile(r"#?[^\W_][\w]*(?:['’\-][^\W_][\w]*)*")
_ELISION = re.compile(r"^(?:[dlDL]|[Qq]u)['’]")
_UPPER = "A-ZÀ-ÖØ-Þ"
# Lower-case words that link the capitalised words of one name: "Territoire Zéro Chômeurs de Longue Durée".
_CONNECTORS = frozenset(
    {"de", "du", "des", "la", "le", "les", "à", "au", "aux", "et", "en", "pour", "sur", "in", "by", "of", "the", "&"}
)
# Lower-case adjectives that stay inside a name after a capitalised word: "Cité éducative", "Soutien régional à …".
_NAME_ADJECTIVES = frozenset(
    f"{stem}{ending}"
    for stem, endings in {
        "territorial": ("", "e", "es"),
        "territoriaux": ("",),
        "départemental": ("", "e", "es"),
        "départementaux": ("",),
        "régional": ("", "e", "es"),
        "régionaux": ("",),
        "national": ("", "e", "es"),
        "nationaux": ("",),
        "métropolitain": ("", "e", "s", "es"),
        "européen": ("", "ne", "s", "nes"),
        "intercommunal": ("", "e", "es"),
        "urbain": ("", "e", "s", "es"),
        "local": ("", "e", "es"),
        "éducati": ("f", "ve", "fs", "ves"),
        "citoyen": ("", "ne", "s", "nes"),
        "solidaire": ("", "s"),
        "numérique": ("", "s"),
    }.items()
    for ending in endings
)
_CAPITALISED_FUNCTION_WORDS = frozenset(
    {"de", "du", "des", "le", "la", "les", "un", "une", "dans", "pour", "en", "par", "au", "aux", "ce", "cette", "ces", "il"}
    | {"elle", "ils", "elles", "sur", "avec", "afin", "et", "ou", "à", "a", "lors", "selon", "si", "sous"}
)
# First words of an objectives cell that do not start an action's name ("Face au constat …", "Cas particuliers …").
_NOT_NAME_STARTS = frozenset(
    {"face", "cas", "suite", "dans", "pour", "par", "avec", "selon", "sur", "en", "mieux", "afin", "ce", "cet", "cette", "ces"}
    | {"cela", "il", "elle", "ils", "elles", "on", "nous", "leur", "leurs", "son", "sa", "ses"}
)
# Structural labels inside a cell: "Objectif : …", "Raison d'être : …", "Indicateurs : …", "Phase 1 …".
_LABEL = re.compile(rf"^(?:Objectifs?|Raison d{_APOS}être|Indicateurs?|Phase\s*\d+|Modalités|Publics?\s+cibles?)\b", re.I)
# Markers of a finite verb: a sentence ("Le Conseil régional a défini …"), not a name ("Les Ruches d'entreprises …").
_FINITE = re.compile(
    rf"(?:^|\s)(?:est|sont|a|ont|sera|seront|était|permet|permettra|vise|visent|peut|peuvent|doit|fait|font|"
    rf"s{_APOS}\w+|se|sera|il|elle|ils|elles)(?=\s|$)",
    re.I,
)
_ACRONYM = re.compile(rf"[{_UPPER}][{_UPPER}a-z0-9&]{{1,11}}")
_AIRE_VERBS = frozenset({"faire", "refaire", "défaire", "plaire", "extraire", "distraire"})  # -aire is mostly nouns
# Words after which a capitalised word continues a name ("de la Métropole", "une Newsletter").
_LINKS = _CONNECTORS | {"un", "une", "ce", "cet", "cette", "ces", "son", "sa", "ses", "leur", "leurs", "notre", "nos"}


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _key(text: str) -> str:
    """Comparison key: folded, apostrophes and punctuation as spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def _core(token: str) -> str:
    return _ELISION.sub("", token)


def _is_cap(token: str) -> bool:
    core = _core(token)
    return core[:1] == "#" or core[:1].isupper()


def _is_acronym(token: str) -> bool:
    return bool(_ACRONYM.fullmatch(token)) and sum(c.isupper() for c in token) >= 2


def _is_distinctive(token: str) -> bool:
    """A one-word name that cannot be a common word: "PAQTE", "#Versunmétier", "Proch'Emploi", "WeTechCare"."""
    core = token.lstrip("#")
    return token.startswith("#") or _is_acronym(token) or any(c.isupper() for c in core[1:])


def _is_infinitive(token: str) -> bool:
    """A plain capitalised verb in the infinitive ("Organiser", "Permettre"), not "Territoire" or "Start'Avenir"."""
    if not re.fullmatch(r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+", token):
        return False
    low = token.lower()
    if low in _AIRE_VERBS:
        return True
    return low.endswith(("er", "ir", "re", "oir")) and not low.endswith(("oire", "aire", "ière", "ier", "ure"))


def _lower_vocabulary(lines: list[str]) -> frozenset[str]:
    """Folded words written in lower case somewhere in the document: the common words."""
    return frozenset(fold(w) for line in lines for w in _WORD.findall(line) if w[:1].islower())


# ------------------------------------------------------------------------------------------------
# The stop-list of names that are not actions (package data)
# ------------------------------------------------------------------------------------------------


@cache
def _not_action_names() -> tuple[tuple[str, str], ...]:
    """(key, kind) of every entry of ``ingest/data/not_action_names.tsv``, longest first."""
    table = resources.files("ingest").joinpath("data/not_action_names.tsv").read_text(encoding="utf-8")
    entries = [(_key(cells[0]), cells[1]) for _number, cells in data_rows(table, width=2)]
    return tuple(sorted(entries, key=lambda e: -len(e[0])))


def _stop_kind(name: str) -> str | None:
    """The kind of the stop-list entry ``name`` is or starts with, else None."""
    key = _key(re.sub(r"\s*\([^()]*\)\s*$", "", name))
    key = re.sub(r"^(?:l|d) ", "", key)
    for entry, kind in _not_action_names():
        if key == entry or key.startswith(entry + " "):
            return kind
    return None


def _is_institution(text: str) -> bool:
    key = _key(text)
    return any(kind == "institution" and key == e for e, kind in _not_action_names())


def _institution_at(text: str, pos: int) -> bool:
    key = _key(text[pos : pos + 80])
    return any(kind == "institution" and (key == e or key.startswith(e + " ")) for e, kind in _not_action_names())


# ------------------------------------------------------------------------------------------------
# Proper names
# ------------------------------------------------------------------------------------------------

_QUOTES = {"«": "»", '"': '"', "“": "”"}
_PARENTHESIS = re.compile(r"[ \t]*\(([^()]{1,120})\)")


@dataclass(frozen=True)
class _Name:
    title: str
    start: int
    end: int
    org: str | None = None  # "… de la Région Hauts de France": the organisation named right after
    quoted: bool = False
    words: int = 0
    cue: str = ""  # the container word that introduced the name ("dispositif", "projet" …), or "verb"


def _read_quoted(text: str, pos: int) -> _Name | None:
    close = text.find(_QUOTES[text[pos]], pos + 1, pos + 200)
    if close < 0:
        return None
    inner = _tidy(text[pos + 1 : close]).strip(" ,;:")
    if not re.search(r"[^\W\d_]{2}", inner) or len(inner.split()) > 16:
        return None
    if len(inner.split()) == 1 and inner.islower():
        return None  # scare quotes: les dispositifs «classiques»
    return _Name(inner, pos, close + 1, quoted=True, words=len(inner.split()))


def _read_name(text: str, pos: int, stop_at_institution: bool = True) -> _Name | None:
    """The proper name starting at ``pos``: quoted, or capitalised words linked by connectors, plus "(ACRONYM)"."""
    pos += len(text[pos:]) - len(text[pos:].lstrip())
    if pos >= len(text):
        return None
    if text[pos] in _QUOTES:
        return _read_quoted(text, pos)
    words: list[re.Match[str]] = []
    pending: list[re.Match[str]] = []
    org = None
    i = pos
    while match := _WORD.match(text, i):
        token = match.group()
        if _is_cap(token):
            if not words and token.lower() in _CAPITALISED_FUNCTION_WORDS:
                return None  # "Le …", "Les …": the caller strips determiners
            if words and pending and stop_at_institution and _institution_at(text, match.start()):
                named = _read_name(text, match.start(), stop_at_institution=False)
                org = named.title if named else None
                break
            following = _WORD.match(text, match.end() + 1) if text[match.end() : match.end() + 1] == " " else None
            if words and not pending and _is_infinitive(token) and following and not _is_cap(following.group()):
                break  # "EYES Développer les capacités …": the description starts
            words += [*pending, match]
            if pending and pending[-1].group() in ("sur", "à", "en") and load_gazetteer().get(token) is not None:
                # "Urbact sur Lomme et Haubourdin": the place where it happens ends the name
                while (more := re.compile(r"\s+et\s+").match(text, words[-1].end())) and (place := _WORD.match(text, more.end())):
                    if load_gazetteer().get(place.group()) is None:
                        break
                    words.append(place)
                break
            pending = []
        elif token in _CONNECTORS and words:
            pending.append(match)
        elif words and not pending and token.lower() in _NAME_ADJECTIVES:
            words.append(match)
        else:
            break
        gap = re.match(r"[ \t]+", text[match.end() :])
        if not gap:
            break
        i = match.end() + gap.end()
    if not words:
        return None
    end = words[-1].end()
    title = text[words[0].start() : end]
    if (paren := _PARENTHESIS.match(text, end)) is not None:
        inner = _tidy(paren.group(1))
        single_acronym = len(words) == 1 and _is_acronym(words[0].group())
        if (_is_acronym(inner) and not single_acronym) or (single_acronym and inner[:1].isupper() and len(inner.split()) >= 2):
            title, end = f"{title} ({inner})", paren.end()
    caps = sum(1 for w in words if _is_cap(w.group()))
    return _Name(_tidy(title), pos, end, org=org, words=caps)


def _valid_name(name: _Name, vocabulary: frozenset[str]) -> bool:
    """A name that can be an action's: not an institution, territory or framework, not a lone common word."""
    bare = _tidy(re.sub(r"\s*\([^()]*\)$", "", name.title))
    bare = _ELISION.sub("", bare)
    if not bare or _stop_kind(bare) is not None:
        return False
    if name.quoted:
        return True
    if load_gazetteer().get(bare) is not None:
        return False  # a commune
    tokens = bare.split()
    if len(tokens) == 1 and "(" not in name.title:
        if _is_acronym(tokens[0]) and len(tokens[0]) < 3:
            return False  # "PV", "QV": too short to name anything but an abbreviation
        return _is_distinctive(tokens[0]) or fold(tokens[0]) not in vocabulary
    return True


# Cues that introduce a named dispositif. Container words: the name follows ("le dispositif Cap Quartiers", "le
# projet de Garage Numérique", "l'expérimentation Territoire Zéro …", "Dispositif « Nos Quartiers d'Été »"); a
# capitalised "Projet"/"Programme"/"Plateforme" belongs to the name ("Projet d'Initiative Citoyenne").
_CONTAINER = re.compile(
    r"(?<![\w-])(?P<c>(?:[Dd]ispositif|[Pp]rojet|[Pp]rogramme|[Aa]ction|[Ee]xpérimentation|[Oo]pération|[Pp]lateforme)s?"
    r"|[Aa]ppels?\s+à\s+projets?)"
    r"(?:\s+(?:européen|européenne|national|nationale|régional|régionale|départemental|départementale|métropolitain|"
    r"métropolitaine|pilote))?"
    rf"\s+(?P<link>(?:de\s+la|de\s+l{_APOS}|des|du|de|d{_APOS})\s*)?(?=[«\"“#{_UPPER}])"
)
_NAME_PART_CONTAINERS = ("projet", "programme", "plateforme")
_CONTAINER_WORDS = frozenset(
    f"{w}{s}"
    for w in ("dispositif", "projet", "programme", "action", "expérimentation", "opération", "plateforme")
    for s in ("", "s")
)
_DET = rf"(?:(?:le|la|les|un|une|des|du|au|aux|son|sa|ses|leur|leurs|ce|cet|cette|de\s+la|de\s+l{_APOS}|de|l{_APOS}|d{_APOS})\s*)"
# Verb cues: the name follows directly ("Accompagner Pop School pour …", "s'appuyer sur la Micro-Folie …",
# "les dispositifs de l'Etat, tel que le PAQTE"). Not "via" (it names tools and organisations as often).
_VERB_CUE = re.compile(
    rf"(?:(?<![\w-])(?:[Aa]ccompagner|[Ss]uivre|[Ss]outenir|[Rr]econduire)"
    rf"|[Ss]{_APOS}appu(?:yer|yant|ie|iera|ieront)\s+(?:également\s+|notamment\s+|fortement\s+)?sur"
    rf"|(?:dispositifs?|projets?|programmes?|actions?)\b[^.;:]{{0,40}}?\btel(?:le)?s?\s+que)"
    rf"\s+{_DET}?(?=[«\"“#{_UPPER}])"
)
_EXAMPLES = re.compile(r"\((?:[^()]*\b(?:tel(?:le)?s?\s+que|comme|notamment|dont|ex)\b)[^()]*$", re.I)


def _in_parentheses(text: str, pos: int) -> bool:
    """Inside a parenthesis that is not a list of examples ("(plateforme Mob)", not "(tel que le projet X)")."""
    before = text[:pos]
    return before.count("(") > before.count(")") and not _EXAMPLES.search(before)


def _capitalised_before(text: str, pos: int) -> int:
    """Start of the capitalised words right before ``pos`` ("Nouveau Programme …" -> start of "Nouveau")."""
    start = pos
    while match := re.search(rf"(?<![\w'’])([{_UPPER}][a-zà-ÿ'’-]+)\s+$", text[:start]):
        word = match.group(1)
        if word.lower() in _CAPITALISED_FUNCTION_WORDS or _ELISION.match(word) or load_gazetteer().get(word) is not None:
            break
        start = match.start(1)
    return start


def _cue_names(text: str, vocabulary: frozenset[str]) -> list[_Name]:
    """Names introduced by a cue in ``text``, in order, each once."""
    found: list[_Name] = []
    for match in _CONTAINER.finditer(text):
        if _in_parentheses(text, match.start()):
            continue
        name = _read_name(text, match.end())
        if name is None:
            continue
        container = match.group("c")
        if match.group("link") and container.lower().endswith("s"):
            continue  # "les dispositifs de l'Etat", "les actions du PIA": whose, not which
        cue = re.sub(r"s$", "", container.lower().split()[0])
        if not name.quoted and container[0].isupper() and container.lower().startswith(_NAME_PART_CONTAINERS):
            start = _capitalised_before(text, match.start())
            whole = _Name(_tidy(text[start : name.end]), start, name.end, org=name.org, words=name.words + 1, cue=cue)
            if _stop_kind(whole.title) is None and _valid_name(name, vocabulary):
                found.append(whole)
            continue
        if _valid_name(name, vocabulary):
            found.append(replace(name, cue=cue))
    for match in _VERB_CUE.finditer(text):
        if _in_parentheses(text, match.start()):
            continue
        name = _read_name(text, match.end())
        if name is not None and _valid_name(name, vocabulary):
            found.append(replace(name, cue="verb"))
    unique: dict[str, _Name] = {}
    for name in sorted(found, key=lambda n: (n.start, -len(n.title))):
        key = _key(name.title)
        if key and not any(key in k or k in key for k in unique):
            unique[key] = name
    return list(unique.values())


# ------------------------------------------------------------------------------------------------
# Porteur hints
# ------------------------------------------------------------------------------------------------

_AGENT = re.compile(rf"\b\w+(?:é|ée|és|ées)\s+par\s+{_DET}?(?=[{_UPPER}])")  # "porté par la MEL", "piloté par l'ACSRV"
_SUPPORT_VERBS = (
    rf"s{_APOS}appuie|s{_APOS}appuyer|s{_APOS}est\s+appuyée|accompagne|soutient|porte|pilote|organise|anime|finance|"
    r"déploie|met\s+en\s+œuvre|a\s+reconduit|reconduit|sera\s+soutenue?|est\s+soutenue?|appuiera|a\s+décidé"
)
_SUPPORTS = re.compile(rf"\s*,?\s+(?:\w+\s+){{0,2}}?(?:{_SUPPORT_VERBS})\b")


def _porteur(text: str, name: _Name) -> str | None:
    """The organisation the text says runs or supports the named action, when it says so."""
    if name.org:
        return name.org
    for match in _AGENT.finditer(text):
        agent = _read_name(text, match.end(), stop_at_institution=False)
        if agent is not None and agent.title != name.title:
            return agent.title
    before = text[: name.start]
    subject = None
    for word in re.finditer(rf"(?<![\w'’])[{_UPPER}]", before):
        if not _institution_at(before, word.start()):
            continue
        org = _read_name(before, word.start(), stop_at_institution=False)
        if org is not None and _SUPPORTS.match(before, org.end):
            subject = org.title  # the closest organisation that "s'appuie sur", "accompagne", "a reconduit" …
    return subject


# ------------------------------------------------------------------------------------------------
# Prose: items and paragraphs
# ------------------------------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?P<m>[-–•▪*o]|\d{1,2}[.)]|[A-Ha-h][.)]|\d+(?:\.\d+)+\.?)(?:\s+|$)")
_ARROW_HEADING = re.compile(r"^\s*-+\s*>")
_FOOTNOTE = re.compile(rf"^\s*\d{{1,2}}\s+[{_UPPER}]")
_SENTENCE_END = (".", ";", ":", "!", "?", ")")
# A line that ends without punctuation and is nearly as long as the lines around it was wrapped: the next line
# continues it (the width is local: two-column pages wrap at ~50 characters, full pages at ~95).
_WRAPPED_SHARE = 0.7
_WRAPPED_MIN = 30
_WIDTH_WINDOW = 8
_MAX_GAP = 3  # double-spaced text: a paragraph's next line can sit after one or two blank lines
_NEGATIVE_INTRO = re.compile(r"(?:\bquestions?\b|^\s*(?:Sources?|Références|Bibliographie)\b)[^:]*:?\s*$", re.I)
_DISPOSITIFS_INTRO = re.compile(r"\bdispositifs\b[^.]*[:.]\s*$", re.I)


@dataclass
class _Block:
    start: int
    end: int
    kind: str  # "item", "paragraph" or "heading"
    marker: str | None
    text: str


def _marker(line: str) -> str | None:
    if _ARROW_HEADING.match(line):
        return None
    match = _BULLET.match(line)
    if not match:
        return None
    mark = match.group("m")
    return "-" if mark in "-–•▪*" else ("o" if mark == "o" else ("1" if mark[0].isdigit() else "A"))


def _continues(previous: str, line: str, width: int, first: str, adjacent: bool) -> bool:
    """``line`` continues the sentence of ``previous`` (text wrapped at about ``width`` characters).

    Inside a bulleted item any line continues it until a sentence ends (two-column pages wrap items short); a
    numbered heading only continues on a lower-case line or after a linking word.
    """
    stripped = line.strip()
    if _marker(line) is not None or _FOOTNOTE.match(line) or is_section_heading(line) or _ARROW_HEADING.match(line):
        return False
    if stripped[:1].islower() or stripped[:1] in '(«"':
        return True
    last = previous.strip()
    words = last.split()
    if words and (words[-1].lower() in _LINKS or re.search(rf"{_APOS}$", words[-1])):
        return True  # "… du Programme d'Investissement d'Avenir sur la" / "Jeunesse, …"
    if last.endswith(_SENTENCE_END):
        return False
    marker = _marker(first)
    if marker in ("1", "A"):
        return False
    wrapped = printed_length(last) >= max(_WRAPPED_MIN, _WRAPPED_SHARE * width)
    return wrapped or (marker is not None and adjacent)  # "- Renforcement des liens avec l'Education" / "Nationale : …"


def _join(lines: list[str]) -> str:
    text = ""
    for line in (line.strip() for line in lines):
        if text.endswith("-") and line[:1].islower():
            text += line  # "co-" / "construire"
        else:
            text = f"{text} {line}" if text else line
    return _tidy(text)


def _blocks(lines: list[str]) -> list[_Block]:
    """Items, paragraphs and headings of the prose (table lines left out), each over its line span."""
    spans: list[list[int]] = []
    text_lines = [i for i, line in enumerate(lines) if line.strip() and "\t" not in line]
    lengths = [printed_length(lines[i]) for i in text_lines]
    position = {line: k for k, line in enumerate(text_lines)}
    for i in text_lines:
        line = lines[i]
        if spans and i - spans[-1][-1] <= _MAX_GAP and "\t" not in "".join(lines[spans[-1][-1] : i]):
            k = position[spans[-1][-1]]
            width = max(lengths[max(0, k - _WIDTH_WINDOW) : k + _WIDTH_WINDOW + 1])
            if _continues(lines[spans[-1][-1]], line, width, lines[spans[-1][0]], i == spans[-1][-1] + 1):
                spans[-1].append(i)
                continue
        spans.append([i])
    blocks = []
    for numbers in spans:
        first = lines[numbers[0]]
        text = _join([lines[i] for i in numbers])
        marker = _marker(first)
        body = _BULLET.sub("", text, count=1) if marker else text
        # "C) Développer des projets …", "A. Un partenariat Région / EPCI affirmé …" (short, even with a period)
        short = len(text) <= 90 or (len(text) <= 160 and not text.endswith("."))
        numbered = marker in ("1", "A") and short and not text.endswith((";", ",")) and body[:1].isupper()
        if is_section_heading(first) or _ARROW_HEADING.match(first) or numbered:
            kind = "heading"
        elif marker is not None:
            kind = "item"
        elif len(text) <= 120 and not text.endswith((".", ";", ",", ":", ")")) and text[:1].isupper():
            kind = "heading"  # a short title line ("Contexte", "L'intervention de la Région … en politique de la ville")
        else:
            kind = "paragraph"
        blocks.append(_Block(numbers[0], numbers[-1] + 1, kind, marker, body.strip()))
    return blocks


def _item_head_name(text: str, vocabulary: frozenset[str]) -> _Name | None:
    """A name heading an item: "le Soutien Régional à l'Emploi et à l'Innovation (SREI) : …", "« Collège numérique » : …"."""
    if _starts_with_verb(text):
        return None  # "Soutenir le Projet …": the verb cue reads it
    det = re.match(rf"\s*{_DET}?", text, re.I)
    name = _read_name(text, det.end() if det else 0)
    if name is None or not _valid_name(name, vocabulary):
        return None
    return name if name.quoted or "(" in name.title or name.words >= 2 else None


def prose_actions(lines: list[str]) -> list[ActionSpan]:
    """Actions named in the prose (items and paragraphs) of ``lines``; table lines are left out."""
    vocabulary = _lower_vocabulary(lines)
    blocks = _blocks(lines)
    found: list[ActionSpan] = []
    section: str | None = None
    intro: tuple[str, str | None] | None = None  # ("negative" | "dispositifs", marker of the list's items)
    for index, block in enumerate(blocks):
        if block.kind == "heading":
            section, intro = block.text.rstrip(" :"), None
            continue
        if block.kind == "paragraph":
            if _NEGATIVE_INTRO.search(block.text):
                intro = ("negative", None)
                continue
            intro = ("dispositifs", None) if _DISPOSITIFS_INTRO.search(block.text) else None
        elif intro is not None:
            if intro[1] is None:
                intro = (intro[0], block.marker)
            elif intro[1] != block.marker:
                intro = None
        if block.kind == "item" and (block.text.rstrip().endswith("?") or (intro and intro[0] == "negative")):
            continue
        names = _cue_names(block.text, vocabulary)
        if block.kind == "item":
            head = _item_head_name(block.text, vocabulary)
            defines = head is not None and (
                (intro is not None and intro[0] == "dispositifs") or re.match(r"\s*:", block.text[head.end :])
            )
            if head is not None and defines and not any(_key(head.title) in _key(n.title) for n in names):
                names.insert(0, head)
        for name in names:
            end, text = block.end, block.text
            if block.kind == "item" and len(_BULLET.sub("", lines[block.start]).strip()) - len(name.title) < 30:
                # The item only names the dispositif ("- Le dispositif « Résidence d'artistes en collège »"):
                # its description is in the paragraphs that follow, up to the next item or heading.
                for following in blocks[index + 1 :]:
                    if following.kind != "paragraph" or _NEGATIVE_INTRO.search(following.text):
                        break
                    end, text = following.end, f"{text}\n{following.text}"
            found.append(ActionSpan(name.title, block.start, end, block.kind, _porteur(block.text, name), section, text))
    return found


# ------------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------------

_ROLES = (
    ("objectives", ("OBJECTIF", "ACTION")),
    ("authority", ("AUTORIT", "RESPONSABLE", "PORTEUR", "PILOTE")),
    ("means", ("MOYEN",)),
    ("indicators", ("INDICATEUR", "SUIVI", "EVALUATION")),
    ("priority", ("PRIORIT", "THEMATIQUE", "AXE", "ENJEU")),
)
_LABELS = {"objectives": "OBJECTIFS", "means": "MOYENS MOBILISABLES", "indicators": "INDICATEURS DE SUIVI"}


def _header_roles(line: str) -> dict[str, int] | None:
    """Column index of each role when ``line`` is the header of an objectives table, else None."""
    cells = [_tidy(c) for c in line.split("\t")]
    if sum(1 for c in cells if c) < 3 or any(len(c) > 40 for c in cells):
        return None
    roles: dict[str, int] = {}
    for i, cell in enumerate(cells):
        letters = re.sub(r"[^A-Z]", "", fold(cell).upper())
        for role, words in _ROLES:
            if letters and any(w in letters for w in words):
                roles.setdefault(role, i)
                break
    return roles if "objectives" in roles and ("authority" in roles or "means" in roles) else None


def _looks_like_header(line: str) -> bool:
    """A header row of some table: short cells in capitals."""
    cells = [_tidy(c) for c in line.split("\t") if c.strip()]
    return len(cells) >= 2 and all(len(c) <= 40 and c.upper() == c and any(ch.isalpha() for ch in c) for c in cells)


def _starts_with_verb(text: str) -> bool:
    """The text starts with an infinitive: "Faciliter l'accès …", "S'appuyer sur …", "Co-concevoir avec …"."""
    tokens = _WORD.findall(text)
    if not tokens:
        return False
    first = re.sub(r"^[Ss]['’]|^\w{1,3}-(?=\w{4,}$)", "", tokens[0])  # reflexive "S'", prefix "Co-"
    first = first[:1].upper() + first[1:]
    if first.lower().endswith("ier") and re.fullmatch(r"[A-ZÀ-ÖØ-Þ][a-zà-ÿ]+", first):
        return len(tokens) > 1 and not _is_cap(tokens[1])  # "Identifier les …", not "Quartier Nord"
    return _is_infinitive(first)


def _head_boundary(unit: str, vocabulary: frozenset[str]) -> int | None:
    """Where the name glued at the start of ``unit`` ends and its description begins (None: no boundary)."""
    tokens = [m for m in re.finditer(r"#?[^\W_][\w]*(?:['’\-][^\W_][\w]*)*|[«»\"“”()]|[.!?](?=\s|$)|[:;]", unit)]
    depth = 0
    quoted = in_name = False
    first = tokens[0].group().lstrip("#").lower() if tokens else ""
    hashtag = bool(tokens) and tokens[0].group().startswith("#")
    for k, (previous, match) in enumerate(pairwise(tokens), start=1):
        token = match.group()
        if token in "«“" or (token == '"' and not quoted):
            quoted = True
            continue
        if token in "»”" or (token == '"' and quoted):
            quoted = False
            continue
        if token == "(":
            depth += 1
            continue
        if token == ")":
            depth = max(0, depth - 1)
            continue
        if quoted or depth:
            continue
        after = tokens[k + 1].group() if k + 1 < len(tokens) else ""
        if token in ".!?;":
            return match.start()
        if token == ":":
            # "Développement des incubateurs économiques : Blanchemaille by Euratech à Roubaix Poursuivre …":
            # a proper name after the colon, itself glued to a description, belongs to the head.
            name = _read_name(unit, match.end())
            rest = unit[name.end :].split() if name is not None else []
            if name is not None and name.words >= 2 and rest and _is_infinitive(rest[0]):
                return name.end
            return match.start()
        if hashtag and token.lower() == first:
            return match.start()  # "#Agir pour réussir agir pour développer …": the description repeats the name
        prev = previous.group()
        if _LABEL.match(unit[match.start() :]):
            return match.start()  # "… 2019-2022 Raison d'être : …"
        if _is_cap(token) and _core(prev).lower() in _CONTAINER_WORDS:
            in_name = True  # "l'expérimentation Zéro Chômeurs de longue durée": a name, no boundary inside
            continue
        if in_name and (_is_cap(token) or token in _CONNECTORS):
            continue
        in_name = False
        if not _is_cap(token) or _is_acronym(token) or prev.lower() in _LINKS or prev in '«“"(' or _ELISION.match(token):
            continue
        if _is_infinitive(token) and (not after or not _is_cap(after)):
            return match.start()  # "… des quartiers prioritaires Organiser un forum …"
        if token.lower() in _CAPITALISED_FUNCTION_WORDS:
            return match.start()  # "#Versunmétier De manière hebdomadaire …"
        if _is_distinctive(token) or token.lower() in _NAME_ADJECTIVES or not after or after in '«“"(':
            continue
        next_word = _word_after_links(tokens, k + 1)
        if after not in _CONNECTORS and not _is_cap(after) and after[:1].isalpha():
            return match.start()  # "Mel toi du Territoire Semaine ou mois …": a new phrase starts
        if fold(token) in vocabulary and next_word is not None and not _is_cap(next_word):
            return match.start()  # "Développement du PAQTE Mobilisation du monde …", "Activ'Emploi Destinée à …"
    return None


def _word_after_links(tokens: list[re.Match[str]], k: int) -> str | None:
    """The first word from ``tokens[k]`` on that is not a connector ("du monde" -> "monde", "et Emploi" -> "Emploi")."""
    for match in tokens[k:]:
        if match.group() not in _CONNECTORS:
            return match.group() if match.group()[:1].isalnum() else None
    return None


def _glued_name(unit: str) -> _Name | None:
    """A name glued to a lower-case infinitive: "Proch'Orientation contribuer à …", "EYES Développer …"."""
    name = _read_name(unit, 0)
    if name is None or name.quoted:
        return None
    rest = unit[name.end :].split()
    if not rest or not re.fullmatch(r"[a-zà-ÿA-ZÀ-Þ][a-zà-ÿ]+", rest[0]):
        return None
    verb = rest[0][0].upper() + rest[0][1:]
    distinctive = name.words >= 2 or _is_distinctive(name.title.split()[0])
    return name if distinctive and _is_infinitive(verb) and _stop_kind(name.title) is None else None


def _prefer_quoted(title: str) -> str:
    """ "Appel à projet « Entreprendre autrement avec la MEL »" -> the quoted name."""
    match = re.search(r"[«\"“]\s*([^»\"”]{3,})\s*[»\"”]", title)
    before = title[: match.start()].strip().lower() if match else ""
    if match and (not before or before.split()[0] in ("appel", "appels", "dispositif", "projet", "action", "programme")):
        return _tidy(match.group(1))
    return title


def _clean_title(title: str) -> str:
    title = _tidy(title).strip(" ,;:-–")
    return _prefer_quoted(title).strip(' «»"“”')


def _head(unit: str, vocabulary: frozenset[str], first: bool) -> tuple[str, str] | None:
    """The name an objectives unit begins with and how it ends ("glued", "bounded", "whole"), or None (description)."""
    unit = unit.strip()
    if not unit or _LABEL.match(unit) or _starts_with_verb(unit):
        return None
    glued = _glued_name(unit)
    if glued is not None:
        return glued.title, "glued"
    words = _WORD.findall(unit)
    if not words or words[0][:1].isdigit() or words[0].lower() in _NOT_NAME_STARTS:
        return None
    if all(w.isupper() or w.isdigit() for w in words) or _is_institution(unit):
        return None  # "MEL / URHLM": an authority in the objectives column
    boundary = _head_boundary(unit, vocabulary)
    title = _clean_title(unit[:boundary] if boundary is not None else unit)
    if title and title.split()[-1].lower() in _CONNECTORS | {"afin", "d'", "d’"}:
        # "Création d'un comité culture rassemblant … afin de : …": the name ends before the participle clause
        participle = re.search(r"\s\w+ant\s", title)
        title = _clean_title(title[: participle.start()]) if participle else ""
    if len(title) > 200 or not title:
        return None
    # Later sentences of a cell are description unless they are a short verbless name: "EYES Développer …",
    # "Les Ruches d'entreprises comme outils de création d'activités en QPV", not "Le Conseil régional a défini …".
    if not first and (len(title.split()) > 15 or _FINITE.search(title) or (boundary is None and len(unit.split()) > 15)):
        return None
    return title, ("bounded" if boundary is not None else "whole")


_SENTENCES = re.compile(rf"(?<=[.!?])\s+(?=[#«\"{_UPPER}])")


@dataclass
class _RowAction:
    title: str
    row: int
    units: list[tuple[int, str]] = field(default_factory=list)  # (item of the cell, sentence)
    means: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    porteurs: list[str] = field(default_factory=list)
    end: int = 0
    section: str | None = None


def _split_heads(text: str, vocabulary: frozenset[str]) -> list[_RowAction]:
    """The actions an objectives cell holds, each with its own units of text."""
    actions: list[_RowAction] = []
    items = [i.strip() for i in ITEM_SPLIT.split(text) if i.strip()]
    for n, item in enumerate(items):
        sentences = [s for s in _SENTENCES.split(item) if s.strip()]
        for m, sentence in enumerate(sentences):
            is_first = not actions and n == 0 and m == 0
            head = _head(sentence, vocabulary, first=is_first)
            title = head[0] if head else None
            if head is not None and not is_first and head[1] == "bounded":
                # a name glued to its description: "Activ'Emploi Destinée à …", "Appel à projet « … » Entreprendre …"
                words = head[0].split()
                if len(words) > 8 or not (any(_is_distinctive(w) for w in words) or re.search(r"[«\"“]", sentence[:60])):
                    title = None
            elif head is not None and not is_first and head[1] == "whole":
                # a verbless last sentence is a name only when description follows it ("Essai … durée ; Co-concevoir …")
                following = items[n + 1] if m == len(sentences) - 1 and n + 1 < len(items) else ""
                if not (_starts_with_verb(following) or _LABEL.match(following)):
                    title = None
            if title is None and is_first:
                title = _verb_object_name(sentence, vocabulary)
            if title is not None:
                actions.append(_RowAction(title, 0, [(n, sentence)]))
            elif actions:
                actions[-1].units.append((n, sentence))
            elif is_first:
                return []  # a verb phrase: the row states an objective, not an action
    return actions


def _verb_object_name(sentence: str, vocabulary: frozenset[str]) -> str | None:
    """The dispositif an objective's verb acts on, named with its acronym: "Positionner le Fonds Métropolitain
    d'aides aux Jeunes (FAJeM) comme un outil …" names the FAJeM; "Faciliter l'accès …" names nothing."""
    if not _starts_with_verb(sentence):
        return None
    # The name runs from its capital to its acronym; it may hold lower-case words ("d'aides aux").
    found = re.match(rf"\S+\s+{_DET}(?P<name>[{_UPPER}][^().;:]{{3,80}}?)\s*\((?P<acronym>[^()]{{2,12}})\)", sentence)
    if found is None or not _is_acronym(found.group("acronym")):
        return None
    name = _Name(f"{_tidy(found.group('name'))} ({found.group('acronym')})", found.start("name"), found.end())
    return name.title if _valid_name(name, vocabulary) else None


def _shared_score(item: str, action: _RowAction, vocabulary: frozenset[str]) -> int:
    """Words an item shares with an action: its name's acronyms (5) and proper words (3), its text's words (1)."""

    def words(text: str) -> set[str]:
        return {_ELISION.sub("", w) for w in _WORD.findall(text) if len(w) >= 5 or _is_acronym(w)}

    def stems(text: str) -> set[str]:
        return {fold(w)[:6] for w in words(text) if len(w) >= 5}

    mine = words(item)
    score = 0
    for word in words(action.title) & mine:
        score += 5 if _is_acronym(word) else (1 if fold(word) in vocabulary else 3)
    return score + len(stems(item) & stems(" ".join(u for _, u in action.units)))


def _distribute(items: list[str], actions: list[_RowAction], vocabulary: frozenset[str]) -> list[list[str]]:
    """Items of a cell shared out between the row's actions: all to one action; else by words in common."""
    shares: list[list[str]] = [[] for _ in actions]
    if len(actions) <= 1:
        if actions:
            shares[0] = items
        return shares
    for item in items:
        scores = sorted(((_shared_score(item, a, vocabulary), k) for k, a in enumerate(actions)), reverse=True)
        if scores[0][0] >= 2 and scores[0][0] > scores[1][0]:
            shares[scores[0][1]].append(item)
    return shares


def _owners(authorities: list[str], actions: list[_RowAction]) -> list[str]:
    """One authority item per action of a packed row: the one naming what the action's text names, else in order."""
    owners: list[str | None] = [None] * len(actions)
    free = list(authorities)
    for authority in authorities:
        names = {w for w in re.findall(r"[\w'’]+", authority) if _is_acronym(w) and _stop_kind(w) is None}
        hits = [k for k, a in enumerate(actions) if names & set(re.findall(r"[\w'’]+", " ".join(u for _, u in a.units)))]
        if len(hits) == 1 and owners[hits[0]] is None:
            owners[hits[0]] = authority
            free.remove(authority)
    return [owner if owner is not None else free.pop(0) for owner in owners]


def _items(cell: str) -> list[str]:
    return [_tidy(i) for i in ITEM_SPLIT.split(cell) if len(_tidy(i)) > 3]


def _join_units(units: list[tuple[int, str]]) -> list[str]:
    """Sentences of one cell item joined back with a space, items kept apart."""
    joined: list[str] = []
    for k, (item, sentence) in enumerate(units):
        if k and units[k - 1][0] == item:
            joined[-1] = f"{joined[-1]} {sentence}"
        else:
            joined.append(sentence)
    return joined


def _row_text(action: _RowAction) -> str:
    parts = [("objectives", _join_units(action.units)), ("means", action.means), ("indicators", action.indicators)]
    return "\n".join(f"{_LABELS[role]} : {' ; '.join(values)}" for role, values in parts if values)


def _contains_name(text: str, title: str) -> bool:
    key = _key(title)
    return bool(key) and f" {key} " in f" {_key(text)} "


def table_actions(lines: list[str]) -> list[ActionSpan]:
    """Actions of the objectives tables of ``lines`` (one per named row or packed dispositif)."""
    vocabulary = _lower_vocabulary(lines)
    found: list[ActionSpan] = []
    heading_lines: list[str] = []
    last_heading = -3
    roles: dict[str, int] | None = None
    priority = ""
    previous: list[_RowAction] = []
    table: list[_RowAction] = []

    def flush() -> None:
        for action in table:
            text = _row_text(action)
            porteur = " ; ".join(dict.fromkeys(p for p in action.porteurs if p)) or None
            found.append(ActionSpan(action.title, action.row, action.end, "table_row", porteur, action.section, text))
        table.clear()

    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if "\t" not in line:
            if roles is not None:
                flush()
            roles, previous = None, []
            if is_section_heading(line):
                heading_lines = [*heading_lines, line.strip()] if i <= last_heading + 2 else [line.strip()]
                last_heading = i
            continue
        header = _header_roles(line)
        if header is not None or _looks_like_header(line):
            # a new table: an objectives table, or another one ("NOM / PRENOM / VILLE") that ends the current one
            if roles is not None:
                flush()
            roles, priority, previous = header, "", []
            continue
        if roles is None:
            continue
        cells = [_tidy(c) for c in line.split("\t")]

        def cell(role: str, cells: list[str] = cells, roles: dict[str, int] = roles) -> str:
            index = roles.get(role)
            return cells[index] if index is not None and index < len(cells) else ""

        objectives, authority = cell("objectives"), cell("authority")
        if cell("priority"):
            priority = cell("priority")
        section = " — ".join(p for p in (" — ".join(heading_lines[-2:]), priority) if p) or None
        means, indicators = _items(cell("means")), _items(cell("indicators"))
        if not objectives and not cell("priority") and previous:
            # A row with no objective of its own continues the action above (more means, more authorities).
            last = previous[-1]
            last.means += means
            last.indicators += indicators
            last.porteurs.append(authority)
            last.end = i + 1
            continue
        if _starts_with_verb(objectives) and len(authority) > 150 and not _starts_with_verb(authority):
            # Shifted columns: the objectives sit in the authorities column, the authority in its last item.
            parts = _items(authority)
            tail = parts[-1] if parts and len(parts[-1]) <= 60 and _stop_kind(parts[-1]) == "institution" else ""
            objectives = " ; ".join(p for p in parts if p != tail) if tail else authority
            authority = tail
        if not authority:
            # "… par le biais du PASS VAE. Région Hauts-de-France": the authority written at the end of the objectives
            tail = _SENTENCES.split(objectives)[-1].strip(" .;")
            if len(tail.split()) <= 5 and _stop_kind(tail) == "institution":
                authority, objectives = tail, objectives[: objectives.rfind(tail)].rstrip()
        actions = _split_heads(objectives, vocabulary)
        authorities = [_tidy(a) for a in ITEM_SPLIT.split(authority) if a.strip()]
        owners = _owners(authorities, actions) if len(authorities) == len(actions) > 1 else [authority] * len(actions)
        for action, owner in zip(actions, owners, strict=True):
            action.row, action.end, action.section = i, i + 1, section
            action.porteurs = [owner]
        for action, share in zip(actions, _distribute(means, actions, vocabulary), strict=True):
            action.means = share
        for action, share in zip(actions, _distribute(indicators, actions, vocabulary), strict=True):
            action.indicators = share
        # An item of this row naming an action of the row above belongs to it ("La demande d'activ'Emploi se fait …").
        for earlier in previous:
            proper = any(_is_distinctive(w) for w in earlier.title.split()) or sum(_is_cap(w) for w in earlier.title.split()) >= 2
            if not proper or len(earlier.title.split()) > 4 or any(_contains_name(a.title, earlier.title) for a in actions):
                continue
            for role, values in (("means", means), ("indicators", indicators)):
                for value in [v for v in values if _contains_name(v, earlier.title)]:
                    getattr(earlier, role).append(value)
                    earlier.end = i + 1
                    for action in actions:
                        if value in getattr(action, role):
                            getattr(action, role).remove(value)
        heads = list(actions)
        # Dispositifs named by a cue in the row's cells ("Développer le dispositif "Promeneurs du net"").
        titles = [a.title for a in actions]
        for role, values in (("objectives", [objectives] if not actions else []), ("means", means)):
            for value in values:
                for name in _cue_names(value, vocabulary):
                    if heads and name.cue != "dispositif":
                        continue  # a row's own action: its means name only what it mobilises, unless a dispositif
                    title = _clean_title(name.title)
                    if any(_key(title) in _key(t) for t in titles):
                        continue
                    titles.append(title)
                    cued = _RowAction(title, i, end=i + 1, section=section, porteurs=[authority])
                    if role == "objectives":
                        cued.units.append((0, value))
                    else:
                        cued.means.append(value)
                    actions.append(cued)
        table.extend(actions)
        previous = heads
    flush()
    return found


# ------------------------------------------------------------------------------------------------
# Both, de-duplicated
# ------------------------------------------------------------------------------------------------


def _same_action(a: ActionSpan, b: ActionSpan) -> bool:
    ka, kb = (_key(re.sub(r"\s*\([^()]*\)", "", s.title)) for s in (a, b))
    ka, kb = (re.sub(r"^(?:le|la|les|l) ", "", k) for k in (ka, kb))
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    short, long_ = sorted((ka, kb), key=len)
    return len(short.split()) <= 3 and f" {short} " in f" {long_} "


def locate_actions(lines: list[str]) -> list[ActionSpan]:
    """Every action of the document: table rows and named dispositifs of the prose, each name once."""
    candidates = sorted(table_actions(lines) + prose_actions(lines), key=lambda s: (s.start, s.end))
    kept: list[ActionSpan] = []
    for span in candidates:
        same = next((k for k, other in enumerate(kept) if _same_action(other, span)), None)
        if same is None:
            kept.append(span)
            continue
        other = kept[same]
        if span.start <= other.end + 2 and span.kind == other.kind != "table_row":
            # adjacent mentions of one action: one span
            merged_text = other.text if span.text in other.text else f"{other.text}\n{span.text}"
            kept[same] = ActionSpan(
                other.title,
                other.start,
                max(other.end, span.end),
                other.kind,
                other.porteur_hint or span.porteur_hint,
                other.section,
                merged_text,
            )
        elif len(span.text) > len(other.text):
            kept[same] = span
    return sorted(kept, key=lambda s: (s.start, s.end, s.title))
