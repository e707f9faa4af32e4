"""The `reperes` command: starts a one-question `ask`'s question prefetch, then runs the CLI.

Why a module of its own: the prefetch's child (``index.prefetch``) loads the encoder on the other core while
this process imports the CLI (LangChain, FAISS, the chain: about 1.5 s), so it must start before those imports;
this module imports only the settings and the model folder's record.
"""

from __future__ import annotations

import sys

from assistant.settings import Settings
from index.e5_convert import BUNDLED, bundled_model_dir
from index.onnx_query import encoder_ready, recorded_max_length
from index.prefetch import QuestionPrefetch, usable_cpus


def question_candidates(argv: list[str]) -> list[str]:
    """The texts that may be the question of ``reperes ask …``: its arguments that are not options. An option's
    value ("3" of ``-k 3``) is among them: the child embeds it too (a few ms, on the other core) and the retriever
    asks only for the text it embeds, so the launcher need not know the CLI's options (``assistant.cli``)."""
    if not argv or argv[0] != "ask" or {"--batch", "-h", "--help"} & set(argv):
        return []
    return [arg for arg in argv[1:] if not arg.startswith("-")]


def start_prefetch(argv: list[str]) -> QuestionPrefetch | None:
    """The prefetch of a one-question ``ask`` with the bundled model's ONNX encoder, when it can help (two CPUs
    or more) and can run (settings valid, encoder exported: otherwise the CLI says or does what is needed)."""
    texts = question_candidates(argv)
    if not texts or usable_cpus() < 2:
        return None
    try:
        settings = Settings.from_env()
    except Exception:
        return None
    folder = bundled_model_dir(settings.home)
    max_length = recorded_max_length(folder)
    if settings.embed_model != BUNDLED or not encoder_ready(folder) or not max_length:
        return None
    try:
        return QuestionPrefetch(folder, max_length, texts, settings.query_prompt)
    except OSError:  # cannot start a process here: the question is embedded in-process
        return None


def main() -> int:
    argv = sys.argv[1:]
    prefetch = start_prefetch(argv)
    try:
        from assistant.cli import main as cli_main

        return cli_main(argv, prefetch=prefetch)
    finally:
        if prefetch is not None:
            prefetch.close()
