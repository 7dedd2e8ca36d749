"""Which inputs a model or a cited figure uses: ``speech``, ``text`` or ``speech+text`` (one spelling, every report),
and where a prediction's transcript came from (``given``, ``asr``, ``none``) with the rule choosing the ASR.

Every report (``metrics.json``'s protocol record, the fold table, the aggregate, the model card, recipe headers)
states the modality, and a recipe is compared only with cited figures of its own modality: the top systems of the
Interspeech 2025 MSP-Podcast challenge fused speech with ASR transcripts, so their figures are no target for a
speech-only model.
"""

from __future__ import annotations

from typing import Any

from hf_ser.errors import UserError

SPEECH = "speech"
TEXT = "text"
SPEECH_TEXT = "speech+text"
MODALITIES = (SPEECH, TEXT, SPEECH_TEXT)


def model_modality(model_section: Any) -> str:
    """The modality of a recipe's ``model`` section (or anything with a ``text_encoder`` attribute):
    ``speech+text`` with a transcript encoder, else ``speech``."""
    return SPEECH_TEXT if getattr(model_section, "text_encoder", None) else SPEECH


# Where the transcript of one prediction came from: the caller (``text=...``, ``--transcripts``, ``?text=``), the
# ASR the model was loaded with (``asr=...``), or nowhere (speech alone).
TEXT_GIVEN = "given"
TEXT_ASR = "asr"
TEXT_NONE = "none"
TEXT_SOURCES = (TEXT_GIVEN, TEXT_ASR, TEXT_NONE)

ASR_AUTO = "auto"  # the ASR a saved model records (``recorded_asr``), if any
ASR_NONE = "none"  # no ASR: inputs without a transcript are predicted from speech alone
TRANSCRIPTS_CONFIG_KEY = "transcripts"  # config.json's ``{"asr": <name>}`` of a model trained on ASR transcripts


def recorded_asr(config: Any) -> str | None:
    """The recogniser that made a saved model's training transcripts (``data.transcripts.asr``; written into
    ``config.json`` by ``hf_ser.training.saving.record_transcripts``), or ``None``."""
    record = getattr(config, TRANSCRIPTS_CONFIG_KEY, None) or {}
    return str(record["asr"]) if isinstance(record, dict) and record.get("asr") else None


def choose_asr(requested: str | None, *, modality: str, recorded: str | None, flag: str = "asr") -> str | None:
    """The recogniser to run for inputs without a transcript, or ``None`` (speech alone): the one rule of
    ``hf_ser.load(asr=...)``, ``hf-ser predict / serve / evaluate --asr``.

    ``"auto"``: the model's ``recorded`` ASR (speech + text models; ``None`` otherwise); ``None`` / ``"none"``: no
    ASR; any other string names a recogniser (a Whisper Hub name / folder or ``shape:whisper-tiny``).

    Raises:
        UserError: a recogniser named for a speech-only model (``flag`` names the option in the message).
    """
    if requested is None or requested == ASR_NONE:
        return None
    if requested == ASR_AUTO:
        return recorded if modality == SPEECH_TEXT else None
    if modality != SPEECH_TEXT:
        raise UserError(f"{flag}={requested}: this model uses {modality} only and reads no transcript; drop {flag} (or give {ASR_NONE})")
    return requested
