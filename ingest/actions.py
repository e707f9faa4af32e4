"""Actions of a slide deck whose pages repeat a banner (like 004, the FIJeM review): one action per banner.

Each presented action starts after a repeated page banner (found by ``ingest.repair``) and runs to
the next one. Its title is the «quoted» name when there is one, else the text block just before the
first "Intervenants" / "Qui ?" / "Quoi ?" line. The sub-parts (Qui ? Quoi ? Les réussites, Quelques
chiffres…) stay together in one chunk when the action is short, else they become children chunks
that each repeat the action's title, so no fact loses the action it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

# A sub-part heading: "► Quoi ?", "- Les réussites", "Qui intervient ?", "Intervenants : …".
PART = re.compile(
    r"^\s*(?:[-►▶•]\s*)?(?:Qui|Quoi|Où|Pourquoi|Comment|Quand|Les\s+\w+|Quelques\s+chiffres|Chiffres|"
    r"Témoignages?|Exemples?\s+d[’']outils|Intervenant(?:e)?s?)\b[^.]{0,40}(?:\?|:)?\s*$|^\s*Intervenant(?:e)?s?\s*:",
    re.IGNORECASE,
)
QUOTED_TITLE = re.compile(r"^\s*«\s*(.+?)\s*»(.*)$")
PERSON_FOR = re.compile(r"^\s*pour\s*:\s*$")  # "Marina Dogadalski / pour :" (the logo after it was lost)


@dataclass(frozen=True)
class Action:
    """0-based, end-exclusive line spans of one presented action and of its sub-parts."""

    start: int
    end: int
    title: str
    title_lines: tuple[int, ...]
    parts: tuple[tuple[int, int], ...]  # (start, end) of each sub-part, the first one being the intro


def action_spans(lines: list[str], banners: tuple[int, ...]) -> list[tuple[int, int]]:
    """[start, end) of the text between consecutive banners (1-based banner lines -> 0-based spans)."""
    blocks: list[list[int]] = []
    for number in banners:
        i = number - 1
        if blocks and all(not lines[j].strip() for j in range(blocks[-1][-1] + 1, i)):
            blocks[-1].append(i)
        else:
            blocks.append([i])
    starts = [block[-1] + 1 for block in blocks]
    ends = [block[0] for block in blocks[1:]] + [len(lines)]
    return [(s, e) for s, e in zip(starts, ends, strict=True) if any(line.strip() for line in lines[s:e])]


def _blocks(lines: list[str], start: int, end: int) -> list[list[int]]:
    """Runs of consecutive non-blank lines."""
    blocks: list[list[int]] = []
    for i in range(start, end):
        if not lines[i].strip():
            continue
        if blocks and blocks[-1][-1] == i - 1:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    return blocks


def parse_action(lines: list[str], start: int, end: int) -> Action:
    part_starts = [i for i in range(start, end) if PART.match(lines[i])]
    first_part = part_starts[0] if part_starts else end
    intro_blocks = _blocks(lines, start, first_part)
    quoted = next((b for b in intro_blocks if QUOTED_TITLE.match(lines[b[0]])), None)
    candidates = [b for b in intro_blocks if not any(PERSON_FOR.match(lines[i]) for i in b)]
    chosen = quoted or (candidates[-1] if candidates else (intro_blocks[0] if intro_blocks else []))
    title = " ".join(" ".join(lines[i].split()) for i in chosen).replace("*", "")
    bounds = [start, *[p for p in part_starts if p > start], end]
    parts = tuple((a, b) for a, b in pairwise(bounds) if any(line.strip() for line in lines[a:b]))
    return Action(start, end, title, tuple(chosen), parts)


def parse_actions(lines: list[str], banners: tuple[int, ...]) -> list[Action]:
    """The actions of a banner-delimited document, in order."""
    return [parse_action(lines, s, e) for s, e in action_spans(lines, banners)]
