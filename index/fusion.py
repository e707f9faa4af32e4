"""The fusion and eligibility parameters of the hybrid retriever (``index.hybrid``), alone in a module so the
settings (``assistant.settings``) read their defaults without importing retrieval (LangChain, bm25s)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FusionParams:
    """Fusion and eligibility parameters (from the settings; tuned on the dev set).

    These defaults are the one source of the values: ``assistant.settings.Settings`` takes its fusion
    defaults from them (``REPERES_RRF_K``…, see README "Settings").
    """

    rrf_k: int = 5
    lexical_weight: float = 1.0
    dense_weight: float = 0.2
    candidates: int = 60
    excluded_factor: float = 0.6
    unknown_factor: float = 0.85
    match_boost: float = 0.15
    mention_boost: float = 1.0
    place_boost: float = 0.3
    quartier_boost: float = 1.0
    need_weight: float = 0.3
    max_places: int = 4  # a passage naming more communes than this is a list, not local to one

    def __post_init__(self) -> None:
        if self.rrf_k < 1 or self.candidates < 1:
            raise ValueError(f"rrf_k ({self.rrf_k}) and candidates ({self.candidates}) must be >= 1")
        if not 0.0 <= self.excluded_factor <= 1.0 or not 0.0 <= self.unknown_factor <= 1.0:
            raise ValueError("excluded_factor and unknown_factor must be between 0 and 1")
