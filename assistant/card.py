"""An answer as HTML for the chat: a person answer as action cards, any other answer as its short text.

A person answer (``Answer.pistes``) reads: a heading with the person understood as chips (age and place
removable: the chat asks again without them), one card per action (title, porteur, *Pour qui*, *Ce que
propose l'action*, *Pourquoi ça colle*, *À vérifier*, *Contact* with copy, ``tel:`` and ``mailto:`` links,
its source), the first three shown and "Voir les N autres" for the rest, the ruled-out actions collapsed
one line each, and a link to the handout of the actions shown. Every value is a field of the answer's
record: the card adds no fact its text does not hold. The catalogue view draws the same card from an
``Action`` (``action_card``).

The HTML is one block without blank lines: Gradio's chatbot renders markdown, and a blank line would end
the raw HTML block. Its sanitizer keeps tags, classes and an anchor's ``href`` but drops ``data-*``,
``aria-*`` and buttons' attributes: so every control is an anchor whose address says what it does
("#rp-copier:<text>", "#rp-retirer:<words>", "#rp-demander:<question>"), the chat's script
(``assistant/static/chat.js``) acts on them, and names for screen readers are visually hidden text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from html import escape
from urllib.parse import quote, urlencode

from assistant.compose import UNSTATED, split_reasons
from assistant.handout import ages_of, email_href, phone_href, url_href
from assistant.records import CONDITION, EXCLUDED, FIT, MORE, Answer, Citation, Piste
from index.catalogue import Listed
from index.eligibility import UNKNOWN, Verdict
from ingest.contacts import format_contact
from ingest.records import Action
from ingest.text import MARKER
from ingest.vocabulary import label as concept_label

SHOWN_CARDS = 3  # cards open at once; "Voir les N autres" opens the rest
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_SECTION_LINE = re.compile(r"^\*\*(?:Autres pistes|Sous condition|Ne conviennent pas)\*\*")
_HEADING = re.compile(r"^\*\*((?:Autres p|P)istes pour ce jeune)\*\*(?: \((.*)\))?$")
_NUMBERED = re.compile(r"^\d+\. ")


def _control(verb: str, value: str) -> str:
    """The address of a card's control: what the chat's script does ("copier") and with what."""
    return escape(f"#rp-{verb}:{quote(value, safe='')}")


def _inline(text: str, link: Callable[[int], str | None]) -> str:
    """One line of the answer's markdown as HTML: escaped, bold kept, each ``[n]`` a link to its passage."""
    html = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", escape(text, quote=False))

    def cited(match: re.Match[str]) -> str:
        href = link(int(match.group(1)))
        n = match.group(1)
        if href is None:
            return match.group(0)
        return f'<a class="rp-cite" href="{escape(href)}"><span class="rp-sr">Source </span>[{n}]</a>'

    return MARKER.sub(cited, html)


def _paragraphs(lines: Iterable[str], link: Callable[[int], str | None]) -> str:
    """Paragraphs and "- " lists of the answer's text as HTML."""
    out: list[str] = []
    for block in lines:
        rows = block.split("\n")
        if all(r.startswith("- ") for r in rows if r.strip()):
            out.append("<ul>" + "".join(f"<li>{_inline(r[2:], link)}</li>" for r in rows if r.strip()) + "</ul>")
        elif block.startswith("> "):
            out.append(f'<p class="rp-note">{_inline(block[2:], link)}</p>')
        else:
            out.append("<p>" + "<br>".join(_inline(r, link) for r in rows) + "</p>")
    return "".join(out)


def _contact_html(contact: str, emails: Iterable[str], phones: Iterable[str], urls: Iterable[str]) -> str:
    # (The handout's addresses: a site that is no http(s) address, a number without digits, get no link.)
    buttons = [f'<a class="rp-btn" href="{escape(h)}">Appeler le {escape(p)}</a>' for p in phones if (h := phone_href(p))]
    buttons += [f'<a class="rp-btn" href="{escape(h)}">Écrire à {escape(e)}</a>' for e in emails if (h := email_href(e))]
    buttons += [f'<a class="rp-btn" href="{escape(h)}" target="_blank">Site {escape(u)}</a>' for u in urls if (h := url_href(u))]
    if contact:
        buttons.append(f'<a class="rp-btn rp-copy" href="{_control("copier", contact)}">Copier le contact</a>')
    return f"<p>{escape(contact)}</p>" + (f'<p class="rp-actions">{"".join(buttons)}</p>' if buttons else "")


def piste_card(piste: Piste, source: tuple[str, str] | None = None, ask: str = "") -> str:
    """One action as a card. ``source``: (address, label) of its passage; ``ask``: a question the card's
    "Poser une question" button puts in the chat (the catalogue)."""
    title = escape(piste.title) + (f" <span class='rp-acronym'>({escape(piste.acronym)})</span>" if piste.acronym else "")
    badge = '<span class="rp-badge">Sous condition</span>' if piste.section == CONDITION else ""
    rows: list[tuple[str, str]] = []
    if piste.public:
        rows.append(("Pour qui", escape(piste.public)))
    if piste.offer:
        rows.append(("Ce que propose l'action", escape(piste.offer)))
    if piste.fits:
        rows.append(("Pourquoi ça colle", "<br>".join(escape(f) for f in piste.fits)))
    if piste.check:
        rows.append(("À vérifier", "<br>".join(escape(c.removeprefix("à vérifier : ")) for c in piste.check)))
    if piste.contact or piste.phones or piste.emails or piste.urls:
        rows.append(("Contact", _contact_html(piste.contact, piste.emails, piste.phones, piste.urls)))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    foot = []
    if source is not None:
        href, where = source
        n = f"[{piste.n}] " if piste.n else ""
        foot.append(f'<a class="rp-source" href="{escape(href)}">{n}Source : {escape(where)}</a>')
    if ask:
        foot.append(f'<a class="rp-btn rp-ask" href="{_control("demander", ask)}">Poser une question sur cette action</a>')
    if piste.action_id:
        # The handout of this action alone; the box beside it puts the action in the handout of the answer
        # (or of the catalogue): the script reads the action's id from this link.
        fiche = escape(f"fiche?{urlencode({'a': piste.action_id})}")
        foot.append(f'<a class="rp-fiche" href="{fiche}" target="_blank">Fiche de cette action</a>')
        foot.append('<label class="rp-pick"><input type="checkbox"> Pour la fiche du jeune</label>')
    return (
        '<article class="rp-card">'
        f'<h4 class="rp-title">{title}{badge}</h4>'
        + (f'<p class="rp-porteur">{escape(piste.porteur)}</p>' if piste.porteur else "")
        + f"<dl>{body}</dl>"
        + (f'<p class="rp-foot">{"".join(foot)}</p>' if foot else "")
        + "</article>"
    )


def _chips(answer: Answer) -> str:
    """The person understood, as chips; age and place removable (the chat asks again without them)."""
    f = answer.filters or {}
    chips: list[tuple[str, str]] = []  # (shown, text to remove from the question, or "")
    if f.get("age") is not None:
        age = f"{f['age']} ans"
        chips.append((age, age if age in answer.question else ""))
    for place in f.get("places") or []:
        if place.get("residence", True) and place.get("name"):
            surface = str(place.get("surface") or "")
            chips.append((str(place["name"]), surface if surface and surface in answer.question else ""))
    for key in f.get("situations") or []:
        chips.append((concept_label(key), ""))
    for key in f.get("needs") or []:
        chips.append((concept_label(key), ""))
    html = []
    for shown, surface in dict.fromkeys(chips):
        remove = (
            f'<a class="rp-chip-x" href="{_control("retirer", surface)}">×'
            f'<span class="rp-sr"> Retirer « {escape(shown)} » et reposer la question</span></a>'
            if surface
            else ""
        )
        html.append(f'<span class="rp-chip">{escape(shown)}{remove}</span>')
    if not html:
        return ""
    # The question the chips come from: removing one asks it again without the chip's words.
    return (
        '<p class="rp-chips"><span class="rp-sr">Ce que Repères a compris : </span>'
        f'<a class="rp-question" href="{_control("question", answer.question)}"></a>{"".join(html)}</p>'
    )


_SOURCE_ENTRY = re.compile(r"\[(\d+)\] (.+)")


def source_labels(answer: Answer) -> dict[int, str]:
    """Where each citation is, as the answer's own "Sources :" line names it (document, page or lines); a
    citation it does not name, by its passage's title."""
    labels = {}
    for block in answer.answer.split("\n\n"):
        if block.startswith("Sources : "):
            for entry in block.removeprefix("Sources : ").split(" · "):
                if m := _SOURCE_ENTRY.match(entry.strip()):
                    labels[int(m.group(1))] = m.group(2)
    for c in answer.citations:
        where = f"p. {c.page}" if c.page else f"lignes {c.line_start}–{c.line_end}"
        labels.setdefault(c.n, f"{c.title}, {where}")
    return labels


def _sources(answer: Answer, link: Callable[[Citation], str], labels: dict[int, str]) -> str:
    items = "".join(
        f'<li><a class="rp-cite" href="{escape(link(c))}">[{c.n}] {escape(labels[c.n])}</a></li>' for c in answer.citations
    )
    return f'<details class="rp-sources"><summary>Sources ({len(answer.citations)})</summary><ol>{items}</ol></details>'


def handout_link(pistes: Iterable[Piste]) -> str:
    """The handout's address for the actions ``pistes`` present in full (those that fit, those under a
    condition), ids only: no personal data in the link. The others ("Autres pistes", ruled out) go in only when
    ticked on their card: a handout of the answer then fits one A4 page."""
    ids = list(dict.fromkeys(p.action_id for p in pistes if p.action_id and p.section in (FIT, CONDITION)))
    return f"fiche?{urlencode([('a', i) for i in ids], quote_via=quote)}" if ids else ""


def plain_text(answer: Answer) -> str:
    """The answer as plain text, to paste in a message or a file: its text without markdown, its "Sources :"
    line naming the documents and pages (no link: a relative address means nothing once pasted)."""
    return _BOLD.sub(r"\1", answer.answer).strip()


def _copy_all(answer: Answer) -> str:
    # Gradio's own copy button would copy this HTML: the answer's plain text instead.
    return (
        f'<p class="rp-tools"><a class="rp-btn rp-copy" href="{_control("copier", plain_text(answer))}">Copier la réponse</a></p>'
    )


def answer_html(answer: Answer, link: Callable[[Citation], str]) -> str:
    """The chat's view of ``answer`` (see the module docstring): one HTML block."""
    by_n = {c.n: c for c in answer.citations}
    labels = source_labels(answer)

    def cite(n: int) -> str | None:
        return link(by_n[n]) if n in by_n else None

    blocks = [b for b in answer.answer.split("\n\n") if b.strip() and not b.startswith("Sources : ")]
    if answer.refused and blocks:
        blocks[0] = f"> ℹ️ **{blocks[0].strip()}**"
    pistes = {p.n: p for p in answer.pistes}
    if not pistes:
        sources = _sources(answer, link, labels) if by_n else ""
        return f'<div class="rp-answer">{_paragraphs(blocks, cite)}{sources}{_copy_all(answer)}</div>'
    head: list[str] = []
    before: list[str] = []  # text above the cards (what the plans provide, a verdict on a named action)
    after: list[str] = []  # text below them (what the documents also say on the need)
    placed = False
    for block in blocks:
        heading = _HEADING.match(block)
        if heading:
            head.append(f'<h3 class="rp-heading">{escape(heading.group(1))}</h3>{_chips(answer)}')
            continue
        markers = [int(m) for m in MARKER.findall(block)]
        if (_NUMBERED.match(block) and markers and markers[-1] in pistes) or _SECTION_LINE.match(block):
            placed = True  # the cards stand where the list was
            continue
        (after if placed else before).append(block)
    order = {FIT: 0, MORE: 1, CONDITION: 2}
    shown = sorted((p for p in answer.pistes if p.section != EXCLUDED), key=lambda p: order[p.section])
    cards = [piste_card(p, (cite(p.n) or "", labels[p.n]) if p.n in by_n else None) for p in shown]
    more = ""
    if len(cards) > SHOWN_CARDS:
        rest = len(cards) - SHOWN_CARDS
        more = (
            f'<details class="rp-more"><summary>Voir les {rest} autre{"s" if rest > 1 else ""}</summary>'
            + "".join(cards[SHOWN_CARDS:])
            + "</details>"
        )
    excluded = [p for p in answer.pistes if p.section == EXCLUDED]
    ruled_out = ""
    if excluded:
        lines = "".join(
            f"<li>{escape(p.title)} — {escape('; '.join(p.check))} {_inline(f'[{p.n}]', cite)}</li>" for p in excluded
        )
        ruled_out = (
            f'<details class="rp-excluded"><summary>Ne conviennent pas ({len(excluded)})</summary><ul>{lines}</ul></details>'
        )
    fiche = handout_link(shown)
    handout = (
        f'<p class="rp-handout"><a class="rp-btn" href="{escape(fiche)}" target="_blank">Fiche pour le jeune</a></p>'
        if fiche
        else ""
    )
    return (
        '<div class="rp-answer rp-person">'
        + "".join(head)
        + _paragraphs(before, cite)
        + f'<div class="rp-cards">{"".join(cards[:SHOWN_CARDS])}{more}</div>'
        + _paragraphs(after, cite)
        + ruled_out
        + handout
        + _sources(answer, link, labels)
        + _copy_all(answer)
        + "</div>"
    )


def action_piste(action: Action) -> Piste:
    """A catalogue action as a card's fields: what ingest read from its text."""
    public = action.public or ages_of(action)  # the handout's wording of the ages read at ingest
    check = tuple(x for x in (action.age_condition, action.qpv_evidence) if x)
    reachable = [c for c in action.contacts if c.emails or c.phones or c.urls]
    first = reachable[0] if reachable else None
    return Piste(
        n=0,
        section=FIT,
        title=action.title,
        acronym=action.acronym if action.acronym and action.acronym not in action.title else "",
        porteur=action.porteur or "",
        public=public,
        offer=action.summary if action.summary and action.summary != public else "",  # (said once)
        check=check,
        contact=format_contact(first) if first else "",
        emails=first.emails if first else (),
        phones=first.phones if first else (),
        urls=first.urls if first else (),
        action_id=action.id,
    )


def action_card(action: Action, verdict: Verdict | None = None, base: str = "passage/") -> str:
    """A catalogue action as the chat's card, with its passage and a question to ask about it; ``verdict``:
    how it fits the age and commune browsed for (its reasons, or what to check)."""
    query = urlencode({"lines": f"{action.line_start}-{action.line_end}"}, quote_via=quote)
    href = f"{base}{quote(action.source, safe='')}?{query}#cite"
    where = f"p. {action.page}" if action.page else f"lignes {action.line_start}–{action.line_end}"
    piste = action_piste(action)
    if verdict is not None:
        fits, check = split_reasons(verdict.reasons)
        unknown = (UNSTATED,) if verdict.status == UNKNOWN else ()
        piste = replace(piste, fits=fits, check=(*piste.check, *check, *unknown))
    return piste_card(piste, (href, f"{action.document or action.source}, {where}"), ask=f"C'est quoi {action.title} ?")


def catalogue_html(listed: Sequence[Listed], limit: int = 60) -> str:
    """The catalogue view: how many actions, a handout link for those picked, and their cards (the first
    ``limit``: the filters narrow the rest)."""
    count = len(listed)
    said = f"{count} action{'s' if count > 1 else ''}" if count else "Aucune action ne correspond à ces critères."
    if count > limit:
        said += f" — les {limit} premières sont affichées : précisez les filtres pour voir les autres."
    cards = "".join(action_card(item.action, item.verdict) for item in listed[:limit])
    return (
        f'<div id="rp-catalogue-view"><p class="rp-count" role="status">{said}</p>'
        '<p id="rp-catalogue-handout" class="rp-handout">Cochez « Pour la fiche » sur les actions à remettre au jeune : '
        '<a class="rp-btn" href="fiche" target="_blank" hidden>Fiche pour le jeune</a></p>'
        f'<div class="rp-cards">{cards}</div></div>'
    )
