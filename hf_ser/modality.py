"""Which inputs a model or a cited figure uses: ``speech``, ``text`` or ``speech+text`` (one spelling, every report).

Every report (``metrics.json``'s protocol record, the fold table, the aggregate, the model card, recipe headers)
states the modality, and a recipe is compared only with cited figures of its own modality: the top systems of the
Interspeech 2025 MSP-Podcast challenge fused speech with ASR transcripts, so their figures are no target for a
speech-only model.
"""

from __future__ import annotations

from typing import Any

SPEECH = "speech"
TEXT = "text"
SPEECH_TEXT = "speech+text"
MODALITIES = (SPEECH, TEXT, SPEECH_TEXT)


def model_modality(model_section: Any) -> str:
    """The modality of a recipe's ``model`` section (or anything with a ``text_encoder`` attribute):
    ``speech+text`` with a transcript encoder, else ``speech``."""
    return SPEECH_TEXT if getattr(model_section, "text_encoder", None) else SPEECH
