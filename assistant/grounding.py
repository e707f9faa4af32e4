"""Grounding check: drop the sentences of an answer whose facts are not in the passages they cite.

A *fact* here is what can be checked by string: an e-mail, a phone number, a web address, an age
range ("de 16 à 25 ans", "16-25 ans"), an amount ("300 €", "2 millions d'euros") or any other
figure. A sentence is supported when each of its facts is written in the passages it cites (its
``[n]`` markers), or, for a sentence without a marker, in any passage cited somewhere in the answer.
Facts written in the question are the counsellor's own and always allowed.

Comparisons: e-mails and web addresses case-insensitively; phone numbers by their digits (+33 or 0);
figures ignoring spaces, dots and thousand separators (the comma stays: it is the decimal mark);
amounts by value ("2 millions d'euros" = "2 000 000 €"); age ranges by their two bounds.

Provenance is not a fact: ``[n]`` markers, a "Sources :" line, list numbers ("1. "), file names,
"lignes a–b", "p. 3". Words are not checked: this catches invented contacts and figures, not a
paraphrase that changes the meaning.

The e-mail, phone and age-range patterns, the ``[n]`` marker and the sentence splitter are
``ingest.text``'s (the one text module); ``eval/metrics.py`` scores with this module's functions
(``missing_facts``, ``contact_keys``), so the metric and the check agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

# EMAIL and PHONE are also what assistant/compose.py and assistant/answerability.py use from here.
from ingest.text import AGE_RANGE, EMAIL, MARKER, PHONE, line_sentences

URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]«»\"]+", re.IGNORECASE)
# A figure: "1 500", "1.500", "1\u202f500" (groups of three), or plain digits; an optional decimal comma.
# A digit right after a letter belongs to a name ("E2C") and is not a figure.
_FIGURE = r"(?:\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+)(?:,\d+)?"
NUMBER = re.compile(rf"(?<![^\W_]){_FIGURE}(?!\d)")
AMOUNT = re.compile(
    rf"(?<![\w,.])({_FIGURE})\s*(millions?|milliards?|mds?|md|m|k|mille)?\s*(?:d['’]\s*)?(€|\beuros?\b|\beur\b)",
    re.IGNORECASE,
)
_MAGNITUDE = {"million": 1e6, "millions": 1e6, "m": 1e6, "milliard": 1e9, "milliards": 1e9, "md": 1e9, "mds": 1e9}
_MAGNITUDE |= {"k": 1e3, "mille": 1e3}
# Where a fact comes from is not a fact.
PROVENANCE = re.compile(
    r"^\s*Sources?\s*:.*$|^\s*\d+[.)](?=\s)|\[\d+\]|(?<![/\w.-])[\w.-]+\.(?:txt|md|pdf|docx|html?)\b"
    r"|\blignes?\s+\d+(?:\s*[–-]\s*\d+)?|\bp\.\s?\d+(?:\s*[–-]\s*\d+)?|\bpages?\s+\d+",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class GroundingResult:
    """The answer with its unsupported sentences dropped, and each dropped sentence with the reason (French)."""

    text: str
    dropped: list[tuple[str, str]]


def check(answer: str, cited_texts: dict[int, str], question: str) -> GroundingResult:
    """Drop the sentences of ``answer`` holding a fact absent from the passages they cite.

    Args:
        answer: the answer text, with ``[n]`` markers.
        cited_texts: passage number -> passage text (the passages the answer may cite).
        question: the counsellor's question; facts written in it are always allowed.
    """
    in_answer = {int(n) for n in MARKER.findall(answer)} & set(cited_texts)
    kept_lines: list[str] = []
    dropped: list[tuple[str, str]] = []
    for line in answer.split("\n"):
        if re.match(r"^\s*Sources?\s*:", line, re.IGNORECASE):
            kept_lines.append(line)  # provenance only
            continue
        prefix = re.match(r"^\s*(?:[-*•]\s+|\d+[.)]\s+)?", line)
        head = prefix.group(0) if prefix else ""
        kept: list[str] = []
        for sentence in line_sentences(line[len(head) :]):
            cited = {int(n) for n in MARKER.findall(sentence)} & set(cited_texts)
            support = [cited_texts[n] for n in sorted(cited or in_answer)]
            reasons = unsupported(sentence, [*support, question])
            if reasons:
                dropped.append((sentence, " ; ".join(reasons)))
            else:
                kept.append(sentence)
        if kept:
            kept_lines.append(head + " ".join(kept))
        elif not line.strip():
            kept_lines.append("")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip()
    return GroundingResult(text=text, dropped=dropped)


def unsupported(sentence: str, support: Iterable[str]) -> list[str]:
    """Why ``sentence`` is not supported by the ``support`` texts (French reasons), [] when it is."""
    reasons = []
    for kind, missing in _missing(sentence, support).items():
        one, many = _LABELS[kind]
        if missing:
            plural = len(missing) > 1
            label = f"{many if plural else one} absent{_AGREE[kind]}{'s' if plural else ''}"
            reasons.append(f"{label} des passages cités : {', '.join(missing)}")
    return reasons


def missing_facts(text: str, support: Iterable[str]) -> list[str]:
    """The facts of ``text`` (as written) absent from the ``support`` texts: what the check would drop.
    Provenance ("[n]", "lignes a–b", "p. 13") is not a fact."""
    return sorted(shown for shown_list in _missing(text, support).values() for shown in shown_list)


def contact_keys(text: str) -> set[str]:
    """The e-mails and phone numbers of ``text``, as comparison keys ("+33 (0)3 …" = "03 …")."""
    facts = _facts(text)
    return {str(key) for kind in ("email", "phone") for key in facts[kind]}


def _missing(text: str, support: Iterable[str]) -> dict[str, list[str]]:
    facts = _facts(PROVENANCE.sub(" ", text))
    joined = " ".join(" ".join(support).split())
    have = _support_facts(joined)
    return {
        kind: [shown for key, shown in facts[kind].items() if key not in have[kind] and not _verbatim(shown, joined)]
        for kind in _LABELS
    }


def _verbatim(shown: str, text: str) -> bool:
    """A figure of several groups copied as written: "6 120" from a table row "… 6\t120 …" is two
    cells, not six thousand, yet copied verbatim it is grounded. Single tokens never match this way
    (a "25" inside a phone number supports nothing)."""
    shown = " ".join(shown.split())
    return " " in shown and re.search(rf"(?<!\d){re.escape(shown)}(?!\d)", text) is not None


# Kind -> (singular, plural) French label, and the agreement of "absent" with it.
_LABELS = {
    "email": ("e-mail", "e-mails"),
    "url": ("adresse web", "adresses web"),
    "phone": ("téléphone", "téléphones"),
    "age": ("tranche d'âge", "tranches d'âge"),
    "amount": ("montant", "montants"),
    "number": ("nombre", "nombres"),
}
_AGREE = {"email": "", "url": "e", "phone": "", "age": "e", "amount": "", "number": ""}


def _facts(text: str) -> dict[str, dict[object, str]]:
    """The facts of ``text`` by kind: comparison key -> the text as written. Each is taken once."""
    found: dict[str, dict[object, str]] = {kind: {} for kind in _LABELS}
    text = re.sub(r"(?<=\d)h(?=\d{2})", "h ", text)  # "9h30": both the hour and the minutes are figures

    def take(kind: str, pattern: re.Pattern[str], key: Callable[[re.Match[str]], object]) -> None:
        nonlocal text
        for match in pattern.finditer(text):
            found[kind].setdefault(key(match), match.group(0).strip().rstrip(".,;:!?"))
        text = pattern.sub(" ", text)

    take("url", URL, lambda m: re.sub(r"^https?://", "", m.group(0).rstrip(".,;:!?/").lower()))
    take("email", EMAIL, lambda m: m.group(0).rstrip(".").lower())
    take("phone", PHONE, lambda m: _phone_key(m.group(0)))
    take("age", AGE_RANGE, lambda m: (int(m.group(1)), int(m.group(2))))
    take("amount", AMOUNT, lambda m: _amount_key(m.group(1), m.group(2)))
    take("number", NUMBER, lambda m: _number_key(m.group(0)))
    return found


@lru_cache(maxsize=1024)
def _support_facts(text: str) -> dict[str, dict[object, str]]:
    """``_facts`` of the texts a line is checked against, read once: the composer checks each line of a piste (its
    reasons, its offer) against the same passage and question. Read only (shared between the calls)."""
    return _facts(text)


def _phone_key(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    for prefix in ("330", "33"):
        if phone.lstrip().startswith("+") and digits.startswith(prefix):
            return "0" + digits[len(prefix) :]
    return digits


def _number_key(figure: str) -> str:
    """ "1 500" = "1.500" = "1500"; "03" = "3"; the decimal comma is kept ("1,5" ≠ "15")."""
    squashed = re.sub(r"[ \u00a0\u202f.]", "", figure)
    whole, _, decimals = squashed.partition(",")
    return (whole.lstrip("0") or "0") + (f",{decimals}" if decimals else "")


def _amount_key(figure: str, magnitude: str | None) -> float:
    value = float(_number_key(figure).replace(",", "."))
    return round(value * _MAGNITUDE.get((magnitude or "").lower(), 1.0), 2)
