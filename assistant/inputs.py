"""Checks of what users type or send (CLI, batch lines, API bodies, chat): one French reason per problem.

The faces share them so a question is refused the same way everywhere, before any analysis: the length is
capped first (analysis costs about 1 ms a character: a 5 MB question ran for over 600 s), then the text
must be encodable (a lone surrogate, from a mis-decoded terminal argument or a "\\ud800" in JSON, made the
tokenizer raise). The limits are settings (REPERES_MAX_QUESTION_CHARS, REPERES_MAX_HISTORY).
"""

from __future__ import annotations

from typing import Any

from assistant.settings import Settings

EXAMPLE_QUESTION = "Quelle action pour un décrocheur de 17 ans à Loos ?"
# Passages one question may retrieve (API `k`, CLI `-k`): more is never useful, and a huge k made the
# search allocate for it.
MAX_K = 100
# A rated answer (API /api/feedback, the chat's 👍/👎) is an answer record: its text is at most about 5,000
# characters and it cites at most k passages. Past these it is not one (a 10 MB answer or 20,000 citations
# were stored as they came).
MAX_FEEDBACK_ANSWER_CHARS = 50_000
MAX_FEEDBACK_CITATIONS = MAX_K


class InputError(ValueError):
    """What a user typed or sent cannot be used; the message (French) names the problem and the fix."""


def type_name(value: object) -> str:
    """The JSON type of ``value``, in French, for messages ("un nombre", "une liste"…)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, int | float):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list | tuple):
        return "une liste"
    if isinstance(value, dict):
        return "un objet"
    return type(value).__name__


def bad_character(text: str) -> int | None:
    """Position of the first character that cannot be written as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def printable(text: str) -> str:
    """``text`` with its unencodable characters replaced by "\ufffd", so it can be printed or written."""
    if bad_character(text) is None:
        return text
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def text_problem(text: object, what: str, max_chars: int, setting: str) -> str | None:
    """What is wrong with a text field (``what``: "la question", "le commentaire"…), or None."""
    if not isinstance(text, str):
        return f"{what} doit être un texte (reçu : {type_name(text)})"
    if len(text) > max_chars:
        return (
            f"texte trop long pour {what} : {len(text)} caractères, {max_chars} au plus (réglage {setting}) ; gardez l'essentiel"
        )
    if (position := bad_character(text)) is not None:
        return (
            f"caractère invalide dans {what} (position {position + 1}) : des octets qui ne sont pas de l'UTF-8 "
            "(terminal ou fichier dans un autre encodage) ; retapez le texte ou réenregistrez-le en UTF-8"
        )
    return None


def question_problem(question: object, settings: Settings) -> str | None:
    """What is wrong with a question (None when it can be analysed)."""
    if isinstance(question, str) and not question.strip():
        return f"la question est vide : posez une question, par exemple « {EXAMPLE_QUESTION} »"
    return text_problem(question, "la question", settings.max_question_chars, "REPERES_MAX_QUESTION_CHARS")


def history_problem(history: object, settings: Settings) -> str | None:
    """What is wrong with the earlier questions of a conversation (None when they can be used)."""
    if history is None:
        return None
    if not isinstance(history, list | tuple):
        return f"« history » doit être une liste de questions (textes), la plus ancienne d'abord (reçu : {type_name(history)})"
    if len(history) > settings.max_history:
        return (
            f"« history » a trop de questions : {len(history)} pour {settings.max_history} au plus "
            "(réglage REPERES_MAX_HISTORY) ; gardez les dernières"
        )
    for n, earlier in enumerate(history, start=1):
        what = f"la question précédente n° {n} de « history »"
        if problem := text_problem(earlier, what, settings.max_question_chars, "REPERES_MAX_QUESTION_CHARS"):
            return problem
    return None


def check_question(question: Any, history: Any, settings: Settings) -> None:
    """Raise InputError (French) when the question or its history cannot be used."""
    if problem := question_problem(question, settings) or history_problem(history, settings):
        raise InputError(problem[:1].upper() + problem[1:] + ".")
