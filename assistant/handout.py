"""The handout a counsellor gives a young person ("Fiche pour le jeune"), built from catalogue actions.

The actions are chosen by id (`/fiche?a=ID&a=ID`, see `assistant.api`). Three renderings of the same
content: an HTML page to print, download or copy (``handout_html``), plain text (``handout_text``)
and an A4 PDF (``assistant.handout_pdf``, fpdf2, imported only when a PDF is asked for). Every value comes from the documents (read at ingest) and is
escaped in HTML. The handout holds no data on the young person: its link names the actions only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

from ingest.records import Action, Contact

TITLE = "Fiche pour le jeune"
PRIVACY_NOTE = "Ce lien ne contient que les actions choisies, aucune donnée sur le jeune."
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(day: date) -> str:
    """``day`` as written in French: "2 décembre 2026", "1er mai 2026"."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def handout_query(action_ids: Iterable[str]) -> str:
    """The query string naming the actions of a handout (``a=ID&a=ID``), percent-encoded."""
    return urlencode([("a", action_id) for action_id in action_ids], quote_via=quote)


# --- Links ---------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")
_DOMAIN = re.compile(r"(?:www\.)?[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?")


def phone_href(phone: str) -> str | None:
    """``tel:`` and the number's digits (a leading + kept for an international number), or None without digits;
    the trunk "(0)" of an international form is not dialled ("+33 (0)3 20…" -> "tel:+33320…")."""
    digits = re.sub(r"\D", "", phone.replace("(0)", ""))
    if not digits:
        return None
    return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"


def email_href(email: str) -> str | None:
    """``mailto:`` and the address, or None when it does not look like one."""
    return f"mailto:{email.strip()}" if _EMAIL.fullmatch(email.strip()) else None


def url_href(url: str) -> str | None:
    """An http(s) address for ``url`` ("mde-lille.fr" → "https://mde-lille.fr"); None for any other scheme."""
    url = url.strip()
    if re.match(r"https?://\S+$", url, re.IGNORECASE):
        return url
    if _DOMAIN.fullmatch(url):
        return f"https://{url}"
    return None


# --- The entries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoutContact:
    """Who to call or write to, with the details as written in the document."""

    label: str  # "Francine Blas, Coordinatrice" (name, role, organisation); "" when the text names no one
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    note: str = ""  # the line(s) as written, only when the text gives neither an owner nor details

    @classmethod
    def from_contact(cls, contact: Contact) -> HandoutContact:
        label = ", ".join(part.strip() for part in (contact.name, contact.role, contact.organisation) if part and part.strip())
        details = (contact.phones, contact.emails, contact.urls)
        note = " ".join((contact.text or "").split()) if not label and not any(details) else ""
        return cls(label, tuple(contact.phones), tuple(contact.emails), tuple(contact.urls), note)

    @property
    def empty(self) -> bool:
        return not (self.label or self.phones or self.emails or self.urls or self.note)


def ages_of(action: Action) -> str:
    """The ages of ``action`` in French ("de 16 à 25 ans (jusqu'à 30 ans si …)"), "" when the text gives none."""
    low, high = action.age_min, action.age_max
    if low is not None and high is not None:
        ages = f"de {low} à {high} ans"
    elif low is not None:
        ages = f"à partir de {low} ans"
    elif high is not None:
        ages = f"jusqu’à {high} ans"
    else:
        return ""
    if action.age_max_extended is not None:
        condition = f" {action.age_condition.strip()}" if action.age_condition and action.age_condition.strip() else ""
        ages += f" (jusqu’à {action.age_max_extended} ans{condition})"
    return ages


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


@dataclass(frozen=True)
class HandoutEntry:
    """One action of the handout, in the document's own words."""

    action_id: str
    title: str
    offer: str  # what it offers: the action's summary, else its public
    audience: str  # for whom: the public as written and the ages ("" when the text says neither)
    porteur: str
    contacts: tuple[HandoutContact, ...]
    document: str  # title of the document the action is read from
    where: str  # "page 10", else "lignes 140–350"
    source: str  # file name in the corpus

    @classmethod
    def from_action(cls, action: Action) -> HandoutEntry:
        public = _clean(action.public)
        offer = _clean(action.summary) or public
        ages = ages_of(action)
        audience_parts = [public.rstrip(" .;")] if public and public != offer else []
        if ages:
            audience_parts.append(f"âge : {ages}" if audience_parts else ages[0].upper() + ages[1:])
        contacts = tuple(c for c in (HandoutContact.from_contact(x) for x in action.contacts) if not c.empty)
        where = f"page {action.page}" if action.page else f"lignes {action.line_start}–{action.line_end}"
        return cls(
            action_id=action.id,
            title=_clean(action.title),
            offer=offer,
            audience=" — ".join(audience_parts),
            porteur=_clean(action.porteur),
            contacts=contacts,
            document=_clean(action.document) or action.source,
            where=where,
            source=action.source,
        )

    @property
    def reference(self) -> str:
        """Where the action is written: « document », page or lines (file)."""
        return f"« {self.document} », {self.where} (fichier {self.source})"


def entries(actions: Sequence[Action]) -> list[HandoutEntry]:
    return [HandoutEntry.from_action(a) for a in actions]


# --- Plain text ----------------------------------------------------------------------------------


def _contact_lines(contact: HandoutContact) -> list[str]:
    lines = [contact.label or contact.note or "Coordonnées"]
    if contact.phones:
        lines.append("Tél. : " + ", ".join(contact.phones))
    if contact.emails:
        lines.append("E-mail : " + ", ".join(contact.emails))
    if contact.urls:
        lines.append("Site : " + ", ".join(contact.urls))
    return lines


def handout_text(actions: Sequence[Action], made: date) -> str:
    """The handout as plain text (to paste in a message or an e-mail): the same content as the page."""
    out = [TITLE, f"Faite le {french_date(made)} avec Repères", ""]
    for n, entry in enumerate(entries(actions), 1):
        out.append(f"{n}. {entry.title}")
        if entry.offer:
            out.append(f"Ce que c’est : {entry.offer}")
        if entry.audience:
            out.append(f"Pour qui : {entry.audience}")
        if entry.porteur:
            out.append(f"Porté par : {entry.porteur}")
        if entry.contacts:
            out.append("Contacts :")
            for contact in entry.contacts:
                first, *rest = _contact_lines(contact)
                out.append(f"  - {first}")
                out.extend(f"    {line}" for line in rest)
        out.append(f"Référence : {entry.reference}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML ----------------------------------------------------------------------------------------

# Contrast (WCAG AA, ≥ 4.5:1 on white): #1d2430 15.6:1, #4a5568 7.5:1, #1a4f8b 8.3:1, white on #1a4f8b 8.3:1.
# Buttons and links are at least 24px high (WCAG 2.5.8). System fonts only: the page loads nothing.
HANDOUT_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif;
  margin: 0; background: #f4f5f7; color: #1d2430; line-height: 1.45; }
main { max-width: 820px; margin: 1.5rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
.made { color: #4a5568; margin: 0 0 1rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 0 0 1rem; }
.toolbar button, .toolbar a { font: inherit; font-size: 1rem; min-height: 44px; min-width: 44px; padding: .5rem 1rem;
  border: 2px solid #1a4f8b; border-radius: 6px; background: #1a4f8b; color: #fff; cursor: pointer;
  text-decoration: none; display: inline-flex; align-items: center; box-sizing: border-box; }
.toolbar button:hover, .toolbar a:hover { background: #123a66; border-color: #123a66; }
:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
.status { color: #1d2430; min-height: 1.5em; }
.share { border: 1px solid #cfd6e0; border-radius: 6px; padding: .6rem .9rem; margin: 0 0 1.2rem; }
.share p { margin: .2rem 0; }
.share a { overflow-wrap: anywhere; display: inline-block; min-height: 24px; line-height: 24px; }
.privacy { color: #4a5568; font-size: .95rem; }
a { color: #1a4f8b; }
.action { border-top: 2px solid #d5dbe3; padding: .8rem 0 .6rem; break-inside: avoid; page-break-inside: avoid; }
.action h2 { font-size: 1.2rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
.action p { margin: .3rem 0; overflow-wrap: anywhere; }
.label { font-weight: 600; }
.contacts { margin: .3rem 0; padding-left: 1.2rem; }
.contacts li { margin: .2rem 0; overflow-wrap: anywhere; }
.contacts a { display: inline-block; min-height: 24px; line-height: 24px; }
.ref { color: #4a5568; font-size: .9rem; }
.sep { display: none; }
@page { size: A4; margin: 10mm 12mm; }
@media print {
  body { background: #fff; font-size: 8.5pt; line-height: 1.28; }
  main { max-width: none; margin: 0; padding: 0; border-radius: 0; }
  h1 { font-size: 14pt; }
  .made { margin: 0 0 .4rem; }
  .action { padding: .35rem 0 .25rem; border-top-width: 1px; }
  .action h2 { font-size: 10.5pt; margin: 0 0 .15rem; }
  .action p { margin: .1rem 0; }
  .contacts { margin: .1rem 0; }
  .contacts li { margin: 0; }
  .contacts a { min-height: 0; line-height: inherit; }
  .screen-only { display: none; }
  .sep { display: inline; }
  .ref { font-size: 8pt; }
  .no-print { display: none !important; }
  a { color: #1d2430; text-decoration: none; }
  .action { break-inside: avoid; page-break-inside: avoid; }
  h1, h2 { break-after: avoid; page-break-after: avoid; }
}
"""

# The page's only script: the buttons. Hashed into the page's Content-Security-Policy, so no other
# script can run (the text shown comes from documents). It copies the hidden <pre> holding the text.
HANDOUT_SCRIPT = """
document.getElementById("print-button").addEventListener("click", function () { window.print(); });
document.getElementById("copy-button").addEventListener("click", function () {
  var text = document.getElementById("handout-text").textContent;
  var status = document.getElementById("copy-status");
  function done(ok) {
    status.textContent = ok ? "Texte copié." : "La copie n’a pas marché : sélectionnez le texte de la fiche et copiez-le.";
  }
  function fallback() {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    done(ok);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
  } else {
    fallback();
  }
});
"""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(HANDOUT_SCRIPT.encode("utf-8")).digest()).decode("ascii")
# The handout page's Content-Security-Policy: inline styles, the one script above, nothing loaded.
HANDOUT_CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)


def _link(href: str | None, text: str) -> str:
    if href is None:
        return html.escape(text)
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _contact_html(contact: HandoutContact) -> str:
    parts = [f'<span class="label">{html.escape(contact.label or contact.note or "Coordonnées")}</span>']
    if contact.phones:
        parts.append("Tél. : " + ", ".join(_link(phone_href(p), p) for p in contact.phones))
    if contact.emails:
        parts.append("E-mail : " + ", ".join(_link(email_href(e), e) for e in contact.emails))
    if contact.urls:
        parts.append("Site : " + ", ".join(_link(url_href(u), u) for u in contact.urls))
    # On screen a line per detail; in print one line per contact (the <br>s hidden, " · " between), so that
    # the actions of an answer fit one A4 page.
    return "<li>" + '<br class="screen-only"><span class="sep"> · </span>'.join(parts) + "</li>"


def _entry_html(entry: HandoutEntry) -> str:
    rows = [f"<h2>{html.escape(entry.title)}</h2>"]
    if entry.offer:
        rows.append(f"<p>{html.escape(entry.offer)}</p>")
    if entry.audience:
        rows.append(f'<p><span class="label">Pour qui :</span> {html.escape(entry.audience)}</p>')
    if entry.porteur:
        rows.append(f'<p><span class="label">Porté par :</span> {html.escape(entry.porteur)}</p>')
    if entry.contacts:
        items = "\n".join(_contact_html(c) for c in entry.contacts)
        rows.append(f'<p class="label">Contacts :</p>\n<ul class="contacts">\n{items}\n</ul>')
    rows.append(f'<p class="ref">Référence : {html.escape(entry.reference)}</p>')
    return '<article class="action">\n' + "\n".join(rows) + "\n</article>"


def handout_html(actions: Sequence[Action], made: date, share_url: str) -> str:
    """The handout page: the actions, buttons to print, download the PDF and copy the text, the share link.

    Served with ``HANDOUT_CSP``. The PDF link is relative (``fiche.pdf?a=…``), beside the page.
    """
    shown = entries(actions)
    pdf_href = "fiche.pdf?" + handout_query(e.action_id for e in shown)
    body = "\n".join(_entry_html(e) for e in shown)
    text = handout_text(actions, made)
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{TITLE}</title>
<style>{HANDOUT_CSS}</style>
</head>
<body>
<main>
<h1>{TITLE}</h1>
<p class="made">Faite le {html.escape(french_date(made))} avec Repères</p>
<div class="toolbar no-print">
<button type="button" id="print-button">Imprimer</button>
<a href="{html.escape(pdf_href)}" download="fiche-jeune.pdf">Télécharger en PDF</a>
<button type="button" id="copy-button">Copier le texte</button>
<span id="copy-status" class="status" role="status" aria-live="polite"></span>
</div>
<div class="share no-print">
<p><span class="label">Lien de la fiche :</span> <a href="{html.escape(share_url)}">{html.escape(share_url)}</a></p>
<p class="privacy">{PRIVACY_NOTE}</p>
</div>
{body}
<pre id="handout-text" hidden>{html.escape(text)}</pre>
</main>
<script>{HANDOUT_SCRIPT}</script>
</body>
</html>
"""
