"""The handout as an A4 PDF (fpdf2, pure Python), imported only when a PDF is asked for: fpdf2 takes half a
second to import, and the chat does not need it to start."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from assistant.handout import TITLE, HandoutEntry, email_href, entries, french_date, phone_href, url_href
from ingest.records import Action

# fpdf2's core fonts (Helvetica) cover one 8-bit code page. We choose windows-1252 (the PDF's
# WinAnsiEncoding) over the default latin-1: it also holds ’ ‘ “ ” – — … œ Œ € • and non-breaking
# space, the typography of the documents, so those print as written. The characters outside it are
# mapped to close equivalents below; any other one is decomposed (accents dropped: "ő" → "o") or, as a
# last resort, written "?".
_PDF_CHARS = str.maketrans(
    {
        "\u202f": "\u00a0",  # narrow no-break space (before « : ; ! ? » in French) → no-break space
        "\u2007": "\u00a0",  # figure space
        "\u2009": " ",  # thin space
        "\u200a": " ",  # hair space
        "\u2002": " ",
        "\u2003": " ",
        "\u200b": "",  # zero-width space
        "\u00ad": "",  # soft hyphen
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "–",  # figure dash
        "\u2212": "-",  # minus sign
        "\u2032": "'",  # prime
        "\u2033": '"',  # double prime
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2192": "->",
        "\u2190": "<-",
        "\u25aa": "•",
        "\u25cf": "•",
        "\u2713": "v",
        "\u2714": "v",
    }
)
PDF_ENCODING = "windows-1252"


def pdf_safe(text: str) -> str:
    """``text`` with only characters the PDF's core font can write (see above)."""
    text = unicodedata.normalize("NFC", text).translate(_PDF_CHARS)
    out: list[str] = []
    for ch in text:
        try:
            ch.encode(PDF_ENCODING)
            out.append(ch)
        except UnicodeEncodeError:
            plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            try:
                plain.encode(PDF_ENCODING)
                out.append(plain)
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


_INK = (29, 36, 48)  # #1d2430
_GREY = (74, 85, 104)  # #4a5568
_LINK = (26, 79, 139)  # #1a4f8b
_RULE = (213, 219, 227)
_MARGIN = 15.0  # mm, as the page's @page rule
_SIZES = (10.5, 10.0, 9.5, 9.0, 8.5)  # body font sizes tried, largest first, to fit one page


class _HandoutPDF(FPDF):
    def __init__(self, body_size: float) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = PDF_ENCODING
        self.body_size = body_size
        self.leading = body_size * 0.45  # mm per line (≈ 1.28 line spacing)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN)
        self.set_title(TITLE)
        self.set_lang("fr")
        self.set_creator("Repères")
        self.add_page()

    def use_font(self, style: str = "", size: float | None = None, color: tuple[int, int, int] = _INK) -> None:
        self.set_font("Helvetica", style=style, size=size or self.body_size)
        self.set_text_color(*color)

    def paragraph(self, text: str, style: str = "", size: float | None = None, color: tuple[int, int, int] = _INK) -> None:
        size = size or self.body_size
        self.use_font(style, size, color)
        self.multi_cell(0, self.leading * size / self.body_size, pdf_safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def labelled(self, label: str, text: str) -> None:
        self.use_font("B")
        self.write(self.leading, pdf_safe(label + " "))
        self.use_font()
        self.write(self.leading, pdf_safe(text))
        self.ln(self.leading)

    def details(self, label: str, values: Sequence[str], href: Callable[[str], str | None]) -> None:
        """``label : value, value`` on an indented line, each value linked (tel:, mailto:, https:) when it can be."""
        self.use_font()
        self.write(self.leading, pdf_safe(f"    {label} : "))
        for i, value in enumerate(values):
            if i:
                self.use_font()
                self.write(self.leading, ", ")
            target = href(value)
            if target:
                self.use_font("U", color=_LINK)
                self.write(self.leading, pdf_safe(value), link=target)
            else:
                self.use_font()
                self.write(self.leading, pdf_safe(value))
        self.ln(self.leading)


def _draw_entry(pdf: _HandoutPDF, entry: HandoutEntry) -> None:
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.paragraph(entry.title, "B", pdf.body_size + 1.5)
    if entry.offer:
        pdf.paragraph(entry.offer)
    if entry.audience:
        pdf.labelled("Pour qui :", entry.audience)
    if entry.porteur:
        pdf.labelled("Porté par :", entry.porteur)
    if entry.contacts:
        pdf.use_font("B")
        pdf.write(pdf.leading, "Contacts :")
        pdf.ln(pdf.leading)
        for contact in entry.contacts:
            pdf.paragraph("• " + (contact.label or contact.note or "Coordonnées"))
            if contact.phones:
                pdf.details("Tél.", contact.phones, phone_href)
            if contact.emails:
                pdf.details("E-mail", contact.emails, email_href)
            if contact.urls:
                pdf.details("Site", contact.urls, url_href)
    pdf.paragraph("Référence : " + entry.reference, size=pdf.body_size - 1.5, color=_GREY)
    pdf.ln(2)


def _entry_height(entry: HandoutEntry, size: float) -> float:
    """The height (mm) ``entry`` takes at ``size``, measured on a scratch page."""
    scratch = _HandoutPDF(size)
    scratch.set_auto_page_break(auto=False)
    top = scratch.get_y()
    _draw_entry(scratch, entry)
    return scratch.get_y() - top


def _render(entries: Sequence[HandoutEntry], made: date, size: float, keep_together: bool) -> _HandoutPDF:
    pdf = _HandoutPDF(size)
    pdf.paragraph(TITLE, "B", size + 7)
    pdf.paragraph(f"Faite le {french_date(made)} avec Repères", size=size, color=_GREY)
    pdf.ln(2)
    for entry in entries:
        if keep_together:  # start an action that does not fit the rest of this page on the next one, if it fits there
            height = _entry_height(entry, size)
            if pdf.get_y() + height > pdf.page_break_trigger and height <= pdf.eph:
                pdf.add_page()
        _draw_entry(pdf, entry)
    return pdf


def handout_pdf(actions: Sequence[Action], made: date) -> bytes:
    """The handout of ``actions`` as an A4 PDF: one page when the text allows (the font shrinks a little), never
    cut. When even the smallest size does not fit one page, the PDF goes on over more pages, an action
    starting on a new page rather than split when it fits on one.
    """
    shown = entries(actions)
    for size in _SIZES:
        pdf = _render(shown, made, size, keep_together=False)
        if pdf.pages_count == 1:
            return bytes(pdf.output())
    return bytes(_render(shown, made, _SIZES[-1], keep_together=True).output())
