"""Assistant: the retrieval chain, answers with citations, the CLI and the web chat."""

from assistant.chain import build_chain
from assistant.records import Answer, Citation, Retrieved
from assistant.service import Assistant
from assistant.settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "Retrieved", "Settings", "build_chain"]
