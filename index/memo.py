"""Memos of what is read from one question's text, and a way to forget them all.

One answer reads the same question at several stages (retrieval, the answer's kind, its slots, the composer's
checks): each stage asks the same pure function of the text, so the result is remembered (``per_question``).
A benchmark that asks the same questions several times must not time those memos as if they were the
pipeline: it calls ``forget_questions()`` before each question (``eval.bench``), so every run reads every
question afresh, as a counsellor's new question is.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MEMOS: list[Any] = []


def per_question(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)``, registered so that ``forget_questions`` clears it."""

    def wrap(function: F) -> F:
        memo = lru_cache(maxsize=maxsize)(function)
        _MEMOS.append(memo)
        return memo  # type: ignore[return-value]

    return wrap


def forget_questions() -> None:
    """Clear every ``per_question`` memo (the word- and name-level tables stay: they are the catalogue's)."""
    for memo in _MEMOS:
        memo.cache_clear()
